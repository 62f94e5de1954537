"""One stored value per physical key press: the rule in app, fed synthetic key-event sequences."""

from __future__ import annotations

import pytest

from myoscore.app import CoordinatorSession, Database, ReaderSession, sign_in
from myoscore.app.key_guard import KeyPressGuard, physical_key
from myoscore.app.keymap import KEYMAP, REVIEW_KEYMAP, Binding, Keyboard
from myoscore.app.reading_session import ReadingSession


def reader(db: Database, name: str = "A") -> ReaderSession:
    session = sign_in(db, name, f"pass-phrase-{name}")
    assert isinstance(session, ReaderSession)
    return session


def stored(db: Database, read_id: int) -> dict[str, str]:
    return {key: r.code for key, r in reader(db).ratings(read_id).items()}


@pytest.fixture
def scored(db: Database, study: CoordinatorSession) -> ReadingSession:
    """Reader A's first read with every item scored at its scale's first level; opened at item 1."""
    a = reader(db)
    read = a.worklist()[0]
    protocol = a.protocol(read.id)
    for item in protocol.items:
        a.rate(read.id, item.key, protocol.scale_of(item.key).levels[0].code)
    return ReadingSession(a, read.id)


# ---------------------------------------------------------------------- the guard alone
def test_presses_without_releases_count_once_without_the_repeat_flag() -> None:
    """press-press-press, no release, no auto-repeat flag: only the first is a new press."""
    guard = KeyPressGuard()
    assert guard.press("2", 0) == ""
    refusals = [guard.press("2", 500 + 40 * i) for i in range(20)]
    assert all("held down" in r for r in refusals)
    guard.release("2", 1400)
    assert guard.press("2", 1700) == ""


def test_x11_release_press_pairs_with_one_time_are_held() -> None:
    """X11 auto-repeat as Qt's xcb backend may deliver it: release and press with one timestamp."""
    guard = KeyPressGuard()
    assert guard.press("2", 0) == ""
    for t in range(660, 1500, 43):
        guard.release("2", t)
        assert "held down" in guard.press("2", t)
    guard.release("2", 1510)
    assert guard.press("3", 1800) == ""


def test_fast_typing_with_releases_gives_every_value() -> None:
    """A reader typing 2, 3, N, 2 … at 4 keys/s (each released): every press counts."""
    guard = KeyPressGuard()
    t = 0.0
    for key in ["2", "3", "N", "2", "2", "0", "5"]:
        assert guard.press(key, t) == "", key
        guard.release(key, t + 70)
        t += 180


def test_dead_time_refuses_a_second_press_too_soon_and_is_configurable() -> None:
    guard = KeyPressGuard(dead_time_ms=150)
    assert guard.press("2", 0) == ""
    guard.release("2", 40)
    reason = guard.press("3", 100)
    assert "100 ms after the previous one" in reason
    assert "150 ms" in reason
    guard.release("3", 130)
    assert guard.press("4", 300) == ""
    off = KeyPressGuard(dead_time_ms=0)
    assert off.press("2", 0) == ""
    off.release("2", 30)
    assert off.press("3", 60) == ""  # released 30 ms: a real release


def test_another_key_while_one_is_held_is_refused() -> None:
    """Holding 2 and pressing 3 stores nothing for the 3 (one value per press of one key)."""
    guard = KeyPressGuard()
    assert guard.press("2", 0) == ""
    assert "Key 2 is held down" in guard.press("3", 400)


def test_auto_repeat_flag_refuses_when_given() -> None:
    guard = KeyPressGuard()
    assert "held down" in guard.press("2", 0, auto_repeat=True)


def test_a_lost_release_does_not_block_the_keyboard() -> None:
    """A release that went to another window: the key counts as up after stale_ms, and reset() at once."""
    guard = KeyPressGuard(stale_ms=1000)
    assert guard.press("2", 0) == ""
    assert guard.press("2", 2500) == ""
    assert guard.press("3", 2700) != ""
    guard.reset()
    assert guard.press("3", 2710) == ""


