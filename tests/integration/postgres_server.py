"""A throwaway PostgreSQL cluster for the tests (the ``pg_url`` fixture, tests/integration/conftest.py).

It listens on a Unix socket only (no network) and runs the server binaries of the machine,
installing Debian's ``postgresql`` package first if they are missing.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def _server_binary(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


def _install_server() -> None:
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        pytest.fail("PostgreSQL server binaries (initdb, pg_ctl) are missing and cannot be installed here: "
                    "install Debian's 'postgresql' package")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, capture_output=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "postgresql"], check=True, env=env, capture_output=True)


def _as_server_user(args: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root.
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_postgres() -> Iterator[str]:
    """A throwaway cluster on a Unix socket; yields its SQLAlchemy URL, stops and deletes it on exit."""
    if _server_binary("initdb") is None or _server_binary("pg_ctl") is None:
        _install_server()
    initdb, pg_ctl = _server_binary("initdb"), _server_binary("pg_ctl")
    assert initdb is not None
    assert pg_ctl is not None
    base = Path(tempfile.mkdtemp(prefix="myoscore-pg-", dir="/tmp"))
    base.chmod(0o755)
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
    data, port = base / "data", _free_port()
    subprocess.run(_as_server_user([initdb, "-D", str(data), "-A", "trust", "-U", "myoscore", "-E", "UTF8"]),
                   check=True, capture_output=True)
    # The installer's account is trusted on the socket; every user's own role must give
    # its password (SCRAM), so the tests check that sign-in really reaches the server.
    (data / "pg_hba.conf").write_text("local all myoscore trust\nlocal all all scram-sha-256\n")
    # Every statement is logged, so a test can check that no password reaches the log.
    options = f"-k {base} -p {port} -c listen_addresses='' -c log_statement=all"
    subprocess.run(_as_server_user([pg_ctl, "-D", str(data), "-o", options, "-l", str(base / "log"), "-w", "start"]),
                   check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg://myoscore@/postgres?host={base}&port={port}"
    finally:
        subprocess.run(_as_server_user([pg_ctl, "-D", str(data), "-m", "immediate", "stop"]), capture_output=True,
                       check=False)
        shutil.rmtree(base, ignore_errors=True)
