"""Progress a coordinator can act on: reads filtered by reader and status, consensus values
to decide again (stale), and the exams excluded from the study.

The progress screen and ``myoscore status`` share these functions. Reads and exclusions
are counts and labels only; the stale list comes from :mod:`myoscore.app.consensus_status`
(checking it reveals the submitted reads' ratings, an audited coordinator access).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from myoscore.app.consensus_status import stale_consensus
from myoscore.app.coordination import consensus_for
from myoscore.app.sessions import CoordinatorSession
from myoscore.domain import Exam, MyoscoreError, Read, ReadStatus

__all__ = ["STATUS_FILTERS", "StaleRow", "excluded_exams", "filter_reads", "stale_rows", "status_view"]

#: ``--status`` values: a read status, or ``open`` (anything not yet submitted).
STATUS_FILTERS = ("assigned", "in_progress", "submitted", "open")


def filter_reads(reads: Iterable[Read], *, reader: str | None = None, status: str | None = None,
                 readers: Sequence[str] | None = None) -> list[Read]:
    """The reads of ``reader`` (``None``: everyone's) with ``status`` (one of
    :data:`STATUS_FILTERS`; ``None``: any). ``readers``, when given, are the names a
    ``reader`` must be one of (an unknown name is refused, not silently an empty list)."""
    if status is not None and status not in STATUS_FILTERS:
        raise MyoscoreError(f"unknown read status {status!r} (statuses: {', '.join(STATUS_FILTERS)})")
    if reader is not None and readers is not None and reader not in readers:
        raise MyoscoreError(f"no reader named {reader!r} (readers: {', '.join(readers) or 'none'})")

    def wanted(read: Read) -> bool:
        if reader is not None and read.reader_name != reader:
            return False
        if status == "open":
            return read.status is not ReadStatus.SUBMITTED
        return status is None or read.status.value == status

    return [read for read in reads if wanted(read)]


@dataclass(frozen=True)
class StaleRow:
    """One consensus value to decide again: where it is and why it no longer stands."""

    protocol: str
    exam_id: int
    subject: str
    label: str
    item_key: str
    reason: str


def stale_rows(coordinator: CoordinatorSession, protocols: Iterable[str] | None = None) -> list[StaleRow]:
    """Stale consensus values of every protocol in use (or of ``protocols``), by protocol
    and exam. Protocols without any consensus are skipped without revealing anything."""
    names = list(dict.fromkeys(protocols if protocols is not None
                               else (read.protocol_name for read in coordinator.reads())))
    exams = {exam.id: exam for exam in coordinator.exams()}
    rows: list[StaleRow] = []
    for name in names:
        if not consensus_for(coordinator, name):
            continue
        for tracked in stale_consensus(coordinator, name):
            exam = exams.get(tracked.value.exam_id)
            rows.append(StaleRow(name, tracked.value.exam_id, exam.subject_code if exam else "?",
                                 exam.label if exam else "?", tracked.value.item_key, tracked.reason))
    return rows


def excluded_exams(coordinator: CoordinatorSession) -> list[Exam]:
    """The exams excluded from the study (reads and ratings kept), by subject then exam."""
    return [exam for exam in coordinator.exams() if exam.excluded_at is not None]


def status_view(coordinator: CoordinatorSession, *, reader: str | None = None,
                status: str | None = None, include_excluded: bool = False) -> dict[str, Any]:
    """``myoscore status``: :func:`~myoscore.app.study.study_status` with its ``reads``
    filtered by reader and status (``shown`` of ``total``), the number of stale consensus
    values per protocol and the excluded exams (whose reads are counted only with
    ``include_excluded``). Counts and labels only."""
    from myoscore.app.study import study_status

    view = study_status(coordinator, include_excluded=include_excluded)
    names = sorted({row["reader"] for row in view["reads"]} | {r["name"] for r in view["readers"]})
    reads = filter_reads(coordinator.reads(include_excluded=include_excluded), reader=reader, status=status,
                         readers=names)
    shown = {read.id for read in reads}
    view["total_reads"] = len(view["reads"])
    view["reads"] = [row for row in view["reads"] if row["read"] in shown]
    stale: dict[str, int] = {}
    for row in stale_rows(coordinator):
        stale[row.protocol] = stale.get(row.protocol, 0) + 1
    view["stale_consensus"] = stale
    view["excluded_exams"] = [{"exam": e.id, "subject": e.subject_code, "label": e.label,
                               "reason": e.excluded_reason} for e in excluded_exams(coordinator)]
    return view
