"""Indexing real files: grouping, splitting, sorting, identifying fields, NIfTI records."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, MRImageStorage, generate_uid

from myoscore.domain import ImagingError, Sequence
from myoscore.imaging import index_paths, load_series
from myoscore.phantom import PhantomInfo, write_phantom


@pytest.fixture(scope="module")
def phantom(tmp_path_factory: pytest.TempPathFactory) -> PhantomInfo:
    return write_phantom(tmp_path_factory.mktemp("phantom"), shape=(6, 64, 64), seed=2)


def write_image(
    path: Path,
    series_uid: str,
    *,
    z: float,
    instance: int,
    orientation: tuple[float, ...] = (1, 0, 0, 0, 1, 0),
    echo: int = 1,
    echo_time: float = 10.0,
    image_type: tuple[str, ...] = ("ORIGINAL", "PRIMARY", "M"),
    description: str = "series",
    value: int = 0,
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    sop_uid = generate_uid()
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = MRImageStorage
    ds.file_meta.MediaStorageSOPInstanceUID = sop_uid
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.4"
    ds.SOPInstanceUID = sop_uid
    ds.StudyInstanceUID = "1.2.3"
    ds.SeriesInstanceUID = series_uid
    ds.Modality = "MR"
    ds.SeriesDescription = description
    ds.ImageType = list(image_type)
    ds.InstanceNumber = instance
    ds.EchoNumbers = echo
    ds.EchoTime = echo_time
    ds.RepetitionTime = 500
    normal = np.cross(orientation[:3], orientation[3:])
    ds.ImagePositionPatient = [float(v) for v in normal * z]
    ds.ImageOrientationPatient = list(orientation)
    ds.PixelSpacing = [1, 1]
    ds.Rows = ds.Columns = 8
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 0
    ds.PixelData = np.full((8, 8), value, np.uint16).tobytes()
    ds.save_as(path, enforce_file_format=True)


def test_phantom_indexes_into_its_series_with_kinds(phantom: PhantomInfo) -> None:
    """The phantom's DICOM folder gives 8 series, classified STIR/T1 from their headers."""
    result = index_paths(phantom.out_dir / "dicom")
    assert result.skipped == ()
    assert result.n_files == sum(s.n_files for s in phantom.series)
    assert len(result.series) == 8
    by_uid = {r.series_uid: r for r in result.series}
    for series in phantom.series:
        record = by_uid[series.series_uid]
        assert record.kind is series.sequence
        assert record.shape == series.shape
        assert record.spacing == pytest.approx(series.spacing)
        assert record.study_uid == series.study_uid
        assert record.issues == ()
    stir = by_uid[phantom.get("baseline", "thigh", Sequence.STIR).series_uid]
    assert stir.kind_reason == "InversionTime 230 ms, TR 6770 ms → STIR"
    locations = [s.location for s in stir.slices]
    assert locations == sorted(locations)
    assert stir.slices[0].path.name == "IM0006.dcm"  # instance 1 is the most proximal


def test_identifying_fields_kept_for_the_store_but_never_leak(phantom: PhantomInfo) -> None:
    """Patient name/ID/birth date/study date are on the record only, not in repr or Volume."""
    record = index_paths(phantom.get("baseline", "calf", Sequence.T1).dicom_dir).series[0]
    assert record.patient_name == "PHANTOM^SUBJECT002"
    assert record.patient_id == "PHANTOM-0002"
    assert record.birth_date == "19700101"
    assert record.study_date == "20240115"
    volume = load_series(record)
    visible = " ".join(
        [repr(record), repr(volume), str(dict(volume.metadata)), *volume.warnings,
         str(dict(record.header))]
    )
    for value in phantom.identifying.values():
        assert value not in visible


def test_nifti_files_become_series_records(phantom: PhantomInfo) -> None:
    """NIfTI files found in the walk are records; kind from the file name; they load."""
    result = index_paths(phantom.out_dir / "nifti" / "baseline")
    kinds = {r.paths[0].name: r.kind for r in result.series}
    assert kinds == {
        "thigh_stir.nii.gz": Sequence.STIR,
        "thigh_t1.nii.gz": Sequence.T1,
        "calf_stir.nii.gz": Sequence.STIR,
        "calf_t1.nii.gz": Sequence.T1,
    }
    record = next(r for r in result.series if r.paths[0].name == "calf_t1.nii.gz")
    assert record.source == "nifti"
    series = phantom.get("baseline", "calf", Sequence.T1)
    assert record.shape == series.shape
    assert record.spacing == pytest.approx(series.spacing, abs=1e-4)
    from_nifti = load_series(record)
    from_dicom = load_series(series.dicom_dir)
    assert np.array_equal(from_nifti.voxels, from_dicom.voxels)
    assert np.allclose(from_nifti.affine, from_dicom.affine, atol=1e-4)


def test_reindexing_gives_the_same_keys(phantom: PhantomInfo) -> None:
    """Indexing twice gives identical keys (the store relies on them to import once)."""
    first = [r.key for r in index_paths(phantom.out_dir / "dicom").series]
    second = [r.key for r in index_paths(phantom.out_dir / "dicom").series]
    assert first == second
    assert len(set(first)) == len(first)


def test_series_with_two_echoes_is_split(tmp_path: Path) -> None:
    """A dual-echo series becomes two parts, named by echo."""
    uid = generate_uid()
    for i, z in enumerate([0.0, 4.0, 8.0]):
        write_image(tmp_path / f"e1_{i}.dcm", uid, z=z, instance=i + 1, echo=1, echo_time=10)
        write_image(tmp_path / f"e2_{i}.dcm", uid, z=z, instance=i + 4, echo=2, echo_time=80)
    parts = index_paths(tmp_path).series
    assert [p.split for p in parts] == ["#1", "#2"]
    assert [p.split_reason for p in parts] == ["echo 1, TE 10 ms", "echo 2, TE 80 ms"]
    assert all(p.shape == (3, 8, 8) for p in parts)


