"""The reading loop without Qt: ReadingSession methods and keymap actions called directly."""

from __future__ import annotations

from pathlib import Path

import pytest

from myoscore.app import CoordinatorSession, Database, ReaderSession, keymap, sign_in
from myoscore.app.exam_images import parse_label_table
from myoscore.app.keymap import KEYMAP, Binding, binding_for, help_rows, help_table_markdown
from myoscore.app.reading_session import NOTHING, Changes, ReadingSession
from myoscore.app.schemes import scheme_library
from myoscore.domain import NOT_EVALUABLE, InvalidValue, NotFound, ReadLocked, ReadStatus, Role


def reader(db: Database, name: str = "A") -> ReaderSession:
    session = sign_in(db, name, f"pass-phrase-{name}")
    assert isinstance(session, ReaderSession)
    return session


@pytest.fixture
def session(db: Database, study: CoordinatorSession) -> ReadingSession:
    a = reader(db)
    return ReadingSession(a, a.worklist()[0].id)


def bound(key: str) -> Binding:
    """The reader's binding of a key the test presses (every key it presses has one)."""
    binding = binding_for(key)
    assert binding is not None, key
    return binding


def stored(db: Database, read_id: int, name: str = "A") -> dict[str, str]:
    """What a fresh sign-in sees: the durable values."""
    return {key: r.code for key, r in reader(db, name).ratings(read_id).items()}


def test_opens_at_first_item_with_protocol_and_side(session: ReadingSession) -> None:
    """A new read starts at item 1 of its protocol; side comes from the item."""
    assert session.index == 0
    assert session.item.key == session.protocol.items[0].key
    assert session.side == "R"
    assert session.total == len(session.protocol.items) == 50
    assert session.done == 0
    assert session.read.status is ReadStatus.ASSIGNED


def test_set_value_is_durable_and_moves_on(db: Database, session: ReadingSession) -> None:
    """set_value stores through the reader session (visible to a fresh sign-in) and goes to the next item."""
    first = session.item.key
    changes = session.set_value("3")
    assert changes == Changes(value=True, item=True, progress=True, status=True, keys=(first,))
    assert stored(db, session.read_id) == {first: "3"}
    assert session.index == 1
    assert session.read.status is ReadStatus.IN_PROGRESS
    again = session.set_value("2")
    assert again.status is False
    assert again.progress is True


def test_changing_a_value_does_not_change_progress(session: ReadingSession) -> None:
    """Overwriting a stored value changes the value, not the count."""
    key = session.item.key
    session.set_value("1")
    session.go_to(key)
    changes = session.set_value("4")
    assert changes.value
    assert not changes.progress
    assert changes.keys == (key,)
    assert session.code(key) == "4"


def test_digit_scores_by_level_position(db: Database, session: ReadingSession) -> None:
    """Key d stores the d-th level; a position past the last level is refused with a message."""
    key = session.item.key
    keymap.score_position(5, session)
    assert stored(db, session.read_id)[key] == "5"
    pattern = session.protocol.item_keys.index("edema_pattern.thigh")
    session.go_to(session.protocol.items[pattern].key)
    keymap.score_position(2, session)  # none, patchy, diffuse, mixed
    assert session.code("edema_pattern.thigh") == "diffuse"
    session.go_to("edema_pattern.thigh")
    with pytest.raises(InvalidValue, match="keys 0–3"):
        keymap.score_position(7, session)
    assert session.code("edema_pattern.thigh") == "diffuse"


def test_not_evaluable_is_its_own_value(db: Database, session: ReadingSession) -> None:
    """N stores "NE" (value None), never 0."""
    key = session.item.key
    bound("N").run_on_session(session)
    rating = reader(db).ratings(session.read_id)[key]
    assert rating.code == NOT_EVALUABLE
    assert rating.value is None
    assert session.index == 1


