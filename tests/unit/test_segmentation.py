"""Label maps as DICOM SEG and back, without a server (myoscore.imaging.segmentation)."""

from __future__ import annotations

import io
from pathlib import Path

import highdicom as hd
import numpy as np
import pytest

from myoscore.app.exam_images import parse_label_table
from myoscore.domain import ImagingError, Sequence
from myoscore.imaging import Volume, load_series, resample_like
from myoscore.imaging.dicom_references import pseudonymised
from myoscore.imaging.segmentation import (
    LabelEntry,
    build_segmentation,
    derived_uid,
    label_entries,
    read_segmentation,
    segment_codes,
)
from myoscore.phantom import PhantomInfo, write_phantom


@pytest.fixture(scope="module")
def phantom(tmp_path_factory: pytest.TempPathFactory) -> PhantomInfo:
    return write_phantom(tmp_path_factory.mktemp("seg-phantom"), shape=(3, 40, 40), seed=5, regions=("thigh",),
                         timepoints=("baseline",), nifti=False)


def _stir(phantom: PhantomInfo) -> tuple[list[bytes], Volume]:
    series = next(s for s in phantom.series if s.sequence is Sequence.STIR)
    files = sorted(str(p) for p in Path(series.dicom_dir).glob("*.dcm"))
    return [pseudonymised(f, "SUBJ-7") for f in files], load_series(files)


def _build(labels: Volume, sources: list[bytes], entries: list[LabelEntry]) -> bytes:
    return build_segmentation(labels, sources, entries, unit_names={"thigh.anterior.sartorius": "Sartorius"},
                              series_uid=derived_uid("t", "series"), sop_uid=derived_uid("t", "sop"),
                              what="label map series 9")


def test_round_trip_on_the_source_grid_keeps_voxels_names_and_units(phantom: PhantomInfo) -> None:
    """Same grid: the label volume comes back voxel for voxel, with the table's names (one
    that differs from its key too), the background's entry and no name for an unnamed value."""
    sources, stir = _stir(phantom)
    voxels = np.zeros(stir.shape, dtype=np.int16)
    voxels[:, 5:15, 5:15] = 100
    voxels[1:, 20:30, 20:30] = 201
    voxels[0, 30:35, 0:5] = 1
    voxels[2, 0:3, 0:3] = 77  # in the voxels, not in the table
    table = [{"value": 0, "key": "background"}, {"value": 1, "key": "skin"},
             {"value": 100, "key": "thigh.anterior.sartorius", "side": "R", "name": "Sartorius (right)"},
             {"value": 201, "key": "thigh.anterior.rectus_femoris", "side": "L"},
             {"value": 300, "key": "thigh.medial.gracilis", "side": "L"}]  # in the table, not in the voxels
    names, units = parse_label_table(table)
    labels = Volume(voxels, stir.affine)
    data = _build(labels, sources, label_entries(names, units))

    back, entries = read_segmentation(data, stir, "label map series 9")
    assert np.array_equal(back.voxels, voxels)
    assert np.allclose(back.affine, stir.affine)
    back_names, back_units = parse_label_table([e.table_entry() for e in entries])
    assert back_names == names
    assert back_units == units
    seg = hd.seg.segread(io.BytesIO(data))
    assert [str(s.SegmentLabel) for s in seg.SegmentSequence] == [
        "skin", "label 77", "R:thigh.anterior.sartorius", "L:thigh.anterior.rectus_femoris", "L:thigh.medial.gracilis"]
    assert str(seg.SegmentSequence[2].SegmentDescription) == "myoscore label 100: Sartorius (right)"
    assert seg.SegmentSequence[2].SegmentedPropertyTypeCodeSequence[0].CodeMeaning == "Sartorius"
    assert seg.PatientID == "SUBJ-7"


def test_a_label_map_on_another_grid_is_resampled_onto_the_source(phantom: PhantomInfo) -> None:
    """A coarser label map is resampled (nearest) onto the STIR's grid first; reading gives that."""
    sources, stir = _stir(phantom)
    coarse_affine = stir.affine.copy()
    coarse_affine[:3, :2] *= 2.0
    coarse = np.zeros((stir.shape[0], 20, 20), dtype=np.int16)
    coarse[:, 4:12, 4:12] = 100
    labels = Volume(coarse, coarse_affine)
    entries = [LabelEntry(100, "thigh.anterior.sartorius", "R", "thigh.anterior.sartorius")]
    back, _entries = read_segmentation(_build(labels, sources, entries), stir, "x")
    expected = resample_like(labels, Volume(np.zeros(stir.shape, np.int16), stir.affine), "nearest").voxels
    assert np.array_equal(back.voxels, expected)
    assert back.voxels.any()


def test_codes_reuse_the_sr_table_tissues_and_the_private_scheme() -> None:
    """Muscles with a checked SNOMED CT code get it (the SR's), tissues theirs, the rest 99MYOSCORE."""
    gluteus = segment_codes(LabelEntry(110, "pelvis.gluteal.gluteus_maximus", "R"), {})
    assert gluteus == (("SCT", "91723000", "Anatomical Structure"), ("SCT", "206007", "Gluteus maximus muscle"))
    assert segment_codes(LabelEntry(5, "bone.femur"), {})[1] == ("SCT", "71341001", "Femur")
    private = segment_codes(LabelEntry(101, "thigh.anterior.rectus_femoris", "R"),
                            {"thigh.anterior.rectus_femoris": "Rectus femoris"})
    assert private[1] == ("99MYOSCORE", "thigh.anterior.rectus_femoris", "Rectus femoris")


def test_bad_label_maps_are_refused_with_a_sentence(phantom: PhantomInfo) -> None:
    """Fractional voxels, nothing on the source grid, or a file that is no SEG: one sentence naming it."""
    sources, stir = _stir(phantom)
    fractional = Volume(np.full(stir.shape, 0.5, dtype=np.float32), stir.affine)
    with pytest.raises(ImagingError, match=r"^label map series 9: its voxels are not whole numbers"):
        _build(fractional, sources, [])
    empty = Volume(np.zeros(stir.shape, dtype=np.int16), stir.affine)
    with pytest.raises(ImagingError, match=r"^label map series 9: no labelled voxel lies on the grid"):
        _build(empty, sources, [])
    with pytest.raises(ImagingError, match=r"^label map series 3: not a DICOM Segmentation"):
        read_segmentation(sources[0], stir, "label map series 3")
