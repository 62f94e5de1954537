"""``myoscore exams list|exclude|include|delete``: the exam registry and an exam's lifecycle.

Thin calls into :mod:`myoscore.app.exam_lifecycle`, run as a coordinator. A refusal (an
exam with submitted reads cannot be deleted) is one line on stderr and exit 1.
"""

from __future__ import annotations

from typing import Any

from myoscore.app import exam_lifecycle
from myoscore.cli.main import Context, add_command, print_json


def cmd_exams_list(ctx: Context) -> int:
    exams = ctx.coordinator().exams()
    if ctx.args.json:
        print_json([{"exam": e.id, "subject": e.subject_code, "label": e.label,
                     "date": e.exam_date, "months_from_onset": e.months_from_onset,
                     "treated": e.treated, "excluded": e.excluded_at is not None,
                     "excluded_at": e.excluded_at, "excluded_reason": e.excluded_reason} for e in exams])
    else:
        for e in exams:
            excluded = f"  EXCLUDED: {e.excluded_reason}" if e.excluded_at is not None else ""
            print(f"{e.id:>5}  {e.subject_code:<14} {e.label}{excluded}")
    return 0


def cmd_exams_exclude(ctx: Context) -> int:
    done = exam_lifecycle.exclude_exam(ctx.coordinator(), ctx.args.exam, ctx.args.reason)
    name = exam_lifecycle.exam_name(done.value)
    if ctx.args.json:
        print_json({"exam": done.value.id, "excluded": True, "reason": done.value.excluded_reason,
                    "changed": bool(done.changes)})
    elif done.changes:
        print(f"excluded {name}: {done.value.excluded_reason} (reads and ratings kept; "
              f"`myoscore exams include {done.value.id}` brings it back)")
    else:
        print(f"{name} was already excluded for that reason")
    return 0


def cmd_exams_include(ctx: Context) -> int:
    done = exam_lifecycle.include_exam(ctx.coordinator(), ctx.args.exam)
    if ctx.args.json:
        print_json({"exam": done.value.id, "excluded": False})
    else:
        print(f"included {exam_lifecycle.exam_name(done.value)} again")
    return 0


def cmd_exams_delete(ctx: Context) -> int:
    done = exam_lifecycle.delete_exam(ctx.coordinator(), ctx.args.exam)
    removed = done.value
    if ctx.args.json:
        print_json({"exam": removed.exam.id, "reads": removed.reads, "ratings": removed.ratings,
                    "series": removed.series, "subject_deleted": removed.subject_deleted})
    else:
        print(f"deleted {removed.sentence()} (image files untouched)")
    return 0


def register(exams_commands: Any) -> None:
    """Add ``list``, ``exclude``, ``include`` and ``delete`` to the ``exams`` subcommands."""
    add_command(exams_commands, "list", cmd_exams_list, "list exams (coordinator view; excluded ones with "
                "their reason)", json_flag=True, as_user=True)
    exclude = add_command(exams_commands, "exclude", cmd_exams_exclude,
                          "exclude an exam from worklists, agreement, scores and exports (reads and ratings "
                          "kept; audited)", json_flag=True, as_user=True)
    exclude.add_argument("exam", type=int, metavar="EXAM_ID")
    exclude.add_argument("--reason", required=True, help="why (kept with the exam and in the audit trail)")
    include = add_command(exams_commands, "include", cmd_exams_include, "include an excluded exam again (audited)",
                          json_flag=True, as_user=True)
    include.add_argument("exam", type=int, metavar="EXAM_ID")
    delete = add_command(exams_commands, "delete", cmd_exams_delete,
                         "delete an exam with no submitted read: its unsubmitted reads and ratings, its series "
                         "rows and an emptied subject go too (audited; image files untouched)",
                         json_flag=True, as_user=True)
    delete.add_argument("exam", type=int, metavar="EXAM_ID")
