"""Recorded assignments (table ``assignments``): add one, list them, delete the reads of one.

Persistence only: which design, which exams, and whether an assignment may be undone are
rules of :mod:`myoscore.app.assignment`. Every write is audited in the same transaction:
``add_assignment`` when one is recorded, ``unassign`` for each read deleted by an undo and
``undo_assignment`` for the undo itself (the audit trail is where an undo is recorded:
the assignment's row stays, with its design and seed).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from myoscore.domain import Assignment, NotFound, Read, ReadStatus
from myoscore.store._rows import ProtocolCache, audit, reads_from, reads_query
from myoscore.store.database import utcnow
from myoscore.store.tables import AssignmentRow, AuditRow, RatingRow, ReadRow

__all__ = ["UNDO_ACTION", "AssignmentRepository"]

#: The audit action that records an undo (its target is ``assignment <id>``).
UNDO_ACTION = "undo_assignment"


class AssignmentRepository:
    """The coordinator's recorded assignments, in one unit of work's session."""

    def __init__(self, session: Session, actor: str, protocols: ProtocolCache) -> None:
        self._s = session
        self.actor = actor
        self._protocols = protocols

    def add(self, design: str, seed: str, parameters: Mapping[str, Any]) -> int:
        """Record an assignment (before its reads, which name its id); returns the id."""
        row = AssignmentRow(created_at=utcnow(), created_by=self.actor, design=design, seed=seed,
                            parameters=json.dumps(dict(parameters), sort_keys=True))
        self._s.add(row)
        self._s.flush()
        audit(self._s, self.actor, "add_assignment", f"assignment {row.id}", None,
              f"{design} seed {seed} protocol {parameters.get('protocol', '')}")
        return row.id

    def assignments(self, ids: Iterable[int] | None = None) -> list[Assignment]:
        """Recorded assignments, newest first, with their read counts and undo."""
        query = select(AssignmentRow).order_by(AssignmentRow.id.desc())
        if ids is not None:
            query = query.where(AssignmentRow.id.in_(list(ids)))
        rows = list(self._s.scalars(query))
        if not rows:
            return []
        wanted = [row.id for row in rows]
        counts: dict[int | None, int] = {assignment_id: n for assignment_id, n in self._s.execute(  # noqa: C416
            select(ReadRow.assignment_id, func.count()).where(ReadRow.assignment_id.in_(wanted))
            .group_by(ReadRow.assignment_id))}
        rated = select(RatingRow.id).where(RatingRow.read_id == ReadRow.id).exists()
        started: dict[int | None, int] = {assignment_id: n for assignment_id, n in self._s.execute(  # noqa: C416
            select(ReadRow.assignment_id, func.count()).where(
                ReadRow.assignment_id.in_(wanted), or_(rated, ReadRow.status == ReadStatus.SUBMITTED.value))
            .group_by(ReadRow.assignment_id))}
        undone: dict[int, tuple[Any, str]] = {}
        targets = [f"assignment {i}" for i in wanted]
        for event in self._s.scalars(select(AuditRow).where(AuditRow.action == UNDO_ACTION,
                                                            AuditRow.target.in_(targets))):
            undone[int(event.target.split()[1])] = (event.at, event.actor)
        return [
            Assignment(row.id, row.created_at, row.created_by, row.design, row.seed,
                       json.loads(row.parameters or "{}"), counts.get(row.id, 0), started.get(row.id, 0),
                       *undone.get(row.id, (None, None)))
            for row in rows
        ]

    def assignment(self, assignment_id: int) -> Assignment:
        found = self.assignments([assignment_id])
        if not found:
            raise NotFound(f"no assignment {assignment_id}")
        return found[0]

    def reads(self, assignment_id: int) -> list[Read]:
        """The reads the assignment created that still exist, by reader and position."""
        query = reads_query().where(ReadRow.assignment_id == assignment_id).order_by(ReadRow.reader_id,
                                                                                    ReadRow.position)
        return reads_from(self._s, list(self._s.execute(query).all()), self._protocols)

    def delete_reads(self, assignment_id: int, reads: Iterable[Read]) -> None:
        """Delete the given reads of the assignment (each audited ``unassign``) and record
        the undo (``undo_assignment``). A read with ratings cannot be deleted: the ratings'
        foreign key refuses it."""
        deleted = 0
        for read in reads:
            self._s.execute(delete(ReadRow).where(ReadRow.id == read.id, ReadRow.assignment_id == assignment_id))
            audit(self._s, self.actor, "unassign", f"read {read.id}",
                  f"{read.reader_name} exam {read.exam_id} {read.protocol_name} position {read.position}", None)
            deleted += 1
        audit(self._s, self.actor, UNDO_ACTION, f"assignment {assignment_id}", None, f"{deleted} reads deleted")
