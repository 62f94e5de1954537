"""Why an exam has nothing from a source yet: the reasons a mid-study export names.

An export draws what exists (:mod:`myoscore.export.coverage`); for every exam without
consensus, or without a reader's submitted read, this module says why in the study's
words: "no consensus yet (1 of 2 reads submitted)", "consensus stale (3 items to decide
again)", "A's read in progress (12 of 60 items)". Counts only, never values.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from myoscore.app.consensus_status import ConsensusStatus, TrackedConsensus
from myoscore.app.wording import plural
from myoscore.domain import Exam, Read, ReadStatus
from myoscore.export import CONSENSUS, reader_source

__all__ = ["absent_reasons", "read_state"]


def read_state(read: Read, protocol_hash: str) -> str | None:
    """Why a first read gives no ratings to an export (``None``: it does)."""
    if read.status is ReadStatus.SUBMITTED:
        if read.protocol_hash != protocol_hash:
            return f"{read.reader_name}'s read uses another version of the protocol"
        return None
    if read.status is ReadStatus.IN_PROGRESS:
        return f"{read.reader_name}'s read in progress ({read.done} of {plural(read.total, 'item')})"
    return f"{read.reader_name}'s read not started"


def absent_reasons(reads: Iterable[Read], exams: Sequence[Exam], tracked: Iterable[TrackedConsensus],
                   protocol_hash: str) -> dict[tuple[int, str], str]:
    """``(exam id, source) → reason`` for the exams with no consensus and each reader's
    exams with no submitted first read of ``protocol_hash`` (``reads``: the protocol's reads)."""
    wanted = {exam.id for exam in exams}
    by_exam: dict[int, list[Read]] = {}
    for read in reads:
        if read.repeat == 0 and read.exam_id in wanted:
            by_exam.setdefault(read.exam_id, []).append(read)
    decided: set[int] = set()
    stale: Counter[int] = Counter()
    for value in tracked:
        if value.status is ConsensusStatus.DECIDED:
            decided.add(value.value.exam_id)
        else:
            stale[value.value.exam_id] += 1
    readers = sorted({read.reader_name for rows in by_exam.values() for read in rows})
    reasons: dict[tuple[int, str], str] = {}
    for exam in exams:
        rows = by_exam.get(exam.id, [])
        waiting = [read for read in rows if read_state(read, protocol_hash) is not None]
        for read in waiting:
            reasons[(exam.id, reader_source(read.reader_name))] = read_state(read, protocol_hash) or ""
        assigned = {read.reader_name for read in rows}
        for name in readers:
            if name not in assigned:
                reasons[(exam.id, reader_source(name))] = f"not assigned to {name}"
        if exam.id in decided:
            continue
        if stale[exam.id]:
            reasons[(exam.id, CONSENSUS)] = f"consensus stale ({plural(stale[exam.id], 'item')} to decide again)"
        elif waiting:
            reasons[(exam.id, CONSENSUS)] = (f"no consensus yet ({len(rows) - len(waiting)} of "
                                             f"{plural(len(rows), 'read')} submitted)")
        else:
            reasons[(exam.id, CONSENSUS)] = "no consensus yet"
    return reasons
