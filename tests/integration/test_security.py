"""Sign-in, passwords, coordinator credentials and owner-only files (issue 11)."""

from __future__ import annotations

import json
import stat
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from myoscore.app import CoordinatorSession, ReaderSession, bootstrap_coordinator, open_database, sign_in
from myoscore.cli.main import main
from myoscore.domain import AccessDenied, MyoscoreError, Role
from myoscore.store import authentication as clock_module
from myoscore.store import passwords
from myoscore.store.database import utcnow
from myoscore.store.tables import ReaderRow


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# -- passwords --------------------------------------------------------------------------------
@pytest.mark.parametrize("password", ["1", "short", "password123", "PASSWORD123", "aaaaaaaaaaaa", "radiologist"])
def test_weak_passwords_are_refused(coordinator: CoordinatorSession, password: str) -> None:
    """Too short, a common password (any case), one repeated character or the user's name: refused."""
    with pytest.raises(MyoscoreError, match="password for radiologist"):
        coordinator.add_reader("radiologist", Role.READER, password)
    assert coordinator.readers() == []


def test_set_password_follows_the_same_policy(study: CoordinatorSession) -> None:
    """A new password set by a coordinator is checked too."""
    with pytest.raises(MyoscoreError, match="too short"):
        study.set_password("A", "abc")


