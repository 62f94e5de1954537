"""Our Volumes against an independent reference: dcm2niix (the PyPI wheel's binary).

For every DICOM fixture — the phantom (single-frame, Enhanced MR multi-frame, RLE,
JPEG 2000, JPEG lossless), rescaled and oblique stacks, and the files that ship with
pydicom — dcm2niix converts the folder and the test asserts that our Volume has the
same grid (shape, spacing, affine, up to dcm2niix's own axis order and flips) and
the same voxel values. The NIfTI is read with nibabel directly, not with our reader.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import dcm2niix
import numpy as np
import pydicom
import pytest
import SimpleITK
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import (
    ExplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGLosslessSV1,
    MRImageStorage,
    RLELossless,
    generate_uid,
)

from myoscore.domain import Sequence
from myoscore.imaging import Volume, index_paths, load_series
from myoscore.phantom import PhantomInfo, write_phantom
from tests.integration.image_files import load_nifti1, pydicom_testdata

pytestmark = pytest.mark.slow

DCM2NIIX = shutil.which("dcm2niix") or dcm2niix.bin
LPS_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])


def convert(folder: Path, out: Path) -> Path:
    """Run dcm2niix on one series folder; return the single NIfTI it writes."""
    out.mkdir(parents=True, exist_ok=True)
    completed = subprocess.run(
        [DCM2NIIX, "-z", "n", "-b", "n", "-f", "ref_%s", "-o", str(out), str(folder)],
        capture_output=True, text=True, check=False, timeout=120,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    written = sorted(out.glob("*.nii"))
    assert len(written) == 1, f"dcm2niix wrote {written}: {completed.stdout}"
    return written[0]


def reference_on_our_grid(nifti: Path, volume: Volume) -> np.ndarray:
    """dcm2niix's voxels resampled (by pure index permutation) onto our voxel grid.

    Asserts that the two grids coincide: the map from our voxel indices to theirs must
    be a signed permutation with an integer offset (same spacing, same origin up to
    which corner each converter starts from) and must cover their array exactly.
    """
    image = load_nifti1(nifti)
    reference_lps = LPS_RAS @ image.affine
    data = np.asarray(image.get_fdata(dtype=np.float64))
    if data.ndim == 4:
        assert data.shape[3] == 1
        data = data[..., 0]
    ours_to_theirs = np.linalg.inv(reference_lps) @ volume.affine
    permutation = np.rint(ours_to_theirs[:3, :3])
    assert np.allclose(ours_to_theirs[:3, :3], permutation, atol=1e-3), ours_to_theirs
    assert sorted(np.abs(permutation).sum(axis=0)) == [1, 1, 1]
    offset = np.rint(ours_to_theirs[:3, 3])
    assert np.allclose(ours_to_theirs[:3, 3], offset, atol=1e-2), ours_to_theirs
    # Same shape once permuted, and the same spacing (zooms are |affine columns|).
    our_xyz = volume.shape[::-1]
    assert sorted(data.shape) == sorted(our_xyz)
    their_zooms = np.linalg.norm(reference_lps[:3, :3], axis=0)
    assert np.allclose(np.abs(permutation) @ volume.spacing, their_zooms, atol=1e-3)

    k, j, i = np.indices(volume.shape)
    theirs = np.stack([i, j, k], axis=-1) @ permutation.T + offset
    theirs = theirs.astype(np.int64)
    for axis in range(3):
        assert theirs[..., axis].min() == 0
        assert theirs[..., axis].max() == data.shape[axis] - 1
    resampled: np.ndarray = data[theirs[..., 0], theirs[..., 1], theirs[..., 2]]
    return resampled


def assert_matches_dcm2niix(folder: Path, tmp_path: Path, volume: Volume | None = None) -> Volume:
    volume = volume if volume is not None else load_series(folder)
    reference = reference_on_our_grid(convert(folder, tmp_path / "dcm2niix"), volume)
    assert np.array_equal(reference, volume.voxels.astype(np.float64))
    return volume


# -------------------------------------------------------------------------------- phantom
@pytest.fixture(scope="module")
def phantom(tmp_path_factory: pytest.TempPathFactory) -> PhantomInfo:
    return write_phantom(tmp_path_factory.mktemp("phantom"), shape=(8, 64, 64), nifti=False)


@pytest.mark.parametrize("timepoint", ["baseline", "followup"])
@pytest.mark.parametrize("region", ["thigh", "calf"])
@pytest.mark.parametrize("sequence", [Sequence.STIR, Sequence.T1])
def test_phantom_series_match_dcm2niix(
    phantom: PhantomInfo, tmp_path: Path, timepoint: str, region: str, sequence: Sequence
) -> None:
    """Every phantom series: same grid and voxels as dcm2niix."""
    series = phantom.get(timepoint, region, sequence)
    volume = assert_matches_dcm2niix(series.dicom_dir, tmp_path)
    assert volume.shape == series.shape
    assert np.allclose(volume.affine, series.affine, atol=1e-4)
    assert volume.voxels.dtype == np.int16
    assert volume.metadata["sequence"] == sequence.value


@pytest.fixture(scope="module", params=["multiframe", "rle", "jpeg2000"])
def encoded_phantom(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> PhantomInfo:
    transfer_syntax = {"multiframe": None, "rle": RLELossless, "jpeg2000": JPEG2000Lossless}[request.param]
    return write_phantom(
        tmp_path_factory.mktemp(request.param), shape=(6, 64, 64), timepoints=("baseline",),
        regions=("thigh",), nifti=False, multiframe=request.param == "multiframe", transfer_syntax=transfer_syntax,
    )


@pytest.mark.parametrize("sequence", [Sequence.STIR, Sequence.T1])
def test_encoded_phantom_matches_dcm2niix(
    encoded_phantom: PhantomInfo, tmp_path: Path, sequence: Sequence
) -> None:
    """Enhanced MR multi-frame, RLE and JPEG 2000 phantoms: same as dcm2niix."""
    series = encoded_phantom.get("baseline", "thigh", sequence)
    record = index_paths(series.dicom_dir).series[0]
    assert record.kind is sequence  # classification also works from functional groups
    volume = assert_matches_dcm2niix(series.dicom_dir, tmp_path, load_series(record))
    assert volume.shape == series.shape
    assert np.allclose(volume.affine, series.affine, atol=1e-4)


def test_compressed_multiframe_equals_uncompressed(tmp_path: Path) -> None:
    """An Enhanced MR file with JPEG 2000 frames loads to the same volume as uncompressed.

    Not compared with dcm2niix directly: for compressed multi-frame files whose frames
    are stored in descending position it keeps the stored frame order but not the
    matching affine (it warns "Compressed image stored as N fragments"). The
    uncompressed multi-frame file is checked against dcm2niix above.
    """

    def write(folder: str, transfer_syntax: str | None) -> PhantomInfo:
        return write_phantom(tmp_path / folder, shape=(6, 64, 64), timepoints=("baseline",), regions=("calf",),
                             sequences=(Sequence.T1,), nifti=False, multiframe=True, transfer_syntax=transfer_syntax)

    plain, packed = write("plain", None), write("packed", JPEG2000Lossless)
    first = load_series(plain.series[0].dicom_dir)
    second = load_series(packed.series[0].dicom_dir)
    assert second.metadata["transfer_syntax"] == JPEG2000Lossless
    assert np.array_equal(first.voxels, second.voxels)
    assert np.array_equal(first.affine, second.affine)


def test_jpeg_lossless_matches_dcm2niix_and_uncompressed(
    phantom: PhantomInfo, tmp_path: Path
) -> None:
    """JPEG Lossless (process 14, encoded by GDCM via SimpleITK) decodes to the same volume."""
    source = phantom.get("baseline", "calf", Sequence.STIR).dicom_dir
    target = tmp_path / "jpeg_lossless"
    target.mkdir()
    for path in sorted(source.glob("*.dcm")):
        ds = pydicom.dcmread(path)
        image = SimpleITK.GetImageFromArray(ds.pixel_array.astype(np.uint16))
        scratch = tmp_path / "scratch.dcm"
        writer = SimpleITK.ImageFileWriter()
        writer.SetImageIO("GDCMImageIO")
        writer.SetFileName(str(scratch))
        writer.UseCompressionOn()
        writer.SetCompressor("JPEG")
        writer.Execute(image)
        encoded = pydicom.dcmread(scratch)
        assert encoded.file_meta.TransferSyntaxUID == JPEGLosslessSV1
        ds.file_meta.TransferSyntaxUID = JPEGLosslessSV1
        ds.BitsStored = encoded.BitsStored
        ds.HighBit = encoded.HighBit
        ds.PixelData = encoded.PixelData
        ds["PixelData"].VR = "OB"
        ds.save_as(target / path.name, enforce_file_format=True)
    volume = assert_matches_dcm2niix(target, tmp_path)
    assert np.array_equal(volume.voxels, load_series(source).voxels)


# ------------------------------------------------------------------ hand-made geometries
def write_stack(
    folder: Path,
    orientation: np.ndarray,
    *,
    n: int = 5,
    rows: int = 12,
    columns: int = 10,
    spacing: tuple[float, float] = (1.2, 0.9),
    step: float = 4.0,
    slope: float = 1.0,
    intercept: float = 0.0,
    shuffle: bool = True,
) -> None:
    """A small MR series with any orientation, rescale and file order."""
    folder.mkdir(parents=True)
    series_uid = generate_uid()
    rng = np.random.default_rng(5)
    normal = np.cross(orientation[:3], orientation[3:])
    origin = np.array([-30.0, 12.5, 47.0])
    order = rng.permutation(n) if shuffle else np.arange(n)
    for number, k in enumerate(order, start=1):
        sop_uid = generate_uid()
        ds = Dataset()
        ds.file_meta = FileMetaDataset()
        ds.file_meta.MediaStorageSOPClassUID = MRImageStorage
        ds.file_meta.MediaStorageSOPInstanceUID = sop_uid
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.4"
        ds.SOPInstanceUID = sop_uid
        ds.StudyInstanceUID = "1.2.3.4"
        ds.SeriesInstanceUID = series_uid
        ds.SeriesNumber = 3
        ds.Modality = "MR"
        ds.SeriesDescription = "t1_tse"
        ds.InstanceNumber = number
        ds.ImagePositionPatient = [float(v) for v in origin + normal * step * k]
        ds.ImageOrientationPatient = [float(v) for v in orientation]
        ds.PixelSpacing = list(spacing)
        ds.SliceThickness = step
        ds.RescaleSlope = slope
        ds.RescaleIntercept = intercept
        ds.Rows, ds.Columns = rows, columns
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.BitsAllocated = ds.BitsStored = 16
        ds.HighBit = 15
        ds.PixelRepresentation = 0
        pixels = (np.arange(rows * columns, dtype=np.uint16).reshape(rows, columns) * 3 + k * 100)
        ds.PixelData = pixels.tobytes()
        ds.save_as(folder / f"{number:03d}.dcm", enforce_file_format=True)


def rotation(yaw: float, pitch: float) -> np.ndarray:
    a, b = np.radians(yaw), np.radians(pitch)
    rz = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
    rx = np.array([[1, 0, 0], [0, np.cos(b), -np.sin(b)], [0, np.sin(b), np.cos(b)]])
    matrix: np.ndarray = rz @ rx
    return matrix


@pytest.mark.parametrize(
    ("name", "orientation"),
    [
        ("coronal", np.array([1, 0, 0, 0, 0, -1], float)),
        ("sagittal", np.array([0, 1, 0, 0, 0, -1], float)),
        ("oblique", np.concatenate(rotation(20, 15)[:, :2].T)),
    ],
)
def test_other_orientations_match_dcm2niix(tmp_path: Path, name: str, orientation: np.ndarray) -> None:
    """Coronal, sagittal and double-oblique stacks (files in shuffled order) agree."""
    write_stack(tmp_path / name, orientation)
    volume = assert_matches_dcm2niix(tmp_path / name, tmp_path)
    assert volume.shape == (5, 12, 10)
    assert volume.spacing == pytest.approx((0.9, 1.2, 4.0))


def test_rescale_to_float_matches_dcm2niix(tmp_path: Path) -> None:
    """Philips-style slope 2.5 / intercept −100 gives float32 values equal to dcm2niix's."""
    write_stack(tmp_path / "rescaled", np.array([1, 0, 0, 0, 1, 0], float), slope=2.5,
                intercept=-100.0)
    volume = assert_matches_dcm2niix(tmp_path / "rescaled", tmp_path)
    assert volume.voxels.dtype == np.float32
    assert volume.voxels.min() == pytest.approx(-100.0)