def test_localizer_with_three_orientations_is_split(tmp_path: Path) -> None:
    """A three-plane localizer is split by orientation, each part loadable."""
    uid = generate_uid()
    planes = {"axial": (1, 0, 0, 0, 1, 0), "coronal": (1, 0, 0, 0, 0, -1),
              "sagittal": (0, 1, 0, 0, 0, -1)}
    number = 0
    for orientation in planes.values():
        for z in (-5.0, 0.0, 5.0):
            number += 1
            write_image(tmp_path / f"{number}.dcm", uid, z=z, instance=number,
                        orientation=orientation)
    parts = index_paths(tmp_path).series
    assert sorted(p.split_reason for p in parts) == [
        "orientation axial", "orientation coronal", "orientation sagittal"
    ]
    expected = {"orientation axial": ("R", "L", "A", "P"),
                "orientation coronal": ("R", "L", "S", "I"),
                "orientation sagittal": ("A", "P", "S", "I")}
    for part in parts:
        assert tuple(load_series(part).orientation_labels()) == expected[part.split_reason]


def test_dixon_maps_in_one_series_split_by_image_type(tmp_path: Path) -> None:
    """Water and fat maps sharing a series UID become two parts classified W and F."""
    uid = generate_uid()
    for i, z in enumerate([0.0, 3.0]):
        write_image(tmp_path / f"w{i}.dcm", uid, z=z, instance=i + 1, description="t1_dixon",
                    image_type=("DERIVED", "PRIMARY", "DIXON", "WATER"))
        write_image(tmp_path / f"f{i}.dcm", uid, z=z, instance=i + 3, description="t1_dixon",
                    image_type=("DERIVED", "PRIMARY", "DIXON", "FAT"))
    kinds = sorted(p.kind for p in index_paths(tmp_path).series)
    assert kinds == [Sequence.DIXON_FAT, Sequence.DIXON_WATER]


def test_file_changed_after_indexing_is_read_again(tmp_path: Path) -> None:
    """If a file changed since indexing, its new pixels are read (not the stale offset)."""
    uid = generate_uid()
    for i in range(3):
        write_image(tmp_path / f"{i}.dcm", uid, z=i * 2.0, instance=i + 1, value=5)
    record = index_paths(tmp_path).series[0]
    ds = pydicom.dcmread(tmp_path / "1.dcm")
    ds.ImageComments = "edited after indexing: the pixel data moved"
    ds.PixelData = np.full((8, 8), 77, np.uint16).tobytes()
    ds.save_as(tmp_path / "1.dcm", enforce_file_format=True)
    volume = load_series(record)
    assert np.all(volume.voxels[1] == 77)
    assert np.all(volume.voxels[0] == 5)


def test_file_deleted_after_indexing_names_it(tmp_path: Path) -> None:
    """A file that disappeared since indexing is an ImagingError naming it."""
    uid = generate_uid()
    for i in range(3):
        write_image(tmp_path / f"{i}.dcm", uid, z=i * 2.0, instance=i + 1)
    record = index_paths(tmp_path).series[0]
    os.remove(tmp_path / "2.dcm")
    with pytest.raises(ImagingError, match=r"2\.dcm"):
        load_series(record)


def test_single_and_multi_threaded_loading_agree(phantom: PhantomInfo) -> None:
    """workers=1 and the default thread pool give identical volumes."""
    record = index_paths(phantom.get("followup", "thigh", Sequence.T1).dicom_dir).series[0]
    assert np.array_equal(load_series(record, workers=1).voxels,
                          load_series(record, workers=4).voxels)


def test_unused_high_bits_of_unsigned_pixels_are_masked(tmp_path: Path) -> None:
    """BitsStored 12 in BitsAllocated 16 with garbage in bits 12–15: the native reader
    gives pydicom's value (0x0123 = 291), not the raw word (0xF123 = 61731)."""
    sop_uid = generate_uid()
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = MRImageStorage
    ds.file_meta.MediaStorageSOPInstanceUID = sop_uid
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.4"
    ds.SOPInstanceUID = sop_uid
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.Modality = "MR"
    ds.ImagePositionPatient = [0.0, 0.0, 0.0]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing = [1, 1]
    ds.Rows = ds.Columns = 4
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    ds.PixelData = np.full((4, 4), 0xF123, np.uint16).tobytes()
    path = tmp_path / "masked.dcm"
    ds.save_as(path, enforce_file_format=True)

    record = index_paths(tmp_path).series[0]
    assert record.slices[0].native is not None  # the fast path is the one under test
    volume = load_series(record)
    expected = pydicom.dcmread(path).pixel_array
    assert int(expected[0, 0]) == 291
    assert np.array_equal(volume.voxels[0], expected)


def test_worker_processes_index_the_same_as_one_process(
    phantom: PhantomInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Headers read by two worker processes give the same records as one process, and
    progress reaches the total."""
    from myoscore.imaging import dicom_index

    monkeypatch.setattr(dicom_index, "PARALLEL_MIN_FILES", 0)
    seen: list[tuple[int, int]] = []
    parallel = index_paths(phantom.out_dir / "dicom", lambda done, total: seen.append((done, total)), workers=2)
    single = index_paths(phantom.out_dir / "dicom", workers=1)
    assert [r.key for r in parallel.series] == [r.key for r in single.series]
    assert [r.slices for r in parallel.series] == [r.slices for r in single.series]
    assert seen[0] == (0, single.n_files)
    assert seen[-1] == (single.n_files, single.n_files)
