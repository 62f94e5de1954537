"""Import of a whole study folder (issue 14): what the duplicate check costs.

On the folder ``myoscore demo --out DIR`` writes (thigh-and-calf and whole-body phantoms:
32 DICOM series in 504 files, their 32 NIfTI conversions, 16 label maps), interleaved:

(a) ``index_paths`` alone: the header-only indexing the import starts with;
(b) ``import_paths(dry_run=True)``: the plan (indexing, grids, the duplicate check);
(c) ``import_paths`` into a fresh study: plan and writing (exams, series, regions);
(d) the same for the DICOM folders only (no duplicates; baseline and follow-up share every
    grid, so the middle-plane probe is what tells them apart);
(e) dcm2niix converting the DICOM folders (the indexing budget's reference).

Wall and CPU seconds (this process and its children); best of ``--repeats``.
Run ``python benchmarks/bench_import.py`` (``--json`` for one line of JSON).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def _cpu() -> float:
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _timed(function: Callable[[], Any]) -> tuple[float, float]:
    cpu, start = _cpu(), time.perf_counter()
    function()
    return time.perf_counter() - start, _cpu() - cpu


def run(repeats: int, workdir: Path | None) -> dict[str, Any]:
    import dcm2niix

    from myoscore.app import CoordinatorSession, open_database
    from myoscore.app.demo import write_demo_images
    from myoscore.app.imports import import_paths
    from myoscore.imaging import index_paths

    root = Path(workdir or tempfile.mkdtemp(prefix="myoscore-bench-import-"))
    demo = root / "demo"
    if not (demo / "whole_body" / "ground_truth.json").exists():
        write_demo_images(demo)
    dicom = [demo / "dicom", demo / "whole_body" / "dicom"]
    binary = shutil.which("dcm2niix") or dcm2niix.bin
    counter = iter(range(10**6))

    def fresh() -> CoordinatorSession:
        db = open_database(str(root / f"study-{next(counter)}.sqlite"), create=True)
        return CoordinatorSession(db, "bench")

    def convert() -> None:
        import subprocess

        out = root / "dcm2niix"
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir()
        for folder in dicom:
            subprocess.run([binary, "-z", "n", "-b", "n", "-o", str(out), str(folder)], check=True,
                           capture_output=True, timeout=600)

    cases: dict[str, Callable[[], Any]] = {
        "index_all": lambda: index_paths([demo]),
        "dry_run_all": lambda: import_paths(fresh(), [demo], dry_run=True),
        "import_all": lambda: import_paths(fresh(), [demo]),
        "import_dicom": lambda: import_paths(fresh(), dicom),
        "dcm2niix_dicom": convert,
    }
    import_paths(fresh(), [demo / "labels"], dry_run=True)  # warm the imports
    wall: dict[str, list[float]] = {name: [] for name in cases}
    cpu: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(repeats):
        for name, case in cases.items():
            seconds, cpu_seconds = _timed(case)
            wall[name].append(seconds)
            cpu[name].append(cpu_seconds)
    best = {name: round(min(values), 2) for name, values in wall.items()}
    best_cpu = {name: round(min(values), 2) for name, values in cpu.items()}
    return {
        "files": {"all": index_paths([demo]).n_files, "dicom": index_paths(dicom).n_files},
        "wall_s": best,
        "cpu_s": best_cpu,
        "import_all_vs_index_all_cpu": round(best_cpu["import_all"] / best_cpu["index_all"], 2),
        "import_dicom_vs_dcm2niix_cpu": round(best_cpu["import_dicom"] / best_cpu["dcm2niix_dicom"], 2),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=None, help="keep the demo folder here")
    args = parser.parse_args(argv)
    results = run(args.repeats, args.workdir)
    print(json.dumps(results) if args.json else json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
