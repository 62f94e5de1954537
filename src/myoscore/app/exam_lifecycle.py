"""An exam's lifecycle: exclude it from the study (and include it again), or delete it.

**Excluding** keeps everything (reads, ratings, series, consensus) and records why; the
exam then leaves every reader's worklist (the reader store hides its reads, like a repeat
read in wash-out) and everything the coordinator analyses: agreement, consensus work
lists, derived scores, progress counts and every export. Each of those use cases takes
``include_excluded=True`` to count excluded exams again; the filtering itself happens in
one place (:mod:`myoscore.app.coordination` and the store's ``in_scope`` clause).
Including the exam again brings it all back as it was. Both are audited
(``exclude_exam`` / ``include_exam``, the reason old → new).

**Deleting** is for an exam that should never have been there (a duplicate import, an
exam of label maps only): allowed only while no read of it is submitted and it has no
consensus; its unsubmitted reads and their ratings, its series rows and its subject (when
that has no other exam) go with it, each audited. Otherwise the refusal names the exam and
says to exclude it instead. Image files are never touched.
"""

from __future__ import annotations

from dataclasses import dataclass

from myoscore.app.changes import NO_CHANGE, Done, StudyChanges
from myoscore.app.sessions import CoordinatorSession
from myoscore.app.wording import plural
from myoscore.domain import Exam, MyoscoreError
from myoscore.domain.boundary import checked_function
from myoscore.store import StudyRepository

__all__ = ["DELETED", "EXAM_SCOPE", "ExamDeletion", "delete_exam", "deletion_plan", "exam_name", "exclude_exam",
           "excluded_exams", "include_exam"]

#: Excluding or including an exam changes which exams and reads every list shows and
#: what agreement, consensus and scores are computed over.
EXAM_SCOPE = StudyChanges(exams=True, reads=True, consensus=True)
#: Deleting an exam removes it, its series and its reads.
DELETED = StudyChanges(exams=True, series=True, reads=True)


@dataclass(frozen=True)
class ExamDeletion:
    """What deleting an exam removes (or removed): its unsubmitted reads, their ratings,
    its series rows, and its subject when it has no other exam."""

    exam: Exam
    reads: int
    ratings: int
    series: int
    subject_deleted: bool

    def sentence(self) -> str:
        """``"exam 3 (SUBJ-0002 · baseline): 2 reads with 14 ratings, 3 series and subject SUBJ-0002"``."""
        parts = [f"{plural(self.reads, 'read')} with {plural(self.ratings, 'rating')}",
                 plural(self.series, "series")]
        if self.subject_deleted:
            parts.append(f"subject {self.exam.subject_code}")
        return f"{exam_name(self.exam)}: {', '.join(parts[:-1])} and {parts[-1]}"


def exam_name(exam: Exam) -> str:
    """How a refusal or a confirmation names an exam: ``exam 3 (SUBJ-0002 · baseline)``."""
    return f"exam {exam.id} ({exam.subject_code} · {exam.label})"


@checked_function
def exclude_exam(coordinator: CoordinatorSession, exam_id: int, reason: str) -> Done[Exam]:
    """Exclude an exam from the study with a reason (required; audited). An excluded exam
    given a new reason keeps being excluded with that one."""
    text = " ".join(reason.split())
    if not text:
        raise MyoscoreError(f"exam {exam_id}: say why it is excluded (the reason is kept with the exam and in "
                            "the audit trail)")
    with coordinator.unit() as repo:
        exam = repo.exam(exam_id)
        if exam.excluded_at is not None and exam.excluded_reason == text:
            return Done(exam, NO_CHANGE)
        return Done(repo.set_exam_excluded(exam_id, text), EXAM_SCOPE)


@checked_function
def include_exam(coordinator: CoordinatorSession, exam_id: int) -> Done[Exam]:
    """Include an excluded exam again (audited): its reads, ratings and consensus are back
    in worklists, agreement, scores and exports as they were."""
    with coordinator.unit() as repo:
        exam = repo.exam(exam_id)
        if exam.excluded_at is None:
            raise MyoscoreError(f"{exam_name(exam)} is not excluded")
        return Done(repo.set_exam_excluded(exam_id, None), EXAM_SCOPE)


@checked_function
def deletion_plan(coordinator: CoordinatorSession, exam_id: int) -> ExamDeletion:
    """What :func:`delete_exam` would remove, for a confirmation; refused (``MyoscoreError``,
    naming the exam and why) when the exam may not be deleted."""
    with coordinator.unit() as repo:
        return _plan(repo.exam(exam_id), repo)


def _plan(exam: Exam, repo: StudyRepository) -> ExamDeletion:
    contents = repo.exam_contents(exam.id)
    if contents.submitted_reads:
        raise MyoscoreError(f"{exam_name(exam)} has {plural(contents.submitted_reads, 'submitted read')}; "
                            "exclude it instead")
    if contents.consensus:
        raise MyoscoreError(f"{exam_name(exam)} has {plural(contents.consensus, 'consensus value')}; "
                            "exclude it instead")
    return ExamDeletion(exam, contents.reads, contents.ratings, contents.series, contents.subject_exams <= 1)


@checked_function
def delete_exam(coordinator: CoordinatorSession, exam_id: int) -> Done[ExamDeletion]:
    """Delete an exam no read of which is submitted (see :func:`deletion_plan`), in one unit
    of work: its reads and their ratings, its series rows, its subject if it becomes empty.
    Each is audited; the image files stay where they are."""
    with coordinator.unit() as repo:
        plan = _plan(repo.exam(exam_id), repo)
        repo.delete_exam(exam_id)
        return Done(plan, DELETED)


def excluded_exams(coordinator: CoordinatorSession) -> list[Exam]:
    """The excluded exams with their reasons, by subject then exam id."""
    return [exam for exam in coordinator.exams() if exam.excluded_at is not None]
