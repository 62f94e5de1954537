"""The workstation's budgets: window shown ≤ 2 s after launch; ≤ 10 ms per linked slice step;
the next exam of the worklist open with no visible wait.

1. **Launch to worklist.** A fresh Python process (spawned here, timed from before the
   spawn) imports the GUI, opens the database, signs a reader in (the scrypt password
   check included; no human typing), builds the main window and reports once the worklist
   has been painted. Repeated; median, min and max.
2. **One slice step** in the linked STIR + T1 views of a 512 × 512 phantom (the T1 stack
   has another matrix, slice spacing and positions; the scored compartment outlined from
   the label map), render included: the step, then ``processEvents`` (both views repaint);
   also with an extra ``QWidget.grab()`` of both views (a second forced render, the
   conservative figure) and with the label overlay on. Compared
   with the obvious alternatives:
   * *resample*: resampling the whole T1 onto the STIR grid (SimpleITK, linear) so both
     views share one slice index — the load-time cost it adds (per exam), and
   * *ImageView*: two stock ``pyqtgraph.ImageView`` widgets fed a new slice per step with
     their default automatic levels and histogram.

   The step is also timed in each layout (side by side and stacked, fitted to the body,
   and zoomed to the unit), as a ratio against the layout of the previous release (side
   by side, whole field of view) in the same run.
3. **Open to first image** for an exam of ≥ 10 series (thigh and calf, two timepoints,
   DICOM and NIfTI, label maps): from ``open_read`` to the first slice drawn, *cold*
   (the previous release's path: the series load when the read opens) and *prefetched*
   (loaded in the background while the previous exam was being scored); the ratio
   prefetched / cold.

Run: QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_gui.py [--json] [--steps 200] [--launches 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the GUI and the core are imported late: the launch is what is timed
    from myoscore.app import Database, ReaderSession

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

HERE = Path(__file__).resolve().parent
LAUNCH_BUDGET_S = 2.0
STEP_BUDGET_MS = 10.0


def _reader(db: Database) -> ReaderSession:
    """The benchmark reader's session."""
    from myoscore.app import ReaderSession, sign_in

    session = sign_in(db, "reader", "pass-phrase")
    assert isinstance(session, ReaderSession)
    return session


def _make_big_exam_database(folder: Path, shape: tuple[int, int, int]) -> tuple[Path, int]:
    """Two exams of one subject, each with ≥ 10 series; returns the path and series per exam."""
    from myoscore.app import CoordinatorSession, open_database
    from myoscore.app.schemes import protocol
    from myoscore.domain import Role, Sequence
    from myoscore.phantom import write_phantom

    path = folder / "open.sqlite"
    db = open_database(str(path), create=True)
    coordinator = CoordinatorSession(db, "bench")
    coordinator.add_reader("reader", Role.READER, "pass-phrase")
    for label in ("baseline", "follow-up"):
        coordinator.add_exam("SUBJ-0001", label)
    coordinator.assign(protocol("nxp2_lower_limb"), ["reader"], seed=3)
    info = write_phantom(folder / "phantom", shape=shape, timepoints=("baseline", "followup"))
    count = 0
    for number, exam in enumerate(coordinator.exams()):
        count = 0
        for series in info.series:  # 2 timepoints × thigh, calf × STIR, T1 as DICOM
            coordinator.add_series(exam.id, f"{series.series_uid}.{number}", series.sequence,
                                   description=series.sequence.value, path=str(series.dicom_dir),
                                   files=sorted(str(p) for p in series.dicom_dir.glob("*.dcm")),
                                   shape=series.shape, spacing=series.spacing)
            count += 1
        for nifti in sorted((folder / "phantom" / "nifti" / "baseline").glob("*.nii.gz")):  # and as NIfTI
            kind = Sequence.STIR if "stir" in nifti.name else Sequence.T1
            coordinator.add_series(exam.id, f"nifti:{nifti.name}.{number}", kind, description=kind.value,
                                   path=str(nifti.parent), files=[str(nifti)])
            count += 1
        for region, labels in info.label_maps.items():
            coordinator.add_series(exam.id, f"labels:{region}.{number}", Sequence.LABEL_MAP, description="labels",
                                   path=str(labels.parent), files=[str(labels)])
            count += 1
    db.dispose()
    return path, count


