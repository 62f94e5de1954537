"""Joint review without a window: the discordant items, the current one, and the keys.

:class:`JointReview` steps through the items two readers disagree on and records the
value they agree on with :func:`myoscore.app.analysis.record_review_decision` (one call
per decision, audited old → new by the store). It imports no Qt: the keymap below is
data — rows of key, description and action, where an action is a function of the
review (or of the page, for the image keys) — and the page's key hint is generated from
it, as the reader's help overlay is from :data:`myoscore.app.keymap.KEYMAP`.

Digits record the level by **position**, exactly as a reader scores: key *d* is the
*d*-th level of the item's scale, whatever its code, so ``2a``/``2b`` and nominal codes
have keys too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Literal

from myoscore.app import CoordinatorSession
from myoscore.app.analysis import DiscordantItem, record_review_decision
from myoscore.app.schemes import Item, Level, Protocol, Scale
from myoscore.domain import NOT_EVALUABLE, Consensus, InvalidValue

__all__ = [
    "REVIEW_KEYMAP",
    "JointReview",
    "ReviewChanges",
    "ReviewKey",
    "review_help_markdown",
    "review_key_for",
    "review_key_rows",
]


@dataclass(frozen=True)
class ReviewChanges:
    """What one review action changed: a decision stored, the current item, the end reached."""

    value: bool = False
    item: bool = False
    finished: bool = False

    def __bool__(self) -> bool:
        return self.value or self.item or self.finished


NOTHING = ReviewChanges()


class JointReview:
    """The discordant items of one protocol and two readers, one at a time.

    Parameters
    ----------
    coordinator
        The signed-in coordinator; every decision is stored through it.
    protocol
        The protocol the reads used (the stored snapshot), for items and scales.
    readers
        The two readers, in the order their values are shown.
    items
        The discordant items still to decide (``reconcile_reads(..., "review").pending``).
    """

    def __init__(self, coordinator: CoordinatorSession, protocol: Protocol, readers: tuple[str, str],
                 items: Sequence[DiscordantItem]) -> None:
        self.coordinator = coordinator
        self.protocol = protocol
        self.readers = readers
        self.items = tuple(items)
        self.index = 0
        #: Decisions recorded in this review, by item index.
        self.decisions: dict[int, Consensus] = {}

    # ------------------------------------------------------------------ state
    @property
    def total(self) -> int:
        return len(self.items)

    @property
    def item(self) -> DiscordantItem:
        return self.items[self.index]

    @property
    def protocol_item(self) -> Item:
        return self.protocol.item(self.item.item_key)

    @property
    def scale(self) -> Scale:
        return self.protocol.scale_of(self.item.item_key)

    @property
    def n_decided(self) -> int:
        return len(self.decisions)

    @property
    def finished(self) -> bool:
        """Every item has a decision."""
        return self.total > 0 and self.n_decided == self.total

    def decision(self, index: int | None = None) -> Consensus | None:
        return self.decisions.get(self.index if index is None else index)

    def codes(self) -> tuple[str | None, str | None]:
        """The two readers' codes of the current item (``None``: unscored)."""
        return self.item.codes.get(self.readers[0]), self.item.codes.get(self.readers[1])

    def level_for_position(self, position: int) -> Level:
        levels = self.scale.levels
        if not 0 <= position < len(levels):
            raise InvalidValue(f"{self.scale.title} has {len(levels)} levels: use keys 0–{len(levels) - 1} "
                               f"(key {position} has no level)")
        return levels[position]

    # ---------------------------------------------------------------- actions
    def record(self, code: str) -> ReviewChanges:
        """Store the agreed code for the current item (audited), then go to the next item."""
        if not self.items:
            return NOTHING
        item = self.item
        self.decisions[self.index] = record_review_decision(self.coordinator, self.protocol.name, item.exam_id,
                                                            item.item_key, code)
        moved = self._move_to(self.index + 1)
        return ReviewChanges(value=True, item=bool(moved), finished=self.finished)

    def record_level(self, position: int) -> ReviewChanges:
        if not self.items:
            return NOTHING
        return self.record(self.level_for_position(position).code)

    def record_not_evaluable(self) -> ReviewChanges:
        return self.record(NOT_EVALUABLE)

    def next_item(self) -> ReviewChanges:
        return self._move_to(self.index + 1)

    def previous_item(self) -> ReviewChanges:
        return self._move_to(self.index - 1)

    def next_undecided(self) -> ReviewChanges:
        """The next item without a decision after the current one, wrapping around."""
        for step in range(1, self.total + 1):
            i = (self.index + step) % self.total
            if i not in self.decisions:
                return self._move_to(i)
        return NOTHING

    def go_to(self, index: int) -> ReviewChanges:
        return self._move_to(index)

    def _move_to(self, index: int) -> ReviewChanges:
        index = max(0, min(index, self.total - 1))
        if not self.items or index == self.index:
            return NOTHING
        self.index = index
        return ReviewChanges(item=True)


# ---------------------------------------------------------------------------- keymap
Target = Literal["review", "view"]


@dataclass(frozen=True)
class ReviewKey:
    """One key of the review screen. ``target``: the action is a function of the
    :class:`JointReview` (``"review"``) or of the page's image views (``"view"``)."""

    key: str
    description: str
    action: Callable[..., object]
    target: Target = "review"
    short: str = ""  # the word or two of the on-screen hint


def _level(position: int, review: JointReview) -> ReviewChanges:
    return review.record_level(position)


def _step(delta: int, page: object) -> None:
    page.step_slice(delta)  # type: ignore[attr-defined]


_LEVEL = "Record the level with this number — by position, as the reader keys — then the next item"

REVIEW_KEYMAP: tuple[ReviewKey, ...] = (
    *(ReviewKey(str(d), _LEVEL, partial(_level, d), short="agreed level") for d in range(10)),
    ReviewKey("N", "Record not evaluable, then the next item", JointReview.record_not_evaluable,
              short="not evaluable"),
    ReviewKey("Down", "Next item", JointReview.next_item, short="next"),
    ReviewKey("Return", "Next item", JointReview.next_item, short="next"),
    ReviewKey("Up", "Previous item", JointReview.previous_item, short="previous"),
    ReviewKey("U", "Next item without a decision", JointReview.next_undecided, short="next undecided"),
    ReviewKey("Right", "Next slice (the views stay linked)", partial(_step, 1), "view", short="next slice"),
    ReviewKey("Left", "Previous slice", partial(_step, -1), "view", short="previous slice"),
)
_BY_KEY = {row.key: row for row in REVIEW_KEYMAP}


def review_key_for(key: str) -> ReviewKey | None:
    return _BY_KEY.get(key)


def review_key_rows(short: bool = False) -> list[tuple[str, str]]:
    """``(keys, description)`` with keys of one description merged ("0 – 9", "Down, Return");
    ``short``: the brief hint words instead of the descriptions."""
    merged: dict[str, list[str]] = {}
    for row in REVIEW_KEYMAP:
        merged.setdefault(row.short if short else row.description, []).append(row.key)
    return [(f"{keys[0]} – {keys[-1]}" if len(keys) > 3 else ", ".join(keys), text) for text, keys in merged.items()]


def review_help_markdown() -> str:
    """The review keys as a Markdown table (``docs/gui.md`` includes it; a test keeps it in step)."""
    lines = ["| keys | action |", "| --- | --- |"]
    lines += [f"| {keys} | {text} |" for keys, text in review_key_rows()]
    return "\n".join(lines)
