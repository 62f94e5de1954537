"""Figures: valid PNG, SVG and PDF files, and the right cells drawn in the right places."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from myoscore.domain import MyoscoreError
from myoscore.export import (
    CONSENSUS,
    ExamInfo,
    ExportDataset,
    write_figures,
    write_heatmap,
    write_stir_t1_heatmaps,
    write_summed_bars,
)
from tests.unit.export_data import FRACTIONAL_KEY, NE_KEY, READER_A, ZERO_KEY, check_files, imnm_dataset, nxp2_dataset

if TYPE_CHECKING:
    from matplotlib.image import AxesImage


def shape_of(image: AxesImage) -> tuple[int, ...]:
    """The shape of the array an image draws (matplotlib allows an image without one)."""
    array = image.get_array()
    assert array is not None
    return array.shape


def hatched(ax) -> int:
    return sum(1 for patch in ax.patches if patch.get_hatch() == "///")


def test_heatmap_has_a_cell_per_subject_and_unit(tmp_path: Path) -> None:
    """Seed 000 Fig. 1: 3 subjects × 12 compartment-sides; 2.5, NE and 0 where they belong."""
    data = nxp2_dataset()
    result = write_heatmap(data, tmp_path, measure="edema")
    svg = check_files(result.paths, "nxp2_lower_limb_heatmap_edema")
    ax = result.figure.axes[0]
    assert shape_of(ax.images[0]) == (3, 12)
    panel = result.panels["heatmap"]
    assert panel.rows == ("S-101", "S-102", "S-103")
    assert panel.columns[:2] == ("Thigh, anterior compartment R", "Thigh, anterior compartment L")
    keys = [it.key for it in data.protocol.items if it.measure == "edema"]
    assert panel.values[0, keys.index(FRACTIONAL_KEY)] == 2.5
    assert panel.values[0, keys.index(ZERO_KEY)] == 0.0
    assert math.isnan(panel.values[0, keys.index(NE_KEY)])
    assert panel.not_evaluable[0, keys.index(NE_KEY)]
    # NE is drawn distinctly: one hatched patch per not evaluable cell, and a legend for it.
    assert hatched(ax) == int(panel.not_evaluable.sum()) >= 1
    assert "Not evaluable (NE)" in svg
    assert "S-102" in svg


def test_heatmap_of_every_exam_and_of_a_reader(tmp_path: Path) -> None:
    """``exam_order=None``: one row per exam, labelled with the timepoint; any source."""
    result = write_heatmap(nxp2_dataset(), tmp_path, measure="fat", source=READER_A, exam_order=None)
    panel = result.panels["heatmap"]
    assert panel.values.shape == (4, 12)
    assert panel.rows[:2] == ("S-101 · baseline", "S-101 · follow-up")
    assert shape_of(result.figure.axes[0].images[0]) == (4, 12)


def test_heatmap_refuses_a_nominal_measure_and_a_missing_source(tmp_path: Path) -> None:
    """The edema pattern has no numbers; a source without ratings is named."""
    data = nxp2_dataset()
    with pytest.raises(MyoscoreError, match="nominal"):
        write_heatmap(data, tmp_path, measure="edema_pattern")
    with pytest.raises(MyoscoreError, match="reader:C"):
        write_heatmap(data, tmp_path, source="reader:C")


def test_stir_t1_heatmaps_baseline_and_follow_up(tmp_path: Path) -> None:
    """Seed 004 Fig. 5: four stacked panels of subjects with a follow-up × 76 lower-body muscle-sides."""
    data = imnm_dataset()
    result = write_stir_t1_heatmaps(data, tmp_path)
    check_files(result.paths, "imnm_whole_body_stir_t1_heatmaps_lower")
    assert list(result.panels) == ["STIR baseline", "T1 baseline", "STIR follow-up", "T1 follow-up"]
    images = [ax.images[0] for ax in result.figure.axes if ax.images]
    assert [shape_of(im) for im in images] == [(2, 76)] * 4
    # Rows by months from onset at baseline; follow-up labels give the months in between.
    assert result.panels["STIR baseline"].rows == ("P-01 (2 mo)", "P-02 (60 mo)")
    assert result.panels["T1 follow-up"].rows == ("P-01 (+11 mo)", "P-02 (+24 mo)")
    # P-02's first exam had no T1: the whole row is hatched, not zero.
    t1_baseline = result.panels["T1 baseline"]
    assert t1_baseline.not_evaluable[1].all()
    assert np.isnan(t1_baseline.values[1]).all()
    # Follow-up is the subject's last exam (P-02: order 3, exam 15).
    stir_items = [it for it in data.protocol.items if it.measure == "stir" and it.unit.body == "lower"]
    last = data.ratings_of(15, CONSENSUS)
    expected = [np.nan if last[it.key].value is None else last[it.key].value for it in stir_items]
    np.testing.assert_array_equal(result.panels["STIR follow-up"].values[1], expected)


def test_stir_t1_heatmaps_need_a_follow_up(tmp_path: Path) -> None:
    """Without a second exam there is nothing to compare."""
    data = imnm_dataset()
    baseline_only = ExportDataset(data.protocol, tuple(e for e in data.exams if e.order == 1),
                                  tuple(r for r in data.ratings if r.exam_id in {11, 13, 16}))
    with pytest.raises(MyoscoreError, match="follow-up"):
        write_stir_t1_heatmaps(baseline_only, tmp_path)


def test_summed_bars_by_group(tmp_path: Path) -> None:
    """Seed 004 Fig. 2: per muscle, both sides summed over each group's baseline exams, stacked."""
    data = imnm_dataset()
    result = write_summed_bars(data, tmp_path)
    check_files(result.paths, "imnm_whole_body_summed_scores")
    stir = result.panels["stir"]
    assert stir.rows == ("EARLY-BT", "LATE", "EARLY-UT")  # the coordinator's order
    assert stir.values.shape == (3, 56)
    assert stir.columns[0] == "Psoas"
    # P-02 (LATE) at baseline (exam 13): psoas R + L.
    given = data.ratings_of(13, CONSENSUS)
    psoas = [given[f"stir.pelvis.iliopsoas.psoas.{side}"].value or 0.0 for side in "RL"]
    assert stir.values[1, 0] == sum(psoas)
    # T1 of P-02's baseline is all NE: nothing added, 112 NE counted (56 muscles × 2).
    t1 = result.panels["t1"]
    assert t1.values[1].sum() == 0
    assert t1.not_evaluable[1].sum() == 112
    bars = result.figure.axes[0].patches
    assert len(bars) == 3 * 56


