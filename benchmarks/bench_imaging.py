"""Imaging benchmarks (DESIGN.md budgets), measured on the synthetic phantom.

(a) Loading a 512 × 512 × 60 series: ``load_series`` against SimpleITK's
    ``ImageSeriesReader`` on the same files, in one run, as a ratio (budget ≤ 1).
    Two pairs are timed: from an indexed record vs. the reader given sorted file
    names (what the workstation does after import), and from the bare folder
    (index + load) vs. ``GetGDCMSeriesFileNames`` + read.
(b) Indexing a folder of 3 000 DICOM files: files per second.
(c) Peak memory while loading (tracemalloc) against the raw voxel bytes.

Run ``python benchmarks/bench_imaging.py`` (add ``--json`` for machine-readable
output, ``--quick`` for a small smoke run).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from myoscore.domain import Sequence as Kind
from myoscore.imaging import index_paths, load_series
from myoscore.phantom import write_phantom


def _timed(function: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def bench_loading(workdir: Path, size: int, slices: int, repeats: int) -> dict[str, Any]:
    """(a) and (c): one STIR series of ``slices`` × ``size`` × ``size``."""
    import SimpleITK

    info = write_phantom(
        workdir / "load", shape=(slices, size, size), timepoints=("baseline",),
        regions=("thigh",), sequences=(Kind.STIR,), nifti=False,
    )
    folder = info.series[0].dicom_dir
    record = index_paths(folder).series[0]
    names = [str(p) for p in record.paths]

    def sitk_from_names() -> Any:
        reader = SimpleITK.ImageSeriesReader()
        reader.SetFileNames(names)
        return reader.Execute()

    def sitk_from_folder() -> Any:
        reader = SimpleITK.ImageSeriesReader()
        reader.SetFileNames(SimpleITK.ImageSeriesReader.GetGDCMSeriesFileNames(str(folder)))
        return reader.Execute()

    candidates: dict[str, Callable[[], Any]] = {
        "ours_record": lambda: load_series(record),
        "sitk_names": sitk_from_names,
        "ours_folder": lambda: load_series(folder),
        "sitk_folder": sitk_from_folder,
    }
    # Warm the page cache and both libraries, then interleave the repeats so that
    # neither side profits from running second.
    for function in candidates.values():
        function()
    times: dict[str, list[float]] = {name: [] for name in candidates}
    for _ in range(repeats):
        for name, function in candidates.items():
            elapsed, _ = _timed(function)
            times[name].append(elapsed)

    ours = load_series(record)
    theirs = SimpleITK.GetArrayFromImage(sitk_from_names())
    identical = bool(np.array_equal(ours.voxels, theirs))

    tracemalloc.start()
    volume = load_series(record)
    _, peak_record = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    tracemalloc.start()
    load_series(folder)
    _, peak_folder = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    median = {name: statistics.median(values) * 1000 for name, values in times.items()}
    return {
        "series": f"{slices}x{size}x{size} {volume.voxels.dtype}",
        "files": len(names),
        "repeats": repeats,
        "median_ms": {name: round(value, 1) for name, value in median.items()},
        "min_ms": {name: round(min(values) * 1000, 1) for name, values in times.items()},
        "ratio_record_vs_sitk": round(median["ours_record"] / median["sitk_names"], 3),
        "ratio_folder_vs_sitk": round(median["ours_folder"] / median["sitk_folder"], 3),
        "identical_to_sitk": identical,
        "voxel_bytes": int(volume.voxels.nbytes),
        "peak_bytes_record": int(peak_record),
        "peak_bytes_folder": int(peak_folder),
        "memory_ratio_record": round(peak_record / volume.voxels.nbytes, 3),
        "memory_ratio_folder": round(peak_folder / volume.voxels.nbytes, 3),
    }


def _make_folder(root: Path, n_files: int, size: int) -> int:
    """Write phantoms (different seeds) until ``n_files`` DICOM files exist; trim extras.

    Only DICOM goes under ``root``: each phantom's JSON files are written beside it.
    """
    seed = 0
    written: list[Path] = []
    while len(written) < n_files:
        info = write_phantom(root.parent / "index-phantoms" / f"subject{seed:02d}",
                             shape=(60, size, size), seed=seed, nifti=False)
        target = root / f"subject{seed:02d}"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(info.out_dir / "dicom", target)
        for series in info.series:
            written.extend(sorted((target / series.dicom_dir.relative_to(
                info.out_dir / "dicom")).glob("*.dcm")))
        seed += 1
    # Drop the surplus from the end of the list: whole series of the last subject and
    # the highest-numbered (distal) files of one more, so every series stays contiguous.
    for path in sorted(written[n_files:], reverse=True):
        path.unlink()
    return n_files


def bench_indexing(workdir: Path, n_files: int, size: int, repeats: int) -> dict[str, Any]:
    """(b): header-only indexing of a folder of ``n_files`` DICOM files."""
    folder = workdir / "index"
    count = _make_folder(folder, n_files, size)
    runs = []
    result = None
    for _ in range(repeats):
        elapsed, result = _timed(lambda: index_paths(folder))
        runs.append(elapsed)
    if result is None or result.n_files != count or result.skipped:
        raise RuntimeError(f"indexing benchmark folder is not clean: {result}")
    best = min(runs)
    return {
        "files": count,
        "series": len(result.series),
        "seconds": [round(r, 3) for r in runs],
        "files_per_second_best": round(count / best),
        "files_per_second_median": round(count / statistics.median(runs)),
    }


def run(
    size: int = 512, slices: int = 60, n_files: int = 3000, repeats: int = 5,
    workdir: Path | None = None,
) -> dict[str, Any]:
    """Run all three benchmarks and return their figures."""
    temporary = workdir is None
    root = Path(tempfile.mkdtemp(prefix="myoscore-bench-")) if workdir is None else workdir
    try:
        loading = bench_loading(root, size, slices, repeats)
        indexing = bench_indexing(root, n_files, 64, max(2, repeats // 2))
    finally:
        if temporary:
            shutil.rmtree(root, ignore_errors=True)
    return {"loading": loading, "indexing": indexing}


def _report(results: dict[str, Any]) -> str:
    load = results["loading"]
    index = results["indexing"]
    ms = load["median_ms"]
    return "\n".join(
        [
            f"(a) load {load['series']} ({load['files']} files), median of {load['repeats']}:",
            f"    from index record  {ms['ours_record']:8.1f} ms   SimpleITK (sorted names) "
            f"{ms['sitk_names']:8.1f} ms   ratio {load['ratio_record_vs_sitk']:.2f}",
            f"    from folder        {ms['ours_folder']:8.1f} ms   SimpleITK (GDCM sort)    "
            f"{ms['sitk_folder']:8.1f} ms   ratio {load['ratio_folder_vs_sitk']:.2f}",
            f"    voxels identical to SimpleITK: {load['identical_to_sitk']}",
            f"(b) index {index['files']} files ({index['series']} series): "
            f"{index['files_per_second_best']} files/s best, "
            f"{index['files_per_second_median']} files/s median",
            f"(c) peak memory while loading: {load['peak_bytes_record'] / 2**20:.1f} MiB for "
            f"{load['voxel_bytes'] / 2**20:.1f} MiB of voxels = "
            f"{load['memory_ratio_record']:.2f}× (from folder {load['memory_ratio_folder']:.2f}×)",
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--quick", action="store_true",
                        help="small sizes (128×128×20, 300 files): a smoke test, not the budget")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--workdir", type=Path, default=None,
                        help="keep the generated files here (default: a temporary folder)")
    args = parser.parse_args(argv)
    if args.quick:
        results = run(size=128, slices=20, n_files=300, repeats=2, workdir=args.workdir)
    else:
        results = run(repeats=args.repeats, workdir=args.workdir)
    # One line of JSON: benchmarks/run_all.py reads each output line as a document.
    print(json.dumps(results) if args.json else _report(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
