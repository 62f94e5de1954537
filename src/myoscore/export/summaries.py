"""Cross-subject tables every writer shares: Δ first → last, progression, frequencies,
pattern counts and per-unit (per-muscle, regional) summaries.

Computed from the dataset alone with :mod:`myoscore.scores`, once per source (each reader
and consensus), so a table is never more than its ratings. Each table is a header and
rows of cells (numbers stay numbers; ``None`` is an empty cell). The tidy CSV writes each
to its own file, the XLSX workbook to its own sheet, the wide CSV's subject file carries
the Δ columns; ``docs/export.md`` lists every column.

Frequencies, pattern counts and unit summaries use each subject's **first** exam (seed
004: "Considering the first MRI studies in all patients"); Δ and progression compare the
first and the last exam of subjects with two exams or more.
"""

from __future__ import annotations

from myoscore.export._common import cell_number, exam_cells, exam_columns
from myoscore.export.dataset import ExportDataset
from myoscore.scores import (
    ExamValues,
    compute_score,
    compute_scores,
    exams_in_order,
    frequencies,
    longitudinal,
    pattern_counts,
    protocol_progression,
    unit_summaries,
)

#: Table name → what it holds (sheet purpose in the XLSX dictionary).
SUMMARY_TABLES: dict[str, str] = {
    "changes": "Each derived score at each subject's first and last exam: Δ (last − first) and Δ % (per source).",
    "progression": ("STIR-positive at the first exam → T1 progression at the last (seed 004, Fig. 4), per muscle "
                    "and side and in total (unit 'all'), over the regions the protocol's progression covers."),
    "frequencies": "Subjects with each finding per region and compartment, at their first exam.",
    "patterns": "Subjects per code of each nominal item (edema pattern), at their first exam.",
    "units": ("Per muscle (or compartment) and per region, each side and both pooled, across subjects at their "
              "first exam: values evaluated, positive, percent positive (per-muscle and regional STIR%), sum "
              "(per-muscle T1 sum)."),
}

CHANGE_COLUMNS = ("source", "subject", "group", "score", "label", "regions", "n_exams", "first_order", "last_order",
                  "first", "last", "delta", "delta_percent", "first_n_evaluated", "last_n_evaluated", "n_items",
                  "first_complete", "last_complete")
PROGRESSION_COLUMNS = ("source", "stir_measure", "t1_measure", "regions", "unit", "unit_name", "region", "side",
                       "n_subjects", "n_pairs", "n_excluded", "stir_positive", "stir_positive_progressed",
                       "percent_stir_positive_progressed", "progressed", "progressed_not_stir_positive",
                       "percent_progressed_not_stir_positive")
FREQUENCY_COLUMNS = ("source", "indicator", "unit_level", "unit", "unit_name", "region", "n_subjects", "n_evaluated",
                     "n_positive", "percent")
PATTERN_COLUMNS = ("source", "item_key", "indicator", "unit", "region", "code", "n_subjects")
UNIT_COLUMNS = ("source", "measure", "unit_level", "unit", "unit_name", "region", "side", "n_subjects", "n_items",
                "n_evaluated", "complete", "threshold", "n_positive", "percent_positive", "total", "mean")


def derived_table(dataset: ExportDataset) -> tuple[list[str], list[list[object]]]:
    """One row per subject × exam × source × derived score, with its coverage
    (``n_evaluated`` of ``n_items``, ``complete`` 1/0) and scope (``regions``)."""
    protocol = dataset.protocol
    columns = exam_columns(dataset)
    header = [*columns, "source", "score", "label", "function", "regions", "value", "n_evaluated", "n_items",
              "complete", "minimum", "maximum"]
    bounds = {score.name: compute_score(protocol, score, {}) for score in protocol.derived}
    rows: list[list[object]] = []
    for exam, source in dataset.exam_sources():
        found = dataset.derived_of(exam.exam_id, source)
        for score in protocol.derived:
            d = found.get(score.name)
            if d is None:
                continue
            b = bounds[score.name]
            n_items = len(score.item_keys)
            rows.append([*exam_cells(dataset, exam, columns), source, score.name, score.label, score.function.value,
                         ", ".join(b.regions), cell_number(d.value), d.n_evaluated, n_items,
                         int(d.n_evaluated == n_items), cell_number(b.minimum), cell_number(b.maximum)])
    return header, rows


def exam_values(dataset: ExportDataset, source: str) -> list[ExamValues]:
    """Each exam's values from one source (NE → ``None``; unscored items absent), ordered
    by the exam's position among its subject's exams."""
    found = []
    for exam in dataset.exams_in_order:
        if not dataset.has_ratings(exam.exam_id, source):
            continue
        values = {key: row.value for key, row in dataset.ratings_of(exam.exam_id, source).items() if not row.unscored}
        found.append(ExamValues(exam.exam_id, exam.subject, values, label=exam.label, order=exam.order))
    return found


