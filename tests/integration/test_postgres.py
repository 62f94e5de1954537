"""The store on a real PostgreSQL server: migrations, blinding, audit trigger, consensus.

The fixture starts a throwaway cluster on a Unix socket (no network) with the server
binaries of the machine, installing Debian's ``postgresql`` package first if they are
missing, so the multi-site configuration is tested, not assumed.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from myoscore.app import CoordinatorSession, ReaderSession, head_revision, open_database, sign_in
from myoscore.app.agreement_report import agreement_report
from myoscore.app.consensus import consensus_list, reconcile_reads
from myoscore.app.schemes import protocol
from myoscore.domain import NOT_EVALUABLE, AccessDenied, ConsensusMethod, ReadLocked, Role


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


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
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
    options = f"-k {base} -p {port} -c listen_addresses=''"
    subprocess.run(_as_server_user([pg_ctl, "-D", str(data), "-o", options, "-l", str(base / "log"), "-w", "start"]),
                   check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg://myoscore@/postgres?host={base}&port={port}"
    finally:
        subprocess.run(_as_server_user([pg_ctl, "-D", str(data), "-m", "immediate", "stop"]), capture_output=True,
                       check=False)
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.slow
def test_postgresql_end_to_end(pg_url: str) -> None:
    """Create at head, score blinded, lock, reconcile and measure agreement on PostgreSQL."""
    db = open_database(pg_url, create=True)
    assert db.revision() == head_revision()
    coordinator = CoordinatorSession(db, "pg-coordinator")
    nxp2 = protocol("nxp2_lower_limb")
    for name in ("A", "B"):
        coordinator.add_reader(name, Role.READER, f"pw-{name}")
    coordinator.add_exam("PG-01", "baseline")
    coordinator.add_exam("PG-02", "baseline")
    coordinator.assign(nxp2, ["A", "B"], seed=9)
    readers = {name: sign_in(db, name, f"pw-{name}") for name in ("A", "B")}
    for offset, reader in enumerate(readers.values()):
        assert isinstance(reader, ReaderSession)
        for read in reader.worklist():
            for i, key in enumerate(k for k in nxp2.item_keys if k.startswith("edema.")):
                reader.rate(read.id, key, NOT_EVALUABLE if i == 11 else str((i + offset * (i % 4 == 0)) % 6))
            reader.submit(read.id)
    a, b = readers["A"], readers["B"]
    assert isinstance(a, ReaderSession)
    assert isinstance(b, ReaderSession)
    with pytest.raises(AccessDenied):
        a.ratings(b.worklist()[0].id)
    with pytest.raises(ReadLocked):
        a.rate(a.worklist()[0].id, "edema.thigh.anterior.R", "1")
    assert a.ratings(a.worklist()[0].id)["edema.calf.posterior.L"].not_evaluable

    with pytest.raises(DBAPIError, match="append-only"), db.transaction() as session:
        session.execute(text("UPDATE audit_events SET actor = 'x'"))

    reconcile_reads(coordinator, "nxp2_lower_limb", ["A", "B"], ConsensusMethod.MEAN)
    consensus = consensus_list(coordinator, "nxp2_lower_limb")
    assert {c.method for c in consensus} == {ConsensusMethod.MEAN}
    assert any(c.value is not None and c.value % 1 == 0.5 for c in consensus)  # 2.5 stays 2.5
    report = agreement_report(coordinator, "nxp2_lower_limb", ["A", "B"])
    assert report.n_exams == 2
    db.dispose()
    again = open_database(pg_url)
    assert again.revision() == head_revision()
    again.dispose()