def test_integer_rescale_stays_int16(tmp_path: Path) -> None:
    """Slope 1 / intercept −1024 (CT-style) is lossless in int16."""
    write_stack(tmp_path / "ct_like", np.array([1, 0, 0, 0, 1, 0], float), intercept=-1024.0)
    volume = assert_matches_dcm2niix(tmp_path / "ct_like", tmp_path)
    assert volume.voxels.dtype == np.int16
    assert volume.voxels.min() == -1024


# -------------------------------------------------------------- pydicom's shipped files
def pydicom_file(name: str, tmp_path: Path) -> Path:
    """Copy one of pydicom's bundled test files into a folder of its own."""
    source = pydicom_testdata(name)
    folder = tmp_path / Path(name).stem
    folder.mkdir()
    shutil.copy(source, folder / name)
    return folder


def test_pydicom_mr_small_matches_dcm2niix(tmp_path: Path) -> None:
    """pydicom's MR_small.dcm (one real MR slice) has dcm2niix's geometry and values."""
    volume = assert_matches_dcm2niix(pydicom_file("MR_small.dcm", tmp_path), tmp_path)
    assert volume.shape == (1, 64, 64)
    assert volume.metadata["modality"] == "MR"
    assert "PatientName" not in str(dict(volume.metadata))


