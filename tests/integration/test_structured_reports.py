"""Reads and consensus as DICOM SR: exported by the CLI, accepted by independent validators
(dicom3tools' dciodvfy, dcmtk's dsrdump), pseudonymous, and read back to the same ratings."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pydicom
import pytest

from myoscore.app import CoordinatorSession, ReaderSession, open_database, sign_in
from myoscore.app.consensus import reconcile_reads
from myoscore.app.imports import import_paths
from myoscore.app.schemes import scheme_library
from myoscore.cli.main import main
from myoscore.domain import NOT_EVALUABLE, ConsensusMethod, Role
from myoscore.phantom import PhantomInfo, write_phantom
from tests.integration.dicom_tools import require


@pytest.fixture(scope="module")
def phantom(tmp_path_factory: pytest.TempPathFactory) -> PhantomInfo:
    return write_phantom(tmp_path_factory.mktemp("phantom"), shape=(4, 48, 48), seed=3)


@pytest.fixture(scope="module")
def db_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("db") / "study.sqlite"


@pytest.fixture(scope="module")
def scored(db_path: Path, phantom: PhantomInfo) -> Iterator[CoordinatorSession]:
    """Two readers score both imported exams (differently, one item not evaluable); mean consensus.
    Built once for the module: the tests below only read it."""
    db = open_database(str(db_path), create=True)
    coordinator = CoordinatorSession(db, "test-coordinator")
    nxp2 = scheme_library().protocol("nxp2_lower_limb")
    import_paths(coordinator, [phantom.out_dir / "dicom"])
    for name in ("A", "B"):
        coordinator.add_reader(name, Role.READER, f"pass-phrase-{name}")
    coordinator.assign(nxp2, ["A", "B"], seed=4)
    for offset, name in enumerate(("A", "B")):
        reader = sign_in(db, name, f"pass-phrase-{name}")
        assert isinstance(reader, ReaderSession)
        for read in reader.worklist():
            for i, item in enumerate(nxp2.items):
                codes = nxp2.scales[item.scale].codes
                reader.rate(read.id, item.key, NOT_EVALUABLE if i == 7 else codes[(i + offset) % len(codes)])
            reader.submit(read.id)
    reconcile_reads(coordinator, "nxp2_lower_limb", ["A", "B"], ConsensusMethod.MEAN)
    coordinator.add_reader("boss", Role.COORDINATOR, "cli-pass-phrase")
    with pytest.MonkeyPatch.context() as env:  # the CLI signs in as this coordinator
        env.setenv("MYOSCORE_USER", "boss")
        env.setenv("MYOSCORE_PASSWORD", "cli-pass-phrase")
        yield coordinator
    db.dispose()


@pytest.fixture(scope="module")
def exported(scored: CoordinatorSession, db_path: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    out = tmp_path_factory.mktemp("sr")
    assert main(["--db", str(db_path), "export", "--format", "sr", "--out", str(out)]) == 0
    return sorted(out.glob("*.dcm"))


def test_export_writes_one_sr_per_read_and_consensus(exported: list[Path], scored: CoordinatorSession) -> None:
    """2 exams × (2 readers + consensus) = 6 SRs, each a Comprehensive 3D SR referencing the exam's series."""
    assert len(exported) == 6
    assert sum(p.name.endswith("_consensus.dcm") for p in exported) == 2
    series_uids = {s.dicom_uid for s in scored.series()}
    for path in exported:
        ds = pydicom.dcmread(path)
        assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.88.34"  # Comprehensive 3D SR
        referenced = {s.SeriesInstanceUID for st in ds.CurrentRequestedProcedureEvidenceSequence
                      for s in st.ReferencedSeriesSequence}
        assert referenced
        assert referenced <= series_uids


