"""Agreement report, consensus and derived scores with the real store, and their CLI."""

from __future__ import annotations

import inspect
import json
import random
from pathlib import Path

import pytest
from sklearn.metrics import cohen_kappa_score

import myoscore.cli.main as cli_main
from myoscore.app import CoordinatorSession, ReaderSession, analysis, sign_in
from myoscore.app.coordination import consensus_for, submitted_reads
from myoscore.domain import AccessDenied, ConsensusMethod, InvalidValue, MyoscoreError, NotFound, Role
from myoscore.schemes import Protocol

# Items whose codes the tests fix on every exam; everything else is drawn at random.
FIXED_A = {"edema.thigh.anterior.R": "2", "edema.thigh.medial.R": "NE", "edema_pattern.thigh": "patchy",
           "edema.thigh.anterior.L": "4", "fat.calf.lateral.R": "1"}
FIXED_B = {"edema.thigh.anterior.R": "3", "edema.thigh.medial.R": "1", "edema_pattern.thigh": "diffuse",
           "edema.thigh.anterior.L": "4", "fat.calf.lateral.R": "1"}


def codes_for(protocol: Protocol, exam_id: int) -> tuple[dict[str, str], dict[str, str]]:
    """Two readers' codes for one exam: B agrees with A on about 70 % of the drawn items."""
    rng = random.Random(exam_id)
    a: dict[str, str] = {}
    b: dict[str, str] = {}
    for item in protocol.items:
        codes = protocol.scales[item.scale].codes
        a[item.key] = rng.choice(codes)
        roll = rng.random()
        b[item.key] = a[item.key] if roll < 0.7 else ("NE" if roll > 0.95 else rng.choice(codes))
    return {**a, **FIXED_A}, {**b, **FIXED_B}


def sign(db, name: str) -> ReaderSession:
    session = sign_in(db, name, f"pass-phrase-{name}")
    assert isinstance(session, ReaderSession)
    return session


def exam_of(coordinator: CoordinatorSession) -> dict[int, int]:
    """Read id → exam id: the coordinator's (a timepoint-blinded reader sees no exam id)."""
    return {read.id: read.exam_id for read in coordinator.reads()}


def fill(session: ReaderSession, codes: dict[int, dict[str, str]], *, submit: bool = True,
         exams: dict[int, int]) -> None:
    for read in session.worklist():
        for key, code in codes[exams[read.id]].items():
            session.rate(read.id, key, code)
        if submit:
            session.submit(read.id)


@pytest.fixture
def read_study(db, study: CoordinatorSession, nxp2: Protocol):
    """Both readers of the `study` fixture have scored every item of both exams and submitted."""
    exams = [e.id for e in study.exams()]
    drawn = {exam: codes_for(nxp2, exam) for exam in exams}
    fill(sign(db, "A"), {exam: pair[0] for exam, pair in drawn.items()}, exams=exam_of(study))
    fill(sign(db, "B"), {exam: pair[1] for exam, pair in drawn.items()}, exams=exam_of(study))
    return study, drawn


def rows_by_label(report) -> dict[str, analysis.AgreementRow]:
    return {row.label: row for row in report.rows}