@pytest.mark.parametrize(
    "name",
    [
        "MR_small_RLE.dcm",
        "MR_small_jp2klossless.dcm",
        "MR_small_jpeg_ls_lossless.dcm",
        "MR_small_bigendian.dcm",
        "MR_small_expb.dcm",
        "MR_small_implicit.dcm",
        "MR_small_padded.dcm",
    ],
)
def test_pydicom_mr_small_variants_equal_the_original(tmp_path: Path, name: str) -> None:
    """The compressed and re-encoded copies of MR_small load to the very same volume."""
    original = load_series(pydicom_file("MR_small.dcm", tmp_path))
    variant = load_series(pydicom_file(name, tmp_path))
    assert np.array_equal(variant.voxels, original.voxels)
    assert np.allclose(variant.affine, original.affine)


def test_pydicom_ct_with_intercept_matches_dcm2niix(tmp_path: Path) -> None:
    """CT_small.dcm: rescale intercept applied, int16, same as dcm2niix."""
    volume = assert_matches_dcm2niix(pydicom_file("CT_small.dcm", tmp_path), tmp_path)
    ds = pydicom.dcmread(pydicom_testdata("CT_small.dcm"))
    expected = ds.pixel_array * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
    assert volume.voxels.dtype == np.int16
    assert np.array_equal(volume.voxels[0], expected)


def test_pydicom_lossy_jpeg2000_ct_matches_dcm2niix(tmp_path: Path) -> None:
    """693_J2KI.dcm (irreversible JPEG 2000 CT): decoded values equal dcm2niix's."""
    assert_matches_dcm2niix(pydicom_file("693_J2KI.dcm", tmp_path), tmp_path)


def test_pydicom_truncated_file_is_skipped(tmp_path: Path) -> None:
    """MR_truncated.dcm (pixel data cut short) is skipped with the byte counts."""
    folder = pydicom_file("MR_truncated.dcm", tmp_path)
    result = index_paths(folder)
    assert result.series == ()
    assert result.skipped[0].reason.startswith("truncated: pixel data needs 8192 bytes")
