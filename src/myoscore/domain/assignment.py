"""A recorded assignment of exams to readers: its design, its seed, who made it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = ["Assignment"]


@dataclass(frozen=True)
class Assignment:
    """One assignment as the store records it (table ``assignments``).

    Attributes
    ----------
    design
        ``all`` (every chosen reader × every chosen exam) or ``balanced``.
    seed
        The seed of the design and of each reader's worklist shuffle (text, as every read
        records it).
    parameters
        What reproduces it: protocol, readers, exams, and the design's parameters
        (``anchor``, ``per_exam``) and outcome (``anchors``).
    reads
        How many of its reads exist now.
    started
        How many of those have a rating or were submitted (an assignment with a started
        read cannot be undone).
    undone_at, undone_by
        When and by whom it was undone (its reads deleted); ``None`` while it stands.
    """

    id: int
    created_at: datetime
    created_by: str
    design: str
    seed: str
    parameters: dict[str, Any] = field(default_factory=dict, hash=False)
    reads: int = 0
    started: int = 0
    undone_at: datetime | None = None
    undone_by: str | None = None

    @property
    def protocol(self) -> str:
        return str(self.parameters.get("protocol", ""))

    @property
    def reader_names(self) -> tuple[str, ...]:
        return tuple(str(name) for name in self.parameters.get("readers", ()))

    @property
    def exam_ids(self) -> tuple[int, ...]:
        return tuple(int(exam_id) for exam_id in self.parameters.get("exams", ()))
