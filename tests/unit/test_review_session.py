"""The joint review without Qt: ReviewSession driven through its keymap rows and the Keyboard."""

from __future__ import annotations

import pytest

from myoscore.app import CoordinatorSession, Database, ReaderSession, sign_in
from myoscore.app.analysis import consensus_list, reconcile_reads
from myoscore.app.keymap import REVIEW_KEYMAP, Binding, Keyboard, binding_for, help_rows, short_rows
from myoscore.app.review_session import ReviewSession
from myoscore.app.schemes import Protocol
from myoscore.domain import InvalidValue

#: Items A and B score differently on every exam; every other item they agree on (level 0).
DISCORDANT = {"edema.thigh.anterior.R": ("2", "3"), "edema.thigh.medial.R": ("NE", "1"),
              "edema_pattern.thigh": ("patchy", "diffuse")}


@pytest.fixture
def review(db: Database, study: CoordinatorSession, nxp2: Protocol) -> ReviewSession:
    for index, name in enumerate(("A", "B")):
        reader = sign_in(db, name, f"pass-phrase-{name}")
        assert isinstance(reader, ReaderSession)
        for read in reader.worklist():
            for item in nxp2.items:
                pair = DISCORDANT.get(item.key)
                reader.rate(read.id, item.key, pair[index] if pair else nxp2.scale_of(item.key).levels[0].code)
            reader.submit(read.id)
    pending = reconcile_reads(study, "nxp2_lower_limb", ["A", "B"], "review").pending
    read = next(r for r in study.reads("nxp2_lower_limb") if r.repeat == 0)
    return ReviewSession(study, study.protocol_of(read.id), ("A", "B"), pending)


def bound(key: str) -> Binding:
    """The review's binding of a key the test presses (every key it presses has one)."""
    binding = binding_for(key, REVIEW_KEYMAP)
    assert binding is not None, key
    return binding


def decided_code(review: ReviewSession, index: int) -> str | None:
    """The code of item ``index``'s standing decision (the test decided it)."""
    decision = review.decision(index)
    assert decision is not None, index
    return decision.code


def decided(study: CoordinatorSession) -> dict[tuple[int, str], str | None]:
    return {(c.exam_id, c.item_key): c.code for c in consensus_list(study, "nxp2_lower_limb")
            if c.item_key in DISCORDANT}


def test_keys_record_by_position_and_move(review: ReviewSession, study: CoordinatorSession) -> None:
    """Digit 3 records the fourth level of the item's scale; N not evaluable; Up goes back."""
    assert review.total == 6
    assert review.item.item_key == "edema.thigh.anterior.R"
    assert review.codes() == ("2", "3")
    changes = bound("3").run_on_session(review)
    assert (changes.value, changes.item, changes.progress) == (True, True, True)
    assert decided_code(review, 0) == "3"
    assert review.index == 1
    bound("N").run_on_session(review)
    assert decided_code(review, 1) == "NE"
    bound("Up").run_on_session(review)
    assert review.index == 1
    assert decided(study)[(review.items[0].exam_id, "edema.thigh.anterior.R")] == "3"
    with pytest.raises(InvalidValue, match="keys 0–5"):
        review.record_level(7)


def test_holding_a_digit_records_one_decision(review: ReviewSession, study: CoordinatorSession) -> None:
    """A burst of "4" presses with no release records item 1 only; typing with releases records each."""
    keyboard = Keyboard(REVIEW_KEYMAP)
    results = [keyboard.run(review, "4", 40 * i) for i in range(15)]
    assert results[0].value
    assert all(r.refused for r in results[1:])
    assert review.n_decided == 1
    keyboard.release("4", 700)
    assert keyboard.run(review, "N", 1000).value
    keyboard.release("N", 1060)
    assert keyboard.run(review, "2", 1300).value  # edema pattern: 0 none, 1 patchy, 2 diffuse
    assert [decided_code(review, i) for i in range(3)] == ["4", "NE", "diffuse"]


def test_the_end_of_the_review_is_a_status_change(review: ReviewSession) -> None:
    """Deciding the last open item reports status (the review finished); U wraps to undecided ones."""
    for _ in range(review.total - 1):
        assert not review.record_level(1).status
    review.go_to(0)
    assert bound("U").run_on_session(review).item
    assert review.index == review.total - 1
    last = review.record_level(0)
    assert last.status
    assert review.finished


def test_review_help_comes_from_the_rows() -> None:
    assert ("Deciding", "0 – 9", REVIEW_KEYMAP[0].description) in help_rows(REVIEW_KEYMAP)
    assert ("Moving", "Down, Return", "Next item") in help_rows(REVIEW_KEYMAP)
    assert ("0 – 9", "agreed level") in short_rows(REVIEW_KEYMAP)


def test_an_empty_review_refuses_with_a_sentence(study: CoordinatorSession, nxp2: Protocol) -> None:
    empty = ReviewSession(study, nxp2, ("A", "B"), [])
    assert empty.record_level(1).refused == "There is no discordant item to decide."
    assert not empty.next_item()


def test_decided_items_need_the_override_key(study: CoordinatorSession, nxp2: Protocol, review: ReviewSession) -> None:
    """Items listed as decided (here by an earlier review) keep their value on a plain digit
    (refused, nothing stored); O then the digit replaces it, audited as override_consensus;
    the review opens at the first item to decide."""
    from myoscore.app.analysis import discordant_items

    keyboard = Keyboard(REVIEW_KEYMAP)
    assert keyboard.run(review, "3", 0).value  # exam 1's anterior R: decided 3 at review
    keyboard.release("3", 60)
    items = discordant_items(study, "nxp2_lower_limb", ["A", "B"])
    again = ReviewSession(study, review.protocol, ("A", "B"), items)
    assert [item.status for item in items].count("decided") == 1
    assert again.n_decided == 1
    assert again.index == 1  # item 0 is decided: the review starts at the next one
    again.go_to(0)
    before = decided(study)
    refusal = keyboard.run(again, "4", 1000)
    keyboard.release("4", 1060)
    assert refusal.refused.startswith("Already decided: 3 ")
    assert "press O" in refusal.refused
    assert decided(study) == before
    assert keyboard.run(again, "O", 1300).item
    assert again.override_armed
    assert keyboard.run(again, "4", 1600).value
    assert not again.override_armed
    assert decided(study)[(items[0].exam_id, "edema.thigh.anterior.R")] == "4"
    events = [e for e in study.audit_log(300) if e.action == "override_consensus"]
    assert [(e.old, e.new) for e in events] == [("3 (review)", "4 (review, deliberate override)")]


def test_override_key_is_in_the_help(study: CoordinatorSession) -> None:
    """The override key and the review's help keys are rows of REVIEW_KEYMAP (so in the help overlay)."""
    rows = {keys: description for _group, keys, description in help_rows(REVIEW_KEYMAP)}
    assert "Override a decided item" in rows["O"]
    assert rows["F1, H"] == "This help"
