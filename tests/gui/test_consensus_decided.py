"""Joint review after the mean (issue 10): decided items are shown as decided, a plain digit
leaves them as they are, the override key replaces one (audited), stale items show their old
value. Real key presses on the coordinator's desk."""

from __future__ import annotations

import pytest

from myoscore.app import CoordinatorSession, Database, ReaderSession, sign_in
from myoscore.app.analysis import consensus_list, reconcile_reads
from myoscore.domain import Consensus, ConsensusMethod
from tests.gui.gui_helpers import click, click_cell, click_tab, open_desk, press, submit_both, table_texts

pytestmark = pytest.mark.gui

MEAN_ITEM = "edema.thigh.anterior.R"  # A 2, B 3 on every exam (FIXED_CODES): the mean stores 2.5


def stored(study: CoordinatorSession) -> dict[tuple[int, str], Consensus]:
    return {(c.exam_id, c.item_key): c for c in consensus_list(study, "nxp2_lower_limb")}


def open_review(qtbot, study: CoordinatorSession):
    window = open_desk(qtbot, study)
    click_tab(qtbot, window.tabs, "Consensus")
    page = window.consensus_page
    click(qtbot, page.review_button)
    page.wait_for_images()
    assert page.review is not None
    return window, page


def row_of(page, exam_id: int, key: str) -> int:
    review = page.review
    return next(i for i, item in enumerate(review.items) if (item.exam_id, item.item_key) == (exam_id, key))


def test_digit_leaves_a_mean_decided_item_and_the_override_key_replaces_it(
        qtbot, db: Database, study: CoordinatorSession, nxp2) -> None:
    """After the protocol policy (mean for edema), joint review lists the mean-decided item
    with its decision (2.5 · mean), starts at the first item to decide, a plain digit on the
    decided item is refused with the way to override and stores nothing; O then the digit
    replaces it with method review, audited as override_consensus (2.5 (mean) → the level)."""
    submit_both(db, study, nxp2)
    first_run = reconcile_reads(study, "nxp2_lower_limb", ["A", "B"])
    exam = study.exams()[0].id
    before = stored(study)
    assert (before[(exam, MEAN_ITEM)].value, before[(exam, MEAN_ITEM)].method) == (2.5, ConsensusMethod.MEAN)

    window, page = open_review(qtbot, study)
    review = page.review
    row = row_of(page, exam, MEAN_ITEM)
    assert table_texts(page.items_table, row)[1:] == ["2", "3", "2.5 · mean"]
    assert review.total > len(first_run.pending)  # decided items are listed too …
    assert review.n_to_decide == len(first_run.pending)
    assert review.to_decide()  # … but the review starts at an item to decide
    assert f"{review.n_decided} decided" in page.progress_label.text()

    click_cell(qtbot, page.items_table, row)
    assert review.index == row
    assert "Decided" in page.agreed_label.text()
    assert "2.5 (mean, test-coordinator" in page.agreed_label.text()
    level = nxp2.scale_of(MEAN_ITEM).levels[4].code

    press(qtbot, window, "4")  # a plain digit: nothing stored, the card says why and how
    assert stored(study) == before
    assert review.index == row
    assert page.refusal.isVisible()
    assert "Already decided: 2.5 (mean" in page.refusal.text()
    assert "press O" in page.refusal.text()
    assert not [e for e in study.audit_log(500) if e.action == "override_consensus"]

    assert page.message.kind == "error"
    assert "Already decided" in page.message.text()
    press(qtbot, window, "O")
    assert review.override_armed
    assert "Override armed" in page.agreed_label.text()
    assert not page.refusal.isVisible()
    assert page.message.isHidden()  # the refusal is over once O is accepted
    press(qtbot, window, "O")  # O again cancels
    assert not review.override_armed
    press(qtbot, window, "O", "4")
    after = stored(study)
    value = after[(exam, MEAN_ITEM)]
    assert (value.code, value.method, value.decided_by) == (level, ConsensusMethod.REVIEW, "test-coordinator")
    assert {k: v for k, v in after.items() if k != (exam, MEAN_ITEM)} == \
        {k: v for k, v in before.items() if k != (exam, MEAN_ITEM)}  # nothing else changed
    events = [e for e in study.audit_log(500) if e.action == "override_consensus"]
    assert [(e.target, e.old, e.new) for e in events] == [
        (f"exam {exam} {MEAN_ITEM}", "2.5 (mean)", f"{level} (review, deliberate override)")]
    assert not review.override_armed
    assert table_texts(page.items_table, row)[3] == level  # decided in this review: the code alone
    assert review.to_decide()  # moved on to the next item to decide


