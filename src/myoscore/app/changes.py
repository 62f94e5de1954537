"""What a coordinator operation changed, so the screens redraw only that.

Like reading's :class:`~myoscore.app.reading_session.Changes`: every coordinator use case
returns (or carries) a frozen :class:`StudyChanges`; a coordinator page refreshes when what
changed meets what it shows (:meth:`StudyChanges.meets`). No string topics.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Generic, TypeVar

__all__ = ["ASSIGNED", "CONSENSUS", "EXAMS", "IMPORTED", "NO_CHANGE", "READERS", "READS", "SERIES", "Done",
           "StudyChanges"]

T = TypeVar("T")


@dataclass(frozen=True)
class StudyChanges:
    """Which parts of the study one operation changed.

    Attributes
    ----------
    exams
        Exams or subjects were added or their fields (label, clinical fields) changed.
    series
        Image series were added or their classification changed.
    readers
        Users were added or their password changed.
    reads
        Reads were assigned, reopened, or their status changed.
    consensus
        Consensus values were written.
    """

    exams: bool = False
    series: bool = False
    readers: bool = False
    reads: bool = False
    consensus: bool = False

    def __bool__(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))

    def __or__(self, other: StudyChanges) -> StudyChanges:
        return StudyChanges(**{f.name: getattr(self, f.name) or getattr(other, f.name) for f in fields(self)})

    def meets(self, shown: StudyChanges) -> bool:
        """Whether anything changed that ``shown`` (what a screen shows) includes."""
        return any(getattr(self, f.name) and getattr(shown, f.name) for f in fields(self))


NO_CHANGE = StudyChanges()
EXAMS = StudyChanges(exams=True)
SERIES = StudyChanges(series=True)
READERS = StudyChanges(readers=True)
READS = StudyChanges(reads=True)
CONSENSUS = StudyChanges(consensus=True)
ASSIGNED = StudyChanges(reads=True)
IMPORTED = StudyChanges(exams=True, series=True)


@dataclass(frozen=True)
class Done(Generic[T]):
    """The result of a coordinator operation and what it changed."""

    value: T
    changes: StudyChanges