# -- agreement report -----------------------------------------------------------------------
def test_agreement_report_rows_and_kappa(read_study, nxp2: Protocol) -> None:
    """One row per indicator and region, per indicator overall, per compartment and overall;
    the thigh muscle-edema κ and linear weighted κ equal scikit-learn's on the same pairs."""
    coordinator, drawn = read_study
    report = analysis.agreement_report(coordinator, "nxp2_lower_limb", ["A", "B"])
    rows = rows_by_label(report)
    assert report.n_exams == 2
    for indicator in ("Subcutaneous edema", "Fascia edema", "Muscle edema", "Fatty infiltration"):
        assert {f"{indicator}, thigh", f"{indicator}, calf", f"{indicator}, overall"} <= set(rows)
    assert "Thigh, anterior compartment: Muscle edema" in rows
    # The row over every item pools different scales: labelled as what it is (issue 10).
    assert report.rows[-1].kind == "overall"
    assert "pooled across scales" in report.rows[-1].label
    assert "descriptive" in report.rows[-1].label
    assert report.min_pairs == 10

    keys = [it.key for it in nxp2.items if it.measure == "edema" and it.unit.region == "thigh"]
    pairs = [(a[k], b[k]) for a, b in drawn.values() for k in keys]
    compared = [(x, y) for x, y in pairs if "NE" not in (x, y)]
    labels = list(nxp2.scales["edema_0_5"].codes)
    row = rows["Muscle edema, thigh"]
    assert (row.n_items, row.n_compared) == (len(pairs), len(compared))
    assert row.n_not_evaluable == len(pairs) - len(compared) >= 2  # medial R is NE vs 1 on both exams
    assert row.percent_agreement == pytest.approx(100 * sum(x == y for x, y in compared) / len(compared))
    first, second = zip(*compared, strict=True)
    assert row.kappa == pytest.approx(cohen_kappa_score(first, second, labels=labels))
    assert row.weighted_kappa == pytest.approx(cohen_kappa_score(first, second, labels=labels, weights="linear"))
    assert row.kappa_ci_low <= row.kappa <= row.kappa_ci_high
    assert rows["Subcutaneous edema, thigh"].weighted_kappa is None  # binary: no weighted κ
    assert rows["Edema pattern, thigh"].categories == ("none", "patchy", "diffuse", "mixed")


def test_agreement_counts_only_submitted_reads_and_is_audited(read_study) -> None:
    """Reopening one of B's reads drops that exam from the report; each reveal is audited."""
    coordinator, _ = read_study
    b_read = next(r for r in coordinator.reads("nxp2_lower_limb") if r.reader_name == "B")
    coordinator.reopen(b_read.id, "typo")
    report = analysis.agreement_report(coordinator, "nxp2_lower_limb", ["A", "B"])
    assert report.n_exams == 1
    reveals = [e for e in coordinator.audit_log(10) if e.action == "reveal_ratings"]
    assert len(reveals) == 2
    assert all(e.actor == "test-coordinator" and "agreement" in (e.new or "") for e in reveals)


def test_refusals_name_the_problem(read_study, db) -> None:
    """Unknown reader, a reader with nothing submitted, a reader named twice, an unknown protocol."""
    coordinator, _ = read_study
    coordinator.add_reader("C", Role.ADJUDICATOR, "pass-phrase-C")
    with pytest.raises(NotFound, match="no reader named 'Z'"):
        analysis.agreement_report(coordinator, "nxp2_lower_limb", ["A", "Z"])
    with pytest.raises(NotFound, match="reader C has no submitted reads for protocol nxp2_lower_limb"):
        analysis.agreement_report(coordinator, "nxp2_lower_limb", ["A", "C"])
    with pytest.raises(MyoscoreError, match="named twice"):
        analysis.reconcile_reads(coordinator, "nxp2_lower_limb", ["A", "A"], "mean")
    with pytest.raises(NotFound, match="no read in this database uses protocol 'imnm_whole_body'"):
        analysis.agreement_report(coordinator, "imnm_whole_body", ["A", "B"])
    with pytest.raises(MyoscoreError, match="--adjudicator"):
        analysis.reconcile_reads(coordinator, "nxp2_lower_limb", ["A", "B"], "adjudicator")


