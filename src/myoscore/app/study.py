"""Coordinator use cases: databases, readers, exams, assignment, progress."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence as Seq
from typing import Any

from myoscore.app.assignment import assign_selected
from myoscore.app.changes import ASSIGNED, EXAMS, NO_CHANGE, READERS, READS, SERIES, Done
from myoscore.app.schemes import protocol
from myoscore.app.sessions import UNCHANGED, CoordinatorSession
from myoscore.domain import Exam, Read, Reader, Role, Sequence, Series


def assign(coordinator: CoordinatorSession, protocol_name: str, readers: Seq[str],
           exam_ids: Seq[int] | None = None, seed: int | None = None) -> list[Read]:
    """Every reader × every exam (``exam_ids=None``: those not yet assigned for the protocol),
    recorded as one assignment (:mod:`myoscore.app.assignment`, design ``all``)."""
    return list(assign_selected(coordinator, protocol_name, list(readers),
                                None if exam_ids is None else list(exam_ids), seed=seed).value.reads)


def assign_repeats(coordinator: CoordinatorSession, protocol_name: str, reader: str, fraction: float,
                   washout_days: float, seed: int | None = None) -> list[Read]:
    return coordinator.assign_repeats(protocol(protocol_name), reader, fraction, washout_days, seed)


def add_reader(coordinator: CoordinatorSession, name: str, role: Role, password: str) -> Done[Reader]:
    return Done(coordinator.add_reader(name, role, password), READERS)


def set_password(coordinator: CoordinatorSession, name: str, password: str) -> Done[None]:
    coordinator.set_password(name, password)
    return Done(None, READERS)


def update_exam(coordinator: CoordinatorSession, exam_id: int, *, label: str | None = None,
                months_from_onset: float | object | None = UNCHANGED,
                treated: bool | object | None = UNCHANGED) -> Done[Exam]:
    """Set an exam's label and clinical fields; ``None`` clears a clinical field."""
    before = next((e for e in coordinator.exams() if e.id == exam_id), None)
    exam = coordinator.update_exam(exam_id, label=label, months_from_onset=months_from_onset, treated=treated)
    return Done(exam, NO_CHANGE if exam == before else EXAMS)


def set_series_kind(coordinator: CoordinatorSession, series_id: int, kind: Sequence,
                    reason: str = "") -> Done[Series]:
    return Done(coordinator.set_series_kind(series_id, kind, reason), SERIES)


def reopen(coordinator: CoordinatorSession, read_id: int, reason: str = "") -> Done[None]:
    coordinator.reopen(read_id, reason)
    return Done(None, READS)


def assign_reads(coordinator: CoordinatorSession, protocol_name: str, readers: Seq[str],
                 exam_ids: Seq[int] | None = None, seed: int | None = None) -> Done[list[Read]]:
    reads = assign(coordinator, protocol_name, readers, exam_ids, seed)
    return Done(reads, ASSIGNED if reads else NO_CHANGE)


def assign_repeat_reads(coordinator: CoordinatorSession, protocol_name: str, reader: str, fraction: float,
                        washout_days: float, seed: int | None = None) -> Done[list[Read]]:
    reads = assign_repeats(coordinator, protocol_name, reader, fraction, washout_days, seed)
    return Done(reads, ASSIGNED if reads else NO_CHANGE)


def study_status(coordinator: CoordinatorSession, *, include_excluded: bool = False) -> dict[str, Any]:
    """Counts for the status summary: no rating values, nothing identifying. Excluded exams
    and their reads are not counted (``excluded`` says how many there are) unless
    ``include_excluded``."""
    reads = coordinator.reads(include_excluded=include_excluded)
    by_reader: dict[str, Counter[str]] = {}
    for read in reads:
        by_reader.setdefault(read.reader_name, Counter())[read.status.value] += 1
    every_exam = coordinator.exams()
    exams = [e for e in every_exam if include_excluded or e.excluded_at is None]
    return {
        "subjects": len({e.subject_code for e in exams}),
        "exams": len(exams),
        "excluded": sum(e.excluded_at is not None for e in every_exam),
        "readers": [{"name": r.name, "role": r.role.value} for r in coordinator.readers()],
        "reads": [
            {"read": r.id, "reader": r.reader_name, "subject": r.subject_code, "exam": r.exam_label,
             "protocol": r.protocol_name, "status": r.status.value, "done": r.done, "total": r.total}
            for r in reads
        ],
        "progress": {name: dict(counts) for name, counts in sorted(by_reader.items())},
    }
