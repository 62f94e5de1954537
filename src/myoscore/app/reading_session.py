"""The reading loop without a window: one reader, one read, one item at a time.

A :class:`ReadingSession` sits on a signed-in :class:`~myoscore.app.ReaderSession`
(so everything it can see is blinded by the store) and holds the current read, the
current item (and so its side) and the read's protocol. Each method that changes
something persists it before returning — a rating is durable the moment it is given —
and returns a small frozen :class:`Changes` saying *what* changed, so a window redraws
only that (the Anki pattern). The keymap (:mod:`myoscore.app.keymap`) is a table of
functions of this object; the GUI tests press keys, the unit tests call the functions.

The image side of a read (series as Volumes, label maps) is :mod:`myoscore.app.exam_images`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from myoscore.app.changes import NOTHING, Changes, refused
from myoscore.app.coverage import NOT_IMAGED, not_imaged_regions
from myoscore.app.level_keys import level_for_position
from myoscore.app.sessions import ReaderSession, user_names
from myoscore.domain import (
    NOT_EVALUABLE,
    MyoscoreError,
    NeedsConfirmation,
    NotFound,
    Rating,
    Read,
    ReadLocked,
    ReadStatus,
)
from myoscore.domain.blinding import read_title
from myoscore.domain.boundary import checked_arguments
from myoscore.schemes import Protocol
from myoscore.schemes.model import Item, Level, Scale
from myoscore.store import Database

__all__ = ["NOTHING", "Changes", "ReadingSession", "sign_in_names"]


@dataclass(frozen=True)
class _UndoStep:
    item_key: str
    previous: str | None  # the code stored before the change; None = unscored


#: One undo entry: a single change, or several made by one key (region NE) undone together.
_UndoEntry = _UndoStep | tuple[_UndoStep, ...]


# --------------------------------------------------------------------- ReadingSession
@checked_arguments  # ids and keys typed at the boundary, before any rule
class ReadingSession:
    """One reader working through one read, item by item.

    Parameters
    ----------
    reader
        The signed-in reader's blinded session; every read and write goes through it.
    read_id
        One of the reader's own reads (others are refused by the store).
    start
        ``"first_unscored"`` (default) opens at the first item without a value, or at
        the first item when all are scored; ``"first"`` always at the first item.
    """

    def __init__(self, reader: ReaderSession, read_id: int, *, start: str = "first_unscored") -> None:
        self._reader = reader
        self._read = reader.read(read_id)
        self._protocol = reader.protocol(read_id)
        self._ratings: dict[str, Rating] = reader.ratings(read_id)
        self._items = self._protocol.items
        if not self._items:
            raise MyoscoreError(f"protocol {self._protocol.name} has no items to score")
        self._index_of = {item.key: i for i, item in enumerate(self._items)}
        self._undo: list[_UndoEntry] = []
        # Regions of the protocol that no image series of the exam covers (app.coverage):
        # their items say so, and a value other than NE there needs a second press.
        self._not_imaged = not_imaged_regions(reader.series(read_id), {it.unit.region for it in self._items})
        self._pending: tuple[str, str] | None = None  # (item key, code) awaiting confirmation
        self._index = 0
        if self._protocol.prefill_not_imaged and self._not_imaged and not self.locked:
            self._prefill_not_imaged()
        if start == "first_unscored":
            self._index = next((i for i, it in enumerate(self._items) if it.key not in self._ratings), 0)

    # ------------------------------------------------------------------ state
    @property
    def reader_session(self) -> ReaderSession:
        return self._reader

    @property
    def read(self) -> Read:
        """The read as last loaded (status and progress refreshed after changes)."""
        return self._read

    @property
    def read_id(self) -> int:
        return self._read.id

    @property
    def protocol(self) -> Protocol:
        return self._protocol

    @property
    def items(self) -> tuple[Item, ...]:
        return self._items

    @property
    def index(self) -> int:
        return self._index

    @property
    def item(self) -> Item:
        return self._items[self._index]

    @property
    def side(self) -> str | None:
        """``"R"``, ``"L"`` or ``None`` for an item not scored per side."""
        return self.item.side

    @property
    def scale(self) -> Scale:
        return self.scale_of(self.item.key)

    def scale_of(self, item_key: str) -> Scale:
        return self._protocol.scale_of(item_key)

    @property
    def locked(self) -> bool:
        """True once submitted: the read opens read-only."""
        return self._read.status is ReadStatus.SUBMITTED

    def rating(self, item_key: str) -> Rating | None:
        return self._ratings.get(item_key)

    def code(self, item_key: str | None = None) -> str | None:
        """The stored code of an item (the current one by default), or ``None``."""
        rating = self._ratings.get(item_key or self.item.key)
        return rating.code if rating else None

    @property
    def ratings(self) -> Mapping[str, Rating]:
        return dict(self._ratings)

    @property
    def done(self) -> int:
        return sum(1 for item in self._items if item.key in self._ratings)

    @property
    def total(self) -> int:
        return len(self._items)

    def progress_by_region(self) -> dict[str, tuple[int, int]]:
        """``{region key: (scored, total)}`` in protocol order."""
        out: dict[str, list[int]] = {}
        for item in self._items:
            counts = out.setdefault(item.unit.region, [0, 0])
            counts[1] += 1
            counts[0] += item.key in self._ratings
        return {key: (done, total) for key, (done, total) in out.items()}

    def unscored(self) -> tuple[str, ...]:
        """Item keys without a value, in protocol order (what Submit warns about)."""
        return tuple(item.key for item in self._items if item.key not in self._ratings)

    def level_for_position(self, position: int) -> Level:
        """The current scale's level at ``position`` (the digit key shown beside it; the rule is
        :func:`myoscore.app.level_keys.level_for_position`, shared with the review)."""
        return level_for_position(self.scale, position)

    def not_imaged(self, item: Item | None = None) -> bool:
        """True when no series of this exam covers the item's region (the current item by default)."""
        return (item or self.item).unit.region in self._not_imaged

    @property
    def not_imaged_regions(self) -> frozenset[str]:
        return self._not_imaged

    def can_undo(self) -> bool:
        return bool(self._undo)

    # ---------------------------------------------------------------- values
    def set_value(self, code: str) -> Changes:
        """Store ``code`` for the current item (durable on return), then move on.

        Raises
        ------
        ReadLocked
            The read is submitted.
        InvalidValue
            ``code`` is not a level of the item's scale nor "NE".
        """
        item = self.item
        self._check_writable()
        if code != NOT_EVALUABLE and self.not_imaged(item) and self._pending != (item.key, code):
            self._pending = (item.key, code)
            raise NeedsConfirmation(
                f"{item.unit.name} is {NOT_IMAGED}: press {self._key_of(code)} again to store it anyway, "
                "or N for not evaluable"
            )
        self._pending = None
        changes = self._store(item.key, code)
        return changes | self._move_to(self._index + 1)

    def _prefill_not_imaged(self) -> None:
        """The protocol's option: NE for every unscored item of a region no series covers,
        audited as ``prefill_ne`` (not undoable: it is the read's starting point)."""
        for item in self._items:
            if item.unit.region in self._not_imaged and item.key not in self._ratings:
                self._ratings[item.key] = self._reader.rate(self._read.id, item.key, NOT_EVALUABLE,
                                                            action="prefill_ne")
        self._read = self._reader.read(self._read.id)

    def _key_of(self, code: str) -> str:
        codes = self.scale.codes
        return str(codes.index(code)) if code in codes else repr(code)

    def mark_region_not_evaluable(self) -> Changes:
        """Mark every unscored item of the current item's region not evaluable, from the
        current item on and before it alike (one key; one undo step), then go to the first
        item after the region. Items that have a value keep it."""
        self._check_writable()
        region = self.item.unit.region
        keys = [it.key for it in self._items if it.unit.region == region and it.key not in self._ratings]
        if not keys:
            return NOTHING
        steps: list[_UndoStep] = []
        changes = NOTHING
        for key in keys:
            changes = changes | self._store(key, NOT_EVALUABLE, record=False)
            steps.append(_UndoStep(key, None))
        self._undo.append(tuple(steps))
        self._pending = None
        after = max(i for i, it in enumerate(self._items) if it.unit.region == region) + 1
        return changes | self._move_to(after if after < len(self._items) else self._index)

    def set_level(self, position: int) -> Changes:
        """Store the level at ``position`` of the current scale (how digit keys work,
        so codes such as ``"2a"``/``"2b"`` have a key too), then move on."""
        self._check_writable()
        return self.set_value(self.level_for_position(position).code)

    def mark_not_evaluable(self) -> Changes:
        """Store "not evaluable" (a value of its own, never a 0), then move on."""
        return self.set_value(NOT_EVALUABLE)

    def clear(self) -> Changes:
        """Remove the current item's value; it becomes unscored again. Stays on the item."""
        return self._store(self.item.key, None)

    def undo(self) -> Changes:
        """Restore the value stored before the last change (persisted) and go to its item."""
        self._check_writable()
        if not self._undo:
            return refused("Nothing to undo: no value was changed since this read was opened.")
        entry = self._undo.pop()
        steps = entry if isinstance(entry, tuple) else (entry,)
        changes = NOTHING
        for step in reversed(steps):
            changes = changes | self._store(step.item_key, step.previous, record=False)
        return changes | self._move_to(self._index_of[steps[0].item_key])

    def submit(self) -> Changes:
        """Lock the read. The caller has warned about :meth:`unscored` items and asked."""
        self._check_writable()
        self._reader.submit(self._read.id)
        self._read = self._reader.read(self._read.id)
        self._undo.clear()
        return Changes(status=True)

    # ------------------------------------------------------------- navigation
    def next_item(self) -> Changes:
        return self._move_to(self._index + 1)

    def previous_item(self) -> Changes:
        return self._move_to(self._index - 1)

    def next_unscored(self) -> Changes:
        """The next item without a value after the current one, wrapping around."""
        n = len(self._items)
        for step in range(1, n + 1):
            i = (self._index + step) % n
            if self._items[i].key not in self._ratings:
                return self._move_to(i)
        return NOTHING

    def switch_side(self) -> Changes:
        """The same measure on the same unit, other side (nothing for unsided items)."""
        item = self.item
        if item.side is None:
            return NOTHING
        other = {"R": "L", "L": "R"}.get(item.side)
        for i, candidate in enumerate(self._items):
            if (candidate.measure == item.measure and candidate.unit.key == item.unit.key
                    and candidate.side == other):
                return self._move_to(i)
        return NOTHING

    def go_to(self, item_key: str) -> Changes:
        if item_key not in self._index_of:
            raise NotFound(f"protocol {self._protocol.name} has no item {item_key!r}")
        return self._move_to(self._index_of[item_key])

    # ---------------------------------------------------------------- helpers
    def _move_to(self, index: int) -> Changes:
        index = max(0, min(index, len(self._items) - 1))
        if index == self._index:
            return NOTHING
        self._index = index
        return Changes(item=True)

    def _check_writable(self) -> None:
        if self.locked:
            raise ReadLocked(
                f"{read_title(self._read)} is submitted and locked; "
                "a coordinator can reopen it"
            )

    def _store(self, item_key: str, code: str | None, *, record: bool = True) -> Changes:
        """Persist one value (``None`` clears) through the reader session."""
        self._check_writable()
        previous = self.code(item_key)
        if code == previous:
            return NOTHING
        if code is None:
            self._reader.clear(self._read.id, item_key)
            del self._ratings[item_key]
        else:
            self._ratings[item_key] = self._reader.rate(self._read.id, item_key, code)
        if record:
            self._undo.append(_UndoStep(item_key, previous))
        status_before = self._read.status
        if status_before is ReadStatus.ASSIGNED:
            # The store moved it to in progress with the first rating.
            self._read = self._reader.read(self._read.id)
        else:
            self._read = replace(self._read, done=self.done)
        return Changes(
            value=True,
            progress=(previous is None) != (code is None),
            status=self._read.status is not status_before,
            keys=(item_key,),
        )


def sign_in_names(database: Database) -> list[str]:
    """Names for the sign-in picker (active users; no other detail leaves here)."""
    return user_names(database)


