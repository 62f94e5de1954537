"""An exam's lifecycle end to end: excluded exams leave the reader's worklist, agreement,
consensus, scores, progress and every export, and come back with ``include_excluded`` /
``--include-excluded``; an exam can be deleted only while nothing of it is submitted."""

from __future__ import annotations

import csv
import json
import zipfile
from pathlib import Path

import pytest

from myoscore.app import CoordinatorSession, Database, ReaderSession, exam_lifecycle, sign_in, study
from myoscore.app.agreement_report import agreement_report
from myoscore.app.consensus import discordant_items, reconcile_reads, record_review_decision
from myoscore.app.consensus_status import tracked_consensus
from myoscore.app.derived_scores import derived_scores
from myoscore.app.export import export, export_dataset
from myoscore.cli.main import main
from myoscore.domain import AccessDenied, ConsensusMethod, MyoscoreError, Role, Sequence
from myoscore.schemes import Protocol

PROTOCOL = "nxp2_lower_limb"
DROPPED = "DROP-02"  # the subject of the exam that is excluded: no export may name it


def _reader(db: Database, name: str) -> ReaderSession:
    session = sign_in(db, name, f"pass-phrase-{name}")
    assert isinstance(session, ReaderSession)
    return session


def _read_of(coordinator: CoordinatorSession, reader: str, exam_id: int) -> int:
    """The id of ``reader``'s read of an exam (asked of the coordinator: under timepoint
    blinding a reader's view carries no exam id)."""
    return next(r.id for r in coordinator.reads(include_excluded=True)
                if r.reader_name == reader and r.exam_id == exam_id)


def _score(reader: ReaderSession, read_id: int, protocol: Protocol, offset: int, *, submit: bool = True) -> None:
    for i, item in enumerate(protocol.items):
        codes = protocol.scales[item.scale].codes
        reader.rate(read_id, item.key, codes[(i + offset * (i % 3 == 0)) % len(codes)])
    if submit:
        reader.submit(read_id)


@pytest.fixture
def scored(db: Database, coordinator: CoordinatorSession, nxp2: Protocol) -> dict[str, int]:
    """Three exams of two subjects read and submitted by A and B, reconciled by the mean policy."""
    for name in ("A", "B"):
        coordinator.add_reader(name, Role.READER, f"pass-phrase-{name}")
    exams = {
        "baseline": coordinator.add_exam("KEEP-01", "baseline", months_from_onset=2.0).id,
        "follow-up": coordinator.add_exam("KEEP-01", "follow-up", months_from_onset=14.0).id,
        "dropped": coordinator.add_exam(DROPPED, "baseline", months_from_onset=5.0).id,
    }
    coordinator.assign(nxp2, ["A", "B"], seed=3)
    for offset, name in enumerate(("A", "B")):
        reader = _reader(db, name)
        for read in reader.worklist():
            _score(reader, read.id, nxp2, offset)
    reconcile_reads(coordinator, PROTOCOL, ["A", "B"], ConsensusMethod.MEAN)
    return exams


def _texts(folder: Path) -> bytes:
    """Every byte written under ``folder``, workbooks unzipped."""
    data = b""
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        data += path.read_bytes()
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as workbook:
                data += b"".join(workbook.read(name) for name in workbook.namelist())
    return data


