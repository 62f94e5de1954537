"""Coordinator-only access for agreement, consensus and derived scores.

Every function takes a :class:`~myoscore.app.sessions.CoordinatorSession`: a reader's
session has no way in. Revealing ratings is audited by the store (``reveal_ratings``, one
event per read); every consensus value written is audited old → new (``set_consensus``).
Consensus lives in its own table and never touches a reader's ratings.

Excluded exams (:mod:`myoscore.app.exam_lifecycle`) are left out of everything analysis
lists here: matched and repeat reads, consensus, the exams of a protocol. Each function
takes ``include_excluded=True`` to count them again; the agreement, consensus, score and
export use cases pass their own ``include_excluded`` through, so this module (and the
store's one clause, ``store.repository.in_scope``) is the only place that filters.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from myoscore.app.sessions import CoordinatorSession
from myoscore.domain import (
    AccessDenied,
    Consensus,
    ConsensusMethod,
    Exam,
    MyoscoreError,
    NotFound,
    Rating,
    Read,
)
from myoscore.schemes import Protocol
from myoscore.scores import ConsensusValue, check_code
from myoscore.store import ConsensusWrite


def _only_coordinator(session: object) -> CoordinatorSession:
    """Refuse anything but a coordinator's session, plainly."""
    if not isinstance(session, CoordinatorSession):
        raise AccessDenied("consensus, agreement and other readers' ratings are for the research coordinator only")
    return session


def protocol_in_use(coordinator: CoordinatorSession, protocol_name: str) -> Protocol:
    """The exact protocol (the stored snapshot) the reads named ``protocol_name`` use.

    Refused when the database holds reads of two versions of it: scores and agreement
    across versions would mix different items.
    """
    with _only_coordinator(coordinator).unit() as repo:
        hashes = repo.protocol_hashes(protocol_name)
        if len(hashes) > 1:
            raise MyoscoreError(
                f"protocol {protocol_name} has {len(hashes)} versions in this database "
                f"({', '.join(h[:12] for h in hashes)}); analyse one version at a time"
            )
        return repo.protocol(hashes[0])


def submitted_reads(coordinator: CoordinatorSession, protocol_name: str,
                    reader_names: Sequence[str], *, include_excluded: bool = False) -> list[tuple[Read, ...]]:
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
    names = [name.strip() for name in reader_names]
    if not names:
        raise MyoscoreError("name at least one reader")
    if len(set(names)) != len(names):
        raise MyoscoreError(f"a reader is named twice: {', '.join(names)}")
    with _only_coordinator(coordinator).unit() as repo:
        repo.protocol_hashes(protocol_name)
        for name in names:
            repo.reader(name)
        reads = repo.reads(protocol_name=protocol_name, reader_names=names, submitted_only=True, first_only=True,
                           include_excluded=include_excluded)
    by_exam: dict[int, dict[str, Read]] = {}
    for read in sorted(reads, key=lambda r: (r.exam_id, r.id)):
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


def repeat_pairs(coordinator: CoordinatorSession, protocol_name: str, reader_name: str, *,
                 include_excluded: bool = False) -> list[tuple[Read, Read]]:
    """A reader's submitted first reads paired with their submitted repeat reads, by exam."""
    with _only_coordinator(coordinator).unit() as repo:
        repo.protocol_hashes(protocol_name)
        reads = repo.reads(protocol_name=protocol_name, reader_names=[reader_name], submitted_only=True,
                           include_excluded=include_excluded)
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
    with _only_coordinator(coordinator).unit() as repo:
        return repo.reveal_ratings(read_ids, purpose)


def ratings_for_status(coordinator: CoordinatorSession, read_ids: Iterable[int]) -> dict[int, dict[str, Rating]]:
    """Ratings to decide whether consensus still stands; not audited (see
    :meth:`myoscore.store.repository.StudyRepository.ratings_for_status`). Never show them."""
    with _only_coordinator(coordinator).unit() as repo:
        return repo.ratings_for_status(read_ids)


def save_consensus(coordinator: CoordinatorSession, exam_id: int, protocol_hash: str,
                   values: Iterable[ConsensusValue],
                   versions: Mapping[str, Mapping[str, str]] | None = None) -> list[Consensus]:
    """Write consensus values for one exam; each change is audited old → new.

    ``versions`` maps an item key to the rating versions the value was decided from
    (reader → ``"<rating id>.<version>"``). A value identical to the stored one (code,
    number, method, sources and versions) is left as it is, with its original decider and
    time. Readers' ratings are not touched.
    """
    writes = [ConsensusWrite(v.item_key, v.code, v.value, v.method, dict(v.sources),
                             dict((versions or {}).get(v.item_key, {}))) for v in values]
    with _only_coordinator(coordinator).unit() as repo:
        return repo.write_consensus(exam_id, protocol_hash, writes)[0]


