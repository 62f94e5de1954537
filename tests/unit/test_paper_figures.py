"""Seed 004's Fig. 1–5 from a known dataset: the numbers drawn, NE never drawn as zero."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from myoscore.export import CONSENSUS, write_figures, write_stir_t1_heatmaps
from myoscore.export.paper_figures import (
    write_group_scores,
    write_muscle_scores_by_group,
    write_progression,
    write_score_changes,
)
from tests.unit.export_data import check_files, imnm_dataset


def test_fig1_scores_by_group_at_the_first_exam(tmp_path: Path) -> None:
    """STIR%LB and T1-LB medians per group are the first exams' derived scores; P-02's first
    exam has every T1 NE, so LATE has no T1-LB point and says 1 not evaluated."""
    data = imnm_dataset()
    result = write_group_scores(data, tmp_path)
    check_files(result.paths, "imnm_whole_body_fig1_scores_by_group")
    stir = result.panels["stir_pct_lb by group"]
    assert stir.rows == ("EARLY-BT", "LATE", "EARLY-UT")
    first_p01 = data.derived_of(11, CONSENSUS)["stir_pct_lb"].value
    assert stir.values[0, 0] == first_p01
    t1 = result.panels["t1_lb by group"]
    assert np.isnan(t1.values[1, 0])
    assert list(t1.not_evaluable) == [0, 1, 0]
    assert "Fig. 1" in result.figure.get_suptitle()
    assert "consensus" in result.figure.get_suptitle()


def test_fig2_stir_percent_is_positives_over_evaluated(tmp_path: Path) -> None:
    """Per muscle: the stacked STIR bars add up to positives / evaluated × 100 (not a count
    of positives); lower and upper body are separate panels."""
    data = imnm_dataset()
    result = write_muscle_scores_by_group(data, tmp_path)
    check_files(result.paths, "imnm_whole_body_fig2_muscles_by_group")
    lower = result.panels["stir lower"]
    assert len(lower.columns) == 38
    assert len(result.panels["stir upper"].columns) == 18
    firsts = (11, 13, 16)
    key = "pelvis.iliopsoas.psoas"
    values = [data.ratings_of(e, CONSENSUS)[f"stir.{key}.{s}"].value for e in firsts for s in "RL"]
    evaluated = [v for v in values if v is not None]
    expected = sum(v >= 1 for v in evaluated) / len(evaluated) * 100
    assert lower.values[:, 0].sum() == pytest.approx(expected)
    assert (lower.values <= 100).all()
    # P-02's first T1 is all NE: the T1 sums leave it out and count its NE.
    t1_lower = result.panels["t1 lower"]
    assert t1_lower.values[1].sum() == 0
    assert t1_lower.not_evaluable.sum() >= 76


def test_fig3_changes_first_to_last_by_group(tmp_path: Path) -> None:
    """ΔSTIR%LB per subject with a follow-up = last − first; P-02's ΔT1-LB is n/a (first
    exam all NE), not zero."""
    data = imnm_dataset()
    result = write_score_changes(data, tmp_path)
    check_files(result.paths, "imnm_whole_body_fig3_changes")
    stir = result.panels["stir_pct_lb"]
    assert stir.rows == ("P-01", "P-02")
    first = data.derived_of(11, CONSENSUS)["stir_pct_lb"].value
    last = data.derived_of(12, CONSENSUS)["stir_pct_lb"].value
    assert first is not None
    assert last is not None
    assert stir.values[0, 0] == last - first
    t1 = result.panels["t1_lb"]
    assert np.isnan(t1.values[1, 0])
    assert bool(t1.not_evaluable[1])


def test_fig4_progression_counts_by_group(tmp_path: Path) -> None:
    """Each bar is a share with its counts; groups without a follow-up draw none."""
    data = imnm_dataset()
    result = write_progression(data, tmp_path)
    check_files(result.paths, "imnm_whole_body_fig4_progression")
    a = result.panels["A"]
    assert a.rows == ("EARLY-BT", "LATE")
    for g in range(2):
        progressed, positive = a.not_evaluable[g]
        if positive:
            assert a.values[g, 0] == progressed / positive * 100


def test_fig5_lower_and_upper_body_apart_on_a_page(tmp_path: Path) -> None:
    """The upper-body heatmaps are their own figure (36 columns); the page is A4 wide."""
    data = imnm_dataset()
    upper = write_stir_t1_heatmaps(data, tmp_path, body="upper")
    check_files(upper.paths, "imnm_whole_body_stir_t1_heatmaps_upper")
    assert upper.panels["STIR baseline"].values.shape == (2, 36)
    assert upper.figure.get_figwidth() <= 8.3


def test_write_figures_writes_all_five(tmp_path: Path) -> None:
    """`export --format figures` for a seed-004 study: Fig. 1–5 among the files."""
    names = {p.name for p in write_figures(imnm_dataset(), tmp_path)}
    for stem in ("fig1_scores_by_group", "fig2_muscles_by_group", "fig3_changes", "fig4_progression",
                 "stir_t1_heatmaps_lower", "stir_t1_heatmaps_upper"):
        assert f"imnm_whole_body_{stem}.png" in names
