"""Tidy CSV: one row per subject × exam × item × source (see ``docs/export.md``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from myoscore.domain import NOT_EVALUABLE
from myoscore.export._common import as_text, exam_cells, exam_columns, target_file, write_csv
from myoscore.export.dataset import ExportDataset, RatingRow

#: Item and rating columns, after the exam columns (``subject``, ``group``, ``timepoint``, …).
ITEM_COLUMNS = ("source", "item_key", "measure", "indicator", "sequence", "region", "compartment", "unit",
                "unit_name", "unit_level", "side", "scale", "code", "value", "not_evaluable", "status")


class Status:
    """What a rating row holds (the ``status`` column)."""

    LEVEL = "level"  # a level of the scale: code and (unless nominal) value
    NOT_EVALUABLE = "not_evaluable"  # code NE, no value
    MEAN = "mean"  # a fractional consensus mean: no code, a value such as 2.5
    UNSCORED = "unscored"  # neither


def status_of(row: RatingRow | None) -> str:
    if row is None or row.unscored:
        return Status.UNSCORED
    if row.code == NOT_EVALUABLE:
        return Status.NOT_EVALUABLE
    return Status.LEVEL if row.code is not None else Status.MEAN


def tidy_columns(dataset: ExportDataset) -> list[str]:
    return [*exam_columns(dataset), *ITEM_COLUMNS]


def tidy_rows(dataset: ExportDataset, keep: Callable[[str], bool] = lambda source: True) -> list[list[object]]:
    """The rows of :func:`tidy_columns` for every (exam, source) whose source ``keep``\\ s.

    Every item of the protocol gets a row, in protocol order; an item the source did not
    score is a row with status ``unscored``. Numbers stay numbers (``None``: empty).
    """
    columns = exam_columns(dataset)
    protocol = dataset.protocol
    rows: list[list[object]] = []
    for exam, source in dataset.exam_sources():
        if not keep(source) or not dataset.has_ratings(exam.exam_id, source):
            continue
        exam_part = exam_cells(dataset, exam, columns)
        given = dataset.ratings_of(exam.exam_id, source)
        for item in protocol.items:
            row = given.get(item.key)
            status = status_of(row)
            rows.append([
                *exam_part, source, item.key, item.measure, item.indicator, item.sequence, item.unit.region,
                item.unit.compartment or "", item.unit.key, item.unit.name, item.unit.level.value, item.side or "",
                item.scale, "" if row is None or row.code is None else row.code,
                None if row is None else row.value, int(status == Status.NOT_EVALUABLE), status,
            ])
    return rows


def write_tidy_csv(dataset: ExportDataset, path: str | Path) -> list[Path]:
    """Write the tidy CSV to ``path`` (a ``.csv`` file, or a folder for
    ``<protocol>_ratings_tidy.csv``) and, beside it, the derived scores and every
    cross-subject table; return the files, the ratings first.

    Not evaluable: ``code`` ``NE``, ``value`` empty, ``not_evaluable`` 1. A fractional
    consensus mean: ``code`` empty, ``value`` ``2.5``, ``status`` ``mean``. Beside it:
    ``<protocol>_derived_tidy.csv`` (one row per exam × source × score, with ``n_evaluated``,
    ``n_items``, ``complete``) and ``<protocol>_<table>.csv`` for each table of
    :data:`myoscore.export.summaries.SUMMARY_TABLES` that has rows.
    """
    from myoscore.export.summaries import derived_table, summary_tables

    name = dataset.protocol.name
    file = target_file(path, f"{name}_ratings_tidy.csv")
    written = [write_csv(file, tidy_columns(dataset), (as_text(row) for row in tidy_rows(dataset)))]
    header, rows = derived_table(dataset)
    if rows:
        written.append(write_csv(file.with_name(f"{name}_derived_tidy.csv"), header,
                                 (as_text(row) for row in rows)))
    for table, (header, rows) in summary_tables(dataset).items():
        if rows:
            written.append(write_csv(file.with_name(f"{name}_{table}.csv"), header, (as_text(row) for row in rows)))
    return written