def _first_exams(dataset: ExportDataset, source: str) -> dict[str, ExamValues]:
    return {subject: rows[0] for subject, rows in exams_in_order(exam_values(dataset, source)).items()}


def change_rows(dataset: ExportDataset) -> list[list[object]]:
    protocol = dataset.protocol
    labels = {score.name: score.label for score in protocol.derived}
    rows: list[list[object]] = []
    for source in dataset.sources:
        records = exam_values(dataset, source)
        ordered = exams_in_order(records)
        order = {r.exam_id: r.order for r in records}
        coverage = {r.exam_id: {s.name: s for s in compute_scores(protocol, r.values)} for r in records}
        for change in longitudinal(protocol, records):
            first, last = coverage[change.first_exam][change.score], coverage[change.last_exam][change.score]
            rows.append([source, change.subject, dataset.group_of(change.subject) or "", change.score,
                         labels[change.score], ", ".join(first.regions), len(ordered[change.subject]),
                         order[change.first_exam], order[change.last_exam], change.first, change.last, change.delta,
                         change.relative, first.n_evaluated, last.n_evaluated, first.n_items, int(first.complete),
                         int(last.complete)])
    return rows


def progression_rows(dataset: ExportDataset) -> list[list[object]]:
    protocol = dataset.protocol
    rows: list[list[object]] = []
    for source in dataset.sources:
        records = exam_values(dataset, source)
        if not any(len(r) > 1 for r in exams_in_order(records).values()):
            continue
        result = protocol_progression(protocol, records)
        if result is None:
            continue
        regions = ", ".join(result.regions)
        for counts in (*result.by_unit, result.total):
            unit = protocol.item(f"{result.stir_measure}.{counts.unit}" + (f".{counts.side}" if counts.side else "")
                                 ).unit if counts.unit is not None else None
            rows.append([source, result.stir_measure, result.t1_measure, regions,
                         "all" if unit is None else unit.key, "All units" if unit is None else unit.name,
                         "" if unit is None else unit.region, counts.side or "", result.n_subjects, counts.n_pairs,
                         counts.n_excluded, counts.stir_positive, counts.stir_positive_progressed,
                         counts.percent_stir_positive_progressed, counts.progressed,
                         counts.progressed_not_stir_positive, counts.percent_progressed_not_stir_positive])
    return rows


def frequency_rows(dataset: ExportDataset) -> list[list[object]]:
    rows: list[list[object]] = []
    for source in dataset.sources:
        first = {subject: exam.values for subject, exam in _first_exams(dataset, source).items()}
        if not first:
            continue
        for f in frequencies(dataset.protocol, first):
            rows.append([source, f.indicator, f.level.value, f.unit, f.name, f.region, f.n_subjects, f.n_evaluated,
                         f.n_positive, f.percent])
    return rows


def pattern_rows(dataset: ExportDataset) -> list[list[object]]:
    rows: list[list[object]] = []
    for source in dataset.sources:
        firsts = _first_exams(dataset, source)
        if not firsts:
            continue
        codes = {subject: {key: row.code for key, row in dataset.ratings_of(exam.exam_id, source).items()
                           if not row.unscored}
                 for subject, exam in firsts.items()}
        for p in pattern_counts(dataset.protocol, codes):
            head = [source, p.item_key, p.indicator, p.unit, p.region]
            rows += [[*head, code, n] for code, n in p.counts.items()]
            rows += [[*head, "NE", p.n_not_evaluable], [*head, "unscored", p.n_missing]]
    return rows


def unit_rows(dataset: ExportDataset) -> list[list[object]]:
    rows: list[list[object]] = []
    for source in dataset.sources:
        first = {subject: exam.values for subject, exam in _first_exams(dataset, source).items()}
        if not first:
            continue
        for u in unit_summaries(dataset.protocol, first):
            rows.append([source, u.measure, u.level.value, u.unit, u.name, u.region, u.side, u.n_subjects, u.n_items,
                         u.n_evaluated, int(u.complete), u.threshold, u.n_positive, u.percent_positive, u.total,
                         u.mean])
    return rows


def summary_tables(dataset: ExportDataset) -> dict[str, tuple[list[str], list[list[object]]]]:
    """Every cross-subject table of :data:`SUMMARY_TABLES`: name → (header, rows)."""
    return {
        "changes": (list(CHANGE_COLUMNS), change_rows(dataset)),
        "progression": (list(PROGRESSION_COLUMNS), progression_rows(dataset)),
        "frequencies": (list(FREQUENCY_COLUMNS), frequency_rows(dataset)),
        "patterns": (list(PATTERN_COLUMNS), pattern_rows(dataset)),
        "units": (list(UNIT_COLUMNS), unit_rows(dataset)),
    }
