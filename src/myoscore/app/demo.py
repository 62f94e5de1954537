"""The bundled demo study, loaded into an empty database by ``myoscore start``."""

from __future__ import annotations

import tomllib

from myoscore.app.study import assign
from myoscore.domain import Role
from myoscore.resources import resources_dir
from myoscore.store import CoordinatorSession


def load_demo(coordinator: CoordinatorSession) -> bool:
    """Add the demo readers, exams and assignments unless the database has readers."""
    if coordinator.readers():
        return False
    with (resources_dir() / "demo" / "demo_study.toml").open("rb") as handle:
        study = tomllib.load(handle)
    for reader in study["reader"]:
        coordinator.add_reader(reader["name"], Role(reader["role"]), reader["password"])
    for exam in study["exam"]:
        coordinator.add_exam(exam["subject"], exam["label"],
                             months_from_onset=exam.get("months_from_onset"), treated=exam.get("treated"))
    for assignment in study["assignment"]:
        assign(coordinator, assignment["protocol"], assignment["readers"], seed=assignment["seed"])
    return True
