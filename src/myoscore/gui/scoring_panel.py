"""The scoring panel: the read's items, the current item's scale in full, progress.

Built from the read's protocol. Items are grouped as the protocol lists them — by
measure (muscle edema, fatty infiltration …), then region — each row one atlas unit
and side with its stored value. Below, the current item's scale: every level with its
key, code, label and the full definition from the paper, in view (not in tooltips).
The panel never writes anything itself: clicks are signals the main window turns into
reading-session actions, and it redraws only what a :class:`Changes` names.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from html import escape
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QMouseEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from myoscore.app.changes import Changes
from myoscore.app.coverage import NOT_IMAGED
from myoscore.app.level_keys import level_keys
from myoscore.app.reading_session import ReadingSession
from myoscore.app.schemes import Item, Scale, reference_image
from myoscore.app.wording import plural
from myoscore.domain import NOT_EVALUABLE, NotFound

__all__ = ["REFUSAL_MS", "LevelRow", "RefusalLabel", "ScoringPanel", "value_text"]

#: How long a refused key's message stays highlighted in the panel.
REFUSAL_MS = 4000

_SIDE = {"R": "right", "L": "left"}
_ROLE_KEY = Qt.ItemDataRole.UserRole


def _unit_text(item: Item) -> str:
    """The unit's name without its region ("anterior compartment"), or the region."""
    name = item.unit.name
    _head, sep, rest = name.partition(", ")
    if sep and item.unit.level.value != "region":
        return rest[:1].upper() + rest[1:]
    return name if item.unit.level.value != "region" else f"{name} (whole region)"


def value_text(scale: Scale, code: str | None) -> str:
    """How a stored code is shown: ``"3 · Mild, intrafascicular, global"``."""
    if code is None:
        return "—"
    if code == NOT_EVALUABLE:
        return "NE · not evaluable"
    try:
        return f"{code} · {scale.level(code).label}"
    except NotFound:  # a code the scale no longer has (shown as stored)
        return code


def _plain(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def repeats_label(definition: str, label: str, code: str) -> bool:
    """True when a definition says no more than the label ("Mild, intrafascicular,
    segmented (score 2)." for "Mild, intrafascicular, segmented"): shown once, not twice."""
    plain = _plain(re.sub(r"\((score|grade)\s*[^)]*\)", " ", definition, flags=re.IGNORECASE))
    return plain in ("", _plain(label), _plain(f"{code} {label}"))


class LevelRow(QFrame):
    """One level of the current scale, clickable: key, code, label and definition."""

    clicked = Signal(str)

    def __init__(self, key: str, code: str, label: str, definition: str, parent: QWidget | None = None,
                 description: str = "", images: tuple[str, ...] = ()) -> None:
        super().__init__(parent)
        self.code = code
        self.setObjectName("LevelRow")
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 3, 6, 3)
        self.key_label = QLabel(key, self)
        self.key_label.setObjectName("LevelKey")
        self.key_label.setFixedWidth(26)
        self.key_label.setAlignment(Qt.AlignmentFlag.AlignCenter | Qt.AlignmentFlag.AlignTop)
        self.text_label = QLabel(self)
        self.text_label.setWordWrap(True)
        self.text_label.setTextFormat(Qt.TextFormat.RichText)
        shown_definition = "" if repeats_label(definition, label, code) else definition
        # Labels such as "Moth-eaten < 30%" are text, not markup.
        self.text_label.setText(
            f"<b>{escape(code)}</b> — <b>{escape(label)}</b>"
            + (f"<br><span style='color:#444'>{escape(shown_definition)}</span>" if shown_definition else ""))
        # The scale card: the level's longer description and reference images (C toggles).
        self.card_label = QLabel(self)
        self.card_label.setWordWrap(True)
        self.card_label.setTextFormat(Qt.TextFormat.RichText)
        self.card_label.setObjectName("LevelCard")
        pictures = "".join(f"<img src='{escape(path)}' width='160'> " for path in images)
        self.card_label.setText((f"<span style='color:#37474f'>{escape(description)}</span>" if description else "")
                                + (f"<br>{pictures}" if pictures else ""))
        self.has_card = bool(description or images)
        self.card_label.setVisible(self.has_card)
        text_column = QVBoxLayout()
        text_column.setContentsMargins(0, 0, 0, 0)
        text_column.setSpacing(2)
        text_column.addWidget(self.text_label)
        text_column.addWidget(self.card_label)
        layout.addWidget(self.key_label)
        layout.addLayout(text_column, 1)
        self.set_selected(False)

    def show_card(self, on: bool) -> None:
        self.card_label.setVisible(on and self.has_card)

    def set_selected(self, selected: bool) -> None:
        self.setProperty("selected", selected)
        self.setStyleSheet(
            "#LevelRow { background: %s; border: 1px solid %s; border-radius: 3px; }"
            "#LevelKey { background: #37474f; color: white; border-radius: 3px; font-weight: bold; }"
            % (("#ffe082", "#ff8f00") if selected else ("#fafafa", "#cfd8dc"))
        )

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.isEnabled():
            self.clicked.emit(self.code)
            event.accept()
            return
        super().mousePressEvent(event)


