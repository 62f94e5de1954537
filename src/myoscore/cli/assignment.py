"""``myoscore assign`` (chosen exams to chosen readers, in a study design) and
``myoscore assignments list|undo``."""

from __future__ import annotations

import argparse
from collections.abc import Sequence as Seq
from typing import Any

from myoscore.app.assignment import (
    DESIGNS,
    AssignmentPlan,
    assign_selected,
    assignments,
    plan_assignment,
    undo_assignment,
)
from myoscore.app.wording import plural
from myoscore.cli.main import Context, add_command, print_json, split_csv, whole_number
from myoscore.domain import Assignment, MyoscoreError


def _names(values: Seq[str] | None) -> list[str]:
    """``A B`` and ``A,B`` (the older form) alike."""
    return [name for value in values or () for name in split_csv(value)]


def _plan_json(plan: AssignmentPlan, *, dry_run: bool) -> dict[str, Any]:
    return {
        "assignment": plan.assignment_id, "dry_run": dry_run, "protocol": plan.protocol,
        "design": plan.design.name, "seed": plan.seed, "anchor": plan.design.anchor,
        "per_exam": plan.design.per_exam, "anchors": list(plan.design.anchors) if plan.design.name == "balanced"
        else [], "exams": list(plan.exam_ids), "summary": plan.counts(),
        "worklists": {name: list(ids) for name, ids in plan.worklists.items()},
        "reads": [{"read": r.id, "reader": r.reader_name, "exam": r.exam_id, "position": r.position}
                  for r in plan.reads],
    }


def cmd_assign(ctx: Context) -> int:
    a = ctx.args
    readers = _names(a.readers)
    exam_ids = None if a.exams is None else [whole_number(x, "--exams") for x in _names(a.exams)]
    if a.exams is not None and not exam_ids:
        raise MyoscoreError("--exams: name at least one exam id")
    arguments: dict[str, Any] = {"design": a.design, "anchor": a.anchor, "per_exam": a.per_exam, "seed": a.seed}
    coordinator = ctx.coordinator()
    if a.dry_run:
        plan = plan_assignment(coordinator, a.protocol, readers, exam_ids, **arguments)
    else:
        plan = assign_selected(coordinator, a.protocol, readers, exam_ids, **arguments).value
    if a.json:
        print_json(_plan_json(plan, dry_run=a.dry_run))
        return 0
    if not plan.n_reads:
        print(f"nothing to assign: every exam that is not excluded has a read of {plan.protocol}")
        return 0
    if a.dry_run:
        print(f"would create {plan.counts()} of {plan.protocol} (design {plan.design.name}, seed {plan.seed}); "
              "nothing stored — run again without --dry-run and with this --seed to create them")
    else:
        print(f"assignment {plan.assignment_id}: created {plan.counts()} of {plan.protocol} "
              f"(design {plan.design.name}, seed {plan.seed})")
    if plan.design.name == "balanced":
        print(f"  anchors (read by every reader): {', '.join(map(str, plan.design.anchors)) or 'none'}")
    for name, ids in plan.worklists.items():
        print(f"  {name}: {plural(len(ids), 'exam')} in worklist order {', '.join(map(str, ids))}")
    return 0


def _assignment_json(record: Assignment) -> dict[str, Any]:
    return {"assignment": record.id, "created_at": record.created_at, "created_by": record.created_by,
            "design": record.design, "seed": record.seed, "protocol": record.protocol,
            "readers": list(record.reader_names), "exams": list(record.exam_ids), "reads": record.reads,
            "started": record.started, "undone_at": record.undone_at, "undone_by": record.undone_by,
            "parameters": record.parameters}


def cmd_assignments_list(ctx: Context) -> int:
    records = assignments(ctx.coordinator())
    if ctx.args.json:
        print_json([_assignment_json(r) for r in records])
        return 0
    if not records:
        print("no recorded assignments")
    for r in records:
        state = (f"undone {r.undone_at:%Y-%m-%d %H:%M} by {r.undone_by}" if r.undone_at is not None
                 else f"{plural(r.reads, 'read')}, {r.started} started")
        print(f"{r.id:>4}  {r.created_at:%Y-%m-%d %H:%M}  {r.created_by:<12} {r.protocol:<18} {r.design:<9} "
              f"seed {r.seed:<11} {', '.join(r.reader_names)} × {plural(len(r.exam_ids), 'exam')}  {state}")
    return 0


def cmd_assignments_undo(ctx: Context) -> int:
    done = undo_assignment(ctx.coordinator(), ctx.args.assignment)
    print(f"assignment {done.value.id} undone: its reads were deleted (audited)")
    return 0


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    assign = add_command(commands, "assign", cmd_assign,
                         "assign chosen exams to chosen readers in randomised order (recorded; undo with "
                         "`assignments undo`)", json_flag=True, as_user=True)
    assign.add_argument("--protocol", required=True)
    assign.add_argument("--readers", required=True, nargs="+", metavar="READER",
                        help="reader names (A B, or A,B)")
    chosen = assign.add_mutually_exclusive_group()
    chosen.add_argument("--exams", nargs="+", metavar="ID", help="exam ids (1 3 5, or 1,3,5)")
    chosen.add_argument("--unassigned", action="store_true",
                        help="every exam without a read of the protocol that is not excluded (the default)")
    assign.add_argument("--design", choices=DESIGNS, default="all",
                        help="all: every reader reads every exam (default); balanced: an anchor set read by "
                             "every reader, every other exam by --per-exam readers, loads balanced")
    assign.add_argument("--anchor", type=int, metavar="N", help="balanced: exams read by every reader (default 0)")
    assign.add_argument("--per-exam", type=int, metavar="K",
                        help="balanced: readers per non-anchor exam (default 2)")
    assign.add_argument("--seed", type=int, help="random seed of the design and worklist order (recorded; "
                        "default: drawn)")
    assign.add_argument("--dry-run", action="store_true", help="show what would be created; store nothing")

    parser = commands.add_parser("assignments", help="recorded assignments: list, undo")
    sub = parser.add_subparsers(dest="subcommand", required=True, metavar="ACTION")
    add_command(sub, "list", cmd_assignments_list, "list the recorded assignments, newest first",
                json_flag=True, as_user=True)
    undo = add_command(sub, "undo", cmd_assignments_undo,
                       "delete the reads of an assignment while none of them has a rating (audited)",
                       as_user=True)
    undo.add_argument("assignment", type=int, metavar="ID")