def bench_open(database: Path, repeats: int) -> dict[str, list[float]]:
    """Open-to-first-image of the second exam, cold and prefetched (see the module docstring)."""
    from PySide6.QtWidgets import QApplication

    from myoscore.app import open_database
    from myoscore.gui.app import application
    from myoscore.gui.main_window import MainWindow
    from myoscore.gui.settings import ViewSettings

    app = application()
    db = open_database(str(database))
    window = MainWindow(_reader(db), ViewSettings(database.with_suffix(".ini")))
    window.resize(1600, 900)
    window.show()
    reads = [r.id for r in window.reader.worklist()]
    first, second = reads[0], reads[1]

    def open_and_draw(read_id: int) -> float:
        begin = time.perf_counter()
        window.open_read(read_id)
        deadline = time.perf_counter() + 300
        while window.images is None:
            if time.perf_counter() > deadline:
                raise SystemExit(f"bench_gui: read {read_id} showed no images within 300 s")
            app.processEvents()
            time.sleep(0.001)
        app.processEvents()  # the first slice of every view painted
        assert window.viewer.views
        assert window.viewer.views[0].current is not None
        return time.perf_counter() - begin

    cold, prefetched = [], []
    for _ in range(repeats):
        # Cold (the previous release's path): nothing loaded before the open.
        window.prefetch_enabled = False
        window.back_to_worklist()
        window.wait_for_images(300_000)
        window.image_cache.clear()
        cold.append(open_and_draw(second))
        window.wait_for_images(300_000)
        # Prefetched: the first exam is open (being scored) while the second loads behind it.
        window.back_to_worklist()
        window.image_cache.clear()
        window.prefetch_enabled = True
        window.open_read(first)
        window.wait_for_images(300_000)  # the first exam; its arrival starts the prefetch of the second
        second_series = window.reader.image_sources(second)  # as the window keys its cache
        deadline = time.perf_counter() + 300
        while window.image_cache.get(second_series) is None:  # the reader scores meanwhile
            if time.perf_counter() > deadline:
                raise SystemExit("bench_gui: the next exam was not prefetched within 300 s")
            app.processEvents()
            time.sleep(0.01)
        window.back_to_worklist()
        prefetched.append(open_and_draw(second))
        window.wait_for_images(300_000)
    window.close()
    window.deleteLater()
    QApplication.processEvents()
    db.dispose()
    return {"cold_s": cold, "prefetched_s": prefetched}


def _make_database(folder: Path, with_images: bool, shape: tuple[int, int, int]) -> Path:
    from myoscore.app import CoordinatorSession, open_database
    from myoscore.app.schemes import protocol
    from myoscore.domain import Role, Sequence

    path = folder / "bench.sqlite"
    db = open_database(str(path), create=True)
    coordinator = CoordinatorSession(db, "bench")
    coordinator.add_reader("reader", Role.READER, "pass-phrase")
    coordinator.add_reader("other", Role.READER, "pass-phrase")
    for label in ("baseline", "follow-up"):
        coordinator.add_exam("SUBJ-0001", label)
    coordinator.assign(protocol("nxp2_lower_limb"), ["reader", "other"], seed=3)
    if with_images:
        from myoscore.phantom import write_phantom

        info = write_phantom(folder / "phantom", shape=shape, timepoints=("baseline",), regions=("thigh",))
        for number, exam in enumerate(coordinator.exams()):
            for series in info.series:
                coordinator.add_series(exam.id, f"{series.series_uid}.{number}", series.sequence,
                                       description=series.sequence.value, path=str(series.dicom_dir),
                                       files=sorted(str(p) for p in series.dicom_dir.glob("*.dcm")),
                                       shape=series.shape, spacing=series.spacing)
            labels = info.label_maps["thigh"]
            coordinator.add_series(exam.id, f"labels.{number}", Sequence.LABEL_MAP, description="labels",
                                   path=str(labels.parent), files=[str(labels)])
    db.dispose()
    return path


