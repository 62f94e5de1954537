"""Consensus review: joint review by keyboard with the images, the mean and adjudicator policies."""

from __future__ import annotations

import pytest

from myoscore.app import CoordinatorSession, Database
from myoscore.app.analysis import consensus_list
from myoscore.domain import Consensus, ConsensusMethod, Role
from tests.gui.gui_helpers import (
    FIXED_CODES,
    click,
    click_tab,
    open_desk,
    press,
    submit_both,
    submit_reads,
    table_texts,
)

pytestmark = pytest.mark.gui


def ratings_of(study: CoordinatorSession) -> dict[int, dict[str, str]]:
    """Every read's codes (an audited reveal, as any coordinator look at values)."""
    return {read.id: {key: r.code for key, r in study.read_ratings(read.id).items()} for read in study.reads()}


def stored(study: CoordinatorSession) -> dict[tuple[int, str], Consensus]:
    return {(c.exam_id, c.item_key): c for c in consensus_list(study, "nxp2_lower_limb")}


def test_joint_review_by_keyboard(qtbot, db: Database, imaged_study: CoordinatorSession, nxp2) -> None:
    """Start joint review: both readers' values side by side, the exam's images at the unit;
    a digit stores the level at that position, N stores not evaluable, arrows and Enter move;
    consensus_list holds exactly what was typed; the readers' ratings are unchanged."""
    study = imaged_study
    submit_both(db, study, nxp2)
    before = ratings_of(study)
    window = open_desk(qtbot, study)
    click_tab(qtbot, window.tabs, "Consensus")
    page = window.consensus_page
    assert (page.first_combo.currentText(), page.second_combo.currentText()) == ("A", "B")
    with qtbot.waitSignal(page.images_shown, timeout=20_000):
        click(qtbot, page.review_button)
    review = page.review
    assert review is not None
    assert review.total == page.items_table.rowCount() > 4
    audit = [e for e in study.audit_log(1000) if e.action == "reveal_ratings"]
    assert any("consensus nxp2_lower_limb review" in (e.new or "") for e in audit)  # opening it is audited

    # The first discordant item: edema of the right anterior thigh, A 2 and B 3.
    first = review.item
    assert (first.item_key, first.codes) == ("edema.thigh.anterior.R", {"A": "2", "B": "3"})
    assert table_texts(page.items_table, 0)[:3] == [f"{first.subject} · {first.exam_label}\n{first.title}", "2", "3"]
    a_box, b_box = (box.text() for box in page.value_boxes)
    assert "A" in a_box
    assert ">2<" in a_box
    assert "Mild, intrafascicular" in a_box
    assert "B" in b_box
    assert ">3<" in b_box
    # Images: the thigh station, the anterior compartment outlined on its largest slice.
    assert page.viewer.views
    assert "Thigh" in page.station_label.text()
    assert "largest slice" in page.station_label.text()
    assert any(view.outline_item.isVisible() for view in page.viewer.views)

    levels = review.scale.levels
    press(qtbot, window, "4")  # position 4: a value neither reader gave
    assert review.index == 1
    second = review.item
    press(qtbot, window, "N")
    third = review.item
    press(qtbot, window, "Up")
    assert review.item == second
    press(qtbot, window, "Return", "Down")
    assert review.item == review.items[3]
    press(qtbot, window, "Up")
    assert review.item == third
    press(qtbot, window, "1")
    expected_third = nxp2.scale_of(third.item_key).levels[1].code

    values = stored(study)
    decided = {(first.exam_id, first.item_key): levels[4].code, (second.exam_id, second.item_key): "NE",
               (third.exam_id, third.item_key): expected_third}
    for key, code in decided.items():
        assert values[key].code == code
        assert values[key].method is ConsensusMethod.REVIEW
        assert values[key].decided_by == "test-coordinator"
    assert values[(first.exam_id, first.item_key)].sources == {"A": "2", "B": "3"}
    assert table_texts(page.items_table, 0)[3] == levels[4].code
    assert "3 decided" in page.progress_label.text()
    # Concordant items were taken by the review policy; readers' own ratings are untouched.
    assert values[(first.exam_id, "fat.calf.lateral.R")].code == FIXED_CODES["fat.calf.lateral.R"][0]
    assert ratings_of(study) == before


