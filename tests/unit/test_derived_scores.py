"""Derived scores on small hand-worked cases; the arithmetic is written out beside each."""

from __future__ import annotations

from datetime import date

import pytest

from myoscore.domain import MyoscoreError
from myoscore.schemes import DerivedFunction, DerivedScore, Protocol, UnitLevel
from myoscore.scores import (
    ExamValues,
    compute_score,
    compute_scores,
    exams_in_order,
    frequencies,
    longitudinal,
    pattern_counts,
    progression,
    progression_measures,
)


def score(protocol: Protocol, name: str) -> DerivedScore:
    return next(d for d in protocol.derived if d.name == name)


def lower_body(protocol: Protocol, measure: str) -> list[str]:
    return [it.key for it in protocol.items if it.measure == measure and it.unit.body == "lower"]


# -- one read -----------------------------------------------------------------------------
def test_thigh_sum_skips_not_evaluable(nxp2: Protocol) -> None:
    """Thigh, right: anterior 3 + medial 2 + posterior NE = 5, with 2 of 3 evaluated."""
    values = {"edema.thigh.anterior.R": 3.0, "edema.thigh.medial.R": 2.0, "edema.thigh.posterior.R": None}
    result = compute_score(nxp2, score(nxp2, "edema_thigh_R"), values)
    assert result.value == 5.0
    assert (result.n_items, result.n_evaluated, result.n_missing) == (3, 2, 1)
    # Range 0–15 (3 compartments × 0–5); over the 2 evaluated the most is 2 × 5 = 10.
    assert (result.minimum, result.maximum, result.maximum_evaluated) == (0.0, 15.0, 10.0)
    assert result.reason is None


def test_not_evaluable_and_unscored_are_counted_apart(nxp2: Protocol) -> None:
    """Of the items without a number, those given as not evaluable (None) are counted in
    n_not_evaluable; an item with no value at all is unscored (in n_missing only)."""
    values = {"edema.thigh.anterior.R": 3.0, "edema.thigh.medial.R": None}
    result = compute_score(nxp2, score(nxp2, "edema_thigh_R"), values)
    assert (result.n_evaluated, result.n_missing, result.n_not_evaluable) == (1, 2, 1)
    assert not result.complete


def test_total_keeps_fractional_consensus(nxp2: Protocol) -> None:
    """Total (0–60): 2.5 + 1.5 + 4 = 8.0; the other nine compartments unscored."""
    values = {"edema.thigh.anterior.R": 2.5, "edema.calf.lateral.L": 1.5, "edema.calf.posterior.R": 4.0}
    result = compute_score(nxp2, score(nxp2, "edema_total"), values)
    assert result.value == pytest.approx(8.0)
    assert (result.n_items, result.n_evaluated, result.n_missing, result.maximum) == (12, 3, 9, 60.0)


def test_stir_percent_lower_body_over_evaluated(imnm: Protocol) -> None:
    """STIR%LB: 38 atlas muscles × 2 sides = 76 items; 4 NE leave 72 evaluated; 36 positive →
    36 / 72 × 100 = 50.0 (not 36 / 76 × 100 = 47.4)."""
    keys = lower_body(imnm, "stir")
    assert len(keys) == 76
    values: dict[str, float | None] = {}
    for i, key in enumerate(keys):
        values[key] = None if i < 4 else (1.0 if i < 4 + 36 else 0.0)
    result = compute_score(imnm, score(imnm, "stir_pct_lb"), values)
    assert result.value == pytest.approx(50.0)
    assert (result.n_items, result.n_evaluated, result.n_missing) == (76, 72, 4)
    assert (result.minimum, result.maximum) == (0.0, 100.0)


def test_t1_lb_maximum_follows_the_atlas(imnm: Protocol) -> None:
    """T1-LB over the atlas's 76 lower-body items (38 muscles × 2), all Fischer 4:
    76 × 4 = 304, which is 100 % (the paper's 312 needs 39 muscles; never hard-wired)."""
    values = dict.fromkeys(lower_body(imnm, "t1"), 4.0)
    results = {r.name: r for r in compute_scores(imnm, values)}
    assert results["t1_lb"].value == 304.0
    assert results["t1_lb"].maximum == 304.0
    assert results["t1_lb_pct"].value == pytest.approx(100.0)


