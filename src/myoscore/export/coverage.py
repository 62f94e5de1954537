"""Which exams a figure or table could use, and the sentence that names the others.

A mid-study export draws what exists: a figure uses the exams that have ratings from its
source, and its title (and the export's summary) says which exams were left out and why,
e.g. "2 of 3 exams; left out: S-103 · baseline (no consensus yet)". Exams are named by
subject code and timepoint label, as everywhere else in an export (never a database id).
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

from myoscore.export.dataset import CONSENSUS, ExamInfo, ExportDataset

__all__ = ["Skipped", "count", "coverage_note", "exam_name", "left_out_text", "source_text"]

#: How many exams a note names for one reason before it says "and N more".
NAMED = 6


@dataclass(frozen=True)
class Skipped:
    """Something an export did not write (``what``: a figure or a format) and why."""

    what: str
    reason: str


def count(n: int, word: str) -> str:
    """``"1 subject"``, ``"2 subjects"`` (figure titles; the app's screens use app.wording)."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def exam_name(exam: ExamInfo) -> str:
    """``"S-101 · baseline"``: how an export names an exam."""
    return f"{exam.subject} · {exam.label}"


def source_text(source: str) -> str:
    """``"consensus"`` or the reader's name."""
    return "consensus" if source == CONSENSUS else source.removeprefix("reader:")


def left_out_text(left: Sequence[tuple[ExamInfo, str]], *, named: int = NAMED) -> str:
    """``"S-104 · baseline, S-105 · baseline (no consensus yet); S-103 · follow-up (consensus
    stale)"``: the exams grouped by reason, at most ``named`` per reason."""
    by_reason: dict[str, list[str]] = {}
    for exam, reason in left:
        by_reason.setdefault(reason, []).append(exam_name(exam))
    parts = []
    for reason, names in by_reason.items():
        shown = ", ".join(names[:named]) + (f" and {len(names) - named} more" if len(names) > named else "")
        parts.append(f"{shown} ({reason})")
    return "; ".join(parts)


def coverage_note(dataset: ExportDataset, source: str, scope: Sequence[ExamInfo], *, width: int = 0) -> str:
    """``"2 of 3 exams; left out: …"`` for the exams of ``scope`` without ratings from
    ``source``; empty when none is left out. ``width`` > 0 wraps the text for a title."""
    left = dataset.left_out(source, scope)
    if not left:
        return ""
    exams = "exam" if len(scope) == 1 else "exams"
    text = f"{len(scope) - len(left)} of {len(scope)} {exams}; left out: {left_out_text(left)}"
    return "\n".join(textwrap.wrap(text, width)) if width > 0 else text
