"""Coordinator-only access for agreement, consensus and derived scores.

Every function takes a :class:`CoordinatorSession`: a reader's session has no way in.
Revealing ratings is audited (``reveal_ratings``, one event per read); every consensus
value written is audited old → new (``set_consensus``). Consensus lives in its own table
and never touches a reader's ratings. Results are domain dataclasses, never ORM rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from myoscore.domain import (
    AccessDenied,
    Consensus,
    ConsensusMethod,
    Exam,
    MyoscoreError,
    NotFound,
    Rating,
    Read,
    ReadStatus,
)
from myoscore.schemes import Protocol, protocol_from_json
from myoscore.scores import ConsensusValue, check_code
from myoscore.store._rows import ProtocolCache, audit, exam_of, rating_of, reads_from, reads_query
from myoscore.store.coordinator_session import CoordinatorSession
from myoscore.store.database import utcnow
from myoscore.store.tables import (
    ConsensusRow,
    ExamRow,
    ProtocolRow,
    RatingRow,
    ReaderRow,
    ReadRow,
    SubjectRow,
)


def _only_coordinator(session: object) -> CoordinatorSession:
    """Refuse anything but a coordinator's session (a reader's session has no ``database``,
    but say so plainly rather than fail on an attribute)."""
    if not isinstance(session, CoordinatorSession):
        raise AccessDenied("consensus, agreement and other readers' ratings are for the research coordinator only")
    return session


def consensus_of(row: ConsensusRow) -> Consensus:
    return Consensus(row.exam_id, row.protocol_hash, row.item_key, row.code, row.value,
                     ConsensusMethod(row.method), row.decided_by, row.decided_at, json.loads(row.sources or "{}"))


def _hashes(session: Session, protocol_name: str) -> list[str]:
    hashes = list(session.scalars(select(ProtocolRow.hash).where(ProtocolRow.name == protocol_name)
                                  .order_by(ProtocolRow.created_at)))
    if not hashes:
        raise NotFound(f"no read in this database uses protocol {protocol_name!r}")
    return hashes


def protocol_in_use(coordinator: CoordinatorSession, protocol_name: str) -> Protocol:
    """The exact protocol (the stored snapshot) the reads named ``protocol_name`` use.

    Refused when the database holds reads of two versions of it: scores and agreement
    across versions would mix different items.
    """
    _only_coordinator(coordinator)
    with coordinator.database.transaction() as session:
        hashes = _hashes(session, protocol_name)
        if len(hashes) > 1:
            raise MyoscoreError(
                f"protocol {protocol_name} has {len(hashes)} versions in this database "
                f"({', '.join(h[:12] for h in hashes)}); analyse one version at a time"
            )
        row = session.get(ProtocolRow, hashes[0])
        assert row is not None  # just listed
        return protocol_from_json(row.snapshot)


def submitted_reads(coordinator: CoordinatorSession, protocol_name: str,
                    reader_names: Sequence[str]) -> list[tuple[Read, ...]]:
    """The submitted reads of the named readers for one protocol, matched by exam.

    One tuple per exam that *every* named reader has submitted, in the order the readers
    are named, sorted by exam id. Intra-reader repeat reads are not included.

    Raises
    ------
    NotFound
        An unknown reader or protocol, a reader with no submitted read of the protocol, or
        no exam submitted by all of them.
    MyoscoreError
        A reader named twice, or two readers' reads of one exam used different protocol
        versions.
    """
    _only_coordinator(coordinator)
    names = [name.strip() for name in reader_names]
    if not names:
        raise MyoscoreError("name at least one reader")
    if len(set(names)) != len(names):
        raise MyoscoreError(f"a reader is named twice: {', '.join(names)}")
    with coordinator.database.transaction() as session:
        _hashes(session, protocol_name)
        for name in names:
            if session.scalar(select(ReaderRow.id).where(ReaderRow.name == name)) is None:
                raise NotFound(f"no reader named {name!r}")
        rows = session.execute(
            reads_query().where(ProtocolRow.name == protocol_name, ReaderRow.name.in_(names),
                                ReadRow.repeat == 0, ReadRow.status == ReadStatus.SUBMITTED.value)
            .order_by(ReadRow.exam_id, ReadRow.id)
        ).all()
        reads = reads_from(session, list(rows), ProtocolCache())
    by_exam: dict[int, dict[str, Read]] = {}
    for read in reads:
        by_exam.setdefault(read.exam_id, {})[read.reader_name] = read
    for name in names:
        if not any(name in found for found in by_exam.values()):
            raise NotFound(f"reader {name} has no submitted reads for protocol {protocol_name}")
    matched = [tuple(found[name] for name in names) for _, found in sorted(by_exam.items())
               if all(name in found for name in names)]
    if not matched:
        raise NotFound(f"{' and '.join(names)} have not both submitted a read of any one exam "
                       f"for protocol {protocol_name}")
    for group in matched:
        if len({read.protocol_hash for read in group}) > 1:
            raise MyoscoreError(f"exam {group[0].exam_id} ({group[0].subject_code} {group[0].exam_label}) was "
                                f"read with different versions of {protocol_name} by {', '.join(names)}")
    return matched


def repeat_pairs(coordinator: CoordinatorSession, protocol_name: str, reader_name: str) -> list[tuple[Read, Read]]:
    """A reader's submitted first reads paired with their submitted repeat reads, by exam."""
    _only_coordinator(coordinator)
    with coordinator.database.transaction() as session:
        _hashes(session, protocol_name)
        rows = session.execute(
            reads_query().where(ProtocolRow.name == protocol_name, ReaderRow.name == reader_name,
                                ReadRow.status == ReadStatus.SUBMITTED.value).order_by(ReadRow.exam_id)
        ).all()
        reads = reads_from(session, list(rows), ProtocolCache())
    first = {r.exam_id: r for r in reads if r.repeat == 0}
    second = {r.exam_id: r for r in reads if r.repeat > 0}
    pairs = [(first[exam], second[exam]) for exam in sorted(first.keys() & second.keys())]
    if not pairs:
        raise NotFound(f"{reader_name} has no exam with both a submitted first read and a submitted repeat "
                       f"read for protocol {protocol_name}")
    return pairs


