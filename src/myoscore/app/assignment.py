"""Assignment by selection: chosen exams to chosen readers in a study design, recorded, undoable.

The coordinator chooses exams (or "every exam not yet assigned for the protocol"), readers,
a protocol and a design:

- ``all``: every chosen reader reads every chosen exam (two readers × all exams is the
  classic inter-reader study);
- ``balanced``, for studies too large for everyone to read everything: an *anchor* set of
  exams read by every reader (their agreement is measured on it), and every other exam
  read by exactly ``per_exam`` readers, the readers taking turns so that their loads
  differ by at most one and pairs of readers share exams as evenly as the turns allow.
  Which exams are anchors and who reads what follow from the seed alone
  (:func:`balanced_design`), so the design can be reproduced from the recorded seed.

Each assignment is recorded (table ``assignments``: design, seed, protocol, readers,
exams, parameters; every read it creates names it) and audited. Each reader's new reads
join the end of their worklist in the order :func:`myoscore.app.sessions.worklist_order`
draws from the same seed, as every assignment does (spread under timepoint blinding so
that a subject's exams are never adjacent). An assignment can be undone — its
reads deleted, audited — while none of its reads has a rating or was submitted.

:func:`plan_assignment` is the dry run (the confirmation dialog and ``assign --dry-run``
show its :meth:`AssignmentPlan.question`); :func:`assign_selected` creates the reads;
:func:`undo_assignment` undoes; :func:`assignments` lists them; :func:`exam_choices`
is the coordinator's exam checklist (who reads each exam already, its group, whether it is
excluded).
"""

from __future__ import annotations

import logging
import random
import secrets
from collections import Counter
from collections.abc import Sequence as Seq
from dataclasses import dataclass, field
from itertools import combinations

from myoscore.app.changes import NO_CHANGE, READS, Done
from myoscore.app.groups import evaluate_groups, group_rules_for
from myoscore.app.schemes import protocol as shipped_protocol
from myoscore.app.sessions import CoordinatorSession, worklist_order
from myoscore.app.wording import plural
from myoscore.domain import Assignment, MyoscoreError, Read, ReadStatus, Role
from myoscore.domain.boundary import checked_function
from myoscore.store import NewRead

__all__ = [
    "DESIGNS",
    "AssignmentPlan",
    "Design",
    "ExamChoice",
    "all_design",
    "assign_selected",
    "assignments",
    "balanced_design",
    "exam_choices",
    "group_labels",
    "make_design",
    "plan_assignment",
    "undo_assignment",
]

log = logging.getLogger(__name__)

#: The study designs, by the name the CLI, the GUI and the ``assignments`` table use.
DESIGNS = ("all", "balanced")
#: Readers per non-anchor exam when the balanced design is not told otherwise (fewer if fewer are chosen).
DEFAULT_PER_EXAM = 2


# -- designs: pure functions ---------------------------------------------------------------
@dataclass(frozen=True)
class Design:
    """Who reads which exam (worklist order comes later, per reader).

    Attributes
    ----------
    name
        ``all`` or ``balanced``.
    by_reader
        Reader name → the exam ids they read, sorted.
    anchors
        The exams every reader reads (balanced design; every exam in the ``all`` design).
    per_exam
        Readers per non-anchor exam (balanced design), else ``None``.
    anchor
        The number of anchors asked for (balanced design), else ``None``.
    """

    name: str
    by_reader: dict[str, tuple[int, ...]] = field(hash=False)
    anchors: tuple[int, ...] = ()
    per_exam: int | None = None
    anchor: int | None = None

    @property
    def exam_ids(self) -> tuple[int, ...]:
        return tuple(sorted({exam_id for ids in self.by_reader.values() for exam_id in ids}))

    @property
    def n_reads(self) -> int:
        return sum(len(ids) for ids in self.by_reader.values())

    def readers_of(self, exam_id: int) -> tuple[str, ...]:
        return tuple(name for name, ids in self.by_reader.items() if exam_id in ids)


def all_design(exam_ids: Seq[int], readers: Seq[str]) -> Design:
    """Every reader reads every exam."""
    exams = tuple(sorted(set(exam_ids)))
    return Design("all", dict.fromkeys(readers, exams), anchors=exams)


