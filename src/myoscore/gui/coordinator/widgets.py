"""Small pieces every coordinator page uses: the page base class, tables, messages, choices.

A page receives the coordinator's session in ``__init__``, runs one ``app`` call per user
action, and says what it changed with :attr:`Page.changed` (the
:class:`~myoscore.app.changes.StudyChanges` the call returned); the window passes that on to
every page, and each page redraws only if it meets what the page shows (the Anki pattern
of operations that return what changed).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHeaderView,
    QLabel,
    QMessageBox,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from myoscore.app import CoordinatorSession
from myoscore.app.changes import NO_CHANGE, StudyChanges

NONE_CHOICE = "— none —"

HEADING_STYLE = "font-size: 16px; font-weight: bold;"
HINT_STYLE = "color: #546e7a;"
_MESSAGE_STYLE = {
    "info": "color: #1b5e20; background: #e8f5e9; border: 1px solid #a5d6a7; padding: 6px; border-radius: 3px;",
    "error": "color: #b71c1c; background: #ffebee; border: 1px solid #ef9a9a; padding: 6px; border-radius: 3px;",
    "note": "color: #37474f; background: #eceff1; border: 1px solid #cfd8dc; padding: 6px; border-radius: 3px;",
}


class Page(QWidget):
    """A coordinator screen: it reports what it changed and shows status messages."""

    changed = Signal(object)  # StudyChanges
    status = Signal(str)

    #: What this page shows; it refreshes when an operation elsewhere changed some of it.
    shows: StudyChanges = NO_CHANGE

    def __init__(self, coordinator: CoordinatorSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.coordinator = coordinator
        #: Asks a yes/no question; tests replace it. Returns True for yes.
        self.ask: Callable[[str, str], bool] = self._ask_dialog

    def refresh(self) -> None:
        """Redraw from the store."""

    def on_study_changed(self, changes: StudyChanges) -> None:
        if changes.meets(self.shows):
            self.refresh()

    def _ask_dialog(self, title: str, text: str) -> bool:
        return ask_yes_no(self, title, text)


def ask_yes_no(parent: QWidget, title: str, text: str) -> bool:
    """A yes/no question; No is the default button (Enter does not confirm by accident)."""
    answer = QMessageBox.question(parent, title, text, QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                  QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes


class MessageLabel(QLabel):
    """A word-wrapped message box on a page: info (green), error (red) or note (grey)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.kind = ""
        self.setVisible(False)

    def show_message(self, text: str, kind: str = "info") -> None:
        self.kind = kind
        self.setStyleSheet(_MESSAGE_STYLE[kind])
        self.setText(text)
        self.setVisible(bool(text))

    def clear_message(self) -> None:
        self.kind = ""
        self.setText("")
        self.setVisible(False)


def heading(text: str, parent: QWidget | None = None) -> QLabel:
    label = QLabel(text, parent)
    label.setStyleSheet(HEADING_STYLE)
    return label


def hint(text: str, parent: QWidget | None = None) -> QLabel:
    label = QLabel(text, parent)
    label.setStyleSheet(HINT_STYLE)
    label.setWordWrap(True)
    return label


def make_table(columns: Sequence[str], parent: QWidget | None = None, *, stretch: int | None = None) -> QTableWidget:
    """A read-only, row-selecting table with the given column titles; column ``stretch``
    (if any) takes the room left, the others fit their content."""
    table = QTableWidget(0, len(columns), parent)
    table.setHorizontalHeaderLabels(list(columns))
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().setVisible(False)
    table.verticalHeader().setDefaultSectionSize(26)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(False)
    if stretch is not None:
        header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    table.setAlternatingRowColors(True)
    return table


def cell(text: object, *, right: bool = False, data: object = None, tooltip: str = "",
         background: str | None = None, bold: bool = False) -> QTableWidgetItem:
    item = QTableWidgetItem("" if text is None else str(text))
    if right:
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    if data is not None:
        item.setData(Qt.ItemDataRole.UserRole, data)
    if tooltip:
        item.setToolTip(tooltip)
    if background:
        item.setBackground(QBrush(QColor(background)))
    if bold:
        font = item.font()
        font.setBold(True)
        item.setFont(font)
    return item


def fill_row(table: QTableWidget, row: int, cells: Iterable[QTableWidgetItem]) -> None:
    for column, item in enumerate(cells):
        table.setItem(row, column, item)


def row_data(table: QTableWidget, row: int | None = None) -> object:
    """The data stored in column 0 of a row (the current row by default)."""
    row = table.currentRow() if row is None else row
    item = table.item(row, 0) if row >= 0 else None
    return None if item is None else item.data(Qt.ItemDataRole.UserRole)


def set_choices(combo: QComboBox, choices: Sequence[str], *, keep: bool = True, none: bool = False,
                default: str | None = None) -> None:
    """Replace a combo box's items, keeping the current choice when it is still offered."""
    current = combo.currentText() if keep else ""
    combo.blockSignals(True)
    combo.clear()
    if none:
        combo.addItem(NONE_CHOICE)
    combo.addItems(list(choices))
    wanted = current if current and combo.findText(current) >= 0 else default
    if wanted and combo.findText(wanted) >= 0:
        combo.setCurrentIndex(combo.findText(wanted))
    combo.blockSignals(False)


def chosen(combo: QComboBox) -> str | None:
    """The combo's text, or None for the "none" choice or an empty combo."""
    text = combo.currentText()
    return None if not text or text == NONE_CHOICE else text


def number(value: float | None, digits: int = 3) -> str:
    """A statistic as shown: fixed decimals; ``—`` when undefined (None or NaN)."""
    if value is None or value != value:  # NaN
        return "—"
    return f"{value:.{digits}f}"


def interval(low: float | None, high: float | None, digits: int = 3) -> str:
    if low is None or high is None or low != low or high != high:
        return "—"
    return f"{low:.{digits}f} – {high:.{digits}f}"


def excluded_exams_check(parent: QWidget | None = None) -> QCheckBox:
    """"Include excluded exams" (off): the same switch as ``--include-excluded`` of the CLI's
    analysis and export commands."""
    check = QCheckBox("Include excluded exams", parent)
    check.setToolTip("Excluded exams (Exams tab) are left out of agreement, scores and exports; tick to count "
                     "them in this time, as `--include-excluded` does on the command line.")
    return check
