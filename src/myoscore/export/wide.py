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


def wide_names(protocol: Protocol, fixed: tuple[str, ...] = ()) -> tuple[dict[str, str], dict[str, tuple[str, str]]]:
    """Column names: ``item_key → column`` and ``score → (value column, n-evaluated column)``.

    Deterministic for a protocol: items in protocol order, then scores in declaration
    order, each made legal and unique by :func:`~myoscore.export._common.spss_name`
    (``edema.thigh.anterior.R`` → ``edema_thigh_anterior_R``; ``edema_total`` and
    ``edema_total_n``). ``fixed`` are the names already used before them.
    """
    taken = {name.upper() for name in fixed}
    items = spss_names(protocol.item_keys, taken)
    taken |= {name.upper() for name in items.values()}
    scores: dict[str, tuple[str, str]] = {}
    for score in protocol.derived:
        value, count = spss_names([score.name, f"{score.name}{N_EVALUATED_SUFFIX}"], taken).values()
        taken |= {value.upper(), count.upper()}
        scores[score.name] = (value, count)
    return items, scores


def wide_table(dataset: ExportDataset, not_evaluable: str = "") -> tuple[list[str], list[list[object]]]:
    """Header and rows of the wide table (see :func:`write_wide_csv`)."""
    protocol = dataset.protocol
    fixed = [*exam_columns(dataset), *READ_COLUMNS]
    item_names, score_names = wide_names(protocol, tuple(fixed))
    header = [*fixed, *item_names.values(), *(name for pair in score_names.values() for name in pair)]
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
            cells += [None, None] if found is None else [found.value, found.n_evaluated]
        rows.append([*exam_cells(dataset, exam, exam_columns(dataset)), source, n_ne, n_unscored, *cells])
    return header, rows


def write_wide_csv(dataset: ExportDataset, path: str | Path, *, not_evaluable: str = "") -> list[Path]:
    """Write the wide CSV to ``path`` (a ``.csv`` file, or a folder for
    ``<protocol>_wide.csv``) and return ``[file]``.

    Item cells hold the scale's number (``2.5`` for a fractional consensus mean), or the
    level code for nominal items (``patchy``). Not evaluable and unscored items are empty
    cells (system-missing in SPSS, ``NA`` in R); ``n_not_evaluable`` and ``n_unscored``
    count them per row, and the tidy CSV keeps which is which. ``not_evaluable="-9"``
    writes that code instead for not evaluable items; declare it as missing in the
    statistics package (see ``docs/export.md``).
    """
    header, rows = wide_table(dataset, not_evaluable)
    file = target_file(path, f"{dataset.protocol.name}_wide.csv")
    return [write_csv(file, header, (as_text(row) for row in rows))]
