"""Repositories: the queries and writes of one unit of work, as domain dataclasses.

A unit of work is one transaction (:meth:`Database.transaction`): :func:`study_unit`
yields a :class:`StudyRepository` (the coordinator's full access) and
:func:`reader_unit` a :class:`ReaderRepository` (one reader's blinded view). They hold
no rules of the study (who may be assigned what, wash-out, randomisation, validation of
input: those are ``myoscore.app`` use cases); they enforce what must hold at the query
level whoever calls them:

- *audit*: every write appends its ``audit_events`` row in the same transaction, and so
  does every call that reveals a reader's ratings to the coordinator;
- *blinding*: every query of a :class:`ReaderRepository` is restricted to the reader's own
  reads that they may open now, and returns no identifying field; a foreign read id is
  refused with the same message as a missing one.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Iterator
from collections.abc import Sequence as Seq
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import Select, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from myoscore.domain import (
    AccessDenied,
    AuditEvent,
    BlindedExam,
    Consensus,
    ConsensusMethod,
    Exam,
    MyoscoreError,
    NotFound,
    Rating,
    Read,
    Reader,
    ReadStatus,
    Role,
    Sequence,
    Series,
    Subject,
)
from myoscore.schemes import Protocol, protocol_to_json
from myoscore.store._rows import (
    ProtocolCache,
    audit,
    audit_event_of,
    consensus_of,
    exam_of,
    rating_of,
    reader_of,
    reads_from,
    reads_query,
    series_of,
)
from myoscore.store.assignments import AssignmentRepository
from myoscore.store.authentication import new_user_row, set_user_password
from myoscore.store.database import Database, aware, utcnow
from myoscore.store.tables import (
    READER_SERIES,
    AuditRow,
    ConsensusRow,
    ExamRow,
    IdentityLinkRow,
    ProtocolRow,
    RatingRow,
    ReaderRow,
    ReadRow,
    SeriesRow,
    StudySettingRow,
    SubjectRow,
)

__all__ = [
    "ConsensusWrite",
    "ExamContents",
    "NewRead",
    "ReaderRepository",
    "StudyRepository",
    "reader_unit",
    "study_unit",
]


#: No 0/O or 1/I/L: read codes are read aloud and typed (revision 0011 has the same).
READ_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def new_read_code() -> str:
    """A fresh opaque read code such as ``R-7Q4KZP`` (31^6 ≈ 9e8 codes)."""
    return "R-" + "".join(secrets.choice(READ_CODE_ALPHABET) for _ in range(6))


@contextmanager
def study_unit(database: Database, actor: str, protocols: ProtocolCache | None = None) -> Iterator[StudyRepository]:
    """One transaction with the coordinator's repository: committed when the block ends,
    rolled back if it raises."""
    with database.transaction() as session:
        yield StudyRepository(session, actor, protocols or ProtocolCache())


@contextmanager
def reader_unit(database: Database, reader: Reader,
                protocols: ProtocolCache | None = None) -> Iterator[ReaderRepository]:
    """One transaction with one reader's blinded repository."""
    with database.transaction() as session:
        yield ReaderRepository(session, reader, protocols or ProtocolCache())


@dataclass(frozen=True)
class NewRead:
    """A read to add: who, which exam, where in the worklist, and the seed that placed it."""

    reader_id: int
    exam_id: int
    protocol_hash: str
    position: int
    seed: str
    repeat: int = 0
    available_from: datetime | None = None
    note: str = ""  # what the audit event says about it
    assignment_id: int | None = None  # the recorded assignment that created it


@dataclass(frozen=True)
class ConsensusWrite:
    item_key: str
    code: str | None
    value: float | None
    method: ConsensusMethod
    sources: dict[str, str]
    # reader → "<rating id>.<version>" of the ratings the value was decided from
    rating_versions: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ExamContents:
    """What an exam holds, by count: what deleting it would remove (or why it may not)."""

    reads: int
    submitted_reads: int
    ratings: int
    series: int
    consensus: int
    subject_exams: int  # exams of its subject, this one included


#: Any select statement (``Select`` is variadic in its row types).
_Query = TypeVar("_Query", bound="Select[*tuple[Any, ...]]")


def in_scope(query: _Query, include_excluded: bool) -> _Query:
    """The one clause that leaves excluded exams out of a query joined with ``exams``."""
    return query if include_excluded else query.where(ExamRow.excluded_at.is_(None))


def _shown(code: str | None, value: float | None, method: str) -> str:
    text = code if code is not None else (f"{value:g}" if value is not None else "none")
    return f"{text} ({method})"


