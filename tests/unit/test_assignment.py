"""Assignment by selection: study designs, the recorded assignment, its worklist order, undo."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime
from itertools import combinations, pairwise

import pytest

from myoscore.app import CoordinatorSession, ReaderSession, sign_in, study
from myoscore.app.assignment import (
    assign_selected,
    assignments,
    balanced_design,
    exam_choices,
    make_design,
    plan_assignment,
    undo_assignment,
)
from myoscore.app.changes import NO_CHANGE, READS
from myoscore.domain import InvalidValue, MyoscoreError, NotFound, Role
from myoscore.store.tables import ExamRow

NXP2 = "nxp2_lower_limb"


def _exams(coordinator: CoordinatorSession, n: int) -> list[int]:
    return [coordinator.add_exam(f"SUBJ-{i:02d}", "baseline").id for i in range(1, n + 1)]


def _readers(coordinator: CoordinatorSession, *names: str) -> None:
    for name in names:
        coordinator.add_reader(name, Role.READER, f"pass-phrase-{name}")


# -- the balanced design ----------------------------------------------------------------------
@pytest.mark.parametrize(("n_exams", "n_readers", "anchor", "per_exam"),
                         [(10, 3, 2, 2), (50, 5, 5, 2), (37, 4, 0, 3), (7, 7, 7, 1), (101, 6, 10, 2), (5, 2, 0, 1)])
def test_balanced_design_reads_each_exam_k_times_anchors_by_all_loads_within_one(n_exams, n_readers, anchor,
                                                                                 per_exam) -> None:
    """Anchors are read by every reader, every other exam by exactly k readers, and the
    readers' loads differ by at most one."""
    exams = list(range(100, 100 + n_exams))
    readers = [f"R{i}" for i in range(n_readers)]
    design = balanced_design(exams, readers, anchor=anchor, per_exam=per_exam, seed="42")
    assert len(design.anchors) == anchor
    assert set(design.exam_ids) == set(exams)
    for exam_id in exams:
        expected = n_readers if exam_id in design.anchors else per_exam
        assert len(design.readers_of(exam_id)) == expected
    loads = [len(ids) for ids in design.by_reader.values()]
    assert max(loads) - min(loads) <= 1
    assert design.n_reads == anchor * n_readers + (n_exams - anchor) * per_exam


def test_balanced_design_shares_exams_evenly_between_pairs_of_readers() -> None:
    """With two readers per exam, every pair of four readers shares non-anchor exams, and
    the shares differ little (readers take turns, not fixed pairs)."""
    design = balanced_design(range(1, 61), ["A", "B", "C", "D"], anchor=0, per_exam=2, seed="7")
    shared: Counter[tuple[str, str]] = Counter()
    for exam_id in design.exam_ids:
        for pair in combinations(design.readers_of(exam_id), 2):
            shared[pair] += 1
    assert len(shared) == 6  # all pairs of 4 readers
    assert max(shared.values()) - min(shared.values()) <= 2


def test_same_seed_same_design_and_another_seed_another() -> None:
    """The design is reproduced from the recorded seed, whatever order the inputs come in."""
    exams, readers = list(range(1, 41)), ["A", "B", "C"]
    first = balanced_design(exams, readers, anchor=4, per_exam=2, seed="2026")
    shuffled = exams[:]
    random.Random(1).shuffle(shuffled)
    again = balanced_design(shuffled, list(reversed(readers)), anchor=4, per_exam=2, seed="2026")
    assert again.by_reader == first.by_reader
    assert again.anchors == first.anchors
    other = balanced_design(exams, readers, anchor=4, per_exam=2, seed="2027")
    assert (other.anchors, other.by_reader) != (first.anchors, first.by_reader)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"design": "balanced", "per_exam": 4},
     "readers per exam must be from 1 to the number of readers chosen (3), not 4"),
    ({"design": "balanced", "per_exam": 0}, "readers per exam must be from 1"),
    ({"design": "balanced", "anchor": 6}, "the anchor set must be from 0 to the number of exams chosen (5), not 6"),
    ({"design": "balanced", "anchor": -1}, "the anchor set must be from 0"),
    ({"design": "all", "anchor": 2}, "belong to the balanced design"),
    ({"design": "latin"}, "unknown design 'latin' (use all or balanced)"),
])
def test_design_parameters_are_checked_with_a_sentence(kwargs, message) -> None:
    design = kwargs.pop("design")
    with pytest.raises(MyoscoreError, match=message.replace("(", r"\(").replace(")", r"\)")):
        make_design(design, [1, 2, 3, 4, 5], ["A", "B", "C"], seed="1", **kwargs)


