"""Small wording rules every screen shares: counts with the right plural ("1 exam", "2 exams")."""

from __future__ import annotations

__all__ = ["plural"]

_IRREGULAR = {"series": "series", "analysis": "analyses"}


def plural(count: int, word: str, many: str | None = None) -> str:
    """``"1 exam"``, ``"0 exams"``, ``"2 series"``: the count and the word in the right number."""
    if count == 1:
        return f"{count} {word}"
    return f"{count} {many or _IRREGULAR.get(word) or word + 's'}"
