"""Consensus that tracks its inputs (issue 10): a value decided on ratings that have since
changed is stale, absent from scores and exports, listed for the coordinator and audited."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from myoscore.app import CoordinatorSession, ReaderSession, analysis, sign_in
from myoscore.app.export import export
from myoscore.domain import Role
from myoscore.schemes import Protocol

EDEMA = "edema.thigh.anterior.R"


def sign(db, name: str) -> ReaderSession:
    session = sign_in(db, name, f"pass-phrase-{name}")
    assert isinstance(session, ReaderSession)
    return session


@pytest.fixture
def reconciled(db, coordinator: CoordinatorSession, nxp2: Protocol):
    """One exam, both readers score every thigh edema item 2 (A) / 2 except anterior R 3
    (B), submit; the protocol policy (mean for edema) decides every item."""
    coordinator.add_reader("A", Role.READER, "pass-phrase-A")
    coordinator.add_reader("B", Role.READER, "pass-phrase-B")
    coordinator.add_exam("S-01", "baseline")
    coordinator.assign(nxp2, ["A", "B"], seed=3)
    keys = [it.key for it in nxp2.items if it.measure == "edema"]
    for name, codes in (("A", dict.fromkeys(keys, "2")), ("B", {**dict.fromkeys(keys, "2"), EDEMA: "3"})):
        reader = sign(db, name)
        read = reader.worklist()[0]
        for key, code in codes.items():
            reader.rate(read.id, key, code)
        reader.submit(read.id)
    analysis.reconcile_reads(coordinator, "nxp2_lower_limb", ["A", "B"])
    return coordinator


def test_rating_versions_are_recorded_with_consensus(reconciled, db) -> None:
    """Each consensus value records the rating versions (id.version) it was decided from."""
    value = next(c for c in analysis.consensus_list(reconciled, "nxp2_lower_limb") if c.item_key == EDEMA)
    assert value.value == 2.5
    assert set(value.rating_versions) == {"A", "B"}
    assert all(token.endswith(".1") for token in value.rating_versions.values())
    tracked = analysis.tracked_consensus(reconciled, "nxp2_lower_limb")
    assert {t.status for t in tracked} == {analysis.ConsensusStatus.DECIDED}


def test_looking_at_consensus_that_stands_adds_no_audit_rows(reconciled, db, cli_coordinator, db_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    """`myoscore status` and every status check of standing consensus show no rating, so
    they add no audit event (each call used to add one reveal per read); the audited
    reveals (agreement, joint review, exports) are untouched."""
    from myoscore.cli.main import main

    def reveals() -> int:
        return len([e for e in reconciled.audit_log(10_000) if e.action in ("reveal_ratings", "consensus_stale")])

    before = reveals()
    for _ in range(3):
        assert main(["--db", str(db_path), "status"]) == 0
        analysis.decided_consensus(reconciled, "nxp2_lower_limb")
        analysis.tracked_consensus(reconciled, "nxp2_lower_limb")
    capsys.readouterr()
    assert reveals() == before
    analysis.agreement_report(reconciled, "nxp2_lower_limb", ["A", "B"])
    assert reveals() == before + 2  # the agreement report reveals both reads, audited


def test_reopened_and_rescored_item_is_stale_and_not_exported(reconciled, db, tmp_path: Path) -> None:
    """B's read is reopened and the item re-scored 5 (today: the old 2.5 stayed in exports
    and edema_thigh_R, nothing flagged). Now: the value is stale with the reason, edema
    scores count the item as not evaluated (complete False), the export leaves it out of
    consensus, the audit trail says why, and the coordinator's stale list shows it."""
    b = sign(db, "B")
    read = b.worklist()[0]
    reconciled.reopen(read.id, "second look")
    b.rate(read.id, EDEMA, "5")
    b.submit(read.id)

    stale = analysis.stale_consensus(reconciled, "nxp2_lower_limb")
    assert [(t.value.item_key, t.value.value) for t in stale] == [(EDEMA, 2.5)]
    assert "B's rating changed after the decision" in stale[0].reason
    assert "3 → 5" in stale[0].reason
    assert EDEMA not in {c.item_key for c in analysis.decided_consensus(reconciled, "nxp2_lower_limb")}

    report = analysis.derived_scores(reconciled, "nxp2_lower_limb")
    thigh_r = next(s for s in report.exams[0].scores if s.name == "edema_thigh_R")
    assert (thigh_r.value, thigh_r.n_evaluated, thigh_r.complete) == (4.0, 2, False)  # the 2.5 is not summed
    assert report.consensus is not None
    assert report.consensus.stale == 1

    out = tmp_path / "csv"
    export(reconciled, "nxp2_lower_limb", ["csv"], out)
    with (out / "nxp2_lower_limb_ratings_tidy.csv").open(newline="", encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if r["source"] == "consensus" and r["item_key"] == EDEMA]
    assert [(r["code"], r["value"], r["status"]) for r in rows] == [("", "", "unscored")]
    # The consensus SR, like the tables, leaves the stale value out.
    from myoscore.app.structured_reports import export_sr, import_sr

    (sr_path,) = [p for p in export_sr(reconciled, "nxp2_lower_limb", tmp_path / "sr")
                  if p.name.endswith("_consensus.dcm")]
    (read_back,) = import_sr(reconciled, [sr_path])
    assert EDEMA not in read_back.content.values
    assert read_back.matches

    events = [e for e in reconciled.audit_log(200) if e.action == "consensus_stale"]
    assert len(events) == 1
    assert events[0].target.endswith(EDEMA)
    assert events[0].old == "2.5 (mean)"
    assert "3 → 5" in (events[0].new or "")
    analysis.stale_consensus(reconciled, "nxp2_lower_limb")  # looked at again: not audited twice
    assert len([e for e in reconciled.audit_log(200) if e.action == "consensus_stale"]) == 1

    # Reconciling again decides it on the new ratings (mean of 2 and 5) and it stands.
    analysis.reconcile_reads(reconciled, "nxp2_lower_limb", ["A", "B"])
    assert not analysis.stale_consensus(reconciled, "nxp2_lower_limb")
    value = next(c for c in analysis.consensus_list(reconciled, "nxp2_lower_limb") if c.item_key == EDEMA)
    assert value.value == 3.5


