"""Ratings, locking, audit and assignment in the store."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from myoscore.app import ReaderSession, sign_in
from myoscore.domain import NOT_EVALUABLE, InvalidValue, MyoscoreError, ReadLocked, ReadStatus


@pytest.fixture
def reader_a(db, study) -> ReaderSession:
    session = sign_in(db, "A", "pass-phrase-A")
    assert isinstance(session, ReaderSession)
    return session


def test_not_evaluable_is_stored_apart_from_zero(reader_a) -> None:
    """NE keeps code NE and no number; 0 keeps code 0 and the number 0."""
    read = reader_a.worklist()[0].id
    reader_a.rate(read, "edema.thigh.anterior.R", NOT_EVALUABLE)
    reader_a.rate(read, "edema.thigh.anterior.L", "0")
    ratings = reader_a.ratings(read)
    assert ratings["edema.thigh.anterior.R"].not_evaluable
    assert ratings["edema.thigh.anterior.R"].value is None
    assert ratings["edema.thigh.anterior.L"].value == 0
    assert not ratings["edema.thigh.anterior.L"].not_evaluable


def test_invalid_values_and_items_are_refused(reader_a) -> None:
    """A code outside the scale, or an item outside the protocol, stores nothing."""
    read = reader_a.worklist()[0].id
    with pytest.raises(InvalidValue, match="not a level of fischer_0_4"):
        reader_a.rate(read, "fat.calf.anterior.R", "5")
    with pytest.raises(InvalidValue, match=r"no item 'edema\.hand\.R'"):
        reader_a.rate(read, "edema.hand.R", "1")
    assert reader_a.ratings(read) == {}


def test_change_and_clear_are_audited_old_to_new(reader_a, study) -> None:
    """Every change appends an audit event with old → new; clearing too."""
    read = reader_a.worklist()[0].id
    reader_a.rate(read, "edema_pattern.thigh", "patchy")
    reader_a.rate(read, "edema_pattern.thigh", "diffuse")
    reader_a.clear(read, "edema_pattern.thigh")
    events = [(e.action, e.old, e.new) for e in study.audit_log(10) if e.target.endswith("edema_pattern.thigh")]
    assert events == [("clear", "diffuse", None), ("rate", "patchy", "diffuse"), ("rate", None, "patchy")]
    assert "edema_pattern.thigh" not in reader_a.ratings(read)


def test_audit_events_cannot_be_updated_or_deleted(db, reader_a) -> None:
    """The database itself refuses UPDATE and DELETE on the audit trail."""
    reader_a.rate(reader_a.worklist()[0].id, "edema.calf.anterior.R", "2")
    for statement in ("UPDATE audit_events SET actor = 'x'", "DELETE FROM audit_events"):
        with pytest.raises(DBAPIError, match="append-only"), db.transaction() as session:
            session.execute(text(statement))
    with db.transaction() as session:
        assert session.execute(text("SELECT count(*) FROM audit_events WHERE actor = 'x'")).scalar() == 0


def test_submitted_read_is_locked_until_a_coordinator_reopens_it(reader_a, study) -> None:
    """After submit, rating and clearing are refused; reopen (audited) unlocks."""
    read = reader_a.worklist()[0].id
    reader_a.rate(read, "edema.thigh.anterior.R", "3")
    assert reader_a.submit(read).status is ReadStatus.SUBMITTED
    with pytest.raises(ReadLocked):
        reader_a.rate(read, "edema.thigh.anterior.R", "4")
    with pytest.raises(ReadLocked):
        reader_a.clear(read, "edema.thigh.anterior.R")
    with pytest.raises(ReadLocked):
        reader_a.submit(read)
    assert reader_a.ratings(read)["edema.thigh.anterior.R"].code == "3"
    study.reopen(read, "reader asked")
    assert study.audit_log(1)[0].action == "reopen"
    reader_a.rate(read, "edema.thigh.anterior.R", "4")
    assert reader_a.read(read).status is ReadStatus.IN_PROGRESS


def test_progress_counts_and_status(reader_a) -> None:
    """done/total count rated items over the protocol's items; first rating starts the read."""
    read = reader_a.worklist()[0]
    assert (read.status, read.done, read.total) == (ReadStatus.ASSIGNED, 0, 50)
    reader_a.rate(read.id, "edema.thigh.anterior.R", "1")
    reader_a.rate(read.id, "edema.thigh.anterior.L", NOT_EVALUABLE)
    again = reader_a.read(read.id)
    assert (again.status, again.done) == (ReadStatus.IN_PROGRESS, 2)


def test_assignment_order_is_randomised_from_the_recorded_seed(coordinator, nxp2) -> None:
    """The same seed gives the same order; each reader's order is shuffled separately."""
    from myoscore.domain import Role

    for name in ("A", "B"):
        coordinator.add_reader(name, Role.READER, "pass-phrase")
    exams = [coordinator.add_exam(f"S{i:02d}").id for i in range(12)]
    reads = coordinator.assign(nxp2, ["A", "B"], seed=5)
    order = {name: [r.exam_id for r in sorted(reads, key=lambda r: r.position) if r.reader_name == name]
             for name in ("A", "B")}
    assert sorted(order["A"]) == sorted(order["B"]) == exams
    assert order["A"] != order["B"]
    assert order["A"] != exams
    events = [e for e in coordinator.audit_log(100) if e.action == "assign"]
    assert all("seed 5" in (e.new or "") for e in events)
    # Nothing left to assign for this protocol: a second call assigns nothing.
    assert coordinator.assign(nxp2, ["A", "B"], seed=6) == []


def test_assignment_refuses_coordinators_and_repeats(coordinator, nxp2) -> None:
    """A coordinator cannot be a reader; an exam is not assigned twice to one reader."""
    from myoscore.domain import Role

    coordinator.add_reader("A", Role.READER, "pass-phrase")
    coordinator.add_reader("C", Role.COORDINATOR, "pass-phrase")
    exam = coordinator.add_exam("S01").id
    with pytest.raises(MyoscoreError, match="is a coordinator"):
        coordinator.assign(nxp2, ["A", "C"], [exam])
    coordinator.assign(nxp2, ["A"], [exam])
    with pytest.raises(MyoscoreError, match="already assigned"):
        coordinator.assign(nxp2, ["A"], [exam])


def test_read_records_the_exact_protocol(reader_a, nxp2) -> None:
    """A read's protocol is the stored snapshot with the same hash as the file's."""
    read = reader_a.worklist()[0]
    assert read.protocol_hash == nxp2.hash
    assert reader_a.protocol(read.id).item_keys == nxp2.item_keys
