"""Which key scores which level — the one definition the reading and the review share.

Digit keys score by **position**: key *d* is the *d*-th level of the item's scale, whatever
its code, so codes such as ``"2a"``/``"2b"`` (modified Mercuri) and nominal codes (edema
pattern) have keys too. Levels past the tenth have no key (the mouse scores them). Key
``N`` is *not evaluable*, a value of its own on every item, never a 0. The scoring panel
and the joint-review card print these keys beside each level from :func:`level_keys`, and
the sessions turn a digit into a level with :func:`level_for_position`.
"""

from __future__ import annotations

from dataclasses import dataclass

from myoscore.domain import NOT_EVALUABLE, InvalidValue
from myoscore.schemes.model import Level, Scale

__all__ = [
    "NOT_EVALUABLE_DEFINITION",
    "NOT_EVALUABLE_KEY",
    "LevelKey",
    "digit_key",
    "level_for_position",
    "level_keys",
]

NOT_EVALUABLE_KEY = "N"
NOT_EVALUABLE_DEFINITION = (
    "The structure cannot be assessed on this exam (missing sequence, artefact, outside the field "
    "of view). Not a 0: it is left out of sums and percentages.")


@dataclass(frozen=True)
class LevelKey:
    """One row of a scale as the panels show it: the key to press, the code, label and definition."""

    key: str
    code: str
    label: str
    definition: str


def digit_key(position: int) -> str:
    """The key of the level at ``position`` (``"0"`` … ``"9"``), ``""`` past the tenth."""
    return str(position) if 0 <= position < 10 else ""


def level_for_position(scale: Scale, position: int) -> Level:
    """The level of ``scale`` at ``position`` (the digit key shown beside it).

    Raises
    ------
    InvalidValue
        No level has that position; the message names the keys that exist.
    """
    levels = scale.levels
    if not 0 <= position < len(levels):
        last = min(len(levels), 10) - 1
        raise InvalidValue(f"{scale.title} has {len(levels)} levels: use keys 0–{last} "
                           f"(key {position} has no level)")
    return levels[position]


def level_keys(scale: Scale) -> tuple[LevelKey, ...]:
    """Every level of ``scale`` with its key, in order, then not evaluable (key N)."""
    rows = [LevelKey(digit_key(p), level.code, level.label, level.definition) for p, level in enumerate(scale.levels)]
    rows.append(LevelKey(NOT_EVALUABLE_KEY, NOT_EVALUABLE, "Not evaluable", NOT_EVALUABLE_DEFINITION))
    return tuple(rows)
