"""Render the workstation's main screens with the phantom into docs/screenshots/.

    QT_QPA_PLATFORM=offscreen .venv/bin/python docs/make_screenshots.py [--out DIR]

A throw-away database gets two readers and two exams of one synthetic subject (the
phantom's baseline images on both), reader "radiologist" scores part of one read and
submits the other; the script then grabs (``QWidget.grab``, no display needed):

* ``worklist.png`` — the reader's worklist;
* ``reading.png`` — linked STIR + T1 views with the scored compartment outlined and the
  scoring panel mid-read;
* ``help.png`` — the keyboard help overlay over the read;
* ``locked.png`` — a submitted read, opened read-only.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from myoscore.app.schemes import protocol
from myoscore.domain import Role, Sequence
from myoscore.imaging import PhantomInfo, write_phantom
from myoscore.store import CoordinatorSession, ReaderSession, open_database, sign_in

SIZE = (1440, 860)


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
    coordinator.add_reader("radiologist", Role.READER, "demo")
    coordinator.add_reader("neurologist", Role.READER, "demo")
    coordinator.add_exam("SUBJ-0001", "baseline")
    coordinator.add_exam("SUBJ-0001", "follow-up")
    coordinator.assign(protocol("nxp2_lower_limb"), ["radiologist", "neurologist"], seed=5)
    info = write_phantom(root / "phantom", shape=shape, timepoints=("baseline",))
    for number, exam in enumerate(coordinator.exams()):
        register_phantom(coordinator, exam.id, info, f".{number}")
    db.dispose()
    return str(database), info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "screenshots")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    import PIL.Image  # Pillow: a dependency of matplotlib, which myoscore requires
    from PySide6.QtGui import QImage
    from PySide6.QtWidgets import QApplication

    from myoscore.gui.app import application
    from myoscore.gui.main_window import MainWindow
    from myoscore.gui.settings import ViewSettings

    application()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        database, _info = build_study(root)
        db = open_database(database)
        session = sign_in(db, "radiologist", "demo")
        assert isinstance(session, ReaderSession)
        reads = session.worklist()

        window = MainWindow(session, ViewSettings(root / "viewer.ini"))
        window.resize(*SIZE)
        window.show()
        window.ask = lambda _title, _text: True

        def settle() -> None:
            for _ in range(5):
                QApplication.processEvents()

        def save(name: str) -> None:
            settle()
            path = args.out / name
            # A 256-colour palette chosen for this picture (median cut, no dithering): the
            # grey images keep their tones and the PNGs stay small (24-bit ones of the
            # phantom's noise are several hundred KB).
            image = window.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
            width, height = image.width(), image.height()
            pixels = bytes(image.constBits())[: image.bytesPerLine() * height]
            picture = PIL.Image.frombuffer("RGB", (width, height), pixels, "raw", "RGB", image.bytesPerLine(), 1)
            picture.quantize(256, method=PIL.Image.Quantize.MEDIANCUT, dither=PIL.Image.Dither.NONE).save(
                path, optimize=True)
            print(f"{path} ({path.stat().st_size // 1024} KB)")

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

        window.open_read(reads[1].id)
        window.wait_for_images()
        window.run_session(lambda s: s.go_to("fat.thigh.posterior.L"))
        save("locked.png")
        window.close()
        window.deleteLater()  # delete before the interpreter exits (PySide6 finalisation order)
        settle()
        db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