# -- assigning chosen exams ----------------------------------------------------------------
def test_assign_chosen_exams_to_chosen_readers_records_the_assignment(coordinator: CoordinatorSession) -> None:
    """Two of five exams to two of three readers: 4 reads, one recorded assignment with its
    seed, each read naming it in the audit trail; the others untouched."""
    exams = _exams(coordinator, 5)
    _readers(coordinator, "A", "B", "C")
    plan = plan_assignment(coordinator, NXP2, ["A", "B"], [exams[1], exams[3]], seed=99)
    assert plan.question() == "Create 4 reads: 2 exams × 2 readers?"
    assert coordinator.reads() == []  # the dry run stores nothing
    done = assign_selected(coordinator, NXP2, ["A", "B"], [exams[1], exams[3]], seed=99)
    assert done.changes == READS
    reads = coordinator.reads()
    assert sorted((r.reader_name, r.exam_id) for r in reads) == sorted(
        (name, exam_id) for name in "AB" for exam_id in (exams[1], exams[3]))
    assert {r.seed for r in reads} == {"99"}
    [record] = assignments(coordinator)
    assert record.id == done.value.assignment_id
    assert (record.design, record.seed, record.created_by) == ("all", "99", "test-coordinator")
    assert record.protocol == NXP2
    assert record.reader_names == ("A", "B")
    assert record.exam_ids == (exams[1], exams[3])
    assert (record.reads, record.started, record.undone_at) == (4, 0, None)
    events = [e for e in coordinator.audit_log(20) if e.action == "assign"]
    assert len(events) == 4
    assert all(f"seed 99 assignment {record.id}" in (e.new or "") for e in events)
    assert any(e.action == "add_assignment" and e.target == f"assignment {record.id}"
               for e in coordinator.audit_log(20))
    # The dry run showed exactly what was then created.
    assert plan.worklists == done.value.worklists


def test_new_reads_follow_the_per_reader_shuffle_of_the_recorded_seed(coordinator: CoordinatorSession) -> None:
    """Each reader's new reads join the end of their worklist in the order
    ``random.Random(f"{seed}:{reader}")`` gives the sorted exam ids."""
    exams = _exams(coordinator, 8)
    _readers(coordinator, "A", "B")
    study.assign(coordinator, NXP2, ["A"], exams[:2], seed=1)
    done = assign_selected(coordinator, NXP2, ["A", "B"], exams[2:], design="all", seed=31)
    for name, start in (("A", 2), ("B", 0)):
        own = sorted((r for r in coordinator.reads() if r.reader_name == name and r.seed == "31"),
                     key=lambda r: r.position)
        expected = sorted(exams[2:])
        random.Random(f"31:{name}").shuffle(expected)
        assert [r.exam_id for r in own] == expected
        assert [r.position for r in own] == list(range(start + 1, start + 7))
        assert list(done.value.worklists[name]) == expected
    reader = sign_in(coordinator.database, "B", "pass-phrase-B")
    assert isinstance(reader, ReaderSession)
    exam_of = {r.id: r.exam_id for r in coordinator.reads()}  # readers see no exam ids (timepoint blinding)
    assert [exam_of[r.id] for r in reader.worklist()] == list(done.value.worklists["B"])


def test_balanced_assignment_of_a_larger_study_is_recorded_with_its_parameters(coordinator) -> None:
    """20 exams, 4 readers, 4 anchors, 2 readers per other exam: 48 reads, reproducible from
    the recorded seed and parameters."""
    exams = _exams(coordinator, 20)
    _readers(coordinator, "A", "B", "C", "D")
    done = assign_selected(coordinator, NXP2, ["A", "B", "C", "D"], exams, design="balanced", anchor=4,
                           per_exam=2, seed=5)
    plan = done.value
    assert plan.n_reads == len(coordinator.reads()) == 4 * 4 + 16 * 2
    assert plan.question() == ("Create 48 reads: 20 exams for 4 readers, 4 anchor exams read by every reader "
                               "and 16 read by 2 readers each?")
    [record] = assignments(coordinator)
    assert record.design == "balanced"
    assert (record.parameters["anchor"], record.parameters["per_exam"]) == (4, 2)
    assert record.parameters["anchors"] == list(plan.design.anchors)
    again = balanced_design(record.exam_ids, record.reader_names, anchor=record.parameters["anchor"],
                            per_exam=record.parameters["per_exam"], seed=record.seed)
    stored = {name: tuple(sorted(r.exam_id for r in coordinator.reads() if r.reader_name == name))
              for name in "ABCD"}
    assert again.by_reader == stored
    loads = Counter(r.reader_name for r in coordinator.reads())
    assert max(loads.values()) - min(loads.values()) <= 1


