"""The whole-body phantom: six stations of real DICOM, truth and label maps from the atlas."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pydicom
import pytest

from myoscore.domain import Sequence
from myoscore.imaging import index_paths, load_nifti
from myoscore.phantom import WB_MUSCLE_KEYS, WholeBodyInfo, write_whole_body_phantom
from myoscore.phantom.atlas_keys import shipped_atlas


@pytest.fixture(scope="module")
def wb(tmp_path_factory: pytest.TempPathFactory) -> WholeBodyInfo:
    return write_whole_body_phantom(tmp_path_factory.mktemp("wb"), slices=8)


def test_stations_cover_the_body_with_overlap(wb: WholeBodyInfo) -> None:
    """Leg, thigh, pelvis, lumbar, arm and shoulder stations, feet first; each overlaps
    the next by 20–50 mm and records its own table position."""
    stir = [s for s in wb.series if s.timepoint == "baseline" and s.sequence is Sequence.STIR]
    assert [s.station for s in stir] == ["leg", "thigh", "pelvis", "lumbar", "arm", "shoulder"]
    spec = json.loads(wb.ground_truth_path.read_text())["stations"]
    for lower, upper in itertools.pairwise(stir):
        overlap = spec[lower.station]["z_range"][1] - spec[upper.station]["z_range"][0]
        assert 20 <= overlap <= 50, (lower.station, upper.station, overlap)
    assert len({s.table_position for s in stir}) == 6


def test_dicom_is_real_and_one_frame_of_reference_per_exam(wb: WholeBodyInfo) -> None:
    """Indexing finds 24 series (6 stations × STIR/T1 × 2 timepoints), classified from
    their headers; all stations of a timepoint share one FrameOfReferenceUID."""
    result = index_paths(wb.out_dir / "dicom")
    assert len(result.series) == 24
    assert not result.skipped
    kinds = {r.series_uid: r.kind for r in result.series}
    for series in wb.series:
        assert kinds[series.series_uid] is series.sequence
    for timepoint in ("baseline", "followup"):
        frames = set()
        for series in (s for s in wb.series if s.timepoint == timepoint):
            ds = pydicom.dcmread(next(series.dicom_dir.glob("*.dcm")), stop_before_pixels=True)
            frames.add(ds.FrameOfReferenceUID)
            assert ds.TablePosition == series.table_position
            assert ds.BodyPartExamined
        assert len(frames) == 1


def test_every_atlas_muscle_is_drawn_on_both_sides(wb: WholeBodyInfo) -> None:
    """The label maps hold every muscle of the whole-body atlas, right and left, and the
    truth has a STIR and a Fischer grade for each."""
    atlas = shipped_atlas("whole_body_muscles")
    assert {m.key for m in atlas.muscles} == set(WB_MUSCLE_KEYS)
    present: set[int] = set()
    for path in wb.label_maps.values():
        present |= set(np.unique(load_nifti(path).voxels).tolist())
    for key in WB_MUSCLE_KEYS:
        for side in "RL":
            assert wb.label_table[f"{side}:{key}"] in present, (key, side)
    truth = wb.ground_truth["timepoints"]["baseline"]
    assert set(truth["stir"]["R"]) == set(WB_MUSCLE_KEYS) == set(truth["fat"]["L"])
    regions = {r for station in wb.regions.values() for r in station}
    assert regions == {r.key for r in atlas.regions}


def test_stir_positive_muscles_are_bright_on_stir(wb: WholeBodyInfo) -> None:
    """In the pelvis station, the STIR-positive gluteus medius (right) is brighter on STIR
    than the negative one (left): the truth is in the pixels, and the sides differ."""
    labels = load_nifti(wb.label_maps["pelvis"]).voxels
    stir = load_nifti(wb.get("baseline", "pelvis", Sequence.STIR).nifti_path or Path()).voxels
    key = "pelvis.gluteal.gluteus_medius"
    truth = wb.ground_truth["timepoints"]["baseline"]["stir"]
    assert (truth["R"][key], truth["L"][key]) == (1, 0)
    right = stir[labels == wb.label_table[f"R:{key}"]].mean()
    left = stir[labels == wb.label_table[f"L:{key}"]].mean()
    assert right > 1.3 * left


def test_follow_up_shows_less_stir_and_more_fat(wb: WholeBodyInfo) -> None:
    """After treatment fewer muscles are STIR-positive and none has less fat."""
    truth = wb.ground_truth["timepoints"]
    for side in "RL":
        assert sum(truth["followup"]["stir"][side].values()) < sum(truth["baseline"]["stir"][side].values())
        assert all(truth["followup"]["fat"][side][k] >= truth["baseline"]["fat"][side][k] for k in WB_MUSCLE_KEYS)
