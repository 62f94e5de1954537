"""The Volume type: LPS geometry, orientation labels, NIfTI round trip, resampling."""

from __future__ import annotations

import json
from pathlib import Path

import nibabel
import numpy as np
import pytest

import myoscore.imaging as imaging
from myoscore.domain import ImagingError, Sequence
from myoscore.imaging import (
    Volume,
    load_nifti,
    load_series,
    resample_like,
    write_nifti,
)
from myoscore.phantom import MUSCLE_KEYS, PhantomInfo, write_phantom


@pytest.fixture(scope="module")
def phantom(tmp_path_factory: pytest.TempPathFactory) -> PhantomInfo:
    return write_phantom(
        tmp_path_factory.mktemp("phantom"), shape=(10, 128, 128), timepoints=("baseline",)
    )


def axial(shape: tuple[int, int, int] = (4, 5, 6), spacing: tuple[float, float, float] = (
        0.5, 0.75, 3.0), origin: tuple[float, float, float] = (-10.0, 20.0, -300.0)) -> Volume:
    affine = np.diag([*spacing, 1.0])
    affine[:3, 3] = origin
    voxels = np.arange(np.prod(shape), dtype=np.int16).reshape(shape)
    return Volume(voxels, affine, {"sequence": "STIR"})


def test_public_api_is_explicit() -> None:
    """Every name in myoscore.imaging.__all__ exists, and nothing private is exported."""
    for name in imaging.__all__:
        assert hasattr(imaging, name), name
        assert not name.startswith("_")
    assert len(set(imaging.__all__)) == len(imaging.__all__)


def test_spacing_shape_and_index_round_trip() -> None:
    """Spacing is (x, y, z) from the affine; index ↔ patient mapping is exact both ways."""
    volume = axial()
    assert volume.shape == (4, 5, 6)
    assert volume.spacing == pytest.approx((0.5, 0.75, 3.0))
    ijk = np.array([[0, 0, 0], [5, 4, 3], [2.5, 1.0, 0.5]])
    xyz = volume.index_to_patient(ijk)
    assert xyz[1] == pytest.approx([-10 + 2.5, 20 + 3.0, -300 + 9.0])
    assert volume.patient_to_index(xyz) == pytest.approx(ijk)
    assert volume.slice_position(3) == pytest.approx([-10.0, 20.0, -291.0])
    assert volume.slice_location(3) == pytest.approx(-291.0)


@pytest.mark.parametrize(
    ("orientation", "labels", "plane"),
    [
        ((1, 0, 0, 0, 1, 0), ("R", "L", "A", "P"), "axial"),
        ((1, 0, 0, 0, 0, -1), ("R", "L", "S", "I"), "coronal"),
        ((0, 1, 0, 0, 0, -1), ("A", "P", "S", "I"), "sagittal"),
        ((-1, 0, 0, 0, 1, 0), ("L", "R", "A", "P"), "axial"),
    ],
)
def test_orientation_labels_from_affine(
    orientation: tuple[int, ...], labels: tuple[str, ...], plane: str
) -> None:
    """Screen-edge letters follow the DICOM display convention for each plane."""
    row, column = np.array(orientation[:3], float), np.array(orientation[3:], float)
    affine = np.eye(4)
    affine[:3, 0], affine[:3, 1], affine[:3, 2] = row, column, np.cross(row, column)
    volume = Volume(np.zeros((2, 2, 2), np.int16), affine)
    assert tuple(volume.orientation_labels()) == labels
    assert volume.plane() == plane


def test_oblique_labels_name_two_directions() -> None:
    """A row direction 30° from L towards P is labelled 'LP' on the right edge."""
    angle = np.radians(30)
    row = np.array([np.cos(angle), np.sin(angle), 0.0])
    column = np.array([-np.sin(angle), np.cos(angle), 0.0])
    affine = np.eye(4)
    affine[:3, 0], affine[:3, 1], affine[:3, 2] = row, column, [0, 0, 1]
    labels = Volume(np.zeros((1, 2, 2), np.int16), affine).orientation_labels()
    assert labels.right == "LP"
    assert labels.left == "RA"


def test_metadata_refuses_identifying_fields() -> None:
    """PatientName and friends can never enter a Volume's metadata."""
    with pytest.raises(ValueError, match="PatientName"):
        Volume(np.zeros((1, 2, 2), np.int16), np.eye(4), {"PatientName": "DOE^JANE"})


def test_volume_is_read_only() -> None:
    """Voxels and affine are frozen like the dataclass around them."""
    volume = axial()
    with pytest.raises(ValueError, match="read-only"):
        volume.voxels[0, 0, 0] = 1
    with pytest.raises(ValueError, match="read-only"):
        volume.affine[0, 0] = 2.0


