"""The bundled demo study, loaded into an empty database by ``myoscore start``.

Readers, exams and assignments come from ``resources/demo/demo_study.toml``; the images
are the synthetic phantoms (thigh-and-calf in ``images_dir``, whole-body in
``images_dir/whole_body``), written once and imported in place like any DICOM folder, with
their muscle label maps attached to each exam.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from myoscore.app.sessions import CoordinatorSession
from myoscore.app.study import assign
from myoscore.app.study_settings import set_setting
from myoscore.domain import Role
from myoscore.resources import resources_dir

#: The demo accounts' password (resources/demo/demo_study.toml).
DEMO_PASSWORD = "demo-reading"

if TYPE_CHECKING:  # pragma: no cover - typing only
    from myoscore.phantom import PhantomInfo, WholeBodyInfo


def write_demo_images(out: Path, *, field_strength: float = 1.5, seed: int = 0,
                      whole_body: bool = True) -> tuple[PhantomInfo, WholeBodyInfo | None]:
    """``myoscore demo``: the thigh-and-calf phantom in ``out`` and, unless turned off, the
    whole-body phantom in ``out/whole_body``."""
    from myoscore.phantom import write_phantom, write_whole_body_phantom

    info = write_phantom(out, field_strength=field_strength, seed=seed)
    wb = write_whole_body_phantom(out / "whole_body", seed=seed) if whole_body else None
    return info, wb


def load_demo(coordinator: CoordinatorSession, images_dir: Path | None = None) -> bool:
    """Add the demo study unless the database already has users. Returns whether it did."""
    if coordinator.readers():
        return False
    with (resources_dir() / "demo" / "demo_study.toml").open("rb") as handle:
        study = tomllib.load(handle)
    for reader in study["reader"]:
        coordinator.add_reader(reader["name"], Role(reader["role"]), reader["password"])
    for name, value in study.get("settings", {}).items():  # before assigning: worklists follow them
        set_setting(coordinator, name, value)
    for exam in study["exam"]:
        if images_dir is None:
            coordinator.add_exam(exam["subject"], exam["label"], months_from_onset=exam.get("months_from_onset"),
                                 treated=exam.get("treated"))
        else:
            _import_phantom_exam(coordinator, images_dir, exam)
    for assignment in study["assignment"]:
        subjects = assignment.get("subjects")
        exam_ids = None if subjects is None else [e.id for e in coordinator.exams() if e.subject_code in subjects]
        assign(coordinator, assignment["protocol"], assignment["readers"], exam_ids, seed=assignment["seed"])
    return True


def _import_phantom_exam(coordinator: CoordinatorSession, images_dir: Path, exam: dict[str, Any]) -> None:
    from myoscore.app.imports import import_paths  # image libraries only when images are wanted
    from myoscore.phantom import write_phantom, write_whole_body_phantom

    if exam.get("phantom") == "whole_body":
        images_dir = images_dir / "whole_body"
        if not (images_dir / "ground_truth.json").exists():
            write_whole_body_phantom(images_dir)
    elif not (images_dir / "ground_truth.json").exists():
        write_phantom(images_dir)
    timepoint = exam["phantom_timepoint"]
    import_paths(coordinator, [images_dir / "dicom" / timepoint], subject_code=exam["subject"], link_identity=False)
    imported = [e for e in coordinator.exams() if e.subject_code == exam["subject"]][-1]
    coordinator.update_exam(imported.id, label=exam["label"], months_from_onset=exam.get("months_from_onset"),
                            treated=exam.get("treated"))
    import_paths(coordinator, sorted((images_dir / "labels").glob("*.nii.gz")), exam_id=imported.id,
                 link_identity=False)