def test_summed_bars_without_groups(tmp_path: Path) -> None:
    """One stack per unit when the study has no groups."""
    data = nxp2_dataset()
    plain = ExportDataset(data.protocol, data.exams, data.ratings, data.derived)
    result = write_summed_bars(plain, tmp_path, measures=["edema"])
    assert result.panels["edema"].rows == ("all subjects",)
    assert result.panels["edema"].values.shape == (1, 6)


def test_write_figures_writes_every_figure(tmp_path: Path) -> None:
    """Seed 000: four heatmaps, the bar chart and STIR/T1 (edema/fat), each in three formats."""
    paths = write_figures(nxp2_dataset(), tmp_path / "figures")
    assert len(paths) == 6 * 3
    assert all(p.exists() and p.stat().st_size > 0 for p in paths)
    assert {p.suffix for p in paths} == {".png", ".svg", ".pdf"}


def test_figures_are_reproducible(tmp_path: Path) -> None:
    """The same dataset gives the same SVG bytes; no creation date in SVG or PDF."""
    data = nxp2_dataset()
    first = write_heatmap(data, tmp_path / "a", measure="edema").paths
    second = write_heatmap(data, tmp_path / "b", measure="edema").paths
    assert first[1].read_bytes() == second[1].read_bytes()
    assert b"CreationDate" not in first[2].read_bytes()
    assert b"<dc:date>" not in first[1].read_bytes()


def test_figures_need_ratings(tmp_path: Path) -> None:
    """A dataset with exams but no ratings says there is nothing to draw."""
    empty = ExportDataset(nxp2_dataset().protocol, (ExamInfo(1, "S-1", "baseline"),))
    with pytest.raises(MyoscoreError, match="no ratings"):
        write_heatmap(empty, tmp_path)
    with pytest.raises(MyoscoreError, match="no ratings"):
        write_figures(empty, tmp_path)