# -- consensus -------------------------------------------------------------------------------
def test_mean_consensus_is_stored_audited_and_leaves_ratings_alone(read_study, db) -> None:
    """Mean: 2 and 3 stored as 2.5 with method, decider and sources; audited None → value;
    NE vs 1 and patchy vs diffuse left for review; the readers' ratings are unchanged."""
    coordinator, _ = read_study
    a = sign(db, "A")
    before = {read.id: a.ratings(read.id) for read in a.worklist()}
    outcome = analysis.reconcile_reads(coordinator, "nxp2_lower_limb", ["A", "B"], "mean")
    assert outcome.n_exams == 2
    stored = {(c.exam_id, c.item_key): c for c in analysis.consensus_list(coordinator, "nxp2_lower_limb")}
    exam_id = exam_of(coordinator)[a.worklist()[0].id]
    mean = stored[(exam_id, "edema.thigh.anterior.R")]
    assert (mean.code, mean.value, mean.method) == (None, 2.5, ConsensusMethod.MEAN)
    assert mean.decided_by == "test-coordinator"
    assert mean.sources == {"A": "2", "B": "3"}
    assert stored[(exam_id, "edema.thigh.anterior.L")].code == "4"
    pending = {(d.exam_id, d.item_key): d for d in outcome.pending}
    assert pending[(exam_id, "edema.thigh.medial.R")].codes == {"A": "NE", "B": "1"}
    assert pending[(exam_id, "edema_pattern.thigh")].kind == "nominal"
    assert (exam_id, "edema.thigh.medial.R") not in stored
    events = [e for e in coordinator.audit_log(500)
              if e.action == "set_consensus" and e.target == f"exam {exam_id} edema.thigh.anterior.R"]
    assert [(e.old, e.new) for e in events] == [(None, "2.5 (mean)")]
    assert {read.id: a.ratings(read.id) for read in a.worklist()} == before


def test_review_then_decision_then_rerun(read_study) -> None:
    """Review stores concordant items only; `record_review_decision` stores the agreed code
    (audited old → new, with both readers' codes as sources); later runs of review or mean
    keep that decision and no longer list the item."""
    coordinator, _ = read_study
    outcome = analysis.reconcile_reads(coordinator, "nxp2_lower_limb", ["A", "B"], "review")
    exam_id = outcome.pending[0].exam_id
    assert {"edema.thigh.anterior.R", "edema.thigh.medial.R", "edema_pattern.thigh"} <= {
        d.item_key for d in outcome.pending if d.exam_id == exam_id}
    stored = {(c.exam_id, c.item_key): c for c in analysis.consensus_list(coordinator, "nxp2_lower_limb")}
    assert stored[(exam_id, "fat.calf.lateral.R")].method is ConsensusMethod.REVIEW
    assert (exam_id, "edema.thigh.anterior.R") not in stored

    decided = analysis.record_review_decision(coordinator, "nxp2_lower_limb", exam_id, "edema.thigh.anterior.R", "3")
    assert (decided.code, decided.value, decided.method) == ("3", 3.0, ConsensusMethod.REVIEW)
    assert decided.sources == {"A": "2", "B": "3"}
    changed = analysis.record_review_decision(coordinator, "nxp2_lower_limb", exam_id, "edema.thigh.anterior.R",
                                              "2")
    assert changed.value == 2.0
    events = [(e.old, e.new) for e in coordinator.audit_log(50)
              if e.action == "set_consensus" and e.target == f"exam {exam_id} edema.thigh.anterior.R"]
    assert events == [("3 (review)", "2 (review)"), (None, "3 (review)")]

    for policy in ("review", "mean"):
        rerun = analysis.reconcile_reads(coordinator, "nxp2_lower_limb", ["A", "B"], policy)
        assert (exam_id, "edema.thigh.anterior.R") not in {(d.exam_id, d.item_key) for d in rerun.pending}
    kept = {(c.exam_id, c.item_key): c for c in analysis.consensus_list(coordinator, "nxp2_lower_limb")}
    assert (kept[(exam_id, "edema.thigh.anterior.R")].value, kept[(exam_id, "edema.thigh.anterior.R")].method) == (
        2.0, ConsensusMethod.REVIEW)
    listed = analysis.discordant_items(coordinator, "nxp2_lower_limb", ["A", "B"])
    item = next(d for d in listed if (d.exam_id, d.item_key) == (exam_id, "edema.thigh.anterior.R"))
    assert item.consensus is not None
    assert item.consensus.value == 2.0
    pending = analysis.discordant_items(coordinator, "nxp2_lower_limb", ["A", "B"], pending_only=True)
    assert all(d.consensus is None for d in pending)
    assert len(pending) < len(listed)
    with pytest.raises(InvalidValue, match="not a level of edema_0_5"):
        analysis.record_review_decision(coordinator, "nxp2_lower_limb", exam_id, "edema.thigh.anterior.R", "2.5")


