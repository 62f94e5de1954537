"""Assembling what a statistician gets: one pseudonymous :class:`ExportDataset` per protocol.

The dataset holds every submitted (first) read of every reader, the consensus, the
derived scores of each, and the agreement report when two readers are named; writers in
:mod:`myoscore.export` turn it into CSV, REDCap, XLSX and figures. Reading the ratings is
a reveal, so it is audited like every other coordinator access.

Mid-study, :func:`export_files` writes whatever exists: tables hold every exam's ratings
so far, figures the exams rated by their source, and the :class:`ExportResult` lists each
file written, each figure or format skipped and each exam left out, with the reason
(:mod:`myoscore.app.export_coverage`). Everything is written into a hidden staging folder
first and moved into place at the end, so an export either writes all it can or nothing.
"""

from __future__ import annotations

import csv
import logging
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from myoscore.app.agreement_report import agreement_report
from myoscore.app.consensus_status import ConsensusStatus, consensus_counts, tracked_consensus
from myoscore.app.coordination import codes_of, exams_for, first_reads, protocol_in_use, reveal_ratings
from myoscore.app.export_coverage import absent_reasons
from myoscore.app.sessions import CoordinatorSession
from myoscore.app.wording import plural
from myoscore.domain import MyoscoreError
from myoscore.domain.files import make_private, owner_only
from myoscore.export import (
    CONSENSUS,
    FIGURE_FORMATS,
    AgreementRow,
    ExamInfo,
    ExportDataset,
    RatingRow,
    Skipped,
    derived_for,
    exam_name,
    rating_rows,
    reader_source,
    source_text,
    write,
    write_figures_report,
    write_wide_csv,
)
from myoscore.export.wide import NOT_EVALUABLE_CELL
from myoscore.scores import ExamValues, exams_in_order

FORMATS = ("csv", "wide", "redcap", "xlsx", "figures", "sr")
#: Formats whose ``out`` may name a file (by its suffix) when exported alone.
_FILE_SUFFIXES = {"csv": ".csv", "wide": ".csv", "xlsx": ".xlsx"}

log = logging.getLogger(__name__)


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
                   clinical: bool = True, groups: Mapping[str, str] | None = None,
                   include_excluded: bool = False) -> ExportDataset:
    """Everything exportable for one protocol. ``readers`` (two names) adds the agreement report.
    Excluded exams are left out unless ``include_excluded``."""
    protocol = protocol_in_use(coordinator, protocol_name)
    exams = exams_for(coordinator, protocol_name, include_excluded=include_excluded)
    ordered = exams_in_order([ExamValues(e.id, e.subject_code, {}, e.exam_date, e.label, e.months_from_onset)
                              for e in exams])
    position = {row.exam_id: i for rows in ordered.values() for i, row in enumerate(rows, start=1)}
    infos = tuple(ExamInfo(e.id, e.subject_code, e.label, position[e.id],
                           e.months_from_onset if clinical else None, e.treated if clinical else None)
                  for e in exams)

    # Repeat reads measure intra-reader agreement; the study's scores use first reads.
    reads = [r for r in first_reads(coordinator, protocol_name, protocol.hash, include_excluded=include_excluded)
             if r.exam_id in position]
    revealed = reveal_ratings(coordinator, [r.id for r in reads], f"export {protocol_name}") if reads else {}
    ratings: list[RatingRow] = []
    for read in reads:
        ratings += rating_rows(protocol, read.exam_id, reader_source(read.reader_name), codes_of(revealed[read.id]))
    # Only decided consensus is exported: a stale value (a contributing rating changed since
    # it was decided) is absent, so the item reads as unscored in consensus, never as decided.
    tracked = tracked_consensus(coordinator, protocol_name, include_excluded=include_excluded)
    for value in (t.value for t in tracked if t.status is ConsensusStatus.DECIDED):
        given = value.code if value.code is not None else value.value
        ratings += rating_rows(protocol, value.exam_id, CONSENSUS, {value.item_key: given})
    if not ratings:
        raise MyoscoreError(f"nothing to export for {protocol_name}: no submitted read and no consensus yet")

    agreement: tuple[AgreementRow, ...] = ()
    if readers:
        report = agreement_report(coordinator, protocol_name, readers, include_excluded=include_excluded)
        agreement = report.rows
    if groups is None:  # the study's groups as data: rules over clinical fields at the first exam
        groups = study_groups(coordinator, protocol_name, [e.id for e in exams])
    counts = consensus_counts(tracked, len(protocol.items))
    absent = absent_reasons(coordinator.reads(protocol_name, include_excluded=include_excluded), exams, tracked,
                            protocol.hash)
    return ExportDataset(protocol, infos, tuple(ratings), derived_for(protocol, ratings), agreement,
                         dict(groups) if groups else None,
                         consensus_status={"decided": counts.decided, "stale": counts.stale,
                                           "pending": counts.pending}, absent=absent)


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