# --------------------------------------------------------------------------------- launch
def _child_launch(database: str) -> int:
    """Runs in the spawned process: sign in, show the worklist, say so, leave at once."""
    from PySide6.QtTest import QTest

    from myoscore.app import open_database
    from myoscore.gui.app import application
    from myoscore.gui.main_window import MainWindow
    from myoscore.gui.settings import ViewSettings

    app = application()
    db = open_database(database)
    window = MainWindow(_reader(db), ViewSettings(Path(database).with_suffix(".ini")))
    window.show()
    QTest.qWaitForWindowExposed(window)
    app.processEvents()
    assert window.worklist.table.rowCount() == 2
    print("shown", flush=True)
    os._exit(0)  # the measurement is over; skip interpreter teardown


def bench_launch(database: Path, launches: int) -> list[float]:
    times = []
    for _ in range(launches):
        start = time.perf_counter()
        child = subprocess.Popen([sys.executable, __file__, "--child-launch", str(database)],
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert child.stdout is not None
        line = child.stdout.readline()
        elapsed = time.perf_counter() - start
        child.wait(timeout=30)
        if line.strip() != "shown":
            raise RuntimeError(f"the launched workstation did not report its window (exit {child.returncode})")
        times.append(elapsed)
    return times


# --------------------------------------------------------------------------- slice steps
def bench_steps(database: Path, steps: int) -> dict[str, Any]:
    import numpy as np
    import pyqtgraph as pg
    from PySide6.QtWidgets import QApplication, QHBoxLayout, QWidget

    from myoscore.app import open_database
    from myoscore.gui.app import application
    from myoscore.gui.main_window import MainWindow
    from myoscore.gui.settings import ViewSettings
    from myoscore.imaging import resample_like

    app = application()
    db = open_database(str(database))
    window = MainWindow(_reader(db), ViewSettings(database.with_suffix(".ini")))
    window.resize(1600, 900)
    window.show()
    read_id = window.worklist.current_read_id()
    assert read_id is not None
    start = time.perf_counter()
    window.open_read(read_id)
    window.wait_for_images(120_000)
    load_s = time.perf_counter() - start
    stir, t1 = window.viewer.views[:2]
    assert stir.loaded is not None
    assert t1.loaded is not None
    stir_volume, t1_volume = stir.loaded.volume, t1.loaded.volume
    n = stir_volume.shape[0]

    def step_and_render(delta: int, grab: bool) -> float:
        begin = time.perf_counter()
        window.step_slice(delta)
        app.processEvents()  # delivers the update: both views repaint (offscreen backing store)
        if grab:
            window.viewer.grab()  # a second, forced render of every pixel of both views
        return time.perf_counter() - begin

    def run_steps(count: int, grab: bool) -> list[float]:
        times, direction = [], 1
        for _ in range(count):
            assert stir.current is not None
            if not 0 <= stir.current.index + direction < n:
                direction = -direction
            times.append(step_and_render(direction, grab))
        return times

    run_steps(10, grab=True)  # warm-up
    assert stir.outline_item.isVisible(), "the scored compartment is outlined while stepping"
    viewer = window.viewer

    def in_layout(mode: str, view: str, count: int) -> list[float]:
        viewer.layout_mode = mode
        viewer._arrange()
        {"field of view": viewer.fit_field_of_view, "body": viewer.fit, "unit": viewer.zoom_to_unit}[view]()
        app.processEvents()
        run_steps(3, grab=False)
        return run_steps(count, grab=False)

    cases = {
        "previous: side by side, field of view": ("side by side", "field of view"),
        "side by side, fitted to the body": ("side by side", "body"),
        "stacked, fitted to the body": ("stacked", "body"),
        "stacked, zoomed to the unit": ("stacked", "unit"),
    }
    layouts: dict[str, list[float]] = {name: [] for name in cases}
    rounds = 6  # interleaved, so a burst of other work on the machine hits every layout alike
    for _ in range(rounds):
        for name, (mode, view) in cases.items():
            layouts[name] += in_layout(mode, view, max(10, steps // (2 * rounds)))
    arrangement = viewer.automatic_arrangement()
    viewer.layout_mode = "automatic"
    viewer._arrange()
    viewer.fit()
    app.processEvents()
    ours = run_steps(steps, grab=False)
    ours_grab = run_steps(steps, grab=True)
    window.toggle_overlay()
    with_overlay = run_steps(max(20, steps // 2), grab=False)
    window.toggle_overlay()

    # Alternative 1: resample the T1 onto the STIR grid once (both then share slice indices).
    begin = time.perf_counter()
    resampled = resample_like(t1_volume, stir_volume, "linear")
    resample_s = time.perf_counter() - begin
    del resampled

    # Alternative 2: two stock ImageViews, a new slice each per step, default auto levels.
    host = QWidget()
    layout = QHBoxLayout(host)
    views = [pg.ImageView(), pg.ImageView()]
    for view in views:
        layout.addWidget(view)
    host.resize(1200, 800)
    host.show()
    volumes = [np.asarray(stir_volume.voxels), np.asarray(t1_volume.voxels)]
    link = window.viewer.link
    assert link is not None

    def imageview_step(k: int) -> float:
        begin = time.perf_counter()
        link.focus = stir_volume.index_to_patient((0.0, 0.0, float(k)))
        views[0].setImage(volumes[0][k].T)
        views[1].setImage(volumes[1][link.slice_of(1).index].T)
        app.processEvents()
        return time.perf_counter() - begin

    for k in range(3):
        imageview_step(k)
    alternative = [imageview_step(i % n) for i in range(min(steps, 100))]
    host.close()
    window.close()
    window.deleteLater()
    host.deleteLater()
    QApplication.processEvents()
    db.dispose()
    return {
        "stir_shape": list(stir_volume.shape),
        "t1_shape": list(t1_volume.shape),
        "load_s": load_s,
        "ours_ms": [t * 1000 for t in ours],
        "ours_grab_ms": [t * 1000 for t in ours_grab],
        "overlay_ms": [t * 1000 for t in with_overlay],
        "imageview_ms": [t * 1000 for t in alternative],
        "resample_t1_s": resample_s,
        "layouts_ms": {name: [t * 1000 for t in times] for name, times in layouts.items()},
        "automatic_arrangement": arrangement,
    }


def _summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"median": statistics.median(ordered), "min": ordered[0], "max": ordered[-1],
            "p95": ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--launches", type=int, default=5)
    parser.add_argument("--slices", type=int, default=24, help="STIR slices of the 512 × 512 phantom")
    parser.add_argument("--open-repeats", type=int, default=3, help="cold and prefetched opens of the big exam")
    parser.add_argument("--open-shape", type=int, nargs=3, default=(24, 320, 320), metavar=("Z", "Y", "X"),
                        help="STIR shape of each series of the ≥ 10-series exam")
    parser.add_argument("--child-launch", metavar="DB", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_launch:
        return _child_launch(args.child_launch)

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "launch").mkdir()
        launch_db = _make_database(folder / "launch", with_images=False, shape=(2, 32, 32))
        launch = bench_launch(launch_db, args.launches)
        (folder / "steps").mkdir()
        steps_db = _make_database(folder / "steps", with_images=True, shape=(args.slices, 512, 512))
        steps = bench_steps(steps_db, args.steps)
        (folder / "open").mkdir()
        open_db, series_count = _make_big_exam_database(folder / "open", tuple(args.open_shape))
        opened = bench_open(open_db, args.open_repeats)

    result: dict[str, Any] = {
        "benchmark": "gui",
        "launch_to_worklist_s": _summary(launch),
        "launch_budget_s": LAUNCH_BUDGET_S,
        "slice_step_ms": _summary(steps["ours_ms"]),
        "slice_step_budget_ms": STEP_BUDGET_MS,
        "slice_step_plus_grab_ms": _summary(steps["ours_grab_ms"]),
        "slice_step_with_label_overlay_ms": _summary(steps["overlay_ms"]),
        "alternative_imageview_step_ms": _summary(steps["imageview_ms"]),
        "alternative_resample_t1_onto_stir_s": steps["resample_t1_s"],
        "series_load_s": steps["load_s"],
        "stir_shape": steps["stir_shape"],
        "t1_shape": steps["t1_shape"],
        "slice_step_by_layout_ms": {name: _summary(times) for name, times in steps["layouts_ms"].items()},
        "automatic_layout_in_1600x900": steps["automatic_arrangement"],
        "open_exam_series": series_count,
        "open_to_first_image_cold_s": _summary(opened["cold_s"]),
        "open_to_first_image_prefetched_s": _summary(opened["prefetched_s"]),
        "cpus": os.cpu_count(),
    }
    previous = result["slice_step_by_layout_ms"]["previous: side by side, field of view"]["median"]
    result["slice_step_layout_ratio"] = {name: summary["median"] / previous
                                         for name, summary in result["slice_step_by_layout_ms"].items()}
    result["open_prefetched_over_cold"] = (result["open_to_first_image_prefetched_s"]["median"]
                                           / result["open_to_first_image_cold_s"]["median"])
    if args.json:
        print(json.dumps(result))
        return 0
    launch_s, step_ms, alt_ms = result["launch_to_worklist_s"], result["slice_step_ms"], \
        result["alternative_imageview_step_ms"]
    print(f"launch → worklist shown   median {launch_s['median']:.2f} s (min {launch_s['min']:.2f}, "
          f"max {launch_s['max']:.2f}; {args.launches} launches)   budget ≤ {LAUNCH_BUDGET_S:.0f} s")
    print(f"linked slice step         median {step_ms['median']:.1f} ms (p95 {step_ms['p95']:.1f}, "
          f"max {step_ms['max']:.1f}; {args.steps} steps; STIR {steps['stir_shape']}, T1 {steps['t1_shape']})"
          f"   budget ≤ {STEP_BUDGET_MS:.0f} ms")
    grab_ms = result["slice_step_plus_grab_ms"]
    print(f"  + grab() of both views (second render)  median {grab_ms['median']:.1f} ms (p95 {grab_ms['p95']:.1f})")
    overlay_ms = result["slice_step_with_label_overlay_ms"]
    print(f"  with the muscle label overlay on        median {overlay_ms['median']:.1f} ms "
          f"(p95 {overlay_ms['p95']:.1f})")
    print(f"  alternative: 2 × ImageView, auto levels   median {alt_ms['median']:.1f} ms (p95 {alt_ms['p95']:.1f})")
    print(f"  alternative: resample T1 onto STIR grid   {steps['resample_t1_s']:.2f} s per exam, before the "
          "first step")
    print(f"exam load (both series, off the GUI thread) {steps['load_s']:.2f} s")
    print(f"slice step by layout (automatic picks {result['automatic_layout_in_1600x900']} in 1600 × 900):")
    for name, summary in result["slice_step_by_layout_ms"].items():
        print(f"  {name:42s} median {summary['median']:.1f} ms (p95 {summary['p95']:.1f})   "
              f"× {result['slice_step_layout_ratio'][name]:.2f} of the previous layout")
    cold, warm = result["open_to_first_image_cold_s"], result["open_to_first_image_prefetched_s"]
    print(f"open → first image, exam of {series_count} series   cold median {cold['median']:.2f} s, "
          f"prefetched median {warm['median'] * 1000:.1f} ms   ratio {result['open_prefetched_over_cold']:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
