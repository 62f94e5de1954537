"""The import's two dialogs: the preview of what an import will do (Import / Cancel), and
the summary of what it did. Both list every series found, one row per DICOM folder or
NIfTI file (a label map once per exam it goes to), with what becomes of it: a new exam,
added to exam N, a duplicate of series M, a label map attached to exam N, or skipped and why.

The coordinator sees folder and file names here (full access); readers never do.
"""

from __future__ import annotations

from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPushButton, QTableWidget, QVBoxLayout, QWidget

from myoscore.app.imports import ImportSummary
from myoscore.gui.coordinator.widgets import cell, fill_row, make_table

__all__ = ["ImportPreviewDialog", "ImportSummaryDialog"]

_ACTION_COLOUR = {"duplicate": "#e65100", "skipped": "#b71c1c"}


def _series_table(summary: ImportSummary, parent: QWidget) -> QTableWidget:
    entries = sorted(summary.entries, key=lambda e: e.source)
    table = make_table(("Folder or file", "Holds", "Becomes"), parent, stretch=2)
    table.setRowCount(len(entries))
    for row, entry in enumerate(entries):
        becomes = cell(entry.outcome(), tooltip=entry.outcome())
        colour = _ACTION_COLOUR.get(entry.action)
        if colour:
            becomes.setForeground(QBrush(QColor(colour)))
        fill_row(table, row, (cell(entry.name, tooltip=entry.source), cell(entry.what), becomes))
    return table


def _headline(text: str, parent: QWidget) -> QLabel:
    label = QLabel(text, parent)
    label.setStyleSheet("font-weight: bold;")
    label.setWordWrap(True)
    return label


class ImportPreviewDialog(QDialog):
    """What an import will do, before anything is written: **Import** writes it, **Cancel**
    leaves the study as it was."""

    def __init__(self, summary: ImportSummary, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.summary = summary
        self.setWindowTitle("myoscore — import preview")
        layout = QVBoxLayout(self)
        self.headline = _headline(summary.headline(), self)
        layout.addWidget(self.headline)
        self.series = _series_table(summary, self)
        layout.addWidget(self.series, 1)
        if summary.skipped:
            layout.addWidget(QLabel(f"{len(summary.skipped)} files are not images and will be skipped "
                                    "(the summary lists them with why).", self))
        buttons = QDialogButtonBox(self)
        self.import_button: QPushButton = buttons.addButton("Import", QDialogButtonBox.ButtonRole.AcceptRole)
        self.cancel_button: QPushButton = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        if summary.series_added == 0:
            self.import_button.setEnabled(False)
            self.import_button.setToolTip("Nothing new to import.")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(980, 480)


class ImportSummaryDialog(QDialog):
    """What an import did: counts, subjects, every series and what became of it, problems,
    and every skipped file with why."""

    def __init__(self, summary: ImportSummary, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.summary = summary
        self.setWindowTitle("myoscore — import summary")
        layout = QVBoxLayout(self)
        self.headline = _headline(summary.lines()[0], self)
        layout.addWidget(self.headline)
        subjects = ", ".join(sorted(summary.subjects)) or "none new"
        self.subjects = QLabel(f"Subjects of the new exams: {subjects}", self)
        layout.addWidget(self.subjects)
        self.series = _series_table(summary, self)
        self.series.setVisible(bool(summary.entries))
        layout.addWidget(self.series, 2)
        if summary.issues:
            issues = QLabel("Problems found in series (they were still added):\n• " + "\n• ".join(summary.issues),
                            self)
            issues.setStyleSheet("color: #e65100;")
            issues.setWordWrap(True)
            layout.addWidget(issues)
        layout.addWidget(QLabel(f"Skipped files ({len(summary.skipped)}):" if summary.skipped
                                else "No file was skipped.", self))
        self.skipped = make_table(("File", "Why it was skipped"), self, stretch=1)
        self.skipped.setRowCount(len(summary.skipped))
        for row, (path, reason) in enumerate(summary.skipped):
            fill_row(self.skipped, row, (cell(path, tooltip=path), cell(reason)))
        self.skipped.setVisible(bool(summary.skipped))
        layout.addWidget(self.skipped, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(980, 520 if summary.skipped or summary.entries else 180)