def balanced_design(exam_ids: Seq[int], readers: Seq[str], *, anchor: int, per_exam: int, seed: str) -> Design:
    """Anchors read by every reader; every other exam by exactly ``per_exam`` readers.

    The exams are shuffled by ``random.Random(f"{seed}:balanced")``; the first ``anchor``
    of them are the anchors. The other exams are dealt in that order, each to the
    ``per_exam`` readers with the fewest reads so far — ties going to the reader who has
    read fewest exams together with those already chosen for the exam, then by a seeded
    draw — so readers take turns: loads differ by at most one, and every pair of readers
    shares about as many exams as any other. Same exams, readers, parameters and seed →
    the same design. Parameters are checked by :func:`make_design`.
    """
    names = sorted(readers)
    rng = random.Random(f"{seed}:balanced")
    exams = sorted(set(exam_ids))
    rng.shuffle(exams)
    anchors, rest = exams[:anchor], exams[anchor:]
    chosen: dict[str, list[int]] = {name: list(anchors) for name in names}
    load = Counter(dict.fromkeys(names, 0))
    together: Counter[tuple[str, ...]] = Counter()
    for exam_id in rest:
        draw = names[:]
        rng.shuffle(draw)
        rank = {name: i for i, name in enumerate(draw)}
        picked: list[str] = []
        for _ in range(per_exam):
            best = min((name for name in names if name not in picked),
                       key=lambda name: (load[name], sum(together[_pair(name, p)] for p in picked), rank[name]))
            picked.append(best)
        for name in picked:
            load[name] += 1
            chosen[name].append(exam_id)
        for first, second in combinations(picked, 2):
            together[_pair(first, second)] += 1
    return Design("balanced", {name: tuple(sorted(ids)) for name, ids in chosen.items()},
                  anchors=tuple(sorted(anchors)), per_exam=per_exam, anchor=anchor)


def _pair(first: str, second: str) -> tuple[str, ...]:
    return (first, second) if first < second else (second, first)


def make_design(name: str, exam_ids: Seq[int], readers: Seq[str], *, anchor: int | None = None,
                per_exam: int | None = None, seed: str) -> Design:
    """The named design, after checking its parameters (a sentence naming what is wrong)."""
    if name not in DESIGNS:
        raise MyoscoreError(f"unknown design {name!r} (use {' or '.join(DESIGNS)})")
    n_exams, n_readers = len(set(exam_ids)), len(readers)
    if name == "all":
        if anchor is not None or per_exam is not None:
            raise MyoscoreError("the 'all' design gives every exam to every reader: the anchor and "
                                "per-exam numbers belong to the balanced design")
        return all_design(exam_ids, readers)
    k = min(DEFAULT_PER_EXAM, n_readers) if per_exam is None else per_exam
    a = 0 if anchor is None else anchor
    if not 1 <= k <= n_readers:
        raise MyoscoreError(f"readers per exam must be from 1 to the number of readers chosen ({n_readers}), "
                            f"not {k}")
    if not 0 <= a <= n_exams:
        raise MyoscoreError(f"the anchor set must be from 0 to the number of exams chosen ({n_exams}), not {a}")
    return balanced_design(exam_ids, readers, anchor=a, per_exam=k, seed=seed)


# -- the plan and its wording ----------------------------------------------------------------
@dataclass(frozen=True)
class AssignmentPlan:
    """An assignment before (dry run) or after it was made.

    Attributes
    ----------
    protocol
        The protocol's name.
    design
        Who reads what (:class:`Design`).
    seed
        The seed of the design and of each worklist order, as recorded.
    worklists
        Reader name → their new exams in worklist order (positions follow their last one).
    assignment_id
        The recorded assignment; ``None`` for a dry run or when there was nothing to assign.
    reads
        The reads created (empty for a dry run).
    """

    protocol: str
    design: Design
    seed: str
    worklists: dict[str, tuple[int, ...]] = field(hash=False)
    assignment_id: int | None = None
    reads: tuple[Read, ...] = ()

    @property
    def readers(self) -> tuple[str, ...]:
        return tuple(self.worklists)

    @property
    def exam_ids(self) -> tuple[int, ...]:
        return self.design.exam_ids

    @property
    def n_reads(self) -> int:
        return self.design.n_reads

    def counts(self) -> str:
        """``"4 reads: 2 exams × 2 readers"`` (balanced: how many anchors, how many readers each)."""
        reads, exams = plural(self.n_reads, "read"), plural(len(self.exam_ids), "exam")
        readers = plural(len(self.readers), "reader")
        if self.design.name == "all":
            return f"{reads}: {exams} × {readers}"
        anchors = len(self.design.anchors)
        others = len(self.exam_ids) - anchors
        return (f"{reads}: {exams} for {readers}, {plural(anchors, 'anchor exam')} read by every reader and "
                f"{others} read by {self.design.per_exam} readers each")

    def question(self) -> str:
        """The confirmation: ``"Create 4 reads: 2 exams × 2 readers?"``."""
        return f"Create {self.counts()}?"

    def loads(self) -> dict[str, int]:
        return {name: len(ids) for name, ids in self.worklists.items()}


# -- use cases -----------------------------------------------------------------------------------
def _seed_text(seed: int | None) -> str:
    return str(seed if seed is not None else secrets.randbelow(2**31))


