"""Importing DICOM folders and NIfTI files into subjects, exams and series.

Headers are read in place (nothing is copied or modified). Identifying DICOM fields are
used for one thing only: finding the subject a study belongs to through the
coordinator-only identity link, which a study can turn off. Re-importing the same files
adds nothing; a series that is the same images as one already in the study (a NIfTI
conversion of a DICOM series) is reported as a duplicate and not added; label maps go
to the exam whose series they fit (:mod:`myoscore.app.import_plan` decides all of it
first, so ``dry_run`` shows the plan and writes nothing).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from myoscore.app.changes import StudyChanges
from myoscore.app.import_plan import (
    ADDED,
    DUPLICATE,
    KNOWN,
    LABEL_MAP,
    NEW_EXAM,
    SKIPPED,
    ImportPlan,
    PlanEntry,
    apply_plan,
    plan_import,
)
from myoscore.app.sessions import CoordinatorSession
from myoscore.app.wording import plural

__all__ = ["ImportPlan", "ImportSummary", "PlanEntry", "apply_import", "import_paths", "plan_import", "preview"]


@dataclass
class ImportSummary:
    """What an import did (or, for a dry run, would do): counts, and one line per series
    source (DICOM folder or NIfTI file) saying what became of it (:attr:`entries`)."""

    series_added: int = 0
    series_known: int = 0
    exams_added: int = 0
    subjects: set[str] = field(default_factory=set)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    issues: list[str] = field(default_factory=list)
    n_files: int = 0
    duplicates: int = 0
    label_maps: int = 0  # label maps attached (of series_added)
    not_attached: int = 0  # series left out for a reason (label maps that fit no exam)
    dry_run: bool = False
    entries: list[PlanEntry] = field(default_factory=list, repr=False)

    @property
    def changes(self) -> StudyChanges:
        """What the import changed (exams and series), for the screens to redraw."""
        return StudyChanges(exams=self.exams_added > 0, series=self.series_added > 0)

    def headline(self) -> str:
        if self.dry_run:
            return (f"Preview, nothing written yet: {self.n_files} files read; would add {self.series_added} series "
                    f"({self.label_maps} label maps) in {plural(self.exams_added, 'new exam')}; "
                    f"{self.duplicates} duplicates, {self.series_known} already known, "
                    f"{self.not_attached} series skipped, {len(self.skipped)} files skipped")
        return (f"{self.n_files} files read: {self.series_added} series added ({self.label_maps} label maps), "
                f"{self.series_known} already known, {self.duplicates} duplicates not added, "
                f"{self.exams_added} new exams, {self.not_attached} series skipped, "
                f"{len(self.skipped)} files skipped")

    def entry_lines(self) -> list[str]:
        """One line per series found (per target exam for a label map), by source folder."""
        return [entry.text() for entry in sorted(self.entries, key=lambda e: e.source)]

    def lines(self) -> list[str]:
        out = [self.headline()]
        out += [f"  {line}" for line in self.entry_lines()]
        out += [f"  ! {issue}" for issue in self.issues]
        out += [f"  skipped {path}: {reason}" for path, reason in self.skipped]
        return out

    def to_json(self) -> dict[str, object]:
        return {
            "dry_run": self.dry_run, "files": self.n_files, "series_added": self.series_added,
            "series_known": self.series_known, "duplicates": self.duplicates, "label_maps": self.label_maps,
            "exams_added": self.exams_added, "subjects": sorted(self.subjects), "issues": self.issues,
            "skipped": [{"path": p, "reason": r} for p, r in self.skipped],
            "series": [_entry_json(e) for e in sorted(self.entries, key=lambda e: e.source)],
        }


def _entry_json(entry: PlanEntry) -> dict[str, object]:
    target = entry.target
    exam: int | None = target if isinstance(target, int) else (
        target.created.id if target is not None and target.created is not None else None)
    original = entry.duplicate_of
    duplicate_of = getattr(original, "added", None) if isinstance(original, PlanEntry) else original
    return {
        "source": entry.source, "kind": entry.kind.value, "action": entry.action, "exam": exam,
        "new_exam": target.number if target is not None and not isinstance(target, int) else None,
        "series": entry.added.id if entry.added else (entry.known.id if entry.known else None),
        "duplicate_of": getattr(duplicate_of, "id", None), "reason": entry.reason, "text": entry.outcome(),
    }


def _summary(plan: ImportPlan, *, dry_run: bool) -> ImportSummary:
    new_exams = plan.new_exams
    summary = ImportSummary(n_files=plan.n_files, skipped=list(plan.skipped_files), dry_run=dry_run,
                            entries=list(plan.entries))
    summary.series_known = plan.count(KNOWN)
    summary.duplicates = plan.count(DUPLICATE)
    summary.not_attached = plan.count(SKIPPED)
    if dry_run:
        summary.series_added = plan.count(NEW_EXAM) + plan.count(ADDED) + plan.count(LABEL_MAP)
        summary.label_maps = plan.count(LABEL_MAP)
        summary.exams_added = len(new_exams)
        summary.subjects = {e.subject_code for e in new_exams if e.subject_code}
    else:
        added = [e for e in plan.entries if e.added is not None]
        summary.series_added = len(added)
        summary.label_maps = sum(1 for e in added if e.action == LABEL_MAP)
    return summary


def preview(plan: ImportPlan) -> ImportSummary:
    """What ``plan`` would do, as a summary (``dry_run``): the GUI's preview dialog."""
    return _summary(plan, dry_run=True)


def apply_import(coordinator: CoordinatorSession, plan: ImportPlan) -> ImportSummary:
    """Write a plan made by :func:`plan_import` (the GUI's Import after its preview)."""
    counts = apply_plan(coordinator, plan)
    summary = _summary(plan, dry_run=False)
    summary.exams_added = counts.exams_added
    summary.subjects = counts.subjects
    summary.issues = counts.issues
    return summary


def import_paths(
    coordinator: CoordinatorSession,
    paths: Iterable[str | Path],
    *,
    subject_code: str | None = None,
    exam_id: int | None = None,
    link_identity: bool = True,
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ImportSummary:
    """Index ``paths`` and register what they hold.

    Parameters
    ----------
    exam_id
        Attach every series found to this existing exam (e.g. a label map made by a
        segmentation tool, or NIfTI files converted elsewhere).
    subject_code
        Put every study found under this subject. Otherwise a study goes to the subject
        its PatientID is linked to, or to a new pseudonymous subject (``SUBJ-0007``).
    link_identity
        Keep (and use) the coordinator-only PatientID → subject link. Off: nothing
        identifying is stored at all.
    dry_run
        Decide everything and write nothing: the summary says what an import would do.
    """
    plan = plan_import(coordinator, paths, subject_code=subject_code, exam_id=exam_id,
                       link_identity=link_identity, progress=progress)
    if dry_run:
        return preview(plan)
    return apply_import(coordinator, plan)