class StudyRepository:
    """Everything in the study, for the coordinator; writes and reveals are audited."""

    def __init__(self, session: Session, actor: str, protocols: ProtocolCache) -> None:
        self._s = session
        self.actor = actor
        self._protocols = protocols

    # -- users ---------------------------------------------------------------------
    def add_reader(self, name: str, role: Role, password: str) -> Reader:
        """A new user: password policy-checked and hashed; on PostgreSQL their own role."""
        if self._s.scalar(select(ReaderRow.id).where(ReaderRow.name == name)) is not None:
            raise MyoscoreError(f"reader {name!r} already exists")
        try:
            row = new_user_row(self._s, name, role, password)
        except IntegrityError:  # a second process added the name since the check above
            raise MyoscoreError(f"reader {name!r} already exists") from None
        audit(self._s, self.actor, "add_reader", f"reader {name}", None, role.value)
        return reader_of(row)

    def set_password(self, name: str, password: str) -> None:
        set_user_password(self._s, self._reader_row(name), password)
        audit(self._s, self.actor, "set_password", f"reader {name}")

    @property
    def assignments(self) -> AssignmentRepository:
        """The recorded assignments, in this unit of work (:mod:`myoscore.store.assignments`)."""
        return AssignmentRepository(self._s, self.actor, self._protocols)

    def record(self, action: str, target: str, new: str | None = None) -> None:
        """Audit a coordinator action that changes nothing (a reveal)."""
        audit(self._s, self.actor, action, target, None, new)

    def reader(self, name: str) -> Reader:
        return reader_of(self._reader_row(name))

    # -- study settings ------------------------------------------------------------
    def setting(self, name: str) -> str | None:
        """A study setting's stored value; ``None`` when it was never set (its default)."""
        return self._s.scalar(select(StudySettingRow.value).where(StudySettingRow.name == name))

    def set_setting(self, name: str, value: str, shown_old: str) -> None:
        """Store a study setting, audited old → new (``shown_old``: the value in effect before)."""
        row = self._s.get(StudySettingRow, name)
        if row is None:
            self._s.add(StudySettingRow(name=name, value=value))
        else:
            row.value = value
        audit(self._s, self.actor, "set_setting", f"setting {name}", shown_old, value)
        self._s.flush()

    def readers(self) -> list[Reader]:
        return [reader_of(r) for r in self._s.scalars(select(ReaderRow).order_by(ReaderRow.name))]

    # -- subjects, exams, identity -----------------------------------------------------
    def subjects(self) -> list[Subject]:
        return [Subject(s.id, s.code) for s in self._s.scalars(select(SubjectRow).order_by(SubjectRow.code))]

    def subject_codes(self) -> set[str]:
        return set(self._s.scalars(select(SubjectRow.code)))

    def add_exam(self, subject_code: str, label: str, *, exam_date: date | None = None,
                 months_from_onset: float | None = None, treated: bool | None = None,
                 study_uid: str | None = None) -> Exam:
        """Add an exam (and its subject, if new)."""
        subject = self._subject(subject_code)
        row = ExamRow(subject_id=subject.id, label=label, exam_date=exam_date, months_from_onset=months_from_onset,
                      treated=treated, study_uid=study_uid, created_at=utcnow())
        self._s.add(row)
        self._s.flush()
        audit(self._s, self.actor, "add_exam", f"exam {row.id}", None, f"{subject_code} {label}")
        return exam_of(row, subject_code)

    def exam(self, exam_id: int) -> Exam:
        found = self._s.execute(
            select(ExamRow, SubjectRow.code).join(SubjectRow).where(ExamRow.id == exam_id)).one_or_none()
        if found is None:
            raise NotFound(f"no exam {exam_id}")
        return exam_of(found[0], found[1])

    def exam_of_study(self, study_uid: str) -> Exam | None:
        found = self._s.execute(
            select(ExamRow, SubjectRow.code).join(SubjectRow).where(ExamRow.study_uid == study_uid)
        ).one_or_none()
        return None if found is None else exam_of(found[0], found[1])

    def exam_count(self, subject_code: str) -> int:
        return self._s.scalar(select(func.count()).select_from(ExamRow).join(SubjectRow)
                              .where(SubjectRow.code == subject_code)) or 0

    def exams(self, ids: Iterable[int] | None = None, *, include_excluded: bool = True) -> list[Exam]:
        query = select(ExamRow, SubjectRow.code).join(SubjectRow).order_by(SubjectRow.code, ExamRow.id)
        if ids is not None:
            query = query.where(ExamRow.id.in_(list(ids)))
        query = in_scope(query, include_excluded)
        return [exam_of(exam, code) for exam, code in self._s.execute(query)]

    def set_exam_excluded(self, exam_id: int, reason: str | None) -> Exam:
        """Exclude an exam with ``reason`` (``None``: include it again), audited
        ``exclude_exam`` / ``include_exam`` with the reason old → new. Its reads, ratings,
        series and consensus are kept."""
        row = self._s.get(ExamRow, exam_id)
        if row is None:
            raise NotFound(f"no exam {exam_id}")
        old = row.excluded_reason
        if reason is None:
            row.excluded_at, row.excluded_reason = None, None
            audit(self._s, self.actor, "include_exam", f"exam {exam_id}", old, None)
        else:
            row.excluded_at, row.excluded_reason = utcnow(), reason
            audit(self._s, self.actor, "exclude_exam", f"exam {exam_id}", old, reason)
        self._s.flush()
        return self.exam(exam_id)

    def exam_contents(self, exam_id: int) -> ExamContents:
        row = self._s.get(ExamRow, exam_id)
        if row is None:
            raise NotFound(f"no exam {exam_id}")
        read_ids = select(ReadRow.id).where(ReadRow.exam_id == exam_id)

        def count(query: Select[*tuple[Any, ...]]) -> int:
            return self._s.scalar(select(func.count()).select_from(query.subquery())) or 0

        return ExamContents(
            reads=count(read_ids),
            submitted_reads=count(read_ids.where(ReadRow.status == ReadStatus.SUBMITTED.value)),
            ratings=count(select(RatingRow.id).where(RatingRow.read_id.in_(read_ids))),
            series=count(select(SeriesRow.id).where(SeriesRow.exam_id == exam_id)),
            consensus=count(select(ConsensusRow.id).where(ConsensusRow.exam_id == exam_id)),
            subject_exams=count(select(ExamRow.id).where(ExamRow.subject_id == row.subject_id)),
        )

    def delete_exam(self, exam_id: int) -> Exam:
        """Delete an exam with its reads, their ratings and its series rows; its subject
        (and the subject's identity link) too when no other exam is left. Each deleted
        read, the exam and the subject are audited (``delete_read``, ``delete_exam``,
        ``delete_subject``: old says what was there). Whether it may be deleted is the
        caller's rule. Returns the exam as it was."""
        exam = self.exam(exam_id)
        contents = self.exam_contents(exam_id)
        for read in self.reads(exam_id=exam_id):
            self._s.execute(delete(RatingRow).where(RatingRow.read_id == read.id))
            self._s.execute(delete(ReadRow).where(ReadRow.id == read.id))
            audit(self._s, self.actor, "delete_read", f"read {read.id}",
                  f"{read.reader_name} exam {exam_id} {read.protocol_name} {read.status.value} "
                  f"{read.done}/{read.total}", None)
        self._s.execute(delete(SeriesRow).where(SeriesRow.exam_id == exam_id))
        self._s.execute(delete(ConsensusRow).where(ConsensusRow.exam_id == exam_id))
        self._s.execute(delete(ExamRow).where(ExamRow.id == exam_id))
        audit(self._s, self.actor, "delete_exam", f"exam {exam_id}",
              f"{exam.subject_code} {exam.label}: {contents.reads} reads, {contents.ratings} ratings, "
              f"{contents.series} series", None)
        if contents.subject_exams <= 1:
            self._s.execute(delete(IdentityLinkRow).where(IdentityLinkRow.subject_id == exam.subject_id))
            self._s.execute(delete(SubjectRow).where(SubjectRow.id == exam.subject_id))
            audit(self._s, self.actor, "delete_subject", f"subject {exam.subject_code}", exam.subject_code, None)
        self._s.flush()
        return exam

    def set_exam_fields(self, exam_id: int, fields: dict[str, object]) -> tuple[str, ...]:
        """Set the named exam fields (``label``, ``months_from_onset``, ``treated``; ``None``
        clears a clinical field). Each change is audited old → new; returns the names of the
        fields that changed."""
        row = self._s.get(ExamRow, exam_id)
        if row is None:
            raise NotFound(f"no exam {exam_id}")
        changed = []
        for name, value in fields.items():
            if name not in {"label", "months_from_onset", "treated"}:
                raise MyoscoreError(f"an exam has no field {name!r}")
            if getattr(row, name) != value:
                old = getattr(row, name)
                audit(self._s, self.actor, f"set_exam_{name}", f"exam {exam_id}",
                      None if old is None else str(old), None if value is None else str(value))
                setattr(row, name, value)
                changed.append(name)
        return tuple(changed)

    def patient_subject(self, patient_id: str) -> str | None:
        """The subject code linked to a hospital PatientID, or ``None``."""
        return self._s.scalar(
            select(SubjectRow.code).join(IdentityLinkRow, IdentityLinkRow.subject_id == SubjectRow.id)
            .where(IdentityLinkRow.patient_id == patient_id)
        )

    def patient_ids(self, subject_codes: Iterable[str]) -> dict[str, str]:
        """The hospital PatientID linked to each of these subject codes (those linked)."""
        rows = self._s.execute(
            select(SubjectRow.code, IdentityLinkRow.patient_id)
            .join(IdentityLinkRow, IdentityLinkRow.subject_id == SubjectRow.id)
            .where(SubjectRow.code.in_(list(subject_codes)))
        )
        return {code: patient_id for code, patient_id in rows}  # noqa: C416  (rows, not pairs)

    def link_patient(self, subject_code: str, patient_id: str) -> bool:
        subject = self._subject(subject_code)
        if self._s.scalar(select(IdentityLinkRow.id).where(IdentityLinkRow.patient_id == patient_id)) is not None:
            return False
        self._s.add(IdentityLinkRow(subject_id=subject.id, patient_id=patient_id))
        audit(self._s, self.actor, "link_identity", f"subject {subject_code}")
        return True

    # -- series -----------------------------------------------------------------------
    def series_uid_known(self, series_uid: str) -> bool:
        return self._s.scalar(select(SeriesRow.id).where(SeriesRow.series_uid == series_uid)) is not None

    def add_series(self, exam_id: int, series_uid: str, kind: Sequence, *, kind_reason: str, description: str,
                   path: str, files: Seq[str], shape: Seq[int], spacing: Seq[float], issues: Seq[str],
                   part: str = "", z_range: tuple[float, float] | None = None) -> Series:
        if self._s.get(ExamRow, exam_id) is None:
            raise NotFound(f"no exam {exam_id}")
        row = SeriesRow(exam_id=exam_id, series_uid=series_uid, kind=kind.value, kind_reason=kind_reason,
                        kind_overridden=False, description=description, path=path,
                        files=json.dumps(list(files)), n_files=len(files), shape=json.dumps(list(shape)),
                        spacing=json.dumps([float(s) for s in spacing]), issues=json.dumps(list(issues)),
                        part=part, z_range=json.dumps(list(z_range) if z_range else []), created_at=utcnow())
        self._s.add(row)
        self._s.flush()
        audit(self._s, self.actor, "add_series", f"series {row.id}", None, f"exam {exam_id} {kind.value}")
        return series_of(row)

    def series(self, exam_id: int | None = None) -> list[Series]:
        query = select(SeriesRow).order_by(SeriesRow.exam_id, SeriesRow.id)
        if exam_id is not None:
            query = query.where(SeriesRow.exam_id == exam_id)
        return [series_of(row) for row in self._s.scalars(query)]

    def set_series_regions(self, series_id: int, regions: Seq[str], z_range: tuple[float, float] | None) -> None:
        """Store a series' atlas regions and z-range (derived data, recomputable: not audited)."""
        row = self._s.get(SeriesRow, series_id)
        if row is None:
            raise NotFound(f"no series {series_id}")
        row.regions = json.dumps(list(regions))
        row.z_range = json.dumps([float(v) for v in z_range] if z_range else [])

    def override_series_kind(self, series_id: int, kind: Sequence, reason: str) -> Series:
        row = self._s.get(SeriesRow, series_id)
        if row is None:
            raise NotFound(f"no series {series_id}")
        old = row.kind
        row.kind, row.kind_overridden, row.kind_reason = kind.value, True, reason
        audit(self._s, self.actor, "set_series_kind", f"series {series_id}", old, kind.value)
        self._s.flush()
        return series_of(row)

    # -- protocols --------------------------------------------------------------------
    def register_protocol(self, protocol: Protocol) -> bool:
        """Store the protocol's snapshot once per hash; whether it was new."""
        if self._s.get(ProtocolRow, protocol.hash) is not None:
            return False
        self._s.add(ProtocolRow(hash=protocol.hash, name=protocol.name, version=protocol.version,
                                snapshot=protocol_to_json(protocol), created_at=utcnow()))
        self._s.flush()
        audit(self._s, self.actor, "register_protocol", f"protocol {protocol.name}", None,
              f"{protocol.version} {protocol.hash}")
        return True

    def protocol(self, protocol_hash: str) -> Protocol:
        return self._protocols.get(self._s, protocol_hash)

    def protocol_hashes(self, protocol_name: str) -> list[str]:
        """The stored versions (hashes) of a protocol, oldest first; ``NotFound`` if none."""
        hashes = list(self._s.scalars(select(ProtocolRow.hash).where(ProtocolRow.name == protocol_name)
                                      .order_by(ProtocolRow.created_at)))
        if not hashes:
            raise NotFound(f"no read in this database uses protocol {protocol_name!r}")
        return hashes

    # -- reads --------------------------------------------------------------------------
    def reads(self, *, ids: Iterable[int] | None = None, protocol_name: str | None = None,
              reader_names: Iterable[str] | None = None, exam_id: int | None = None,
              submitted_only: bool = False, first_only: bool = False,
              protocol_hashes: Iterable[str] | None = None, include_excluded: bool = True) -> list[Read]:
        """Reads with their progress (counts only: no rating values), by reader and position
        unless ``ids`` are given (then by id); ``include_excluded=False`` leaves out the reads
        of excluded exams."""
        query = in_scope(reads_query(), include_excluded)
        if ids is not None:
            query = query.where(ReadRow.id.in_(list(ids))).order_by(ReadRow.id)
        else:
            query = query.order_by(ReaderRow.name, ReadRow.position)
        if protocol_name:
            query = query.where(ProtocolRow.name == protocol_name)
        if protocol_hashes is not None:
            query = query.where(ReadRow.protocol_hash.in_(list(protocol_hashes)))
        if reader_names is not None:
            query = query.where(ReaderRow.name.in_(list(reader_names)))
        if exam_id is not None:
            query = query.where(ReadRow.exam_id == exam_id)
        if submitted_only:
            query = query.where(ReadRow.status == ReadStatus.SUBMITTED.value)
        if first_only:
            query = query.where(ReadRow.repeat == 0)
        return reads_from(self._s, list(self._s.execute(query).all()), self._protocols)

    def read(self, read_id: int) -> Read:
        found = self.reads(ids=[read_id])
        if not found:
            raise NotFound(f"no read {read_id}")
        return found[0]

    def assigned_exam_ids(self, protocol_hash: str) -> set[int]:
        return set(self._s.scalars(select(ReadRow.exam_id).where(ReadRow.protocol_hash == protocol_hash)))

    def last_position(self, reader_id: int) -> int:
        return self._s.scalar(select(func.coalesce(func.max(ReadRow.position), 0))
                              .where(ReadRow.reader_id == reader_id)) or 0

    def has_read(self, reader_id: int, exam_id: int, protocol_hash: str, *, repeat: int | None = 0) -> bool:
        query = select(ReadRow.id).where(ReadRow.reader_id == reader_id, ReadRow.exam_id == exam_id,
                                         ReadRow.protocol_hash == protocol_hash)
        query = query.where(ReadRow.repeat > 0) if repeat is None else query.where(ReadRow.repeat == repeat)
        return self._s.scalar(query.limit(1)) is not None

    def add_read(self, new: NewRead) -> int:
        row = ReadRow(reader_id=new.reader_id, exam_id=new.exam_id, protocol_hash=new.protocol_hash,
                      repeat=new.repeat, status=ReadStatus.ASSIGNED, position=new.position, seed=new.seed,
                      assigned_at=utcnow(), available_from=new.available_from,
                      code=self._unused_read_code(), assignment_id=new.assignment_id)
        self._s.add(row)
        self._s.flush()
        audit(self._s, self.actor, "assign_repeat" if new.repeat else "assign", f"read {row.id}", None, new.note)
        return row.id

    def _unused_read_code(self) -> str:
        while True:
            code = new_read_code()
            if self._s.scalar(select(ReadRow.id).where(ReadRow.code == code)) is None:
                return code

    def reopen_read(self, read_id: int, reason: str = "") -> None:
        """Set a read back to in progress (its ratings kept), audited with the reason."""
        row = self._s.get(ReadRow, read_id)
        if row is None:
            raise NotFound(f"no read {read_id}")
        old = row.status
        row.status = ReadStatus.IN_PROGRESS
        row.submitted_at = None
        audit(self._s, self.actor, "reopen", f"read {read_id}", old, f"{ReadStatus.IN_PROGRESS} {reason}".strip())

    # -- ratings and consensus ---------------------------------------------------------
    def reveal_ratings(self, read_ids: Iterable[int], purpose: str = "") -> dict[int, dict[str, Rating]]:
        """The ratings of several reads, by read id and item key. Audited: one
        ``reveal_ratings`` event per read, naming the purpose."""
        ids = list(dict.fromkeys(read_ids))
        found = set(self._s.scalars(select(ReadRow.id).where(ReadRow.id.in_(ids))))
        missing = [i for i in ids if i not in found]
        if missing:
            raise NotFound(f"no read {missing[0]}")
        result = self.ratings_for_status(ids)
        for read_id in ids:
            audit(self._s, self.actor, "reveal_ratings", f"read {read_id}", None, purpose or None)
        return result

    def ratings_for_status(self, read_ids: Iterable[int]) -> dict[int, dict[str, Rating]]:
        """The ratings of several reads, **not audited**: only for telling whether stored
        consensus still stands (app.consensus_status). What such a check shows of a rating
        (a stale value's reason quotes the new code) is audited there, as
        ``consensus_stale``; everything that shows ratings uses :meth:`reveal_ratings`."""
        ids = list(dict.fromkeys(read_ids))
        result: dict[int, dict[str, Rating]] = {read_id: {} for read_id in ids}
        for row in self._s.scalars(select(RatingRow).where(RatingRow.read_id.in_(ids))):
            result[row.read_id][row.item_key] = rating_of(row)
        return result

    def consensus(self, protocol_hashes: Iterable[str], exam_ids: Iterable[int] | None = None, *,
                  include_excluded: bool = True) -> list[Consensus]:
        query = select(ConsensusRow).where(ConsensusRow.protocol_hash.in_(list(protocol_hashes)))
        if exam_ids is not None:
            query = query.where(ConsensusRow.exam_id.in_(list(exam_ids)))
        if not include_excluded:
            query = in_scope(query.join(ExamRow, ExamRow.id == ConsensusRow.exam_id), False)
        return [consensus_of(row) for row in self._s.scalars(query.order_by(ConsensusRow.exam_id, ConsensusRow.id))]

    def write_consensus(self, exam_id: int, protocol_hash: str,
                        values: Iterable[ConsensusWrite]) -> tuple[list[Consensus], int]:
        """Write consensus values for one exam; each change is audited old → new. A value
        identical to the stored one is left as it is. Returns (values, number changed)."""
        if self._s.get(ExamRow, exam_id) is None:
            raise NotFound(f"no exam {exam_id}")
        if self._s.get(ProtocolRow, protocol_hash) is None:
            raise NotFound(f"protocol {protocol_hash[:12]} is not in this database")
        existing = {row.item_key: row for row in self._s.scalars(
            select(ConsensusRow).where(ConsensusRow.exam_id == exam_id, ConsensusRow.protocol_hash == protocol_hash))}
        now = utcnow()
        saved: list[Consensus] = []
        n_changed = 0
        for value in values:
            sources = json.dumps(dict(value.sources), sort_keys=True)
            recorded = json.dumps(dict(value.rating_versions), sort_keys=True)
            row = existing.get(value.item_key)
            if row is not None and (row.code, row.value, row.method, row.sources, row.rating_versions) == (
                    value.code, value.value, value.method.value, sources, recorded):
                saved.append(consensus_of(row))
                continue
            old = None if row is None else _shown(row.code, row.value, row.method)
            if row is None:
                row = ConsensusRow(exam_id=exam_id, protocol_hash=protocol_hash, item_key=value.item_key)
                self._s.add(row)
                existing[value.item_key] = row
            row.code, row.value, row.method = value.code, value.value, value.method.value
            row.decided_by, row.decided_at, row.sources = self.actor, now, sources
            row.rating_versions = recorded
            audit(self._s, self.actor, "set_consensus", f"exam {exam_id} {value.item_key}", old,
                  _shown(value.code, value.value, value.method.value))
            saved.append(consensus_of(row))
            n_changed += 1
        return saved, n_changed

    def audit_consensus_stale(self, value: Consensus, reason: str) -> bool:
        """One ``consensus_stale`` event (old: the value, new: why), unless the latest
        consensus event of the item already says the same. Returns whether one was written."""
        target = f"exam {value.exam_id} {value.item_key}"
        last = self._s.scalars(select(AuditRow).where(AuditRow.target == target,
                                                      AuditRow.action.in_(["set_consensus", "consensus_stale"]))
                               .order_by(AuditRow.id.desc()).limit(1)).one_or_none()
        if last is not None and last.action == "consensus_stale" and last.new == reason:
            return False
        audit(self._s, self.actor, "consensus_stale", target, _shown(value.code, value.value, value.method.value),
              reason)
        return True

    def audit_consensus_override(self, value: Consensus, code: str) -> None:
        """Audit a deliberate override of a decided consensus value at joint review."""
        audit(self._s, self.actor, "override_consensus", f"exam {value.exam_id} {value.item_key}",
              _shown(value.code, value.value, value.method.value), f"{code} (review, deliberate override)")

    def audit_log(self, limit: int = 100) -> list[AuditEvent]:
        rows = self._s.scalars(select(AuditRow).order_by(AuditRow.id.desc()).limit(limit))
        return [audit_event_of(r) for r in rows]

    # -- helpers ------------------------------------------------------------------------
    def _subject(self, code: str) -> SubjectRow:
        subject = self._s.scalars(select(SubjectRow).where(SubjectRow.code == code)).one_or_none()
        if subject is None:
            subject = SubjectRow(code=code, created_at=utcnow())
            self._s.add(subject)
            self._s.flush()
            audit(self._s, self.actor, "add_subject", f"subject {code}")
        return subject

    def _reader_row(self, name: str) -> ReaderRow:
        row = self._s.scalars(select(ReaderRow).where(ReaderRow.name == name)).one_or_none()
        if row is None:
            raise NotFound(f"no reader named {name!r}")
        return row


