"""Render the workstation's main screens with the phantom into docs/screenshots/.

    QT_QPA_PLATFORM=offscreen .venv/bin/python docs/make_screenshots.py [--out DIR]

A throw-away database gets two readers and two exams of one synthetic subject (the
phantom's baseline images on both), reader "radiologist" scores part of one read and
submits the other; the script then grabs (``QWidget.grab``, no display needed):

* ``worklist.png`` — the reader's worklist;
* ``reading.png`` — linked STIR + T1 views (the automatic layout for the window's shape),
  fitted to the body, the scored compartment outlined and the scoring panel mid-read,
  with the scale card;
* ``fit-to-body.png`` — side by side, after F: the thighs fill most of each view;
* ``side-zoom.png`` — side zoom (Shift+S) on a right-side item: the right thigh fills the view;
* ``overlay.png`` — the label-map overlay (O) with its legend and the muscle under the mouse;
* ``help.png`` — the keyboard help overlay over the read;
* ``locked.png`` — a submitted read, opened read-only.

Then, on a second throw-away study (three synthetic subjects, baseline and follow-up,
imported from DICOM through the import use case; two readers have submitted every exam),
the coordinator's desk:

* ``coordinator-setup.png`` — exams and series, one classification overridden;
* ``coordinator-import.png`` — the import summary with the files skipped and why;
* ``coordinator-readers.png`` — readers, assignment by selection (two exams, two readers, the seed), the
  assignments made, repeat reads;
* ``coordinator-progress.png`` — every read with status and counts;
* ``coordinator-agreement.png`` — the per-indicator table, a confusion matrix, the heatmap;
* ``coordinator-review.png`` — joint review of a discordant item with the images;
* ``coordinator-export.png`` — the export dialog after an export.

Then a whole-body read (seed 004's protocol on the whole-body phantom, six stations,
imported from DICOM with its label maps):

* ``whole-body-pelvis.png`` — gluteus medius: the viewer on the pelvis station;
* ``whole-body-shoulder.png`` — supraspinatus: the viewer on the shoulder station.

``--whole-body-only`` renders just these two.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from myoscore.app import CoordinatorSession, ReaderSession, open_database, sign_in
from myoscore.app.schemes import protocol
from myoscore.domain import Role, Sequence
from myoscore.phantom import PhantomInfo, write_phantom

SIZE = (1440, 860)
COORDINATOR_SUBJECTS = 3


def register_phantom(coordinator: CoordinatorSession, exam_id: int, info: PhantomInfo, suffix: str) -> None:
    """Register the phantom's DICOM series and label maps as one exam's series."""
    for series in info.series:
        files = sorted(str(p) for p in series.dicom_dir.glob("*.dcm"))
        coordinator.add_series(exam_id, series.series_uid + suffix, series.sequence, kind_reason="phantom",
                               description=f"{series.sequence.value.lower()}_{series.region}",
                               path=str(series.dicom_dir), files=files, shape=series.shape, spacing=series.spacing)
    for region, path in info.label_maps.items():
        coordinator.add_series(exam_id, f"labels:{region}{suffix}", Sequence.LABEL_MAP, kind_reason="labels",
                               description=f"{region} muscles", path=str(path.parent), files=[str(path)])


def build_study(root: Path, shape: tuple[int, int, int] = (24, 320, 320)) -> tuple[str, PhantomInfo]:
    database = root / "screenshots.sqlite"
    db = open_database(str(database), create=True)
    coordinator = CoordinatorSession(db, "screenshots")
    coordinator.add_reader("radiologist", Role.READER, "demo-reading")
    coordinator.add_reader("neurologist", Role.READER, "demo-reading")
    coordinator.add_exam("SUBJ-0001", "baseline")
    coordinator.add_exam("SUBJ-0001", "follow-up")
    coordinator.assign(protocol("nxp2_lower_limb"), ["radiologist", "neurologist"], seed=5)
    info = write_phantom(root / "phantom", shape=shape, timepoints=("baseline",))
    for number, exam in enumerate(coordinator.exams()):
        register_phantom(coordinator, exam.id, info, f".{number}")
    db.dispose()
    return str(database), info


def settle() -> None:
    from PySide6.QtWidgets import QApplication

    for _ in range(5):
        QApplication.processEvents()


def save_png(widget, path: Path) -> None:
    """Grab a widget and save it as a small PNG."""
    import PIL.Image  # Pillow: a dependency of matplotlib, which myoscore requires
    from PySide6.QtGui import QImage

    settle()
    # A 256-colour palette chosen for this picture (median cut, no dithering): the
    # grey images keep their tones and the PNGs stay small (24-bit ones of the
    # phantom's noise are several hundred KB).
    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    width, height = image.width(), image.height()
    pixels = bytes(image.constBits())[: image.bytesPerLine() * height]
    picture = PIL.Image.frombuffer("RGB", (width, height), pixels, "raw", "RGB", image.bytesPerLine(), 1)
    picture.quantize(256, method=PIL.Image.Quantize.MEDIANCUT, dither=PIL.Image.Dither.NONE).save(
        path, optimize=True)
    print(f"{path} ({path.stat().st_size // 1024} KB)")


def build_coordinator_study(root: Path, shape: tuple[int, int, int] = (20, 256, 256)):
    """Three subjects imported from DICOM (baseline and follow-up each), label maps attached,
    assigned to two readers who have scored and submitted every exam. Returns the database
    and the import summary of the first subject (two stray files in its folder)."""
    from myoscore.app.imports import import_paths
    from myoscore.app.study import assign

    database = root / "coordinator.sqlite"
    db = open_database(str(database), create=True)
    coordinator = CoordinatorSession(db, "coordinator")
    coordinator.add_reader("coordinator", Role.COORDINATOR, "demo-reading")
    coordinator.add_reader("radiologist", Role.READER, "demo-reading")
    coordinator.add_reader("neurologist", Role.READER, "demo-reading")
    coordinator.add_reader("senior", Role.ADJUDICATOR, "demo-reading")
    first_summary = None
    months = {1: (3, 15), 2: (9, 21), 3: (26, 38)}
    for number in range(1, COORDINATOR_SUBJECTS + 1):
        info = write_phantom(root / f"phantom{number}", shape=shape, seed=number)
        folder = info.out_dir / "dicom"
        if number == 1:
            (folder / "scanner-notes.txt").write_text("protocol sheet", encoding="utf-8")
            (folder / "baseline" / "IM9999.dcm").write_bytes(b"DICM" * 16)  # a truncated copy
        summary = import_paths(coordinator, [folder], subject_code=f"SUBJ-{number:04d}", link_identity=False)
        first_summary = first_summary or summary
        exams = [e for e in coordinator.exams() if e.subject_code == f"SUBJ-{number:04d}"]
        for exam in exams:
            series = coordinator.series(exam.id)
            timepoint = "baseline" if any("/baseline/" in s.path + "/" for s in series) else "followup"
            at = 0 if timepoint == "baseline" else 1
            coordinator.update_exam(exam.id, label="baseline" if at == 0 else "follow-up",
                                    months_from_onset=months[number][at], treated=at == 1)
            import_paths(coordinator, sorted(info.label_maps.values()), exam_id=exam.id, link_identity=False)
    assign(coordinator, "nxp2_lower_limb", ["radiologist", "neurologist"], seed=20260115)
    protocol_ = protocol("nxp2_lower_limb")
    exam_of = {read.id: read.exam_id for read in coordinator.reads()}  # readers see no exam ids (timepoint blinding)
    for name, agree in (("radiologist", 1.0), ("neurologist", 0.8)):
        reader = sign_in(db, name, "demo-reading")
        assert isinstance(reader, ReaderSession)
        for read in reader.worklist():
            exam_id = exam_of[read.id]
            rng = random.Random(exam_id)  # the same draw for both readers, then B departs from it
            other = random.Random(f"{exam_id}:{name}")
            for item in protocol_.items:
                codes = protocol_.scales[item.scale].codes
                code = codes[min(int(rng.random() * rng.random() * len(codes) * 1.6), len(codes) - 1)]
                if other.random() > agree:
                    code = codes[max(0, min(len(codes) - 1, codes.index(code) + other.choice((-1, 1))))]
                reader.rate(read.id, item.key, code)
            reader.submit(read.id)
    db.dispose()
    return str(database), first_summary


def coordinator_screens(out: Path, root: Path) -> None:
    """Render each screen of the coordinator's desk into ``out``."""
    from myoscore.app.analysis import reconcile_reads
    from myoscore.gui.coordinator import CoordinatorWindow
    from myoscore.gui.coordinator.setup_page import ImportSummaryDialog

    database, summary = build_coordinator_study(root)
    db = open_database(database)
    coordinator = sign_in(db, "coordinator", "demo-reading")
    assert isinstance(coordinator, CoordinatorSession)
    window = CoordinatorWindow(coordinator)
    window.resize(*SIZE)
    window.show()
    settle()

    setup = window.setup_page
    window.tabs.setCurrentWidget(setup)
    setup.select_exam(coordinator.exams()[1].id)
    settle()
    t1 = next(s for s in coordinator.series(setup.current_exam_id()) if s.kind.value == "T1")
    coordinator.set_series_kind(t1.id, t1.kind, "checked against the protocol sheet")
    setup.refresh()
    setup.series_table.selectRow(1)
    save_png(window, out / "coordinator-setup.png")
    dialog = ImportSummaryDialog(summary, window)
    dialog.resize(900, 300)
    dialog.show()
    save_png(dialog, out / "coordinator-import.png")
    dialog.close()

    readers = window.readers_page
    window.tabs.setCurrentWidget(readers)
    readers.repeat_reader_combo.setCurrentText("radiologist")
    readers.fraction_spin.setValue(34)
    readers.repeat_seed_edit.setText("77")
    readers.repeat_button.click()  # a third of the radiologist's exams again, after four weeks
    panel = readers.assignment  # a selection for a second protocol, about to be confirmed
    panel.protocol_combo.setCurrentIndex(panel.protocol_combo.findData("imnm_whole_body"))
    for row in (0, 2):
        panel.exam_table.cellClicked.emit(row, 0)
    for name in ("radiologist", "neurologist"):
        panel.reader_checks[name].setChecked(True)
    panel.seed_edit.setText("2026")
    save_png(window, out / "coordinator-readers.png")

    window.tabs.setCurrentWidget(window.progress_page)
    window.progress_page.refresh()
    save_png(window, out / "coordinator-progress.png")

    agreement = window.agreement_page
    window.tabs.setCurrentWidget(agreement)
    settle()
    line = next(r for r in range(agreement.table.rowCount())
                if agreement.table.item(r, 0).text() == "Muscle edema" and agreement.table.item(r, 1).text() == "all")
    agreement.table.selectRow(line)
    save_png(window, out / "coordinator-agreement.png")

    consensus = window.consensus_page
    window.tabs.setCurrentWidget(consensus)
    # Each measure's policy first (seed 000: the mean for muscle edema): the review then lists
    # the mean-decided items with their decision and starts at the first item to decide.
    reconcile_reads(coordinator, "nxp2_lower_limb", ["radiologist", "neurologist"])
    consensus.start_review()
    consensus.wait_for_images()
    for code in ("1", "NE"):
        consensus.run_review(lambda review, code=code: review.record(code))
        consensus.wait_for_images()
    consensus.wait_for_images()
    save_png(window, out / "coordinator-review.png")
    decided = next(i for i in range(consensus.review.total) if i in consensus.review.standing)
    consensus.run_review(lambda review: review.go_to(decided))
    consensus.run_review(lambda review: review.record_level(2))  # a plain digit: refused, nothing stored
    consensus.wait_for_images()
    save_png(window, out / "coordinator-review-decided.png")
    consensus.finish_review()

    window.tabs.setCurrentWidget(window.scores_page)
    settle()
    save_png(window, out / "coordinator-scores.png")

    export = window.open_export()
    export.folder_edit.setText(str(root / "export"))
    for name, check in export.format_checks.items():
        check.setChecked(name != "figures")
    export.run_export()
    export.jobs.wait(120_000)
    settle()
    save_png(export, out / "coordinator-export.png")
    export.close()

    window.close()
    window.deleteLater()
    settle()
    db.dispose()


