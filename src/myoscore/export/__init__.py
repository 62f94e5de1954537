"""Writers over one :class:`ExportDataset`: CSV, wide CSV, REDCap, XLSX and figures.

No database and no Qt: the app layer assembles the dataset, and every writer reads only
it, so an export is pseudonymous by construction (the dataset has no field for a name, a
PatientID, a birth date, an exam date or a file path).

``dataset``
    :class:`ExportDataset` and its rows; :func:`rating_rows` / :func:`derived_rows` /
    :func:`derived_for` build them from codes.
``tidy``
    :func:`write_tidy_csv`: one row per subject × exam × item × source.
``wide``
    :func:`write_wide_csv`: one row per exam and source, SPSS-legal column names.
``redcap``
    :func:`write_redcap`: import CSV and data dictionary for a REDCap project.
``xlsx``
    :func:`write_xlsx`: workbook with ratings, consensus, derived, agreement, dictionary.
``figures``
    :func:`write_heatmap`, :func:`write_stir_t1_heatmaps`, :func:`write_summed_bars`,
    :func:`write_figures`: PNG, SVG and PDF; :func:`write_figures_report` also says which
    figures it skipped and which exams it left out, and why.
``coverage``
    :func:`coverage_note`, :class:`Skipped`: the sentence naming the exams a mid-study
    export left out.

Every writer is ``write_x(dataset, path) -> list[Path]`` (the figure writers return a
:class:`FigureResult` whose ``paths`` is that list); :func:`write` dispatches on a format
name. openpyxl and matplotlib are imported only inside the functions that need them.
See ``docs/export.md``.
"""

from __future__ import annotations

from myoscore.domain.agreement import AgreementRow
from myoscore.export._common import spss_name, spss_names
from myoscore.export.coverage import Skipped, coverage_note, exam_name, left_out_text, source_text
from myoscore.export.dataset import (
    CONSENSUS,
    DerivedRow,
    ExamInfo,
    ExportDataset,
    RatingRow,
    derived_for,
    derived_rows,
    rating_rows,
    reader_source,
)
from myoscore.export.figures import (
    FIGURE_FORMATS,
    FigureResult,
    FigureSet,
    Panel,
    write_figures,
    write_figures_report,
    write_heatmap,
    write_stir_t1_heatmaps,
    write_summed_bars,
)
from myoscore.export.formats import WRITERS, write
from myoscore.export.redcap import (
    NE_MISSING_CODE,
    REDCAP_DICTIONARY_HEADER,
    redcap_choices,
    redcap_codes,
    redcap_item_names,
    redcap_name,
    write_redcap,
)
from myoscore.export.tidy import write_tidy_csv
from myoscore.export.wide import wide_names, write_wide_csv
from myoscore.export.xlsx import SHEETS, write_xlsx

__all__ = [
    "CONSENSUS",
    "FIGURE_FORMATS",
    "NE_MISSING_CODE",
    "REDCAP_DICTIONARY_HEADER",
    "SHEETS",
    "WRITERS",
    "AgreementRow",
    "DerivedRow",
    "ExamInfo",
    "ExportDataset",
    "FigureResult",
    "FigureSet",
    "Panel",
    "RatingRow",
    "Skipped",
    "coverage_note",
    "derived_for",
    "derived_rows",
    "exam_name",
    "left_out_text",
    "rating_rows",
    "reader_source",
    "redcap_choices",
    "redcap_codes",
    "redcap_item_names",
    "redcap_name",
    "source_text",
    "spss_name",
    "spss_names",
    "wide_names",
    "write",
    "write_figures",
    "write_figures_report",
    "write_heatmap",
    "write_redcap",
    "write_stir_t1_heatmaps",
    "write_summed_bars",
    "write_tidy_csv",
    "write_wide_csv",
    "write_xlsx",
]
