"""Coordinator use cases: databases, readers, exams, assignment, progress."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence as Seq
from typing import Any

from myoscore.app.schemes import protocol
from myoscore.app.sessions import CoordinatorSession
from myoscore.domain import Read


def assign(coordinator: CoordinatorSession, protocol_name: str, readers: Seq[str],
           exam_ids: Seq[int] | None = None, seed: int | None = None) -> list[Read]:
    return coordinator.assign(protocol(protocol_name), readers, exam_ids, seed)


def assign_repeats(coordinator: CoordinatorSession, protocol_name: str, reader: str, fraction: float,
                   washout_days: float, seed: int | None = None) -> list[Read]:
    return coordinator.assign_repeats(protocol(protocol_name), reader, fraction, washout_days, seed)


def study_status(coordinator: CoordinatorSession) -> dict[str, Any]:
    """Counts for the status summary: no rating values, nothing identifying."""
    reads = coordinator.reads()
    by_reader: dict[str, Counter[str]] = {}
    for read in reads:
        by_reader.setdefault(read.reader_name, Counter())[read.status.value] += 1
    return {
        "subjects": len(coordinator.subjects()),
        "exams": len(coordinator.exams()),
        "readers": [{"name": r.name, "role": r.role.value} for r in coordinator.readers()],
        "reads": [
            {"read": r.id, "reader": r.reader_name, "subject": r.subject_code, "exam": r.exam_label,
             "protocol": r.protocol_name, "status": r.status.value, "done": r.done, "total": r.total}
            for r in reads
        ],
        "progress": {name: dict(counts) for name, counts in sorted(by_reader.items())},
    }