def test_unassigned_means_no_read_of_the_protocol_yet_and_not_excluded(coordinator: CoordinatorSession) -> None:
    exams = _exams(coordinator, 4)
    _readers(coordinator, "A", "B")
    assign_selected(coordinator, NXP2, ["A"], [exams[0]], seed=1)
    with coordinator.unit() as repo:  # excluding is another use case's: set the column here
        row = repo._s.get(ExamRow, exams[3])
        assert row is not None
        row.excluded_at = datetime.now(UTC)
    plan = plan_assignment(coordinator, NXP2, ["A", "B"], seed=2)
    assert plan.exam_ids == (exams[1], exams[2])
    with pytest.raises(MyoscoreError, match=f"exam {exams[3]} .* is excluded"):
        assign_selected(coordinator, NXP2, ["A"], [exams[3]])
    done = assign_selected(coordinator, NXP2, ["A", "B"], seed=2)
    assert done.value.n_reads == 4
    nothing = assign_selected(coordinator, NXP2, ["A", "B"], seed=3)
    assert (nothing.value.reads, nothing.changes, nothing.value.assignment_id) == ((), NO_CHANGE, None)
    assert len(assignments(coordinator)) == 2
    choices = {c.exam_id: c for c in exam_choices(coordinator, NXP2)}
    assert choices[exams[0]].readers == ("A",)
    assert choices[exams[1]].readers == ("A", "B")
    assert choices[exams[3]].excluded
    assert not choices[exams[3]].assigned


@pytest.mark.parametrize(("readers", "exams", "message"), [
    ([], [1], "choose at least one reader"),
    (["A", "A"], [1], "a reader is chosen twice"),
    (["A", "nobody"], [1], "nobody"),
    (["A", "boss"], [1], "boss is a coordinator, not a reader"),
    (["A"], [], "choose at least one exam"),
    (["A"], [1, 1], "exam 1 is chosen twice"),
    (["A"], [1, 999], "no exam 999"),
])
def test_bad_selections_are_refused_with_nothing_stored(coordinator, readers, exams, message) -> None:
    _exams(coordinator, 2)
    _readers(coordinator, "A")
    coordinator.add_reader("boss", Role.COORDINATOR, "pass-phrase-boss")
    with pytest.raises(MyoscoreError, match=message):
        assign_selected(coordinator, NXP2, readers, exams)
    assert coordinator.reads() == []
    assert assignments(coordinator) == []


def test_a_read_already_assigned_is_refused_naming_it(coordinator: CoordinatorSession) -> None:
    exams = _exams(coordinator, 3)
    _readers(coordinator, "A", "B")
    assign_selected(coordinator, NXP2, ["A"], exams[:2])
    with pytest.raises(MyoscoreError, match=rf"exam {exams[0]} is already assigned to A for {NXP2} "
                                            r"\(and 1 other read\)"):
        assign_selected(coordinator, NXP2, ["A", "B"], exams)
    assert len(coordinator.reads()) == 2


def test_ids_are_checked_at_the_boundary(coordinator: CoordinatorSession) -> None:
    """``"1"`` is not the exam 1, nor ``True`` an assignment id."""
    _exams(coordinator, 1)
    _readers(coordinator, "A")
    with pytest.raises(InvalidValue, match="exam_id must be a whole number"):
        assign_selected(coordinator, NXP2, ["A"], ["1"])  # type: ignore[list-item]
    with pytest.raises(InvalidValue, match="assignment_id must be a whole number"):
        undo_assignment(coordinator, True)
    with pytest.raises(InvalidValue, match="anchor must be a whole number"):
        plan_assignment(coordinator, NXP2, ["A"], design="balanced", anchor="2")  # type: ignore[arg-type]


