"""Intra-reader repeat reads: after a wash-out period, blind to the first read; their agreement."""

from __future__ import annotations

import json

import pytest
from sklearn.metrics import cohen_kappa_score

from myoscore.app import ReaderSession, sign_in
from myoscore.app.analysis import intra_reader_report
from myoscore.cli.main import main
from myoscore.domain import AccessDenied, MyoscoreError, NotFound

EDEMA = ["edema.thigh.anterior.R", "edema.thigh.anterior.L", "edema.thigh.medial.R", "edema.thigh.medial.L",
         "edema.calf.posterior.R", "edema.calf.posterior.L"]


@pytest.fixture
def reader_a(db, study) -> ReaderSession:
    session = sign_in(db, "A", "pass-phrase-A")
    assert isinstance(session, ReaderSession)
    for read in session.worklist():
        for i, key in enumerate(EDEMA):
            session.rate(read.id, key, str(i % 6))
        session.submit(read.id)
    return session


def test_repeat_waits_for_the_washout(reader_a, study, nxp2) -> None:
    """A repeat read is hidden, and refused by id, until its wash-out period has passed; the first
    read of that exam is hidden from the moment the repeat is assigned."""
    repeats = study.assign_repeats(nxp2, "A", fraction=0.5, washout_days=28, seed=3)
    assert len(repeats) == 1
    assert repeats[0].id not in {r.id for r in reader_a.worklist()}
    with pytest.raises(AccessDenied):
        reader_a.rate(repeats[0].id, EDEMA[0], "1")
    assert [r.id for r in reader_a.worklist()] == [
        r.id for r in study.reads() if r.reader_name == "A" and r.exam_id != repeats[0].exam_id
    ]


def test_open_repeat_hides_the_first_read(reader_a, study, nxp2) -> None:
    """While the repeat is open, the first read of that exam cannot be seen; afterwards both can."""
    repeat = study.assign_repeats(nxp2, "A", fraction=1.0, washout_days=0, seed=3)[0]
    first = next(r for r in study.reads() if r.exam_id == repeat.exam_id and r.reader_name == "A" and r.id != repeat.id)
    visible = {r.id for r in reader_a.worklist()}
    assert repeat.id in visible
    assert first.id not in visible
    with pytest.raises(AccessDenied):
        reader_a.ratings(first.id)
    assert reader_a.ratings(repeat.id) == {}
    assert repeat.position > max(r.position for r in study.reads() if r.reader_name == "A" and r.id != repeat.id) - 2
    reader_a.rate(repeat.id, EDEMA[0], "3")
    reader_a.submit(repeat.id)
    assert first.id in {r.id for r in reader_a.worklist()}


def test_repeats_need_submitted_reads_and_a_sane_fraction(db, study, nxp2) -> None:
    """Nothing submitted yet → refused; a fraction outside (0, 1] → refused."""
    with pytest.raises(NotFound, match="no submitted read"):
        study.assign_repeats(nxp2, "A", fraction=0.5, washout_days=0)
    with pytest.raises(MyoscoreError, match="fraction"):
        study.assign_repeats(nxp2, "A", fraction=1.5, washout_days=0)


def test_intra_reader_agreement_matches_sklearn(reader_a, study, nxp2) -> None:
    """The intra-reader report's overall κ over the edema items equals scikit-learn's on the same pairs."""
    repeats = study.assign_repeats(nxp2, "A", fraction=1.0, washout_days=0, seed=1)
    second: list[str] = []
    for repeat in repeats:
        for i, key in enumerate(EDEMA):
            code = str(i % 6) if i != 2 else "5"  # one disagreement per exam
            reader_a.rate(repeat.id, key, code)
            second.append(code)
        reader_a.submit(repeat.id)
    first = [str(i % 6) for _ in repeats for i in range(len(EDEMA))]
    report = intra_reader_report(study, "nxp2_lower_limb", "A")
    assert report.readers == ("A", "A (repeat)")
    assert report.n_exams == 2
    row = next(r for r in report.rows if r.kind == "indicator" and r.indicator == "Muscle edema" and r.region is None)
    assert row.n_compared == len(first)
    assert row.kappa == pytest.approx(cohen_kappa_score(first, second, labels=[str(i) for i in range(6)]))
    assert any(e.action == "reveal_ratings" and "intra-reader" in (e.new or "") for e in study.audit_log(20))


def test_cli_repeats_and_intra_agreement(reader_a, cli_coordinator, db_path, capsys) -> None:
    """`repeats` assigns; `agreement --intra` refuses until a repeat is submitted, then reports."""
    assert main(["--db", str(db_path), "repeats", "--protocol", "nxp2_lower_limb", "--reader", "A",
                 "--fraction", "1", "--washout-days", "0", "--seed", "2", "--json"]) == 0
    repeats = json.loads(capsys.readouterr().out)
    assert len(repeats) == 2
    assert main(["--db", str(db_path), "agreement", "--protocol", "nxp2_lower_limb", "--intra", "A"]) == 1
    assert "no exam with both" in capsys.readouterr().err
    for repeat in repeats:
        reader_a.rate(repeat["read"], EDEMA[0], "0")
        reader_a.submit(repeat["read"])
    assert main(["--db", str(db_path), "agreement", "--protocol", "nxp2_lower_limb", "--intra", "A", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["readers"] == ["A", "A (repeat)"]
