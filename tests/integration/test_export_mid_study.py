"""Export whatever exists (issue 14): a half-finished study's export writes figures for the
finished exams, names the rest with the reason, and its exit code and summary agree; the
same study's status filtered by reader and status."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from myoscore.app import CoordinatorSession, ReaderSession, sign_in
from myoscore.app.consensus import reconcile_reads
from myoscore.app.export import export_files
from myoscore.cli.main import main
from myoscore.domain import ConsensusMethod, MyoscoreError, Role
from myoscore.schemes import Protocol

PROTOCOL = "nxp2_lower_limb"


def score(db, name: str, protocol: Protocol, exam_ids: set[int], *, submit: bool = True) -> None:
    """Reader ``name`` scores every item of their reads of ``exam_ids`` (B one level up on
    edema where it can) and submits them (or leaves them in progress)."""
    reader = sign_in(db, name, f"pass-phrase-{name}")
    assert isinstance(reader, ReaderSession)
    # A timepoint-blinded reader sees no exam ids: the coordinator's view says which is which.
    exam_of = {read.id: read.exam_id for read in CoordinatorSession(db, "test-coordinator").reads()}
    for read in reader.worklist():
        if exam_of[read.id] not in exam_ids:
            continue
        for i, item in enumerate(protocol.items):
            codes = protocol.scales[item.scale].codes
            reader.rate(read.id, item.key, codes[(i + (name == "B" and i % 4 == 0)) % len(codes)])
        if submit:
            reader.submit(read.id)


def svg_text(path: Path) -> str:
    """Every text of an SVG figure, lines joined by spaces (titles wrap onto several lines)."""
    import xml.etree.ElementTree as ET

    return " ".join(" ".join(element.itertext()).strip() for element in ET.parse(path).iter()
                    if element.tag.endswith("}text"))


def exam_id(coordinator: CoordinatorSession, subject: str, label: str) -> int:
    return next(e.id for e in coordinator.exams() if e.subject_code == subject and e.label == label)


@pytest.fixture
def half_done(db, coordinator: CoordinatorSession, nxp2: Protocol) -> CoordinatorSession:
    """Five exams of three subjects. Both readers submitted S-01's two exams and S-02's
    follow-up; S-02's baseline only A (B in progress); S-03 nobody. The mean policy then
    gives consensus to three exams."""
    for name in ("A", "B"):
        coordinator.add_reader(name, Role.READER, f"pass-phrase-{name}")
    for subject, labels in (("S-01", ("baseline", "follow-up")), ("S-02", ("baseline", "follow-up")),
                            ("S-03", ("baseline",))):
        for label in labels:
            coordinator.add_exam(subject, label)
    coordinator.assign(nxp2, ["A", "B"], seed=8)
    done = {exam_id(coordinator, "S-01", "baseline"), exam_id(coordinator, "S-01", "follow-up"),
            exam_id(coordinator, "S-02", "follow-up")}
    s02_baseline = exam_id(coordinator, "S-02", "baseline")
    score(db, "A", nxp2, done | {s02_baseline})
    score(db, "B", nxp2, done)
    score(db, "B", nxp2, {s02_baseline}, submit=False)
    reconcile_reads(coordinator, PROTOCOL, ["A", "B"], ConsensusMethod.MEAN)
    return coordinator


def test_half_finished_study_writes_figures_for_the_finished_exams(half_done, cli_coordinator, db_path: Path,
                                                                  tmp_path: Path, capsys) -> None:
    """`export --format all` exits 0, lists every file and names the two exams left out of
    the figures with the reason; the figure titles name them too; no staging folder stays."""
    out = tmp_path / "export"
    assert main(["--db", str(db_path), "export", "--format", "all", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    lines = printed.splitlines()
    written = [Path(line.split()[-1]) for line in lines if line.startswith("  ")]
    assert lines[0] == f"wrote {len(written)} files under {out}"
    assert all(p.is_file() for p in written)
    assert sorted(written) == sorted(p for p in out.rglob("*") if p.is_file())
    names = {p.name for p in written}
    assert {"nxp2_lower_limb_heatmap_edema.png", "nxp2_lower_limb_summed_scores.svg",
            "nxp2_lower_limb_stir_t1_heatmaps_lower.pdf", "nxp2_lower_limb_ratings_tidy.csv"} <= names
    s02, s03 = exam_id(half_done, "S-02", "baseline"), exam_id(half_done, "S-03", "baseline")
    summary = next(line for line in lines if line.startswith("figures from consensus"))
    assert summary.startswith("figures from consensus: 3 of 5 exams; left out: ")
    assert f"exam {s02} (S-02 · baseline): no consensus yet (1 of 2 reads submitted)" in summary
    assert f"exam {s03} (S-03 · baseline): no consensus yet (0 of 2 reads submitted)" in summary
    assert not [p for p in out.iterdir() if p.name.startswith(".myoscore-export-")]

    svg = svg_text(out / "figures" / "nxp2_lower_limb_heatmap_edema.svg")
    assert "1 of 3 exams; left out: S-02 · baseline (no consensus yet (1 of 2 reads submitted));" in svg
    assert "S-03 · baseline (no consensus yet (0 of 2 reads submitted))" in svg
    follow = svg_text(out / "figures" / "nxp2_lower_limb_stir_t1_heatmaps_lower.svg")
    assert "first and last exam of 1 subject with a follow-up" in follow  # S-01 only
    assert "S-02 · baseline" in follow


def test_no_baseline_with_consensus_skips_those_figures_and_says_why(db, coordinator: CoordinatorSession,
                                                                    nxp2: Protocol, cli_coordinator,
                                                                    db_path: Path, tmp_path: Path,
                                                                    capsys) -> None:
    """Today's failure ("no exam of order 1 has ratings from 'consensus'"): consensus only on
    a follow-up. The baseline figures are skipped with the reason, the rest is written, exit 0."""
    for name in ("A", "B"):
        coordinator.add_reader(name, Role.READER, f"pass-phrase-{name}")
    coordinator.add_exam("S-01", "baseline")
    coordinator.add_exam("S-01", "follow-up")
    coordinator.assign(nxp2, ["A", "B"], seed=2)
    follow_up = exam_id(coordinator, "S-01", "follow-up")
    for name in ("A", "B"):
        score(db, name, nxp2, {follow_up})
    reconcile_reads(coordinator, PROTOCOL, ["A", "B"], ConsensusMethod.MEAN)
    out = tmp_path / "export"
    assert main(["--db", str(db_path), "export", "--format", "all", "--out", str(out), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    for fmt in ("csv", "wide", "redcap", "xlsx", "sr"):
        assert result["written"][fmt], fmt
    skipped = {s["what"]: s["reason"] for s in result["skipped"]}
    assert skipped["nxp2_lower_limb_heatmap_edema"] == ("no baseline exam has ratings from consensus: "
                                                        "S-01 · baseline (no consensus yet (0 of 2 reads submitted))")
    assert "nxp2_lower_limb_stir_t1_heatmaps_lower" in skipped
    assert result["left_out"] == [{"exam": exam_id(coordinator, "S-01", "baseline"), "name": "S-01 · baseline",
                                   "reason": "no consensus yet (0 of 2 reads submitted)"}]
    # Figures from a reader instead: A's follow-up has no baseline either; nothing to draw is an error.
    code = main(["--db", str(db_path), "export", "--format", "figures", "--source", "A", "--out",
                 str(tmp_path / "a")])
    assert code == 1
    assert "nothing written for nxp2_lower_limb: nxp2_lower_limb_heatmap_edema: no baseline exam has ratings " \
           "from A" in capsys.readouterr().err
    assert not (tmp_path / "a").exists() or not any((tmp_path / "a").iterdir())


def test_a_failing_export_writes_nothing(half_done, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A writer failing half-way (here the XLSX writer) leaves the folder as it was: no file
    of the formats written before it, no staging folder."""
    from myoscore.export import formats

    def broken(dataset, path):
        raise OSError("disk full")

    monkeypatch.setitem(formats.WRITERS, "xlsx", broken)
    out = tmp_path / "export"
    with pytest.raises(OSError, match="disk full"):
        export_files(half_done, PROTOCOL, ["csv", "wide", "xlsx", "figures"], out)
    assert list(out.rglob("*")) == []