# -- undo ---------------------------------------------------------------------------------------
def test_undo_deletes_the_reads_of_an_untouched_assignment_audited(coordinator: CoordinatorSession) -> None:
    exams = _exams(coordinator, 3)
    _readers(coordinator, "A", "B")
    keep = assign_selected(coordinator, NXP2, ["A"], [exams[0]], seed=1).value
    done = assign_selected(coordinator, NXP2, ["A", "B"], exams[1:], seed=2).value
    assert keep.assignment_id is not None
    assert done.assignment_id is not None
    undone = undo_assignment(coordinator, done.assignment_id)
    assert undone.changes == READS
    assert undone.value.reads == 0
    assert undone.value.undone_by == "test-coordinator"
    assert [(r.reader_name, r.exam_id) for r in coordinator.reads()] == [("A", exams[0])]
    log = coordinator.audit_log(30)
    assert sum(e.action == "unassign" for e in log) == 4
    assert any(e.action == "undo_assignment" and e.target == f"assignment {done.assignment_id}" for e in log)
    by_id = {a.id: a for a in assignments(coordinator)}
    assert by_id[keep.assignment_id].undone_at is None
    with pytest.raises(MyoscoreError, match=f"assignment {done.assignment_id} was already undone"):
        undo_assignment(coordinator, done.assignment_id)
    with pytest.raises(NotFound, match="no assignment 77"):
        undo_assignment(coordinator, 77)
    # The exams are free again: the same selection can be assigned anew.
    assert assign_selected(coordinator, NXP2, ["A", "B"], exams[1:], seed=2).value.n_reads == 4


def test_undo_is_refused_while_a_read_has_ratings(coordinator: CoordinatorSession) -> None:
    """assignment N: 1 of its 4 reads has ratings (reader A exam E); nothing deleted."""
    exams = _exams(coordinator, 2)
    _readers(coordinator, "A", "B")
    done = assign_selected(coordinator, NXP2, ["A", "B"], exams, seed=3).value
    assert done.assignment_id is not None
    reader = sign_in(coordinator.database, "A", "pass-phrase-A")
    assert isinstance(reader, ReaderSession)
    first = reader.worklist()[0]
    first_exam = {r.id: r.exam_id for r in coordinator.reads()}[first.id]
    reader.rate(first.id, "edema.thigh.anterior.R", "2")
    with pytest.raises(MyoscoreError) as refused:
        undo_assignment(coordinator, done.assignment_id)
    assert str(refused.value) == (f"assignment {done.assignment_id}: 1 of its 4 reads has ratings "
                                  f"(reader A exam {first_exam}); nothing was undone")
    assert len(coordinator.reads()) == 4
    [record] = assignments(coordinator)
    assert (record.reads, record.started) == (4, 1)
    # Cleared again, the assignment is untouched and may be undone.
    reader.clear(first.id, "edema.thigh.anterior.R")
    assert undo_assignment(coordinator, done.assignment_id).value.reads == 0


def test_undo_is_refused_for_a_submitted_read_without_ratings(coordinator: CoordinatorSession) -> None:
    exams = _exams(coordinator, 1)
    _readers(coordinator, "A")
    done = assign_selected(coordinator, NXP2, ["A"], exams, seed=3).value
    assert done.assignment_id is not None
    reader = sign_in(coordinator.database, "A", "pass-phrase-A")
    assert isinstance(reader, ReaderSession)
    reader.submit(reader.worklist()[0].id)
    with pytest.raises(MyoscoreError, match="1 of its 1 read has ratings or is submitted"):
        undo_assignment(coordinator, done.assignment_id)


def test_the_existing_form_records_an_assignment_too(coordinator: CoordinatorSession) -> None:
    """``study.assign`` (all readers × unassigned exams) is the ``all`` design, recorded."""
    exams = _exams(coordinator, 2)
    _readers(coordinator, "A", "B")
    reads = study.assign(coordinator, NXP2, ["A", "B"], seed=8)
    assert len(reads) == 4
    [record] = assignments(coordinator)
    assert (record.design, record.seed, record.exam_ids) == ("all", "8", tuple(exams))


def test_new_reads_keep_a_subjects_exams_apart_under_timepoint_blinding(coordinator: CoordinatorSession) -> None:
    """Timepoint blinding (on by default) spreads each reader's new reads so that no two
    exams of one subject are adjacent — for assignment by selection and balanced designs too."""
    for subject in ("SUBJ-01", "SUBJ-02", "SUBJ-03"):
        for label in ("baseline", "follow-up"):
            coordinator.add_exam(subject, label)
    _readers(coordinator, "A", "B", "C")
    for seed in range(6):
        done = assign_selected(coordinator, NXP2, ["A", "B", "C"], design="balanced", anchor=2, per_exam=2,
                               seed=seed)
        for name in ("A", "B", "C"):
            own = sorted((r for r in coordinator.reads() if r.reader_name == name), key=lambda r: r.position)
            subjects = [r.subject_code for r in own]
            assert all(a != b for a, b in pairwise(subjects)), (seed, name, subjects)
            assert [r.exam_id for r in own] == list(done.value.worklists[name])
        assert done.value.assignment_id is not None
        undo_assignment(coordinator, done.value.assignment_id)
