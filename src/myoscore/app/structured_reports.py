"""Reads and consensus as DICOM SR files, and SRs read back (docs/structured_reports.md).

:func:`export_sr` writes one SR per submitted first read and one per exam's consensus;
:func:`import_sr` decodes SRs that myoscore wrote and compares them with the database,
so a study can check that what left as DICOM says what the readers scored.
Revealing ratings is audited as for every export.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from myoscore.app.consensus_status import decided_consensus
from myoscore.app.coordination import exams_for, first_reads, protocol_in_use, reveal_ratings
from myoscore.app.schemes import scheme_library
from myoscore.app.sessions import CoordinatorSession
from myoscore.domain import Exam, MyoscoreError
from myoscore.export.sr import (
    InstanceReference,
    SrContent,
    SrSubject,
    build_sr,
    read_sr,
    sr_protocol_name,
    sr_ratings,
    uid_for,
    write_sr,
)

log = logging.getLogger(__name__)

__all__ = ["ImportedSr", "export_sr", "import_sr"]


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "x"


def _references(coordinator: CoordinatorSession, exam: Exam) -> list[InstanceReference]:
    from myoscore.imaging.dicom_references import instance_uids

    refs = []
    for series in coordinator.series(exam.id):
        if series.files and not series.files[0].lower().endswith((".nii", ".nii.gz")):
            refs += [InstanceReference(*uids) for uids in instance_uids(series.files)]
    return refs


def _subject(exam: Exam, patient_ids: dict[str, str] | None = None) -> SrSubject:
    study_uid = exam.study_uid or uid_for("exam", exam.subject_code, exam.label, str(exam.id))
    return SrSubject(exam.subject_code, study_uid, exam.label,
                     patient_id=(patient_ids or {}).get(exam.subject_code, ""))


def export_sr(coordinator: CoordinatorSession, protocol_name: str, out: Path, *,
              identified: bool = False, include_excluded: bool = False) -> list[Path]:
    """One pseudonymous SR per submitted first read and per exam with consensus, under ``out``.

    ``identified``: the SRs carry the hospital PatientID linked to each subject instead
    of the pseudonym (to send results back to the hospital's PACS, where the images
    carry the same Study Instance UIDs). Audited as a reveal of each subject's identity;
    refused when a subject has no linked PatientID, rather than mixing the two kinds.
    Excluded exams are left out unless ``include_excluded``.
    """
    protocol = protocol_in_use(coordinator, protocol_name)
    library = scheme_library().scales
    exams = {e.id: e for e in exams_for(coordinator, protocol_name, include_excluded=include_excluded)}
    patient_ids: dict[str, str] | None = None
    if identified:
        codes = {e.subject_code for e in exams.values()}
        patient_ids = coordinator.reveal_patient_ids(codes, f"identified sr {protocol_name}")
        if missing := sorted(codes - set(patient_ids)):
            raise MyoscoreError(f"no PatientID is linked to subject {', '.join(missing[:5])}"
                                f"{' …' if len(missing) > 5 else ''}: identified SRs need every subject's "
                                f"link (kept when DICOM is imported without --no-identity-link)")
    reads = first_reads(coordinator, protocol_name, protocol.hash, include_excluded=include_excluded)
    revealed = reveal_ratings(coordinator, [r.id for r in reads], f"export sr {protocol_name}") if reads else {}
    refs: dict[int, list[InstanceReference]] = {}
    written: list[Path] = []
    for read in reads:
        exam = exams[read.exam_id]
        refs.setdefault(exam.id, _references(coordinator, exam))
        values: dict[str, tuple[str | None, float | None]] = {
            key: (r.code, r.value) for key, r in revealed[read.id].items()}
        dataset = build_sr(protocol, values, kind="read", observer=read.reader_name,
                           subject=_subject(exam, patient_ids),
                           references=refs[exam.id], library=library, when=read.submitted_at,
                           series_uid=uid_for("sr-series", str(read.id)))
        written.append(write_sr(dataset, out / f"{_safe(exam.subject_code)}_{_safe(exam.label)}_"
                                              f"{_safe(read.reader_name)}.dcm"))
    by_exam: dict[int, dict[str, tuple[str | None, float | None]]] = {}
    deciders: dict[int, str] = {}
    # a stale value is no longer the consensus
    for value in decided_consensus(coordinator, protocol_name, include_excluded=include_excluded):
        by_exam.setdefault(value.exam_id, {})[value.item_key] = (value.code, value.value)
        deciders.setdefault(value.exam_id, value.decided_by)
    for exam_id, values in by_exam.items():
        exam = exams[exam_id]
        refs.setdefault(exam.id, _references(coordinator, exam))
        dataset = build_sr(protocol, values, kind="consensus", observer=deciders[exam_id],
                           subject=_subject(exam, patient_ids),
                           references=refs[exam.id], library=library,
                           series_uid=uid_for("sr-consensus", str(exam.id)))
        written.append(write_sr(dataset, out / f"{_safe(exam.subject_code)}_{_safe(exam.label)}_consensus.dcm"))
    if not written:
        raise MyoscoreError(f"nothing to export as SR for {protocol_name}: no submitted read and no consensus yet")
    log.info("wrote %d SR files under %s", len(written), out)
    return written


@dataclass(frozen=True)
class ImportedSr:
    """One SR read back, and how it compares with the database."""

    path: Path
    content: SrContent
    exam_id: int | None
    differences: tuple[str, ...] = field(default=())

    @property
    def matches(self) -> bool:
        return self.exam_id is not None and not self.differences


def import_sr(coordinator: CoordinatorSession, paths: Sequence[Path]) -> list[ImportedSr]:
    """Decode SRs written by myoscore and compare each with the read (or consensus) it
    came from: the same exam, observer and values, item by item."""
    library = scheme_library()
    results = []
    for path in paths:
        sr = read_sr(path)
        name = sr_protocol_name(sr)
        protocol = protocol_in_use(coordinator, name)
        content = sr_ratings(sr, protocol, library.scales)
        exams = exams_for(coordinator, name, include_excluded=True)  # an SR of an excluded exam still compares
        exam = next((e for e in exams if e.study_uid == content.study_uid), None) or next(
            (e for e in exams if _subject(e).study_uid == content.study_uid), None)
        if exam is None:
            results.append(ImportedSr(path, content, None, (f"no exam of {name} has study {content.study_uid}",)))
            continue
        stored = _stored_values(coordinator, name, exam.id, content)
        differences = tuple(
            f"{key}: SR {content.values.get(key)} vs database {stored.get(key)}"
            for key in sorted(set(stored) | set(content.values)) if content.values.get(key) != stored.get(key)
        )
        results.append(ImportedSr(path, content, exam.id, differences))
    return results


def _stored_values(coordinator: CoordinatorSession, protocol_name: str, exam_id: int,
                   content: SrContent) -> dict[str, tuple[str | None, float | None]]:
    if content.kind == "consensus":
        return {c.item_key: (c.code, c.value)
                for c in decided_consensus(coordinator, protocol_name, include_excluded=True)  # any exam's SR
                if c.exam_id == exam_id}
    reads = [r for r in coordinator.reads(protocol_name, include_excluded=True)
             if r.exam_id == exam_id and r.reader_name == content.observer and r.repeat == 0]
    if not reads:
        return {}
    revealed = reveal_ratings(coordinator, [reads[0].id], f"compare sr {protocol_name}")
    return {key: (r.code, r.value) for key, r in revealed[reads[0].id].items()}
