"""Seed 004's cross-subject tables on a small hand-built study; every expected value is
worked out by hand below (issue 10).

Five muscles of the whole-body protocol are scored (the others are left unscored, so they
are neither positive nor evaluated): gluteus medius (pelvis), adductor magnus and rectus
femoris (thigh), gastrocnemius medialis (leg), trapezius (shoulder girdle). P1 and P2 have
a first and a last exam, P3 one exam.

    first exams, STIR R/L          P1      P2      P3
    gluteus medius                 1 1     0 0     1 0
    adductor magnus                1 0     1 1     0 0
    rectus femoris                 0 0     0 0     1 1
    gastrocnemius medialis         0 NE    1 0     0 0
    trapezius                      1 1     0 NE    1 0

    T1 R/L, first → last           P1                    P2
    gluteus medius                 1 0 → 2 0             0 0 → 0 0
    adductor magnus                2 2 → 3 2             1 1 → 1 3
    gastrocnemius medialis         0 0 → 1 0             3 3 → 3 NE
    trapezius                      0 0 → 2 0             1 1 → 1 1
    (P3: T1 0 everywhere; rectus femoris T1 unscored)

    last exams, STIR: all 0 except P2's adductor magnus R = 1.
"""

from __future__ import annotations

import pytest

from myoscore.export import CONSENSUS, ExamInfo, ExportDataset, derived_for, rating_rows
from myoscore.export.summaries import summary_tables
from myoscore.schemes import Protocol
from myoscore.scores import ExamValues, longitudinal, protocol_progression, unit_summaries

GM, AM, RF = "pelvis.gluteal.gluteus_medius", "thigh.medial.adductor_magnus", "thigh.anterior.rectus_femoris"
GC, TR = "leg.superficial_posterior.gastrocnemius_medialis", "shoulder.scapular.trapezius"


def codes(stir: dict[str, tuple[str, str]], t1: dict[str, tuple[str, str]]) -> dict[str, str]:
    out = {}
    for measure, table in (("stir", stir), ("t1", t1)):
        for muscle, (right, left) in table.items():
            out[f"{measure}.{muscle}.R"], out[f"{measure}.{muscle}.L"] = right, left
    return out


ZERO = ("0", "0")
EXAMS = {
    # exam id: (subject, order, codes)
    1: ("P1", 1, codes({GM: ("1", "1"), AM: ("1", "0"), RF: ZERO, GC: ("0", "NE"), TR: ("1", "1")},
                       {GM: ("1", "0"), AM: ("2", "2"), GC: ZERO, TR: ZERO})),
    2: ("P1", 2, codes({GM: ZERO, AM: ZERO, RF: ZERO, GC: ZERO, TR: ZERO},
                       {GM: ("2", "0"), AM: ("3", "2"), GC: ("1", "0"), TR: ("2", "0")})),
    3: ("P2", 1, codes({GM: ZERO, AM: ("1", "1"), RF: ZERO, GC: ("1", "0"), TR: ("0", "NE")},
                       {GM: ZERO, AM: ("1", "1"), GC: ("3", "3"), TR: ("1", "1")})),
    4: ("P2", 2, codes({GM: ZERO, AM: ("1", "0"), RF: ZERO, GC: ZERO, TR: ZERO},
                       {GM: ZERO, AM: ("1", "3"), GC: ("3", "NE"), TR: ("1", "1")})),
    5: ("P3", 1, codes({GM: ("1", "0"), AM: ZERO, RF: ("1", "1"), GC: ZERO, TR: ("1", "0")},
                       {GM: ZERO, AM: ZERO, GC: ZERO, TR: ZERO})),
}


def values(protocol: Protocol, given: dict[str, str]) -> dict[str, float | None]:
    return {key: protocol.scale_of(key).value_of(code) for key, code in given.items()}


def exams(protocol: Protocol) -> list[ExamValues]:
    return [ExamValues(exam_id, subject, values(protocol, given), order=order)
            for exam_id, (subject, order, given) in EXAMS.items()]


def first_exams(protocol: Protocol) -> dict[str, dict[str, float | None]]:
    return {subject: values(protocol, given) for subject, order, given in EXAMS.values() if order == 1}


