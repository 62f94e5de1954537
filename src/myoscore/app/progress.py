"""Progress of a long job (reading headers at import) as text: done / total, rate, time left.

Qt-free and clock-injected, so the CLI (a bar on a terminal, one line every few seconds
otherwise, e.g. in a log or a pipe) and the GUI's import dialog say the same thing, and
tests need no sleeping.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["ProgressText"]


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


@dataclass
class ProgressText:
    """Feed it ``(done, total)``; it says how far along a job is and how long is left.

    ``every`` is the least number of seconds between two :meth:`due` lines (the last one,
    ``done == total``, is always due).
    """

    label: str
    every: float = 3.0
    clock: Callable[[], float] = time.monotonic
    _start: float | None = field(default=None, init=False)
    _last_line: float | None = field(default=None, init=False)
    done: int = field(default=0, init=False)
    total: int = field(default=0, init=False)

    def update(self, done: int, total: int) -> None:
        now = self.clock()
        if self._start is None or done == 0:
            self._start = now
        self.done, self.total = done, total

    def seconds_left(self) -> float | None:
        """Estimated seconds until ``total``, from the rate so far (None before any rate)."""
        if self._start is None or self.done <= 0 or self.total <= 0:
            return None
        elapsed = self.clock() - self._start
        if elapsed <= 0:
            return None
        return (self.total - self.done) * elapsed / self.done

    def due(self) -> bool:
        """Whether a new line should be written now (at most one every ``every`` seconds)."""
        now = self.clock()
        if self.total and self.done >= self.total:
            return True
        if self._last_line is None or now - self._last_line >= self.every:
            self._last_line = now
            return True
        return False

    def text(self) -> str:
        """E.g. ``"reading headers: 3 200 / 7 000 files (46 %), 1 850 files/s, about 2 s left"``."""
        total = max(self.total, 0)
        percent = self.done * 100 // total if total else 100
        parts = [f"{self.label}: {self.done} / {total} files ({percent} %)"]
        if self._start is not None and self.done:
            elapsed = self.clock() - self._start
            if elapsed > 0:
                parts.append(f"{self.done / elapsed:.0f} files/s")
        left = self.seconds_left()
        if self.done >= total:
            parts.append("done")
        elif left is not None:
            parts.append(f"about {_duration(left)} left")
        return ", ".join(parts)
