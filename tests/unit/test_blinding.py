"""Blinding is a security property of the store: a reader's session cannot obtain
another reader's ratings or any identifying field, by any public call."""

from __future__ import annotations

import dataclasses
import inspect

import pytest

from myoscore.app import CoordinatorSession, ReaderSession, sign_in
from myoscore.domain import AccessDenied, BlindedExam, Read

# Every public member of ReaderSession. A new one must be added here, and to the
# checks below, before this test passes: that is the point.
READER_API = {"reader", "worklist", "read", "exam", "series", "image_sources", "protocol", "ratings", "rate", "clear",
              "submit", "timepoint_blinded"}
PER_READ_CALLS = {
    "read": (), "exam": (), "series": (), "image_sources": (), "protocol": (), "ratings": (),
    "rate": ("edema.thigh.anterior.R", "1"), "clear": ("edema.thigh.anterior.R",), "submit": (),
}
IDENTIFYING = {"exam_date", "months_from_onset", "treated", "patient_id", "patient_name", "birth_date"}


@pytest.fixture
def sessions(study: CoordinatorSession, db) -> tuple[ReaderSession, ReaderSession]:
    a = sign_in(db, "A", "pass-phrase-A")
    b = sign_in(db, "B", "pass-phrase-B")
    assert isinstance(a, ReaderSession)
    assert isinstance(b, ReaderSession)
    return a, b


def test_reader_api_is_enumerated() -> None:
    """The test knows every public member of ReaderSession."""
    public = {name for name, _ in inspect.getmembers(ReaderSession) if not name.startswith("_")}
    assert public == READER_API
    assert set(PER_READ_CALLS) == READER_API - {"reader", "worklist", "timepoint_blinded"}


def test_every_per_read_call_refuses_another_readers_read(sessions) -> None:
    """A's session gets AccessDenied on every call that names one of B's reads."""
    a, b = sessions
    b_read = b.worklist()[0].id
    b.rate(b_read, "edema.thigh.anterior.R", "4")
    for name, extra in PER_READ_CALLS.items():
        with pytest.raises(AccessDenied, match="not in A's worklist"):
            getattr(a, name)(b_read, *extra)
    # ... and nothing A tried changed B's read.
    assert b.ratings(b_read)["edema.thigh.anterior.R"].code == "4"
    assert b.read(b_read).status.value == "in_progress"


def test_unknown_and_foreign_read_ids_look_the_same(sessions) -> None:
    """A refused id does not reveal whether the read exists."""
    a, b = sessions
    with pytest.raises(AccessDenied) as foreign:
        a.ratings(b.worklist()[0].id)
    with pytest.raises(AccessDenied) as missing:
        a.ratings(99_999)
    assert str(foreign.value).replace(str(b.worklist()[0].id), "N") == str(missing.value).replace("99999", "N")


def test_worklist_holds_only_own_reads_and_no_identifying_fields(sessions) -> None:
    """A's worklist and every value it returns carry no identifying field."""
    a, b = sessions
    own = a.worklist()
    assert {r.reader_name for r in own} == {"A"}
    assert {r.id for r in own}.isdisjoint({r.id for r in b.worklist()})
    for value in [*own, a.exam(own[0].id)]:
        fields = {f.name for f in dataclasses.fields(value)}
        assert not fields & IDENTIFYING
    assert isinstance(a.exam(own[0].id), BlindedExam)
    assert all(isinstance(r, Read) for r in own)


def test_ratings_are_only_ones_own(sessions, study) -> None:
    """A sees A's values on A's read of an exam, never B's values on the same exam."""
    a, b = sessions
    a_read = a.worklist()[0]
    exam_of = {read.id: read.exam_id for read in study.reads()}  # readers do not see exam ids
    b_read = next(r for r in b.worklist() if exam_of[r.id] == exam_of[a_read.id])
    b.rate(b_read.id, "edema.calf.lateral.L", "5")
    a.rate(a_read.id, "edema.calf.lateral.L", "1")
    assert {k: r.code for k, r in a.ratings(a_read.id).items()} == {"edema.calf.lateral.L": "1"}


def test_wrong_password_and_roles(db, study) -> None:
    """A wrong password is refused; a coordinator gets a coordinator session, audited."""
    with pytest.raises(AccessDenied):
        sign_in(db, "A", "pass-phrase-B")
    with pytest.raises(AccessDenied):
        sign_in(db, "nobody", "x")
    from myoscore.domain import Role

    study.add_reader("C", Role.COORDINATOR, "pass-phrase-C")
    assert isinstance(sign_in(db, "C", "pass-phrase-C"), CoordinatorSession)
    actions = [e.action for e in study.audit_log()]
    assert actions.count("sign_in_failed") == 2


def test_coordinator_reveal_is_audited(db, study) -> None:
    """Reading a reader's values as coordinator appends a reveal event naming the read."""
    a = sign_in(db, "A", "pass-phrase-A")
    assert isinstance(a, ReaderSession)
    read = a.worklist()[0].id
    a.rate(read, "fat.thigh.medial.R", "2")
    assert study.read_ratings(read)["fat.thigh.medial.R"].value == 2
    latest = study.audit_log(1)[0]
    assert (latest.action, latest.target, latest.actor) == ("reveal_ratings", f"read {read}", "test-coordinator")