def test_decision_no_longer_stands_when_a_reader_changes_the_item(read_study, db) -> None:
    """A review decision was made on A 2 vs B 3; once B's read is reopened and B says 5, the
    item is pending again (and a mean run now stores the new mean, 3.5)."""
    coordinator, _ = read_study
    b = sign(db, "B")
    read = b.worklist()[0]
    exam_id = exam_of(coordinator)[read.id]
    analysis.reconcile_reads(coordinator, "nxp2_lower_limb", ["A", "B"], "review")
    analysis.record_review_decision(coordinator, "nxp2_lower_limb", exam_id, "edema.thigh.anterior.R", "3")
    coordinator.reopen(read.id, "second look")
    b.rate(read.id, "edema.thigh.anterior.R", "5")
    b.submit(read.id)
    rerun = analysis.reconcile_reads(coordinator, "nxp2_lower_limb", ["A", "B"], "review")
    assert (exam_id, "edema.thigh.anterior.R") in {(d.exam_id, d.item_key) for d in rerun.pending}
    pending = analysis.discordant_items(coordinator, "nxp2_lower_limb", ["A", "B"], pending_only=True)
    assert (exam_id, "edema.thigh.anterior.R") in {(d.exam_id, d.item_key) for d in pending}
    analysis.reconcile_reads(coordinator, "nxp2_lower_limb", ["A", "B"], "mean")
    stored = {(c.exam_id, c.item_key): c for c in analysis.consensus_list(coordinator, "nxp2_lower_limb")}
    assert stored[(exam_id, "edema.thigh.anterior.R")].value == 3.5


def test_adjudicator_decides_discordant_items(read_study, db, nxp2: Protocol) -> None:
    """A third reader's submitted read decides what A and B disagree on; concordant items
    keep A and B's code; every value records method adjudicator and the three sources."""
    coordinator, _ = read_study
    coordinator.add_reader("C", Role.ADJUDICATOR, "pass-phrase-C")
    exams = [e.id for e in coordinator.exams()]
    coordinator.assign(nxp2, ["C"], exams, seed=3)
    c_codes = {exam: {"edema.thigh.anterior.R": "5", "edema.thigh.anterior.L": "0"} for exam in exams}
    fill(sign(db, "C"), c_codes, exams=exam_of(coordinator))
    outcome = analysis.reconcile_reads(coordinator, "nxp2_lower_limb", ["A", "B"], "adjudicator", "C")
    stored = {(c.exam_id, c.item_key): c for c in analysis.consensus_list(coordinator, "nxp2_lower_limb")}
    for exam in exams:
        assert stored[(exam, "edema.thigh.anterior.R")].value == 5.0
        assert stored[(exam, "edema.thigh.anterior.R")].sources == {"A": "2", "B": "3", "C": "5"}
        assert stored[(exam, "edema.thigh.anterior.L")].code == "4"  # concordant: C not asked
        assert stored[(exam, "edema.thigh.anterior.L")].method is ConsensusMethod.ADJUDICATOR
        assert (exam, "edema.thigh.medial.R") in {(d.exam_id, d.item_key) for d in outcome.pending}
    assert outcome.adjudicator == "C"
    assert len(submitted_reads(coordinator, "nxp2_lower_limb", ["A", "B", "C"])) == 2


def test_reader_session_cannot_reach_consensus_or_the_other_reader(read_study, db) -> None:
    """After consensus, a reader's session still has no consensus call, sees only their own
    values, and is refused the other reader's read."""
    coordinator, _ = read_study
    analysis.reconcile_reads(coordinator, "nxp2_lower_limb", ["A", "B"], "mean")
    a, b = sign(db, "A"), sign(db, "B")
    public = {name for name, _ in inspect.getmembers(ReaderSession) if not name.startswith("_")}
    assert not any("consensus" in name or "reveal" in name for name in public)
    a_read = a.worklist()[0]
    assert a.ratings(a_read.id)["edema.thigh.anterior.R"].code == "2"
    with pytest.raises(AccessDenied):
        a.ratings(b.worklist()[0].id)
    with pytest.raises(AccessDenied, match="research coordinator only"):
        consensus_for(a, "nxp2_lower_limb")  # type: ignore[arg-type]