def whole_body_screens(out: Path, root: Path) -> None:
    """A seed-004 read of the whole-body phantom on the pelvis and on the shoulder station."""
    from myoscore.app.imports import import_paths
    from myoscore.gui.main_window import MainWindow
    from myoscore.gui.settings import ViewSettings
    from myoscore.phantom import write_whole_body_phantom

    info = write_whole_body_phantom(root / "whole_body", pixel_mm=2.0, slices=16, timepoints=("baseline",))
    database = root / "whole_body.sqlite"
    db = open_database(str(database), create=True)
    coordinator = CoordinatorSession(db, "screenshots")
    coordinator.add_reader("radiologist", Role.READER, "demo-reading")
    import_paths(coordinator, [info.out_dir / "dicom" / "baseline"], subject_code="WB-0001", link_identity=False)
    exam = coordinator.exams()[0]
    import_paths(coordinator, sorted(info.label_maps.values()), exam_id=exam.id, link_identity=False)
    coordinator.assign(protocol("imnm_whole_body"), ["radiologist"], seed=4)
    session = sign_in(db, "radiologist", "demo-reading")
    assert isinstance(session, ReaderSession)
    window = MainWindow(session, ViewSettings(root / "wb-viewer.ini"))
    window.resize(*SIZE)
    window.show()
    window.open_read(session.worklist()[0].id)
    window.wait_for_images()
    for key in ("1", "0", "1", "1", "0", "0"):
        window.run_key(key)
    window.run_session(lambda s: s.go_to("stir.pelvis.gluteal.gluteus_medius.R"))
    save_png(window, out / "whole-body-pelvis.png")
    window.run_session(lambda s: s.go_to("t1.shoulder.rotator_cuff.supraspinatus.R"))
    save_png(window, out / "whole-body-shoulder.png")
    window.close()
    window.deleteLater()
    settle()
    db.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "screenshots")
    parser.add_argument("--reader-only", action="store_true", help="the reader's screens only, not the desk's")
    parser.add_argument("--whole-body-only", action="store_true", help="only the two whole-body screenshots")
    parser.add_argument("--desk-only", action="store_true", help="only the coordinator's desk")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    from myoscore.gui.app import application
    from myoscore.gui.main_window import MainWindow
    from myoscore.gui.settings import ViewSettings

    application()
    if args.desk_only:
        with tempfile.TemporaryDirectory() as tmp:
            coordinator_screens(args.out, Path(tmp))
        return 0
    if args.whole_body_only:
        with tempfile.TemporaryDirectory() as tmp:
            whole_body_screens(args.out, Path(tmp))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        database, _info = build_study(root)
        db = open_database(database)
        session = sign_in(db, "radiologist", "demo-reading")
        assert isinstance(session, ReaderSession)
        reads = session.worklist()

        window = MainWindow(session, ViewSettings(root / "viewer.ini"))
        window.resize(*SIZE)
        window.show()
        window.ask = lambda _title, _text: True

        def save(name: str) -> None:
            save_png(window, args.out / name)

        # The second read: scored in full and submitted; it is the locked screenshot.
        window.open_read(reads[1].id)
        window.wait_for_images()
        for number in range(window.session.total):
            levels = window.session.scale.levels
            window.run_key("N" if number % 11 == 10 else str((number * 5 + 1) % len(levels)))
        window.request_submit()

        # The first read, mid-read: edema of the thigh done, on the right posterior compartment.
        window.open_read(reads[0].id)
        window.wait_for_images()
        for key in ("2", "1", "0", "0", "3"):
            window.run_key(key)
        window.run_key("S")
        window.run_key("S")
        window.back_to_worklist()
        save("worklist.png")

        window.open_read(reads[0].id)
        window.wait_for_images()
        save("reading.png")
        window.run_key("F1")
        save("help.png")
        window.run_key("F1")
        window.run_key("L")  # automatic → side by side
        window.run_key("F")
        save("fit-to-body.png")
        window.run_key("Shift+S")
        save("side-zoom.png")
        window.run_key("Shift+S")
        window.run_key("L")  # stacked
        window.run_key("L")  # automatic again
        window.run_key("O")
        _hover_a_muscle(window)
        save("overlay.png")
        window.run_key("O")

        window.open_read(reads[1].id)
        window.wait_for_images()
        window.run_session(lambda s: s.go_to("fat.thigh.posterior.L"))
        save("locked.png")
        window.close()
        window.deleteLater()  # delete before the interpreter exits (PySide6 finalisation order)
        settle()
        db.dispose()
        if not args.reader_only:
            coordinator_screens(args.out, root)
        whole_body_screens(args.out, root)
    return 0


def _hover_a_muscle(window) -> None:
    """Put the mouse (as the view sees it) over the biggest muscle of the lead view's slice."""
    import numpy as np
    from PySide6.QtCore import QPointF

    view = window.viewer.views[0]
    labels = view.loaded.labels[view.current.index]
    counts = np.bincount(labels[labels >= 100].ravel())
    value = int(counts.argmax())
    rows, cols = np.nonzero(labels == value)
    middle = len(rows) // 2
    view._on_mouse_moved(view.image_item.mapToScene(QPointF(cols[middle] + 0.5, rows[middle] + 0.5)))


if __name__ == "__main__":
    sys.exit(main())
