"""Blinding (nothing of reader A, nothing identifying in B's window) and submit-locks."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from myoscore.app import Database, ReaderSession, sign_in
from myoscore.app.reading_session import ReadingSession
from myoscore.domain import NOT_EVALUABLE, ReadStatus
from tests.gui.gui_helpers import all_texts, open_first_read, press

pytestmark = pytest.mark.gui


def reader(db: Database, name: str) -> ReaderSession:
    session = sign_in(db, name, f"pass-phrase-{name}")
    assert isinstance(session, ReaderSession)
    return session


def test_reader_b_sees_nothing_of_a_and_nothing_identifying(qtbot, db: Database, imaged_study, phantom,
                                                           open_window) -> None:
    """A scores every item B leaves unscored with distinctive values (not evaluable, "mixed")
    and completes both reads; walking every widget of B's window — worklist, each item of a
    read, the help, the submit warning — finds none of A's values or progress, and none of
    the phantom's DICOM identity (name, ID, birth date, study date, institution), file paths
    or clinical fields."""
    window = open_window("B")
    b_read = window.worklist.current_read_id()
    exam_of = {read.id: read.exam_id for read in imaged_study.reads()}  # readers see no exam ids
    exam_id = exam_of[b_read]
    b_scores = dict(zip(
        ReadingSession(reader(db, "B"), b_read).protocol.item_keys[:5], ["1", "0", "2", "1", "3"], strict=True))

    a = reader(db, "A")
    for read in a.worklist():
        session = ReadingSession(a, read.id, start="first")
        for item in session.items:
            if exam_of[read.id] == exam_id and item.key in b_scores:
                session.go_to(item.key)
                session.set_value("4")
            elif item.scale == "edema_pattern":
                session.go_to(item.key)
                session.set_value("mixed")
            else:
                session.go_to(item.key)
                session.mark_not_evaluable()
        assert session.done == session.total

    seen: list[str] = []
    window.show_worklist()
    seen += all_texts(window)
    open_first_read(qtbot, window)
    for code in b_scores.values():
        press(qtbot, window, code)
    press(qtbot, window, "Home")
    shown_values: dict[str, str] = {}
    for _ in window.session.items:
        seen += all_texts(window)
        card = window.scoring._card(window.session.scale)
        selected = [code for code, row in card.rows.items() if row.property("selected")]
        expected = b_scores.get(window.session.item.key)
        assert selected == ([expected] if expected else [])
        press(qtbot, window, "Down")
    shown_values = window.scoring.shown_values()
    press(qtbot, window, "F1")
    seen += all_texts(window)
    press(qtbot, window, "F1", "O", "G", "T", "W")
    seen += all_texts(window)
    asked: list[str] = []

    def ask(title: str, text: str) -> bool:
        asked.append(f"{title}\n{text}")
        return False  # always "No"

    window.ask = ask
    press(qtbot, window, "Ctrl+Return")
    assert asked
    assert "45 of 50 items have no value" in asked[0]
    seen += asked + all_texts(window)
    press(qtbot, window, "Esc")
    seen += all_texts(window)

    # B's own values are shown, A's never.
    assert {key for key, value in shown_values.items() if value != "—"} == set(b_scores)
    assert all(shown_values[key].startswith(code + " · ") for key, code in b_scores.items())
    text = "\n".join(seen)
    assert "NE · not evaluable" not in text
    assert "mixed · Mixed" not in text
    assert "4 · Moderate" not in text
    assert "50 / 50" not in text
    assert "5 / 50" in text  # B's own progress is there: the walk did see the worklist

    lowered = text.lower()
    forbidden = {**phantom.identifying}
    forbidden["StudyDate (ISO)"] = "2024-01-15"
    forbidden["BirthDate (ISO)"] = "1970-01-01"
    for name, value in forbidden.items():
        assert value.lower() not in lowered, f"{name} ({value}) is shown to a reader"
    for word in ("phantom", "subject000", "hospital", "referrer", "im0001", ".dcm", ".nii", str(phantom.out_dir),
                 "treated", "onset", "months"):
        assert word.lower() not in lowered, f"{word!r} is shown to a reader"


def test_submit_warns_confirms_locks(qtbot, db: Database, imaged_study, open_window) -> None:
    """Submit warns about unscored items (No goes to the first one), confirms, and locks: no key
    or click changes a stored value afterwards, and the read reopens read-only."""
    window = open_window("B")
    read_id = open_first_read(qtbot, window)
    press(qtbot, window, "2", "3", "N")
    asked: list[str] = []
    answers = iter([False])

    def ask(title: str, text: str) -> bool:
        asked.append(title)
        return next(answers)

    window.ask = ask
    press(qtbot, window, "Ctrl+Return")
    assert asked == ["Unscored items"]
    assert window.session.item.key == window.session.unscored()[0]
    assert reader(db, "B").read(read_id).status is ReadStatus.IN_PROGRESS

    answers = iter([True, False])
    press(qtbot, window, "Ctrl+Return")
    assert asked[1:] == ["Unscored items", "Submit and lock the read"]
    assert reader(db, "B").read(read_id).status is ReadStatus.IN_PROGRESS

    answers = iter([True, True])
    qtbot.mouseClick(window.scoring.submit_button, Qt.MouseButton.LeftButton)
    assert reader(db, "B").read(read_id).status is ReadStatus.SUBMITTED
    assert window.scoring.locked_banner.isVisible()
    assert "(read-only)" in window.windowTitle()

    before = {k: r.code for k, r in reader(db, "B").ratings(read_id).items()}
    assert sorted(before.values()) == ["2", "3", NOT_EVALUABLE]
    press(qtbot, window, "Home", "5", "N", "Backspace", "Del", "Ctrl+Z", "Down", "1")
    assert "locked" in window.statusBar().currentMessage()
    window.session.go_to(window.session.items[0].key)
    window.broadcast(window.session.next_item() | window.session.previous_item())
    row = window.scoring.level_row("0")
    assert not row.isEnabled()
    qtbot.mouseClick(row, Qt.MouseButton.LeftButton)
    assert not window.scoring.clear_button.isEnabled()
    assert not window.scoring.submit_button.isEnabled()
    press(qtbot, window, "Ctrl+Return")
    assert len(asked) == 5  # no new question on a locked read
    assert {k: r.code for k, r in reader(db, "B").ratings(read_id).items()} == before

    press(qtbot, window, "Esc")
    row_index = window.worklist._read_ids.index(read_id)
    assert window.worklist.table.item(row_index, window.worklist.column("Status")).text() == "submitted (locked)"
    window.close()
    again = open_window("B")
    again.worklist.table.setCurrentCell(again.worklist._read_ids.index(read_id), 0)
    open_first_read(qtbot, again)
    assert again.session.locked
    assert again.scoring.locked_banner.isVisible()
    assert not again.scoring.scale_stack.isEnabled()
    press(qtbot, again, "4")
    assert {k: r.code for k, r in reader(db, "B").ratings(read_id).items()} == before