# -- derived scores ------------------------------------------------------------------------
def test_scores_from_reader_and_from_consensus(read_study, nxp2: Protocol) -> None:
    """Thigh R from A's read is A's three codes summed (medial R NE); from mean consensus the
    anterior compartment counts 2.5. Two exams of one subject give one Δ per score."""
    coordinator, drawn = read_study
    exams = {e.id: e for e in coordinator.exams()}
    first_exam = min(exams)
    posterior = drawn[first_exam][0]["edema.thigh.posterior.R"]
    assert posterior != "NE"  # A never draws NE (only B's disagreements do)
    by_reader = analysis.derived_scores(coordinator, "nxp2_lower_limb", reader="A")
    scores = {s.name: s for s in next(e for e in by_reader.exams if e.exam.id == first_exam).scores}
    # anterior 2 + medial NE + posterior as drawn; 2 of 3 evaluated.
    assert scores["edema_thigh_R"].value == 2 + int(posterior)
    assert scores["edema_thigh_R"].n_evaluated == 2
    assert by_reader.source == "reader A"
    assert {c.score for c in by_reader.changes} == {d.name for d in nxp2.derived}
    assert by_reader.progression is not None
    assert by_reader.progression.stir_measure == "edema"

    with pytest.raises(NotFound, match="no consensus is stored"):
        analysis.derived_scores(coordinator, "nxp2_lower_limb")
    analysis.reconcile_reads(coordinator, "nxp2_lower_limb", ["A", "B"], "mean")
    from_consensus = analysis.derived_scores(coordinator, "nxp2_lower_limb")
    consensus_scores = {s.name: s for s in next(e for e in from_consensus.exams if e.exam.id == first_exam).scores}
    values = {c.item_key: c.value for c in analysis.consensus_list(coordinator, "nxp2_lower_limb")
              if c.exam_id == first_exam}
    keys = ["edema.thigh.anterior.R", "edema.thigh.medial.R", "edema.thigh.posterior.R"]
    assert values["edema.thigh.anterior.R"] == 2.5
    assert consensus_scores["edema_thigh_R"].value == pytest.approx(sum(values[k] or 0 for k in keys if k in values))
    assert from_consensus.source == "consensus"
    pattern = next(p for p in from_consensus.patterns if p.item_key == "edema_pattern.thigh")
    assert pattern.n_missing == 1  # patchy vs diffuse: no consensus until reviewed


# -- CLI -------------------------------------------------------------------------------------
@pytest.fixture
def cli(read_study, cli_coordinator, db_path: Path, capsys: pytest.CaptureFixture[str]):

    def run(*argv: str) -> tuple[int, str, str]:
        code = cli_main.main(["--db", str(db_path), *argv])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def test_cli_agreement_reconcile_discordant_consensus_scores(cli) -> None:
    """The analysis commands print JSON with the fields the docs promise."""
    code, out, _ = cli("agreement", "--protocol", "nxp2_lower_limb", "--readers", "A,B", "--json")
    assert code == 0
    report = json.loads(out)
    assert report["readers"] == ["A", "B"]
    row = next(r for r in report["rows"] if r["label"] == "Muscle edema, thigh")
    assert {"n_items", "n_not_evaluable", "percent_agreement", "kappa", "kappa_ci_low", "kappa_ci_high",
            "weighted_kappa"} <= set(row)

    code, out, _ = cli("reconcile", "--protocol", "nxp2_lower_limb", "--readers", "A,B", "--policy", "review",
                       "--json")
    assert code == 0
    outcome = json.loads(out)
    assert outcome["policy"] == "review"
    item = next(d for d in outcome["pending"] if d["item_key"] == "edema.thigh.anterior.R")
    assert item["codes"] == {"A": "2", "B": "3"}

    code, out, _ = cli("consensus", "set", "--protocol", "nxp2_lower_limb", "--exam", str(item["exam_id"]),
                       "--item", "edema.thigh.anterior.R", "--value", "3", "--json")
    assert code == 0
    assert json.loads(out)["method"] == "review"

    code, out, _ = cli("discordant", "--protocol", "nxp2_lower_limb", "--readers", "A,B", "--pending", "--json")
    assert code == 0
    assert (item["exam_id"], "edema.thigh.anterior.R") not in {(d["exam_id"], d["item_key"]) for d in json.loads(out)}

    code, out, _ = cli("scores", "--protocol", "nxp2_lower_limb", "--consensus", "--json")
    assert code == 0
    scores = json.loads(out)
    assert scores["source"] == "consensus"
    assert {"exams", "frequencies", "patterns", "changes", "progression"} <= set(scores)
    code, out, _ = cli("scores", "--protocol", "nxp2_lower_limb", "--reader", "B")
    assert code == 0
    assert "edema_total" in out


