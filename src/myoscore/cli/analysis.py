"""Analysis commands: ``agreement``, ``reconcile``, ``discordant``, ``consensus``, ``scores``.

Each is a thin call into :mod:`myoscore.app.analysis`, run as a coordinator (``--as`` or
``$MYOSCORE_USER``). ``--json`` prints the use case's result as JSON (NaN as null).
"""

from __future__ import annotations

import math
import sys
from typing import Any

from myoscore.app import analysis
from myoscore.app.wording import plural
from myoscore.cli.main import Context, add_command, add_include_excluded, print_json, split_csv
from myoscore.domain import ConsensusMethod, MyoscoreError


def _num(value: float | None, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:.{digits}f}"


def _ci(low: float | None, high: float | None) -> str:
    if low is None or high is None or math.isnan(low) or math.isnan(high):
        return ""
    return f"({low:.2f}–{high:.2f})"


def cmd_agreement(ctx: Context) -> int:
    a = ctx.args
    if bool(a.readers) == bool(a.intra):
        raise MyoscoreError("name two readers (--readers A,B) or one reader's repeat reads (--intra A)")
    if a.intra:
        report = analysis.intra_reader_report(ctx.coordinator(), a.protocol, a.intra,
                                              include_excluded=a.include_excluded)
    else:
        report = analysis.agreement_report(ctx.coordinator(), a.protocol, split_csv(a.readers),
                                           include_excluded=a.include_excluded)
    if a.json:
        print_json(analysis.jsonable(report))
        return 0
    print(f"{report.protocol}: {report.readers[0]} vs {report.readers[1]}, {plural(report.n_exams, 'exam')} "
          "(submitted reads only)")
    print(f"{'':<52} {'n':>6} {'NE':>5} {'%agr':>6}  {'κ (95% CI)':<22} {'κw linear (95% CI)':<22} "
          f"{'AC1':>6} {'α':>6}")
    for row in report.rows:
        kappa = f"{_num(row.kappa)} {_ci(row.kappa_ci_low, row.kappa_ci_high)}"
        weighted = "" if row.weighted_kappa is None else \
            f"{_num(row.weighted_kappa)} {_ci(row.weighted_ci_low, row.weighted_ci_high)}"
        note = f"  [{row.reason}]" if row.reason else ""
        label = row.label if row.kind == "overall" else row.label[:52]
        print(f"{label:<52} {row.n_items:>6} {row.n_not_evaluable + row.n_unscored:>5} "
              f"{_num(row.percent_agreement, 1):>6}  {kappa:<22} {weighted:<22} {_num(row.ac1):>6} "
              f"{_num(row.alpha):>6}{note}")
    print("AC1: Gwet's first-order agreement coefficient; α: Krippendorff's alpha (ordinal metric on ordinal "
          "scales, nominal otherwise).")
    return 0


def _discordant_json(items: list[analysis.DiscordantItem] | tuple[analysis.DiscordantItem, ...]) -> list[Any]:
    return [analysis.jsonable(item) for item in items]


def _print_discordant(items: Any) -> None:
    for d in items:
        codes = ", ".join(f"{reader} {code if code is not None else 'unscored'}" for reader, code in d.codes.items())
        decided = "" if d.consensus is None else \
            f"  → {d.consensus.code if d.consensus.code is not None else _num(d.consensus.value)} " \
            f"({d.consensus.method.value})"
        print(f"  exam {d.exam_id:<4} {d.subject:<12} {d.exam_label:<12} {d.item_key:<44} {codes}{decided}")


