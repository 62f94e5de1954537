"""The research coordinator's view: full access, and every reveal of ratings audited."""

from __future__ import annotations

import json
import random
import secrets
from collections.abc import Sequence as Seq
from datetime import date, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from myoscore.domain import (
    AccessDenied,
    AuditEvent,
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
    exam_of,
    rating_of,
    reader_of,
    reads_from,
    reads_query,
    series_of,
)
from myoscore.store.database import Database, aware, utcnow
from myoscore.store.passwords import hash_password

if TYPE_CHECKING:
    from myoscore.store.reader_session import ReaderSession
from myoscore.store.tables import (
    AuditRow,
    ExamRow,
    IdentityLinkRow,
    ProtocolRow,
    RatingRow,
    ReaderRow,
    ReadRow,
    SeriesRow,
    SubjectRow,
)


class CoordinatorSession:
    """Study set-up, progress and (audited) access to every reader's ratings."""

    def __init__(self, database: Database, actor: str) -> None:
        self._db = database
        self.actor = actor
        self._protocols = ProtocolCache()

    @property
    def database(self) -> Database:
        """For store modules that add coordinator operations (consensus, import)."""
        return self._db

    # -- readers -------------------------------------------------------------------
    def add_reader(self, name: str, role: Role, password: str) -> Reader:
        name = name.strip()
        if not name or "," in name:
            raise MyoscoreError(f"invalid reader name {name!r}: it must be non-empty and have no comma")
        if not password:
            raise MyoscoreError(f"reader {name}: a password is required")
        try:
            with self._db.transaction() as session:
                row = ReaderRow(name=name, role=role.value, password_hash=hash_password(password),
                                active=True, created_at=utcnow())
                session.add(row)
                session.flush()
                audit(session, self.actor, "add_reader", f"reader {name}", None, role.value)
                return reader_of(row)
        except IntegrityError:
            raise MyoscoreError(f"reader {name!r} already exists") from None

    def set_password(self, name: str, password: str) -> None:
        with self._db.transaction() as session:
            row = self._reader_row(session, name)
            row.password_hash = hash_password(password)
            audit(session, self.actor, "set_password", f"reader {name}")

    def readers(self) -> list[Reader]:
        with self._db.transaction() as session:
            return [reader_of(r) for r in session.scalars(select(ReaderRow).order_by(ReaderRow.name))]

    # -- subjects and exams --------------------------------------------------------
    def add_exam(self, subject_code: str, label: str = "baseline", *, exam_date: date | None = None,
                 months_from_onset: float | None = None, treated: bool | None = None) -> Exam:
        subject_code = subject_code.strip()
        if not subject_code:
            raise MyoscoreError("a subject code is required")
        with self._db.transaction() as session:
            subject = self._subject(session, subject_code)
            row = ExamRow(subject_id=subject.id, label=label, exam_date=exam_date,
                          months_from_onset=months_from_onset, treated=treated, created_at=utcnow())
            session.add(row)
            session.flush()
            audit(session, self.actor, "add_exam", f"exam {row.id}", None, f"{subject_code} {label}")
            return exam_of(row, subject_code)

    def update_exam(self, exam_id: int, *, label: str | None = None, months_from_onset: float | None = None,
                    treated: bool | None = None) -> Exam:
        """Set an exam's timepoint label and clinical fields (audited, old → new)."""
        with self._db.transaction() as session:
            row = session.get(ExamRow, exam_id)
            if row is None:
                raise NotFound(f"no exam {exam_id}")
            for name, value in (("label", label), ("months_from_onset", months_from_onset), ("treated", treated)):
                if value is not None and getattr(row, name) != value:
                    audit(session, self.actor, f"set_exam_{name}", f"exam {exam_id}", str(getattr(row, name)),
                          str(value))
                    setattr(row, name, value)
            code = session.scalar(select(SubjectRow.code).where(SubjectRow.id == row.subject_id))
            return exam_of(row, code or "")

    def subjects(self) -> list[Subject]:
        with self._db.transaction() as session:
            return [Subject(s.id, s.code) for s in session.scalars(select(SubjectRow).order_by(SubjectRow.code))]

    def exams(self) -> list[Exam]:
        with self._db.transaction() as session:
            rows = session.execute(
                select(ExamRow, SubjectRow.code).join(SubjectRow).order_by(SubjectRow.code, ExamRow.id)
            )
            return [exam_of(exam, code) for exam, code in rows]

    # -- series and identity -----------------------------------------------------------
    def add_series(self, exam_id: int, series_uid: str, kind: Sequence, *, kind_reason: str = "",
                   description: str = "", path: str = "", files: Seq[str] = (), shape: Seq[int] = (),
                   spacing: Seq[float] = (), issues: Seq[str] = (), part: str = "") -> Series | None:
        """Register a series of an exam; ``None`` if its UID is already registered."""
        with self._db.transaction() as session:
            if session.scalar(select(SeriesRow.id).where(SeriesRow.series_uid == series_uid)):
                return None
            if session.get(ExamRow, exam_id) is None:
                raise NotFound(f"no exam {exam_id}")
            row = SeriesRow(exam_id=exam_id, series_uid=series_uid, kind=kind.value, kind_reason=kind_reason,
                            kind_overridden=False, description=description, path=path,
                            files=json.dumps(list(files)), n_files=len(files), shape=json.dumps(list(shape)),
                            spacing=json.dumps([float(s) for s in spacing]), issues=json.dumps(list(issues)),
                            part=part, created_at=utcnow())
            session.add(row)
            session.flush()
            audit(session, self.actor, "add_series", f"series {row.id}", None, f"exam {exam_id} {kind.value}")
            return series_of(row)

    def series(self, exam_id: int | None = None) -> list[Series]:
        with self._db.transaction() as session:
            query = select(SeriesRow).order_by(SeriesRow.exam_id, SeriesRow.id)
            if exam_id is not None:
                query = query.where(SeriesRow.exam_id == exam_id)
            return [series_of(row) for row in session.scalars(query)]

    def set_series_kind(self, series_id: int, kind: Sequence, reason: str = "") -> Series:
        """Override a series' classification, keeping why (audited)."""
        with self._db.transaction() as session:
            row = session.get(SeriesRow, series_id)
            if row is None:
                raise NotFound(f"no series {series_id}")
            old = row.kind
            row.kind, row.kind_overridden = kind.value, True
            row.kind_reason = f"set by {self.actor}" + (f": {reason}" if reason else "")
            audit(session, self.actor, "set_series_kind", f"series {series_id}", old, kind.value)
            session.flush()
            return series_of(row)

    def exam_for_study(self, subject_code: str | None, study_uid: str,
                       exam_date: date | None = None) -> tuple[Exam, bool]:
        """The exam of an imported DICOM study, created on first import. Returns (exam, created).

        Without ``subject_code`` a new exam goes to a new pseudonymous subject (``SUBJ-0007``).
        A new exam is labelled by its order among the subject's exams (``exam 2``); the
        coordinator relabels it (baseline, follow-up).
        """
        with self._db.transaction() as session:
            found = session.execute(
                select(ExamRow, SubjectRow.code).join(SubjectRow).where(ExamRow.study_uid == study_uid)
            ).one_or_none()
            if found is not None:
                return exam_of(found[0], found[1]), False
            code = subject_code or self._new_subject_code(session)
            subject = self._subject(session, code)
            n_exams = session.scalar(select(func.count()).where(ExamRow.subject_id == subject.id)) or 0
            label = f"exam {n_exams + 1}"
            row = ExamRow(subject_id=subject.id, label=label, exam_date=exam_date, study_uid=study_uid,
                          created_at=utcnow())
            session.add(row)
            session.flush()
            audit(session, self.actor, "add_exam", f"exam {row.id}", None, f"{code} {label}")
            return exam_of(row, code), True

    @staticmethod
    def _new_subject_code(session: Session) -> str:
        taken = set(session.scalars(select(SubjectRow.code)))
        n = len(taken) + 1
        while f"SUBJ-{n:04d}" in taken:
            n += 1
        return f"SUBJ-{n:04d}"

    def subject_for_patient(self, patient_id: str, *, link: bool = True) -> str | None:
        """The subject code linked to a hospital PatientID, or ``None``. Coordinator-only."""
        if not link:
            return None
        with self._db.transaction() as session:
            return session.scalar(
                select(SubjectRow.code).join(IdentityLinkRow, IdentityLinkRow.subject_id == SubjectRow.id)
                .where(IdentityLinkRow.patient_id == patient_id)
            )

    def link_patient(self, subject_code: str, patient_id: str) -> None:
        with self._db.transaction() as session:
            subject = self._subject(session, subject_code)
            if session.scalar(select(IdentityLinkRow.id).where(IdentityLinkRow.patient_id == patient_id)) is None:
                session.add(IdentityLinkRow(subject_id=subject.id, patient_id=patient_id))
                audit(session, self.actor, "link_identity", f"subject {subject_code}")

    # -- protocols and assignment -----------------------------------------------------
    def register_protocol(self, protocol: Protocol) -> str:
        """Store the protocol's snapshot (once per hash) and return the hash."""
        with self._db.transaction() as session:
            self._register(session, protocol)
        return protocol.hash

    def assign(self, protocol: Protocol, reader_names: Seq[str], exam_ids: Seq[int] | None = None,
               seed: int | None = None) -> list[Read]:
        """Assign exams to readers, each reader's order shuffled from a recorded seed.

        Without ``exam_ids``: every exam not yet assigned for this protocol. Positions
        continue after each reader's existing worklist.
        """
        if not reader_names:
            raise MyoscoreError("name at least one reader")
        if len(set(reader_names)) != len(reader_names):
            raise MyoscoreError(f"a reader is named twice: {', '.join(reader_names)}")
        seed_text = str(seed if seed is not None else secrets.randbelow(2**31))
        with self._db.transaction() as session:
            self._register(session, protocol)
            readers = [self._reader_row(session, name) for name in reader_names]
            for reader in readers:
                if reader.role == Role.COORDINATOR:
                    raise MyoscoreError(f"{reader.name} is a coordinator, not a reader")
            if exam_ids is None:
                assigned = select(ReadRow.exam_id).where(ReadRow.protocol_hash == protocol.hash)
                exam_ids = list(session.scalars(select(ExamRow.id).where(ExamRow.id.not_in(assigned))
                                                .order_by(ExamRow.id)))
            else:
                for exam_id in exam_ids:
                    if session.get(ExamRow, exam_id) is None:
                        raise NotFound(f"no exam {exam_id}")
            created: list[int] = []
            for reader in readers:
                order = sorted(exam_ids)
                random.Random(f"{seed_text}:{reader.name}").shuffle(order)
                start = session.scalar(
                    select(func.coalesce(func.max(ReadRow.position), 0)).where(ReadRow.reader_id == reader.id)
                )
                for offset, exam_id in enumerate(order, start=1):
                    exists = session.scalar(select(ReadRow.id).where(
                        ReadRow.reader_id == reader.id, ReadRow.exam_id == exam_id,
                        ReadRow.protocol_hash == protocol.hash, ReadRow.repeat == 0))
                    if exists:
                        raise MyoscoreError(f"exam {exam_id} is already assigned to {reader.name} "
                                            f"for {protocol.name}")
                    row = ReadRow(reader_id=reader.id, exam_id=exam_id, protocol_hash=protocol.hash,
                                  repeat=0, status=ReadStatus.ASSIGNED, position=(start or 0) + offset,
                                  seed=seed_text, assigned_at=utcnow())
                    session.add(row)
                    session.flush()
                    created.append(row.id)
                    audit(session, self.actor, "assign", f"read {row.id}", None,
                          f"{reader.name} exam {exam_id} {protocol.name} seed {seed_text}")
            rows = session.execute(reads_query().where(ReadRow.id.in_(created)).order_by(ReadRow.id)).all()
            return reads_from(session, list(rows), self._protocols)

    def assign_repeats(self, protocol: Protocol, reader_name: str, fraction: float, washout_days: float,
                       seed: int | None = None) -> list[Read]:
        """Re-assign a fraction of a reader's submitted exams to the same reader.

        The repeats are drawn at random (recorded seed), placed after the reader's current
        worklist in a new random order, and stay hidden until ``washout_days`` after the
        first read was submitted; while a repeat is open the first read is hidden, so the
        reader scores the exam again blind to their first read.
        """
        if not 0 < fraction <= 1:
            raise MyoscoreError(f"the fraction of exams to repeat must be in (0, 1], not {fraction}")
        if washout_days < 0:
            raise MyoscoreError(f"the wash-out period cannot be negative ({washout_days} days)")
        seed_text = str(seed if seed is not None else secrets.randbelow(2**31))
        with self._db.transaction() as session:
            reader = self._reader_row(session, reader_name)
            firsts = list(session.scalars(select(ReadRow).where(
                ReadRow.reader_id == reader.id, ReadRow.protocol_hash == protocol.hash, ReadRow.repeat == 0,
                ReadRow.status == ReadStatus.SUBMITTED).order_by(ReadRow.exam_id)))
            repeated = set(session.scalars(select(ReadRow.exam_id).where(
                ReadRow.reader_id == reader.id, ReadRow.protocol_hash == protocol.hash, ReadRow.repeat > 0)))
            eligible = [read for read in firsts if read.exam_id not in repeated]
            if not eligible:
                raise NotFound(f"{reader_name} has no submitted read of {protocol.name} that is not repeated yet")
            rng = random.Random(f"{seed_text}:{reader_name}:repeat")
            chosen = rng.sample(eligible, max(1, round(fraction * len(eligible))))
            start = session.scalar(
                select(func.coalesce(func.max(ReadRow.position), 0)).where(ReadRow.reader_id == reader.id)) or 0
            created = []
            for offset, first in enumerate(chosen, start=1):
                assert first.submitted_at is not None  # submitted reads have a time
                row = ReadRow(reader_id=reader.id, exam_id=first.exam_id, protocol_hash=protocol.hash, repeat=1,
                              status=ReadStatus.ASSIGNED, position=start + offset, seed=seed_text,
                              assigned_at=utcnow(),
                              available_from=aware(first.submitted_at) + timedelta(days=washout_days))
                session.add(row)
                session.flush()
                created.append(row.id)
                audit(session, self.actor, "assign_repeat", f"read {row.id}", f"read {first.id}",
                      f"{reader_name} exam {first.exam_id} after {washout_days:g} days, seed {seed_text}")
            rows = session.execute(reads_query().where(ReadRow.id.in_(created)).order_by(ReadRow.position)).all()
            return reads_from(session, list(rows), self._protocols)

    # -- progress and reveals -----------------------------------------------------------
    def reads(self, protocol_name: str | None = None) -> list[Read]:
        """Every read with its progress (counts only: no rating values)."""
        with self._db.transaction() as session:
            query = reads_query().order_by(ReaderRow.name, ReadRow.position)
            if protocol_name:
                query = query.where(ProtocolRow.name == protocol_name)
            return reads_from(session, list(session.execute(query).all()), self._protocols)

    def protocol_of(self, read_id: int) -> Protocol:
        with self._db.transaction() as session:
            return self._protocols.get(session, self._read_row(session, read_id).protocol_hash)

    def read_ratings(self, read_id: int) -> dict[str, Rating]:
        """One read's ratings. Reveals a reader's values, so it is audited."""
        with self._db.transaction() as session:
            self._read_row(session, read_id)
            rows = session.scalars(select(RatingRow).where(RatingRow.read_id == read_id))
            audit(session, self.actor, "reveal_ratings", f"read {read_id}")
            return {row.item_key: rating_of(row) for row in rows}

    def reopen(self, read_id: int, reason: str = "") -> None:
        with self._db.transaction() as session:
            read = self._read_row(session, read_id)
            if read.status != ReadStatus.SUBMITTED:
                raise MyoscoreError(f"read {read_id} is not submitted (status {read.status})")
            read.status = ReadStatus.IN_PROGRESS
            read.submitted_at = None
            audit(session, self.actor, "reopen", f"read {read_id}", ReadStatus.SUBMITTED,
                  f"{ReadStatus.IN_PROGRESS} {reason}".strip())

    def audit_log(self, limit: int = 100) -> list[AuditEvent]:
        with self._db.transaction() as session:
            rows = session.scalars(select(AuditRow).order_by(AuditRow.id.desc()).limit(limit))
            return [audit_event_of(r) for r in rows]

    # -- helpers ------------------------------------------------------------------------------
    def _register(self, session: Session, protocol: Protocol) -> None:
        if session.get(ProtocolRow, protocol.hash) is None:
            session.add(ProtocolRow(hash=protocol.hash, name=protocol.name, version=protocol.version,
                                    snapshot=protocol_to_json(protocol), created_at=utcnow()))
            session.flush()
            audit(session, self.actor, "register_protocol", f"protocol {protocol.name}", None,
                  f"{protocol.version} {protocol.hash}")

    def _subject(self, session: Session, code: str) -> SubjectRow:
        subject = session.scalars(select(SubjectRow).where(SubjectRow.code == code)).one_or_none()
        if subject is None:
            subject = SubjectRow(code=code, created_at=utcnow())
            session.add(subject)
            session.flush()
            audit(session, self.actor, "add_subject", f"subject {code}")
        return subject

    def _reader_row(self, session: Session, name: str) -> ReaderRow:
        row = session.scalars(select(ReaderRow).where(ReaderRow.name == name)).one_or_none()
        if row is None:
            raise NotFound(f"no reader named {name!r}")
        return row

    def _read_row(self, session: Session, read_id: int) -> ReadRow:
        row = session.get(ReadRow, read_id)
        if row is None:
            raise NotFound(f"no read {read_id}")
        return row


def user_names(database: Database) -> list[str]:
    """Names of the active users, for a sign-in picker: nothing else about them."""
    with database.transaction() as session:
        return list(session.scalars(select(ReaderRow.name).where(ReaderRow.active).order_by(ReaderRow.name)))


def sign_in(database: Database, name: str, password: str) -> ReaderSession | CoordinatorSession:
    """Check a user's password; readers get a blinded session, coordinators a full one."""
    from myoscore.store.passwords import verify_password
    from myoscore.store.reader_session import ReaderSession

    with database.transaction() as session:
        row = session.scalars(select(ReaderRow).where(ReaderRow.name == name)).one_or_none()
        ok = row is not None and row.active and verify_password(password, row.password_hash)
        audit(session, name, "sign_in" if ok else "sign_in_failed", f"reader {name}")
        reader = reader_of(row) if ok and row is not None else None
    if reader is None:
        raise AccessDenied(f"wrong name or password for {name!r}")
    if reader.role is Role.COORDINATOR:
        return CoordinatorSession(database, reader.name)
    return ReaderSession(database, reader)