def test_an_excluded_exam_leaves_worklists_analysis_and_exports_and_comes_back(
        db: Database, coordinator: CoordinatorSession, scored: dict[str, int], nxp2: Protocol,
        tmp_path: Path) -> None:
    """Exclude one of three exams: the readers no longer see its reads, agreement, consensus,
    scores, progress and every export leave it out; include_excluded counts it again; including
    it again restores everything as it was (reads, ratings and consensus were kept)."""
    dropped = scored["dropped"]
    reader = _reader(db, "A")
    dropped_read = _read_of(coordinator, "A", dropped)
    assert dropped_read in {r.id for r in reader.worklist()}
    agreement_before = agreement_report(coordinator, PROTOCOL, ["A", "B"])
    scores_before = derived_scores(coordinator, PROTOCOL)
    consensus_before = tracked_consensus(coordinator, PROTOCOL)
    assert agreement_before.n_exams == 3

    done = exam_lifecycle.exclude_exam(coordinator, dropped, "duplicate of another import")
    assert done.changes == exam_lifecycle.EXAM_SCOPE
    assert done.value.excluded_reason == "duplicate of another import"

    # The reader: gone from the worklist, and refused by id like a foreign read.
    assert dropped_read not in {r.id for r in reader.worklist()}
    assert len(reader.worklist()) == 2
    with pytest.raises(AccessDenied):
        reader.ratings(dropped_read)
    # Agreement, consensus work lists, scores, progress.
    assert agreement_report(coordinator, PROTOCOL, ["A", "B"]).n_exams == 2
    assert agreement_report(coordinator, PROTOCOL, ["A", "B"], include_excluded=True) == agreement_before
    assert dropped not in {d.exam_id for d in discordant_items(coordinator, PROTOCOL, ["A", "B"])}
    assert dropped in {d.exam_id for d in discordant_items(coordinator, PROTOCOL, ["A", "B"], include_excluded=True)}
    assert dropped not in {t.value.exam_id for t in tracked_consensus(coordinator, PROTOCOL)}
    assert [e.exam.id for e in derived_scores(coordinator, PROTOCOL).exams] == [scored["baseline"],
                                                                              scored["follow-up"]]
    assert dropped in [e.exam.id for e in derived_scores(coordinator, PROTOCOL, reader="A",
                                                         include_excluded=True).exams]
    assert dropped not in [e.exam.id for e in derived_scores(coordinator, PROTOCOL, reader="A").exams]
    status = study.study_status(coordinator)
    assert (status["exams"], status["subjects"], status["excluded"]) == (2, 1, 1)
    assert sum(sum(counts.values()) for counts in status["progress"].values()) == 4
    assert DROPPED not in {r["subject"] for r in status["reads"]}
    assert dropped not in {r.exam_id for r in coordinator.reads()}
    assert dropped in {r.exam_id for r in coordinator.reads(include_excluded=True)}
    with pytest.raises(MyoscoreError, match=r"exam \d+ \(DROP-02 · baseline\) is excluded"):
        coordinator.assign(nxp2, ["A"], [dropped])
    with pytest.raises(MyoscoreError, match=r"\(DROP-02 · baseline\) is excluded \(duplicate of another import\); "
                                            "include it again to decide its consensus"):
        record_review_decision(coordinator, PROTOCOL, dropped, nxp2.items[0].key, "0")
    # Every export format.
    assert DROPPED not in {e.subject for e in export_dataset(coordinator, PROTOCOL).exams}
    formats = ["csv", "wide", "redcap", "xlsx", "figures", "sr"]
    left_out = export(coordinator, PROTOCOL, formats, tmp_path / "without", readers=["A", "B"])
    assert left_out
    assert DROPPED.encode() not in _texts(tmp_path / "without")
    with_it = export(coordinator, PROTOCOL, formats, tmp_path / "with", readers=["A", "B"], include_excluded=True)
    assert DROPPED.encode() in _texts(tmp_path / "with")
    assert len(with_it) > len(left_out)  # its SR files too

    included = exam_lifecycle.include_exam(coordinator, dropped)
    assert included.value.excluded_at is None
    assert dropped_read in {r.id for r in reader.worklist()}
    assert len(reader.ratings(dropped_read)) == len(nxp2.items)
    assert agreement_report(coordinator, PROTOCOL, ["A", "B"]) == agreement_before
    assert derived_scores(coordinator, PROTOCOL) == scores_before
    assert tracked_consensus(coordinator, PROTOCOL) == consensus_before
    events = [(e.action, e.target, e.old, e.new) for e in coordinator.audit_log(400)
              if e.action in {"exclude_exam", "include_exam"}]
    assert events == [("include_exam", f"exam {dropped}", "duplicate of another import", None),
                      ("exclude_exam", f"exam {dropped}", None, "duplicate of another import")]


def test_excluding_needs_a_reason_and_including_needs_an_excluded_exam(
        coordinator: CoordinatorSession, scored: dict[str, int]) -> None:
    """No reason, an unknown exam, a string id, an exam not excluded: each refused with a sentence."""
    exam_id = scored["baseline"]
    with pytest.raises(MyoscoreError, match="say why it is excluded"):
        exam_lifecycle.exclude_exam(coordinator, exam_id, "   ")
    with pytest.raises(MyoscoreError, match="no exam 999"):
        exam_lifecycle.exclude_exam(coordinator, 999, "gone")
    with pytest.raises(MyoscoreError, match="exam_id must be a whole number"):
        exam_lifecycle.exclude_exam(coordinator, str(exam_id), "gone")  # type: ignore[arg-type]
    with pytest.raises(MyoscoreError, match=rf"exam {exam_id} \(KEEP-01 · baseline\) is not excluded"):
        exam_lifecycle.include_exam(coordinator, exam_id)
    exam_lifecycle.exclude_exam(coordinator, exam_id, "motion")
    assert not exam_lifecycle.exclude_exam(coordinator, exam_id, "motion").changes  # the same again: nothing


def test_delete_is_refused_for_an_exam_with_submitted_reads(coordinator: CoordinatorSession,
                                                            scored: dict[str, int]) -> None:
    """The refusal names the exam and why, and nothing is deleted."""
    exam_id = scored["dropped"]
    with pytest.raises(MyoscoreError) as refused:
        exam_lifecycle.delete_exam(coordinator, exam_id)
    assert str(refused.value) == f"exam {exam_id} (DROP-02 · baseline) has 2 submitted reads; exclude it instead"
    assert exam_id in {e.id for e in coordinator.exams()}
    assert len([r for r in coordinator.reads() if r.exam_id == exam_id]) == 2


