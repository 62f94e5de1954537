"""Assembling what a statistician gets: one pseudonymous :class:`ExportDataset` per protocol.

The dataset holds every submitted (first) read of every reader, the consensus, the
derived scores of each, and the agreement report when two readers are named; writers in
:mod:`myoscore.export` turn it into CSV, REDCap, XLSX and figures. Reading the ratings is
a reveal, so it is audited like every other coordinator access.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from pathlib import Path

from myoscore.app.agreement_report import agreement_report
from myoscore.app.consensus_status import ConsensusStatus, consensus_counts, tracked_consensus
from myoscore.app.coordination import codes_of, exams_for, protocol_in_use, reveal_ratings
from myoscore.app.sessions import CoordinatorSession
from myoscore.domain import MyoscoreError, ReadStatus
from myoscore.export import (
    CONSENSUS,
    AgreementRow,
    ExamInfo,
    ExportDataset,
    RatingRow,
    derived_for,
    rating_rows,
    reader_source,
    write,
    write_wide_csv,
)
from myoscore.export.wide import NOT_EVALUABLE_CELL
from myoscore.scores import ExamValues, exams_in_order

FORMATS = ("csv", "wide", "redcap", "xlsx", "figures", "sr")


def read_groups(path: Path) -> dict[str, str]:
    """``subject,group`` rows (a header line is allowed) → subject code → group label."""
    groups: dict[str, str] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        for line_no, row in enumerate(csv.reader(handle), start=1):
            if not row or (line_no == 1 and [c.strip().lower() for c in row[:2]] == ["subject", "group"]):
                continue
            if len(row) < 2 or not row[0].strip() or not row[1].strip():
                raise MyoscoreError(f"{path}: line {line_no}: expected 'subject,group', got {','.join(row)!r}")
            groups[row[0].strip()] = row[1].strip()
    return groups


def export_dataset(coordinator: CoordinatorSession, protocol_name: str, *, readers: Sequence[str] | None = None,
                   clinical: bool = True, groups: Mapping[str, str] | None = None) -> ExportDataset:
    """Everything exportable for one protocol. ``readers`` (two names) adds the agreement report."""
    protocol = protocol_in_use(coordinator, protocol_name)
    exams = exams_for(coordinator, protocol_name)
    ordered = exams_in_order([ExamValues(e.id, e.subject_code, {}, e.exam_date, e.label, e.months_from_onset)
                              for e in exams])
    position = {row.exam_id: i for rows in ordered.values() for i, row in enumerate(rows, start=1)}
    infos = tuple(ExamInfo(e.id, e.subject_code, e.label, position[e.id],
                           e.months_from_onset if clinical else None, e.treated if clinical else None)
                  for e in exams)

    # Repeat reads measure intra-reader agreement; the study's scores use first reads.
    first_reads = [r for r in coordinator.reads(protocol_name)
                   if r.status is ReadStatus.SUBMITTED and r.repeat == 0 and r.protocol_hash == protocol.hash
                   and r.exam_id in position]
    revealed = reveal_ratings(coordinator, [r.id for r in first_reads], f"export {protocol_name}") \
        if first_reads else {}
    ratings: list[RatingRow] = []
    for read in first_reads:
        ratings += rating_rows(protocol, read.exam_id, reader_source(read.reader_name), codes_of(revealed[read.id]))
    # Only decided consensus is exported: a stale value (a contributing rating changed since
    # it was decided) is absent, so the item reads as unscored in consensus, never as decided.
    tracked = tracked_consensus(coordinator, protocol_name)
    for value in (t.value for t in tracked if t.status is ConsensusStatus.DECIDED):
        given = value.code if value.code is not None else value.value
        ratings += rating_rows(protocol, value.exam_id, CONSENSUS, {value.item_key: given})
    if not ratings:
        raise MyoscoreError(f"nothing to export for {protocol_name}: no submitted read and no consensus yet")

    agreement: tuple[AgreementRow, ...] = ()
    if readers:
        report = agreement_report(coordinator, protocol_name, readers)
        agreement = tuple(
            AgreementRow(row.indicator or row.label, row.region, row.n_compared, row.n_not_evaluable,
                         row.percent_agreement, row.kappa, row.weighted_kappa, row.kappa_ci_low,
                         row.kappa_ci_high, label=row.label, unit=row.unit, weighted_ci_low=row.weighted_ci_low,
                         weighted_ci_high=row.weighted_ci_high, reason=row.reason, ac1=row.ac1,
                         ac1_ci_low=row.ac1_ci_low, ac1_ci_high=row.ac1_ci_high, alpha=row.alpha,
                         alpha_level=row.alpha_level)
            for row in report.rows
        )
    if groups is None:  # the study's groups as data: rules over clinical fields at the first exam
        groups = study_groups(coordinator, protocol_name, [e.id for e in exams])
    counts = consensus_counts(tracked, len(protocol.items))
    return ExportDataset(protocol, infos, tuple(ratings), derived_for(protocol, ratings), agreement,
                         dict(groups) if groups else None,
                         consensus_status={"decided": counts.decided, "stale": counts.stale,
                                           "pending": counts.pending})


def study_groups(coordinator: CoordinatorSession, protocol_name: str, exam_ids: Sequence[int] | None = None,
                 rules_path: Path | None = None) -> dict[str, str] | None:
    """``subject → group`` from the protocol's group rules (``scoring_schemes/groups/<protocol>.toml``,
    or ``rules_path``), each subject judged at its first exam; ``None`` without rules."""
    from myoscore.app.groups import evaluate_groups, group_rules_for, load_group_rules, ordered

    rules = load_group_rules(rules_path) if rules_path else group_rules_for(protocol_name)
    if rules is None:
        return None
    wanted = set(exam_ids) if exam_ids is not None else None
    exams = [e for e in coordinator.exams() if wanted is None or e.id in wanted]
    return ordered(evaluate_groups(rules, exams), rules)


def export(coordinator: CoordinatorSession, protocol_name: str, formats: Sequence[str], out: Path, *,
           readers: Sequence[str] | None = None, clinical: bool = True,
           groups: Mapping[str, str] | None = None, not_evaluable: str = NOT_EVALUABLE_CELL) -> list[Path]:
    """Write the protocol's dataset in each format (a folder per format under ``out``).

    ``not_evaluable`` is what the wide CSV writes for a not evaluable item (default ``NE``;
    see :func:`myoscore.export.write_wide_csv`)."""
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise MyoscoreError(f"unknown export format {unknown[0]!r} (formats: {', '.join(FORMATS)}, all)")
    written: list[Path] = []
    if "sr" in formats:  # DICOM SR: one file per read and consensus (app.structured_reports)
        from myoscore.app.structured_reports import export_sr

        written += export_sr(coordinator, protocol_name, out if len(formats) == 1 else out / "sr")
        formats = [f for f in formats if f != "sr"]
        if not formats:
            return written
    dataset = export_dataset(coordinator, protocol_name, readers=readers, clinical=clinical, groups=groups)
    for fmt in formats:
        target = out if len(formats) == 1 else out / fmt
        if fmt == "wide":
            written += write_wide_csv(dataset, target, not_evaluable=not_evaluable)
        else:
            written += write(dataset, fmt, target)
    return written