def test_figures_from_an_unknown_reader_are_refused(half_done, tmp_path: Path) -> None:
    with pytest.raises(MyoscoreError, match="no such reader has reads of nxp2_lower_limb"):
        export_files(half_done, PROTOCOL, ["figures"], tmp_path / "x", source="Z")
    assert not (tmp_path / "x").exists()


def test_status_filters_by_reader_and_status(half_done, cli_coordinator, db_path: Path, capsys) -> None:
    """`status --reader B --status open` lists B's two reads not yet submitted, says how many
    of all reads it shows, and counts with the right plural; an unknown reader is refused."""
    assert main(["--db", str(db_path), "status", "--reader", "B", "--status", "open"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("3 subjects, 5 exams, ")
    assert "reads of B, open: 2 of 10 reads" in lines
    listed = [line for line in lines if line.startswith("  read ")]
    assert len(listed) == 2
    assert all(" B " in line and "submitted" not in line for line in listed)
    assert main(["--db", str(db_path), "status", "--status", "submitted", "--json"]) == 0
    view = json.loads(capsys.readouterr().out)
    assert len(view["reads"]) == 7  # A: 4, B: 3
    assert {row["status"] for row in view["reads"]} == {"submitted"}
    assert view["total_reads"] == 10
    assert view["stale_consensus"] == {}
    assert main(["--db", str(db_path), "status", "--reader", "Z"]) == 1
    assert "no reader named 'Z'" in capsys.readouterr().err