def test_t1_lb_percent_is_over_evaluated_muscles(imnm: Protocol) -> None:
    """76 items, 4 NE, 10 × grade 4 + 20 × grade 2 + 42 × grade 0:
    T1-LB = 40 + 40 = 80; T1-LB % = 80 / (4 × 72) × 100 = 27.78 (not 80 / 304 × 100 = 26.3)."""
    keys = lower_body(imnm, "t1")
    grades = [None] * 4 + [4.0] * 10 + [2.0] * 20 + [0.0] * 42
    values = dict(zip(keys, grades, strict=True))
    results = {r.name: r for r in compute_scores(imnm, values)}
    assert results["t1_lb"].value == 80.0
    assert results["t1_lb"].maximum_evaluated == 4 * 72
    assert results["t1_lb_pct"].value == pytest.approx(8000 / 288)
    assert results["t1_lb_pct"].n_evaluated == 72


def test_count_and_any_positive_use_the_threshold(nxp2: Protocol) -> None:
    """Thigh edema R/L = 3, 1, 2, NE, 0, 2 with threshold 2: positive 3, 2, 2 → count 3; any → 1."""
    keys = ("edema.thigh.anterior.R", "edema.thigh.anterior.L", "edema.thigh.medial.R",
            "edema.thigh.medial.L", "edema.thigh.posterior.R", "edema.thigh.posterior.L")
    values = dict(zip(keys, (3.0, 1.0, 2.0, None, 0.0, 2.0), strict=True))
    count = DerivedScore("n", "count", DerivedFunction.COUNT_POSITIVE, keys, threshold=2.0)
    anyone = DerivedScore("a", "any", DerivedFunction.ANY_POSITIVE, keys, threshold=2.0)
    none_above = DerivedScore("z", "any ≥ 4", DerivedFunction.ANY_POSITIVE, keys, threshold=4.0)
    assert compute_score(nxp2, count, values).value == 3.0
    assert compute_score(nxp2, count, values).maximum_evaluated == 5.0
    assert compute_score(nxp2, anyone, values).value == 1.0
    assert compute_score(nxp2, none_above, values).value == 0.0


def test_nothing_evaluated_gives_no_value(imnm: Protocol) -> None:
    """STIR missing for a whole exam: STIR%LB has no value (not 0), and says why."""
    values = dict.fromkeys(lower_body(imnm, "stir"))
    result = compute_score(imnm, score(imnm, "stir_pct_lb"), values)
    assert result.value is None
    assert result.n_evaluated == 0
    assert result.reason is not None
    assert "evaluated" in result.reason


# -- across subjects ----------------------------------------------------------------------------
def test_frequencies_per_region_and_compartment(nxp2: Protocol) -> None:
    """Subcutaneous edema: P1 thigh anterior R present; P2 thigh all absent; P3 thigh all
    NE. Thigh: 1 positive of 2 evaluated = 50 %; thigh anterior the same; P3 is not counted
    as evaluated. Fatty infiltration Fischer ≥ 1: P2 calf posterior L = 1 → calf 1 of 3."""
    thigh = [it.key for it in nxp2.items if it.measure == "subcutaneous_edema" and it.unit.region == "thigh"]
    fat = [it.key for it in nxp2.items if it.measure == "fat"]
    subjects: dict[str, dict[str, float | None]] = {
        "P1": {**dict.fromkeys(thigh, 0.0), "subcutaneous_edema.thigh.anterior.R": 1.0, **dict.fromkeys(fat, 0.0)},
        "P2": {**dict.fromkeys(thigh, 0.0), **dict.fromkeys(fat, 0.0), "fat.calf.posterior.L": 1.0},
        "P3": {**dict.fromkeys(thigh), **dict.fromkeys(fat, 0.0)},
    }
    rows = {(r.indicator, r.level, r.unit): r for r in frequencies(nxp2, subjects)}
    region = rows[("Subcutaneous edema", UnitLevel.REGION, "thigh")]
    assert (region.n_subjects, region.n_evaluated, region.n_positive, region.percent) == (3, 2, 1, 50.0)
    anterior = rows[("Subcutaneous edema", UnitLevel.COMPARTMENT, "thigh.anterior")]
    assert (anterior.n_evaluated, anterior.n_positive) == (2, 1)
    assert anterior.name == "Thigh, anterior compartment"
    assert rows[("Subcutaneous edema", UnitLevel.COMPARTMENT, "thigh.medial")].n_positive == 0
    calf_fat = rows[("Fatty infiltration", UnitLevel.REGION, "calf")]
    assert (calf_fat.n_evaluated, calf_fat.n_positive) == (3, 1)
    assert calf_fat.percent == pytest.approx(100 / 3)
    assert rows[("Fatty infiltration", UnitLevel.COMPARTMENT, "calf.posterior")].n_positive == 1
    assert not any(r.indicator == "Edema pattern" for r in rows.values())  # nominal: no numbers