def _plan(coordinator: CoordinatorSession, protocol_name: str, reader_names: Seq[str], exam_ids: Seq[int] | None,
          design: str, anchor: int | None, per_exam: int | None, seed: int | None,
          *, record: bool) -> AssignmentPlan:
    protocol = shipped_protocol(protocol_name)
    names = [name.strip() for name in reader_names]
    if not names or not all(names):
        raise MyoscoreError("choose at least one reader")
    if len(set(names)) != len(names):
        raise MyoscoreError(f"a reader is chosen twice: {', '.join(names)}")
    if exam_ids is not None:
        if not exam_ids:
            raise MyoscoreError("choose at least one exam")
        twice = sorted(exam_id for exam_id, n in Counter(exam_ids).items() if n > 1)
        if twice:
            raise MyoscoreError(f"exam {twice[0]} is chosen twice")
    seed_text = _seed_text(seed)
    with coordinator.unit() as repo:
        readers = [repo.reader(name) for name in names]  # NotFound names the reader
        for reader in readers:
            if reader.role is Role.COORDINATOR:
                raise MyoscoreError(f"{reader.name} is a coordinator, not a reader")
            if not reader.active:
                raise MyoscoreError(f"{reader.name} is not an active user")
        existing = [r for r in repo.reads(protocol_name=protocol.name) if r.repeat == 0]
        if exam_ids is None:
            taken = {read.exam_id for read in existing}
            wanted = [exam.id for exam in repo.exams() if exam.id not in taken and exam.excluded_at is None]
        else:
            wanted = list(exam_ids)
            for exam in repo.exams(wanted):
                if exam.excluded_at is not None:
                    raise MyoscoreError(f"exam {exam.id} ({exam.subject_code} {exam.label}) is excluded"
                                        + (f" ({exam.excluded_reason})" if exam.excluded_reason else "")
                                        + ": include it again before assigning it")
            found = {exam.id for exam in repo.exams(wanted)}
            missing = [exam_id for exam_id in wanted if exam_id not in found]
            if missing:
                raise MyoscoreError(f"no exam {missing[0]}")
        chosen = make_design(design, wanted, names, anchor=anchor, per_exam=per_exam, seed=seed_text) \
            if wanted else Design(design, dict.fromkeys(names, ()))
        have = {(read.reader_name, read.exam_id) for read in existing}
        clashes = [(name, exam_id) for name in names for exam_id in chosen.by_reader[name] if (name, exam_id) in have]
        if clashes:
            more = f" (and {plural(len(clashes) - 1, 'other read')})" if len(clashes) > 1 else ""
            name, exam_id = clashes[0]
            raise MyoscoreError(f"exam {exam_id} is already assigned to {name} for {protocol.name}{more}; "
                                "choose exams not yet assigned to these readers")
        worklists = {name: tuple(worklist_order(repo, chosen.by_reader[name], seed_text, name)) for name in names}
        plan = AssignmentPlan(protocol.name, chosen, seed_text, worklists)
        if not record or not plan.n_reads:
            return plan
        repo.register_protocol(protocol)
        assignment_id = repo.assignments.add(chosen.name, seed_text, {
            "protocol": protocol.name, "protocol_hash": protocol.hash, "readers": names,
            "exams": list(chosen.exam_ids), "anchor": chosen.anchor, "per_exam": chosen.per_exam,
            "anchors": list(chosen.anchors) if chosen.name == "balanced" else [],
        })
        created: list[int] = []
        for reader in readers:
            start = repo.last_position(reader.id)
            for offset, exam_id in enumerate(worklists[reader.name], start=1):
                created.append(repo.add_read(NewRead(
                    reader.id, exam_id, protocol.hash, start + offset, seed_text, assignment_id=assignment_id,
                    note=f"{reader.name} exam {exam_id} {protocol.name} seed {seed_text} "
                         f"assignment {assignment_id}")))
        log.info("assignment %d: %d reads of %s, design %s (seed %s)", assignment_id, len(created),
                 protocol.name, chosen.name, seed_text)
        reads = sorted(repo.reads(ids=created), key=lambda read: (names.index(read.reader_name), read.position))
        return AssignmentPlan(protocol.name, chosen, seed_text, worklists, assignment_id, tuple(reads))


@checked_function
def plan_assignment(coordinator: CoordinatorSession, protocol_name: str, reader_names: Seq[str],
                    exam_ids: Seq[int] | None = None, *, design: str = "all", anchor: int | None = None,
                    per_exam: int | None = None, seed: int | None = None) -> AssignmentPlan:
    """What :func:`assign_selected` would create, with nothing stored (the dry run).

    ``exam_ids=None``: every exam without a read of the protocol that is not excluded.
    Give the seed the plan shows to :func:`assign_selected` to get exactly this plan."""
    return _plan(coordinator, protocol_name, reader_names, exam_ids, design, anchor, per_exam, seed,
                 record=False)