def reveal_ratings(coordinator: CoordinatorSession, read_ids: Iterable[int],
                   purpose: str = "") -> dict[int, dict[str, Rating]]:
    """The ratings of several reads, by read id and item key. Audited: one
    ``reveal_ratings`` event per read, naming the purpose (agreement, consensus, scores)."""
    _only_coordinator(coordinator)
    ids = list(dict.fromkeys(read_ids))
    with coordinator.database.transaction() as session:
        found = set(session.scalars(select(ReadRow.id).where(ReadRow.id.in_(ids))))
        missing = [i for i in ids if i not in found]
        if missing:
            raise NotFound(f"no read {missing[0]}")
        result: dict[int, dict[str, Rating]] = {read_id: {} for read_id in ids}
        for row in session.scalars(select(RatingRow).where(RatingRow.read_id.in_(ids))):
            result[row.read_id][row.item_key] = rating_of(row)
        for read_id in ids:
            audit(session, coordinator.actor, "reveal_ratings", f"read {read_id}", None, purpose or None)
        return result


def _shown(code: str | None, value: float | None, method: str) -> str:
    text = code if code is not None else (f"{value:g}" if value is not None else "none")
    return f"{text} ({method})"


def save_consensus(coordinator: CoordinatorSession, exam_id: int, protocol_hash: str,
                   values: Iterable[ConsensusValue]) -> list[Consensus]:
    """Write consensus values for one exam; each change is audited old → new.

    A value identical to the stored one (code, number, method and sources) is left as it
    is, with its original decider and time. Readers' ratings are not touched.
    """
    _only_coordinator(coordinator)
    saved: list[Consensus] = []
    with coordinator.database.transaction() as session:
        if session.get(ExamRow, exam_id) is None:
            raise NotFound(f"no exam {exam_id}")
        if session.get(ProtocolRow, protocol_hash) is None:
            raise NotFound(f"protocol {protocol_hash[:12]} is not in this database")
        existing = {row.item_key: row for row in session.scalars(
            select(ConsensusRow).where(ConsensusRow.exam_id == exam_id, ConsensusRow.protocol_hash == protocol_hash))}
        now = utcnow()
        for value in values:
            sources = json.dumps(dict(value.sources), sort_keys=True)
            row = existing.get(value.item_key)
            if row is not None and (row.code, row.value, row.method, row.sources) == (
                    value.code, value.value, value.method.value, sources):
                saved.append(consensus_of(row))
                continue
            old = None if row is None else _shown(row.code, row.value, row.method)
            if row is None:
                row = ConsensusRow(exam_id=exam_id, protocol_hash=protocol_hash, item_key=value.item_key)
                session.add(row)
                existing[value.item_key] = row
            row.code, row.value, row.method = value.code, value.value, value.method.value
            row.decided_by, row.decided_at, row.sources = coordinator.actor, now, sources
            audit(session, coordinator.actor, "set_consensus", f"exam {exam_id} {value.item_key}", old,
                  _shown(value.code, value.value, value.method.value))
            saved.append(consensus_of(row))
    return saved


