"""The export dialog: formats, output folder, readers for the agreement sheet, clinical fields.

One call, :func:`myoscore.app.export.export_files`, the same as ``myoscore export``. It
runs on a worker thread with its own database connection (figures take a few seconds);
the dialog then lists every file written and says what was skipped and which exams the
figures left out, and why (a mid-study export writes whatever exists). "Open folder"
shows the files. The last folder and formats are remembered per study (per-user
settings, :class:`~myoscore.gui.settings.ViewSettings`). Everything written is
pseudonymous (subject codes and timepoint labels only; see docs/export.md).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from myoscore.app import CoordinatorSession
from myoscore.app.export import FORMATS, ExportResult, export_files, read_groups
from myoscore.domain import MyoscoreError
from myoscore.gui.coordinator.agreement_page import default_pair
from myoscore.gui.coordinator.jobs import JobRunner
from myoscore.gui.coordinator.widgets import NONE_CHOICE, MessageLabel, chosen, excluded_exams_check, set_choices
from myoscore.gui.settings import ViewSettings

__all__ = ["AUTOMATIC_SOURCE", "DEFAULT_FORMATS", "FORMAT_TITLES", "ExportDialog", "default_folder"]

#: Ticked the first time a study is exported (later: the formats used last time).
DEFAULT_FORMATS = ("csv", "wide", "xlsx", "figures")
#: The "figures from" choice that means consensus when any exam has it, else the first reader.
AUTOMATIC_SOURCE = "consensus (else the first reader)"

FORMAT_TITLES = {
    "csv": "Tidy CSV — one row per subject × exam × item × source",
    "wide": "Wide CSV — one row per exam, for SPSS, R or JASP",
    "redcap": "REDCap — import CSV and the matching data dictionary",
    "xlsx": "XLSX workbook — ratings, consensus, derived scores, agreement, dictionary",
    "figures": "Figures — heatmaps and summed-score bars (PNG, SVG, PDF)",
}


def default_folder(coordinator: CoordinatorSession) -> Path:
    """Beside an SQLite study file (``study-export``), else in the home folder."""
    location = coordinator.database.location
    if "://" in location or not location:
        return Path.home() / "myoscore-export"
    database = Path(location)
    return database.with_name(f"{database.stem}-export")


class ExportDialog(QDialog):
    """Choose what to export and where; run it; see the files written."""

    export_finished = Signal(object)  # list of Paths, or None after a failure

    def __init__(self, coordinator: CoordinatorSession, parent: QWidget | None = None,
                 settings: ViewSettings | None = None) -> None:
        super().__init__(parent)
        self.coordinator = coordinator
        self.settings = settings if settings is not None else ViewSettings()
        self.written: list[Path] = []
        self.export_result: ExportResult | None = None
        #: Asks for a folder or a file ("folder"/"groups"); tests replace it.
        self.choose_path: Callable[[str], str] = self._choose_path_dialog
        #: Opens a URL with the desktop's file manager (Qt's QDesktopServices); tests replace it.
        self.open_url: Callable[[QUrl], bool] = QDesktopServices.openUrl
        location = coordinator.database.location
        remembered_folder, remembered_formats = self.settings.export_choices(location)
        self.jobs = JobRunner(coordinator, self)
        self.jobs.finished.connect(self._on_finished)
        self.jobs.failed.connect(self._on_failed)
        self.setWindowTitle("myoscore — export")
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.protocol_combo = QComboBox(self)
        reads = coordinator.reads()
        set_choices(self.protocol_combo, list(dict.fromkeys(r.protocol_name for r in reads)))
        form.addRow("Protocol", self.protocol_combo)
        formats = QGroupBox("Formats", self)
        formats_layout = QVBoxLayout(formats)
        self.format_checks: dict[str, QCheckBox] = {}
        for name in FORMATS:
            check = QCheckBox(f"{name}: {FORMAT_TITLES.get(name, name)}", formats)
            check.setChecked(name in (remembered_formats if remembered_formats is not None else DEFAULT_FORMATS))
            formats_layout.addWidget(check)
            self.format_checks[name] = check
        form.addRow(formats)
        folder_row = QHBoxLayout()
        self.folder_edit = QLineEdit(remembered_folder or str(default_folder(coordinator)), self)
        self.folder_button = QPushButton("Browse…", self)
        folder_row.addWidget(self.folder_edit, 1)
        folder_row.addWidget(self.folder_button)
        form.addRow("Output folder", folder_row)
        readers_row = QHBoxLayout()
        self.first_combo = QComboBox(self)
        self.second_combo = QComboBox(self)
        readers_row.addWidget(self.first_combo)
        readers_row.addWidget(QLabel("and", self))
        readers_row.addWidget(self.second_combo)
        readers_row.addStretch(1)
        form.addRow("Agreement sheet", readers_row)
        self.source_combo = QComboBox(self)
        self.source_combo.setToolTip("The figures draw the exams this source has rated; the others are named "
                                     "in each figure's title and below after the export.")
        form.addRow("Figures from", self.source_combo)
        self.clinical_check = QCheckBox("Include clinical fields (months from onset, treated)", self)
        self.clinical_check.setChecked(True)
        form.addRow(self.clinical_check)
        self.excluded_check = excluded_exams_check(self)
        form.addRow(self.excluded_check)
        groups_row = QHBoxLayout()
        self.groups_edit = QLineEdit(self)
        self.groups_edit.setPlaceholderText("optional CSV of subject,group (for the bar chart by group)")
        self.groups_button = QPushButton("Browse…", self)
        groups_row.addWidget(self.groups_edit, 1)
        groups_row.addWidget(self.groups_button)
        form.addRow("Groups", groups_row)
        layout.addLayout(form)
        note = QLabel("Pseudonymous: subject codes and timepoint labels only. Several formats go to one "
                      "sub-folder each.", self)
        note.setStyleSheet("color: #546e7a;")
        note.setWordWrap(True)
        layout.addWidget(note)
        self.message = MessageLabel(self)
        layout.addWidget(self.message)
        self.files = QListWidget(self)
        self.files.setVisible(False)
        layout.addWidget(self.files, 1)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.export_button = QPushButton("Export", self)
        self.export_button.setDefault(True)
        self.open_button = QPushButton("Open folder", self)
        self.open_button.setToolTip("Show the exported files in the file manager")
        self.open_button.setEnabled(False)
        self.close_button = QPushButton("Close", self)
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.close_button)
        layout.addLayout(buttons)

        self.protocol_combo.currentIndexChanged.connect(lambda _i: self._fill_readers())
        self.folder_button.clicked.connect(self._browse_folder)
        self.groups_button.clicked.connect(self._browse_groups)
        self.export_button.clicked.connect(self.run_export)
        self.open_button.clicked.connect(self.open_folder)
        self.close_button.clicked.connect(self.reject)
        self._fill_readers()
        if not self.protocol_combo.count():
            self.message.show_message("Nothing to export yet: no read has been assigned.", "note")
            self.export_button.setEnabled(False)
        self.resize(720, 560)

    def _fill_readers(self) -> None:
        reads = self.coordinator.reads()
        protocol = self.protocol_combo.currentText()
        names = sorted({r.reader_name for r in reads if r.protocol_name == protocol})
        pair = default_pair(reads, protocol)
        set_choices(self.first_combo, names, none=True, keep=False, default=pair[0] if pair else None)
        set_choices(self.second_combo, names, none=True, keep=False, default=pair[1] if pair else None)
        set_choices(self.source_combo, [AUTOMATIC_SOURCE, "consensus", *names], default=AUTOMATIC_SOURCE)

    def _choose_path_dialog(self, what: str) -> str:
        if what == "folder":
            return QFileDialog.getExistingDirectory(self, "Export into this folder", self.folder_edit.text())
        path, _ = QFileDialog.getOpenFileName(self, "Groups: a CSV of subject,group", "", "CSV (*.csv);;All (*)")
        return path

    def _browse_folder(self) -> None:
        folder = self.choose_path("folder")
        if folder:
            self.folder_edit.setText(folder)

    def _browse_groups(self) -> None:
        path = self.choose_path("groups")
        if path:
            self.groups_edit.setText(path)

    def formats(self) -> list[str]:
        return [name for name, check in self.format_checks.items() if check.isChecked()]

    def run_export(self) -> None:
        """Export in the chosen formats on a worker thread; list the files when done."""
        protocol = self.protocol_combo.currentText()
        formats = self.formats()
        folder = self.folder_edit.text().strip()
        first, second = chosen(self.first_combo), chosen(self.second_combo)
        if not formats:
            self.message.show_message("Tick at least one format.", "error")
            return
        if not folder:
            self.message.show_message("Choose the output folder.", "error")
            return
        if (first is None) != (second is None) or (first is not None and first == second):
            self.message.show_message("The agreement sheet needs two different readers (or none).", "error")
            return
        try:
            groups = read_groups(Path(self.groups_edit.text().strip())) if self.groups_edit.text().strip() else None
        except (MyoscoreError, OSError) as exc:
            self.message.show_message(f"Groups file: {exc}", "error")
            return
        readers = [first, second] if first and second else None
        clinical = self.clinical_check.isChecked()
        excluded = self.excluded_check.isChecked()
        out = Path(folder)
        source = self.figure_source()

        def work(coordinator: CoordinatorSession, _progress: Callable[[int, int], None]) -> ExportResult:
            return export_files(coordinator, protocol, formats, out, readers=readers, clinical=clinical,
                                groups=groups, source=source, include_excluded=excluded)

        self.settings.set_export_choices(self.coordinator.database.location, folder, formats)
        self.export_button.setEnabled(False)
        self.open_button.setEnabled(False)
        self.files.clear()
        self.files.setVisible(False)
        self.message.show_message(f"Exporting {', '.join(formats)} of {protocol} …", "note")
        self.setCursor(Qt.CursorShape.BusyCursor)
        try:
            self.jobs.start(work)
        except MyoscoreError as exc:
            self._on_failed(str(exc))

    def figure_source(self) -> str | None:
        """``None`` (automatic), ``"consensus"`` or a reader's name."""
        text = self.source_combo.currentText()
        return None if text in (AUTOMATIC_SOURCE, NONE_CHOICE, "") else text

    def output_url(self) -> QUrl:
        """The folder "Open folder" shows: where the last export wrote (else the chosen folder)."""
        folder = self.export_result.out if self.export_result is not None else Path(self.folder_edit.text().strip())
        return QUrl.fromLocalFile(str(folder.resolve()))

    def open_folder(self) -> None:
        """Show the export's folder in the desktop's file manager."""
        if not self.open_url(self.output_url()):
            self.message.show_message(f"Could not open {self.output_url().toLocalFile()}: no file manager "
                                      "answered. The files are there.", "note")

    def _on_finished(self, result: ExportResult) -> None:
        self.unsetCursor()
        self.export_button.setEnabled(True)
        self.export_result = result
        written = list(result.written)
        self.written = written
        out = result.out
        lines = result.summary()
        text = f"{lines[0][0].upper()}{lines[0][1:]}."
        notes = lines[1 + len(result.by_format):]
        if notes:
            text += "\n" + "\n".join(notes)
        self.message.show_message(text, "note" if result.skipped or result.left_out else "info")
        self.open_button.setEnabled(True)
        self.files.clear()
        for path in written:
            try:
                shown = str(Path(path).relative_to(out))
            except ValueError:
                shown = str(path)
            self.files.addItem(shown)
        self.files.setVisible(True)
        self.export_finished.emit(self.written)

    def _on_failed(self, text: str) -> None:
        self.unsetCursor()
        self.export_button.setEnabled(True)
        self.message.show_message(f"Export failed: {text}", "error")
        self.export_finished.emit(None)

    def reject(self) -> None:
        if self.jobs.running:
            self.message.show_message("The export is still running; close the dialog when it is done.", "note")
            return
        super().reject()