def test_pattern_counts_per_region(nxp2: Protocol) -> None:
    """Thigh patterns of four subjects: patchy, patchy, diffuse, NE → patchy 2, diffuse 1,
    mixed 0, none 0, one not evaluable; the calf was scored for one subject only."""
    subjects = {
        "P1": {"edema_pattern.thigh": "patchy", "edema_pattern.calf": "mixed"},
        "P2": {"edema_pattern.thigh": "patchy"},
        "P3": {"edema_pattern.thigh": "diffuse"},
        "P4": {"edema_pattern.thigh": "NE"},
    }
    rows = {r.item_key: r for r in pattern_counts(nxp2, subjects)}
    assert rows["edema_pattern.thigh"].counts == {"none": 0, "patchy": 2, "diffuse": 1, "mixed": 0}
    assert rows["edema_pattern.thigh"].n_not_evaluable == 1
    assert rows["edema_pattern.calf"].counts["mixed"] == 1
    assert rows["edema_pattern.calf"].n_missing == 3


# -- longitudinal ------------------------------------------------------------------------------
def test_exam_order_by_date_else_id() -> None:
    """With every date known the order is by date (ids 3, 2, 1); a subject with a date
    missing is ordered by exam id."""
    exams = [
        ExamValues(1, "S", {}, date(2021, 6, 1)), ExamValues(2, "S", {}, date(2020, 7, 1)),
        ExamValues(3, "S", {}, date(2020, 1, 1)),
        ExamValues(5, "T", {}, date(2019, 1, 1)), ExamValues(4, "T", {}, None),
    ]
    ordered = exams_in_order(exams)
    assert [e.exam_id for e in ordered["S"]] == [3, 2, 1]
    assert [e.exam_id for e in ordered["T"]] == [4, 5]


def test_delta_between_first_and_last_of_three_exams(imnm: Protocol) -> None:
    """Subject S, three exams (ids 7, 8, 9; dates put 9 first and 8 last):
    first (9): STIR%LB 38 / 76 × 100 = 50.0, T1-LB 76 × 1 = 76;
    middle (7): ignored;
    last (8): STIR%LB 19 / 76 × 100 = 25.0, T1-LB 76 × 2 = 152.
    ΔSTIR%LB = 25 − 50 = −25 points, relative −25 / 50 × 100 = −50 %;
    ΔT1-LB = 152 − 76 = +76. Subject U has one exam: no Δ."""
    stir, t1 = lower_body(imnm, "stir"), lower_body(imnm, "t1")

    def values(positive: int, grade: float) -> dict[str, float | None]:
        return {**{k: float(i < positive) for i, k in enumerate(stir)}, **dict.fromkeys(t1, grade)}

    exams = [
        ExamValues(7, "S", values(60, 3.0), date(2020, 6, 1)),
        ExamValues(8, "S", values(19, 2.0), date(2021, 1, 1)),
        ExamValues(9, "S", values(38, 1.0), date(2020, 1, 1)),
        ExamValues(10, "U", values(5, 0.0), date(2020, 1, 1)),
    ]
    changes = {c.score: c for c in longitudinal(imnm, exams)}
    assert {c.subject for c in changes.values()} == {"S"}
    stir_change = changes["stir_pct_lb"]
    assert (stir_change.first_exam, stir_change.last_exam, stir_change.n_exams) == (9, 8, 3)
    assert stir_change.first == pytest.approx(50.0)
    assert stir_change.last == pytest.approx(25.0)
    assert stir_change.delta == pytest.approx(-25.0)
    assert stir_change.relative == pytest.approx(-50.0)
    assert stir_change.days == 366
    assert changes["t1_lb"].delta == 76.0
    assert changes["stir_pct_ub"].delta is None  # upper body not scored: no value, no Δ


