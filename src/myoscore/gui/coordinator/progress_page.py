"""Study progress: every read with reader, subject code, exam, status and items done / total,
filtered by reader and status; consensus values to decide again; excluded exams.

Counts only, never rating values (those are shown on the agreement and consensus
screens, where every reveal is audited). Which consensus values are stale is checked
against the readers' ratings, an audited reveal, so it is checked only while the page is
on screen (:mod:`myoscore.app.progress_view`). A submitted read can be reopened from here
(:meth:`~myoscore.app.CoordinatorSession.reopen`, audited with the reason given).
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, Qt
from PySide6.QtGui import QColor, QPainter, QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
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
from myoscore.app.progress_view import StaleRow, excluded_exams, filter_reads, stale_rows
from myoscore.app.study import study_status
from myoscore.app.wording import plural
from myoscore.domain import Exam, MyoscoreError, Read, ReadStatus
from myoscore.gui.coordinator.widgets import (
    MessageLabel,
    Page,
    cell,
    chosen,
    fill_row,
    hint,
    make_table,
    row_data,
    set_choices,
)

__all__ = ["ALL_READERS", "COLUMNS", "EXCLUDED_COLUMNS", "STALE_COLUMNS", "STATUS_CHOICES", "ProgressPage"]

COLUMNS = ("Reader", "#", "Subject", "Exam", "Protocol", "Status", "Scored", "Read", "Seed", "Progress")
STALE_COLUMNS = ("Protocol", "Subject", "Exam", "Item", "Why it is to be decided again")
EXCLUDED_COLUMNS = ("Subject", "Exam", "Excluded", "Reason")
ALL_READERS = "all readers"
#: The status filter's choices → :data:`myoscore.app.progress_view.STATUS_FILTERS` (None: any).
STATUS_CHOICES = {"any status": None, "to do": "assigned", "in progress": "in_progress",
                  "not submitted": "open", "submitted": "submitted"}
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

    shows = StudyChanges(reads=True, readers=True, exams=True, consensus=True)

    def __init__(self, coordinator: CoordinatorSession, parent: QWidget | None = None) -> None:
        super().__init__(coordinator, parent)
        self._reads: list[Read] = []
        self._all_reads: list[Read] = []
        self.stale: list[StaleRow] = []
        self.excluded: list[Exam] = []
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
        filters = QHBoxLayout()
        self.reader_combo = QComboBox(self)
        self.status_combo = QComboBox(self)
        self.status_combo.addItems(list(STATUS_CHOICES))
        self.shown_label = QLabel(self)
        filters.addWidget(QLabel("Show", self))
        filters.addWidget(self.reader_combo)
        filters.addWidget(self.status_combo)
        filters.addWidget(self.shown_label)
        filters.addStretch(1)
        layout.addLayout(filters)
        self.table = make_table(COLUMNS, self, stretch=len(COLUMNS) - 1)
        self.table.setItemDelegateForColumn(len(COLUMNS) - 1, _BarDelegate(self.table))
        layout.addWidget(self.table, 1)
        self.stale_label = QLabel(self)
        self.stale_label.setWordWrap(True)
        layout.addWidget(self.stale_label)
        self.stale_table = make_table(STALE_COLUMNS, self, stretch=len(STALE_COLUMNS) - 1)
        self.stale_table.setMaximumHeight(170)
        layout.addWidget(self.stale_table)
        self.excluded_label = QLabel(self)
        layout.addWidget(self.excluded_label)
        self.excluded_table = make_table(EXCLUDED_COLUMNS, self, stretch=len(EXCLUDED_COLUMNS) - 1)
        self.excluded_table.setMaximumHeight(140)
        layout.addWidget(self.excluded_table)
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
        self.reader_combo.currentIndexChanged.connect(lambda _i: self._fill_reads())
        self.status_combo.currentIndexChanged.connect(lambda _i: self._fill_reads())
        self.table.currentCellChanged.connect(lambda *_: self._on_selected())
        self.refresh()

    def refresh(self) -> None:
        status = study_status(self.coordinator)
        self._all_reads = self.coordinator.reads()
        submitted = sum(r.status is ReadStatus.SUBMITTED for r in self._all_reads)
        self.summary.setText(f"{plural(status['subjects'], 'subject')}, {plural(status['exams'], 'exam')}, "
                             f"{plural(len(self._all_reads), 'read')}, {submitted} submitted")
        parts = []
        for name, counts in status["progress"].items():
            done = counts.get(ReadStatus.SUBMITTED.value, 0)
            total = sum(counts.values())
            going = counts.get(ReadStatus.IN_PROGRESS.value, 0)
            parts.append(f"{name}: {done}/{total} submitted" + (f", {going} in progress" if going else ""))
        self.by_reader.setText(" · ".join(parts) or "No reads yet: assign exams under Readers & assignment.")
        set_choices(self.reader_combo, [ALL_READERS, *sorted(status["progress"])], default=ALL_READERS)
        self._fill_reads()
        self._fill_excluded()
        if self.isVisible():
            self._fill_stale()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._fill_stale()

    def reader_filter(self) -> str | None:
        name = chosen(self.reader_combo)
        return None if name in (None, ALL_READERS) else name

    def status_filter(self) -> str | None:
        return STATUS_CHOICES.get(self.status_combo.currentText())

    def _fill_reads(self) -> None:
        current = row_data(self.table)
        self._reads = filter_reads(self._all_reads, reader=self.reader_filter(), status=self.status_filter())
        filtered = self.reader_filter() is not None or self.status_filter() is not None
        self.shown_label.setText(f"{len(self._reads)} of {plural(len(self._all_reads), 'read')} shown"
                                 if filtered else "")
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

    def _fill_stale(self) -> None:
        """Consensus values to decide again (an audited check of the readers' ratings)."""
        try:
            self.stale = stale_rows(self.coordinator)
        except MyoscoreError as exc:
            self.stale = []
            self.stale_label.setText(f"Consensus could not be checked: {exc}")
            return
        exams = len({(row.protocol, row.exam_id) for row in self.stale})
        self.stale_label.setText(
            f"<b>Consensus to decide again</b>: {plural(len(self.stale), 'value')} of {plural(exams, 'exam')} "
            "(a reader's rating changed since it was decided; Consensus review decides them again; exports "
            "leave them out)" if self.stale else "No consensus value is stale.")
        self.stale_table.setVisible(bool(self.stale))
        self.stale_table.setRowCount(len(self.stale))
        for row, value in enumerate(self.stale):
            fill_row(self.stale_table, row, (
                cell(value.protocol, data=value.exam_id), cell(value.subject), cell(value.label),
                cell(value.item_key), cell(value.reason, tooltip=value.reason)))

    def _fill_excluded(self) -> None:
        self.excluded = excluded_exams(self.coordinator)
        self.excluded_label.setText(
            f"<b>Excluded</b>: {plural(len(self.excluded), 'exam')} (reads and ratings kept; left out of "
            "worklists, agreement, scores and exports)" if self.excluded else "No exam is excluded.")
        self.excluded_table.setVisible(bool(self.excluded))
        self.excluded_table.setRowCount(len(self.excluded))
        for row, exam in enumerate(self.excluded):
            when = f"{exam.excluded_at:%Y-%m-%d %H:%M}" if exam.excluded_at else ""
            fill_row(self.excluded_table, row, (
                cell(exam.subject_code, data=exam.id), cell(exam.label), cell(when), cell(exam.excluded_reason or "")))

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