def test_hashes_use_the_recommended_scrypt_cost() -> None:
    """Shipped cost is OWASP's scrypt recommendation (N=2^17, r=8, p=1); tests run cheaper."""
    import ast

    source = Path(passwords.__file__).read_text(encoding="utf-8")
    cost = next(node for node in ast.walk(ast.parse(source))
                if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", "") == "COST")
    assert cost.value is not None
    assert ast.literal_eval(ast.unparse(cost.value).replace("2 ** 17", "131072")) == (131072, 8, 1)


def test_unknown_user_costs_one_hash_like_a_wrong_password(db, study, monkeypatch) -> None:
    """No timing difference: an unknown name runs scrypt once, exactly as a wrong password does."""
    calls: list[int] = []
    real = passwords._scrypt

    def counting(*args):
        calls.append(args[2])
        return real(*args)

    monkeypatch.setattr(passwords, "_scrypt", counting)
    passwords.burn_verify("warm-up")  # the dummy hash is made once per cost
    calls.clear()
    for name in ("A", "nobody"):
        with pytest.raises(AccessDenied, match=f"wrong name or password for '{name}'"):
            sign_in(db, name, "not-the-password")
    assert calls == [passwords.COST[0], passwords.COST[0]]


def test_exponential_backoff_after_failed_sign_ins(db, study, monkeypatch) -> None:
    """Three free failures, then 1 s, 2 s, 4 s …: during the back-off even the right password is
    refused unchecked; every attempt is audited; success resets the count."""
    clock = [utcnow()]
    monkeypatch.setattr(clock_module, "utcnow", lambda: clock[0])  # the clock sign-in reads

    def fail() -> None:
        with pytest.raises(AccessDenied, match="wrong name or password"):
            sign_in(db, "A", "wrong-password")
        clock[0] += timedelta(seconds=10)

    for _ in range(passwords.FREE_FAILURES):
        fail()
    assert isinstance(sign_in(db, "A", "pass-phrase-A"), ReaderSession)  # no wait yet; count reset
    for _ in range(passwords.FREE_FAILURES + 3):
        fail()
    clock[0] -= timedelta(seconds=10)  # right after the sixth failure in a row: wait 2**2 s
    with db.transaction() as session:
        assert session.scalars(select(ReaderRow.failed_sign_ins).where(ReaderRow.name == "A")).one() == 6
    with pytest.raises(AccessDenied, match="wait 4 s"):
        sign_in(db, "A", "pass-phrase-A")
    clock[0] += timedelta(seconds=5)
    assert isinstance(sign_in(db, "A", "pass-phrase-A"), ReaderSession)
    actions = [e.action for e in study.audit_log(50) if e.target == "reader A"]
    assert actions.count("sign_in_refused") == 1
    assert actions.count("sign_in_failed") == 2 * passwords.FREE_FAILURES + 3
    assert [passwords.backoff(n).total_seconds() for n in range(3, 7)] == [0, 1, 2, 4]
    assert passwords.backoff(passwords.FREE_FAILURES + 40) == timedelta(seconds=passwords.MAX_BACKOFF_S)


def test_old_hashes_are_upgraded_on_sign_in(db, study, monkeypatch) -> None:
    """A hash made at a lower cost still verifies and is re-hashed at the current cost."""
    monkeypatch.setattr(passwords, "COST", (2**11, 8, 1))
    assert isinstance(sign_in(db, "A", "pass-phrase-A"), ReaderSession)
    with db.transaction() as session:
        stored = session.scalars(select(ReaderRow.password_hash).where(ReaderRow.name == "A")).one()
    assert stored.startswith("scrypt$2048$8$1$")
    assert isinstance(sign_in(db, "A", "pass-phrase-A"), ReaderSession)


def test_bootstrap_only_while_there_is_no_coordinator(db) -> None:
    """`init --coordinator` makes the first coordinator; a second bootstrap is refused."""
    first = bootstrap_coordinator(db, "boss", "cli-pass-phrase")
    assert first.role is Role.COORDINATOR
    assert isinstance(sign_in(db, "boss", "cli-pass-phrase"), CoordinatorSession)
    with pytest.raises(AccessDenied, match="already has a coordinator"):
        bootstrap_coordinator(db, "intruder", "another-pass-phrase")


# -- the CLI needs coordinator credentials ------------------------------------------------------
@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    monkeypatch.setenv("MYOSCORE_DB", str(tmp_path / "cli" / "study.sqlite"))
    monkeypatch.delenv("MYOSCORE_USER", raising=False)
    monkeypatch.setenv("MYOSCORE_PASSWORD", "cli-pass-phrase")
    monkeypatch.setenv("MYOSCORE_NEW_PASSWORD", "reader-pass-phrase")

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    assert run("init", "--coordinator", "boss")[0] == 0
    assert run("readers", "add", "rad", "--as", "boss")[0] == 0
    assert run("exams", "add", "P01", "--date", "2024-05-01", "--as", "boss")[0] == 0
    assert run("assign", "--protocol", "nxp2_lower_limb", "--readers", "rad", "--as", "boss")[0] == 0
    return run


@pytest.mark.parametrize("argv", [
    ("exams", "list", "--json"), ("readers", "add", "mallory", "--role", "coordinator"), ("status",),
    ("audit",), ("export", "--format", "csv", "--out", "x"), ("readers", "list"), ("series", "list"),
    ("reopen", "1"),
])
def test_coordinator_commands_refuse_without_coordinator_credentials(cli, monkeypatch, argv) -> None:
    """No implicit local coordinator; a reader's own password does not make them one."""
    code, out, err = cli(*argv)
    assert (code, out) == (1, "")
    assert "needs a coordinator" in err
    assert err.count("\n") == 1
    monkeypatch.setenv("MYOSCORE_USER", "rad")
    monkeypatch.setenv("MYOSCORE_PASSWORD", "reader-pass-phrase")
    code, out, err = cli(*argv)
    assert (code, out) == (1, "")
    assert "rad is a reader" in err


def test_scripted_study_with_the_documented_variables(cli, monkeypatch) -> None:
    """$MYOSCORE_USER and $MYOSCORE_PASSWORD sign a script in as the coordinator."""
    monkeypatch.setenv("MYOSCORE_USER", "boss")
    code, out, _ = cli("exams", "list", "--json")
    assert code == 0
    assert json.loads(out)[0]["date"] == "2024-05-01"
    code, _, err = cli("init", "--coordinator", "second")
    assert code == 1
    assert "already has a coordinator" in err


def test_readers_add_refuses_a_weak_password_in_one_line(cli, monkeypatch) -> None:
    """`readers add` with the password "1": one sentence, no account."""
    monkeypatch.setenv("MYOSCORE_NEW_PASSWORD", "1")
    code, _, err = cli("readers", "add", "weak", "--as", "boss")
    assert code == 1
    assert "too short" in err
    assert err.count("\n") == 1


# -- files ------------------------------------------------------------------------------------
def test_database_wal_shm_exports_are_owner_only(cli, tmp_path: Path, monkeypatch) -> None:
    """Database, WAL and SHM 0600, its folder 0700, every export file 0600 in 0700 folders."""
    folder = tmp_path / "cli"
    assert _mode(folder) == 0o700
    database = open_database(str(folder / "study.sqlite"))
    assert isinstance(sign_in(database, "rad", "reader-pass-phrase"), ReaderSession)  # a write: WAL in use
    for name in ("study.sqlite", "study.sqlite-wal", "study.sqlite-shm"):
        assert _mode(folder / name) == 0o600, name
    database.dispose()
    monkeypatch.setenv("MYOSCORE_PASSWORD", "reader-pass-phrase")
    assert cli("rate", "1", "edema.thigh.anterior.R", "2", "--as", "rad")[0] == 0
    assert cli("submit", "1", "--as", "rad")[0] == 0
    monkeypatch.setenv("MYOSCORE_PASSWORD", "cli-pass-phrase")
    monkeypatch.setenv("MYOSCORE_USER", "boss")
    out = tmp_path / "exports"
    for fmt in ("csv", "redcap", "xlsx", "figures"):
        code, _, err = cli("export", "--format", fmt, "--out", str(out / fmt))
        assert code == 0, err
    written = list(out.rglob("*"))
    assert any(p.suffix == ".csv" for p in written)
    for path in written:
        assert _mode(path) == (0o700 if path.is_dir() else 0o600), path


def test_opening_a_database_others_can_read_warns(tmp_path: Path, capsys, monkeypatch) -> None:
    """A database file readable by group or others opens with a warning naming the fix."""
    path = tmp_path / "shared.sqlite"
    open_database(str(path), create=True).dispose()
    assert _mode(path) == 0o600
    assert open_database(str(path)).warnings == []
    path.chmod(0o644)
    database = open_database(str(path))
    assert database.warnings
    assert f"chmod 600 {path}" in database.warnings[0]
    database.dispose()
    monkeypatch.setenv("MYOSCORE_DB", str(path))
    main(["readers", "list", "--as", "nobody"])
    assert "can be read by other users" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [
    ("rate", str(2**63), "edema.thigh.anterior.R", "1"), ("rate", str(-(2**63)), "edema.thigh.anterior.R", "1"),
    ("submit", str(2**63)), ("submit", "0"), ("rate", "1", "x" * 20_000, "1"), ("rate", "1", "edema\x00", "1"),
])
def test_no_traceback_for_out_of_range_reader_input(cli, monkeypatch, argv) -> None:
    """Huge, negative and zero ids, absurd keys: one sentence, exit 1."""
    monkeypatch.setenv("MYOSCORE_PASSWORD", "reader-pass-phrase")
    code, _, err = cli(*argv, "--as", "rad")
    assert code == 1
    assert err.count("\n") == 1
    assert "Traceback" not in err


@pytest.mark.parametrize("argv", [
    ("assign", "--protocol", "nxp2_lower_limb", "--readers", "rad", "--exams", "1,abc"),
    ("assign", "--protocol", "nxp2_lower_limb", "--readers", "rad", "--exams", str(2**63)),
    ("reopen", str(2**63)), ("exams", "add", "P02", "--months-from-onset", "nan"),
    ("audit", "--limit", str(2**70)),
])
def test_no_traceback_for_out_of_range_coordinator_input(cli, monkeypatch, argv) -> None:
    """The same for coordinator commands."""
    monkeypatch.setenv("MYOSCORE_USER", "boss")
    code, _, err = cli(*argv)
    assert code == 1
    assert err.count("\n") == 1
    assert "Traceback" not in err