class RefusalLabel(QLabel):
    """A key that did nothing, said where the reader looks: a highlighted sentence that
    fades after :data:`REFUSAL_MS` (the status bar is too far from the eyes)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("RefusalLabel")
        self.setWordWrap(True)
        self.setStyleSheet("#RefusalLabel { background: #ffcdd2; color: #b71c1c; border: 2px solid #e53935;"
                           " border-radius: 4px; padding: 5px; font-weight: bold; }")
        self.setVisible(False)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.clear_refusal)
        #: How many refusals were shown (tests count them).
        self.count = 0

    def show_refusal(self, text: str) -> None:
        self.count += 1
        self.setText(f"⚠ {text}")
        self.setVisible(True)
        self._timer.start(REFUSAL_MS)

    def clear_refusal(self) -> None:
        self._timer.stop()
        self.setVisible(False)


class _ScaleCard(QWidget):
    """Every level of one scale, plus not evaluable, each with its key."""

    def __init__(self, scale: Scale, on_click: Callable[[str], object], parent: QWidget | None = None,
                 images_dir: Callable[[Scale, str], Path | None] | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        self.rows: dict[str, LevelRow] = {}
        by_code = {level.code: level for level in scale.levels}
        for entry in level_keys(scale):  # the keys: digits by position, then N (app.level_keys)
            level = by_code.get(entry.code)
            found = [images_dir(scale, name) for name in level.images] if images_dir and level else []
            row = LevelRow(entry.key, entry.code, entry.label, entry.definition, self,
                           level.description if level else "", tuple(str(path) for path in found if path is not None))
            row.clicked.connect(on_click)
            layout.addWidget(row)
            self.rows[entry.code] = row
        self.source_label = QLabel(self)
        self.source_label.setWordWrap(True)
        self.source_label.setStyleSheet("color: #607d8b; font-size: 10px;")
        self.source_label.setText(f"Descriptions: {scale.description_source}" if scale.description_source else "")
        self.source_label.setVisible(bool(scale.description_source))
        layout.addWidget(self.source_label)
        layout.addStretch(1)

    def show_card(self, on: bool) -> None:
        for row in self.rows.values():
            row.show_card(on)
        self.source_label.setVisible(on and bool(self.source_label.text()))

    def select(self, code: str | None) -> None:
        for row_code, row in self.rows.items():
            row.set_selected(row_code == code)


class ScoringPanel(QWidget):
    """Items, scale and progress of one read (see the module docstring)."""

    item_clicked = Signal(str)  # item key
    level_clicked = Signal(str)  # level code or "NE"
    clear_clicked = Signal()
    undo_clicked = Signal()
    submit_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session: ReadingSession | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)

        self.locked_banner = QLabel(self)
        self.locked_banner.setWordWrap(True)
        self.locked_banner.setStyleSheet("background: #c62828; color: white; font-weight: bold; padding: 6px;")
        self.locked_banner.setVisible(False)
        layout.addWidget(self.locked_banner)

        self.progress_label = QLabel(self)
        self.progress_label.setStyleSheet("font-weight: bold;")
        self.progress_bar = QProgressBar(self)
        self.progress_bar.setTextVisible(False)
        self.progress_bar.setMaximumHeight(8)
        self.region_label = QLabel(self)
        self.region_label.setWordWrap(True)
        layout.addWidget(self.progress_label)
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.region_label)

        self.tree = QTreeWidget(self)
        self.tree.setColumnCount(3)
        self.tree.setHeaderLabels(["Item", "Side", "Value"])
        self.tree.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setUniformRowHeights(True)
        self.tree.setRootIsDecorated(False)
        self.tree.setIndentation(10)
        header = self.tree.header()
        # The unit column is as wide as its longest name (never "Ant…"/"Post…"); the value
        # column takes what is left and elides, with the full value in its tooltip. In a
        # narrow panel the tree scrolls sideways rather than cutting a compartment's name.
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        header.setStretchLastSection(False)
        header.setMinimumSectionSize(40)
        self.tree.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.tree.itemClicked.connect(self._on_tree_clicked)
        layout.addWidget(self.tree, 3)

        self.item_title = QLabel(self)
        self.item_title.setWordWrap(True)
        title_font = QFont(self.item_title.font())
        title_font.setPointSizeF(title_font.pointSizeF() * 1.15)
        title_font.setBold(True)
        self.item_title.setFont(title_font)
        self.scale_title = QLabel(self)
        self.scale_title.setWordWrap(True)
        self.scale_title.setStyleSheet("color: #37474f;")
        layout.addWidget(self.item_title)
        layout.addWidget(self.scale_title)
        self.refusal = RefusalLabel(self)
        layout.addWidget(self.refusal)

        self.scale_stack = QStackedWidget(self)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self.scale_stack)
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        layout.addWidget(scroll, 4)

        buttons = QHBoxLayout()
        self.clear_button = QPushButton("Clear  ⌫", self)
        self.undo_button = QPushButton("Undo  Ctrl+Z", self)
        self.submit_button = QPushButton("Submit read…", self)
        self.submit_button.setStyleSheet("font-weight: bold;")
        for button, signal in ((self.clear_button, self.clear_clicked), (self.undo_button, self.undo_clicked),
                               (self.submit_button, self.submit_clicked)):
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.clicked.connect(signal.emit)
            buttons.addWidget(button)
        layout.addLayout(buttons)

        self._rows: dict[str, QTreeWidgetItem] = {}
        self._cards: dict[str, _ScaleCard] = {}
        self.card_shown = True

    # ---------------------------------------------------------------- building
    def set_session(self, session: ReadingSession) -> None:
        """Build the item tree and scale cards for a read, then show its state."""
        self.session = session
        self.tree.clear()
        self._rows.clear()
        for card in self._cards.values():
            self.scale_stack.removeWidget(card)
            card.deleteLater()
        self._cards.clear()
        measure_node: QTreeWidgetItem | None = None
        region_node: QTreeWidgetItem | None = None
        last_measure = last_region = None
        bold = QFont(self.tree.font())
        bold.setBold(True)
        for item in session.items:
            if item.measure != last_measure:
                scale = session.scale_of(item.key)
                measure_node = QTreeWidgetItem(self.tree, [f"{item.label} — {item.sequence} · {scale.title}"])
                measure_node.setFirstColumnSpanned(True)
                measure_node.setFont(0, bold)
                measure_node.setBackground(0, QBrush(QColor("#eceff1")))
                measure_node.setFlags(Qt.ItemFlag.ItemIsEnabled)
                measure_node.setExpanded(True)
                last_measure, last_region = item.measure, None
            assert measure_node is not None  # the first item starts a measure
            if item.unit.region != last_region:
                missing = f" — {NOT_IMAGED}" if session.not_imaged(item) else ""
                region_node = QTreeWidgetItem(measure_node, [item.unit.region.capitalize() + missing])
                region_node.setFirstColumnSpanned(True)
                region_node.setFlags(Qt.ItemFlag.ItemIsEnabled)
                region_node.setForeground(0, QBrush(QColor("#546e7a")))
                region_node.setExpanded(True)
                last_region = item.unit.region
            assert region_node is not None  # the first item of a measure starts a region
            row = QTreeWidgetItem(region_node, [_unit_text(item), _SIDE.get(item.side or "", "—"), ""])
            row.setData(0, _ROLE_KEY, item.key)
            row.setToolTip(0, item.title)
            self._rows[item.key] = row
        self.tree.expandAll()
        for key in self._rows:
            self._show_value(key)
        self.apply(Changes(value=False, item=True, progress=True, status=True))

    def _card(self, scale: Scale) -> _ScaleCard:
        card = self._cards.get(scale.name)
        if card is None:
            card = _ScaleCard(scale, self.level_clicked.emit, self.scale_stack, reference_image)
            card.show_card(self.card_shown)
            self.scale_stack.addWidget(card)
            self._cards[scale.name] = card
        return card

    def toggle_card(self) -> bool:
        """Show or hide the scale card (the levels' longer descriptions); returns whether shown."""
        self.card_shown = not self.card_shown
        for card in self._cards.values():
            card.show_card(self.card_shown)
        return self.card_shown

    # ---------------------------------------------------------------- updating
    def apply(self, changes: Changes) -> None:
        """Redraw only what changed; a refusal is shown highlighted under the item."""
        session = self.session
        if changes.refused:
            self.refusal.show_refusal(changes.refused)
        elif changes.value or changes.item:
            self.refusal.clear_refusal()
        if session is None:
            return
        for key in changes.keys:
            self._show_value(key)
        if changes.item or changes.value:
            self._show_current()
        if changes.progress:
            self._show_progress()
        if changes.status:
            self._show_status()

    def _show_value(self, key: str) -> None:
        assert self.session is not None
        row = self._rows[key]
        code = self.session.code(key)
        text = value_text(self.session.scale_of(key), code)
        if code is None and self.session.not_imaged(self.session.protocol.item(key)):
            text = NOT_IMAGED
        row.setText(2, text)
        row.setToolTip(2, text)
        row.setForeground(2, QBrush(QColor("#9e9e9e" if code is None else "#1b5e20")))

    def _show_current(self) -> None:
        session = self.session
        assert session is not None
        item = session.item
        row = self._rows[item.key]
        self.tree.blockSignals(True)
        self.tree.setCurrentItem(row)
        self.tree.blockSignals(False)
        self.tree.scrollToItem(row, QAbstractItemView.ScrollHint.EnsureVisible)
        number = session.index + 1
        missing = f" — {NOT_IMAGED}" if session.not_imaged(item) else ""
        self.item_title.setText(f"{number}/{session.total}  {item.title}{missing}")
        scale = session.scale
        hint = "Read-only." if session.locked else "Press the key shown beside a level, or click it."
        self.scale_title.setText(f"Scored on {item.sequence}: {scale.title}. {hint}")
        card = self._card(scale)
        self.scale_stack.setCurrentWidget(card)
        card.select(session.code())

    def _show_progress(self) -> None:
        session = self.session
        assert session is not None
        self.progress_label.setText(f"Scored {session.done} of {plural(session.total, 'item')}")
        self.progress_bar.setMaximum(session.total)
        self.progress_bar.setValue(session.done)
        parts = [f"{region.capitalize()} {done}/{total}" for region, (done, total)
                 in session.progress_by_region().items()]
        self.region_label.setText(" · ".join(parts))

    def _show_status(self) -> None:
        session = self.session
        assert session is not None
        locked = session.locked
        read = session.read
        when = f" on {read.submitted_at:%Y-%m-%d %H:%M} UTC" if read.submitted_at else ""
        self.locked_banner.setText(f"Submitted{when}: this read is locked and opens read-only. "
                                   "Only the coordinator can reopen it.")
        self.locked_banner.setVisible(locked)
        for card in self._cards.values():
            card.setEnabled(not locked)
        self.scale_stack.setEnabled(not locked)
        for button in (self.clear_button, self.undo_button, self.submit_button):
            button.setEnabled(not locked)
        self._show_current()

    def _on_tree_clicked(self, row: QTreeWidgetItem, _column: int) -> None:
        key = row.data(0, _ROLE_KEY)
        if key:
            self.item_clicked.emit(str(key))

    # ----------------------------------------------------------------- queries
    def shown_values(self) -> dict[str, str]:
        """Item key → the value text in the tree (what a reader sees; for tests)."""
        return {key: row.text(2) for key, row in self._rows.items()}

    def level_row(self, code: str) -> LevelRow:
        """The clickable row of a level of the current scale (for tests)."""
        assert self.session is not None
        return self._card(self.session.scale).rows[code]