def test_time_going_backwards_counts_as_long_ago() -> None:
    guard = KeyPressGuard()
    assert guard.press("2", 5000) == ""
    guard.release("2", 5050)
    assert guard.press("3", 10) == ""


def test_physical_key_drops_modifiers() -> None:
    assert [physical_key(k) for k in ("Ctrl+Z", "Shift+Tab", "3", "Ctrl++", "+")] == ["Z", "Tab", "3", "+", "+"]


# --------------------------------------------------------- the keyboard on a session
def test_holding_a_digit_on_a_scored_read_changes_one_value(db: Database, scored: ReadingSession) -> None:
    """A burst of "2" presses with no release on a fully scored read: exactly one stored value changes."""
    before = stored(db, scored.read_id)
    keyboard = Keyboard(KEYMAP)
    results = [keyboard.run(scored, "2", 1000 + 40 * i) for i in range(30)]
    keyboard.release("2", 2300)
    after = stored(db, scored.read_id)
    changed = {k for k in after if after[k] != before[k]}
    assert changed == {scored.items[0].key}
    assert after[scored.items[0].key] == "2"
    assert scored.index == 1
    assert results[0].value
    assert all(r.refused and not r.value for r in results[1:])


def test_holding_n_and_release_pairs_change_one_value(db: Database, scored: ReadingSession) -> None:
    """N held as X11 repeats it (release + press, one time, no flag): one not-evaluable stored."""
    before = stored(db, scored.read_id)
    keyboard = Keyboard(KEYMAP)
    keyboard.run(scored, "N", 0)
    for t in range(660, 1500, 43):
        keyboard.release("N", t)
        assert keyboard.run(scored, "N", t).refused
    after = stored(db, scored.read_id)
    assert {k for k in after if after[k] != before[k]} == {scored.items[0].key}
    assert after[scored.items[0].key] == "NE"


def test_typing_with_releases_stores_every_value(db: Database, scored: ReadingSession) -> None:
    keyboard = Keyboard(KEYMAP)
    t = 0.0
    for key in ["1", "2", "3", "N", "4"]:
        assert keyboard.run(scored, key, t).value, key
        keyboard.release(key, t + 60)
        t += 200
    codes = [stored(db, scored.read_id)[item.key] for item in scored.items[:5]]
    assert codes == ["1", "2", "3", "NE", "4"]


def test_moving_keys_may_repeat_and_unbound_keys_are_refused(scored: ReadingSession) -> None:
    """Holding Down moves item after item (not a value-storing key); an unbound key says so."""
    keyboard = Keyboard(KEYMAP)
    for i in range(5):
        assert keyboard.run(scored, "Down", 40 * i).item
    assert scored.index == 5
    assert "does nothing here" in keyboard.run(scored, "Q", 500).refused


def test_rule_errors_come_back_as_refusals(db: Database, scored: ReadingSession) -> None:
    """A digit past the last level and an empty undo: refused with a sentence, nothing stored."""
    keyboard = Keyboard(KEYMAP)
    scored.go_to("edema_pattern.thigh")
    before = stored(db, scored.read_id)
    assert "keys 0–3" in keyboard.run(scored, "7", 0).refused
    keyboard.release("7", 50)
    assert keyboard.run(scored, "Ctrl+Z", 400).refused.startswith("Nothing to undo")
    assert stored(db, scored.read_id) == before


def test_every_value_storing_row_is_guarded() -> None:
    """Digits, N, clear and undo (reading) and digits and N (review) are once-per-press rows; moving is not."""
    def guarded(keymap: tuple[Binding, ...]) -> set[str]:
        return {b.key for b in keymap if b.once_per_press}

    assert guarded(KEYMAP) == {*map(str, range(10)), "N", "Shift+N", "Backspace", "Del", "Ctrl+Z"}
    assert guarded(REVIEW_KEYMAP) == {*map(str, range(10)), "N"}
