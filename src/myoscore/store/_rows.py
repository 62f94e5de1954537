"""Turning rows into domain dataclasses, and the helpers every session shares."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Row, Select, func, select
from sqlalchemy.orm import Session

from myoscore.domain import (
    AuditEvent,
    BlindedExam,
    Consensus,
    ConsensusMethod,
    Exam,
    NotFound,
    Rating,
    Read,
    Reader,
    ReadStatus,
    Role,
    Sequence,
    Series,
)
from myoscore.schemes import Protocol, protocol_from_json
from myoscore.store.database import utcnow
from myoscore.store.tables import (
    AuditRow,
    ConsensusRow,
    ExamRow,
    ProtocolRow,
    RatingRow,
    ReaderRow,
    ReadRow,
    SeriesRow,
    SubjectRow,
)


def audit(session: Session, actor: str, action: str, target: str,
          old: str | None = None, new: str | None = None) -> None:
    session.add(AuditRow(at=utcnow(), actor=actor, action=action, target=target, old=old, new=new))


def reader_of(row: ReaderRow) -> Reader:
    return Reader(row.id, row.name, Role(row.role), row.active)


def exam_of(row: ExamRow, subject_code: str) -> Exam:
    return Exam(row.id, row.subject_id, subject_code, row.label, row.exam_date,
                row.months_from_onset, row.treated, row.study_uid, row.excluded_at, row.excluded_reason)


def blinded_exam_of(row: ExamRow, subject_code: str) -> BlindedExam:
    return BlindedExam(row.id, subject_code, row.label)


def rating_of(row: RatingRow) -> Rating:
    return Rating(row.read_id, row.item_key, row.code, row.value, row.rated_at, row.version or 1, row.id)


def series_of(row: SeriesRow | Row[Any]) -> Series:
    """A series from its table row or from a row of the readers' view (same column names)."""
    return Series(
        row.id, row.exam_id, Sequence(row.kind), row.description, row.kind_reason, row.path,
        row.n_files, tuple(json.loads(row.shape)), tuple(json.loads(row.spacing)),
        tuple(json.loads(row.files)), tuple(json.loads(row.issues)), row.part or "", row.series_uid,
        bool(row.kind_overridden),
        tuple(json.loads(row.regions or "[]")), _z_range(row.z_range),
    )


def _z_range(text: str | None) -> tuple[float, float] | None:
    values = json.loads(text or "[]")
    return (float(values[0]), float(values[1])) if len(values) == 2 else None


def consensus_of(row: ConsensusRow) -> Consensus:
    return Consensus(row.exam_id, row.protocol_hash, row.item_key, row.code, row.value,
                     ConsensusMethod(row.method), row.decided_by, row.decided_at, json.loads(row.sources or "{}"),
                     json.loads(row.rating_versions or "{}"))


def audit_event_of(row: AuditRow) -> AuditEvent:
    return AuditEvent(row.id, row.at, row.actor, row.action, row.target, row.old, row.new)


class ProtocolCache:
    """Protocol snapshots by hash. They never change, so caching them is safe."""

    def __init__(self) -> None:
        self._by_hash: dict[str, Protocol] = {}

    def get(self, session: Session, protocol_hash: str) -> Protocol:
        protocol = self._by_hash.get(protocol_hash)
        if protocol is None:
            row = session.get(ProtocolRow, protocol_hash)
            if row is None:
                raise NotFound(f"protocol {protocol_hash[:12]} is not in this database")
            protocol = protocol_from_json(row.snapshot)
            self._by_hash[protocol_hash] = protocol
        return protocol


#: A row of :func:`reads_query`: the read, reader name, subject code, exam label, protocol name.
ReadsRow = tuple[ReadRow, str, str, str, str]


def reads_query() -> Select[ReadRow, str, str, str, str]:
    """Reads joined with what a worklist row shows (no identifying field)."""
    return (
        select(ReadRow, ReaderRow.name, SubjectRow.code, ExamRow.label, ProtocolRow.name)
        .join(ReaderRow, ReaderRow.id == ReadRow.reader_id)
        .join(ExamRow, ExamRow.id == ReadRow.exam_id)
        .join(SubjectRow, SubjectRow.id == ExamRow.subject_id)
        .join(ProtocolRow, ProtocolRow.hash == ReadRow.protocol_hash)
    )


def reads_from(session: Session, rows: list[ReadsRow], protocols: ProtocolCache) -> list[Read]:
    ids = [row[0].id for row in rows]
    done: dict[int, int] = {}
    if ids:
        counts = session.execute(
            select(RatingRow.read_id, func.count()).where(RatingRow.read_id.in_(ids))
            .group_by(RatingRow.read_id)
        )
        done = {read_id: n for read_id, n in counts}  # noqa: C416  (rows, not pairs)
    return [
        Read(
            read.id, read.reader_id, reader_name, read.exam_id, subject_code, exam_label,
            protocol_name, read.protocol_hash, ReadStatus(read.status), read.position,
            done.get(read.id, 0), len(protocols.get(session, read.protocol_hash).items),
            read.submitted_at, read.repeat, read.seed, read.code or "",
        )
        for read, reader_name, subject_code, exam_label, protocol_name in rows
    ]
