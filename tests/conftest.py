"""Shared fixtures. Every test runs headless: Qt uses the offscreen platform."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# The CLI under test logs like the real one, but not into the user's own log directory.
import tempfile

os.environ.setdefault("MYOSCORE_LOG_DIR", tempfile.mkdtemp(prefix="myoscore-test-logs-"))

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from myoscore.app import CoordinatorSession, Database, open_database
from myoscore.app.schemes import scheme_library
from myoscore.domain import Role
from myoscore.schemes import Protocol


@pytest.fixture(autouse=True)
def _cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """scrypt at the production cost takes ~0.7 s a hash; tests hash hundreds of times.
    The cost is a parameter of the hash, so everything else is tested as shipped."""
    from myoscore.store import passwords

    monkeypatch.setattr(passwords, "COST", (2**10, 8, 1))


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "study.sqlite"


@pytest.fixture
def db(db_path: Path) -> Iterator[Database]:
    database = open_database(str(db_path), create=True)
    yield database
    database.dispose()


@pytest.fixture
def coordinator(db: Database) -> CoordinatorSession:
    return CoordinatorSession(db, "test-coordinator")


CLI_COORDINATOR, CLI_PASSWORD = "boss", "cli-pass-phrase"


@pytest.fixture
def cli_coordinator(coordinator: CoordinatorSession, monkeypatch: pytest.MonkeyPatch) -> str:
    """A coordinator account the CLI signs in as ($MYOSCORE_USER / $MYOSCORE_PASSWORD)."""
    coordinator.add_reader(CLI_COORDINATOR, Role.COORDINATOR, CLI_PASSWORD)
    monkeypatch.setenv("MYOSCORE_USER", CLI_COORDINATOR)
    monkeypatch.setenv("MYOSCORE_PASSWORD", CLI_PASSWORD)
    return CLI_COORDINATOR


@pytest.fixture
def nxp2() -> Protocol:
    return scheme_library().protocol("nxp2_lower_limb")


@pytest.fixture
def imnm() -> Protocol:
    return scheme_library().protocol("imnm_whole_body")


@pytest.fixture
def study(coordinator: CoordinatorSession, nxp2: Protocol) -> CoordinatorSession:
    """Two readers (A, B; password "pass-phrase-A"/"pass-phrase-B") and two exams assigned to both."""
    coordinator.add_reader("A", Role.READER, "pass-phrase-A")
    coordinator.add_reader("B", Role.READER, "pass-phrase-B")
    coordinator.add_exam("SUBJ-01", "baseline", months_from_onset=2.0, treated=False)
    coordinator.add_exam("SUBJ-01", "follow-up", months_from_onset=14.0, treated=True)
    coordinator.assign(nxp2, ["A", "B"], seed=11)
    return coordinator


CliRun = Callable[..., tuple[int, str, str]]


@pytest.fixture
def cli_study(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> CliRun:
    """A new CLI study with coordinator ``boss`` signed in through the environment;
    returns ``run(*argv) -> (exit code, stdout, stderr)``."""
    from myoscore.cli.main import main

    monkeypatch.setenv("MYOSCORE_DB", str(tmp_path / "cli.sqlite"))
    monkeypatch.setenv("MYOSCORE_USER", "boss")
    monkeypatch.setenv("MYOSCORE_PASSWORD", "cli-pass-phrase")
    monkeypatch.setenv("MYOSCORE_NEW_PASSWORD", "cli-pass-phrase")

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    assert run("init", "--coordinator", "boss")[0] == 0
    return run
