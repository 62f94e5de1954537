"""Exam open time for a whole-body exam: from the study's DICOM server with a cold cache,
from the workstation's cache, and from the local import folder (DESIGN.md: a multi-site
study fetches series by UID into a bounded cache).

A throwaway Orthanc (Debian's ``orthanc`` + ``orthanc-dicomweb``, as in the tests) runs on
loopback; the whole-body phantom (six stations, STIR and T1: 12 series) is imported,
sent pseudonymised, then opened with ``app.exam_images.load_exam_images`` exactly as the
reading window does. Loopback has no network latency: a remote site adds its round trips
and bandwidth to the cold figure only. Median of ``--repeat`` runs.

Run ``python benchmarks/bench_multisite.py`` (``--json`` for machine-readable output,
``--quick`` for a small smoke run).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

# The test suite's Orthanc harness (tests/integration/orthanc_server.py), imported from the repository root.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from myoscore.app import CoordinatorSession, open_database
from myoscore.app.exam_images import load_exam_images
from myoscore.app.imports import import_paths
from myoscore.app.remote_images import RemoteImages, configure_image_server, send_exams
from myoscore.domain import ImageServerSettings
from myoscore.imaging.dicom_server import DicomServer
from myoscore.imaging.image_cache import ImageCache
from myoscore.phantom.whole_body import write_whole_body_phantom
from tests.integration.orthanc_server import PASSWORD, USER, running_orthanc


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="myoscore-bench-multisite-"))
    try:
        pixel, slices = (5.0, 8) if args.quick else (2.0, 40)
        info = write_whole_body_phantom(work / "wb", pixel_mm=pixel, slices=slices, timepoints=("baseline",),
                                        nifti=False)
        db = open_database(str(work / "study.sqlite"), create=True)
        coordinator = CoordinatorSession(db, "bench")
        folder = next(p for p in (info.out_dir / "dicom", info.out_dir) if p.exists())
        import_paths(coordinator, [folder])
        exam = coordinator.exams()[0]
        series = coordinator.series(exam.id)
        n_files = sum(len(s.files) for s in series)
        n_bytes = sum(Path(f).stat().st_size for s in series for f in s.files)
        local = [_timed(lambda: load_exam_images(series)) for _ in range(args.repeat)]
        with running_orthanc() as orthanc:
            configure_image_server(coordinator, ImageServerSettings("study", orthanc.dicomweb, username=USER,
                                                                    password_env="BENCH_ORTHANC_PASSWORD"))
            os.environ["BENCH_ORTHANC_PASSWORD"] = PASSWORD
            started = time.perf_counter()
            send_exams(coordinator, [exam.id])
            send_s = time.perf_counter() - started
            server = DicomServer("study", orthanc.dicomweb, username=USER, password=PASSWORD)
            cold, warm = [], []
            for run in range(args.repeat):
                cache = ImageCache(work / f"cache-{run}", 10 * 1024**3)
                remote = RemoteImages(server, cache)
                gone = [replace(s, files=()) for s in series]  # this site has no import folder
                cold.append(_timed(lambda r=remote, g=gone: load_exam_images(g, remote=r)))
                warm.append(_timed(lambda r=remote, g=gone: load_exam_images(g, remote=r)))
        db.dispose()
        result = {
            "benchmark": "exam open, whole-body phantom",
            "series": len(series), "files": n_files, "megabytes": round(n_bytes / 1e6, 1),
            "send_pseudonymised_s": round(send_s, 2),
            "open_local_folder_s": round(statistics.median(local), 3),
            "open_server_cold_cache_s": round(statistics.median(cold), 3),
            "open_from_cache_s": round(statistics.median(warm), 3),
            "cold_over_cache": round(statistics.median(cold) / statistics.median(warm), 2),
            "cache_over_local": round(statistics.median(warm) / statistics.median(local), 2),
        }
        if args.json:
            print(json.dumps(result))
        else:
            for key, value in result.items():
                print(f"{key:28} {value}")
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _timed(call: object) -> float:
    started = time.perf_counter()
    images = call()  # type: ignore[operator]
    assert not images.problems, images.problems
    return time.perf_counter() - started


if __name__ == "__main__":
    sys.exit(main())
