"""The reader's worklist: their own reads, in their randomised order, nothing identifying.

Columns are the pseudonymous subject code, the exam label, the protocol, the status
and items done / total — the fields of a blinded :class:`~myoscore.domain.Read`; under
timepoint blinding (the study's setting) the read's opaque code takes the place of
subject and exam. There is no exam date, no patient name or ID and no clinical field to
show: the reader's session cannot return them.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from myoscore.app.wording import plural
from myoscore.domain import Read, ReadStatus

__all__ = ["WorklistView"]

_STATUS = {
    ReadStatus.ASSIGNED: "to do",
    ReadStatus.IN_PROGRESS: "in progress",
    ReadStatus.SUBMITTED: "submitted (locked)",
}
COLUMNS = ("#", "Subject", "Exam", "Protocol", "Status", "Scored")
#: Under timepoint blinding: the read's code instead of subject and exam.
BLINDED_COLUMNS = ("#", "Read", "Protocol", "Status", "Scored")


class _Table(QTableWidget):
    activated_row = Signal(int)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentRow() >= 0:
            self.activated_row.emit(self.currentRow())
            event.accept()
            return
        super().keyPressEvent(event)


class WorklistView(QWidget):
    """A table of the reader's reads; Enter or double-click opens one."""

    read_chosen = Signal(int)  # read id

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        outer = QHBoxLayout(self)
        column = QWidget(self)
        column.setMaximumWidth(980)  # a list of a few columns reads better than a stretched one
        outer.addWidget(column, 1)
        outer.addStretch(0)
        layout = QVBoxLayout(column)
        self.heading = QLabel(self)
        self.heading.setStyleSheet("font-size: 16px; font-weight: bold;")
        self.hint = QLabel("Enter or double-click opens a read. Every value is stored the moment it is "
                           "given; there is nothing to save.", self)
        self.hint.setStyleSheet("color: #546e7a;")
        self.table = _Table(0, len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setMinimumSectionSize(70)
        header.setStretchLastSection(False)
        self.table.cellDoubleClicked.connect(lambda row, _col: self._choose(row))
        self.table.activated_row.connect(self._choose)
        self.open_button = QPushButton("Open read", self)
        self.open_button.clicked.connect(lambda: self._choose(self.table.currentRow()))
        self.table.verticalHeader().setDefaultSectionSize(30)
        self.table.setStyleSheet("QTableWidget::item { padding: 0px 10px; }")
        layout.addWidget(self.heading)
        layout.addWidget(self.hint)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.open_button, 0, Qt.AlignmentFlag.AlignRight)
        self._read_ids: list[int] = []

    def set_reads(self, reader_name: str, reads: list[Read], *, blinded: bool = False) -> None:
        """Show ``reads``; ``blinded`` (timepoint blinding): by read code, no subject or exam column."""
        current = self.current_read_id()
        done = sum(r.status is ReadStatus.SUBMITTED for r in reads)
        self.heading.setText(f"Worklist of {reader_name}: {plural(len(reads), 'read')}, {done} submitted")
        columns = BLINDED_COLUMNS if blinded else COLUMNS
        self.table.setColumnCount(len(columns))
        self.table.setHorizontalHeaderLabels(columns)
        self.table.setRowCount(len(reads))
        self._read_ids = [r.id for r in reads]
        for row, read in enumerate(reads):
            named = (read.code or read.subject_code,) if blinded else (read.subject_code, read.exam_label)
            cells = (str(read.position), *named, read.protocol_name,
                     _STATUS.get(read.status, read.status.value), f"{read.done} / {read.total}")
            for column, text in enumerate(cells):
                cell = QTableWidgetItem(text)
                if column in (0, len(columns) - 1):
                    cell.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, column, cell)
        if reads:
            target = self._read_ids.index(current) if current in self._read_ids else next(
                (i for i, r in enumerate(reads) if r.status is not ReadStatus.SUBMITTED), 0)
            self.table.selectRow(target)
            self.table.setCurrentCell(target, 0)
        self.open_button.setEnabled(bool(reads))

    def column(self, title: str) -> int:
        """The index of the column headed ``title`` ("Status", "Scored"); the columns differ
        with and without timepoint blinding."""
        headers = (self.table.horizontalHeaderItem(c) for c in range(self.table.columnCount()))
        titles = [h.text() if h is not None else "" for h in headers]
        return titles.index(title)

    def current_read_id(self) -> int | None:
        row = self.table.currentRow()
        return self._read_ids[row] if 0 <= row < len(self._read_ids) else None

    def _choose(self, row: int) -> None:
        if 0 <= row < len(self._read_ids):
            self.read_chosen.emit(self._read_ids[row])
