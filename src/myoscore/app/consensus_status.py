"""Consensus that tracks its inputs: which stored consensus values still stand.

Each consensus value records the versions of the ratings it was decided from
(``Consensus.rating_versions``: reader → ``"<rating id>.<version>"``). A value is **stale**
when a contributing rating has changed since: the reader's read was reopened, the rating
was re-scored (its version rose) or cleared. A stale value is never exported or summed as
decided (:func:`decided_consensus`), the coordinator's lists show it with the reason
(:func:`tracked_consensus`, ``myoscore consensus list --stale``), and the audit trail gets
one ``consensus_stale`` event per value and reason, naming why.

Values stored before rating versions existed have none recorded; for them a changed code
(``sources``) or a reopened read makes them stale.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from myoscore.app.coordination import consensus_for, ratings_for_status, record_stale
from myoscore.app.sessions import CoordinatorSession
from myoscore.domain import Consensus, Rating, Read, ReadStatus


class ConsensusStatus(enum.StrEnum):
    DECIDED = "decided"  # decided on the readers' present ratings
    STALE = "stale"  # a contributing rating changed since: to be decided again
    PENDING = "pending"  # no consensus yet (counts only)


@dataclass(frozen=True)
class TrackedConsensus:
    """A stored consensus value and whether it still stands (``reason`` says why not)."""

    value: Consensus
    status: ConsensusStatus
    reason: str = ""


@dataclass(frozen=True)
class ConsensusCounts:
    """Items of the exams with consensus: ``decided`` (used), ``stale`` (not used) and
    ``pending`` (items of those exams with no consensus value at all)."""

    decided: int
    stale: int
    pending: int


def rating_token(rating: Rating) -> str:
    """The version of one rating as consensus records it: ``"<rating id>.<version>"`` (a
    rating cleared and given again is a new row, so its id changes)."""
    return f"{rating.rating_id}.{rating.version}"


def rating_versions(ratings: dict[str, dict[str, Rating]], item_key: str,
                    readers: Iterable[str]) -> dict[str, str]:
    """``reader → token`` of the ratings of ``item_key``, for the readers that gave one.
    ``ratings`` maps reader name → that reader's ratings by item key."""
    return {name: rating_token(ratings[name][item_key]) for name in readers
            if name in ratings and item_key in ratings[name]}


def _reason(value: Consensus, reads: dict[str, Read], ratings: dict[int, dict[str, Rating]]) -> str:
    readers = list(value.rating_versions) or list(value.sources)
    reasons = []
    for name in readers:
        read = reads.get(name)
        if read is None:
            reasons.append(f"{name} has no first read of the exam any more")
            continue
        if read.status is not ReadStatus.SUBMITTED:
            reasons.append(f"{name}'s read {read.id} was reopened")
            continue
        rating = ratings.get(read.id, {}).get(value.item_key)
        recorded = value.rating_versions.get(name)
        if rating is None:
            reasons.append(f"{name} cleared the rating (was {value.sources.get(name, '?')})")
        elif recorded is not None and rating_token(rating) != recorded:
            reasons.append(f"{name}'s rating changed after the decision (version {recorded} → "
                           f"{rating_token(rating)}; {value.sources.get(name, '?')} → {rating.code})")
        elif recorded is None and value.sources.get(name) != rating.code:
            reasons.append(f"{name}'s code changed after the decision ({value.sources.get(name)} → {rating.code})")
    return "; ".join(reasons)


def tracked_consensus(coordinator: CoordinatorSession, protocol_name: str,
                      exam_ids: Iterable[int] | None = None, *,
                      include_excluded: bool = False) -> list[TrackedConsensus]:
    """Every stored consensus value of the protocol (or of the given exams) with its status;
    excluded exams' values only with ``include_excluded``.

    Compares the first reads' current ratings with the versions each value was decided
    from; a status check that finds everything standing adds no audit event (it shows no
    rating). A value found stale for a reason not yet recorded adds one
    ``consensus_stale`` audit event (old: the value; new: why, with the new code).
    """
    values = consensus_for(coordinator, protocol_name, exam_ids, include_excluded=include_excluded)
    if not values:
        return []
    wanted = {value.exam_id for value in values}
    reads: dict[int, dict[str, Read]] = {}
    for read in coordinator.reads(protocol_name, include_excluded=True):  # the exams wanted are chosen above
        if read.repeat == 0 and read.exam_id in wanted:
            reads.setdefault(read.exam_id, {})[read.reader_name] = read
    submitted = [read.id for by_name in reads.values() for read in by_name.values()
                 if read.status is ReadStatus.SUBMITTED]
    # Not a reveal: a value that still stands shows nothing new; a stale one's reason
    # (quoting the new code) is audited below, once per reason, as consensus_stale.
    ratings = ratings_for_status(coordinator, submitted) if submitted else {}
    tracked = []
    for value in values:
        reason = _reason(value, reads.get(value.exam_id, {}), ratings)
        tracked.append(TrackedConsensus(value, ConsensusStatus.STALE if reason else ConsensusStatus.DECIDED, reason))
    stale = [t for t in tracked if t.status is ConsensusStatus.STALE]
    if stale:
        record_stale(coordinator, [(t.value, t.reason) for t in stale])
    return tracked


def decided_consensus(coordinator: CoordinatorSession, protocol_name: str, *,
                      include_excluded: bool = False) -> list[Consensus]:
    """The consensus values that still stand: what scores and exports use."""
    return [t.value for t in tracked_consensus(coordinator, protocol_name, include_excluded=include_excluded)
            if t.status is ConsensusStatus.DECIDED]


def stale_consensus(coordinator: CoordinatorSession, protocol_name: str, *,
                    include_excluded: bool = False) -> list[TrackedConsensus]:
    """The coordinator's to-do list: consensus values to decide again, with the reason."""
    return [t for t in tracked_consensus(coordinator, protocol_name, include_excluded=include_excluded)
            if t.status is ConsensusStatus.STALE]


def consensus_counts(tracked: Iterable[TrackedConsensus], n_items: int) -> ConsensusCounts:
    """Decided, stale and pending items over the exams that have consensus (``n_items``
    items per exam)."""
    rows = list(tracked)
    exams = {t.value.exam_id for t in rows}
    decided = sum(t.status is ConsensusStatus.DECIDED for t in rows)
    stale = len(rows) - decided
    return ConsensusCounts(decided, stale, len(exams) * n_items - len(rows))