def record_decision(coordinator: CoordinatorSession, protocol_name: str, exam_id: int, item_key: str,
                    code: str, method: ConsensusMethod = ConsensusMethod.REVIEW) -> Consensus:
    """Record the value agreed at joint review for one item of one exam (audited).

    ``code`` is a level of the item's scale or ``NE``. The sources recorded are the codes
    every submitted read of the exam gave for the item (a reveal, audited). One unit of work.
    """
    with _only_coordinator(coordinator).unit() as repo:
        hashes = repo.protocol_hashes(protocol_name)
        exam = repo.exam(exam_id)
        if exam.excluded_at is not None:
            raise MyoscoreError(f"exam {exam_id} ({exam.subject_code} · {exam.label}) is excluded "
                                f"({exam.excluded_reason}); include it again to decide its consensus")
        reads = sorted(repo.reads(exam_id=exam_id, protocol_hashes=hashes, submitted_only=True, first_only=True),
                       key=lambda read: read.reader_name)
        used = {read.protocol_hash for read in reads}
        if not used:
            raise NotFound(f"exam {exam_id} has no submitted read with protocol {protocol_name}")
        if len(used) > 1:
            raise MyoscoreError(f"exam {exam_id} was read with {len(used)} versions of {protocol_name}")
        protocol_hash = used.pop()
        protocol = repo.protocol(protocol_hash)
        code = check_code(protocol, item_key, code)
        ratings = repo.reveal_ratings([read.id for read in reads], f"consensus {item_key}")
        sources = {read.reader_name: ratings[read.id][item_key].code for read in reads
                   if item_key in ratings[read.id]}
        versions = {read.reader_name: f"{ratings[read.id][item_key].rating_id}.{ratings[read.id][item_key].version}"
                    for read in reads if item_key in ratings[read.id]}
        value = ConsensusWrite(item_key, code, protocol.scale_of(item_key).value_of(code), method, sources,
                               versions)
        return repo.write_consensus(exam_id, protocol_hash, [value])[0][0]


def record_stale(coordinator: CoordinatorSession, stale: Iterable[tuple[Consensus, str]]) -> int:
    """Audit consensus values found stale: one ``consensus_stale`` event per value and
    reason (old: the value; new: why), not repeated while the reason is the same.
    Returns the number of events written."""
    with _only_coordinator(coordinator).unit() as repo:
        return sum(repo.audit_consensus_stale(value, reason) for value, reason in stale)


def record_override(coordinator: CoordinatorSession, value: Consensus, code: str) -> None:
    """Audit a deliberate override of a decided consensus value at joint review."""
    with _only_coordinator(coordinator).unit() as repo:
        repo.audit_consensus_override(value, code)


def consensus_for(coordinator: CoordinatorSession, protocol_name: str,
                  exam_ids: Iterable[int] | None = None, *, include_excluded: bool = False) -> list[Consensus]:
    """Consensus values of the protocol for every exam (or the given ones), by exam and then
    in the order they were first written."""
    with _only_coordinator(coordinator).unit() as repo:
        return repo.consensus(repo.protocol_hashes(protocol_name), exam_ids, include_excluded=include_excluded)


def exams_for(coordinator: CoordinatorSession, protocol_name: str, *,
              include_excluded: bool = False) -> list[Exam]:
    """Exams with at least one read of the protocol, with subject code, label, exam date and
    months from onset (coordinator-only fields), by subject then exam id."""
    with _only_coordinator(coordinator).unit() as repo:
        hashes = repo.protocol_hashes(protocol_name)
        exam_ids = {read.exam_id for read in repo.reads(protocol_hashes=hashes, include_excluded=include_excluded)}
        return repo.exams(exam_ids)


def first_reads(coordinator: CoordinatorSession, protocol_name: str, protocol_hash: str, *,
                include_excluded: bool = False) -> list[Read]:
    """Every reader's submitted first read of the protocol version ``protocol_hash``, by
    reader and position (what exports and structured reports hold)."""
    with _only_coordinator(coordinator).unit() as repo:
        return repo.reads(protocol_name=protocol_name, protocol_hashes=[protocol_hash], submitted_only=True,
                          first_only=True, include_excluded=include_excluded)


def codes_of(ratings: dict[str, Rating]) -> dict[str, str]:
    """A read's codes by item key (``NE`` kept), as reconciliation takes them."""
    return {key: rating.code for key, rating in ratings.items()}


__all__ = [
    "codes_of",
    "consensus_for",
    "exams_for",
    "first_reads",
    "protocol_in_use",
    "record_decision",
    "record_override",
    "record_stale",
    "repeat_pairs",
    "reveal_ratings",
    "save_consensus",
    "submitted_reads",
]