def test_round_trip_gives_the_same_ratings(exported: list[Path], db_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """``myoscore import-sr`` decodes every SR from its codes and finds it equal to the database."""
    capsys.readouterr()
    assert main(["--db", str(db_path), "import-sr", "--json", *map(str, exported)]) == 0
    results = json.loads(capsys.readouterr().out)
    assert [r["matches"] for r in results] == [True] * 6
    assert {r["observer"] for r in results} == {"A", "B", "test-coordinator"}
    assert {r["items"] for r in results if r["kind"] == "read"} == {50}  # every item of nxp2
    assert all(r["items"] > 0 for r in results if r["kind"] == "consensus")


def test_a_changed_grade_is_found(exported: list[Path], db_path: Path, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    """Editing one grade code in an SR makes import-sr report that item (exit status 1)."""
    path = next(p for p in exported if p.name.endswith("_A.dcm"))
    ds = pydicom.dcmread(path)
    groups = ds.ContentSequence[-1].ContentSequence
    evaluation = next(c for g in groups for c in g.ContentSequence
                      if c.ValueType == "CODE" and c.ConceptCodeSequence[0].get("CodeValue") == "NE")
    evaluation.ConceptCodeSequence[0].CodeValue = "edema_0_5.5"
    evaluation.ConceptCodeSequence[0].CodeMeaning = "Moderate, intrafascicular, global"
    edited = tmp_path / "edited.dcm"
    ds.save_as(edited)
    capsys.readouterr()
    assert main(["--db", str(db_path), "import-sr", str(edited)]) == 1
    out = capsys.readouterr().out
    assert "1 difference:" in out or "1 difference\n" in out
    assert "1 differences" not in out
    assert "('5', 5.0) vs database ('NE', None)" in out


def test_srs_are_pseudonymous(exported: list[Path], phantom: PhantomInfo, scored: CoordinatorSession) -> None:
    """The patient module is the subject code; no identifying header value of the images appears."""
    codes = {e.subject_code for e in scored.exams()}
    forbidden = [v for v in phantom.identifying.values() if v and len(v) >= 4] + ["20240115"]
    for path in exported:
        ds = pydicom.dcmread(path)
        assert ds.PatientID in codes
        assert str(ds.PatientName).rstrip("^") == ds.PatientID
        data = path.read_bytes()
        for value in forbidden:
            assert value.encode() not in data, f"{value!r} in {path.name}"


def test_independent_validators_accept_the_srs(exported: list[Path]) -> None:
    """dciodvfy finds no IOD error (only warnings about the private coding scheme); dsrdump
    parses the document tree with its relationship constraints on and reports nothing."""
    tools = require("dciodvfy", "dsrdump")
    for path in (exported[0], next(p for p in exported if p.name.endswith("_consensus.dcm"))):
        check = subprocess.run([tools["dciodvfy"], str(path)], capture_output=True, text=True, check=False)
        lines = (check.stdout + check.stderr).splitlines()
        assert not [line for line in lines if line.startswith("Error")], lines
        assert "Comprehensive3DSR" in lines
        dump = subprocess.run([tools["dsrdump"], "-ll", "warn", "+Pt", str(path)], capture_output=True, text=True,
                              check=False)
        assert dump.returncode == 0
        assert dump.stderr == ""
        assert "TID 1500" in dump.stdout or "Imaging Measurement Report" in dump.stdout
        assert '(24028007,SCT,"Right")' in dump.stdout
        assert "99MYOSCORE" in dump.stdout


def test_an_exam_without_images_gets_valid_uids() -> None:
    """An exam with no image headers has a derived 64-character study UID; the SR's evidence
    UIDs are derived from it too, never the study UID plus a suffix (over 64 characters)."""
    from myoscore.export.sr import SrSubject, build_sr, uid_for

    protocol = scheme_library().protocol("nxp2_lower_limb")
    key = protocol.items[0].key
    study_uid = uid_for("exam", "S-01", "baseline", "1")
    sr = build_sr(protocol, {key: ("0", 0.0)}, kind="read", observer="A",
                  subject=SrSubject("S-01", study_uid, "baseline"))
    uids = [str(v.value) for v in sr.iterall() if v.VR == "UI"]
    assert uids
    assert all(len(uid) <= 64 for uid in uids), [u for u in uids if len(u) > 64]


def test_identified_srs_carry_the_linked_patient_id_and_are_audited(scored: CoordinatorSession, db_path: Path,
                                                                    phantom: PhantomInfo, tmp_path: Path) -> None:
    """The coordinator's identified export (to send results back to the hospital's PACS):
    PatientID from the identity link, each subject's reveal audited; the default stays
    pseudonymous."""
    from myoscore.app.structured_reports import export_sr

    written = export_sr(scored, "nxp2_lower_limb", tmp_path / "identified", identified=True)
    assert len(written) == 6
    assert {str(pydicom.dcmread(p).PatientID) for p in written} == {phantom.identifying["PatientID"]}
    reveals = [e for e in scored.audit_log(500) if e.action == "reveal_identity"]
    assert {e.target for e in reveals} >= {f"subject {e.subject_code}" for e in scored.exams()}
    assert all(e.new == "identified sr nxp2_lower_limb" for e in reveals)
    out = tmp_path / "cli"  # the same through the CLI
    assert main(["--db", str(db_path), "export", "--format", "sr", "--identified", "--out", str(out)]) == 0
    assert {str(pydicom.dcmread(p).PatientID) for p in out.rglob("*.dcm")} == {phantom.identifying["PatientID"]}


def test_identified_srs_are_refused_without_a_link(tmp_path: Path) -> None:
    from myoscore.app.structured_reports import export_sr
    from myoscore.domain import MyoscoreError

    db = open_database(str(tmp_path / "nolink.sqlite"), create=True)
    coordinator = CoordinatorSession(db, "c")
    nxp2 = scheme_library().protocol("nxp2_lower_limb")
    coordinator.add_exam("S-NOLINK", "baseline")
    coordinator.add_reader("A", Role.READER, "pass-phrase-A")
    coordinator.assign(nxp2, ["A"], seed=1)
    reader = sign_in(db, "A", "pass-phrase-A")
    assert isinstance(reader, ReaderSession)
    (read,) = reader.worklist()
    for item in nxp2.items:
        reader.rate(read.id, item.key, nxp2.scales[item.scale].codes[0])
    reader.submit(read.id)
    with pytest.raises(MyoscoreError, match="no PatientID is linked to subject S-NOLINK"):
        export_sr(coordinator, "nxp2_lower_limb", tmp_path / "out", identified=True)
    assert not (tmp_path / "out").exists()
    db.dispose()
