"""Import that understands a study folder (issue 14): duplicates by content, label maps by
grid, no exam without images, a per-folder summary, and a dry run that writes nothing.
Real files (the demo's phantoms, scanner-shaped DICOM, dcm2niix's conversions), real SQLite."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
from pathlib import Path

import dcm2niix
import numpy as np
import pytest
from pydicom.uid import generate_uid

from myoscore.app import CoordinatorSession, open_database
from myoscore.app.demo import load_demo
from myoscore.app.exam_images import export_series_nifti
from myoscore.app.imports import import_paths
from myoscore.cli.main import main
from myoscore.domain import Sequence
from myoscore.imaging import load_series, write_nifti
from myoscore.phantom import PhantomInfo, write_phantom
from tests.integration.scanner_files import classic, pixels


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Exactly what `myoscore demo --out DIR` writes: both phantoms, DICOM + NIfTI + label maps."""
    out = tmp_path_factory.mktemp("demo") / "demo"
    assert main(["demo", "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def phantom(tmp_path_factory: pytest.TempPathFactory) -> PhantomInfo:
    return write_phantom(tmp_path_factory.mktemp("small") / "phantom", shape=(6, 64, 64), seed=5)


def _exam_layout(coordinator: CoordinatorSession) -> list[tuple[object, ...]]:
    """Each exam as (its subject's order, date, sorted (kind, path) of its series)."""
    order = {s.code: n for n, s in enumerate(sorted(coordinator.subjects(), key=lambda s: s.id))}
    layout = []
    for exam in coordinator.exams():
        series = sorted((s.kind.value, s.path, s.n_files) for s in coordinator.series(exam.id))
        layout.append((order[exam.subject_code], exam.exam_date, tuple(series)))
    return sorted(layout, key=lambda row: (row[0], str(row[1])))


def test_the_whole_demo_folder_imports_as_exactly_the_demo_study(demo_dir: Path, tmp_path: Path) -> None:
    """Importing the folder `myoscore demo` wrote (not its dicom/ subfolder) into a fresh study
    ends with the demo's exams: two subjects, four exams, the DICOM series of each, the label
    maps attached to the exams on their grids; the 32 NIfTI conversions are reported as
    duplicates of the DICOM series, and no exam holds only label maps."""
    db = open_database(str(tmp_path / "study.sqlite"), create=True)
    coordinator = CoordinatorSession(db, "coordinator")
    summary = import_paths(coordinator, [demo_dir])
    reference_db = open_database(str(tmp_path / "demo.sqlite"), create=True)
    reference = CoordinatorSession(reference_db, "demo")
    assert load_demo(reference, demo_dir)

    assert _exam_layout(coordinator) == _exam_layout(reference)
    assert len(coordinator.subjects()) == 2
    assert len(coordinator.exams()) == 4
    assert (summary.exams_added, summary.duplicates, summary.label_maps) == (4, 32, 16)
    for exam in coordinator.exams():
        kinds = {s.kind for s in coordinator.series(exam.id)}
        assert {Sequence.STIR, Sequence.T1, Sequence.LABEL_MAP} <= kinds
    # Every NIfTI conversion names its DICOM original, by series and exam.
    dicom_series = {s.path: s for s in coordinator.series()}
    duplicates = [e for e in summary.entries if e.action == "duplicate"]
    assert {Path(e.source).parent.parent.name for e in duplicates} == {"nifti"}
    for entry in duplicates:
        timepoint, name = Path(entry.source).parent.name, Path(entry.source).name.removesuffix(".nii.gz")
        original = dicom_series[str(Path(entry.source).parents[2] / "dicom" / timepoint / name)]
        assert f"duplicate of series {original.id} of exam {original.exam_id}" in entry.text()
    # Regions come from the label maps, as in the demo.
    regions = {s.path: s.regions for s in coordinator.series() if s.kind is Sequence.STIR}
    assert regions == {s.path: s.regions for s in reference.series() if s.kind is Sequence.STIR}

    again = import_paths(coordinator, [demo_dir])
    assert (again.series_added, again.exams_added) == (0, 0)
    assert again.series_known == 32 + 16
    db.dispose()
    reference_db.dispose()


def test_dry_run_prints_the_plan_and_writes_nothing(phantom: PhantomInfo, tmp_path: Path, monkeypatch,
                                                     capsys) -> None:
    """`import --dry-run` prints what each folder would become; the database file is byte for
    byte the same afterwards, and the real import then does what the preview said."""
    db_path = tmp_path / "cli.sqlite"
    monkeypatch.setenv("MYOSCORE_DB", str(db_path))
    monkeypatch.setenv("MYOSCORE_USER", "boss")
    monkeypatch.setenv("MYOSCORE_PASSWORD", "cli-pass-phrase")
    assert main(["init", "--coordinator", "boss"]) == 0
    assert main(["import", str(phantom.out_dir / "dicom" / "baseline")]) == 0
    capsys.readouterr()
    before = _study_dump(db_path)

    assert main(["import", "--dry-run", str(phantom.out_dir)]) == 0
    text = capsys.readouterr().out
    assert text.startswith("Preview, nothing written yet:")
    assert "would add 8 series (4 label maps) in 1 new exam;" in text
    assert "phantom/nifti/baseline/thigh_stir.nii.gz: STIR 6×64×64 — duplicate of series" in text
    assert "phantom/dicom/followup/thigh_stir: STIR 6×64×64 — to new exam #1 (subject SUBJ-0001)" in text
    assert "phantom/labels/thigh_labels.nii.gz: LABEL_MAP 6×64×64 — label map to be attached to exam 1" in text
    assert main(["import", "--dry-run", "--json", str(phantom.out_dir)]) == 0
    planned = json.loads(capsys.readouterr().out)
    assert _study_dump(db_path) == before  # only the two sign-ins were recorded

    assert main(["import", "--json", str(phantom.out_dir)]) == 0
    done = json.loads(capsys.readouterr().out)
    assert [(s["source"], s["action"]) for s in done["series"]] == [
        (s["source"], s["action"]) for s in planned["series"]]
    assert (done["series_added"], done["exams_added"], done["duplicates"]) == (
        planned["series_added"], planned["exams_added"], planned["duplicates"])
    assert (done["series_added"], done["exams_added"], done["duplicates"]) == (8, 1, 8)
    assert _study_dump(db_path) != before


def _study_dump(db_path: Path) -> list[str]:
    """Every row of the database but the audit trail's sign-ins (the CLI signs in each time)."""
    with sqlite3.connect(db_path) as con:
        rows = [line for line in con.iterdump() if "'sign_in'" not in line]
    con.close()
    return rows


def test_dry_run_through_the_api_leaves_the_file_byte_for_byte(phantom: PhantomInfo, coordinator, db_path) -> None:
    """``import_paths(..., dry_run=True)`` plans a whole study folder and writes nothing."""
    import_paths(coordinator, [phantom.out_dir / "dicom" / "baseline"])
    before = db_path.read_bytes()
    preview = import_paths(coordinator, [phantom.out_dir], dry_run=True)
    assert (preview.dry_run, preview.series_added, preview.exams_added, preview.duplicates) == (True, 8, 1, 8)
    assert db_path.read_bytes() == before
    assert len(coordinator.series()) == 4


def test_dicom_after_its_nifti_conversion_is_the_duplicate(phantom: PhantomInfo, coordinator) -> None:
    """Imported the other way round, the DICOM series are named duplicates of the stored NIfTI
    series; nothing is added, no exam is created."""
    first = import_paths(coordinator, [phantom.out_dir / "nifti" / "baseline"])
    assert (first.series_added, first.exams_added) == (4, 1)
    stored = {Path(s.files[0]).name.removesuffix(".nii.gz"): s for s in coordinator.series()}
    second = import_paths(coordinator, [phantom.out_dir / "dicom" / "baseline"])
    assert (second.series_added, second.exams_added, second.duplicates) == (0, 0, 4)
    for entry in second.entries:
        original = stored[Path(entry.source).name]
        assert entry.duplicate_of == original
        assert f"duplicate of series {original.id} of exam {original.exam_id}" in entry.text()
    assert len(coordinator.exams()) == 1


def test_same_grid_different_images_are_not_duplicates(phantom: PhantomInfo, coordinator) -> None:
    """Baseline and follow-up of the phantom share every grid; their voxels differ, so both stay."""
    import_paths(coordinator, [phantom.out_dir / "dicom" / "baseline"])
    summary = import_paths(coordinator, [phantom.out_dir / "nifti" / "followup"])
    assert (summary.series_added, summary.duplicates) == (4, 0)


def test_flipped_and_rescaled_copies_are_duplicates(phantom: PhantomInfo, coordinator, tmp_path: Path) -> None:
    """A NIfTI written with its rows flipped (as dcm2niix does) and its affine adjusted, and a
    float32 copy whose values differ from the stored ones by float rounding only, are the same
    images; a copy with one voxel changed is not."""
    import_paths(coordinator, [phantom.out_dir / "dicom" / "baseline"])
    stir = next(s for s in coordinator.series() if s.path.endswith("thigh_stir"))
    volume = load_series(list(stir.files))
    flipped_affine = np.array(volume.affine)
    rows = volume.shape[1]
    flipped_affine[:3, 3] += flipped_affine[:3, 1] * (rows - 1)
    flipped_affine[:3, 1] *= -1
    from myoscore.imaging import Volume

    out = tmp_path / "copies"
    write_nifti(Volume(np.ascontiguousarray(volume.voxels[:, ::-1, :]), flipped_affine, {}), out / "a" / "flip.nii.gz")
    noisy = volume.voxels.astype(np.float32) * np.float32(1.0000001)
    write_nifti(Volume(noisy, volume.affine, {}), out / "b" / "float.nii.gz")
    changed = np.array(volume.voxels)
    changed[3, 30, 30] += 1
    write_nifti(Volume(changed, volume.affine, {}), out / "c" / "changed.nii.gz")
    summary = import_paths(coordinator, [out])
    actions = {Path(e.source).name: e.action for e in summary.entries}
    assert actions == {"flip.nii.gz": "duplicate", "float.nii.gz": "duplicate", "changed.nii.gz": "new exam"}
    assert all(e.duplicate_of == stir for e in summary.entries if e.action == "duplicate")


def _philips_series(folder: Path, n: int = 4) -> np.ndarray:
    folder.mkdir(parents=True, exist_ok=True)
    uid, study = generate_uid(), generate_uid()
    stored = []
    for k in range(n):
        values = pixels(40 + k)
        stored.append(values)
        classic(folder / f"IM{k:04d}.dcm", study=study, series_uid=uid, z=5.0 * k, instance=k + 1, stored=values,
                rescale=(2.0, 0.0), philips=(0.25, None), manufacturer="Philips")
    return np.stack(stored)


def test_conversions_of_a_philips_series_in_display_or_real_world_values_are_duplicates(
        coordinator, tmp_path: Path) -> None:
    """A DICOM series whose real-world values (Philips floating point) differ from its display
    values: its NIfTI export in display values, in real-world values, and dcm2niix's conversion
    (Philips precise float, rows flipped) are all duplicates of it."""
    _philips_series(tmp_path / "dicom")
    import_paths(coordinator, [tmp_path / "dicom"])
    (series,) = coordinator.series()
    export_series_nifti(series, tmp_path / "exports" / "display.nii.gz")
    export_series_nifti(series, tmp_path / "exports" / "real.nii.gz", values="real_world")
    converter = shutil.which("dcm2niix") or dcm2niix.bin
    converted = tmp_path / "dcm2niix"
    converted.mkdir()
    done = subprocess.run([converter, "-z", "y", "-b", "n", "-f", "%s", "-o", str(converted), str(tmp_path / "dicom")],
                          capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    summary = import_paths(coordinator, [tmp_path / "exports", converted])
    assert {Path(e.source).name: e.action for e in summary.entries} == {
        "display.nii.gz": "duplicate", "real.nii.gz": "duplicate", "1.nii.gz": "duplicate"}
    assert len(coordinator.series()) == 1


def test_label_maps_never_make_an_exam_of_their_own(phantom: PhantomInfo, coordinator, tmp_path: Path) -> None:
    """Label maps alone, in a study with no exam on their grid: skipped, each with why; no exam
    is created. With two subjects on the same grid, the map is not guessed onto either."""
    summary = import_paths(coordinator, [phantom.out_dir / "labels"])
    assert (summary.series_added, summary.exams_added, summary.not_attached) == (0, 0, 2)
    assert coordinator.exams() == []
    assert all("no exam has an image series on this label map's grid" in e.reason for e in summary.entries)

    import_paths(coordinator, [phantom.out_dir / "dicom" / "baseline"], link_identity=False)
    import_paths(coordinator, [phantom.out_dir / "dicom" / "followup"], link_identity=False)
    assert len(coordinator.subjects()) == 2
    summary = import_paths(coordinator, [phantom.out_dir / "labels"])
    assert summary.series_added == 0
    assert all(e.action == "skipped" and "matches exams of 2 subjects" in e.reason for e in summary.entries)
    # Named by hand, it is attached.
    exam = coordinator.exams()[0]
    by_hand = import_paths(coordinator, [phantom.out_dir / "labels"], exam_id=exam.id)
    assert (by_hand.series_added, by_hand.label_maps) == (2, 2)