def test_per_muscle_stir_percent_pooled_and_per_side(imnm: Protocol) -> None:
    """Adductor magnus: positive in P1 R, P2 R, P2 L of 6 → 50 %; R 2/3, L 1/3.
    Gastrocnemius medialis: P1 L not evaluable, so 1 of 5 → 20 %; L 0/2.
    Trapezius (upper body): 3 of 5 → 60 %."""
    rows = {(u.unit, u.side): u for u in unit_summaries(imnm, first_exams(imnm), measures=["stir"])
            if u.level.value == "muscle"}
    am = rows[(AM, "pooled")]
    assert (am.n_subjects, am.n_items, am.n_evaluated, am.n_positive) == (3, 6, 6, 3)
    assert am.percent_positive == pytest.approx(50.0)
    assert am.complete
    assert rows[(AM, "R")].percent_positive == pytest.approx(200 / 3)
    assert rows[(AM, "L")].percent_positive == pytest.approx(100 / 3)
    gc = rows[(GC, "pooled")]
    assert (gc.n_evaluated, gc.n_positive, gc.complete) == (5, 1, False)
    assert gc.percent_positive == pytest.approx(20.0)
    assert (rows[(GC, "L")].n_evaluated, rows[(GC, "L")].percent_positive) == (2, 0.0)
    assert rows[(TR, "pooled")].percent_positive == pytest.approx(60.0)
    assert rows[(GM, "pooled")].percent_positive == pytest.approx(50.0)
    unscored = rows[("thigh.anterior.sartorius", "pooled")]
    assert (unscored.n_evaluated, unscored.percent_positive) == (0, None)


def test_regional_stir_percent(imnm: Protocol) -> None:
    """Pelvis 3/6 = 50 %; thigh (adductor magnus 3/6 + rectus femoris 2/6) = 5/12 = 41.7 %;
    leg 1/5 = 20 %; shoulder girdle 3/5 = 60 %; thigh right: (2 + 1) / 6 = 50 %."""
    rows = {(u.unit, u.side): u for u in unit_summaries(imnm, first_exams(imnm), measures=["stir"])
            if u.level.value == "region"}
    assert rows[("pelvis", "pooled")].percent_positive == pytest.approx(50.0)
    thigh = rows[("thigh", "pooled")]
    assert (thigh.n_evaluated, thigh.n_positive) == (12, 5)
    assert thigh.percent_positive == pytest.approx(500 / 12)
    assert rows[("leg", "pooled")].percent_positive == pytest.approx(20.0)
    assert rows[("shoulder", "pooled")].percent_positive == pytest.approx(60.0)
    assert rows[("thigh", "R")].percent_positive == pytest.approx(50.0)


def test_per_muscle_t1_sums(imnm: Protocol) -> None:
    """T1 summed over both sides of every subject's first exam: adductor magnus 2+2+1+1+0+0 = 6;
    gastrocnemius medialis 0+0+3+3+0+0 = 6; gluteus medius 1; rectus femoris nothing evaluated."""
    rows = {u.unit: u for u in unit_summaries(imnm, first_exams(imnm), measures=["t1"])
            if u.level.value == "muscle" and u.side == "pooled"}
    assert (rows[AM].total, rows[GC].total, rows[GM].total) == (6.0, 6.0, 1.0)
    assert rows[AM].mean == pytest.approx(1.0)
    assert (rows[RF].n_evaluated, rows[RF].total) == (0, 0.0)


def test_delta_first_to_last(imnm: Protocol) -> None:
    """P1 STIR%LB 3/7 = 42.857 → 0/8 = 0: Δ −42.857 points, −100 %; T1-LB 5 → 8: Δ +3, +60 %.
    P2 STIR%LB 3/8 = 37.5 → 1/8 = 12.5: Δ −25, −66.7 %; T1-LB 8 → 7: Δ −1, −12.5 %.
    P3 has one exam: no Δ."""
    changes = {(c.subject, c.score): c for c in longitudinal(imnm, exams(imnm))}
    assert {subject for subject, _ in changes} == {"P1", "P2"}
    p1 = changes[("P1", "stir_pct_lb")]
    assert p1.first == pytest.approx(300 / 7)
    assert p1.last == 0.0
    assert p1.delta == pytest.approx(-300 / 7)
    assert p1.relative == pytest.approx(-100.0)
    t1 = changes[("P1", "t1_lb")]
    assert (t1.first, t1.last, t1.delta) == (5.0, 8.0, 3.0)
    assert t1.relative == pytest.approx(60.0)
    p2 = changes[("P2", "stir_pct_lb")]
    assert (p2.first, p2.last, p2.delta) == (37.5, 12.5, -25.0)
    assert p2.relative == pytest.approx(-200 / 3)
    t1 = changes[("P2", "t1_lb")]
    assert (t1.first, t1.last, t1.delta) == (8.0, 7.0, -1.0)
    assert t1.relative == pytest.approx(-12.5)
    ub = changes[("P1", "stir_pct_ub")]
    assert (ub.first, ub.last) == (100.0, 0.0)


