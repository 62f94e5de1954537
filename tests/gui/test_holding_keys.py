"""One stored value per physical key press, through Qt: holding a key on a fully scored read."""

from __future__ import annotations

import pytest

from myoscore.app import CoordinatorSession, Database, ReaderSession, sign_in
from tests.gui.gui_helpers import hold, open_first_read, press

pytestmark = pytest.mark.gui


def fresh_ratings(db: Database, name: str, read_id: int) -> dict[str, str]:
    session = sign_in(db, name, f"pass-phrase-{name}")
    assert isinstance(session, ReaderSession)
    return {key: r.code for key, r in session.ratings(read_id).items()}


@pytest.fixture
def scored_window(qtbot, db: Database, imaged_study: CoordinatorSession, open_window):
    """Reader B's first read with every item scored at its first level, opened (at item 1)."""
    b = sign_in(db, "B", "pass-phrase-B")
    assert isinstance(b, ReaderSession)
    read = b.worklist()[0]
    protocol = b.protocol(read.id)
    for item in protocol.items:
        b.rate(read.id, item.key, protocol.scale_of(item.key).levels[0].code)
    window = open_window("B")
    row = window.worklist._read_ids.index(read.id)
    window.worklist.table.setCurrentCell(row, 0)
    open_first_read(qtbot, window)
    assert window.session.index == 0
    return window


@pytest.mark.parametrize(("key", "code"), [("2", "2"), ("N", "NE")])
@pytest.mark.parametrize(("auto_repeat", "releases"), [(False, False), (True, False), (False, True), (True, True)],
                         ids=["no-flag", "flag", "x11-pairs-no-flag", "x11-pairs-flag"])
def test_holding_a_key_changes_exactly_one_value(qtbot, db: Database, scored_window, key: str, code: str,
                                                 auto_repeat: bool, releases: bool) -> None:
    """A burst of 30 key presses (40 ms apart) with no release between them — or with X11's
    release/press pairs of one time — with or without Qt's auto-repeat flag: one value changes,
    the cursor moves one item, and the panel says the repeats were refused."""
    window = scored_window
    read_id = window.session.read_id
    before = fresh_ratings(db, "B", read_id)
    first = window.session.items[0].key
    hold(window, key, 30, auto_repeat=auto_repeat, releases=releases)
    after = fresh_ratings(db, "B", read_id)
    assert {k for k in after if after[k] != before[k]} == {first}
    assert after[first] == code
    assert window.session.index == 1
    refusal = window.scoring.refusal
    assert refusal.isVisible()
    assert "held down" in refusal.text()
    assert refusal.count == 30


def test_typing_fast_with_releases_stores_every_value(qtbot, db: Database, scored_window) -> None:
    """Keys typed 250 ms apart, each released: every one stored, nothing refused."""
    window = scored_window
    press(qtbot, window, "1", "2", "N", "3", "2")
    codes = [fresh_ratings(db, "B", window.session.read_id)[item.key] for item in window.session.items[:5]]
    assert codes == ["1", "2", "NE", "3", "2"]
    assert window.scoring.refusal.count == 0
    assert not window.scoring.refusal.isVisible()


def test_refused_keys_are_shown_in_the_panel(qtbot, db: Database, scored_window) -> None:
    """A digit past the last level, an empty undo and an unbound key: a highlighted sentence in the
    panel (and the status bar), nothing stored; the next stored value clears it."""
    window = scored_window
    read_id = window.session.read_id
    before = fresh_ratings(db, "B", read_id)
    press(qtbot, window, "9")
    refusal = window.scoring.refusal
    assert refusal.isVisible()
    assert "keys 0–5" in refusal.text()
    assert "keys 0–5" in window.statusBar().currentMessage()
    press(qtbot, window, "Ctrl+Z")
    assert "Nothing to undo" in refusal.text()
    press(qtbot, window, "Q")
    assert "Key Q does nothing here" in refusal.text()
    assert fresh_ratings(db, "B", read_id) == before
    press(qtbot, window, "3")
    assert not refusal.isVisible()


def test_sign_out_is_a_key(qtbot, scored_window) -> None:
    """Ctrl+Q leaves the read and closes the window, asking the app for the sign-in screen."""
    window = scored_window
    with qtbot.waitSignal(window.signed_out, timeout=2000):
        press(qtbot, window, "Ctrl+Q")
    assert not window.isVisible()
    assert window.session is None
