"""Import progress as text (files read / total, rate, time left), on a terminal or not."""

from __future__ import annotations

import pytest

from myoscore.app.progress import ProgressText
from myoscore.cli.imaging import ProgressBar


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_progress_text_says_rate_and_time_left() -> None:
    """After 2 000 of 8 000 files in 2 s: 1 000 files/s and about 6 s left."""
    clock = Clock()
    progress = ProgressText("reading headers", clock=clock)
    progress.update(0, 8000)
    clock.now += 2.0
    progress.update(2000, 8000)
    assert progress.seconds_left() == pytest.approx(6.0)
    assert progress.text() == "reading headers: 2000 / 8000 files (25 %), 1000 files/s, about 6 s left"
    clock.now += 6.0
    progress.update(8000, 8000)
    assert progress.text().endswith("(100 %), 1000 files/s, done")


def test_lines_are_due_every_few_seconds_and_at_the_end() -> None:
    clock = Clock()
    progress = ProgressText("x", every=3.0, clock=clock)
    progress.update(0, 10)
    assert progress.due()
    clock.now += 1.0
    progress.update(3, 10)
    assert not progress.due()
    clock.now += 2.5
    progress.update(6, 10)
    assert progress.due()
    progress.update(10, 10)
    assert progress.due()


def test_cli_progress_writes_plain_lines_when_stderr_is_not_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    """Under pytest stderr is a pipe: no bar, one line per interval, and the last line."""
    bar = ProgressBar("reading headers", every=3600)
    for done in range(0, 101):
        bar(done, 100)
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith("reading headers: 0 / 100 files (0 %)")
    assert lines[-1].startswith("reading headers: 100 / 100 files (100 %)")
    assert len(lines) == 2
    assert "\r" not in "".join(lines)
