"""``myoscore export``: the study's scores for SPSS, R, JASP, REDCap and Excel, and figures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from myoscore.app.wording import plural
from myoscore.cli.main import Context, add_command, add_include_excluded, print_json, split_csv
from myoscore.domain import MyoscoreError


def _only_protocol(ctx: Context) -> str:
    names = sorted({read.protocol_name for read in ctx.coordinator().reads()})
    if len(names) != 1:
        raise MyoscoreError(f"name the protocol to export (--protocol; in use: {', '.join(names) or 'none'})")
    return names[0]


def cmd_export(ctx: Context) -> int:
    """Exit 0 when everything that can be written was written (the summary names each file
    and what was skipped or left out, and why); 1, with nothing written, for bad input or
    when nothing at all could be written; 2 for an unexpected failure (nothing written)."""
    from myoscore.app.export import FORMATS, export_files, read_groups  # matplotlib/openpyxl only when exporting

    a = ctx.args
    formats = list(FORMATS) if a.format == "all" else [a.format]
    result = export_files(
        ctx.coordinator(), a.protocol or _only_protocol(ctx), formats, Path(a.out),
        readers=split_csv(a.readers) if a.readers else None, clinical=not a.no_clinical,
        groups=read_groups(Path(a.groups)) if a.groups else None, not_evaluable=a.not_evaluable,
        source=a.source,
        include_excluded=a.include_excluded, identified_sr=a.identified,
    )
    if a.json:
        print_json({
            "out": str(result.out),
            "written": {fmt: [str(p) for p in paths] for fmt, paths in result.by_format.items()},
            "skipped": [{"what": s.what, "reason": s.reason} for s in result.skipped],
            "figure_source": result.figure_source,
            "exams": result.n_exams,
            "left_out": [{"exam": e.exam_id, "name": e.name, "reason": e.reason} for e in result.left_out],
            "removed": [str(p) for p in result.removed],
        })
    else:
        lines = result.summary()
        print(lines[0])
        for fmt, paths in result.by_format.items():
            for path in paths:
                print(f"  {fmt:<8} {path}")
        for line in lines[1 + len(result.by_format):]:
            print(line)
    return 0


def cmd_import_sr(ctx: Context) -> int:
    from myoscore.app.structured_reports import import_sr

    results = import_sr(ctx.coordinator(), [Path(p) for p in ctx.args.files])
    if ctx.args.json:
        print_json([{"file": str(r.path), "kind": r.content.kind, "observer": r.content.observer,
                     "subject": r.content.patient_id, "exam_id": r.exam_id, "items": len(r.content.values),
                     "matches": r.matches, "differences": list(r.differences)} for r in results])
    else:
        for r in results:
            state = "same as the database" if r.matches else plural(len(r.differences), "difference")
            print(f"{r.path}: {r.content.kind} by {r.content.observer}, {r.content.patient_id}, "
                  f"{plural(len(r.content.values), 'item')}: {state}")
            for line in r.differences[:20]:
                print(f"  {line}")
    return 0 if all(r.matches for r in results) else 1


def register(commands: Any) -> None:
    export = add_command(commands, "export", cmd_export, "export ratings, consensus, derived scores and agreement "
                         "(pseudonymous)", json_flag=True, as_user=True)
    export.add_argument("--format", required=True, choices=["csv", "wide", "redcap", "xlsx", "figures", "sr", "all"],
                        help="csv: tidy rows; wide: one row per exam (SPSS/R/JASP); redcap: import file + data "
                             "dictionary; xlsx: workbook; figures: heatmaps and bar chart (PNG, SVG, PDF); "
                             "sr: one DICOM Structured Report per submitted read and per consensus")
    export.add_argument("--out", required=True, help="folder (or a .csv/.xlsx file name for csv, wide, xlsx)")
    export.add_argument("--protocol", help="default: the only protocol with reads")
    export.add_argument("--readers", metavar="A,B", help="add the agreement report of these two readers")
    export.add_argument("--identified", action="store_true",
                        help="sr only: the SRs carry the hospital PatientID linked at import instead of the "
                             "pseudonym, to send results back to the hospital's PACS (each reveal audited; "
                             "refused when a subject has no link)")
    export.add_argument("--source", metavar="consensus|READER",
                        help="what the figures draw: consensus or one reader's ratings (default: consensus when "
                             "any exam has it, else the first reader); exams without it are left out and named")
    export.add_argument("--groups", metavar="CSV", help="subject,group file for the per-group bar chart")
    export.add_argument("--not-evaluable", metavar="CODE", default="NE",
                        help="what a not evaluable item's cell holds in the wide CSV (default NE: an explicit "
                             "code, never empty like an unscored item; e.g. -9 for SPSS, then declare it missing; "
                             "'' for an empty cell)")
    export.add_argument("--no-clinical", action="store_true",
                        help="leave out months from onset and treated (the only clinical fields ever exported)")
    add_include_excluded(export)
    check = add_command(commands, "import-sr", cmd_import_sr, "read back DICOM SRs written by myoscore and compare "
                        "them with the database", json_flag=True, as_user=True)
    check.add_argument("files", nargs="+", help="SR files (.dcm)")
