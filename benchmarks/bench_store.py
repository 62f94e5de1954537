"""Persisting one rating, durably: myoscore's ReaderSession.rate versus a bare sqlite3 commit.

Budget (DESIGN.md): ≤ 5 ms median, durable when the call returns. The alternative is the
least any durable store must do: one INSERT OR REPLACE committed with the same pragmas
(WAL, synchronous=FULL). The ratio says what blinding checks, validation and the audit
event cost on top of the disk's fsync.

Run: .venv/bin/python benchmarks/bench_store.py [--json] [--n 400]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from myoscore.app import CoordinatorSession, ReaderSession, open_database, sign_in
from myoscore.app.schemes import protocol
from myoscore.domain import Role


def bench_myoscore(folder: Path, n: int) -> list[float]:
    db = open_database(str(folder / "bench.sqlite"), create=True)
    coordinator = CoordinatorSession(db, "bench")
    coordinator.add_reader("A", Role.READER, "pass-phrase")
    coordinator.add_exam("S01")
    nxp2 = protocol("nxp2_lower_limb")
    coordinator.assign(nxp2, ["A"], seed=1)
    reader = sign_in(db, "A", "pass-phrase")
    assert isinstance(reader, ReaderSession)
    read = reader.worklist()[0].id
    keys = [k for k in nxp2.item_keys if k.startswith("edema.")]
    times = []
    for i in range(n):
        start = time.perf_counter()
        reader.rate(read, keys[i % len(keys)], str(i % 6))
        times.append(time.perf_counter() - start)
    db.dispose()
    return times


def bench_sqlite(folder: Path, n: int) -> list[float]:
    con = sqlite3.connect(folder / "raw.sqlite", isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=FULL")
    con.execute("CREATE TABLE ratings (read_id INTEGER, item_key TEXT, code TEXT, value REAL, "
                "PRIMARY KEY (read_id, item_key))")
    times = []
    for i in range(n):
        start = time.perf_counter()
        con.execute("BEGIN IMMEDIATE")
        con.execute("INSERT OR REPLACE INTO ratings VALUES (1, ?, ?, ?)", (f"k{i % 12}", str(i % 6), i % 6))
        con.execute("COMMIT")
        times.append(time.perf_counter() - start)
    con.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=400)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ours = bench_myoscore(Path(tmp), args.n)
        raw = bench_sqlite(Path(tmp), args.n)
    result = {
        "benchmark": "persist one rating (durable)",
        "n": args.n,
        "myoscore_median_ms": statistics.median(ours) * 1e3,
        "myoscore_p95_ms": statistics.quantiles(ours, n=20)[-1] * 1e3,
        "sqlite3_median_ms": statistics.median(raw) * 1e3,
        "ratio_vs_sqlite3": statistics.median(ours) / statistics.median(raw),
        "budget_ms": 5.0,
    }
    result["within_budget"] = result["myoscore_median_ms"] <= result["budget_ms"]
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>22}: {value:.3f}" if isinstance(value, float) else f"{key:>22}: {value}")


if __name__ == "__main__":
    main()
