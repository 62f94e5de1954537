"""Wide CSV: one row per exam and source, one column per item and per derived score.

Ready for SPSS, R and JASP: UTF-8 without BOM, comma-separated, ``.`` decimals, column
names legal in SPSS (:func:`myoscore.export._common.spss_name`). See ``docs/export.md``.
"""

from __future__ import annotations

from pathlib import Path

from myoscore.export._common import as_text, exam_cells, exam_columns, spss_names, target_file, write_csv
from myoscore.export.dataset import ExportDataset
from myoscore.schemes import Protocol, ScaleKind

#: Columns between the exam columns and the items.
READ_COLUMNS = ("source", "n_not_evaluable", "n_unscored")
#: Suffix of the column giving a derived score's number of evaluated items.
N_EVALUATED_SUFFIX = "_n"
#: Suffix of the column saying whether every item of a derived score was evaluated (1/0).
COMPLETE_SUFFIX = "_complete"
#: What a not evaluable item's cell holds by default: an explicit code, never an empty
#: cell (which means unscored) and never a number that a sum would add.
NOT_EVALUABLE_CELL = "NE"


def wide_names(protocol: Protocol, fixed: tuple[str, ...] = ()
               ) -> tuple[dict[str, str], dict[str, tuple[str, str, str]]]:
    """Column names: ``item_key → column`` and ``score → (value, n evaluated, complete)``.

    Deterministic for a protocol: items in protocol order, then scores in declaration
    order, each made legal and unique by :func:`~myoscore.export._common.spss_name`
    (``edema.thigh.anterior.R`` → ``edema_thigh_anterior_R``; ``edema_total``,
    ``edema_total_n`` and ``edema_total_complete``). ``fixed`` are the names already used.
    """
    taken = {name.upper() for name in fixed}
    items = spss_names(protocol.item_keys, taken)
    taken |= {name.upper() for name in items.values()}
    scores: dict[str, tuple[str, str, str]] = {}
    for score in protocol.derived:
        value, count, complete = spss_names(
            [score.name, f"{score.name}{N_EVALUATED_SUFFIX}", f"{score.name}{COMPLETE_SUFFIX}"], taken).values()
        taken |= {value.upper(), count.upper(), complete.upper()}
        scores[score.name] = (value, count, complete)
    return items, scores


def wide_table(dataset: ExportDataset, not_evaluable: str = NOT_EVALUABLE_CELL
               ) -> tuple[list[str], list[list[object]]]:
    """Header and rows of the wide table (see :func:`write_wide_csv`)."""
    protocol = dataset.protocol
    fixed = [*exam_columns(dataset), *READ_COLUMNS]
    item_names, score_names = wide_names(protocol, tuple(fixed))
    header = [*fixed, *item_names.values(), *(name for names in score_names.values() for name in names)]
    nominal = {item.key for item in protocol.items if protocol.scales[item.scale].kind is ScaleKind.NOMINAL}
    rows: list[list[object]] = []
    for exam, source in dataset.exam_sources():
        given = dataset.ratings_of(exam.exam_id, source)
        cells: list[object] = []
        n_ne = n_unscored = 0
        for key in protocol.item_keys:
            row = given.get(key)
            if row is None or row.unscored:
                n_unscored += 1
                cells.append(None)
            elif row.not_evaluable:
                n_ne += 1
                cells.append(not_evaluable or None)
            elif key in nominal:
                cells.append(row.code)
            else:
                cells.append(row.value)
        scores = dataset.derived_of(exam.exam_id, source)
        for score in protocol.derived:
            found = scores.get(score.name)
            complete = None if found is None or found.complete is None else int(found.complete)
            cells += [None, None, None] if found is None else [found.value, found.n_evaluated, complete]
        rows.append([*exam_cells(dataset, exam, exam_columns(dataset)), source, n_ne, n_unscored, *cells])
    return header, rows


def subjects_table(dataset: ExportDataset) -> tuple[list[str], list[list[object]]]:
    """One row per subject and source: each derived score at the first and last exam, Δ and
    Δ %, with the coverage of both ends (subjects with two exams or more)."""
    from myoscore.export.summaries import change_rows

    fixed = ["subject", *(["group"] if dataset.groups is not None else []), "source", "n_exams"]
    taken = {name.upper() for name in fixed}
    parts = ("first", "last", "delta", "delta_percent", "first_complete", "last_complete")
    columns: dict[str, list[str]] = {}
    for score in dataset.protocol.derived:
        names = list(spss_names([f"{score.name}_{part}" for part in parts], taken).values())
        taken |= {name.upper() for name in names}
        columns[score.name] = names
    header = [*fixed, *(name for names in columns.values() for name in names)]
    rows: dict[tuple[str, str], dict[str, object]] = {}
    for row in change_rows(dataset):
        source, subject, group, name = row[0], row[1], row[2], str(row[3])
        cells = rows.setdefault((str(subject), str(source)), {"subject": subject, "group": group, "source": source,
                                                              "n_exams": row[6]})
        # change_rows' first, last, delta, delta_percent, first_complete, last_complete
        cells.update(zip(columns[name], (row[9], row[10], row[11], row[12], row[16], row[17]), strict=True))
    ordered = sorted(rows.items(), key=lambda kv: (kv[0][0], kv[0][1]))
    return header, [[cells.get(column) for column in header] for _, cells in ordered]


def write_wide_csv(dataset: ExportDataset, path: str | Path, *,
                   not_evaluable: str = NOT_EVALUABLE_CELL) -> list[Path]:
    """Write the wide CSV to ``path`` (a ``.csv`` file, or a folder for
    ``<protocol>_wide.csv``) and return the files written.

    Item cells hold the scale's number (``2.5`` for a fractional consensus mean), or the
    level code for nominal items (``patchy``). An unscored item is an empty cell; a not
    evaluable item is ``not_evaluable`` (default ``NE``: an explicit code, never empty and
    never a number a sum would add; declare it missing in the statistics package, see
    ``docs/export.md``; ``""`` writes an empty cell). ``n_not_evaluable`` and
    ``n_unscored`` count them per row. Each derived score has its value, ``_n`` (items
    evaluated) and ``_complete`` (1 when every item was evaluated).

    When some subject has two exams or more, a second file beside it,
    ``<protocol>_wide_subjects.csv`` (``<stem>_subjects.csv``), holds one row per subject and source with each score
    at the first and last exam, Δ and Δ % (:func:`subjects_table`).
    """
    header, rows = wide_table(dataset, not_evaluable)
    file = target_file(path, f"{dataset.protocol.name}_wide.csv")
    written = [write_csv(file, header, (as_text(row) for row in rows))]
    subject_header, subject_rows = subjects_table(dataset)
    if subject_rows:
        written.append(write_csv(file.with_name(f"{file.stem}_subjects.csv"), subject_header,
                                 (as_text(row) for row in subject_rows)))
    return written
