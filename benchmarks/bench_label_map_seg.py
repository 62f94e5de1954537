"""Label maps as DICOM SEG: what converting them adds to sending an exam, and what reading
them back adds to opening it at a site without the files (docs/multisite.md).

The whole-body phantom (six stations, STIR and T1, one label map per station on its STIR
grid, ~120 labels) is imported with its label maps; ``send_exams`` sends it to a throwaway
Orthanc on loopback (as in the tests). Reported: the time to build the six SEGs alone
(``app.label_map_seg.exam_segmentations``, no network) against the whole send (images +
SEGs), their sizes, and the exam open at a second site (cold cache, label maps from the
SEGs) against the same open without label maps. Median of ``--repeat`` runs.

Run ``python benchmarks/bench_label_map_seg.py`` (``--json``, ``--quick``).
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
from myoscore.app.label_map_seg import exam_segmentations
from myoscore.app.remote_images import RemoteImages, configure_image_server, send_exams
from myoscore.domain import ImageServerSettings, Sequence
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
    work = Path(tempfile.mkdtemp(prefix="myoscore-bench-seg-"))
    try:
        pixel, slices = (5.0, 8) if args.quick else (2.0, 40)
        info = write_whole_body_phantom(work / "wb", pixel_mm=pixel, slices=slices, timepoints=("baseline",))
        db = open_database(str(work / "study.sqlite"), create=True)
        coordinator = CoordinatorSession(db, "bench")
        import_paths(coordinator, [info.out_dir / "dicom" / "baseline"], link_identity=False)
        exam = coordinator.exams()[0]
        import_paths(coordinator, sorted((info.out_dir / "labels").glob("*.nii.gz")), exam_id=exam.id,
                     link_identity=False)
        series = coordinator.series(exam.id)
        images = [s for s in series if s.kind is not Sequence.LABEL_MAP]
        image_bytes = sum(Path(f).stat().st_size for s in images for f in s.files)
        label_bytes = sum(Path(f).stat().st_size for s in series if s.kind is Sequence.LABEL_MAP for f in s.files)
        builds, sizes, n_built = [], 0, 0
        for _ in range(args.repeat):
            started = time.perf_counter()
            built, problems = exam_segmentations(series, exam.subject_code)
            builds.append(time.perf_counter() - started)
            assert not problems, problems
            sizes, n_built = sum(len(b) for b in built), len(built)
        with running_orthanc() as orthanc:
            configure_image_server(coordinator, ImageServerSettings("study", orthanc.dicomweb, username=USER,
                                                                    password_env="BENCH_ORTHANC_PASSWORD"))
            os.environ["BENCH_ORTHANC_PASSWORD"] = PASSWORD
            started = time.perf_counter()
            sent = send_exams(coordinator, [exam.id])
            send_s = time.perf_counter() - started
            assert sent.segmentations == n_built, sent
            assert not sent.problems, sent.problems
            server = DicomServer("study", orthanc.dicomweb, username=USER, password=PASSWORD)
            gone = [replace(s, files=()) for s in series]  # this site has no import folder
            without_maps = [s for s in gone if s.kind is not Sequence.LABEL_MAP]
            cold, cold_no_maps = [], []
            for run in range(args.repeat):
                remote = RemoteImages(server, ImageCache(work / f"cache-{run}", 10 * 1024**3))
                cold.append(_timed(lambda r=remote: load_exam_images(gone, remote=r)))
                bare = RemoteImages(server, ImageCache(work / f"cache-bare-{run}", 10 * 1024**3))
                cold_no_maps.append(_timed(lambda r=bare: load_exam_images(without_maps, remote=r)))
        db.dispose()
        build_s = statistics.median(builds)
        result = {
            "benchmark": "label maps as DICOM SEG, whole-body phantom",
            "image_series": len(images), "label_maps": n_built,
            "image_megabytes": round(image_bytes / 1e6, 1),
            "label_map_nifti_megabytes": round(label_bytes / 1e6, 2),
            "seg_megabytes": round(sizes / 1e6, 2),
            "seg_build_s": round(build_s, 2),
            "send_with_segs_s": round(send_s, 2),
            "seg_build_share_of_send": round(build_s / send_s, 2),
            "open_cold_with_label_maps_s": round(statistics.median(cold), 3),
            "open_cold_without_label_maps_s": round(statistics.median(cold_no_maps), 3),
            "label_maps_over_no_label_maps": round(statistics.median(cold) / statistics.median(cold_no_maps), 2),
        }
        if args.json:
            print(json.dumps(result))
        else:
            for key, value in result.items():
                print(f"{key:32} {value}")
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