def test_moving_disarms_the_override_and_an_undecided_item_refuses_it(
        qtbot, db: Database, study: CoordinatorSession, nxp2) -> None:
    """O on an item with no decision is refused (a digit decides it); O on a decided item
    then Down leaves the override off, so the next digit is an ordinary decision."""
    submit_both(db, study, nxp2)
    reconcile_reads(study, "nxp2_lower_limb", ["A", "B"])
    window, page = open_review(qtbot, study)
    review = page.review
    assert review.to_decide()
    press(qtbot, window, "O")
    assert not review.override_armed
    assert "no decision to override" in page.refusal.text()
    exam = study.exams()[0].id
    click_cell(qtbot, page.items_table, row_of(page, exam, MEAN_ITEM))
    press(qtbot, window, "O")
    assert review.override_armed
    press(qtbot, window, "Down")
    assert not review.override_armed
    assert "Override armed" not in page.agreed_label.text()


def test_stale_item_shows_its_old_value_and_a_digit_decides_it_again(
        qtbot, db: Database, study: CoordinatorSession, nxp2) -> None:
    """B's read is reopened and the mean-decided item re-scored: the review lists it as stale
    with the old value (table and card), and a plain digit decides it again."""
    submit_both(db, study, nxp2)
    reconcile_reads(study, "nxp2_lower_limb", ["A", "B"])
    exam = study.exams()[0].id
    b = sign_in(db, "B", "pass-phrase-B")
    assert isinstance(b, ReaderSession)
    read = next(r for r in study.reads() if (r.exam_id, r.reader_name, r.repeat) == (exam, "B", 0))
    study.reopen(read.id, "second look")
    b.rate(read.id, MEAN_ITEM, "5")
    b.submit(read.id)

    window, page = open_review(qtbot, study)
    review = page.review
    row = row_of(page, exam, MEAN_ITEM)
    assert review.items[row].status == "stale"
    assert table_texts(page.items_table, row)[1:] == ["2", "5", "stale (was 2.5)"]
    assert review.n_stale == 1
    assert "(1 stale)" in page.progress_label.text()
    assert "1 of them stale" in page.message.text()
    click_cell(qtbot, page.items_table, row)
    assert "Stale" in page.agreed_label.text()
    assert "was 2.5 (mean" in page.agreed_label.text()
    assert "A 2, B 3" in page.agreed_label.text()  # the codes it was decided on

    press(qtbot, window, "3")
    value = stored(study)[(exam, MEAN_ITEM)]
    assert (value.code, value.method, value.sources) == (nxp2.scale_of(MEAN_ITEM).levels[3].code,
                                                          ConsensusMethod.REVIEW, {"A": "2", "B": "5"})
    assert review.n_stale == 0
    assert table_texts(page.items_table, row)[3] == value.code
    assert not [e for e in study.audit_log(500) if e.action == "override_consensus"]  # not an override


def test_review_help_overlay_lists_the_override_key(qtbot, db: Database, study: CoordinatorSession, nxp2) -> None:
    """F1 on the joint review shows the help generated from REVIEW_KEYMAP, the override key in it;
    H closes it; the card's hint names O too."""
    submit_both(db, study, nxp2)
    window, page = open_review(qtbot, study)
    press(qtbot, window, "F1")
    assert page.help_overlay.isVisible()
    assert "Override a decided item" in page.help_overlay.label.text()
    press(qtbot, window, "H")
    assert not page.help_overlay.isVisible()
    from tests.gui.gui_helpers import all_texts

    assert any("<b>O</b> override" in text for text in all_texts(window))