@dataclass(frozen=True)
class LeftOut:
    """An exam the figures could not use, and why (``exam_id`` for the coordinator's
    screens and the CLI; files name exams by subject and label only)."""

    exam_id: int
    name: str
    reason: str


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote and what it could not: every file (by format), every figure
    or format skipped and the exams the figures left out, each with its reason."""

    out: Path
    written: tuple[Path, ...]
    by_format: Mapping[str, tuple[Path, ...]]
    skipped: tuple[Skipped, ...] = ()
    figure_source: str | None = None
    left_out: tuple[LeftOut, ...] = ()
    n_exams: int = 0
    removed: tuple[Path, ...] = field(default=())

    def summary(self) -> list[str]:
        """The lines the CLI prints and the dialog shows, in that order: what was written,
        then what was skipped and which exams were left out."""
        lines = [f"wrote {plural(len(self.written), 'file')} under {self.out}"]
        for fmt, paths in self.by_format.items():
            lines.append(f"  {fmt}: {plural(len(paths), 'file')}")
        if self.figure_source is not None and "figures" in self.by_format:
            source = source_text(self.figure_source)
            used = self.n_exams - len(self.left_out)
            lines.append(f"figures from {source}: {used} of {plural(self.n_exams, 'exam')}"
                         + (f"; left out: {_left_out_text(self.left_out)}" if self.left_out else ""))
        for skip in self.skipped:
            lines.append(f"skipped {skip.what}: {skip.reason}")
        for path in self.removed:
            lines.append(f"removed {path} (from an earlier export; not drawn this time)")
        return lines


def _left_out_text(left: Sequence[LeftOut]) -> str:
    by_reason: dict[str, list[str]] = {}
    for exam in left:
        by_reason.setdefault(exam.reason, []).append(f"exam {exam.exam_id} ({exam.name})")
    return "; ".join(f"{', '.join(names)}: {reason}" for reason, names in by_reason.items())


def _figure_source(coordinator: CoordinatorSession, protocol_name: str, source: str | None) -> str | None:
    """``None`` (consensus when any, else the first reader), ``"consensus"``, or a reader's
    name (``"A"`` or ``"reader:A"``) who has reads of the protocol."""
    if source is None or source == CONSENSUS:
        return source
    name = source.removeprefix("reader:")
    names = sorted({read.reader_name for read in coordinator.reads(protocol_name)})
    if name not in names:
        raise MyoscoreError(f"figures from {name!r}: no such reader has reads of {protocol_name} "
                            f"(readers: {', '.join(names) or 'none'}; or consensus)")
    return reader_source(name)


def export_files(coordinator: CoordinatorSession, protocol_name: str, formats: Sequence[str], out: Path, *,
                 readers: Sequence[str] | None = None, clinical: bool = True,
                 groups: Mapping[str, str] | None = None, not_evaluable: str = NOT_EVALUABLE_CELL,
                 source: str | None = None, include_excluded: bool = False,
                 identified_sr: bool = False) -> ExportResult:
    """Write the protocol's dataset in each format (a folder per format under ``out``) and
    say what was written, skipped and left out.

    Figures come from ``source`` (``"consensus"`` or a reader's name; default consensus when
    any exam has it, else the first reader) and use the exams it rated; a figure with
    nothing to draw is skipped with the reason. With several formats, a format that has
    nothing to write (e.g. SR before any read is submitted) is skipped the same way.

    Raises :class:`~myoscore.domain.MyoscoreError`, and writes nothing, for an unknown
    format or source, a study with nothing to export, or when nothing at all could be
    written. Any other failure also leaves ``out`` untouched (files are staged first).
    ``not_evaluable`` is what the wide CSV writes for a not evaluable item (default ``NE``;
    see :func:`myoscore.export.write_wide_csv`). Excluded exams are in no format unless
    ``include_excluded``.
    """
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise MyoscoreError(f"unknown export format {unknown[0]!r} (formats: {', '.join(FORMATS)}, all)")
    if not formats:
        raise MyoscoreError("choose at least one export format")
    figure_source = _figure_source(coordinator, protocol_name, source)
    formats = list(dict.fromkeys(formats))
    tables = [f for f in formats if f != "sr"]
    dataset = export_dataset(coordinator, protocol_name, readers=readers, clinical=clinical, groups=groups,
                             include_excluded=include_excluded) if tables else None
    out = Path(out)
    single_file = len(formats) == 1 and _FILE_SUFFIXES.get(formats[0]) == out.suffix.lower() != ""
    root = out.parent if single_file else out
    with owner_only():
        root.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=".myoscore-export-", dir=root))
    try:
        staged: dict[str, list[Path]] = {}
        skipped: list[Skipped] = []
        report = None
        figure_dir = Path()
        for fmt in formats:
            target = stage / out.name if single_file else stage if len(formats) == 1 else stage / fmt
            try:
                if fmt == "sr":  # DICOM SR: one file per read and consensus (app.structured_reports)
                    from myoscore.app.structured_reports import export_sr

                    with owner_only():
                        staged[fmt] = export_sr(coordinator, protocol_name, target,
                                                include_excluded=include_excluded, identified=identified_sr)
                    for file in staged[fmt]:
                        make_private(file)
                elif fmt == "figures":
                    assert dataset is not None
                    figure_dir = target.relative_to(stage)
                    with owner_only():
                        report = write_figures_report(dataset, target, source=figure_source)
                    for file in report.paths:
                        make_private(file)
                    staged[fmt] = report.paths
                    skipped += report.skipped
                elif fmt == "wide":
                    assert dataset is not None
                    staged[fmt] = write_wide_csv(dataset, target, not_evaluable=not_evaluable)
                else:
                    assert dataset is not None
                    staged[fmt] = write(dataset, fmt, target)
            except MyoscoreError as exc:
                if len(formats) == 1:
                    raise
                skipped.append(Skipped(fmt, str(exc)))
                log.info("export %s of %s skipped: %s", fmt, protocol_name, exc)
        if not any(staged.values()):
            raise MyoscoreError(f"nothing written for {protocol_name}: "
                                + "; ".join(f"{s.what}: {s.reason}" for s in skipped))
        by_format: dict[str, tuple[Path, ...]] = {}
        for fmt, files in staged.items():
            if files:
                by_format[fmt] = tuple(_move_into_place(file, stage, root) for file in files)
        removed = _remove_outdated(report.skipped, root / figure_dir) if report is not None else []
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    left: tuple[LeftOut, ...] = ()
    if report is not None:
        left = tuple(LeftOut(exam.exam_id, exam_name(exam), reason) for exam, reason in report.left_out)
    result = ExportResult(root, tuple(p for files in by_format.values() for p in files), by_format, tuple(skipped),
                          report.source if report is not None else None, left,
                          len(dataset.exams) if dataset is not None else 0, tuple(removed))
    if left:
        log.info("export %s: figures from %s left out %s", protocol_name, source_text(result.figure_source or ""),
                 _left_out_text(left))
    return result


def _move_into_place(file: Path, stage: Path, root: Path) -> Path:
    final = root / file.relative_to(stage)
    with owner_only():
        final.parent.mkdir(parents=True, exist_ok=True)
    os.replace(file, final)
    return final


def _remove_outdated(skipped: Sequence[Skipped], folder: Path) -> list[Path]:
    """Figures an earlier export wrote into ``folder`` that this one skipped: an old figure
    beside new ones would look current, so it goes (and the summary says so)."""
    removed = []
    for skip in skipped:
        for fmt in FIGURE_FORMATS:
            old = folder / f"{skip.what}.{fmt}"
            if old.is_file():
                old.unlink()
                removed.append(old)
    return removed


def export(coordinator: CoordinatorSession, protocol_name: str, formats: Sequence[str], out: Path, *,
           readers: Sequence[str] | None = None, clinical: bool = True,
           groups: Mapping[str, str] | None = None, not_evaluable: str = NOT_EVALUABLE_CELL,
           source: str | None = None, include_excluded: bool = False) -> list[Path]:
    """:func:`export_files`, returning only the files written."""
    return list(export_files(coordinator, protocol_name, formats, out, readers=readers, clinical=clinical,
                             groups=groups, not_evaluable=not_evaluable, source=source,
                             include_excluded=include_excluded).written)