def cmd_reconcile(ctx: Context) -> int:
    a = ctx.args
    outcome = analysis.reconcile_reads(ctx.coordinator(), a.protocol, split_csv(a.readers), a.policy,
                                       a.adjudicator, include_excluded=a.include_excluded)
    if a.json:
        print_json(analysis.jsonable(outcome))
        return 0
    policy = outcome.policy.value if outcome.policy is not None else "protocol policies"
    pending = len(outcome.pending)
    print(f"{outcome.protocol}: {policy} of {', '.join(outcome.readers)} over {plural(outcome.n_exams, 'exam')}; "
          f"{plural(outcome.n_values, 'consensus value')} stored, {plural(pending, 'item')} "
          f"{'needs' if pending == 1 else 'need'} joint review")
    _print_discordant(outcome.pending)
    if outcome.pending:
        print("record each agreed value with: myoscore consensus set --protocol P --exam E --item K --value V")
    return 0


def cmd_discordant(ctx: Context) -> int:
    a = ctx.args
    items = analysis.discordant_items(ctx.coordinator(), a.protocol, split_csv(a.readers), pending_only=a.pending,
                                      include_excluded=a.include_excluded)
    if a.json:
        print_json(_discordant_json(items))
        return 0
    print(plural(len(items), "discordant item"))
    _print_discordant(items)
    return 0


def cmd_consensus_set(ctx: Context) -> int:
    a = ctx.args
    value = analysis.record_review_decision(ctx.coordinator(), a.protocol, a.exam, a.item, a.value,
                                           override=a.override)
    if a.json:
        print_json(analysis.jsonable(value))
    else:
        print(f"exam {value.exam_id} {value.item_key}: {value.code} ({value.method.value}, {value.decided_by})")
    return 0


def cmd_consensus_list(ctx: Context) -> int:
    a = ctx.args
    tracked = analysis.tracked_consensus(ctx.coordinator(), a.protocol, include_excluded=a.include_excluded)
    if a.stale:
        tracked = [t for t in tracked if t.status is analysis.ConsensusStatus.STALE]
    if a.json:
        print_json(analysis.jsonable(tracked))
        return 0
    for t in tracked:
        v = t.value
        shown = v.code if v.code is not None else _num(v.value)
        why = f"  ({t.reason})" if t.reason else ""
        print(f"exam {v.exam_id:<4} {v.item_key:<44} {shown:<6} {v.method.value:<12} {t.status.value:<8} "
              f"{v.decided_by}{why}")
    stale = sum(t.status is analysis.ConsensusStatus.STALE for t in tracked)
    if stale and not a.json:
        print(f"{stale} stale consensus values: a contributing rating changed after the decision; "
              "run `myoscore reconcile` and review them again", file=sys.stderr)
    return 0


def cmd_scores(ctx: Context) -> int:
    a = ctx.args
    report = analysis.derived_scores(ctx.coordinator(), a.protocol, reader=a.reader,
                                     stir_measure=a.stir_measure, t1_measure=a.t1_measure,
                                     include_excluded=a.include_excluded)
    if a.json:
        print_json(analysis.jsonable(report))
        return 0
    print(f"{report.protocol}: derived scores from {report.source}")
    if report.consensus is not None:
        status = report.consensus
        print(f"consensus items: {status.decided} decided, {status.stale} stale (not used), {status.pending} pending "
              "(stale and pending items count as not evaluated)")
    for entry in report.exams:
        print(f"  exam {entry.exam.id} {entry.exam.subject_code} {entry.exam.label}")
        for s in entry.scores:
            flag = "" if s.complete else ", INCOMPLETE"
            print(f"    {s.name:<16} {_num(s.value):>8}  ({s.n_evaluated}/{s.n_items} evaluated{flag}, "
                  f"range {s.minimum:g}–{s.maximum:g})")
    if report.frequencies:
        print("subjects with the finding (first exam):")
        for f in report.frequencies:
            print(f"  {f.indicator:<24} {f.name:<36} {f.n_positive:>4}/{f.n_evaluated:<4} {_num(f.percent, 1):>6}%")
    for p in report.patterns:
        counts = ", ".join(f"{code} {n}" for code, n in p.counts.items())
        print(f"  {p.item_key:<36} {counts}")
    if report.changes:
        print("first → last exam:")
        for c in report.changes:
            print(f"  {c.subject:<12} {c.score:<16} {_num(c.first):>8} → {_num(c.last):<8} Δ {_num(c.delta)}")
    if report.progression is not None:
        t = report.progression.total
        print(f"{report.progression.stir_measure}-positive at first exam with {report.progression.t1_measure} "
              f"progression: {t.stir_positive_progressed}/{t.stir_positive}; progressed not "
              f"{report.progression.stir_measure}-positive: {t.progressed_not_stir_positive}/{t.progressed} "
              f"(regions: {', '.join(report.progression.regions)})")
    return 0