def test_clear_and_undo(db: Database, session: ReadingSession) -> None:
    """Clear unscores an item; undo restores each previous stored value, persisted, and goes back to it."""
    first = session.item.key
    session.set_value("2")
    second = session.item.key
    session.set_value("4")
    session.go_to(first)
    changes = session.clear()
    assert changes == Changes(value=True, progress=True, keys=(first,))
    assert stored(db, session.read_id) == {second: "4"}

    session.go_to(second)
    assert session.undo().keys == (first,)  # undo the clear
    assert session.item.key == first
    assert stored(db, session.read_id) == {first: "2", second: "4"}
    session.undo()  # undo "4"
    assert stored(db, session.read_id) == {first: "2"}
    assert session.item.key == second
    session.undo()  # undo "2"
    assert stored(db, session.read_id) == {}
    nothing = session.undo()
    assert nothing.refused.startswith("Nothing to undo")
    assert (nothing.value, nothing.item, nothing.keys) == (False, False, ())
    assert not session.can_undo()


def test_clear_of_unscored_item_changes_nothing(session: ReadingSession) -> None:
    assert session.clear() == NOTHING
    assert not session.can_undo()


def test_navigation_clamps_and_switches_side(session: ReadingSession) -> None:
    """Up at the top and Down at the bottom stay; S flips R/L on the same unit and measure."""
    assert session.previous_item() == NOTHING
    assert session.next_item() == Changes(item=True)
    assert session.item.key == "edema.thigh.anterior.L"
    bound("S").run_on_session(session)
    assert session.item.key == "edema.thigh.anterior.R"
    session.switch_side()
    assert session.item.key == "edema.thigh.anterior.L"
    bound("End").run_on_session(session)
    assert session.index == session.total - 1
    assert session.next_item() == NOTHING
    assert session.item.side is None
    assert session.switch_side() == NOTHING  # region-level items have no side
    bound("Home").run_on_session(session)
    assert session.index == 0


def test_go_to_and_next_unscored(session: ReadingSession) -> None:
    session.go_to("fat.calf.lateral.L")
    assert session.item.unit.key == "calf.lateral"
    assert session.side == "L"
    with pytest.raises(NotFound):
        session.go_to("no.such.item")
    session.go_to(session.protocol.items[0].key)
    session.set_value("0")
    session.go_to(session.protocol.items[0].key)
    bound("U").run_on_session(session)
    assert session.index == 1


def test_progress_by_region(session: ReadingSession) -> None:
    session.set_value("1")
    session.go_to("fat.calf.anterior.R")
    session.set_value("2")
    progress = session.progress_by_region()
    assert progress == {"thigh": (1, 25), "calf": (1, 25)}


def test_submit_locks(db: Database, session: ReadingSession) -> None:
    """Submit locks the read: every change is refused, in this session and a new one."""
    session.set_value("1")
    assert session.submit() == Changes(status=True)
    assert session.locked
    assert session.read.status is ReadStatus.SUBMITTED
    for action in (lambda s: s.set_value("2"), ReadingSession.clear, ReadingSession.undo,
                   ReadingSession.mark_not_evaluable, lambda s: s.set_level(0), ReadingSession.submit):
        with pytest.raises(ReadLocked):
            action(session)
    reopened = ReadingSession(reader(db), session.read_id)
    assert reopened.locked
    with pytest.raises(ReadLocked):
        reopened.set_value("0")
    assert session.next_item() == Changes(item=True)  # moving around a locked read is fine


def test_reopening_starts_at_first_unscored(db: Database, session: ReadingSession) -> None:
    for _ in range(3):
        session.set_value("0")
    again = ReadingSession(reader(db), session.read_id)
    assert again.index == 3
    assert again.done == 3


def test_other_readers_reads_are_refused(db: Database, study: CoordinatorSession) -> None:
    from myoscore.domain import AccessDenied

    b_read = reader(db, "B").worklist()[0].id
    with pytest.raises(AccessDenied):
        ReadingSession(reader(db, "A"), b_read)


def test_changes_combine() -> None:
    combined = Changes(value=True, keys=("a",)) | Changes(item=True, keys=("a", "b"))
    assert combined == Changes(value=True, item=True, keys=("a", "b"))
    assert not NOTHING
    assert combined