def active_user_names(database: Database) -> list[str]:
    """Names of the active users, for a sign-in picker: nothing else about them."""
    with database.transaction() as session:
        return list(session.scalars(select(ReaderRow.name).where(ReaderRow.active).order_by(ReaderRow.name)))


def user_credentials(database: Database, name: str) -> tuple[Reader, str] | None:
    """An active user and their password hash, or ``None`` (for sign-in only)."""
    with database.transaction() as session:
        row = session.scalars(select(ReaderRow).where(ReaderRow.name == name)).one_or_none()
        if row is None or not row.active:
            return None
        return reader_of(row), row.password_hash


def record_sign_in(database: Database, name: str, ok: bool) -> None:
    with database.transaction() as session:
        audit(session, name, "sign_in" if ok else "sign_in_failed", f"reader {name}")


class ReaderRepository:
    """One reader's blinded view: only their own reads they may open now, no identity.

    Every read id is checked: a read that is not the reader's own (or is hidden now) is
    refused with the same message whether or not it exists.
    """

    def __init__(self, session: Session, reader: Reader, protocols: ProtocolCache) -> None:
        self._s = session
        self.reader = reader
        self._protocols = protocols
        self._checked: dict[int, ReadRow] = {}  # reads found open to the reader in this unit of work

    def setting(self, name: str) -> str | None:
        """A study setting's stored value (readers may read them; ``None``: the default)."""
        return self._s.scalar(select(StudySettingRow.value).where(StudySettingRow.name == name))

    def worklist(self) -> list[Read]:
        """The reader's own reads in their worklist order (hidden ones left out)."""
        hidden = self._hidden()
        rows = self._s.execute(
            reads_query().where(ReadRow.reader_id == self.reader.id, ReadRow.id.not_in(hidden))
            .order_by(ReadRow.position)
        ).all()
        return reads_from(self._s, list(rows), self._protocols)

    def read(self, read_id: int) -> Read:
        self._own(read_id)
        rows = self._s.execute(reads_query().where(ReadRow.id == read_id)).all()
        return reads_from(self._s, list(rows), self._protocols)[0]

    def exam(self, read_id: int) -> BlindedExam:
        read = self._own(read_id)
        # Named columns only: on PostgreSQL a reader role may not select an exam's date
        # or clinical fields (migration 0009).
        label, code = self._s.execute(
            select(ExamRow.label, SubjectRow.code).join(SubjectRow, SubjectRow.id == ExamRow.subject_id)
            .where(ExamRow.id == read.exam_id)).one()
        return BlindedExam(read.exam_id, code, label)

    def series(self, read_id: int) -> list[Series]:
        read = self._own(read_id)
        # Through the view (revision 0012): a reader's role may not read series' free text or file names.
        view = READER_SERIES.c
        rows = self._s.execute(select(READER_SERIES).where(view.exam_id == read.exam_id).order_by(view.id)).all()
        return [series_of(row) for row in rows]

    def protocol(self, read_id: int) -> Protocol:
        return self._protocols.get(self._s, self._own(read_id).protocol_hash)

    def status(self, read_id: int) -> tuple[ReadStatus, Protocol]:
        """A read's status and protocol, without counting its ratings (the rating hot path)."""
        read = self._own(read_id)
        return ReadStatus(read.status), self._protocols.get(self._s, read.protocol_hash)

    def ratings(self, read_id: int) -> dict[str, Rating]:
        self._own(read_id)
        rows = self._s.scalars(select(RatingRow).where(RatingRow.read_id == read_id))
        return {row.item_key: rating_of(row) for row in rows}

    def put_rating(self, read_id: int, item_key: str, code: str, value: float | None, *,
                   action: str = "rate") -> Rating:
        """Insert or update one rating; an assigned read becomes in progress. Audited as
        ``action`` (``rate``, or ``prefill_ne`` for a region no series covers)."""
        read = self._own(read_id)
        row = self._s.scalars(
            select(RatingRow).where(RatingRow.read_id == read_id, RatingRow.item_key == item_key)
        ).one_or_none()
        old = row.code if row else None
        now = utcnow()
        if row is None:
            row = RatingRow(read_id=read_id, item_key=item_key, code=code, value=value, rated_at=now)
            self._s.add(row)
        else:
            row.code, row.value, row.rated_at = code, value, now
            # Consensus records the versions it was decided from: a re-scored rating makes it stale.
            row.version = (row.version or 1) + 1
        if read.status == ReadStatus.ASSIGNED:
            read.status = ReadStatus.IN_PROGRESS
        audit(self._s, self.reader.name, action, f"read {read_id} {item_key}", old, code)
        self._s.flush()
        return rating_of(row)

    def delete_rating(self, read_id: int, item_key: str) -> bool:
        self._own(read_id)
        old = self._s.scalars(
            select(RatingRow.code).where(RatingRow.read_id == read_id, RatingRow.item_key == item_key)
        ).one_or_none()
        if old is None:
            return False
        self._s.execute(delete(RatingRow).where(RatingRow.read_id == read_id, RatingRow.item_key == item_key))
        audit(self._s, self.reader.name, "clear", f"read {read_id} {item_key}", old, None)
        return True

    def mark_submitted(self, read_id: int) -> None:
        read = self._own(read_id)
        read.status = ReadStatus.SUBMITTED
        read.submitted_at = utcnow()
        audit(self._s, self.reader.name, "submit", f"read {read_id}", ReadStatus.IN_PROGRESS, ReadStatus.SUBMITTED)

    def _own(self, read_id: int) -> ReadRow:
        read = self._checked.get(read_id)
        if read is not None:
            return read
        read = self._s.get(ReadRow, read_id)
        if read is None or read.reader_id != self.reader.id or read_id in self._hidden(read):
            raise AccessDenied(f"read {read_id} is not in {self.reader.name}'s worklist")
        self._checked[read_id] = read
        return read

    def _hidden(self, of: ReadRow | None = None) -> set[int]:
        """Own reads the reader may not open now (excluded exams, intra-reader repeats):

        every read of an exam the coordinator excluded; a repeat read before its
        ``available_from`` (the wash-out the coordinator set); and
        the first read of an exam from the moment its repeat is assigned until the repeat is
        submitted, so the reader neither studies the first read during the wash-out nor
        sees it while scoring the repeat.

        ``of`` limits the look to that read's exam and protocol: every rating checks its
        read, and only the reads of one exam decide whether it is hidden.
        """
        now = utcnow()
        query = select(ReadRow.id, ReadRow.exam_id, ReadRow.protocol_hash, ReadRow.repeat, ReadRow.status,
                       ReadRow.available_from, ExamRow.excluded_at).join(ExamRow, ExamRow.id == ReadRow.exam_id) \
            .where(ReadRow.reader_id == self.reader.id)
        if of is not None:
            query = query.where(ReadRow.exam_id == of.exam_id, ReadRow.protocol_hash == of.protocol_hash)
        rows = self._s.execute(query).all()
        # An excluded exam leaves the worklist (its reads and ratings are kept for when it is included again).
        hidden = {r.id for r in rows if r.excluded_at is not None}
        hidden |= {r.id for r in rows if r.available_from is not None and aware(r.available_from) > now}
        open_repeats = {(r.exam_id, r.protocol_hash) for r in rows
                        if r.repeat > 0 and r.status != ReadStatus.SUBMITTED}
        hidden |= {r.id for r in rows if r.repeat == 0 and (r.exam_id, r.protocol_hash) in open_repeats}
        return hidden