def record_decision(coordinator: CoordinatorSession, protocol_name: str, exam_id: int, item_key: str,
                    code: str, method: ConsensusMethod = ConsensusMethod.REVIEW) -> Consensus:
    """Record the value agreed at joint review for one item of one exam (audited).

    ``code`` is a level of the item's scale or ``NE``. The sources recorded are the codes
    every submitted read of the exam gave for the item (a reveal, audited).
    """
    _only_coordinator(coordinator)
    with coordinator.database.transaction() as session:
        hashes = _hashes(session, protocol_name)
        if session.get(ExamRow, exam_id) is None:
            raise NotFound(f"no exam {exam_id}")
        reads = session.execute(
            select(ReadRow.id, ReadRow.protocol_hash, ReaderRow.name).join(ReaderRow)
            .where(ReadRow.exam_id == exam_id, ReadRow.protocol_hash.in_(hashes), ReadRow.repeat == 0,
                   ReadRow.status == ReadStatus.SUBMITTED.value)
            .order_by(ReaderRow.name)
        ).all()
        used = {h for _, h, _ in reads}
        if not used:
            raise NotFound(f"exam {exam_id} has no submitted read with protocol {protocol_name}")
        if len(used) > 1:
            raise MyoscoreError(f"exam {exam_id} was read with {len(used)} versions of {protocol_name}")
        protocol_hash = used.pop()
        protocol = ProtocolCache().get(session, protocol_hash)
    code = check_code(protocol, item_key, code)
    ratings = reveal_ratings(coordinator, [read_id for read_id, _, _ in reads], f"consensus {item_key}")
    sources = {name: ratings[read_id][item_key].code for read_id, _, name in reads if item_key in ratings[read_id]}
    value = ConsensusValue(item_key, code, protocol.scale_of(item_key).value_of(code), method, sources)
    return save_consensus(coordinator, exam_id, protocol_hash, [value])[0]


def consensus_for(coordinator: CoordinatorSession, protocol_name: str,
                  exam_ids: Iterable[int] | None = None) -> list[Consensus]:
    """Consensus values of the protocol for every exam (or the given ones), by exam and then
    in the order they were first written."""
    _only_coordinator(coordinator)
    with coordinator.database.transaction() as session:
        hashes = _hashes(session, protocol_name)
        query = select(ConsensusRow).where(ConsensusRow.protocol_hash.in_(hashes))
        if exam_ids is not None:
            query = query.where(ConsensusRow.exam_id.in_(list(exam_ids)))
        rows = session.scalars(query.order_by(ConsensusRow.exam_id, ConsensusRow.id))
        return [consensus_of(row) for row in rows]


def exams_for(coordinator: CoordinatorSession, protocol_name: str) -> list[Exam]:
    """Exams with at least one read of the protocol, with subject code, label, exam date and
    months from onset (coordinator-only fields), by subject then exam id."""
    _only_coordinator(coordinator)
    with coordinator.database.transaction() as session:
        hashes = _hashes(session, protocol_name)
        with_reads = select(ReadRow.exam_id).where(ReadRow.protocol_hash.in_(hashes))
        rows = session.execute(
            select(ExamRow, SubjectRow.code).join(SubjectRow).where(ExamRow.id.in_(with_reads))
            .order_by(SubjectRow.code, ExamRow.id)
        )
        return [exam_of(exam, code) for exam, code in rows]


def codes_of(ratings: dict[str, Rating]) -> dict[str, str]:
    """A read's codes by item key (``NE`` kept), as reconciliation takes them."""
    return {key: rating.code for key, rating in ratings.items()}


__all__ = [
    "codes_of",
    "consensus_for",
    "consensus_of",
    "exams_for",
    "protocol_in_use",
    "record_decision",
    "reveal_ratings",
    "save_consensus",
    "submitted_reads",
]
