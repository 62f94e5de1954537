"""What an import will do, decided before anything is written: the import plan.

:func:`plan_import` indexes the paths (headers only) and decides, for every series found,
one of:

``new exam`` / ``added``
    An image series registered in a new exam (its DICOM study, or its NIfTI folder) or in
    the exam that already holds its study (or the exam named with ``exam_id``).
``already imported``
    Its UID (DICOM Series Instance UID + split part; a NIfTI file's path) is registered.
``duplicate``
    The same images as a stored series, or as a series found earlier in the same import:
    equal grid (shape, spacing, direction, origin within 0.01 mm) and equal voxel values
    in one canonical orientation (:mod:`myoscore.imaging.fingerprint`) — typically the
    NIfTI conversion of a DICOM series. Not added; the report names both. DICOM series
    are planned before NIfTI files, so of a DICOM series and its conversion the DICOM
    series is the one kept (it has UIDs, a study date and the PatientID link).
``label map``
    A segmentation (by its file name) is attached to every exam that has an image series
    on the label map's grid, when those exams belong to one subject (one map for the
    baseline and follow-up of a fixed protocol); never to a new exam of its own. Failing
    that, to the exam the image series of its own folder go to.
``skipped``
    A label map no exam's grid fits, or that fits exams of several subjects.

Pixels are read only where grids match (a candidate duplicate), so an import of new
studies stays a header-only read. Fingerprints are computed on demand from the files
of stored series, not stored in the database: the stored series' files are where they
were imported from (they are read in place), and a study imports a folder rarely.

:func:`apply_plan` then writes the plan: subjects and exams, identity links, series,
the regions of the exams it touched. A new exam is created only for an image series it
will hold, so no exam without a viewable series appears.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from myoscore.app.sessions import CoordinatorSession
from myoscore.domain import Exam, MyoscoreError, Sequence, Series
from myoscore.imaging import SeriesRecord, index_paths
from myoscore.imaging.fingerprint import (
    Fingerprint,
    Grid,
    Probe,
    files_grid,
    fingerprint,
    probe_of,
    probe_record,
    record_grid,
    same_content,
    size_key,
)

if TYPE_CHECKING:  # pragma: no cover - typing only
    from myoscore.imaging import Volume

log = logging.getLogger(__name__)

__all__ = [
    "ADDED",
    "DUPLICATE",
    "KNOWN",
    "LABEL_MAP",
    "NEW_EXAM",
    "SKIPPED",
    "AppliedCounts",
    "ImportPlan",
    "NewExam",
    "PlanEntry",
    "apply_plan",
    "plan_import",
]

NEW_EXAM = "new exam"
ADDED = "added"
KNOWN = "already imported"
DUPLICATE = "duplicate"
LABEL_MAP = "label map"
SKIPPED = "skipped"

#: z-extents (mm) of two grids that can be the same differ by less than this.
_Z_TOLERANCE_MM = 0.05

# A NIfTI whose name says it is a segmentation is shown as an overlay, never scored.
_LABEL_MAP_NAME = re.compile(r"(label|labels|seg|segmentation|mask)", re.IGNORECASE)


@dataclass(eq=False)
class NewExam:
    """An exam the plan creates: one DICOM study or NIfTI folder."""

    number: int  # 1, 2 … within the plan
    study_uid: str
    subject_code: str | None  # given, or linked to the study's PatientID
    new_subject: int | None  # otherwise: the plan's n-th new subject (one per PatientID)
    exam_date: date | None
    patient_id: str = field(default="", repr=False)  # identifying: only for the link
    created: Exam | None = None  # set when the plan is applied

    def text(self) -> str:
        if self.created is not None:
            return f"new exam {self.created.id} (subject {self.created.subject_code})"
        subject = (f"subject {self.subject_code}" if self.subject_code
                   else f"new subject {self.new_subject}")
        return f"new exam #{self.number} ({subject})"


#: Where a series goes: an existing exam's id, or an exam the plan creates.
Target = int | NewExam


def _target_text(target: Target) -> str:
    return f"exam {target}" if isinstance(target, int) else target.text()


def _target_subject(target: Target, exams: dict[int, Exam]) -> tuple[str, object]:
    if isinstance(target, int):
        return ("code", exams[target].subject_code)
    if target.subject_code:
        return ("code", target.subject_code)
    return ("new", target.new_subject)


@dataclass(eq=False)
class PlanEntry:
    """One series found, and what the plan does with it (one per target for label maps)."""

    source: str  # the DICOM series' folder or the NIfTI file
    record: SeriesRecord = field(repr=False)
    kind: Sequence
    kind_reason: str
    action: str
    target: Target | None = None
    known: Series | None = None  # already imported: the stored series
    duplicate_of: Series | PlanEntry | None = None
    reason: str = ""  # skipped: why; label map: how its exam was found
    added: Series | None = None  # set when the plan is applied
    grid: Grid | None = field(default=None, repr=False)
    shown: str = ""  # the source as the user named it: relative to the path imported

    @property
    def name(self) -> str:
        return self.shown or self.source

    @property
    def what(self) -> str:
        return f"{self.kind.value} {'×'.join(str(n) for n in self.record.shape)}"

    def text(self) -> str:
        """One line: the source, what it holds, what becomes of it."""
        return f"{self.name}: {self.what} — {self.outcome()}"

    def outcome(self) -> str:
        if self.action in (NEW_EXAM, ADDED):
            assert self.target is not None
            done = f"series {self.added.id} " if self.added is not None else ""
            return f"{done}{'in' if self.added else 'to'} {_target_text(self.target)}"
        if self.action == KNOWN:
            assert self.known is not None
            return f"already imported as series {self.known.id} of exam {self.known.exam_id}"
        if self.action == DUPLICATE:
            return f"duplicate of {_duplicate_text(self.duplicate_of)}: same grid and voxels, not added"
        if self.action == LABEL_MAP:
            assert self.target is not None
            verb = "attached to" if self.added is not None else "to be attached to"
            return f"label map {verb} {_target_text(self.target)} ({self.reason})"
        return f"skipped: {self.reason}"


def _duplicate_text(other: Series | PlanEntry | None) -> str:
    if isinstance(other, PlanEntry):
        if other.added is not None:
            return f"series {other.added.id} of exam {other.added.exam_id} ({other.name}, imported now)"
        return f"{other.name} (in this import)"
    if other is None:  # pragma: no cover - a duplicate always names its original
        return "another series"
    return f"series {other.id} of exam {other.exam_id} ({other.path})"


@dataclass(eq=False)
class ImportPlan:
    """Everything :func:`plan_import` decided; :func:`apply_plan` writes it."""

    exam_id: int | None
    link_identity: bool
    n_files: int
    skipped_files: list[tuple[str, str]]
    entries: list[PlanEntry]
    new_exams: list[NewExam]
    #: Existing exams of studies found again, with the study's PatientID (for the link).
    relinks: list[tuple[int, str]] = field(default_factory=list, repr=False)

    def count(self, action: str) -> int:
        return sum(1 for e in self.entries if e.action == action)


# ----------------------------------------------------------------------------- content


@dataclass(eq=False)
class _Content:
    """An image series' grid, probe and fingerprints, each read once and only when needed.

    ``load(values)`` reads the whole series; ``load_probe(values)`` only the file(s) of its
    middle plane(s), or returns None when that is not possible (then the probe comes from
    the whole series)."""

    load: Callable[[str], Volume]
    load_probe: Callable[[str], Volume | None] | None = None
    grid: Grid | None = None
    prints: tuple[Fingerprint, ...] | None = None
    probes: tuple[Probe, ...] | None = None
    real_world: bool = False
    failed: bool = False

    def fingerprints(self) -> tuple[Fingerprint, ...]:
        """Display values, and real-world values where the header maps them differently
        (:mod:`myoscore.imaging.scaling`): a converter may have written either."""
        if self.prints is None and not self.failed:
            try:
                display = self.load("display")
                prints = [fingerprint(display, "display")]
                self.real_world = bool(display.metadata.get("real_world_source"))
                if self.real_world:
                    prints.append(fingerprint(self.load("real_world"), "real_world"))
                self.prints = tuple(prints)
                self.grid = prints[0].grid
                if self.probes is None:
                    self.probes = tuple(p for p in (probe_of(display, self.grid),) if p is not None)
            except (MyoscoreError, OSError, ValueError):
                log.exception("a series could not be read for the duplicate check")
                self.failed = True
        return self.prints or ()

    def probe(self) -> tuple[Probe, ...]:
        """The middle plane(s), display and (where they differ) real-world values."""
        if self.probes is None and not self.failed:
            probes: list[Probe] = []
            try:
                display = self.load_probe("display") if self.load_probe is not None else None
                if display is not None and self.grid is not None:
                    probes += [p for p in (probe_of(display, self.grid),) if p is not None]
                    if display.metadata.get("real_world_source") and self.load_probe is not None:
                        real = self.load_probe("real_world")
                        if real is not None:
                            probes += [p for p in (probe_of(real, self.grid, "real_world"),) if p is not None]
            except (MyoscoreError, OSError, ValueError):
                log.exception("the middle slices of a series could not be read for the duplicate check")
                probes = []
            if probes:
                self.probes = tuple(probes)
            else:
                self.fingerprints()  # the whole series, its probe with it
        return self.probes or ()


def _same(a: _Content, b: _Content) -> bool:
    probes_a, probes_b = a.probe(), b.probe()
    if probes_a and probes_b and not any(pa.maybe_same(pb) for pa in probes_a for pb in probes_b):
        return False  # the middle planes differ: no need to read the rest
    for fa in a.fingerprints():
        for fb in b.fingerprints():
            verdict = fa.same_as(fb)
            if verdict is None:
                try:
                    verdict = same_content(a.load(fa.values), b.load(fb.values))
                except (MyoscoreError, OSError, ValueError):
                    log.exception("series could not be compared voxel by voxel")
                    verdict = False
            if verdict:
                return True
    return False


def _load_stored(load_volume: Callable[..., Volume], series: Series, values: str) -> Volume:
    return load_volume(series, values=values)


def _stored_probe(series: Series, values: str) -> Volume | None:
    """The middle file(s) of a stored DICOM series, indexed and loaded on their own."""
    from myoscore.imaging import load_series

    if not series.files or series.files[0].lower().endswith((".nii", ".nii.gz")):
        return None
    n = len(series.files)
    files = [Path(series.files[i]) for i in sorted({(n - 1) // 2, n // 2})]
    if not all(f.exists() for f in files):
        return None
    found = [r for r in index_paths(files).series if r.split == series.part or not series.part]
    if len(found) != 1:
        return None
    part = probe_record(found[0]) if len(files) == 1 else found[0]
    return None if part is None else load_series(part, values=values)


class _Study:
    """The stored image series, their content read lazily, for duplicates and label maps."""

    def __init__(self, stored: list[Series]) -> None:
        from myoscore.app.exam_images import load_volume

        self.images = [s for s in stored if s.kind is not Sequence.LABEL_MAP]
        self.content: dict[int, _Content] = {}
        for series in self.images:
            self.content[series.id] = _Content(load=partial(_load_stored, load_volume, series),
                                               load_probe=partial(_stored_probe, series))
        self._grids: dict[int, Grid | None] = {}

    def candidates(self, grid: Grid) -> list[Series]:
        """Stored image series on this grid: those whose stored shape, spacing and
        z-extent allow it, and whose files (middle slices, else all) then say so."""
        key = grid.size_key()
        low, high = grid.z_range()
        found = []
        for series in self.images:
            if size_key(series.shape, series.spacing) != key:
                continue
            if series.z_range is not None and (abs(series.z_range[0] - low) > _Z_TOLERANCE_MM
                                               or abs(series.z_range[1] - high) > _Z_TOLERANCE_MM):
                continue
            own = self._grid(series)
            if own is not None and own.matches(grid):
                found.append(series)
        return found

    def _grid(self, series: Series) -> Grid | None:
        """A stored series' canonical grid: from the headers of its files (NIfTI: the
        one header; DICOM: its slices), read once."""
        if series.id not in self._grids:
            try:
                grid = files_grid(list(series.files), series.part)
            except (MyoscoreError, OSError, ValueError):
                log.exception("series %s could not be indexed for the duplicate check", series.id)
                grid = None
            self._grids[series.id] = grid
            self.content[series.id].grid = grid
        return self._grids[series.id]


def _record_content(record: SeriesRecord) -> _Content:
    from myoscore.imaging import load_series

    def load_probe(values: str) -> Volume | None:
        part = probe_record(record) if record.source == "dicom" else None
        return None if part is None else load_series(part, values=values)

    return _Content(load=lambda values: load_series(record, values=values), load_probe=load_probe,
                    grid=record_grid(record))


# ---------------------------------------------------------------------------- planning


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


def _source(record: SeriesRecord) -> str:
    return str(record.paths[0] if record.source == "nifti" else record.folder)


def plan_import(
    coordinator: CoordinatorSession,
    paths: Iterable[str | Path],
    *,
    subject_code: str | None = None,
    exam_id: int | None = None,
    link_identity: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> ImportPlan:
    """Index ``paths`` and decide what each series becomes; writes nothing.

    Parameters are those of :func:`myoscore.app.imports.import_paths`.
    """
    exams = {e.id: e for e in coordinator.exams()}
    if exam_id is not None and exam_id not in exams:
        raise MyoscoreError(f"no exam {exam_id} to attach the series to")
    subject_code = subject_code.strip() if subject_code else None
    given = [Path(p) for p in paths]
    result = index_paths(given, progress)
    stored = coordinator.series()
    by_uid = {s.uid: s for s in stored}
    exam_of_study = {e.study_uid: e for e in exams.values() if e.study_uid}
    study = _Study(stored)
    plan = ImportPlan(exam_id=exam_id, link_identity=link_identity, n_files=result.n_files,
                      skipped_files=[(str(s.path), s.reason) for s in result.skipped], entries=[], new_exams=[])

    classified = [(record, *_kind(record)) for record in result.series]
    images = [c for c in classified if c[1] is not Sequence.LABEL_MAP]
    # DICOM first (kept over its conversions), studies by date (exams numbered in time order).
    images.sort(key=lambda c: (c[0].source != "dicom", c[0].study_date or "~", c[0].study_uid, _source(c[0])))
    labels = [c for c in classified if c[1] is Sequence.LABEL_MAP]

    new_by_study: dict[str, NewExam] = {}
    new_subjects: dict[str, int] = {}
    relinked: set[int] = set()
    planned: list[tuple[PlanEntry, _Content]] = []

    def target_of(record: SeriesRecord) -> Target:
        if exam_id is not None:
            return exam_id
        existing = exam_of_study.get(record.study_uid)
        if existing is not None:
            if link_identity and record.patient_id and existing.id not in relinked:
                relinked.add(existing.id)
                plan.relinks.append((existing.id, record.patient_id))
            return existing.id
        new = new_by_study.get(record.study_uid)
        if new is None:
            code = subject_code or coordinator.subject_for_patient(record.patient_id, link=link_identity)
            number = None
            if code is None:
                key = record.patient_id if (link_identity and record.patient_id) else f"study:{record.study_uid}"
                number = new_subjects.setdefault(key, len(new_subjects) + 1)
            new = NewExam(len(plan.new_exams) + 1, record.study_uid, code, number, _study_date(record.study_date),
                          patient_id=record.patient_id if link_identity else "")
            new_by_study[record.study_uid] = new
            plan.new_exams.append(new)
        return new

    for record, kind, reason in images:
        entry = PlanEntry(_source(record), record, kind, reason, ADDED)
        uid = record.key if exam_id is None else f"{record.key}@exam{exam_id}"
        if uid in by_uid:
            entry.action, entry.known = KNOWN, by_uid[uid]
            if exam_id is None:
                target_of(record)  # a re-imported study still gets its PatientID link
            plan.entries.append(entry)
            continue
        content = _record_content(record)
        entry.grid = content.grid
        original = _find_duplicate(content, study, planned) if content.grid is not None else None
        if original is not None:
            entry.action, entry.duplicate_of = DUPLICATE, original
            plan.entries.append(entry)
            continue
        entry.target = target_of(record)
        entry.action = NEW_EXAM if isinstance(entry.target, NewExam) else ADDED
        plan.entries.append(entry)
        planned.append((entry, content))

    for record, kind, reason in labels:
        plan.entries += _plan_label_map(record, kind, reason, exam_id, exams, by_uid, study, planned)
    roots = [p.resolve() for p in given]
    for entry in plan.entries:
        entry.shown = _shown(entry.source, roots)
    return plan


def _shown(source: str, roots: list[Path]) -> str:
    """``demo/nifti/baseline/t1.nii.gz`` for a file found under the imported ``…/demo``."""
    path = Path(source).resolve()
    for root in roots:
        base = root if root.is_dir() else root.parent
        if path == base or base in path.parents:
            return str(Path(base.name) / path.relative_to(base))
    return source


def _find_duplicate(content: _Content, study: _Study,
                    planned: list[tuple[PlanEntry, _Content]]) -> Series | PlanEntry | None:
    grid = content.grid
    assert grid is not None
    for series in study.candidates(grid):
        if _same(content, study.content[series.id]):
            return series
    for entry, other in planned:
        if other.grid is not None and other.grid.matches(grid) and _same(content, other):
            return entry
    return None


def _plan_label_map(record: SeriesRecord, kind: Sequence, reason: str, exam_id: int | None,
                    exams: dict[int, Exam], by_uid: dict[str, Series], study: _Study,
                    planned: list[tuple[PlanEntry, _Content]]) -> list[PlanEntry]:
    source = _source(record)

    def entry_for(target: Target, how: str) -> PlanEntry:
        entry = PlanEntry(source, record, kind, reason, LABEL_MAP, target=target, reason=how)
        if isinstance(target, int):
            known = by_uid.get(f"{record.key}@exam{target}")
            if known is not None:
                entry.action, entry.known = KNOWN, known
        return entry

    if exam_id is not None:
        return [entry_for(exam_id, "the exam named")]
    grid = record_grid(record)
    targets: list[Target] = []
    if grid is not None:
        for series in study.candidates(grid):
            if series.exam_id not in targets:
                targets.append(series.exam_id)
        for entry, content in planned:
            if (content.grid is not None and content.grid.matches(grid) and entry.target is not None
                    and entry.target not in targets):
                targets.append(entry.target)
    how = "on the grid of its image series"
    if not targets:
        # A label map beside its images (one NIfTI folder), on a grid of its own.
        beside = {e.target for e, _ in planned if e.target is not None and e.record.study_uid == record.study_uid}
        if len(beside) == 1:
            targets, how = list(beside), "in the folder of its image series"
    if not targets:
        return [PlanEntry(source, record, kind, reason, SKIPPED, reason=(
            "no exam has an image series on this label map's grid (shape, spacing, orientation, origin); "
            "attach it to an exam by hand (import with the exam chosen)"))]
    subjects = {_target_subject(t, exams) for t in targets}
    if len(subjects) > 1:
        names = ", ".join(_target_text(t) for t in targets)
        return [PlanEntry(source, record, kind, reason, SKIPPED, reason=(
            f"its grid matches exams of {len(subjects)} subjects ({names}); attach it to one by hand "
            "(import with the exam chosen)"))]
    return [entry_for(t, how) for t in targets]


# ----------------------------------------------------------------------------- writing


@dataclass
class AppliedCounts:
    exams_added: int = 0
    subjects: set[str] = field(default_factory=set)
    issues: list[str] = field(default_factory=list)


def apply_plan(coordinator: CoordinatorSession, plan: ImportPlan) -> AppliedCounts:
    """Write ``plan``: exams, links, series, then the regions of the exams touched.

    Each step is idempotent (an exam per study UID, a series per UID), so a plan applied
    after the study changed adds what is still missing and nothing twice."""
    counts = AppliedCounts()
    subjects_of_new: dict[int, str] = {}

    def exam_of(target: Target) -> int:
        if isinstance(target, int):
            return target
        if target.created is None:
            code = target.subject_code
            if code is None and target.new_subject is not None:
                code = subjects_of_new.get(target.new_subject)
            exam, created = coordinator.exam_for_study(code, target.study_uid, target.exam_date)
            if plan.link_identity and target.patient_id:
                coordinator.link_patient(exam.subject_code, target.patient_id)
            if target.new_subject is not None:
                subjects_of_new.setdefault(target.new_subject, exam.subject_code)
            target.created = exam
            counts.exams_added += created
            counts.subjects.add(exam.subject_code)
        return target.created.id

    for existing, patient_id in plan.relinks:
        subject = next((e.subject_code for e in coordinator.exams() if e.id == existing), None)
        if subject is not None:
            coordinator.link_patient(subject, patient_id)
    touched: set[int] = set()
    for entry in plan.entries:
        if entry.action not in (NEW_EXAM, ADDED, LABEL_MAP) or entry.target is None:
            continue
        target = exam_of(entry.target)
        record = entry.record
        uid = record.key if entry.action != LABEL_MAP and plan.exam_id is None else f"{record.key}@exam{target}"
        added = coordinator.add_series(
            target, uid, entry.kind, kind_reason=entry.kind_reason, description=record.description,
            path=str(record.folder), files=list(dict.fromkeys(str(p) for p in record.paths)), shape=record.shape,
            spacing=record.spacing, issues=record.issues, part=record.split, z_range=_z_range(record),
        )
        if added is None:
            entry.action = KNOWN
            entry.known = next((s for s in coordinator.series(target) if s.uid == uid), None)
            if entry.known is None:  # pragma: no cover - registered under another exam meanwhile
                entry.action, entry.reason = SKIPPED, "registered meanwhile"
            continue
        entry.added = added
        touched.add(target)
        counts.issues += [f"series {added.id} ({record.description}): {issue}" for issue in record.issues]
    if touched:
        from myoscore.app.coverage import refresh_exam_regions

        refresh_exam_regions(coordinator, sorted(touched))
    return counts
