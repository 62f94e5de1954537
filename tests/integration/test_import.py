"""Importing DICOM folders and NIfTI files into subjects, exams and series (real files, real SQLite)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from myoscore.app import CoordinatorSession
from myoscore.app.imports import import_paths
from myoscore.cli.main import main
from myoscore.domain import Sequence
from myoscore.phantom import PhantomInfo, write_phantom
from tests.integration.image_files import load_nifti1


@pytest.fixture(scope="module")
def phantom(tmp_path_factory: pytest.TempPathFactory) -> PhantomInfo:
    return write_phantom(tmp_path_factory.mktemp("phantom"), shape=(6, 64, 64), seed=3)


def _identity_links(db_path: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(db_path) as con:
        rows = con.execute("SELECT subject_id, patient_id FROM identity_links").fetchall()
    con.close()
    return rows


def test_import_registers_exams_and_series_once(coordinator: CoordinatorSession, phantom: PhantomInfo) -> None:
    """Two timepoints become two exams of one subject (linked by PatientID); re-import adds nothing."""
    first = import_paths(coordinator, [phantom.out_dir / "dicom" / "baseline"])
    second = import_paths(coordinator, [phantom.out_dir / "dicom" / "followup"])
    assert (first.exams_added, first.series_added) == (1, 4)
    assert (second.exams_added, second.series_added) == (1, 4)
    assert first.subjects == second.subjects
    assert len(coordinator.subjects()) == 1
    kinds = sorted(s.kind.value for s in coordinator.series())
    assert kinds == ["STIR"] * 4 + ["T1"] * 4
    again = import_paths(coordinator, [phantom.out_dir / "dicom"])
    assert (again.series_added, again.series_known, again.exams_added) == (0, 8, 0)
    assert len(coordinator.series()) == 8


def test_identity_link_can_be_turned_off(coordinator: CoordinatorSession, phantom: PhantomInfo, db_path: Path) -> None:
    """Without the link, nothing identifying is stored and each study gets its own pseudonym."""
    import_paths(coordinator, [phantom.out_dir / "dicom" / "baseline"], link_identity=False)
    import_paths(coordinator, [phantom.out_dir / "dicom" / "followup"], link_identity=False)
    assert _identity_links(db_path) == []
    assert len(coordinator.subjects()) == 2


def test_nothing_identifying_reaches_the_database_but_the_link(coordinator, phantom: PhantomInfo,
                                                               db_path: Path) -> None:
    """Patient name and birth date are nowhere in the database; PatientID only in the link table."""
    import_paths(coordinator, [phantom.out_dir / "dicom"])
    dump = "\n".join(sqlite3.connect(db_path).iterdump())
    patient_id = phantom.identifying["PatientID"]
    for name, value in phantom.identifying.items():
        if name == "PatientID" or not value:
            continue
        assert value not in dump, f"{name} {value!r} stored in the database"
    assert dump.count(patient_id) == 1  # the single identity_links row
    assert [row[1] for row in _identity_links(db_path)] == [patient_id]


def test_label_maps_attach_to_an_existing_exam(coordinator, phantom: PhantomInfo) -> None:
    """NIfTI label maps imported with exam_id become LABEL_MAP series of that exam, for each exam."""
    import_paths(coordinator, [phantom.out_dir / "dicom"])
    labels = sorted((phantom.out_dir / "labels").glob("*.nii.gz"))
    for exam in coordinator.exams():
        summary = import_paths(coordinator, labels, exam_id=exam.id)
        assert summary.series_added == len(labels)
        assert {s.kind for s in coordinator.series(exam.id)} == {Sequence.STIR, Sequence.T1, Sequence.LABEL_MAP}


def test_bad_files_are_skipped_with_reasons_and_change_nothing(coordinator, phantom, tmp_path: Path, db) -> None:
    """A folder of broken files next to good ones: reasons per file, good files imported, old rows intact."""
    import_paths(coordinator, [phantom.out_dir / "dicom" / "baseline"])
    before = [(s.id, s.kind, s.n_files) for s in coordinator.series()]
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "empty.dcm").write_bytes(b"")
    (folder / "notes.txt").write_text("not an image", encoding="utf-8")
    good = sorted((phantom.out_dir / "dicom" / "followup").rglob("*.dcm"))[0]
    (folder / "good.dcm").write_bytes(good.read_bytes())
    (folder / "truncated.dcm").write_bytes(good.read_bytes()[:700])
    summary = import_paths(coordinator, [folder])
    reasons = dict(summary.skipped)
    assert set(reasons) == {str(folder / n) for n in ("empty.dcm", "notes.txt", "truncated.dcm")}
    assert all(reason for reason in reasons.values())
    assert summary.series_added == 1
    assert [(s.id, s.kind, s.n_files) for s in coordinator.series()][: len(before)] == before


def test_cli_import_series_list_export_and_override(phantom: PhantomInfo, tmp_path: Path, monkeypatch, capsys) -> None:
    """The CLI imports, lists series without identifying fields, writes NIfTI, and overrides a kind (audited)."""

    monkeypatch.setenv("MYOSCORE_DB", str(tmp_path / "cli.sqlite"))
    monkeypatch.setenv("MYOSCORE_USER", "boss")
    monkeypatch.setenv("MYOSCORE_PASSWORD", "cli-pass-phrase")
    assert main(["init", "--coordinator", "boss"]) == 0
    capsys.readouterr()
    assert main(["import", str(phantom.out_dir / "dicom" / "baseline"), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["series_added"] == 4
    assert main(["series", "list", "--json"]) == 0
    listing = capsys.readouterr().out
    rows = json.loads(listing)
    assert {"id", "exam", "kind", "description", "shape", "spacing", "files"} <= set(rows[0])
    for value in phantom.identifying.values():
        if value:
            assert value not in listing
    stir = next(r for r in rows if r["kind"] == "STIR")
    out = tmp_path / "stir.nii.gz"
    assert main(["series", "export-nifti", str(stir["id"]), str(out)]) == 0
    image = load_nifti1(out)
    assert image.shape == tuple(reversed(stir["shape"]))
    assert main(["series", "set-kind", str(stir["id"]), "T2", "--reason", "wrong protocol name"]) == 0
    capsys.readouterr()
    assert main(["series", "list", "--json"]) == 0
    changed = next(r for r in json.loads(capsys.readouterr().out) if r["id"] == stir["id"])
    assert changed["kind"] == "T2"
    assert "wrong protocol name" in changed["kind_reason"]


def test_cli_demo_writes_an_importable_phantom(tmp_path: Path, monkeypatch, capsys) -> None:
    """`myoscore demo --out DIR` writes DICOM, NIfTI, label maps and ground truth that import as 8 series."""
    assert main(["demo", "--out", str(tmp_path / "phantom"), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert len(info["series"]) == 8
    assert all(Path(s["dicom_dir"]).is_dir() and Path(s["nifti_path"]).is_file() for s in info["series"])
    truth = json.loads((tmp_path / "phantom" / "ground_truth.json").read_text(encoding="utf-8"))
    assert truth
    monkeypatch.setenv("MYOSCORE_DB", str(tmp_path / "demo.sqlite"))
    monkeypatch.setenv("MYOSCORE_USER", "boss")
    monkeypatch.setenv("MYOSCORE_PASSWORD", "cli-pass-phrase")
    assert main(["init", "--coordinator", "boss"]) == 0
    capsys.readouterr()
    assert main(["import", str(tmp_path / "phantom" / "dicom"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["series_added"] == 8


def test_reimport_with_link_on_links_the_studys_own_subject(coordinator, phantom: PhantomInfo,
                                                             db_path: Path) -> None:
    """A study first imported without the link, then again with it: no empty subject appears,
    and the PatientID is linked to the subject the study already belongs to."""
    import_paths(coordinator, [phantom.out_dir / "dicom" / "baseline"], link_identity=False)
    (subject,) = coordinator.subjects()
    again = import_paths(coordinator, [phantom.out_dir / "dicom" / "baseline"])
    assert (again.series_added, again.exams_added) == (0, 0)
    assert coordinator.subjects() == [subject]
    assert _identity_links(db_path) == [(subject.id, phantom.identifying["PatientID"])]