def test_invalid_shapes_are_refused() -> None:
    """A 2-D array or a singular affine is not a Volume."""
    with pytest.raises(ValueError, match="3-D"):
        Volume(np.zeros((2, 2)), np.eye(4))
    with pytest.raises(ValueError, match="singular"):
        Volume(np.zeros((1, 2, 2)), np.diag([1.0, 1.0, 0.0, 1.0]))


# ------------------------------------------------------------------------ on the phantom
def test_phantom_orientation_right_leg_on_screen_left(phantom: PhantomInfo) -> None:
    """The phantom's right leg (larger, labelled R) lies at −x (LPS) and on the screen left."""
    series = phantom.get("baseline", "thigh", Sequence.STIR)
    volume = load_series(series.dicom_dir)
    assert tuple(volume.orientation_labels()) == ("R", "L", "A", "P")
    labels = load_nifti(phantom.label_maps["thigh"])
    assert labels.shape == volume.shape
    assert np.allclose(labels.affine, volume.affine, atol=1e-4)

    right = labels.voxels // 100 == 1
    left = labels.voxels // 100 == 2
    assert right.sum() > 1.1 * left.sum()  # the left leg is 8 % smaller
    columns = np.arange(volume.shape[2])
    assert columns[right.any(axis=(0, 1))].max() < volume.shape[2] // 2
    assert columns[left.any(axis=(0, 1))].min() > volume.shape[2] // 2
    k, j, i = np.argwhere(right)[0]
    assert volume.index_to_patient((i, j, k))[0] < 0  # LPS: patient right is −x


def test_phantom_intensities_follow_ground_truth(phantom: PhantomInfo) -> None:
    """Edema grade 5 is bright on STIR, grade 0 is not; fat is bright on T1."""
    truth = json.loads(phantom.ground_truth_path.read_text())["timepoints"]["baseline"]
    assert truth["edema"]["R"]["thigh.anterior.vastus_lateralis"] == 5
    assert truth["edema"]["L"]["thigh.anterior.vastus_lateralis"] == 0
    stir = load_series(phantom.get("baseline", "thigh", Sequence.STIR).dicom_dir)
    labels = load_nifti(phantom.label_maps["thigh"]).voxels
    table = phantom.label_table
    right_vl = stir.voxels[labels == table["R:thigh.anterior.vastus_lateralis"]]
    left_vl = stir.voxels[labels == table["L:thigh.anterior.vastus_lateralis"]]
    assert right_vl.mean() > 2 * left_vl.mean()

    t1 = load_series(phantom.get("baseline", "thigh", Sequence.T1).dicom_dir)
    t1_on_stir = resample_like(t1, stir, "linear")
    clean = [table[f"{side}:{key}"] for side in "RL" for key in MUSCLE_KEYS
             if key.startswith("thigh.") and truth["fat"][side][key] == 0]
    fat = np.median(t1_on_stir.voxels[labels == table["subcutaneous_fat"]])
    muscle = np.median(t1_on_stir.voxels[np.isin(labels, clean)])
    assert fat > 1.8 * muscle
    fatty = [table[f"{side}:{key}"] for side in "RL" for key in MUSCLE_KEYS
             if key.startswith("thigh.") and truth["fat"][side][key] >= 3]
    assert np.mean(t1_on_stir.voxels[np.isin(labels, fatty)]) > 1.3 * muscle


def test_phantom_ground_truth_and_label_table(phantom: PhantomInfo) -> None:
    """Every atlas muscle has a label per side and grades in range at each timepoint."""
    table = json.loads(phantom.label_table_path.read_text())
    assert len(set(table.values())) == len(table)
    truth = phantom.ground_truth["timepoints"]["baseline"]
    for key in MUSCLE_KEYS:
        for side in ("R", "L"):
            assert f"{side}:{key}" in table
            assert 0 <= truth["edema"][side][key] <= 5
            assert 0 <= truth["fat"][side][key] <= 4
    assert truth["edema"]["R"] != truth["edema"]["L"]


def test_phantom_to_json_lists_files_without_identity(phantom: PhantomInfo) -> None:
    """to_json is JSON-serialisable, lists every series and carries no identifying value."""
    text = json.dumps(phantom.to_json())
    assert len(phantom.to_json()["series"]) == len(phantom.series) == 4
    for value in phantom.identifying.values():
        assert value not in text


