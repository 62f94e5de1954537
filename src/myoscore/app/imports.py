"""Importing DICOM folders and NIfTI files into subjects, exams and series.

Headers are read in place (nothing is copied or modified). Identifying DICOM fields are
used for one thing only: finding the subject a study belongs to through the
coordinator-only identity link, which a study can turn off. Re-importing the same files
adds nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from myoscore.app.changes import StudyChanges
from myoscore.app.sessions import CoordinatorSession
from myoscore.domain import Sequence
from myoscore.imaging import SeriesRecord, index_paths

# A NIfTI whose name says it is a segmentation is shown as an overlay, never scored.
_LABEL_MAP_NAME = re.compile(r"(label|labels|seg|segmentation|mask)", re.IGNORECASE)


@dataclass
class ImportSummary:
    series_added: int = 0
    series_known: int = 0
    exams_added: int = 0
    subjects: set[str] = field(default_factory=set)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    issues: list[str] = field(default_factory=list)
    n_files: int = 0

    @property
    def changes(self) -> StudyChanges:
        """What the import changed (exams and series), for the screens to redraw."""
        return StudyChanges(exams=self.exams_added > 0, series=self.series_added > 0)

    def lines(self) -> list[str]:
        out = [
            f"{self.n_files} files read: {self.series_added} series added, {self.series_known} already known, "
            f"{self.exams_added} new exams, {len(self.skipped)} files skipped"
        ]
        out += [f"  ! {issue}" for issue in self.issues]
        out += [f"  skipped {path}: {reason}" for path, reason in self.skipped]
        return out


def _study_date(text: str) -> date | None:
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:8])) if len(text) >= 8 else None
    except ValueError:
        return None


def _kind(record: SeriesRecord) -> tuple[Sequence, str]:
    if record.source == "nifti" and _LABEL_MAP_NAME.search(record.paths[0].name):
        return Sequence.LABEL_MAP, f"file name '{record.paths[0].name}' → label map"
    return record.kind, record.kind_reason


def _z_range(record: SeriesRecord) -> tuple[float, float] | None:
    """The series' extent along the body (patient z, mm) from its slice positions and
    in-plane size; ``None`` when the headers give no positions (NIfTI: from the volume)."""
    if not record.slices:
        return None
    rows, columns = record.shape[1], record.shape[2]
    cosines = record.orientation if len(record.orientation) == 6 else (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
    dz_row = cosines[2] * (columns - 1) * record.spacing[0]  # along a row (columns direction)
    dz_col = cosines[5] * (rows - 1) * record.spacing[1]
    zs = [ref.position[2] + a + b for ref in record.slices for a in (0.0, dz_row) for b in (0.0, dz_col)]
    return (min(zs), max(zs))


def import_paths(
    coordinator: CoordinatorSession,
    paths: Iterable[str | Path],
    *,
    subject_code: str | None = None,
    exam_id: int | None = None,
    link_identity: bool = True,
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
    """
    result = index_paths([Path(p) for p in paths], progress)
    summary = ImportSummary(n_files=result.n_files)
    summary.skipped = [(str(s.path), s.reason) for s in result.skipped]
    exams: dict[str, int] = {}
    touched: set[int] = set()
    for record in result.series:
        target = exam_id if exam_id is not None else exams.get(record.study_uid)
        if target is None:
            code = subject_code or coordinator.subject_for_patient(record.patient_id, link=link_identity)
            exam, created = coordinator.exam_for_study(code, record.study_uid, _study_date(record.study_date))
            if link_identity and record.patient_id:
                # The study's own subject: a re-imported study keeps the subject it has.
                coordinator.link_patient(exam.subject_code, record.patient_id)
            exams[record.study_uid] = target = exam.id
            summary.exams_added += created
            summary.subjects.add(exam.subject_code)
        kind, reason = _kind(record)
        files = list(dict.fromkeys(str(p) for p in record.paths))
        # Files attached to a named exam may be attached to others too (one label map
        # for both timepoints), so their identity includes the exam.
        uid = record.key if exam_id is None else f"{record.key}@exam{exam_id}"
        added = coordinator.add_series(
            target, uid, kind, kind_reason=reason, description=record.description,
            path=str(record.folder), files=files, shape=record.shape, spacing=record.spacing,
            issues=record.issues, part=record.split, z_range=_z_range(record),
        )
        if added is None:
            summary.series_known += 1
        else:
            touched.add(target)
            summary.series_added += 1
            summary.issues += [f"series {added.id} ({record.description}): {issue}" for issue in record.issues]
    if touched:
        from myoscore.app.coverage import refresh_exam_regions

        refresh_exam_regions(coordinator, sorted(touched))
    return summary
