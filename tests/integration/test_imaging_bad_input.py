"""A corpus of broken inputs, generated at test time: each file gets its own clear reason,
the good files beside them still index and load, and nothing raises for one bad file."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nibabel
import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import UID, ExplicitVRLittleEndian, JPEG2000Lossless, MRImageStorage, generate_uid

from myoscore.domain import ImagingError, Sequence
from myoscore.imaging import (
    IndexResult,
    SeriesRecord,
    SkippedFile,
    index_paths,
    load_nifti,
    load_series,
)
from myoscore.phantom import write_phantom
from tests.integration.image_files import pydicom_testdata

MR_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.4"
STUDY = generate_uid(entropy_srcs=["bad-input-study"])


def mr_file(
    path: Path,
    *,
    series_uid: str,
    z: float,
    instance: int,
    rows: int = 16,
    columns: int = 16,
    pixels: bool = True,
    sop_class: str = MR_IMAGE_STORAGE,
    sop_uid: str | None = None,
    description: str = "STIR_tra",
) -> Path:
    """A small, valid MR Image Storage file (or a variant of one)."""
    sop_uid = sop_uid or generate_uid()
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = UID(sop_class)
    ds.file_meta.MediaStorageSOPInstanceUID = UID(sop_uid)
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = sop_uid
    ds.StudyInstanceUID = STUDY
    ds.SeriesInstanceUID = series_uid
    ds.Modality = "MR"
    ds.PatientName = "BROKEN^CORPUS"
    ds.PatientID = "BAD-0001"
    ds.SeriesDescription = description
    ds.SeriesNumber = 7
    ds.InstanceNumber = instance
    ds.RepetitionTime = 6770
    ds.EchoTime = 70
    ds.InversionTime = 230
    ds.ImagePositionPatient = [-40.0, -40.0, z]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing = [2.5, 2.5]
    ds.SliceThickness = 5
    ds.Rows = rows
    ds.Columns = columns
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 1
    if pixels:
        ds.PixelData = np.full((rows, columns), instance * 10, np.int16).tobytes()
    ds.save_as(path, enforce_file_format=True)
    return path


def stack(folder: Path, series_uid: str, positions: list[float], **kwargs: Any) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [
        mr_file(folder / f"IM{i:04d}.dcm", series_uid=series_uid, z=z, instance=i, **kwargs)
        for i, z in enumerate(positions, start=1)
    ]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("corpus")
    # Good phantom series next to the broken files.
    write_phantom(root / "phantom", shape=(6, 64, 64), timepoints=("baseline",),
                  regions=("calf",), sequences=(Sequence.STIR,), nifti=False)
    good = root / "phantom" / "dicom" / "baseline" / "calf_stir"
    bad = root / "bad"
    bad.mkdir()
    (bad / "empty.dcm").write_bytes(b"")
    (bad / "notes.txt").write_text("reading list for Monday\n" * 20)
    (bad / "tiny.bin").write_bytes(b"\x01\x02\x03")
    data = (good / "IM0001.dcm").read_bytes()
    (bad / "truncated_pixels.dcm").write_bytes(data[: len(data) - 3000])
    (bad / "truncated_header.dcm").write_bytes(data[:425])  # inside an element
    mr_file(bad / "no_pixels.dcm", series_uid=generate_uid(), z=0, instance=1, pixels=False)
    shutil.copy(pydicom_testdata("test-SR.dcm"), bad / "report.dcm")
    mr_file(bad / "pstate.dcm", series_uid=generate_uid(), z=0, instance=1, pixels=False,
            sop_class="1.2.840.10008.5.1.4.1.1.11.1")
    shutil.copy(pydicom_testdata("SC_rgb_small_odd.dcm"), bad / "colour.dcm")
    # Broken NIfTI: garbage header; and a valid header whose data is cut short.
    (bad / "broken.nii").write_bytes(b"\x00\x01" * 300)
    nibabel.save(nibabel.Nifti1Image(np.zeros((8, 8, 8), np.int16), np.eye(4)),
                 str(bad / "short.nii"))
    short = (bad / "short.nii").read_bytes()
    (bad / "short.nii").write_bytes(short[:600])
    (bad / "gzip_garbage.nii.gz").write_bytes(b"\x1f\x8b\x08\x00garbage")
    # A real header with a negative dimension.
    image = nibabel.Nifti1Image(np.zeros((4, 4, 4), np.int16), np.eye(4))
    raw = bytearray(image.header.binaryblock)
    raw[42:44] = (-4).to_bytes(2, "little", signed=True)  # dim[1]
    (bad / "bad_dims.nii").write_bytes(bytes(raw) + b"\x00" * 4 + b"\x00" * 128)

    # A series with a missing slice (position 10 mm absent).
    stack(root / "missing", generate_uid(), [0.0, 5.0, 15.0, 20.0])
    # Mixed matrix sizes in one series.
    mixed_uid = generate_uid()
    stack(root / "mixed", mixed_uid, [0.0, 5.0, 10.0])
    for i, z in enumerate([0.0, 5.0, 10.0], start=4):
        mr_file(root / "mixed" / f"IM{i:04d}.dcm", series_uid=mixed_uid, z=z, instance=i,
                rows=24, columns=24)
    # Duplicated position with two different images; and one image copied twice.
    duplicate_uid = generate_uid()
    stack(root / "duplicated", duplicate_uid, [0.0, 5.0, 10.0])
    mr_file(root / "duplicated" / "IM0009.dcm", series_uid=duplicate_uid, z=5.0, instance=9)
    copied_uid = generate_uid()
    files = stack(root / "copied", copied_uid, [0.0, 5.0, 10.0])
    shutil.copy(files[1], root / "copied" / "copy_of_IM0002.dcm")
    # Very uneven spacing (cannot build) and slightly uneven (builds with a warning).
    stack(root / "uneven", generate_uid(), [0.0, 5.0, 12.0, 15.0])
    stack(root / "slightly_uneven", generate_uid(), [0.0, 5.0, 10.2, 15.0, 20.0])
    # A compressed file whose code stream is garbage: indexes, refuses to load.
    (root / "garbage_j2k").mkdir()
    garbage = mr_file(root / "garbage_j2k" / "IM0001.dcm", series_uid=generate_uid(), z=0,
                      instance=1)
    ds = pydicom.dcmread(garbage)
    ds.file_meta.TransferSyntaxUID = JPEG2000Lossless
    ds.PixelData = pydicom.encaps.encapsulate([b"\xff\x4f\xff\x51" + b"\x00" * 64])
    ds["PixelData"].VR = "OB"
    ds.save_as(garbage, enforce_file_format=True)
    # Folders: unreadable (simulated in the test), a symlink loop, a self link, a dangling link.
    (root / "locked").mkdir()
    mr_file(root / "locked" / "IM0001.dcm", series_uid=generate_uid(), z=0, instance=1)
    (root / "links").mkdir()
    os.symlink(root / "links", root / "links" / "loop")
    os.symlink(root / "links" / "self", root / "links" / "self")
    os.symlink(root / "links" / "nowhere.dcm", root / "links" / "dangling.dcm")
    return root


@pytest.fixture(scope="module")
def indexed(corpus: Path) -> Iterator[IndexResult]:
    real_scandir = os.scandir
    locked = corpus / "locked"

    def scandir(path: str | os.PathLike[str] = ".") -> Iterator[os.DirEntry[str]]:
        # Root ignores permission bits, so an unreadable folder is simulated here.
        if isinstance(path, str | os.PathLike) and Path(os.fspath(path)) == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(os, "scandir", scandir)
        yield index_paths([corpus])


def reason(result: IndexResult, path: Path) -> str:
    found = [s for s in result.skipped if s.path == path]
    assert len(found) == 1, f"expected one skip for {path}, got {found}"
    return found[0].reason


def series_in(result: IndexResult, folder: str) -> list[SeriesRecord]:
    return [r for r in result.series if r.paths[0].parent.name == folder]


@pytest.mark.parametrize(
    ("name", "pattern"),
    [
        ("empty.dcm", r"^empty file \(0 bytes\)$"),
        ("notes.txt", r"^not a DICOM file \(no 'DICM' marker at byte 128\)$"),
        ("tiny.bin", r"^not a DICOM file \(only 3 bytes\)$"),
        ("truncated_pixels.dcm", r"^truncated: pixel data needs 8192 bytes but only 5192 remain"),
        ("truncated_header.dcm", r"^truncated: the file ends inside the header"),
        ("no_pixels.dcm", r"^DICOM without pixel data \(SOP class 1\.2\.840\.10008\.5\.1\.4\.1\.1\.4\)"),
        ("report.dcm", r"^DICOM a structured report \(SR\), not an image"),
        ("pstate.dcm", r"^DICOM a presentation state, not an image"),
        ("colour.dcm", r"^colour image \(3 samples per pixel"),
        ("broken.nii", r"^broken NIfTI header: sizeof_hdr is 16777472, expected 348 "),
        ("short.nii", r"^truncated NIfTI: needs 1376 bytes for \(8, 8, 8\), file has 600$"),
        ("gzip_garbage.nii.gz", r"^broken NIfTI: not a readable gzip file"),
        ("bad_dims.nii", r"^broken NIfTI header: impossible dimensions \(-4, 4, 4\)$"),
    ],
)
def test_each_bad_file_has_its_own_reason(
    indexed: IndexResult, corpus: Path, name: str, pattern: str
) -> None:
    """Every broken file is skipped once, with a message saying what is wrong."""
    import re

    assert re.search(pattern, reason(indexed, corpus / "bad" / name)), reason(
        indexed, corpus / "bad" / name
    )


def test_unreadable_folder_is_reported_not_raised(indexed: IndexResult, corpus: Path) -> None:
    """A folder that cannot be listed is one skipped entry naming the folder."""
    assert reason(indexed, corpus / "locked") == (
        "folder cannot be read (permission denied); its files were not indexed"
    )
    assert not any(corpus / "locked" in r.paths[0].parents for r in indexed.series)


def test_really_unreadable_folder() -> None:
    """chmod 000 gives the same message as the simulation. Root ignores permission bits,
    so under root the walk runs with the effective user switched to ``nobody``."""
    import shutil
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="myoscore-perm-", dir="/tmp"))
    locked = base / "locked"
    try:
        base.chmod(0o755)
        locked.mkdir()
        locked.chmod(0)
        as_root = os.geteuid() == 0
        if as_root:
            os.seteuid(65534)
        try:
            result = index_paths(base)
        finally:
            if as_root:
                os.seteuid(0)
        assert result.skipped == (
            SkippedFile(locked, "folder cannot be read (permission denied); its files were not indexed"),
        )
    finally:
        locked.chmod(0o755)
        shutil.rmtree(base)


def test_symlinks_loops_and_dangling_links(indexed: IndexResult, corpus: Path) -> None:
    """A link back to a parent, a self link and a dangling link are each reported."""
    links = corpus / "links"
    assert reason(indexed, links / "loop").startswith("symbolic link loop: leads back to")
    assert reason(indexed, links / "self").startswith("symbolic link loop (the link points to")
    assert reason(indexed, links / "dangling.dcm").startswith("broken symbolic link")


def test_good_files_beside_bad_ones_still_index(indexed: IndexResult, corpus: Path) -> None:
    """The phantom series and the headerless-but-valid neighbours are all indexed."""
    phantom = series_in(indexed, "calf_stir")
    assert len(phantom) == 1
    assert phantom[0].n_files == 6
    assert phantom[0].kind is Sequence.STIR
    assert phantom[0].issues == ()
    volume = load_series(phantom[0])
    assert volume.shape == (6, 64, 64)


def test_missing_slice_named_with_positions_and_filled(indexed: IndexResult) -> None:
    """A gap of two steps is a 'missing slice' issue; the volume keeps exact geometry."""
    record = series_in(indexed, "missing")[0]
    assert record.issues == (
        "missing slice: 1 between 5.00 mm (IM0002.dcm) and 15.00 mm (IM0003.dcm), "
        "expected step 5.00 mm",
    )
    assert record.shape == (5, 16, 16)
    volume = load_series(record)
    assert volume.shape == (5, 16, 16)
    assert volume.spacing[2] == pytest.approx(5.0)
    assert np.all(volume.voxels[2] == 0)  # the missing slice is blank
    assert np.all(volume.voxels[3] == 30)  # IM0003 at 15 mm lands in slot 3
    # Reader-facing warnings name positions, not file names (paths may identify).
    assert volume.warnings == (
        "missing slice: 1 between 5.00 mm (slice 2) and 15.00 mm (slice 3), "
        "expected step 5.00 mm",
    )


def test_mixed_matrix_sizes_are_split(indexed: IndexResult) -> None:
    """One series with 16×16 and 24×24 images becomes two loadable parts."""
    parts = series_in(indexed, "mixed")
    assert [p.split for p in parts] == ["#1", "#2"]
    assert [p.shape for p in parts] == [(3, 16, 16), (3, 24, 24)]
    assert all("series split into 2 parts" in p.issues[0] for p in parts)
    assert parts[0].split_reason == "matrix 16×16"
    assert load_series(parts[1]).shape == (3, 24, 24)


def test_duplicated_positions_refuse_to_load_naming_files(indexed: IndexResult) -> None:
    """Two different images at 5 mm: indexed with an issue, loading names both files."""
    record = series_in(indexed, "duplicated")[0]
    assert record.issues[0].startswith("duplicated slice positions: 5.00 mm")
    with pytest.raises(ImagingError, match=r"5\.00 mm \(IM000[29]\.dcm, IM000[29]\.dcm\)"):
        load_series(record)


def test_same_image_twice_is_ignored_with_a_note(indexed: IndexResult, corpus: Path) -> None:
    """A byte copy of an image (same SOPInstanceUID) is noted and not loaded twice."""
    record = series_in(indexed, "copied")[0]
    assert record.n_files == 3
    assert "is a copy of" in record.issues[0]
    assert load_series(record).shape == (3, 16, 16)


def test_uneven_spacing_refused_or_warned(indexed: IndexResult) -> None:
    """A 7 mm step among 5 mm steps refuses to load; 0.2 mm off builds with a warning."""
    record = series_in(indexed, "uneven")[0]
    assert record.issues[0].startswith("uneven slice spacing")
    with pytest.raises(ImagingError, match=r"cannot build a volume: uneven slice spacing.*12\.00 mm"):
        load_series(record)
    slight = load_series(series_in(indexed, "slightly_uneven")[0])
    assert slight.shape == (5, 16, 16)
    assert any(w.startswith("uneven slice spacing") for w in slight.warnings)


def test_undecodable_compressed_pixels_name_the_file(indexed: IndexResult, corpus: Path) -> None:
    """A JPEG 2000 file with a broken code stream indexes, and loading names the file."""
    record = series_in(indexed, "garbage_j2k")[0]
    with pytest.raises(ImagingError, match=r"IM0001\.dcm: cannot decode pixel data \(JPEG 2000"):
        load_series(record)


def test_no_bad_file_becomes_a_series(indexed: IndexResult, corpus: Path) -> None:
    """Nothing in bad/ is indexed as a series; every file there is accounted for."""
    bad = corpus / "bad"
    assert not [r for r in indexed.series if bad in r.paths[0].parents]
    skipped = {s.path for s in indexed.skipped if s.path.parent == bad}
    assert skipped == set(bad.iterdir())


def test_progress_reports_every_file(corpus: Path) -> None:
    """progress(done, total) starts at 0, counts up by one and ends at total."""
    calls: list[tuple[int, int]] = []
    result = index_paths(corpus / "missing", progress=lambda done, total: calls.append((done, total)))
    assert calls == [(0, 4), (1, 4), (2, 4), (3, 4), (4, 4)]
    assert result.n_files == 4


def test_load_series_from_a_folder_with_two_series_lists_them(corpus: Path) -> None:
    """Handing load_series a folder with several series is refused with their names."""
    with pytest.raises(ImagingError, match=r"2 series found in .*mixed.*matrix 16×16"):
        load_series(corpus / "mixed")


def test_load_series_on_a_folder_without_images(corpus: Path) -> None:
    """A folder of broken files: the error quotes the reasons."""
    with pytest.raises(ImagingError, match=r"no readable image series.*empty file"):
        load_series(corpus / "bad")


def test_load_nifti_on_broken_files_names_the_problem(corpus: Path) -> None:
    """load_nifti gives the same clear reasons as the indexer, with the path."""
    with pytest.raises(ImagingError, match=r"broken\.nii: broken NIfTI header: sizeof_hdr"):
        load_nifti(corpus / "bad" / "broken.nii")
    with pytest.raises(ImagingError, match=r"not a readable gzip file"):
        load_nifti(corpus / "bad" / "gzip_garbage.nii.gz")
    with pytest.raises(ImagingError, match=r"short\.nii: cannot read the image data"):
        load_nifti(corpus / "bad" / "short.nii")


def test_headerless_dicom_is_still_read(tmp_path: Path) -> None:
    """A DICOM file without the 128-byte preamble (old archives) is indexed and loaded."""
    source = pydicom_testdata("MR_small.dcm")
    data = Path(source).read_bytes()
    ds = pydicom.dcmread(source)
    expected = ds.pixel_array
    ds.preamble = None
    del ds.file_meta
    headerless = tmp_path / "raw.dcm"
    pydicom.dcmwrite(headerless, ds, implicit_vr=True, little_endian=True)
    assert data[128:132] == b"DICM"
    assert headerless.read_bytes()[128:132] != b"DICM"
    result = index_paths(tmp_path)
    assert result.skipped == ()
    assert np.array_equal(load_series(result.series[0]).voxels[0], expected)


def test_summary_lists_series_and_skips(indexed: IndexResult) -> None:
    """The summary names the counts, each issue and each skipped file with its reason."""
    text = indexed.summary()
    assert text.startswith(f"{len(indexed.series)} series from {indexed.n_files} files")
    assert "empty file (0 bytes)" in text
    assert "missing slice" in text
    assert "PHANTOM" not in text  # no identifying fields in the summary


def test_no_pixel_data_with_undefined_length_sequence(tmp_path: Path) -> None:
    """A header ending in an undefined-length sequence and no pixels is 'without pixel data',
    not an unreadable header (pydicom yields such a sequence without a length)."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.sequence import Sequence as DicomSequence
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = MRImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    item = Dataset()
    item.ReferencedSOPInstanceUID = generate_uid()
    ds.ReferencedImageSequence = DicomSequence([item])
    ds["ReferencedImageSequence"].is_undefined_length = True
    path = tmp_path / "no_pixels.dcm"
    ds.save_as(path, enforce_file_format=True)
    assert b"\xff\xff\xff\xff" in path.read_bytes()
    (skipped,) = index_paths(tmp_path).skipped
    assert skipped.path == path
    assert skipped.reason.startswith("DICOM without pixel data")
