"""XLSX workbook: ratings, consensus, derived scores, agreement and a data dictionary.

openpyxl is imported inside :func:`write_xlsx`. See ``docs/export.md`` for every sheet.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from myoscore import __version__
from myoscore.domain import NOT_EVALUABLE
from myoscore.export._common import cell_number, target_file
from myoscore.export.dataset import CONSENSUS, ExportDataset
from myoscore.export.glossary import COLUMNS
from myoscore.export.redcap import redcap_codes, redcap_item_names
from myoscore.export.summaries import SUMMARY_TABLES, derived_table, summary_tables
from myoscore.export.tidy import tidy_columns, tidy_rows
from myoscore.export.wide import wide_names
from myoscore.scores import compute_score

#: Sheet names, in workbook order.
SHEETS = ("ratings", "consensus", "derived", *SUMMARY_TABLES, "agreement", "dictionary", "codes", "items", "scores",
          "about")

AGREEMENT_COLUMNS = ("indicator", "region", "unit", "label", "n", "n_not_evaluable", "percent_agreement", "kappa",
                     "ci_low", "ci_high", "weighted_kappa", "weighted_ci_low", "weighted_ci_high", "ac1",
                     "ac1_ci_low", "ac1_ci_high", "alpha", "alpha_level", "reason")
CODE_COLUMNS = ("scale", "scale_title", "kind", "code", "value", "label", "definition", "redcap_raw")
ITEM_SHEET_COLUMNS = ("item_key", "wide_column", "redcap_field", "measure", "indicator", "label", "sequence",
                      "region", "compartment", "unit", "unit_name", "unit_level", "side", "scale")
SCORE_COLUMNS = ("score", "label", "function", "n_items", "minimum", "maximum", "threshold", "items")
ABOUT_COLUMNS = ("property", "content")
DICTIONARY_COLUMNS = ("sheet", "column", "description")

_SHEET_PURPOSE = {
    "ratings": "Every reader's rating, one row per subject × exam × item × reader (tidy).",
    "consensus": "Consensus values, one row per subject × exam × item (tidy).",
    "derived": ("Derived scores (sums, STIR%, T1-LB, …), one row per subject × exam × source × score, with the "
                "items evaluated and whether every item was (complete)."),
    **SUMMARY_TABLES,
    "agreement": ("Inter-rater agreement per indicator and region (Cohen's kappa, weighted kappa, 95% CI, Gwet's "
                  "AC1, Krippendorff's alpha); the 'All items pooled' row mixes scales and is descriptive only."),
    "dictionary": "This sheet: what every column of every sheet means.",
    "codes": "Every code of every scale used, with its number and full definition; NE = not evaluable.",
    "items": "Every item of the protocol, with its column in the wide CSV and its REDCap field.",
    "scores": "Every derived score the protocol declares.",
    "about": "The protocol the scores were given with (name, version, content hash).",
}


def _agreement_rows(dataset: ExportDataset) -> list[list[object]]:
    return [[a.indicator or a.label, a.region, a.unit, a.label, a.n_compared, a.n_not_evaluable,
             cell_number(a.percent_agreement), cell_number(a.kappa), cell_number(a.kappa_ci_low),
             cell_number(a.kappa_ci_high), cell_number(a.weighted_kappa),
             cell_number(a.weighted_ci_low), cell_number(a.weighted_ci_high), cell_number(a.ac1),
             cell_number(a.ac1_ci_low), cell_number(a.ac1_ci_high), cell_number(a.alpha), a.alpha_level, a.reason]
            for a in dataset.agreement]


def _code_rows(dataset: ExportDataset) -> list[list[object]]:
    rows: list[list[object]] = []
    used = dict.fromkeys(item.scale for item in dataset.protocol.items)
    for name in used:
        scale = dataset.protocol.scales[name]
        raws, ne = redcap_codes(scale)
        for level in scale.levels:
            rows.append([scale.name, scale.title, scale.kind.value, level.code, cell_number(level.value), level.label,
                         level.definition, raws[level.code]])
        rows.append([scale.name, scale.title, scale.kind.value, NOT_EVALUABLE, None, "Not evaluable",
                     "The item could not be evaluated (e.g. sequence missing or artefact). Never counted as 0: "
                     "excluded from sums and from the denominators of percentages.", ne])
    return rows


def _item_rows(dataset: ExportDataset) -> list[list[object]]:
    protocol = dataset.protocol
    wide, _ = wide_names(protocol)
    redcap = redcap_item_names(protocol)
    return [[it.key, wide[it.key], redcap[it.key], it.measure, it.indicator, it.title, it.sequence, it.unit.region,
             it.unit.compartment, it.unit.key, it.unit.name, it.unit.level.value, it.side, it.scale]
            for it in protocol.items]


def _score_rows(dataset: ExportDataset) -> list[list[object]]:
    protocol = dataset.protocol
    rows: list[list[object]] = []
    for score in protocol.derived:
        b = compute_score(protocol, score, {})
        rows.append([score.name, score.label, score.function.value, len(score.item_keys), cell_number(b.minimum),
                     cell_number(b.maximum), cell_number(score.threshold), ", ".join(score.item_keys)])
    return rows


def _about_rows(dataset: ExportDataset) -> list[list[object]]:
    p = dataset.protocol
    return [["protocol", p.name], ["protocol_version", p.version], ["protocol_hash", p.hash],
            ["protocol_title", p.title], ["protocol_source", p.source], ["atlas", p.atlas],
            ["subjects", len(dataset.subjects)], ["exams", len(dataset.exams)],
            ["sources", ", ".join(dataset.sources)],
            *([[f"consensus_{name}", n] for name, n in dataset.consensus_status.items()]
              if dataset.consensus_status is not None else []),
            ["myoscore_version", __version__]]


def workbook_tables(dataset: ExportDataset) -> dict[str, tuple[list[str], list[list[object]]]]:
    """Every sheet's header and rows, as :func:`write_xlsx` writes them (dictionary included)."""
    tidy_header = tidy_columns(dataset)
    tables: dict[str, tuple[list[str], list[list[object]]]] = {
        "ratings": (tidy_header, tidy_rows(dataset, lambda source: source != CONSENSUS)),
        "consensus": (tidy_header, tidy_rows(dataset, lambda source: source == CONSENSUS)),
        "derived": derived_table(dataset),
        **summary_tables(dataset),
        "agreement": (list(AGREEMENT_COLUMNS), _agreement_rows(dataset)),
        "dictionary": (list(DICTIONARY_COLUMNS), []),
        "codes": (list(CODE_COLUMNS), _code_rows(dataset)),
        "items": (list(ITEM_SHEET_COLUMNS), _item_rows(dataset)),
        "scores": (list(SCORE_COLUMNS), _score_rows(dataset)),
        "about": (list(ABOUT_COLUMNS), _about_rows(dataset)),
    }
    dictionary: list[list[object]] = []
    for sheet, (header, _) in tables.items():
        dictionary.append([sheet, "", _SHEET_PURPOSE[sheet]])
        dictionary += [[sheet, column, COLUMNS[column]] for column in header]
    tables["dictionary"] = (list(DICTIONARY_COLUMNS), dictionary)
    return tables


