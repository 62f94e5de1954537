"""Derived scores per exam, frequencies, pattern counts and longitudinal changes, from one
reader's submitted reads or from consensus (coordinator use case)."""

from __future__ import annotations

from dataclasses import dataclass

from myoscore.app.consensus_status import (
    ConsensusCounts,
    ConsensusStatus,
    TrackedConsensus,
    consensus_counts,
    tracked_consensus,
)
from myoscore.app.coordination import exams_for, protocol_in_use, reveal_ratings, submitted_reads
from myoscore.app.sessions import CoordinatorSession
from myoscore.domain import Exam, NotFound
from myoscore.scores import (
    ExamValues,
    Frequency,
    PatternCount,
    Progression,
    ScoreChange,
    ScoreResult,
    compute_scores,
    exams_in_order,
    frequencies,
    longitudinal,
    pattern_counts,
    protocol_progression,
)


@dataclass(frozen=True)
class ExamScores:
    """One exam's derived scores; from consensus also the exam's decided / stale / pending
    item counts (a stale value is not used: its items count as not evaluated)."""

    exam: Exam
    scores: tuple[ScoreResult, ...]
    consensus: ConsensusCounts | None = None


@dataclass(frozen=True)
class ScoresReport:
    """Everything :func:`derived_scores` computes.

    ``frequencies`` and ``patterns`` count subjects at their first exam; ``changes`` and
    ``progression`` compare each subject's first and last exam (subjects with one exam
    are left out of both).
    """

    protocol: str
    source: str
    exams: tuple[ExamScores, ...]
    frequencies: tuple[Frequency, ...]
    patterns: tuple[PatternCount, ...]
    changes: tuple[ScoreChange, ...]
    progression: Progression | None
    consensus: ConsensusCounts | None = None  # decided / stale / pending (consensus source only)


def _from_reader(coordinator: CoordinatorSession, protocol_name: str, reader: str, include_excluded: bool
                 ) -> dict[int, tuple[dict[str, float | None], dict[str, str | None]]]:
    reads = [group[0] for group in submitted_reads(coordinator, protocol_name, [reader],
                                                   include_excluded=include_excluded)]
    ratings = reveal_ratings(coordinator, [read.id for read in reads], f"scores {protocol_name}")
    return {
        read.exam_id: ({k: r.value for k, r in ratings[read.id].items()},
                       {k: r.code for k, r in ratings[read.id].items()})
        for read in reads
    }


class NoConsensus(NotFound):
    """Scores from consensus were asked for, and the protocol has no decided value yet.
    The message speaks the CLI's words; a window says where to reconcile in its own."""

    def __init__(self, protocol_name: str) -> None:
        super().__init__(f"no consensus is stored for protocol {protocol_name}: run `myoscore reconcile` "
                         "first, or ask for one reader's scores (--reader R)")
        self.protocol_name = protocol_name


def _from_consensus(tracked: list[TrackedConsensus],
                    protocol_name: str) -> dict[int, tuple[dict[str, float | None], dict[str, str | None]]]:
    """Decided consensus only: a stale value (a contributing rating changed since) is left
    out, so the score counts it as not evaluated and shows ``complete = False``."""
    found: dict[int, tuple[dict[str, float | None], dict[str, str | None]]] = {}
    for value in (t.value for t in tracked if t.status is ConsensusStatus.DECIDED):
        values, codes = found.setdefault(value.exam_id, ({}, {}))
        values[value.item_key] = value.value
        codes[value.item_key] = value.code
    if not found:
        raise NoConsensus(protocol_name)
    return found


def derived_scores(coordinator: CoordinatorSession, protocol_name: str, *, reader: str | None = None,
                   stir_measure: str | None = None, t1_measure: str | None = None,
                   include_excluded: bool = False) -> ScoresReport:
    """The protocol's derived scores for every exam (excluded exams only with
    ``include_excluded``), from consensus or (``reader``) from one reader's submitted
    reads, with the cross-subject summaries.

    ``stir_measure``/``t1_measure`` choose the measures matched for STIR → T1 progression
    (default: the protocol's ``[progression]``, whose regions always apply; see
    :func:`myoscore.scores.protocol_progression`).
    """
    protocol = protocol_in_use(coordinator, protocol_name)
    tracked = tracked_consensus(coordinator, protocol_name, include_excluded=include_excluded) \
        if reader is None else []
    counts = consensus_counts(tracked, len(protocol.items)) if reader is None else None
    by_exam: dict[int, list[TrackedConsensus]] = {}
    for t in tracked:
        by_exam.setdefault(t.value.exam_id, []).append(t)
    data = _from_consensus(tracked, protocol_name) if reader is None else \
        _from_reader(coordinator, protocol_name, reader.strip(), include_excluded)
    exams = {exam.id: exam for exam in exams_for(coordinator, protocol_name, include_excluded=include_excluded)}
    records = [
        ExamValues(exam.id, exam.subject_code, data[exam.id][0], exam.exam_date, exam.label, exam.months_from_onset)
        for exam in exams.values() if exam.id in data
    ]
    ordered = exams_in_order(records)
    first_values = {subject: rows[0].values for subject, rows in ordered.items()}
    first_codes = {subject: data[rows[0].exam_id][1] for subject, rows in ordered.items()}
    per_exam = tuple(ExamScores(exams[r.exam_id], compute_scores(protocol, r.values),
                                consensus_counts(by_exam.get(r.exam_id, []), len(protocol.items))
                                if reader is None else None)
                     for rows in ordered.values() for r in rows)
    follow_up = any(len(rows) > 1 for rows in ordered.values())
    return ScoresReport(
        protocol.name,
        "consensus" if reader is None else f"reader {reader.strip()}",
        per_exam,
        tuple(frequencies(protocol, first_values)),
        tuple(pattern_counts(protocol, first_codes)),
        tuple(longitudinal(protocol, records)),
        protocol_progression(protocol, records, stir_measure, t1_measure) if follow_up else None,
        counts,
    )