def test_review_finishes_with_a_summary(qtbot, db: Database, study: CoordinatorSession, nxp2) -> None:
    """Deciding every item (digits, a click on a level) ends with a summary; exams without
    images say so instead of failing."""
    submit_both(db, study, nxp2)
    window = open_desk(qtbot, study)
    click_tab(qtbot, window.tabs, "Consensus")
    page = window.consensus_page
    click(qtbot, page.review_button)
    page.wait_for_images()
    review = page.review
    assert "No image series" in page.viewer.message.text()
    click(qtbot, page.level_rows["NE"])
    assert review.n_decided == 1
    assert len(review.scale.levels) < 10
    press(qtbot, window, "9")  # past the last level: refused with the keys that exist, nothing stored
    assert review.n_decided == 1
    assert page.message.kind == "error"
    assert "use keys 0–" in page.message.text()
    while not review.finished:
        if review.decision() is not None:
            press(qtbot, window, "U")  # the next item without a decision
        press(qtbot, window, "0")
    assert "All" in page.message.text()
    assert "discordant items are decided" in page.message.text()
    click(qtbot, page.finish_button)
    assert page.review is None
    assert page.stack.currentWidget() is page.overview
    assert f"{review.total} of {review.total} discordant items decided" in page.summary_label.text()
    methods = {page.consensus_table.item(r, 0).text() for r in range(page.consensus_table.rowCount())}
    assert methods == {"review"}


def test_mean_policy_in_one_action(qtbot, db: Database, study: CoordinatorSession, nxp2) -> None:
    """Apply mean policy: 2 and 3 become 2.5; NE against 1 and nominal differences wait for review."""
    submit_both(db, study, nxp2)
    before = ratings_of(study)
    window = open_desk(qtbot, study)
    click_tab(qtbot, window.tabs, "Consensus")
    page = window.consensus_page
    click(qtbot, page.mean_button)
    exam = study.exams()[0].id
    values = stored(study)
    mean = values[(exam, "edema.thigh.anterior.R")]
    assert (mean.code, mean.value, mean.method) == (None, 2.5, ConsensusMethod.MEAN)
    assert (exam, "edema.thigh.medial.R") not in values
    assert (exam, "edema_pattern.thigh") not in values
    assert "Mean of the two readers: consensus stored" in page.message.text()
    assert "wait for joint review" in page.message.text()
    assert "not evaluable against a value" in page.message.text()
    counts = {page.consensus_table.item(r, 0).text(): int(page.consensus_table.item(r, 1).text())
              for r in range(page.consensus_table.rowCount())}
    # Concordant present/absent and nominal items are taken, but "mean" does not apply to
    # their scales (issue 10): they record "review"; only ordinal items record "mean".
    assert set(counts) == {"mean", "review"}
    assert sum(counts.values()) == len(values)
    assert ratings_of(study) == before


def test_adjudicator_policy(qtbot, db: Database, study: CoordinatorSession, nxp2) -> None:
    """A third reader's submitted read decides every discordant item."""
    drawn = submit_both(db, study, nxp2)
    study.add_reader("C", Role.ADJUDICATOR, "pass-phrase-C")
    from myoscore.app.study import assign

    assign(study, "nxp2_lower_limb", ["C"], [e.id for e in study.exams()], seed=1)
    submit_reads(db, "C", {exam: {**pair[0], "edema.thigh.anterior.R": "5"} for exam, pair in drawn.items()})
    window = open_desk(qtbot, study)
    click_tab(qtbot, window.tabs, "Consensus")
    page = window.consensus_page
    assert page.adjudicator_combo.currentText() == "C"
    click(qtbot, page.adjudicator_button)
    value = stored(study)[(study.exams()[0].id, "edema.thigh.anterior.R")]
    assert (value.code, value.method) == ("5", ConsensusMethod.ADJUDICATOR)
    assert "Adjudicator C: consensus stored" in page.message.text()


def test_docs_list_the_review_keys() -> None:
    """docs/gui.md carries the review keymap's table as generated from the keymap."""
    from pathlib import Path

    from myoscore.app.keymap import REVIEW_KEYMAP, help_table_markdown

    text = (Path(__file__).resolve().parents[2] / "docs" / "gui.md").read_text(encoding="utf-8")
    start, end = "<!-- review-keys:start -->\n", "\n<!-- review-keys:end -->"
    assert text[text.index(start) + len(start):text.index(end)] == help_table_markdown(REVIEW_KEYMAP)


@pytest.mark.parametrize("auto_repeat", [False, True], ids=["no-flag", "flag"])
def test_holding_a_digit_in_joint_review_records_one_decision(qtbot, db: Database, study: CoordinatorSession,
                                                              nxp2, auto_repeat: bool) -> None:
    """A burst of "2" presses without releases (with or without Qt's flag) records one decision,
    and the card says the repeats were refused."""
    from tests.gui.gui_helpers import hold

    submit_both(db, study, nxp2)
    window = open_desk(qtbot, study)
    click_tab(qtbot, window.tabs, "Consensus")
    page = window.consensus_page
    click(qtbot, page.review_button)
    page.wait_for_images()
    review = page.review
    before = {key: c.code for key, c in stored(study).items()}
    hold(window, "2", 25, auto_repeat=auto_repeat)
    assert review.n_decided == 1
    assert review.decision(0).code == "2"
    after = {key: c.code for key, c in stored(study).items()}
    assert {k for k in after if after[k] != before.get(k)} == {(review.items[0].exam_id, review.items[0].item_key)}
    assert page.refusal.isVisible()
    assert "held down" in page.refusal.text()
