"""Joint review without a window: the discordant items, the current one, one decision per key.

A :class:`ReviewSession` steps through the items two readers disagree on and records the
value they agree on with :func:`myoscore.app.consensus.record_review_decision` (one call per
decision, audited old → new by the store). It is the review's counterpart of
:class:`~myoscore.app.reading_session.ReadingSession`: its methods return the same
:class:`~myoscore.app.changes.Changes`, its keys are rows of
:data:`myoscore.app.keymap.REVIEW_KEYMAP`, and digits record the level by **position**
exactly as a reader scores (:func:`myoscore.app.level_keys.level_for_position`).
"""

from __future__ import annotations

from collections.abc import Sequence

from myoscore.app.changes import NOTHING, Changes, refused
from myoscore.app.consensus import DiscordantItem, record_review_decision
from myoscore.app.level_keys import level_for_position
from myoscore.app.sessions import CoordinatorSession
from myoscore.domain import NOT_EVALUABLE, Consensus
from myoscore.schemes import Item, Level, Protocol, Scale

__all__ = ["ReviewSession"]


class ReviewSession:
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
        """The current scale's level at ``position`` (see :func:`~myoscore.app.level_keys.level_for_position`)."""
        return level_for_position(self.scale, position)

    # ---------------------------------------------------------------- actions
    def record(self, code: str) -> Changes:
        """Store the agreed code for the current item (audited), then go to the next item."""
        if not self.items:
            return refused("There is no discordant item to decide.")
        item = self.item
        was_finished = self.finished
        before = self.n_decided
        self.decisions[self.index] = record_review_decision(self.coordinator, self.protocol.name, item.exam_id,
                                                            item.item_key, code)
        moved = self._move_to(self.index + 1)
        return Changes(value=True, item=bool(moved), progress=self.n_decided != before,
                       status=self.finished != was_finished, keys=(item.item_key,))

    def record_level(self, position: int) -> Changes:
        """Record the level at ``position`` of the current scale (how digit keys work)."""
        if not self.items:
            return refused("There is no discordant item to decide.")
        return self.record(self.level_for_position(position).code)

    def record_not_evaluable(self) -> Changes:
        return self.record(NOT_EVALUABLE)

    def next_item(self) -> Changes:
        return self._move_to(self.index + 1)

    def previous_item(self) -> Changes:
        return self._move_to(self.index - 1)

    def next_undecided(self) -> Changes:
        """The next item without a decision after the current one, wrapping around."""
        for step in range(1, self.total + 1):
            i = (self.index + step) % self.total
            if i not in self.decisions:
                return self._move_to(i)
        return NOTHING

    def go_to(self, index: int) -> Changes:
        return self._move_to(index)

    def _move_to(self, index: int) -> Changes:
        index = max(0, min(index, self.total - 1))
        if not self.items or index == self.index:
            return NOTHING
        self.index = index
        return Changes(item=True)