def test_delete_removes_an_unsubmitted_exam_its_reads_series_and_emptied_subject(
        db: Database, coordinator: CoordinatorSession, nxp2: Protocol) -> None:
    """An exam whose reads are only begun goes with its reads, ratings, series rows and
    subject (no other exam); the other exam of a subject keeps the subject; all audited."""
    coordinator.add_reader("A", Role.READER, "pass-phrase-A")
    kept = coordinator.add_exam("KEEP-01", "baseline")
    labels_only = coordinator.add_exam("LABELS-9", "exam 1")
    second = coordinator.add_exam("KEEP-01", "follow-up")
    coordinator.add_series(labels_only.id, "1.2.3.labels", Sequence.LABEL_MAP, path="/nowhere",
                           files=["/nowhere/labels.nii.gz"])
    coordinator.assign(nxp2, ["A"], seed=1)
    reader = _reader(db, "A")
    begun = _read_of(coordinator, "A", labels_only.id)
    _score(reader, begun, nxp2, 0, submit=False)

    plan = exam_lifecycle.deletion_plan(coordinator, labels_only.id)
    assert plan.sentence() == (f"exam {labels_only.id} (LABELS-9 · exam 1): 1 read with {len(nxp2.items)} ratings, "
                               "1 series and subject LABELS-9")
    done = exam_lifecycle.delete_exam(coordinator, labels_only.id)
    assert done.value == plan
    assert done.changes == exam_lifecycle.DELETED
    assert [e.id for e in coordinator.exams()] == [kept.id, second.id]
    assert "LABELS-9" not in {s.code for s in coordinator.subjects()}
    assert coordinator.series() == []
    assert begun not in {r.id for r in reader.worklist()}
    with pytest.raises(AccessDenied):
        reader.ratings(begun)
    actions = {e.action: e for e in coordinator.audit_log(200)}
    assert actions["delete_read"].target == f"read {begun}"
    assert actions["delete_exam"].old == f"LABELS-9 exam 1: 1 reads, {len(nxp2.items)} ratings, 1 series"
    assert actions["delete_subject"].target == "subject LABELS-9"

    # The follow-up of a subject with another exam: the subject stays.
    assert not exam_lifecycle.delete_exam(coordinator, second.id).value.subject_deleted
    assert {s.code for s in coordinator.subjects()} == {"KEEP-01"}


def test_cli_exams_exclude_include_delete_and_include_excluded(
        scored: dict[str, int], cli_coordinator: str, db_path: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """`exams exclude/list/include/delete` and `--include-excluded` on agreement, scores,
    status and export; a refusal is one line and exit 1."""
    db = ["--db", str(db_path)]
    dropped = scored["dropped"]
    assert main([*db, "exams", "exclude", str(dropped), "--reason", "withdrew consent"]) == 0
    assert "excluded exam" in capsys.readouterr().out
    assert main([*db, "exams", "list"]) == 0
    listing = capsys.readouterr().out
    assert f"{DROPPED:<14} baseline  EXCLUDED: withdrew consent" in listing
    assert main([*db, "exams", "list", "--json"]) == 0
    rows = {row["exam"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows[dropped]["excluded_reason"] == "withdrew consent"
    assert not rows[scored["baseline"]]["excluded"]

    assert main([*db, "agreement", "--protocol", PROTOCOL, "--readers", "A,B", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["n_exams"] == 2
    assert main([*db, "agreement", "--protocol", PROTOCOL, "--readers", "A,B", "--json", "--include-excluded"]) == 0
    assert json.loads(capsys.readouterr().out)["n_exams"] == 3
    assert main([*db, "scores", "--protocol", PROTOCOL, "--json"]) == 0
    assert dropped not in {e["exam"]["id"] for e in json.loads(capsys.readouterr().out)["exams"]}
    assert main([*db, "scores", "--protocol", PROTOCOL, "--json", "--include-excluded"]) == 0
    assert dropped in {e["exam"]["id"] for e in json.loads(capsys.readouterr().out)["exams"]}
    assert main([*db, "status"]) == 0
    assert "1 subject, 2 exams (1 excluded, not counted), " in capsys.readouterr().out

    for flag, present in (([], False), (["--include-excluded"], True)):
        out = tmp_path / f"tidy{len(flag)}.csv"
        assert main([*db, "export", "--format", "csv", "--out", str(out), *flag]) == 0
        with out.open(newline="", encoding="utf-8") as handle:
            subjects = {row["subject"] for row in csv.DictReader(handle)}
        assert (DROPPED in subjects) is present
    capsys.readouterr()

    assert main([*db, "exams", "delete", str(dropped)]) == 1
    assert capsys.readouterr().err.strip() == (f"myoscore: exam {dropped} (DROP-02 · baseline) has 2 submitted "
                                               "reads; exclude it instead")
    assert main([*db, "exams", "include", str(dropped)]) == 0
    assert main([*db, "exams", "include", str(dropped)]) == 1
    assert "is not excluded" in capsys.readouterr().err
    with pytest.raises(SystemExit) as usage:  # --reason is required: a usage error
        main([*db, "exams", "exclude", str(dropped)])
    assert usage.value.code == 2