def test_phantom_t1_has_its_own_geometry(phantom: PhantomInfo) -> None:
    """The T1 stack differs from STIR in matrix, pixel size and slice positions."""
    stir = phantom.get("baseline", "thigh", Sequence.STIR)
    t1 = phantom.get("baseline", "thigh", Sequence.T1)
    assert stir.shape != t1.shape
    assert stir.spacing[0] != pytest.approx(t1.spacing[0])
    assert stir.spacing[2] != pytest.approx(t1.spacing[2])


def test_phantom_is_deterministic(tmp_path: Path) -> None:
    """The same seed writes byte-identical DICOM; another seed changes the grades."""

    def write(folder: str, seed: int) -> PhantomInfo:
        return write_phantom(tmp_path / folder, seed=seed, shape=(3, 32, 32), timepoints=("baseline",),
                             regions=("calf",), sequences=(Sequence.STIR,), nifti=False)

    first, second, other = write("a", 3), write("b", 3), write("c", 4)
    names = sorted(p.name for p in first.series[0].dicom_dir.iterdir())
    for name in names:
        assert (first.series[0].dicom_dir / name).read_bytes() == (
            second.series[0].dicom_dir / name
        ).read_bytes()
    assert first.ground_truth == second.ground_truth
    assert first.ground_truth["timepoints"] != other.ground_truth["timepoints"]


def test_phantom_at_3_tesla_has_a_3_tesla_header(tmp_path: Path) -> None:
    """field_strength=3.0 writes a 3 T scanner header; the Volume metadata carries it."""
    info = write_phantom(tmp_path, shape=(3, 32, 32), field_strength=3.0, timepoints=("followup",),
                         regions=("thigh",), sequences=(Sequence.T1,), nifti=False)
    volume = load_series(info.series[0].dicom_dir)
    assert volume.metadata["magnetic_field_strength"] == 3.0
    assert volume.metadata["manufacturer_model"] == "Skyra"
    assert volume.metadata["repetition_time"] == 500.0
    assert volume.metadata["echo_time"] == 10.0
    assert volume.metadata["sequence"] == "T1"
    with pytest.raises(ImagingError, match=r"1\.5 or 3\.0"):
        write_phantom(tmp_path / "x", field_strength=7.0)


# -------------------------------------------------------------------------------- NIfTI
def test_nifti_round_trip_keeps_voxels_and_lps_affine(tmp_path: Path) -> None:
    """write_nifti → load_nifti gives the same voxels and affine; on disk it is RAS."""
    volume = axial()
    path = write_nifti(volume, tmp_path / "v.nii.gz")
    back = load_nifti(path)
    assert np.array_equal(back.voxels, volume.voxels)
    assert back.voxels.dtype == np.int16
    assert np.allclose(back.affine, volume.affine)
    on_disk = nibabel.load(str(path))
    assert isinstance(on_disk, nibabel.Nifti1Image)
    assert nibabel.aff2axcodes(on_disk.affine) == ("L", "P", "S")
    assert np.allclose(on_disk.affine, np.diag([-1, -1, 1, 1]) @ volume.affine)
    assert int(on_disk.header["sform_code"]) == 1
    assert int(on_disk.header["qform_code"]) == 1
    data = np.asanyarray(on_disk.dataobj)
    assert data[5, 4, 3] == volume.voxels[3, 4, 5]  # NIfTI (i, j, k) is our [k, j, i]


def test_nifti_4d_picks_the_requested_volume(tmp_path: Path) -> None:
    """A 4-D file gives the chosen volume; an index out of range names the valid range."""
    data = np.stack([np.full((3, 4, 5), value, np.float32) for value in (1.5, 2.0, 7.0)], -1)
    path = tmp_path / "dyn.nii"
    nibabel.save(nibabel.Nifti1Image(data, np.diag([2.0, 2.0, 4.0, 1.0])), str(path))
    second = load_nifti(path, volume_index=1)
    assert second.shape == (5, 4, 3)
    assert np.all(second.voxels == 2)
    assert second.voxels.dtype == np.int16  # integral values are stored compactly
    assert load_nifti(path, volume_index=0).voxels.dtype == np.float32
    with pytest.raises(ImagingError, match="valid: 0 to 2"):
        load_nifti(path, volume_index=3)


def test_nifti_sform_wins_over_qform_and_qform_alone_is_used(tmp_path: Path) -> None:
    """sform (code > 0) is used before qform; a qform-only file uses the qform."""
    data = np.zeros((2, 3, 4), np.int16)
    sform = np.diag([1.0, 2.0, 3.0, 1.0])
    qform = np.diag([-1.0, 1.0, 1.0, 1.0])
    image = nibabel.Nifti1Image(data, None)
    image.set_sform(sform, code=2)
    image.set_qform(qform, code=1)
    nibabel.save(image, str(tmp_path / "both.nii"))
    assert np.allclose(load_nifti(tmp_path / "both.nii").affine, np.diag([-1, -1, 1, 1]) @ sform)
    image = nibabel.Nifti1Image(data, None)
    image.set_qform(qform, code=1)
    image.set_sform(np.eye(4), code=0)
    nibabel.save(image, str(tmp_path / "q.nii"))
    assert np.allclose(load_nifti(tmp_path / "q.nii").affine, np.diag([-1, -1, 1, 1]) @ qform)