def _width(header: str, rows: Sequence[Sequence[object]], index: int) -> float:
    longest = max([len(header), *(len(str(row[index])) for row in rows[:500] if row[index] is not None)])
    return float(min(max(longest + 2, 8), 60))


def write_xlsx(dataset: ExportDataset, path: str | Path) -> list[Path]:
    """Write the workbook to ``path`` (an ``.xlsx`` file, or a folder for
    ``<protocol>_scores.xlsx``) and return ``[file]``.

    Sheets: :data:`SHEETS`. Header rows are bold and frozen, with filters and column widths
    fitted to the content (at most 60 characters). Numbers are numeric cells (2.5 stays
    2.5); not evaluable is code ``NE`` with an empty value and ``not_evaluable`` 1.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    workbook.remove(workbook.active)
    # No creator or modifier from the environment: the file says only what the dataset says.
    workbook.properties.creator = "myoscore"
    workbook.properties.lastModifiedBy = "myoscore"
    bold = Font(bold=True)
    for sheet, (header, rows) in workbook_tables(dataset).items():
        ws: Any = workbook.create_sheet(sheet)
        ws.append(header)
        for row in rows:
            ws.append(row)
        for cell in ws[1]:
            cell.font = bold
            cell.alignment = Alignment(vertical="top")
        ws.freeze_panes = "A2"
        if rows:
            ws.auto_filter.ref = ws.dimensions
        for index, column in enumerate(header):
            ws.column_dimensions[get_column_letter(index + 1)].width = _width(column, rows, index)
    file = target_file(path, f"{dataset.protocol.name}_scores.xlsx")
    workbook.save(file)
    return [file]