def test_reopened_read_makes_its_consensus_stale(reconciled, db) -> None:
    """A reopened read (not yet re-submitted) leaves every value it contributed to stale."""
    read = sign(db, "A").worklist()[0]
    reconciled.reopen(read.id, "check")
    stale = analysis.stale_consensus(reconciled, "nxp2_lower_limb")
    assert stale
    assert all("A's read" in t.reason and "reopened" in t.reason for t in stale)
    assert not analysis.decided_consensus(reconciled, "nxp2_lower_limb")


def test_same_code_given_again_is_still_a_change(reconciled, db) -> None:
    """Re-scoring with the same code raises the rating's version: the decision is to be
    confirmed again (a code comparison alone would miss a cleared and re-given rating)."""
    b = sign(db, "B")
    read = b.worklist()[0]
    reconciled.reopen(read.id)
    b.clear(read.id, EDEMA)
    b.rate(read.id, EDEMA, "3")
    b.submit(read.id)
    assert [t.value.item_key for t in analysis.stale_consensus(reconciled, "nxp2_lower_limb")] == [EDEMA]


def test_cli_lists_stale_values(reconciled, cli_coordinator, db, db_path: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    """`consensus list --stale` shows the stale value and why; `scores` prints the counts."""
    from myoscore.cli.main import main

    b = sign(db, "B")
    read = b.worklist()[0]
    reconciled.reopen(read.id)
    b.rate(read.id, EDEMA, "1")
    b.submit(read.id)
    assert main(["--db", str(db_path), "consensus", "list", "--protocol", "nxp2_lower_limb", "--stale"]) == 0
    out = capsys.readouterr().out
    assert EDEMA in out
    assert "stale" in out
    assert "3 → 1" in out
    assert main(["--db", str(db_path), "scores", "--protocol", "nxp2_lower_limb"]) == 0
    assert "1 stale (not used)" in capsys.readouterr().out


def test_discordant_list_says_decided_or_stale(reconciled, db) -> None:
    """The joint-review list shows the mean-decided item as decided (its current value), and
    as stale once B re-scores it; pending_only keeps only the stale one."""
    listed = analysis.discordant_items(reconciled, "nxp2_lower_limb", ["A", "B"])
    item = next(d for d in listed if d.item_key == EDEMA)
    assert item.status == "decided"
    assert item.consensus is not None
    assert item.consensus.value == 2.5
    assert EDEMA not in {d.item_key for d in analysis.discordant_items(reconciled, "nxp2_lower_limb", ["A", "B"],
                                                                         pending_only=True)}
    b = sign(db, "B")
    read = b.worklist()[0]
    reconciled.reopen(read.id)
    b.rate(read.id, EDEMA, "4")
    b.submit(read.id)
    pending = analysis.discordant_items(reconciled, "nxp2_lower_limb", ["A", "B"], pending_only=True)
    assert [(d.item_key, d.status) for d in pending if d.item_key == EDEMA] == [(EDEMA, "stale")]