@checked_function
def assign_selected(coordinator: CoordinatorSession, protocol_name: str, reader_names: Seq[str],
                    exam_ids: Seq[int] | None = None, *, design: str = "all", anchor: int | None = None,
                    per_exam: int | None = None, seed: int | None = None) -> Done[AssignmentPlan]:
    """Assign the chosen exams to the chosen readers in the design; record the assignment.

    Refused, with nothing stored, when a reader or exam is unknown, a reader is a
    coordinator, an exam is excluded, a chosen reader already has a read of a chosen exam
    with this protocol, or the design's parameters do not fit. With ``exam_ids=None`` and
    nothing left to assign, nothing is recorded (``NO_CHANGE``)."""
    plan = _plan(coordinator, protocol_name, reader_names, exam_ids, design, anchor, per_exam, seed, record=True)
    return Done(plan, READS if plan.reads else NO_CHANGE)


@checked_function
def assignments(coordinator: CoordinatorSession) -> list[Assignment]:
    """The recorded assignments, newest first, with how many reads each has and has started."""
    with coordinator.unit() as repo:
        return repo.assignments.assignments()


def _started(read: Read) -> bool:
    return read.done > 0 or read.status is ReadStatus.SUBMITTED


@checked_function
def undo_assignment(coordinator: CoordinatorSession, assignment_id: int) -> Done[Assignment]:
    """Delete the reads of an assignment (each audited) while none has a rating or was submitted.

    Refused with a sentence naming the started reads otherwise
    (``assignment 4: 3 of its 10 reads have ratings (reader A exam 2, …)``)."""
    with coordinator.unit() as repo:
        store = repo.assignments
        record = store.assignment(assignment_id)  # NotFound: "no assignment 4"
        if record.undone_at is not None:
            raise MyoscoreError(f"assignment {assignment_id} was already undone "
                                f"({record.undone_at:%Y-%m-%d %H:%M} by {record.undone_by})")
        reads = store.reads(assignment_id)
        started = [read for read in reads if _started(read)]
        if started:
            shown = ", ".join(f"reader {read.reader_name} exam {read.exam_id}" for read in started[:3])
            if len(started) > 3:
                shown += f" and {len(started) - 3} more"
            one = len(started) == 1
            what = ("has ratings" if one else "have ratings") if all(read.done for read in started) else \
                ("has ratings or is submitted" if one else "have ratings or are submitted")
            raise MyoscoreError(f"assignment {assignment_id}: {len(started)} of its {plural(len(reads), 'read')} "
                                f"{what} ({shown}); nothing was undone")
        store.delete_reads(assignment_id, reads)
        log.info("assignment %d undone: %d reads deleted", assignment_id, len(reads))
        return Done(store.assignment(assignment_id), READS if reads else NO_CHANGE)


# -- the coordinator's exam checklist ---------------------------------------------------------
@dataclass(frozen=True)
class ExamChoice:
    """One row of the exam checklist (coordinator-only: subject code and label shown).

    Attributes
    ----------
    readers
        The readers who already have a (first) read of the exam with the protocol.
    group
        The subject's study group for the protocol's group rules (``app.groups``), if any.
    excluded
        The exam is excluded (it cannot be assigned until included again).
    """

    exam_id: int
    subject_code: str
    label: str
    readers: tuple[str, ...] = ()
    group: str | None = None
    excluded: bool = False

    @property
    def assigned(self) -> bool:
        return bool(self.readers)


@checked_function
def exam_choices(coordinator: CoordinatorSession, protocol_name: str) -> list[ExamChoice]:
    """Every exam with who already reads it with ``protocol_name``, its group, and whether
    it is excluded: what the checklist shows and filters on."""
    exams = coordinator.exams()
    readers: dict[int, list[str]] = {}
    for read in coordinator.reads(protocol_name):
        if read.repeat == 0:
            readers.setdefault(read.exam_id, []).append(read.reader_name)
    rules = group_rules_for(protocol_name)
    groups = evaluate_groups(rules, exams) if rules is not None else {}
    return [ExamChoice(exam.id, exam.subject_code, exam.label, tuple(sorted(readers.get(exam.id, ()))),
                       groups.get(exam.subject_code), exam.excluded_at is not None)
            for exam in exams]


def group_labels(protocol_name: str) -> tuple[str, ...]:
    """The study groups of a protocol's shipped group rules, in their order (none: ``()``)."""
    rules = group_rules_for(protocol_name)
    return rules.labels if rules is not None else ()
