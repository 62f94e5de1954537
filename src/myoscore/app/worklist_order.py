"""Worklist order under timepoint blinding: shuffled, and a subject's exams kept apart.

A reader who opens a subject's follow-up right after its baseline can tell they belong
together from the anatomy alone, whatever the labels say. :func:`spread_subjects` takes an
order already shuffled from the recorded seed and moves as little as it can so that no two
exams of one subject are next to each other (nor next to the last exam already in the
reader's worklist). It draws no random numbers of its own, so the order is still
reproduced from the seed stored with each read.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Generic, TypeVar

__all__ = ["adjacent_pairs", "spread_subjects"]

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)


class _Counts(Generic[K]):
    """How many items each subject has left, with the subjects by count, so the largest
    count other than one subject's is found without scanning every subject."""

    def __init__(self, subjects: Iterable[K]) -> None:
        self.of: Counter[K] = Counter(subjects)
        self.by_count: dict[int, set[K]] = {}
        for subject, count in self.of.items():
            self.by_count.setdefault(count, set()).add(subject)
        self.top = max(self.by_count, default=0)

    def take(self, subject: K) -> None:
        count = self.of[subject]
        self.by_count[count].discard(subject)
        self.of[subject] = count - 1
        if count > 1:
            self.by_count.setdefault(count - 1, set()).add(subject)
        while self.top > 0 and not self.by_count.get(self.top):
            self.top -= 1

    def largest_other(self, subject: K) -> int:
        """The largest count of a subject other than ``subject``."""
        for count in range(self.top, 0, -1):
            holders = self.by_count.get(count)
            if holders and (len(holders) > 1 or subject not in holders):
                return count
        return 0


def _fits_after(counts: _Counts[K], subject: K, remaining: int) -> bool:
    """Whether, with one item of ``subject`` placed now, the ``remaining - 1`` others can
    follow with no two of one subject adjacent: a subject may fill at most every other
    place, and the one just placed one fewer (the next place may not be its)."""
    rest = remaining - 1
    return counts.of[subject] - 1 <= rest // 2 and counts.largest_other(subject) <= (rest + 1) // 2


def spread_subjects(order: Sequence[T], subject_of: Callable[[T], K], previous: K | None = None) -> list[T]:
    """``order`` with no two items of one subject adjacent, where that is possible.

    Greedy and deterministic: each place takes the earliest remaining item (in ``order``)
    whose subject differs from the one before and after which the rest can still be
    placed; so an order that already keeps subjects apart is returned unchanged, and a
    random order stays random. ``previous`` is the subject just before the first place (the
    last exam of the reader's existing worklist). When it cannot be done (one subject has
    more than half of the exams) the adjacent pairs are kept as few as it can.
    """
    remaining = list(order)
    counts = _Counts(subject_of(item) for item in remaining)
    placed: list[T] = []
    last = previous
    while remaining:
        chosen = next((index for index, item in enumerate(remaining)
                       if (subject := subject_of(item)) != last and _fits_after(counts, subject, len(remaining))),
                      None)
        if chosen is None:
            # No arrangement avoids every adjacency: place the subject with the most left
            # (not the one just placed, if any other is left), which leaves the fewest pairs.
            others = [i for i, item in enumerate(remaining) if subject_of(item) != last] or list(range(len(remaining)))
            chosen = max(others, key=lambda i: (counts.of[subject_of(remaining[i])], -i))
        item = remaining.pop(chosen)
        counts.take(subject_of(item))
        last = subject_of(item)
        placed.append(item)
    return placed


def adjacent_pairs(order: Sequence[T], subject_of: Callable[[T], K], previous: K | None = None) -> int:
    """How many neighbours in ``order`` (after ``previous``) belong to one subject."""
    subjects = ([previous] if previous is not None else []) + [subject_of(item) for item in order]
    return sum(1 for a, b in itertools.pairwise(subjects) if a == b)