def register(commands: Any) -> None:
    """Add the analysis commands to the ``myoscore`` parser's subcommands."""
    agreement = add_command(commands, "agreement", cmd_agreement,
                            "agreement report of two readers (κ, weighted κ, %% agreement per indicator and muscle)",
                            json_flag=True, as_user=True)
    agreement.add_argument("--protocol", required=True)
    agreement.add_argument("--readers", metavar="A,B", help="the two readers, comma-separated")
    agreement.add_argument("--intra", metavar="READER", help="intra-reader agreement: first reads against the "
                           "reader's blinded repeat reads")
    add_include_excluded(agreement)

    reconcile = add_command(commands, "reconcile", cmd_reconcile,
                            "reconcile two readers' submitted reads into consensus (readers' ratings unchanged)",
                            json_flag=True, as_user=True)
    reconcile.add_argument("--protocol", required=True)
    reconcile.add_argument("--readers", required=True, metavar="A,B")
    reconcile.add_argument("--policy", default="protocol", choices=["protocol", *(m.value for m in ConsensusMethod)],
                           help="protocol (default): each measure's policy as the protocol declares it "
                           "(`myoscore schemes show P`); or one policy for every item whose scale can take it")
    reconcile.add_argument("--adjudicator", metavar="C", help="third reader who decides discordant items")
    add_include_excluded(reconcile)

    discordant = add_command(commands, "discordant", cmd_discordant,
                             "the joint-review list: items on which two readers differ, with both values",
                             json_flag=True, as_user=True)
    discordant.add_argument("--protocol", required=True)
    discordant.add_argument("--readers", required=True, metavar="A,B")
    discordant.add_argument("--pending", action="store_true", help="only items with no consensus value yet")
    add_include_excluded(discordant)

    consensus_parser = commands.add_parser("consensus", help="consensus values")
    consensus_commands = consensus_parser.add_subparsers(dest="subcommand", required=True, metavar="ACTION")
    decide = add_command(consensus_commands, "set", cmd_consensus_set,
                         "record the value agreed at joint review for one item of one exam (audited)",
                         json_flag=True, as_user=True)
    decide.add_argument("--protocol", required=True)
    decide.add_argument("--exam", required=True, type=int)
    decide.add_argument("--item", required=True)
    decide.add_argument("--value", required=True, help="a level code of the item's scale, or NE")
    decide.add_argument("--override", action="store_true",
                        help="replace a value that still stands (decided by the mean, an adjudicator or an "
                             "earlier review); audited as an override")
    listing = add_command(consensus_commands, "list", cmd_consensus_list, "consensus values of a protocol",
                          json_flag=True, as_user=True)
    listing.add_argument("--protocol", required=True)
    listing.add_argument("--stale", action="store_true",
                         help="only values whose contributing rating changed after the decision (to decide again)")
    add_include_excluded(listing)

    scores = add_command(commands, "scores", cmd_scores,
                         "derived scores per exam, frequencies and first → last changes",
                         json_flag=True, as_user=True)
    scores.add_argument("--protocol", required=True)
    source = scores.add_mutually_exclusive_group()
    source.add_argument("--consensus", action="store_true", help="from consensus values (the default)")
    source.add_argument("--reader", metavar="R", help="from this reader's submitted reads")
    scores.add_argument("--stir-measure", help="measure matched as STIR for progression (default: detected)")
    scores.add_argument("--t1-measure", help="measure matched as T1 for progression (default: detected)")
    add_include_excluded(scores)
