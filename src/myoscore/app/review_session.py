"""Joint review without a window: the discordant items, the current one, one decision per key.

A :class:`ReviewSession` steps through the items two readers disagree on and records the
value they agree on with :func:`myoscore.app.consensus.record_review_decision` (one call per
decision, audited old → new by the store).

It holds every discordant item (:func:`myoscore.app.consensus.discordant_items`), each with
its status: **decided** items (by the mean, an adjudicator or an earlier review) are shown
with their current decision and a digit does not change them — replacing one takes the
deliberate override (:meth:`ReviewSession.arm_override`, key ``O``, then the digit),
audited as ``override_consensus``; **stale** items (decided on ratings that changed since)
keep their old value on show and are decided again like **undecided** ones. The review
starts at the first item to decide, and a decision moves on to the next one. It is the review's counterpart of
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
from myoscore.domain import NOT_EVALUABLE, Consensus, ConsensusMethod
from myoscore.schemes import Item, Level, Protocol, Scale

__all__ = ["ReviewSession", "decision_text"]


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
        The discordant items with their status (``discordant_items(...)``): ``decided``
        ones are kept unless overridden, ``stale`` and ``undecided`` ones are to decide.
    """

    def __init__(self, coordinator: CoordinatorSession, protocol: Protocol, readers: tuple[str, str],
                 items: Sequence[DiscordantItem]) -> None:
        self.coordinator = coordinator
        self.protocol = protocol
        self.readers = readers
        self.items = tuple(items)
        #: Values that stood when the review opened (decided by the mean, an adjudicator or
        #: an earlier review), by item index.
        self.standing: dict[int, Consensus] = {
            i: item.consensus for i, item in enumerate(self.items)
            if item.status == "decided" and item.consensus is not None}
        #: Decisions recorded in this review, by item index.
        self.decisions: dict[int, Consensus] = {}
        #: The next digit (or N) replaces the current item's decided value (key O).
        self.override_armed = False
        self.index = next((i for i in range(self.total) if self.to_decide(i)), 0)

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
        """Items with a decision that stands: from before the review or made in it."""
        return sum(1 for i in range(self.total) if not self.to_decide(i))

    @property
    def n_to_decide(self) -> int:
        return self.total - self.n_decided

    @property
    def n_stale(self) -> int:
        """Stale items not decided again yet."""
        return sum(1 for i in range(self.total) if self.stale_value(i) is not None)

    @property
    def finished(self) -> bool:
        """Every item has a decision."""
        return self.total > 0 and self.n_decided == self.total

    def to_decide(self, index: int | None = None) -> bool:
        """The item has no decision that stands (undecided, or stale and not decided again)."""
        i = self.index if index is None else index
        return i not in self.decisions and i not in self.standing

    def decision(self, index: int | None = None) -> Consensus | None:
        """The item's decision that stands: made in this review, else the one it came with."""
        i = self.index if index is None else index
        return self.decisions.get(i, self.standing.get(i))

    def stale_value(self, index: int | None = None) -> Consensus | None:
        """The old value of a stale item not decided again in this review (else ``None``)."""
        i = self.index if index is None else index
        item = self.items[i]
        if item.status != "stale" or i in self.decisions:
            return None
        return item.consensus

    def codes(self) -> tuple[str | None, str | None]:
        """The two readers' codes of the current item (``None``: unscored)."""
        return self.item.codes.get(self.readers[0]), self.item.codes.get(self.readers[1])

    def level_for_position(self, position: int) -> Level:
        """The current scale's level at ``position`` (see :func:`~myoscore.app.level_keys.level_for_position`)."""
        return level_for_position(self.scale, position)

    # ---------------------------------------------------------------- actions
    def record(self, code: str, *, override: bool = False) -> Changes:
        """Store the agreed code for the current item (audited), then go to the next item to decide.

        An item with a decision that stands is not changed by an ordinary decision: it is
        refused, saying how to override. ``override=True`` (key ``O`` first) replaces it,
        audited as ``override_consensus`` (:func:`~myoscore.app.consensus.record_review_decision`).
        """
        if not self.items:
            return refused("There is no discordant item to decide.")
        item, current = self.item, self.decision()
        if current is not None:
            if not override:
                return refused(f"Already decided: {decision_text(self.scale, current)}. A digit does not change a "
                               "decided item: press O, then the new value's key, to override it (audited).")
            if current.code == code:
                self.override_armed = False
                return refused(f"{decision_text(self.scale, current)} is already the decision; nothing changed "
                               "(the override is off again).")
        was_finished = self.finished
        before = self.n_decided
        self.decisions[self.index] = record_review_decision(self.coordinator, self.protocol.name, item.exam_id,
                                                            item.item_key, code, override=current is not None)
        self.override_armed = False
        moved = self._move_to(self._next_to_decide(self.index + 1))
        return Changes(value=True, item=True, progress=self.n_decided != before,
                       status=self.finished != was_finished, keys=(item.item_key,)) | moved

    def record_level(self, position: int) -> Changes:
        """Record the level at ``position`` of the current scale (how digit keys work); after
        :meth:`arm_override`, it replaces a decided value."""
        if not self.items:
            return refused("There is no discordant item to decide.")
        return self.record(self.level_for_position(position).code, override=self.override_armed)

    def record_not_evaluable(self) -> Changes:
        return self.record(NOT_EVALUABLE, override=self.override_armed)

    def arm_override(self) -> Changes:
        """Key O: the next digit (or N) replaces the current item's decided value; O again
        cancels, and so does moving to another item. Returns ``Changes(item=True)`` so the
        card shows the armed state; refused on an item with no decision (a digit decides it)."""
        if not self.items:
            return refused("There is no discordant item to decide.")
        if self.decision() is None:
            self.override_armed = False
            return refused("This item has no decision to override: a digit decides it.")
        self.override_armed = not self.override_armed
        return Changes(item=True)

    def next_item(self) -> Changes:
        return self._move_to(self.index + 1)

    def previous_item(self) -> Changes:
        return self._move_to(self.index - 1)

    def next_undecided(self) -> Changes:
        """The next item to decide (undecided or stale) after the current one, wrapping around."""
        if not self.items:
            return NOTHING
        found = self._next_to_decide(self.index + 1)
        return self._move_to(found) if self.to_decide(found) else NOTHING

    def go_to(self, index: int) -> Changes:
        return self._move_to(index)

    def _next_to_decide(self, start: int) -> int:
        """The first item to decide from ``start`` on, wrapping around; ``start`` (clamped)
        when every item is decided."""
        for step in range(self.total):
            i = (start + step) % self.total
            if self.to_decide(i):
                return i
        return min(start, self.total - 1)

    def _move_to(self, index: int) -> Changes:
        index = max(0, min(index, self.total - 1))
        if not self.items or index == self.index:
            return NOTHING
        self.index = index
        self.override_armed = False
        return Changes(item=True)


def decision_text(scale: Scale, value: Consensus) -> str:
    """A decision as the review shows it: ``"2.5 (mean, coord, 2026-12-03 13:02)"``."""
    if value.code is not None:
        level = next((lv for lv in scale.levels if lv.code == value.code), None)
        shown = "NE" if value.code == NOT_EVALUABLE else value.code
        if level is not None and level.label:
            shown = f"{value.code} {level.label}"
    else:
        shown = f"{value.value:g}" if value.value is not None else "—"
    how = "joint review" if value.method is ConsensusMethod.REVIEW else value.method.value.replace("_", " ")
    return f"{shown} ({how}, {value.decided_by}, {value.decided_at:%Y-%m-%d %H:%M})"
