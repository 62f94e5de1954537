"""A rating acknowledged is a rating kept: SIGKILL mid-read, and two writers at once."""

from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from myoscore.app import sign_in

WORKER = Path(__file__).with_name("rating_worker.py")
KILLS = 12


def _start(db_path: Path, reader: str, password: str, read_id: int, rounds: int | None = None,
           stderr: int = subprocess.PIPE) -> subprocess.Popen[str]:
    args = [sys.executable, str(WORKER), str(db_path), reader, password, str(read_id)]
    if rounds is not None:
        args.append(str(rounds))
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=stderr, text=True)


def _stored(db_path: Path, read_id: int) -> dict[str, str]:
    with sqlite3.connect(db_path) as con:
        rows = con.execute("SELECT item_key, code FROM ratings WHERE read_id = ?", (read_id,)).fetchall()
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    con.close()
    return dict(rows)


@pytest.mark.slow
def test_sigkill_never_loses_an_acknowledged_rating(db, db_path: Path, study) -> None:
    """Kill the scoring process at random moments; every ACKed rating is in the database."""
    read_id = sign_in(db, "A", "pass-phrase-A").worklist()[0].id  # type: ignore[union-attr]
    rng = random.Random(20261121)
    acknowledged_total = 0
    for _ in range(KILLS):
        worker = _start(db_path, "A", "pass-phrase-A", read_id, stderr=subprocess.DEVNULL)
        acked: dict[str, str] = {}
        started = threading.Event()

        def reader_thread(stream=worker.stdout, sink=acked, started=started) -> None:
            for line in stream:
                if line.startswith("ACK "):
                    _, key, code = line.split()
                    sink[key] = code
                    started.set()

        thread = threading.Thread(target=reader_thread)
        thread.start()
        # Kill at a random moment of the rating loop: the clock starts at the first ACK, so a
        # slow interpreter start on a busy machine does not leave the worker no time to rate.
        started.wait(60)
        deadline = time.monotonic() + rng.uniform(0.05, 1.5)
        while time.monotonic() < deadline and worker.poll() is None:
            time.sleep(0.01)
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        thread.join()
        assert worker.stdout is not None
        worker.stdout.close()
        stored = _stored(db_path, read_id)
        for key, code in acked.items():
            assert stored.get(key) == code, f"acknowledged {key}={code} lost (stored {stored.get(key)})"
        acknowledged_total += len(acked)
    assert acknowledged_total > KILLS * 10, "the workers barely ran: the test proved nothing"


@pytest.mark.slow
def test_two_processes_rating_one_file_lose_nothing(db, db_path: Path, study) -> None:
    """Readers A and B score their reads in two processes at once: no error, no lost rating."""
    a_read = sign_in(db, "A", "pass-phrase-A").worklist()[0].id  # type: ignore[union-attr]
    b_read = sign_in(db, "B", "pass-phrase-B").worklist()[0].id  # type: ignore[union-attr]
    workers = [_start(db_path, "A", "pass-phrase-A", a_read, 3), _start(db_path, "B", "pass-phrase-B", b_read, 3)]
    outputs = [w.communicate(timeout=180) for w in workers]
    for worker, (out, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, err
        assert out.strip().endswith("DONE")
        assert out.count("ACK ") == 3 * 50
    for read_id, (out, _) in zip((a_read, b_read), outputs, strict=True):
        last = {}
        for line in out.splitlines():
            if line.startswith("ACK "):
                _, key, code = line.split()
                last[key] = code
        assert _stored(db_path, read_id) == last
