"""Commands for images: import, series, demo phantom.

Image libraries are imported inside the commands that use them, so every other command
starts without loading pydicom, nibabel or SimpleITK.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from myoscore.cli.main import Context, add_command, print_json
from myoscore.domain import NotFound, Sequence


class ProgressBar:
    """Progress on stderr: a one-line bar in a terminal; otherwise (a log, a pipe, a batch
    job) one plain line every few seconds. Both say files read / total and time left."""

    def __init__(self, label: str, every: float = 3.0) -> None:
        from myoscore.app.progress import ProgressText

        self.progress = ProgressText(label, every=every)
        self.terminal = sys.stderr.isatty()
        self._last = -1

    def __call__(self, done: int, total: int) -> None:
        self.progress.update(done, total)
        if total == 0:
            return
        if not self.terminal:
            if self.progress.due():
                sys.stderr.write(self.progress.text() + "\n")
                sys.stderr.flush()
            return
        percent = done * 100 // total
        if percent == self._last and done != total:
            return
        self._last = percent
        filled = percent * 30 // 100
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {self.progress.text()}\x1b[K")
        if done == total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def cmd_import(ctx: Context) -> int:
    from myoscore.app.imports import import_paths  # image libraries load only when needed

    a = ctx.args
    summary = import_paths(ctx.coordinator(), a.paths, subject_code=a.subject, exam_id=a.exam,
                           link_identity=not a.no_identity_link, dry_run=a.dry_run,
                           progress=ProgressBar("reading headers"))
    if a.json:
        print_json(summary.to_json())
    else:
        print("\n".join(summary.lines()))
    return 0


HIDDEN = "(hidden: --reveal shows it, audited)"


def _series_row(s: Any, *, reveal: bool) -> dict[str, Any]:
    # SeriesDescription (and a classification reason quoting it) can carry a patient's
    # name, and import issues name files: shown only when revealed.
    quoted = "'" in s.kind_reason
    return {"id": s.id, "exam": s.exam_id, "kind": s.kind.value,
            "kind_reason": s.kind_reason if reveal or not quoted else HIDDEN,
            "description": s.description if reveal else None, "shape": list(s.shape), "spacing": list(s.spacing),
            "files": s.n_files, "issues": list(s.issues) if reveal else len(s.issues), "regions": list(s.regions),
            "z_range": list(s.z_range) if s.z_range else None}


def cmd_series_list(ctx: Context) -> int:
    coordinator = ctx.coordinator()
    reveal = ctx.args.reveal
    found = coordinator.reveal_series(ctx.args.exam) if reveal else coordinator.series(ctx.args.exam)
    rows = [_series_row(s, reveal=reveal) for s in found]
    if ctx.args.json:
        print_json(rows)
    else:
        for r in rows:
            print(f"{r['id']:>5}  exam {r['exam']:<4} {r['kind']:<11} {'×'.join(map(str, r['shape'])):<12} "
                  f"{r['files']:>4} files  {','.join(r['regions']) or '-':<24} {r['description'] or ''}".rstrip())
    return 0


def _find_series(ctx: Context, series_id: int) -> Any:
    for series in ctx.coordinator().series():
        if series.id == series_id:
            return series
    raise NotFound(f"no series {series_id}")


def cmd_series_export(ctx: Context) -> int:
    from myoscore.app.exam_images import export_series_nifti

    out, volume = export_series_nifti(_find_series(ctx, ctx.args.series), ctx.args.out,
                                      values=ctx.args.values.replace("-", "_"))
    print(f"wrote {out} ({'×'.join(map(str, volume.voxels.shape))}, spacing "
          f"{' × '.join(f'{s:g}' for s in volume.spacing)} mm)")
    return 0


def cmd_series_set_kind(ctx: Context) -> int:
    series = ctx.coordinator().set_series_kind(ctx.args.series, Sequence(ctx.args.kind), ctx.args.reason or "")
    print(f"series {series.id} is now {series.kind.value} ({series.kind_reason})")
    return 0


def cmd_demo(ctx: Context) -> int:
    from myoscore.app.demo import write_demo_images

    info, whole_body = write_demo_images(Path(ctx.args.out), field_strength=ctx.args.field_strength,
                                         seed=ctx.args.seed, whole_body=not ctx.args.no_whole_body)
    if ctx.args.json:
        print_json({**info.to_json(), "whole_body": whole_body.to_json() if whole_body else None})
        return 0
    print(f"wrote the synthetic thigh-and-calf phantom ({info.field_strength:g} T) to {info.out_dir}:")
    print(f"  {len(info.series)} series (DICOM under dicom/, NIfTI under nifti/), label maps under labels/,")
    print(f"  ground truth in {info.ground_truth_path.name}. Import it with: myoscore import {info.out_dir / 'dicom'}")
    if whole_body is not None:
        print(f"and the whole-body phantom (6 stations: {', '.join(whole_body.regions)}) to {whole_body.out_dir}:")
        print(f"  {len(whole_body.series)} series, label maps per station under labels/. Import it with: "
              f"myoscore import {whole_body.out_dir / 'dicom'}")
    return 0


def register(commands: Any) -> None:
    imp = add_command(commands, "import", cmd_import, "import DICOM folders and NIfTI files (headers only, "
                      "read in place)", json_flag=True, as_user=True)
    imp.add_argument("paths", nargs="+", metavar="PATH")
    imp.add_argument("--subject", help="put every study found under this subject code")
    imp.add_argument("--no-identity-link", action="store_true",
                     help="do not keep the coordinator-only PatientID → subject link")
    imp.add_argument("--exam", type=int, metavar="ID",
                     help="attach every series found to this exam (a label map, NIfTI files converted elsewhere)")
    imp.add_argument("--dry-run", action="store_true",
                     help="print what the import would do (new exams, duplicates, label maps) and write nothing")
    series = commands.add_parser("series", help="image series of exams")
    actions = series.add_subparsers(dest="subcommand", required=True, metavar="ACTION")
    listing = add_command(actions, "list", cmd_series_list, "list series (no identifying fields)", json_flag=True,
                          as_user=True)
    listing.add_argument("--exam", type=int)
    listing.add_argument("--reveal", action="store_true",
                         help="also show SeriesDescription, classification reasons and import issues (audited)")
    export = add_command(actions, "export-nifti", cmd_series_export, "write a series as NIfTI (RAS affine)",
                         as_user=True)
    export.add_argument("series", type=int)
    export.add_argument("out")
    export.add_argument("--values", choices=("display", "real-world"), default="display",
                        help="intensities: display values (stored × rescale slope + intercept, the default, "
                             "what readers score) or real-world values (Philips floating point, Real World "
                             "Value Mapping) where the header has them (docs/imaging.md)")
    kind = add_command(actions, "set-kind", cmd_series_set_kind, "override a series' sequence kind (audited)",
                       as_user=True)
    kind.add_argument("series", type=int)
    kind.add_argument("kind", choices=[k.value for k in Sequence])
    kind.add_argument("--reason")
    demo = add_command(commands, "demo", cmd_demo, "write the synthetic phantoms: thigh-and-calf and whole-body "
                       "(DICOM + NIfTI)", json_flag=True)
    demo.add_argument("--out", required=True)
    demo.add_argument("--field-strength", type=float, choices=[1.5, 3.0], default=1.5)
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--no-whole-body", action="store_true", help="only the thigh-and-calf phantom")