def test_stir_positive_to_t1_progression_counts(imnm: Protocol) -> None:
    """Subject S, first and last exam, lower and upper body, every item evaluated except
    one T1 item NE at follow-up (its pair excluded):
      STIR+ at baseline: psoas R, iliacus R, gluteus maximus R            → 3
      T1 +1 or more:     psoas R (0→1), iliacus R (1→3), gluteus max L (0→1),
                         gluteus maximus R (2→2.5, +0.5: not progression) → 3
      STIR+ that progressed: psoas R, iliacus R                           → 2 / 3
      progressed not STIR+: gluteus maximus L                             → 1 / 3
    A second subject with one exam adds nothing."""
    assert progression_measures(imnm) == ("stir", "t1")
    base = {it.key: 0.0 for it in imnm.items}
    first = {**base, "stir.pelvis.iliopsoas.psoas.R": 1.0, "stir.pelvis.iliopsoas.iliacus.R": 1.0,
             "stir.pelvis.gluteal.gluteus_maximus.R": 1.0, "t1.pelvis.iliopsoas.iliacus.R": 1.0,
             "t1.pelvis.gluteal.gluteus_maximus.R": 2.0}
    last = {**base, "t1.pelvis.iliopsoas.psoas.R": 1.0, "t1.pelvis.iliopsoas.iliacus.R": 3.0,
            "t1.pelvis.gluteal.gluteus_maximus.L": 1.0, "t1.pelvis.gluteal.gluteus_maximus.R": 2.5,
            "t1.thigh.anterior.rectus_femoris.L": None}
    exams = [ExamValues(1, "S", first), ExamValues(2, "S", last), ExamValues(3, "U", first)]
    result = progression(imnm, exams, "stir", "t1")
    total = result.total
    assert result.n_subjects == 1
    assert (total.n_pairs, total.n_excluded) == (56 * 2 - 1, 1)  # 56 atlas muscles
    assert (total.stir_positive, total.stir_positive_progressed) == (3, 2)
    assert (total.progressed, total.progressed_not_stir_positive) == (3, 1)
    assert total.percent_stir_positive_progressed == pytest.approx(200 / 3)
    assert total.percent_progressed_not_stir_positive == pytest.approx(100 / 3)
    by_unit = {(c.unit, c.side): c for c in result.by_unit}
    assert by_unit[("pelvis.iliopsoas.psoas", "R")].stir_positive_progressed == 1
    assert by_unit[("pelvis.gluteal.gluteus_maximus", "L")].progressed_not_stir_positive == 1
    assert by_unit[("thigh.anterior.rectus_femoris", "L")].n_excluded == 1


def test_progression_refuses_unmatched_measures(nxp2: Protocol) -> None:
    """Measures that share no unit cannot be matched; the message names both."""
    assert progression_measures(nxp2) == ("edema", "fat")
    with pytest.raises(MyoscoreError, match="'edema_pattern'"):
        progression(nxp2, [], "edema_pattern", "fat")


# -- issue 10: coverage beside every score, scopes as data ------------------------------------
def test_incomplete_region_sum_is_marked_incomplete(nxp2: Protocol) -> None:
    """A calf with every compartment but one not evaluable: edema_calf 5 over 1 of 6 items,
    ``complete`` False; a fully evaluated thigh is complete; the scope is the calf."""
    values: dict[str, float | None] = {key: 1.0 for key in nxp2.item_keys if key.startswith("edema.thigh.")}
    values |= {key: None for key in nxp2.item_keys if key.startswith("edema.calf.")}
    values["edema.calf.anterior.R"] = 5.0
    results = {r.name: r for r in compute_scores(nxp2, values)}
    calf, thigh, total = results["edema_calf"], results["edema_thigh"], results["edema_total"]
    assert (calf.value, calf.n_evaluated, calf.n_items, calf.complete) == (5.0, 1, 6, False)
    assert (thigh.value, thigh.n_evaluated, thigh.complete) == (6.0, 6, True)
    assert (total.value, total.complete) == (11.0, False)
    assert calf.regions == ("calf",)
    assert total.regions == ("thigh", "calf")


def test_seed_004_progression_counts_lower_body_only(imnm: Protocol) -> None:
    """Issue 10: seed 004's progression covers the lower body. One subject with every muscle
    STIR-positive at baseline and T1 0 → 1: 38 lower-body muscles × 2 sides = 76 pairs, all
    progressed; the 18 upper-body muscles (36 pairs, also progressed) are not counted."""
    from myoscore.scores import protocol_progression

    first = {key: 1.0 for key in imnm.item_keys if key.startswith("stir.")}
    first |= {key: 0.0 for key in imnm.item_keys if key.startswith("t1.")}
    last = dict.fromkeys(imnm.item_keys, 1.0)
    exams = [ExamValues(1, "P01", first, date(2020, 1, 1)), ExamValues(2, "P01", last, date(2021, 1, 1))]
    result = protocol_progression(imnm, exams)
    assert result is not None
    assert result.regions == ("pelvis", "thigh", "leg", "lumbar")
    assert (result.total.n_pairs, result.total.stir_positive, result.total.stir_positive_progressed) == (76, 76, 76)
    assert all(imnm.item(f"stir.{c.unit}.{c.side}").unit.body == "lower" for c in result.by_unit)
    everything = progression(imnm, exams, "stir", "t1")  # no scope: every region, as before
    assert everything.total.n_pairs == 112
