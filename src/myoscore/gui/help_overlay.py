"""The keyboard help overlay, generated from the keymap rows (so it cannot drift)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from PySide6.QtCore import Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget

from myoscore.app.keymap import KEYMAP, Binding, help_rows

__all__ = ["HelpOverlay", "help_html"]


def help_html(keymap: Sequence[Binding] = KEYMAP, close_keys: str = "F1, H or Esc") -> str:
    """A keymap as an HTML table, grouped as :func:`myoscore.app.keymap.help_rows` lists it."""
    parts = ["<h2 style='margin:0'>Keyboard</h2>",
             "<p>Every value is stored the moment it is given. One key press stores one value: "
             "a key held down, or pressed again within a moment, is refused with a message.<br>"
             f"Press {escape(close_keys)} to close.</p>",
             "<table align='center' cellspacing='0' cellpadding='3'>"]
    group = None
    for row_group, keys, description in help_rows(keymap):
        if row_group != group:
            parts.append(f"<tr><td colspan='2' style='padding-top:8px'><b>{escape(row_group)}</b></td></tr>")
            group = row_group
        parts.append(f"<tr><td style='padding-right:14px'><code><b>{escape(keys)}</b></code></td>"
                     f"<td>{escape(description)}</td></tr>")
    parts.append("</table>")
    return "".join(parts)


class HelpOverlay(QFrame):
    """A translucent panel over the reading view; a click or F1/H/Esc closes it."""

    def __init__(self, parent: QWidget, keymap: Sequence[Binding] = KEYMAP, close_keys: str = "F1, H or Esc") -> None:
        super().__init__(parent)
        self.setObjectName("HelpOverlay")
        self.setStyleSheet("#HelpOverlay { background: rgba(20, 24, 28, 225); }"
                           "QLabel { color: #f5f5f5; font-size: 13px; }")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(40, 30, 40, 30)
        self.label = QLabel(help_html(keymap, close_keys), self)
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self.label)
        self.setVisible(False)

    def toggle(self) -> None:
        self.setVisible(not self.isVisible())
        parent = self.parentWidget()
        if self.isVisible() and parent is not None:
            self.setGeometry(parent.rect())
            self.raise_()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.setVisible(False)
        event.accept()
