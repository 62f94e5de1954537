"""Benchmark: Cohen's kappa (unweighted, linear, quadratic) over 100 000 paired ratings.

Budget (DESIGN.md, issue 4): at most 100 ms, and no slower than statsmodels on the same data
in the same run. statsmodels is timed along its whole path, building its confusion table
with ``to_table`` every time, as myoscore builds its own table on every call.

Run: ``.venv/bin/python benchmarks/bench_agreement.py [--json] [--n N] [--repeats R]``.
Exits 1 when a budget is missed, so it can gate a CI job.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, Literal

import numpy as np

from myoscore.agreement import cohen_kappa

BUDGET_MS = 100.0
WEIGHTS: tuple[Literal["linear", "quadratic"] | None, ...] = (None, "linear", "quadratic")
SCALE = range(6)  # edema 0-5


def _ratings(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two readers on the 0-5 scale, each within one grade of a common true grade."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 6, n)
    r1 = np.clip(truth + rng.integers(-1, 2, n), 0, 5)
    r2 = np.clip(truth + rng.integers(-1, 2, n), 0, 5)
    return r1, r2


def _median_ms(fn: Callable[[], Any], repeats: int) -> float:
    fn()  # warm-up: imports, scipy distribution objects, caches
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def run(n: int, repeats: int, seed: int) -> dict[str, Any]:
    """Time myoscore and statsmodels on the same ratings; return the figures."""
    from statsmodels.stats.inter_rater import cohens_kappa, to_table

    r1, r2 = _ratings(n, seed)
    # The store hands over level codes as strings with "NE" for not evaluable: time that too.
    codes1 = [str(v) for v in r1.tolist()]
    codes2 = [str(v) for v in r2.tolist()]
    codes1[::50] = ["NE"] * len(codes1[::50])
    bins = np.arange(7) - 0.5

    def statsmodels_path(wt: str | None) -> float:
        table = to_table(np.column_stack([r1, r2]), bins=bins)[0]
        return float(cohens_kappa(table, wt=wt, return_results=False))

    rows: list[dict[str, Any]] = []
    for wt in WEIGHTS:
        ours = cohen_kappa(r1, r2, categories=SCALE, weights=wt).kappa
        theirs = statsmodels_path(wt)
        if abs(ours - theirs) > 1e-12:
            raise AssertionError(f"weights={wt}: myoscore {ours} != statsmodels {theirs}")
        rows.append(
            {
                "weights": wt or "none",
                "kappa": ours,
                "myoscore_ms": _median_ms(partial(cohen_kappa, r1, r2, categories=SCALE, weights=wt), repeats),
                "myoscore_codes_ms": _median_ms(
                    partial(cohen_kappa, codes1, codes2, categories=[str(c) for c in SCALE], weights=wt), repeats
                ),
                "statsmodels_ms": _median_ms(partial(statsmodels_path, wt), repeats),
            }
        )
    for row in rows:
        row["ratio"] = row["myoscore_ms"] / row["statsmodels_ms"]
    total_ours = sum(r["myoscore_ms"] for r in rows)
    total_codes = sum(r["myoscore_codes_ms"] for r in rows)
    total_sm = sum(r["statsmodels_ms"] for r in rows)
    return {
        "benchmark": "agreement.cohen_kappa",
        "n_pairs": n,
        "repeats": repeats,
        "seed": seed,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "rows": rows,
        "total_myoscore_ms": total_ours,
        "total_myoscore_codes_ms": total_codes,
        "total_statsmodels_ms": total_sm,
        "ratio": total_ours / total_sm,
        "budget_ms": BUDGET_MS,
        "within_budget": total_ours <= BUDGET_MS
        and total_codes <= BUDGET_MS
        and total_ours <= total_sm,
    }


def _print_table(result: dict[str, Any]) -> None:
    print(f"Cohen's kappa over {result['n_pairs']:,} paired ratings (0-5), median of "
          f"{result['repeats']} runs")  # fmt: skip
    print(f"{'weights':<10}{'myoscore':>12}{'codes+NE':>12}{'statsmodels':>14}{'ratio':>8}")
    for row in result["rows"]:
        print(
            f"{row['weights']:<10}{row['myoscore_ms']:>9.2f} ms{row['myoscore_codes_ms']:>9.2f} ms"
            f"{row['statsmodels_ms']:>11.2f} ms{row['ratio']:>8.2f}"
        )
    print(
        f"{'all three':<10}{result['total_myoscore_ms']:>9.2f} ms"
        f"{result['total_myoscore_codes_ms']:>9.2f} ms{result['total_statsmodels_ms']:>11.2f} ms"
        f"{result['ratio']:>8.2f}"
    )
    verdict = "within" if result["within_budget"] else "OVER"
    print(f"budget: <= {result['budget_ms']:.0f} ms and no slower than statsmodels: {verdict}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; print a table (or JSON); return 1 if a budget is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--n", type=int, default=100_000, help="paired ratings (100 000)")
    parser.add_argument("--repeats", type=int, default=15, help="timed runs per case (15)")
    parser.add_argument("--seed", type=int, default=20240604, help="seed of the ratings")
    args = parser.parse_args(argv)
    result = run(args.n, args.repeats, args.seed)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        _print_table(result)
    return 0 if result["within_budget"] else 1


if __name__ == "__main__":
    sys.exit(main())