@pytest.fixture
def mercuri_study(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CoordinatorSession:
    """A study protocol scored with the modified Mercuri scale (codes 2a and 2b)."""
    folder = tmp_path / "schemes" / "protocols"
    folder.mkdir(parents=True)
    (folder / "mercuri_test.toml").write_text(
        '[protocol]\nname = "mercuri_test"\nversion = "1.0.0"\ntitle = "Mercuri test"\n'
        'atlas = "lower_limb_compartments"\nsource = "test"\n\n'
        '[[items]]\nmeasure = "fat"\nlabel = "Fat replacement"\nindicator = "Fat"\n'
        'scale = "mercuri_modified"\nsequence = "T1"\nunit = "compartment"\nsides = ["R", "L"]\n',
        encoding="utf-8")
    monkeypatch.setenv("MYOSCORE_SCHEMES", str(tmp_path / "schemes"))
    coordinator = CoordinatorSession(db, "test-coordinator")
    coordinator.add_reader("A", Role.READER, "pass-phrase-A")
    coordinator.add_exam("SUBJ-09")
    coordinator.assign(scheme_library().protocol("mercuri_test"), ["A"], seed=1)
    return coordinator


def test_letter_codes_have_digit_keys(db: Database, mercuri_study: CoordinatorSession) -> None:
    """Mercuri's 2a and 2b are levels 2 and 3: keys 2 and 3 store them, with their declared values."""
    a = reader(db)
    session = ReadingSession(a, a.worklist()[0].id)
    assert [lv.code for lv in session.scale.levels] == ["0", "1", "2a", "2b", "3", "4"]
    keymap.score_position(2, session)
    keymap.score_position(3, session)
    keymap.score_position(4, session)
    ratings = a.ratings(session.read_id)
    codes = [ratings[item.key].code for item in session.items[:3]]
    assert codes == ["2a", "2b", "3"]
    assert [ratings[item.key].value for item in session.items[:3]] == [2, 3, 4]


# ------------------------------------------------------------------------ keymap as data
def test_keymap_rows_are_unique_and_complete() -> None:
    keys = [b.key for b in KEYMAP]
    assert len(keys) == len(set(keys))
    for key in [*map(str, range(10)), "N", "Backspace", "Up", "Down", "Tab", "Shift+Tab", "S", "Ctrl+Z"]:
        assert bound(key).target == "session"
    assert binding_for("Q") is None


class FakeWindow:
    """Records the window actions the keymap calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[object, ...]]] = []

    def __getattr__(self, name: str):
        return lambda *args: self.calls.append((name, args))


def test_window_actions_call_the_window() -> None:
    window = FakeWindow()
    for key in ("Right", "Left", "PgUp", "PgDown", "W", "O", "T", "G", "F", "F1", "Ctrl+Return", "Esc"):
        binding = binding_for(key)
        assert binding is not None
        assert binding.target == "window"
        binding.run_on_window(window)
    assert window.calls[:4] == [("step_slice", (1,)), ("step_slice", (-1,)), ("step_slice", (5,)),
                                ("step_slice", (-5,))]
    assert [name for name, _ in window.calls[4:]] == [
        "window_preset", "toggle_overlay", "toggle_third_view", "next_station", "reset_zoom", "toggle_help",
        "request_submit", "back_to_worklist"]


def test_help_is_generated_from_the_rows() -> None:
    """Every key appears in the help rows, digits merged into one row."""
    rows = help_rows()
    text = " ".join(keys for _, keys, _ in rows)
    assert ("Scoring", "0 – 9", keymap._SCORE) in rows
    for binding in KEYMAP:
        if not binding.key.isdigit():
            assert binding.key in text
    table = help_table_markdown()
    assert table.count("\n") == len(rows) + 1


def test_parse_label_table_shapes() -> None:
    """The phantom's name → value table and list-of-objects tables give the same units."""
    names, units = parse_label_table({"skin": 1, "R:thigh.anterior.sartorius": 100,
                                      "L:thigh.anterior.sartorius": 200, "R:thigh.medial.gracilis": 105})
    assert units[("thigh.anterior", "R")] == (100,)
    assert units[("thigh", "R")] == (100, 105)
    assert units[("thigh.anterior.sartorius", "L")] == (200,)
    assert names[1] == "skin"
    _, listed = parse_label_table({"labels": [{"value": 7, "key": "calf.lateral.peroneus_longus", "side": "left"}]})
    assert listed[("calf.lateral", "L")] == (7,)


def test_docs_keymap_table_is_current() -> None:
    """docs/gui.md carries the table generated from the keymap rows."""
    docs = Path(__file__).resolve().parents[2] / "docs" / "gui.md"
    text = docs.read_text(encoding="utf-8")
    between = text.split("<!-- keymap:start -->\n", 1)[1].split("\n<!-- keymap:end -->", 1)[0]
    assert between == help_table_markdown()
