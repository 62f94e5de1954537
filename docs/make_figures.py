"""Render seed 004's figures for the demo study into docs/figures/ (PNG shown in docs/export.md).

    .venv/bin/python docs/make_figures.py [--out DIR]

A throw-away database gets the demo study (``myoscore start``'s: DEMO-001 thigh and calf,
DEMO-002 whole body, each at baseline and follow-up), plus four more synthetic subjects
so that every seed-004 group has members. Both readers score every seed-004 read from the
phantoms' ground truth (the whole-body truth for whole-body exams; on the thigh-and-calf
exams the thigh and leg from that phantom's truth and every other region NE with the
region key, as a reader would) and submit; then ``myoscore export --format figures``'s
use case writes the figures from reader "radiologist" (the demo has no consensus yet).
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
from pathlib import Path

from myoscore.app import CoordinatorSession, ReaderSession, open_database, sign_in
from myoscore.app.demo import load_demo
from myoscore.app.export import export
from myoscore.app.reading_session import ReadingSession
from myoscore.app.study import assign
from myoscore.domain import NeedsConfirmation

#: Extra subjects (months from onset and treated at baseline, then at follow-up).
EXTRA = {"DEMO-003": ((4, True), (16, True)), "DEMO-004": ((30, True), (44, True)),
         "DEMO-005": ((1, False), (12, True)), "DEMO-006": ((60, True), (72, True))}


def truth_values(session: ReadingSession, truth: dict, rng: random.Random) -> dict[str, str]:
    """Codes for every item from a phantom truth (``stir``/``fat`` per side and key, or
    edema/fat of the thigh-and-calf phantom by muscle name); unknown muscles: NE."""
    codes: dict[str, str] = {}
    by_name: dict[tuple[str, str, str], int] = {}
    for measure in ("stir", "fat", "edema"):
        for side, values in truth.get(measure, {}).items():
            for key, grade in values.items():
                by_name[(measure, side, key.rsplit(".", 1)[-1])] = grade
    for item in session.items:
        name = item.unit.key.rsplit(".", 1)[-1]
        side = item.side or "R"
        if item.measure == "stir":
            grade = by_name.get(("stir", side, name))
            if grade is None and ("edema", side, name) in by_name:
                grade = int(by_name[("edema", side, name)] > 0)
        else:
            grade = by_name.get(("fat", side, name))
        if grade is not None and rng.random() < 0.08:  # a reader is not the truth
            grade = max(0, min(1 if item.measure == "stir" else 4, grade + rng.choice((-1, 1))))
        codes[item.key] = "NE" if grade is None else str(grade)
    return codes


def score_all(db, name: str, truths: dict[str, dict]) -> None:
    reader = sign_in(db, name, "demo")
    assert isinstance(reader, ReaderSession)
    for read in reader.worklist():
        if read.protocol_name != "imnm_whole_body":
            continue
        session = ReadingSession(reader, read.id, start="first")
        truth = truths[read.subject_code][0 if read.exam_label == "baseline" else 1]
        codes = truth_values(session, truth, random.Random(f"{name}:{read.id}"))
        for item in session.items:
            session.go_to(item.key)
            try:
                session.set_value(codes[item.key])
            except NeedsConfirmation:
                session.set_value(codes[item.key])
        reader.submit(read.id)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "figures")
    args = parser.parse_args(argv)
    from myoscore.phantom import write_phantom, write_whole_body_phantom

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        db = open_database(str(root / "demo.sqlite"), create=True)
        coordinator = CoordinatorSession(db, "figures")
        load_demo(coordinator)
        for subject, ((m0, t0), (m1, t1)) in EXTRA.items():
            coordinator.add_exam(subject, "baseline", months_from_onset=m0, treated=t0)
            coordinator.add_exam(subject, "follow-up", months_from_onset=m1, treated=t1)
        extra_ids = [e.id for e in coordinator.exams() if e.subject_code in EXTRA]
        assign(coordinator, "imnm_whole_body", ["radiologist", "neurologist"], extra_ids, seed=9)
        limbs = write_phantom(root / "limbs", shape=(4, 32, 32), nifti=False).ground_truth["timepoints"]
        truths = {"DEMO-001": (limbs["baseline"], limbs["followup"])}
        for number, subject in enumerate(["DEMO-002", *EXTRA], start=0):
            whole = write_whole_body_phantom(root / f"wb{number}", seed=number, slices=2, nifti=False,
                                             stations=("pelvis",)).ground_truth["timepoints"]
            truths[subject] = (whole["baseline"], whole["followup"])
        for name in ("radiologist", "neurologist"):
            score_all(db, name, truths)
        out = root / "figures"
        written = export(coordinator, "imnm_whole_body", ["figures"], out)
        args.out.mkdir(parents=True, exist_ok=True)
        for path in written:
            if path.suffix == ".png":
                shutil.copy(path, args.out / path.name)
                print(args.out / path.name)
        db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