def test_nifti_without_orientation_warns(tmp_path: Path) -> None:
    """No sform and no qform: loaded, with a warning that orientation is unknown."""
    image = nibabel.Nifti1Image(np.zeros((2, 2, 2), np.int16), None)
    image.set_sform(np.eye(4), code=0)
    image.set_qform(np.eye(4), code=0)
    nibabel.save(image, str(tmp_path / "bare.nii"))
    volume = load_nifti(tmp_path / "bare.nii")
    assert any("neither sform nor qform" in w for w in volume.warnings)


def test_write_nifti_refuses_other_suffixes(tmp_path: Path) -> None:
    """A NIfTI file must end in .nii or .nii.gz."""
    with pytest.raises(ImagingError, match=r"\.nii"):
        write_nifti(axial(), tmp_path / "v.img")


# ---------------------------------------------------------------------------- resampling
def test_resample_linear_function_exactly(tmp_path: Path) -> None:
    """A linear function of LPS position survives resampling onto another grid exactly."""
    fine = np.eye(4)
    fine[:3, :3] = np.diag([1.0, 1.0, 2.0])
    fine[:3, 3] = (-8.0, -8.0, -10.0)
    shape = (11, 17, 17)
    k, j, i = np.indices(shape)
    xyz = np.stack([i, j, k], -1) @ fine[:3, :3].T + fine[:3, 3]
    values = (2 * xyz[..., 0] + 3 * xyz[..., 1] + xyz[..., 2]).astype(np.float32)
    source = Volume(values, fine)
    coarse = np.eye(4)
    coarse[:3, :3] = np.diag([1.5, 1.25, 3.0])
    coarse[:3, 3] = (-4.0, -3.0, -5.0)
    target = Volume(np.zeros((4, 6, 5), np.int16), coarse)
    result = resample_like(source, target, "linear")
    assert result.shape == target.shape
    assert np.array_equal(result.affine, target.affine)
    k, j, i = np.indices(target.shape)
    expected_xyz = target.index_to_patient(np.stack([i, j, k], -1))
    expected = 2 * expected_xyz[..., 0] + 3 * expected_xyz[..., 1] + expected_xyz[..., 2]
    assert np.allclose(result.voxels, expected, atol=1e-3)


def test_resample_nearest_keeps_labels_and_dtype() -> None:
    """Nearest-neighbour resampling of a label map keeps int16 and only existing labels."""
    labels = np.zeros((4, 8, 8), np.int16)
    labels[:, 2:6, 2:6] = 101
    labels[:, 3:5, 3:5] = 205
    source = Volume(labels, np.diag([1.0, 1.0, 2.0, 1.0]))
    target = Volume(np.zeros((3, 5, 5), np.int16), np.diag([1.7, 1.7, 2.5, 1.0]))
    result = resample_like(source, target, "nearest")
    assert result.voxels.dtype == np.int16
    assert set(np.unique(result.voxels)) <= {0, 101, 205}
    assert (result.voxels == 205).any()


def test_resample_rejects_unknown_interpolation() -> None:
    """An unknown interpolation name is an ImagingError listing the valid ones."""
    with pytest.raises(ImagingError, match="nearest"):
        resample_like(axial(), axial(), "cubic")  # type: ignore[arg-type]


def test_simpleitk_round_trip_keeps_geometry() -> None:
    """to_simpleitk → from_simpleitk keeps voxels, spacing, origin and direction."""
    affine = np.eye(4)
    affine[:3, 0] = [0, 0.8, 0]
    affine[:3, 1] = [0, 0, -0.8]
    affine[:3, 2] = [4.0, 0, 0]
    affine[:3, 3] = [-50.0, 10.0, 100.0]
    volume = Volume(np.arange(24, dtype=np.int16).reshape(2, 3, 4), affine)
    image = volume.to_simpleitk()
    assert image.GetSize() == (4, 3, 2)
    assert image.GetSpacing() == pytest.approx((0.8, 0.8, 4.0))
    back = Volume.from_simpleitk(image)
    assert np.array_equal(back.voxels, volume.voxels)
    assert np.allclose(back.affine, volume.affine)
    assert tuple(back.orientation_labels()) == ("A", "P", "S", "I")
