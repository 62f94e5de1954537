"""A whole read from the keyboard; what is stored is what was typed; reopening shows it."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from myoscore.app import Database, ReaderSession, sign_in
from myoscore.domain import NOT_EVALUABLE, ReadStatus
from myoscore.gui.scoring_panel import value_text
from tests.gui.gui_helpers import open_first_read, press

pytestmark = pytest.mark.gui


def fresh_ratings(db: Database, name: str, read_id: int) -> dict[str, str]:
    session = sign_in(db, name, f"pass-phrase-{name}")
    assert isinstance(session, ReaderSession)
    return {key: r.code for key, r in session.ratings(read_id).items()}


def test_complete_nxp2_read_with_the_keyboard_only(qtbot, db: Database, imaged_study, open_window) -> None:
    """All 50 nxp2_lower_limb items scored by key presses (digits, N, moves, side switch, clear,
    undo); every stored value equals what was typed; after close and reopen the panel shows them."""
    window = open_window("B")
    read_id = open_first_read(qtbot, window)
    session = window.session
    assert session.protocol.name == "nxp2_lower_limb"
    assert session.index == 0

    expected: dict[str, str] = {}
    for number, item in enumerate(session.items):
        assert window.session.item.key == item.key
        levels = session.scale_of(item.key).levels
        if number % 9 == 4:
            press(qtbot, window, "N")
            expected[item.key] = NOT_EVALUABLE
        else:
            position = (number * 7 + 3) % len(levels)
            press(qtbot, window, str(position))
            expected[item.key] = levels[position].code
    assert window.session.index == session.total - 1  # the last digit stays on the last item

    # Corrections, still keyboard only: back up, clear, undo, switch side, retype.
    press(qtbot, window, "Home", "Down", "Down", "Tab", "Tab", "Down")  # item 6: edema.thigh.posterior.L
    assert window.session.item.key == "edema.thigh.posterior.L"
    press(qtbot, window, "Backspace")
    assert "edema.thigh.posterior.L" not in fresh_ratings(db, "B", read_id)
    press(qtbot, window, "Ctrl+Z")
    assert fresh_ratings(db, "B", read_id)["edema.thigh.posterior.L"] == expected["edema.thigh.posterior.L"]
    press(qtbot, window, "S")
    assert window.session.item.key == "edema.thigh.posterior.R"
    press(qtbot, window, "5")
    expected["edema.thigh.posterior.R"] = "5"
    assert window.session.item.key == "edema.thigh.posterior.L"  # moved on
    press(qtbot, window, "Shift+Tab", "Up")
    assert window.session.item.key == "edema.thigh.medial.L"
    press(qtbot, window, "0")
    expected["edema.thigh.medial.L"] = "0"
    press(qtbot, window, "Del", "Ctrl+Z")  # clear the next item, then undo: unchanged

    assert fresh_ratings(db, "B", read_id) == expected
    assert len(expected) == 50
    assert window.scoring.progress_label.text() == "Scored 50 of 50 items"
    shown = window.scoring.shown_values()
    assert shown == {key: value_text(session.scale_of(key), code) for key, code in expected.items()}

    # Back to the worklist (Esc), close, sign in again, reopen: the same values are shown.
    press(qtbot, window, "Esc")
    assert window.pages.currentWidget() is window.worklist
    row = window.worklist._read_ids.index(read_id)
    assert window.worklist.table.item(row, window.worklist.column("Scored")).text() == "50 / 50"
    assert window.worklist.table.item(row, window.worklist.column("Status")).text() == "in progress"
    window.close()

    again = open_window("B")
    row = again.worklist._read_ids.index(read_id)
    again.worklist.table.setCurrentCell(row, 0)
    open_first_read(qtbot, again)
    assert again.session.read.status is ReadStatus.IN_PROGRESS
    assert again.scoring.shown_values() == shown
    assert again.scoring.progress_label.text() == "Scored 50 of 50 items"


def test_the_mouse_does_the_same(qtbot, db: Database, imaged_study, open_window) -> None:
    """Clicking a tree row selects the item; clicking a level row stores it and moves on."""
    window = open_window("B")
    read_id = open_first_read(qtbot, window)
    tree = window.scoring.tree
    row = window.scoring._rows["fat.calf.lateral.R"]
    tree.scrollToItem(row)
    rect = tree.visualItemRect(row)
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.session.item.key == "fat.calf.lateral.R"
    level = window.scoring.level_row("2")
    qtbot.mouseClick(level, Qt.MouseButton.LeftButton)
    assert fresh_ratings(db, "B", read_id) == {"fat.calf.lateral.R": "2"}
    assert window.session.item.key == "fat.calf.lateral.L"
    qtbot.mouseClick(window.scoring.level_row(NOT_EVALUABLE), Qt.MouseButton.LeftButton)
    qtbot.mouseClick(window.scoring.undo_button, Qt.MouseButton.LeftButton)
    assert fresh_ratings(db, "B", read_id) == {"fat.calf.lateral.R": "2"}
    assert window.session.item.key == "fat.calf.lateral.L"
    window.session.go_to("fat.calf.lateral.R")
    window.broadcast(window.session.next_item() | window.session.previous_item())
    qtbot.mouseClick(window.scoring.clear_button, Qt.MouseButton.LeftButton)
    assert fresh_ratings(db, "B", read_id) == {}


def test_help_overlay_lists_the_keymap(qtbot, imaged_study, open_window) -> None:
    """F1 shows the help generated from the keymap rows; Esc closes it without leaving the read."""
    from myoscore.app.keymap import help_rows

    window = open_window("B")
    open_first_read(qtbot, window)
    press(qtbot, window, "F1")
    assert window.help_overlay.isVisible()
    text = window.help_overlay.label.text()
    for _group, keys, _description in help_rows():
        assert keys.replace("&", "&amp;") in text
    press(qtbot, window, "Esc")
    assert not window.help_overlay.isVisible()
    assert window.pages.currentWidget() is window.reading_page


def test_holding_a_digit_scores_once(qtbot, db: Database, imaged_study, open_window) -> None:
    """An auto-repeated digit is ignored: holding "3" does not score a run of items."""
    window = open_window("B")
    read_id = open_first_read(qtbot, window)
    target = window.focusWidget() or window
    qtbot.keyPress(target, Qt.Key.Key_3)
    from PySide6.QtGui import QKeyEvent
    from PySide6.QtWidgets import QApplication

    repeat = QKeyEvent(QKeyEvent.Type.KeyPress, Qt.Key.Key_3, Qt.KeyboardModifier.NoModifier, "3", True)
    QApplication.sendEvent(target, repeat)
    qtbot.keyRelease(target, Qt.Key.Key_3)
    assert len(fresh_ratings(db, "B", read_id)) == 1
