"""Scanner-shaped DICOM (issue 12): vendor scaling, multi-part enhanced files, several
series under one UID, multi-echo and repetitions, mosaics, files without preamble,
damaged NIfTI — generated with pydicom, expected values computed by hand from the tags,
and compared with dcm2niix where it converts the files."""

from __future__ import annotations

import gzip
import shutil
import subprocess
from pathlib import Path
from typing import Any

import dcm2niix
import nibabel
import numpy as np
import pydicom
import pytest
from pydicom.uid import generate_uid

from myoscore.app import CoordinatorSession
from myoscore.app.exam_images import load_volume
from myoscore.app.imports import import_paths
from myoscore.domain import ImagingError
from myoscore.imaging import index_paths, load_nifti, load_series, write_nifti
from tests.integration.image_files import load_nifti1
from tests.integration.scanner_files import EnhancedFrame, classic, enhanced, pixels

DCM2NIIX = shutil.which("dcm2niix") or dcm2niix.bin
STUDY = generate_uid(entropy_srcs=["scanner-files"])


def dcm2niix_volumes(folder: Path, out: Path, *extra: str) -> dict[str, np.ndarray]:
    """dcm2niix's NIfTI files for a folder: name → data in our (z, y, x) order, scaled."""
    out.mkdir(parents=True, exist_ok=True)
    completed = subprocess.run(
        [DCM2NIIX, "-z", "n", "-b", "n", *extra, "-f", "%s_%e", "-o", str(out), str(folder)],
        capture_output=True, text=True, check=False, timeout=120,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    result = {}
    for nii in sorted(out.glob("*.nii")):
        image = load_nifti1(nii)
        data = np.asarray(image.dataobj.get_scaled() if hasattr(image.dataobj, "get_scaled") else image.get_fdata())
        # dcm2niix flips rows to make the NIfTI RAS-like; undo it: (x, y, z) → (z, y, x).
        volumes = [data] if data.ndim == 3 else [data[..., t] for t in range(data.shape[3])]
        for t, volume in enumerate(volumes):
            result[f"{nii.name}[{t}]"] = np.flip(volume, axis=1).transpose(2, 1, 0)
    return result


def stack(
    folder: Path, n: int = 3, *, series_uid: str | None = None, name: str = "IM", instance_offset: int = 0,
    **tags: Any,
) -> list[np.ndarray]:
    """``n`` axial slices 5 mm apart (stored values from :func:`pixels`); returns them."""
    folder.mkdir(parents=True, exist_ok=True)
    uid = series_uid or generate_uid()
    stored = []
    for k in range(n):
        values = pixels(instance_offset + k)
        stored.append(values)
        classic(folder / f"{name}{instance_offset + k:04d}.dcm", study=STUDY, series_uid=uid, z=5.0 * k,
                instance=instance_offset + k + 1, stored=values, **tags)
    return stored


# ---------------------------------------------------------------------------- scaling
def test_philips_classic_private_scale_slope(tmp_path: Path) -> None:
    """Display = SV × RS + RI; real-world = (SV × RS + RI) / (RS × SS), by hand from the tags;
    the series says the two differ, and dcm2niix (Philips precise float) agrees."""
    stored = stack(tmp_path / "philips", rescale=(2.0, -100.0), philips=(0.25, 50.0), manufacturer="Philips")
    record = index_paths(tmp_path / "philips").series[0]
    assert any("real-world values (Philips private scale slope (2005,100E)" in i for i in record.issues)
    display = load_series(record)
    real = load_series(record, values="real_world")
    expected_display = np.stack(stored).astype(np.float64) * 2.0 - 100.0
    expected_real = (np.stack(stored).astype(np.float64) * 2.0 - 100.0) / (2.0 * 0.25)
    assert np.array_equal(display.voxels, expected_display)
    assert np.allclose(real.voxels, expected_real)
    assert display.metadata["values"] == "display"
    assert real.metadata["values"] == "real_world"
    assert real.metadata["value_units"] == "Philips FP"
    assert display.metadata["real_world_source"] == "Philips private scale slope (2005,100E)"

    reference = dcm2niix_volumes(tmp_path / "philips", tmp_path / "ref")
    (data,) = reference.values()
    assert np.allclose(data, expected_real, atol=1e-3)


def test_philips_scale_intercept_that_disagrees_is_reported(tmp_path: Path) -> None:
    """(2005,100D) should be −RI/RS; when it is not, the series says which one is used."""
    stack(tmp_path / "p", rescale=(2.0, -100.0), philips=(0.5, 7.0), manufacturer="Philips")
    record = index_paths(tmp_path / "p").series[0]
    assert any("scale intercept (2005,100D) 7 differs from −RescaleIntercept/RescaleSlope 50" in i
               for i in record.issues)


def test_private_scale_slope_of_another_creator_is_ignored(tmp_path: Path) -> None:
    """(2005,100E) counts only in a Philips creator block."""
    folder = tmp_path / "other"
    folder.mkdir()
    ds_path = classic(folder / "a.dcm", study=STUDY, series_uid=generate_uid(), z=0, instance=1,
                      stored=pixels(1), rescale=(1.0, 0.0), philips=(0.5, None))
    ds = pydicom.dcmread(ds_path)
    ds[0x20050010].value = "ACME PRIVATE"
    ds.save_as(ds_path)
    record = index_paths(folder).series[0]
    assert record.slices[0].real_slope is None
    assert np.array_equal(load_series(record, values="real_world").voxels[0], pixels(1))


def test_philips_enhanced_private_scale_slope_per_frame(tmp_path: Path) -> None:
    """Enhanced Philips: RS/RI per frame, SS in each frame's private item (2005,140F)."""
    frames = [
        EnhancedFrame(z=5.0 * k, stored=pixels(10 + k), in_stack=k + 1, rescale=(1.5, 0.0), philips_ss=0.02 * (k + 1))
        for k in range(3)
    ]
    enhanced(tmp_path / "enh.dcm", frames, study=STUDY)
    record = index_paths(tmp_path).series[0]
    real = load_series(record, values="real_world")
    display = load_series(record)
    for k, frame in enumerate(frames):
        sv = frame.stored.astype(np.float64)
        assert np.allclose(display.voxels[k], sv * 1.5)
        assert np.allclose(real.voxels[k], sv * 1.5 / (1.5 * 0.02 * (k + 1)), rtol=1e-5)


def test_philips_enhanced_scale_slope_agrees_with_dcm2niix(tmp_path: Path) -> None:
    """One scale slope for the whole file (dcm2niix writes one scl_slope per NIfTI, so a
    slope that varies per frame, as above, is beyond what it can convert)."""
    frames = [
        EnhancedFrame(z=5.0 * k, stored=pixels(30 + k), in_stack=k + 1, rescale=(1.5, 0.0), philips_ss=0.04)
        for k in range(3)
    ]
    (tmp_path / "dicom").mkdir()
    enhanced(tmp_path / "dicom" / "enh.dcm", frames, study=STUDY)
    real = load_series(index_paths(tmp_path / "dicom").series[0], values="real_world")
    expected = np.stack([f.stored for f in frames]) * 1.5 / (1.5 * 0.04)
    assert np.allclose(real.voxels, expected, rtol=1e-5)
    (reference,) = dcm2niix_volumes(tmp_path / "dicom", tmp_path / "ref").values()
    assert np.allclose(reference, expected, rtol=1e-4)


def test_real_world_value_mapping(tmp_path: Path) -> None:
    """Without Philips tags, the Real World Value Mapping gives real-world values and units."""
    frames = [
        EnhancedFrame(z=5.0 * k, stored=pixels(20 + k), in_stack=k + 1, rescale=(1.0, 0.0),
                      real_world=(0.25, -3.0, "ms"))
        for k in range(3)
    ]
    enhanced(tmp_path / "t2map.dcm", frames, study=STUDY, manufacturer="SIEMENS", description="T2map")
    record = index_paths(tmp_path).series[0]
    real = load_series(record, values="real_world")
    assert real.metadata["value_units"] == "ms"
    assert np.allclose(real.voxels, np.stack([f.stored for f in frames]) * 0.25 - 3.0)
    assert np.array_equal(load_series(record).voxels, np.stack([f.stored for f in frames]))


def test_unknown_value_choice_is_refused(tmp_path: Path) -> None:
    stack(tmp_path / "s")
    with pytest.raises(ImagingError, match="values must be one of display, real_world"):
        load_series(tmp_path / "s", values="raw")


# -------------------------------------------------------------------- series identity
def test_multi_part_enhanced_file_parts_load_and_export_on_their_own(
    tmp_path: Path, coordinator: CoordinatorSession
) -> None:
    """One enhanced file with 2 stacks × 2 echoes is 4 series; each loads from the store
    (the part is stored) and exports as NIfTI. (dcm2niix, given no DimensionIndexSequence,
    interleaves the two stacks' frames, so the frames written are the reference here.)"""
    frames: list[EnhancedFrame] = []
    for s_index, stack_id in enumerate(("1", "2")):
        for echo_time in (10.0, 30.0):
            for k in range(3):
                frames.append(EnhancedFrame(z=100.0 * s_index + 5.0 * k, stored=pixels(len(frames)),
                                            stack=stack_id, in_stack=k + 1, echo_time=echo_time))
    (tmp_path / "dicom").mkdir()
    enhanced(tmp_path / "dicom" / "multi.dcm", frames, study=STUDY)
    summary = import_paths(coordinator, [tmp_path / "dicom"], subject_code="SUBJ-1")
    assert summary.series_added == 4
    series = coordinator.series()
    assert sorted(s.part for s in series) == ["#1", "#2", "#3", "#4"]
    seen = []
    for item in series:
        volume = load_volume(item)
        assert volume.shape == (3, 8, 8)
        seen.append(volume.voxels.copy())
        out = write_nifti(volume, tmp_path / "out" / f"{item.id}.nii.gz")
        assert load_nifti1(out).shape == (8, 8, 3)
    expected = [np.stack([f.stored for f in frames[i : i + 3]]) for i in range(0, 12, 3)]
    for voxels in seen:
        assert any(np.array_equal(voxels, e) for e in expected)
    assert len({v.tobytes() for v in seen}) == 4
    assert any("stack 2" in s.description and "TE 30" in s.description for s in series)


def test_two_series_sharing_one_uid_are_told_apart_by_series_number(tmp_path: Path) -> None:
    """Same SeriesInstanceUID, SeriesNumber 3 and 4, same positions: two series, not duplicates."""
    uid = generate_uid()
    first = stack(tmp_path / "d", series_uid=uid, series_number=3, name="A")
    second = stack(tmp_path / "d", series_uid=uid, series_number=4, name="B", instance_offset=10)
    records = index_paths(tmp_path / "d").series
    assert [(r.series_number, r.split) for r in records] == [(3, "#1"), (4, "#2")]
    assert np.array_equal(load_series(records[0]).voxels, np.stack(first))
    assert np.array_equal(load_series(records[1]).voxels, np.stack(second))
    reference = dcm2niix_volumes(tmp_path / "d", tmp_path / "ref")  # named by series number
    assert np.array_equal(reference["3_0.nii[0]"], np.stack(first))
    assert np.array_equal(reference["4_0.nii[0]"], np.stack(second))


def test_three_echo_series_is_one_volume_per_echo(tmp_path: Path) -> None:
    """A 3-echo stack becomes 3 series, each with its echo time in description and metadata,
    each equal to dcm2niix's volume for that echo."""
    uid = generate_uid()
    by_echo = {}
    for echo, te in ((1, 10.0), (2, 20.0), (3, 30.0)):
        by_echo[te] = stack(tmp_path / "me", series_uid=uid, echo_number=echo, echo_time=te, name=f"E{echo}_",
                            instance_offset=10 * echo, description="T2_MSE")
    records = index_paths(tmp_path / "me").series
    assert len(records) == 3
    reference = dcm2niix_volumes(tmp_path / "me", tmp_path / "ref")
    assert len(reference) == 3
    for record, te in zip(records, (10.0, 20.0, 30.0), strict=True):
        volume = load_series(record)
        assert f"TE {te:g} ms" in record.description
        assert volume.metadata["echo_time"] == te
        assert volume.metadata["series_part"].startswith(f"echo {int(te // 10)}")
        assert np.array_equal(volume.voxels, np.stack(by_echo[te]))
        assert any(np.array_equal(volume.voxels, data) for data in reference.values())


def test_repeated_acquisitions_split_by_acquisition_number(tmp_path: Path) -> None:
    """Two acquisitions at the same positions (AcquisitionNumber 1, 2): two volumes."""
    uid = generate_uid()
    first = stack(tmp_path / "r", series_uid=uid, name="A", extra={0x00200012: ("IS", 1)})
    second = stack(tmp_path / "r", series_uid=uid, name="B", instance_offset=10, extra={0x00200012: ("IS", 2)})
    records = index_paths(tmp_path / "r").series
    assert [r.split_reason for r in records] == ["acquisition 1", "acquisition 2"]
    assert np.array_equal(load_series(records[0]).voxels, np.stack(first))
    assert np.array_equal(load_series(records[1]).voxels, np.stack(second))


def test_repetitions_without_a_distinguishing_tag_follow_instance_order(tmp_path: Path) -> None:
    """Every position twice, nothing but InstanceNumber to tell them apart: repetition 1 and 2."""
    uid = generate_uid()
    first = stack(tmp_path / "r", series_uid=uid, name="A")
    second = stack(tmp_path / "r", series_uid=uid, name="B", instance_offset=10)
    records = index_paths(tmp_path / "r").series
    assert [r.split_reason for r in records] == ["repetition 1 of 2", "repetition 2 of 2"]
    assert np.array_equal(load_series(records[0]).voxels, np.stack(first))
    assert np.array_equal(load_series(records[1]).voxels, np.stack(second))


# ------------------------------------------------------------------ files and headers
def test_siemens_mosaic_is_refused_with_file_and_reason(tmp_path: Path) -> None:
    """A mosaic is never imported as one big slice."""
    mosaic = np.zeros((32, 32), np.uint16)
    classic(tmp_path / "mosaic.dcm", study=STUDY, series_uid=generate_uid(), z=0, instance=1, stored=mosaic,
            image_type=("ORIGINAL", "PRIMARY", "M", "ND", "MOSAIC"),
            extra={0x00190010: ("LO", "SIEMENS MR HEADER"), 0x0019100A: ("US", 16)})
    result = index_paths(tmp_path)
    assert result.series == ()
    (skipped,) = result.skipped
    assert skipped.path.name == "mosaic.dcm"
    assert skipped.reason.startswith("Siemens mosaic (16 images tiled in one 32×32 frame)")


def test_part10_file_without_preamble_is_read(tmp_path: Path) -> None:
    """A Part 10 file written without the 128-byte preamble and 'DICM' (file meta first)."""
    stored = pixels(5)
    path = classic(tmp_path / "nopreamble.dcm", study=STUDY, series_uid=generate_uid(), z=0, instance=1,
                   stored=stored, preamble=False)
    assert path.read_bytes()[:2] == b"\x02\x00"  # starts with group 0002, no preamble
    result = index_paths(tmp_path)
    assert result.skipped == ()
    assert np.array_equal(load_series(result.series[0]).voxels[0], stored)


def test_nan_position_names_its_file_and_the_instance_number_fallback(tmp_path: Path) -> None:
    """A NaN ImagePositionPatient names the file; the order falls back to InstanceNumber and
    the series says so."""
    uid = generate_uid()
    stack(tmp_path / "n", series_uid=uid, n=2)
    classic(tmp_path / "n" / "IM9999.dcm", study=STUDY, series_uid=uid, z=10.0, instance=3, stored=pixels(3),
            position=[float("nan"), -4.0, 10.0])
    record = index_paths(tmp_path / "n").series[0]
    (issue,) = [i for i in record.issues if "ImagePositionPatient" in i]
    assert "IM9999.dcm" in issue
    assert "nan" in issue.lower()
    assert "ordered by InstanceNumber" in issue


# ------------------------------------------------------------------------------ NIfTI
@pytest.fixture
def nifti_defects(tmp_path: Path) -> Path:
    folder = tmp_path / "nifti"
    folder.mkdir()
    good = nibabel.Nifti1Image(np.arange(4 * 4 * 4, dtype=np.int16).reshape(4, 4, 4), np.diag([2.0, 2, 2, 1]))
    nibabel.save(good, str(folder / "good.nii.gz"))
    data = (folder / "good.nii.gz").read_bytes()
    (folder / "truncated.nii.gz").write_bytes(data[: len(data) // 2])

    def with_header(name: str, **fields: Any) -> None:
        header = nibabel.Nifti1Header()
        header.set_data_shape((4, 4, 4))
        header.set_data_dtype(np.int16)
        for key, value in fields.items():
            header[key] = value
        (folder / name).write_bytes(header.binaryblock + b"\x00" * 4 + np.zeros(64, np.int16).tobytes())

    with_header("no_geometry.nii", qform_code=0, sform_code=0, pixdim=[1, 0, 0, 0, 1, 1, 1, 1], vox_offset=352)
    with_header("inf_slope.nii", scl_slope=np.inf, vox_offset=352)
    with_header("nine_dims.nii", dim=[9, 4, 4, 4, 1, 1, 1, 1], vox_offset=352)
    return folder


@pytest.mark.parametrize(
    ("name", "pattern"),
    [
        ("truncated.nii.gz", r"^truncated \.nii\.gz: the compressed stream ends after \d+ bytes"),
        ("no_geometry.nii", r"^broken NIfTI header: voxel size pixdim \(0\.0, 0\.0, 0\.0\) is not positive"),
        ("inf_slope.nii", r"^broken NIfTI header: scl_slope inf / scl_inter .* cannot scale"),
        ("nine_dims.nii", r"^broken NIfTI header: dim\[0\] is 9, it must be 1 to 7"),
    ],
)
def test_each_nifti_defect_is_caught_at_import(nifti_defects: Path, name: str, pattern: str) -> None:
    """Each defect is a skipped file with its reason at import, and load_nifti says the same."""
    import re

    result = index_paths(nifti_defects)
    reasons = {s.path.name: s.reason for s in result.skipped}
    assert re.search(pattern, reasons[name]), reasons[name]
    assert [r.paths[0].name for r in result.series] == ["good.nii.gz"]
    if name != "truncated.nii.gz":  # load_nifti reads the data itself and fails there
        with pytest.raises(ImagingError, match=re.escape(name)):
            load_nifti(nifti_defects / name)


def test_truncated_nii_gz_load_names_the_file(nifti_defects: Path) -> None:
    with pytest.raises(ImagingError, match=r"truncated\.nii\.gz"):
        load_nifti(nifti_defects / "truncated.nii.gz")
    assert gzip.decompress((nifti_defects / "good.nii.gz").read_bytes())  # the fixture's source is whole


def test_cli_export_offers_display_or_real_world_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`series export-nifti --values real-world` writes the Philips floating-point values;
    the default writes the display values; the import names the difference."""
    import json

    from myoscore.cli.main import main

    stored = np.stack(stack(tmp_path / "philips", rescale=(2.0, 0.0), philips=(0.25, None), manufacturer="Philips"))
    monkeypatch.setenv("MYOSCORE_DB", str(tmp_path / "cli.sqlite"))
    monkeypatch.setenv("MYOSCORE_USER", "boss")
    monkeypatch.setenv("MYOSCORE_PASSWORD", "cli-pass-phrase")
    assert main(["init", "--coordinator", "boss"]) == 0
    assert main(["import", str(tmp_path / "philips")]) == 0
    assert "real-world values (Philips private scale slope (2005,100E), Philips FP) differ" in capsys.readouterr().out
    assert main(["series", "list", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    display, real = tmp_path / "display.nii", tmp_path / "real.nii"
    assert main(["series", "export-nifti", str(row["id"]), str(display)]) == 0
    assert main(["series", "export-nifti", str(row["id"]), str(real), "--values", "real-world"]) == 0
    as_ours = lambda path: np.asarray(load_nifti1(path).get_fdata()).transpose(2, 1, 0)  # noqa: E731
    assert np.allclose(as_ours(display), stored * 2.0)
    assert np.allclose(as_ours(real), stored * 2.0 / (2.0 * 0.25))


def test_nifti_without_sform_or_qform_is_read_with_an_issue(tmp_path: Path) -> None:
    """Codes 0 with a valid pixdim: read (RAS assumed), and the series says so."""
    header = nibabel.Nifti1Header()
    header.set_data_shape((4, 4, 4))
    header.set_data_dtype(np.int16)
    header.set_zooms((2.0, 2.0, 3.0))
    header["qform_code"] = header["sform_code"] = 0
    header["vox_offset"] = 352
    (tmp_path / "plain.nii").write_bytes(header.binaryblock + b"\x00" * 4 + np.ones(64, np.int16).tobytes())
    (record,) = index_paths(tmp_path).series
    assert record.spacing == (2.0, 2.0, 3.0)
    assert any("neither sform nor qform" in issue for issue in record.issues)
    assert any("neither sform nor qform" in w for w in load_nifti(tmp_path / "plain.nii").warnings)
