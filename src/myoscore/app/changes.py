"""What an operation changed, so the screens redraw only that.

:class:`Changes` is what one keyboard or mouse action of a
:class:`~myoscore.app.reading_session.ReadingSession` or a
:class:`~myoscore.app.review_session.ReviewSession` changed; a key that did nothing on
purpose (held down, pressed too soon, past the last level, nothing to undo) comes back as
``Changes(refused="…")``, nothing stored, the sentence saying why for the panel to show.

Like reading's :class:`~myoscore.app.reading_session.Changes`: every coordinator use case
returns (or carries) a frozen :class:`StudyChanges`; a coordinator page refreshes when what
changed meets what it shows (:meth:`StudyChanges.meets`). No string topics.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Generic, TypeVar

__all__ = ["ASSIGNED", "CONSENSUS", "EXAMS", "IMPORTED", "NOTHING", "NO_CHANGE", "READERS", "READS", "SERIES",
           "Changes", "Done", "StudyChanges", "refused"]

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


@dataclass(frozen=True)
class Changes:
    """What one reading or review action changed; a window redraws only these parts.

    Attributes
    ----------
    value
        A stored value changed (a rating set, cleared or restored by undo; a review decision).
    item
        The current item (and so possibly the side, the scale and the unit) changed.
    progress
        The number of scored (or decided) items changed.
    status
        The read's status changed (assigned → in progress, or submitted and locked), or the
        review reached its end.
    keys
        The item keys whose stored value changed.
    refused
        Nothing was done, on purpose: the sentence to show the user ("" when not refused).
    """

    value: bool = False
    item: bool = False
    progress: bool = False
    status: bool = False
    keys: tuple[str, ...] = ()
    refused: str = ""

    def __bool__(self) -> bool:
        return self.value or self.item or self.progress or self.status or bool(self.refused)

    def __or__(self, other: Changes) -> Changes:
        return Changes(
            self.value or other.value,
            self.item or other.item,
            self.progress or other.progress,
            self.status or other.status,
            tuple(dict.fromkeys((*self.keys, *other.keys))),
            self.refused or other.refused,
        )


NOTHING = Changes()


def refused(reason: str) -> Changes:
    """A refusal: nothing changed, and ``reason`` says why (one sentence for the user)."""
    return Changes(refused=reason)
