"""Logging: a per-user rotating file (owner-only), stderr for the CLI, --log-level, and an
unexpected failure shown as one sentence naming the log."""

from __future__ import annotations

import logging
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from myoscore.app.logs import log_file, setup_logging, stop_logging
from myoscore.cli import main as cli


@pytest.fixture
def log_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = tmp_path / "logs"
    monkeypatch.setenv("MYOSCORE_LOG_DIR", str(folder))
    yield folder
    stop_logging()


def test_the_log_file_is_owner_only(log_dir: Path) -> None:
    path = setup_logging("INFO")
    logging.getLogger("myoscore.store").info("hello from the store")
    assert path == log_file() == log_dir / "myoscore.log"
    assert "hello from the store" in path.read_text()
    assert stat.S_IMODE(log_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_log_level_option_and_refusals(log_dir: Path, db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--log-level", "debug", "--db", str(db_path), "init"]) == 0
    assert cli.main(["--db", str(db_path), "reopen", "99", "--as", "nobody"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    text = (log_dir / "myoscore.log").read_text()
    assert "DEBUG" in text or "INFO" in text
    assert "refused" in text


def test_an_unexpected_failure_is_one_sentence_and_logged_with_traceback(
        log_dir: Path, db_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def broken(ctx: object) -> int:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(cli, "cmd_init", broken)
    assert cli.main(["--db", str(db_path), "init"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "Traceback" not in err
    assert "failed unexpectedly" in err
    assert str(log_dir / "myoscore.log") in err
    text = (log_dir / "myoscore.log").read_text()
    assert "Traceback" in text
    assert "ZeroDivisionError: a bug" in text
