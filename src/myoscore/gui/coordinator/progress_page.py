"""Study progress: every read with reader, subject code, exam, status and items done / total.

Counts only, never values (rating values are shown on the agreement and consensus
screens, where every reveal is audited). A submitted read can be reopened from here
(:meth:`~myoscore.app.CoordinatorSession.reopen`, audited with the reason given).
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from myoscore.app import CoordinatorSession, study
from myoscore.app.changes import StudyChanges
from myoscore.app.study import study_status
from myoscore.app.wording import plural
from myoscore.domain import MyoscoreError, Read, ReadStatus
from myoscore.gui.coordinator.widgets import MessageLabel, Page, cell, fill_row, hint, make_table, row_data

__all__ = ["COLUMNS", "ProgressPage"]

COLUMNS = ("Reader", "#", "Subject", "Exam", "Protocol", "Status", "Scored", "Read", "Seed", "Progress")
_STATUS = {
    ReadStatus.ASSIGNED: ("to do", None),
    ReadStatus.IN_PROGRESS: ("in progress", "#fff8e1"),
    ReadStatus.SUBMITTED: ("submitted", "#e8f5e9"),
}


class _BarDelegate(QStyledItemDelegate):
    """Draws a cell's fraction (its UserRole data, 0–1) as a bar: cheaper than a widget per row."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        super().paint(painter, option, index)
        fraction = index.data(Qt.ItemDataRole.UserRole)
        if not isinstance(fraction, float):
            return
        box = option.rect.adjusted(4, 7, -4, -7)
        painter.save()
        painter.fillRect(box, QColor("#eceff1"))
        done = QRect(box.left(), box.top(), round(box.width() * min(max(fraction, 0.0), 1.0)), box.height())
        painter.fillRect(done, QColor("#66bb6a" if fraction >= 1 else "#42a5f5"))
        painter.restore()


class ProgressPage(Page):
    """Every read of the study and its progress; reopen a submitted read."""

    shows = StudyChanges(reads=True, readers=True, exams=True)

    def __init__(self, coordinator: CoordinatorSession, parent: QWidget | None = None) -> None:
        super().__init__(coordinator, parent)
        self._reads: list[Read] = []
        layout = QVBoxLayout(self)
        self.summary = QLabel(self)
        self.summary.setStyleSheet("font-size: 15px; font-weight: bold;")
        self.by_reader = QLabel(self)
        self.by_reader.setWordWrap(True)
        layout.addWidget(self.summary)
        layout.addWidget(self.by_reader)
        layout.addWidget(hint("Progress only: rating values are shown in the agreement and consensus screens, "
                              "where every reveal is audited. Readers' progress arrives as they score; Refresh "
                              "(F5) reads it again.", self))
        self.table = make_table(COLUMNS, self, stretch=len(COLUMNS) - 1)
        self.table.setItemDelegateForColumn(len(COLUMNS) - 1, _BarDelegate(self.table))
        layout.addWidget(self.table, 1)
        bar = QHBoxLayout()
        self.refresh_button = QPushButton("Refresh", self)
        self.reason_edit = QLineEdit(self)
        self.reason_edit.setPlaceholderText("reason for reopening (kept in the audit trail)")
        self.reopen_button = QPushButton("Reopen selected read", self)
        bar.addWidget(self.refresh_button)
        bar.addStretch(1)
        bar.addWidget(self.reason_edit, 2)
        bar.addWidget(self.reopen_button)
        layout.addLayout(bar)
        self.message = MessageLabel(self)
        layout.addWidget(self.message)
        self.refresh_button.clicked.connect(self.refresh)
        self.reopen_button.clicked.connect(self.reopen)
        self.table.currentCellChanged.connect(lambda *_: self._on_selected())
        self.refresh()

    def refresh(self) -> None:
        status = study_status(self.coordinator)
        current = row_data(self.table)
        self._reads = self.coordinator.reads()
        submitted = sum(r.status is ReadStatus.SUBMITTED for r in self._reads)
        self.summary.setText(f"{plural(status['subjects'], 'subject')}, {plural(status['exams'], 'exam')}, "
                             f"{plural(len(self._reads), 'read')}, {submitted} submitted")
        parts = []
        for name, counts in status["progress"].items():
            done = counts.get(ReadStatus.SUBMITTED.value, 0)
            total = sum(counts.values())
            going = counts.get(ReadStatus.IN_PROGRESS.value, 0)
            parts.append(f"{name}: {done}/{total} submitted" + (f", {going} in progress" if going else ""))
        self.by_reader.setText(" · ".join(parts) or "No reads yet: assign exams under Readers & assignment.")
        table = self.table
        table.blockSignals(True)
        table.setRowCount(len(self._reads))
        for row, read in enumerate(self._reads):
            text, colour = _STATUS.get(read.status, (read.status.value, None))
            fill_row(table, row, (
                cell(read.reader_name, data=read.id), cell(read.position, right=True), cell(read.subject_code),
                cell(read.exam_label), cell(read.protocol_name), cell(text, background=colour),
                cell(f"{read.done} / {read.total}", right=True),
                cell("repeat" if read.repeat else "first",
                     tooltip="an intra-reader repeat read" if read.repeat else ""),
                cell(read.seed, right=True, tooltip="seed of the worklist shuffle that placed this read"),
                cell("", data=read.done / read.total if read.total else 0.0)))
        table.blockSignals(False)
        ids = [read.id for read in self._reads]
        if current in ids:
            table.selectRow(ids.index(current))
        self._on_selected()

    def current_read(self) -> Read | None:
        read_id = row_data(self.table)
        return next((r for r in self._reads if r.id == read_id), None)

    def _on_selected(self) -> None:
        read = self.current_read()
        self.reopen_button.setEnabled(read is not None and read.status is ReadStatus.SUBMITTED)

    def reopen(self) -> None:
        """Unlock the selected submitted read after asking (audited with the reason)."""
        read = self.current_read()
        if read is None or read.status is not ReadStatus.SUBMITTED:
            return
        if not self.ask("Reopen the read", f"Reopen {read.reader_name}'s read of {read.subject_code} · "
                        f"{read.exam_label}?\n\nThe reader can change values again; agreement and consensus "
                        "leave the exam out until it is submitted again."):
            return
        try:
            done = study.reopen(self.coordinator, read.id, self.reason_edit.text().strip())
        except MyoscoreError as exc:
            self.message.show_message(str(exc), "error")
            return
        self.reason_edit.clear()
        self.message.show_message(f"Reopened {read.reader_name}'s read of {read.subject_code} · {read.exam_label}.",
                                  "info")
        self.changed.emit(done.changes)
        self.refresh()
