"""The bundled demo study, loaded into an empty database by ``myoscore start``.

Readers, exams and assignments come from ``resources/demo/demo_study.toml``; the images
are the synthetic thigh-and-calf phantom, written once into ``images_dir`` and imported
in place like any DICOM folder, with its muscle label maps attached to each exam.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from myoscore.app.study import assign
from myoscore.domain import Role
from myoscore.resources import resources_dir
from myoscore.store import CoordinatorSession


def load_demo(coordinator: CoordinatorSession, images_dir: Path | None = None) -> bool:
    """Add the demo study unless the database already has users. Returns whether it did."""
    if coordinator.readers():
        return False
    with (resources_dir() / "demo" / "demo_study.toml").open("rb") as handle:
        study = tomllib.load(handle)
    for reader in study["reader"]:
        coordinator.add_reader(reader["name"], Role(reader["role"]), reader["password"])
    for exam in study["exam"]:
        if images_dir is None:
            coordinator.add_exam(exam["subject"], exam["label"], months_from_onset=exam.get("months_from_onset"),
                                 treated=exam.get("treated"))
        else:
            _import_phantom_exam(coordinator, images_dir, exam)
    for assignment in study["assignment"]:
        assign(coordinator, assignment["protocol"], assignment["readers"], seed=assignment["seed"])
    return True


def _import_phantom_exam(coordinator: CoordinatorSession, images_dir: Path, exam: dict[str, Any]) -> None:
    from myoscore.app.imports import import_paths  # image libraries only when images are wanted
    from myoscore.phantom import write_phantom

    if not (images_dir / "ground_truth.json").exists():
        write_phantom(images_dir)
    timepoint = exam["phantom_timepoint"]
    import_paths(coordinator, [images_dir / "dicom" / timepoint], subject_code=exam["subject"], link_identity=False)
    imported = [e for e in coordinator.exams() if e.subject_code == exam["subject"]][-1]
    coordinator.update_exam(imported.id, label=exam["label"], months_from_onset=exam.get("months_from_onset"),
                            treated=exam.get("treated"))
    import_paths(coordinator, sorted((images_dir / "labels").glob("*.nii.gz")), exam_id=imported.id,
                 link_identity=False)