def test_cli_refusals_are_one_line(cli) -> None:
    """A refused analysis command exits 1 with one line naming the problem."""
    code, _, err = cli("reconcile", "--protocol", "nxp2_lower_limb", "--readers", "A,B", "--policy", "adjudicator")
    assert (code, err.count("\n")) == (1, 1)
    assert "--adjudicator" in err
    code, _, err = cli("consensus", "set", "--protocol", "nxp2_lower_limb", "--exam", "1", "--item",
                       "edema.knee.R", "--value", "1")
    assert code == 1
    assert "no item 'edema.knee.R'" in err


def test_review_after_mean_lists_only_what_mean_left(read_study, db) -> None:
    """Issue 10: after the protocol policy (mean for edema) decided what it could, a joint
    review run lists only the items still undecided (never the mean-decided ones), keeps
    the mean values with their method, and an ordinary decision cannot overwrite a
    mean-decided value; the deliberate override can, and is audited."""
    coordinator, _ = read_study
    first = analysis.reconcile_reads(coordinator, "nxp2_lower_limb", ["A", "B"])
    before = {(c.exam_id, c.item_key): c for c in analysis.consensus_list(coordinator, "nxp2_lower_limb")}
    review = analysis.reconcile_reads(coordinator, "nxp2_lower_limb", ["A", "B"], "review")
    assert {(d.exam_id, d.item_key) for d in review.pending} == {(d.exam_id, d.item_key) for d in first.pending}
    after = {(c.exam_id, c.item_key): c for c in analysis.consensus_list(coordinator, "nxp2_lower_limb")}
    assert after == before  # nothing re-decided, no method rewritten
    exam = next(iter(before))[0]
    mean = before[(exam, "edema.thigh.anterior.R")]
    assert (mean.value, mean.method) == (2.5, ConsensusMethod.MEAN)
    with pytest.raises(MyoscoreError, match=r"already decided .*2\.5 by mean.*override"):
        analysis.record_review_decision(coordinator, "nxp2_lower_limb", exam, "edema.thigh.anterior.R", "3")
    decided = analysis.record_review_decision(coordinator, "nxp2_lower_limb", exam, "edema.thigh.anterior.R", "3",
                                              override=True)
    assert (decided.code, decided.method) == ("3", ConsensusMethod.REVIEW)
    events = [e for e in coordinator.audit_log(300) if e.action == "override_consensus"]
    assert [(e.old, e.new) for e in events] == [("2.5 (mean)", "3 (review, deliberate override)")]


def test_cli_consensus_set_overrides_only_when_asked(cli, read_study) -> None:
    """`consensus set` refuses to replace a mean-decided value and says how; with
    `--override` it replaces it, audited as an override."""
    coordinator, _ = read_study
    assert cli("reconcile", "--protocol", "nxp2_lower_limb", "--readers", "A,B")[0] == 0
    mean = next(c for c in analysis.consensus_list(coordinator, "nxp2_lower_limb")
                if c.item_key == "edema.thigh.anterior.R")
    assert mean.method is ConsensusMethod.MEAN
    args = ("consensus", "set", "--protocol", "nxp2_lower_limb", "--exam", str(mean.exam_id),
            "--item", "edema.thigh.anterior.R", "--value", "3")
    code, _, err = cli(*args)
    assert code == 1
    assert "already decided" in err
    assert "--override" in err
    assert "override=True" not in err
    code, out, _ = cli(*args, "--override")
    assert code == 0
    assert "3 (review" in out
    events = [e for e in coordinator.audit_log(300) if e.action == "override_consensus"]
    assert [(e.old, e.new) for e in events] == [("2.5 (mean)", "3 (review, deliberate override)")]