def test_progression_lower_body(imnm: Protocol) -> None:
    """Lower body only (P1's trapezius R, STIR-positive and T1 0 → 2, is not counted).
    Pairs with STIR at the first exam and T1 at both: P1 glut R/L, add R/L, gastroc R; P2
    the same five = 10. STIR-positive: P1 glut R, glut L, add R; P2 add R, add L, gastroc R
    = 6, of which progressed: P1 glut R, add R; P2 add L = 3 (50 %). Progressed: those 3 and
    P1 gastroc R = 4, of which not STIR-positive: 1 (25 %)."""
    result = protocol_progression(imnm, exams(imnm))
    assert result is not None
    assert result.n_subjects == 2
    t = result.total
    assert (t.n_pairs, t.stir_positive, t.stir_positive_progressed) == (10, 6, 3)
    assert (t.progressed, t.progressed_not_stir_positive) == (4, 1)
    assert t.n_excluded == 2 * (38 * 2) - 10  # 38 lower-body muscles in the shipped atlas
    assert t.percent_stir_positive_progressed == pytest.approx(50.0)
    assert t.percent_progressed_not_stir_positive == pytest.approx(25.0)
    by_unit = {(c.unit, c.side): c for c in result.by_unit}
    assert (by_unit[(AM, "L")].stir_positive, by_unit[(AM, "L")].stir_positive_progressed) == (1, 1)
    assert (by_unit[(GC, "R")].progressed, by_unit[(GC, "R")].progressed_not_stir_positive) == (1, 1)
    assert (TR, "R") not in by_unit


def test_the_same_tables_reach_the_export(imnm: Protocol) -> None:
    """The export's tables (tidy CSV files, XLSX sheets) hold the numbers above."""
    infos = tuple(ExamInfo(exam_id, subject, "baseline" if order == 1 else "follow-up", order)
                  for exam_id, (subject, order, _) in EXAMS.items())
    ratings = tuple(row for exam_id, (_, _, given) in EXAMS.items()
                    for row in rating_rows(imnm, exam_id, CONSENSUS, given))
    tables = summary_tables(ExportDataset(imnm, infos, ratings, derived_for(imnm, ratings)))
    header, rows = tables["units"]
    units = [dict(zip(header, row, strict=True)) for row in rows]
    am = next(u for u in units if u["measure"] == "stir" and u["unit"] == AM and u["side"] == "pooled")
    assert am["percent_positive"] == pytest.approx(50.0)
    thigh = next(u for u in units if u["measure"] == "stir" and u["unit_level"] == "region" and u["unit"] == "thigh"
                 and u["side"] == "pooled")
    assert thigh["percent_positive"] == pytest.approx(500 / 12)
    header, rows = tables["progression"]
    total = next(dict(zip(header, row, strict=True)) for row in rows if row[header.index("unit")] == "all")
    assert (total["stir_positive"], total["stir_positive_progressed"], total["progressed"]) == (6, 3, 4)
    assert total["regions"] == "pelvis, thigh, leg, lumbar"
    header, rows = tables["changes"]
    change = next(dict(zip(header, row, strict=True)) for row in rows
                  if row[header.index("subject")] == "P1" and row[header.index("score")] == "t1_lb")
    assert (change["first"], change["last"], change["delta"], change["delta_percent"]) == (5.0, 8.0, 3.0,
                                                                                           pytest.approx(60.0))
    assert (change["first_complete"], change["last_complete"]) == (0, 0)
