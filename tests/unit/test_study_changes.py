"""Coordinator operations say what they changed (frozen StudyChanges), as reading does."""

from __future__ import annotations

import dataclasses

import pytest

from myoscore.app import CoordinatorSession, study
from myoscore.app.changes import CONSENSUS, EXAMS, NO_CHANGE, READS, StudyChanges
from myoscore.domain import Role, Sequence


def test_changes_are_frozen_and_combine() -> None:
    both = EXAMS | READS
    assert both == StudyChanges(exams=True, reads=True)
    assert both.meets(StudyChanges(reads=True, consensus=True))
    assert not CONSENSUS.meets(StudyChanges(exams=True, series=True))
    assert not NO_CHANGE
    with pytest.raises(dataclasses.FrozenInstanceError):
        both.exams = False  # type: ignore[misc]


def test_each_operation_reports_what_it_changed(coordinator: CoordinatorSession) -> None:
    added = study.add_reader(coordinator, "R1", Role.READER, "pass-phrase-R1")
    assert added.changes == StudyChanges(readers=True)
    exam = coordinator.add_exam("SUBJ-9", "baseline", months_from_onset=3.0)
    assert study.update_exam(coordinator, exam.id, months_from_onset=3.0).changes == NO_CHANGE
    cleared = study.update_exam(coordinator, exam.id, months_from_onset=None)
    assert cleared.changes == EXAMS
    assert cleared.value.months_from_onset is None
    assigned = study.assign_reads(coordinator, "nxp2_lower_limb", ["R1"], seed=5)
    assert assigned.changes == READS
    assert [r.seed for r in assigned.value] == ["5"]
    again = study.assign_reads(coordinator, "nxp2_lower_limb", ["R1"], seed=6)
    assert (again.value, again.changes) == ([], NO_CHANGE)
    series = coordinator.add_series(exam.id, "1.2.3", Sequence.STIR, kind_reason="by description")
    assert series is not None
    assert not series.overridden
    done = study.set_series_kind(coordinator, series.id, Sequence.T1, "protocol sheet")
    assert done.changes == StudyChanges(series=True)
    assert done.value.overridden
