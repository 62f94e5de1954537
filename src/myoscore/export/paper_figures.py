"""Seed 004's figures 1–4 (IMNM whole-body study), from consensus or a chosen reader.

* :func:`write_group_scores` — Fig. 1: STIR%LB and T1-LB at the first exam, box and strip
  plots by group (EARLY-BT, EARLY-UT, LATE) and by treated / untreated;
* :func:`write_muscle_scores_by_group` — Fig. 2: per muscle, STIR % (positive over
  evaluated, × 100) and the summed T1 score, stacked by group, lower and upper body apart;
* :func:`write_score_changes` — Fig. 3: per subject, ΔSTIR%LB and ΔT1-LB between the first
  and last exam, by group;
* :func:`write_progression` — Fig. 4: STIR-positive muscles at baseline whose T1 score rose
  at follow-up, and T1-progressed muscles that were not STIR-positive, by group.

Not evaluable never looks like a zero: an exam whose score has nothing evaluated is left
out and counted in the panel's note, a muscle nobody could evaluate is marked "NE", a
subject without a change is marked "n/a". Fig. 5 (the heatmaps) is in :mod:`figures`.
Every title says which exams and which source the numbers come from.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from myoscore.domain import MyoscoreError
from myoscore.export._common import number_text, target_dir
from myoscore.export.coverage import count, coverage_note, left_out_text
from myoscore.export.dataset import CONSENSUS, ExamInfo, ExportDataset
from myoscore.export.figures import (
    NO_GROUP,
    NOT_EVALUABLE_COLOUR,
    NOT_EVALUABLE_HATCH,
    FigureResult,
    Panel,
    _cells,
    _check_source,
    _measure_on,
    _new_figure,
    _save,
    first_exams,
    follow_up_pairs,
    follow_up_scope,
    no_pairs_reason,
)
from myoscore.schemes import DerivedFunction, Protocol

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "GROUP_COLOURS",
    "paper_scores",
    "write_group_scores",
    "write_muscle_scores_by_group",
    "write_progression",
    "write_score_changes",
]

#: Colours of the groups in order (seed 004: EARLY-BT red, EARLY-UT yellow, LATE blue).
GROUP_COLOURS = ("#d62728", "#e6b400", "#1f77b4", "#2ca02c", "#9467bd", "#8c564b")
_NO_GROUP_COLOUR = "0.55"


def paper_scores(protocol: Protocol) -> tuple[str, str]:
    """The protocol's lower-body STIR % and T1 sum scores (seed 004: ``stir_pct_lb``, ``t1_lb``)."""
    stir = _measure_on(protocol, "STIR")
    t1 = _measure_on(protocol, "T1")
    keys = {it.key: it for it in protocol.items}

    def find(function: DerivedFunction, measure: str | None) -> str | None:
        for score in protocol.derived:
            items = [keys[k] for k in score.item_keys if k in keys]
            if (score.function is function and items and all(it.measure == measure for it in items)
                    and all(it.unit.body == "lower" for it in items)):
                return score.name
        return None

    stir_score, t1_score = find(DerivedFunction.PERCENT_POSITIVE, stir), find(DerivedFunction.SUM, t1)
    if stir_score is None or t1_score is None:
        raise MyoscoreError(f"protocol {protocol.name} has no lower-body STIR % and T1 sum scores "
                            "(seed 004's STIR%LB and T1-LB) to draw")
    return stir_score, t1_score


def _groups(dataset: ExportDataset, subjects: Sequence[str]) -> list[str]:
    """Group labels in the study's order (as the mapping declares them), then "no group"."""
    if dataset.groups is None:
        return ["all subjects"]
    declared = list(dict.fromkeys(dataset.groups.values()))
    present = {dataset.group_of(s) or NO_GROUP for s in subjects}
    return [g for g in declared if g in present] + ([NO_GROUP] if NO_GROUP in present else [])


def _group(dataset: ExportDataset, subject: str) -> str:
    return "all subjects" if dataset.groups is None else dataset.group_of(subject) or NO_GROUP


#: Seed 004's own colours for its groups (Fig. 2: EARLY-BT red, EARLY-UT yellow, LATE blue).
_PAPER_COLOURS = {"EARLY-BT": GROUP_COLOURS[0], "EARLY-UT": GROUP_COLOURS[1], "LATE": GROUP_COLOURS[2]}


def _colour(groups: Sequence[str], name: str) -> str:
    if name == NO_GROUP:
        return _NO_GROUP_COLOUR
    if name in _PAPER_COLOURS:
        return _PAPER_COLOURS[name]
    return GROUP_COLOURS[3 + list(groups).index(name) % (len(GROUP_COLOURS) - 3)]


def _first_exams(dataset: ExportDataset, source: str) -> list[ExamInfo]:
    """Each subject's first exam rated by ``source`` (a later exam never stands in for it)."""
    firsts = first_exams(dataset, source)
    if not firsts:
        scope = [e for e in dataset.exams_in_order if e.order == 1]
        raise MyoscoreError(f"no first exam has ratings from {_source_text(source)}: "
                            f"{left_out_text(dataset.left_out(source, scope))}")
    return firsts


def _first_note(dataset: ExportDataset, source: str) -> str:
    note = coverage_note(dataset, source, [e for e in dataset.exams_in_order if e.order == 1], width=120)
    return f"\n{note}" if note else ""


def _pairs_note(dataset: ExportDataset, source: str) -> str:
    note = coverage_note(dataset, source, follow_up_scope(dataset), width=120)
    return f"\n{note}" if note else ""


def _pairs(dataset: ExportDataset, source: str, what: str) -> list[tuple[ExamInfo, ExamInfo]]:
    pairs = follow_up_pairs(dataset, source)
    if not pairs:
        raise MyoscoreError(no_pairs_reason(dataset, source, what))
    return pairs


def _score(dataset: ExportDataset, exam: ExamInfo, source: str, name: str) -> float | None:
    row = dataset.derived_of(exam.exam_id, source).get(name)
    return None if row is None or row.value is None else float(row.value)


def _box_strip(ax: Axes, names: Sequence[str], values: Sequence[Sequence[float]], colours: Sequence[str],
               missing: Sequence[int], ylabel: str, title: str) -> None:
    positions = np.arange(len(names))
    drawn = [(p, v) for p, v in zip(positions, values, strict=True) if v]
    if drawn:
        ax.boxplot([v for _, v in drawn], positions=[p for p, _ in drawn], widths=0.5, showfliers=False,
                   medianprops={"color": "black"}, boxprops={"color": "0.3"}, whiskerprops={"color": "0.3"},
                   capprops={"color": "0.3"})
    for p, v, colour in zip(positions, values, colours, strict=True):
        if v:
            offsets = np.linspace(-0.12, 0.12, len(v)) if len(v) > 1 else np.zeros(1)
            ax.scatter(p + offsets, v, s=18, color=colour, edgecolor="black", linewidth=0.4, zorder=3)
    labels = [f"{name}\nn = {len(v)}" + (f"\n({m} not evaluated)" if m else "")
              for name, v, m in zip(names, values, missing, strict=True)]
    ax.set_xticks(positions, labels, fontsize=7)
    ax.set_xlim(-0.6, len(names) - 0.4)
    ax.set_ylabel(ylabel, fontsize=8)
    ax.tick_params(axis="y", labelsize=7)
    ax.set_title(title, fontsize=9)


def _source_text(source: str) -> str:
    return "consensus" if source == CONSENSUS else source


# -- Fig. 1 ---------------------------------------------------------------------------------------
def write_group_scores(dataset: ExportDataset, path: str | Path, *, source: str = CONSENSUS) -> FigureResult:
    """Fig. 1: STIR%LB (top) and T1-LB (bottom) at each subject's first exam, by group
    (left) and by treated / untreated at that exam (right). Box: median and quartiles;
    points: subjects. Written as ``<protocol>_fig1_scores_by_group.{png,svg,pdf}``."""
    protocol = dataset.protocol
    stir_score, t1_score = paper_scores(protocol)
    _check_source(dataset, source)
    firsts = _first_exams(dataset, source)
    groups = _groups(dataset, [e.subject for e in firsts])
    treatment = [("untreated", False), ("treated", True)]
    figure = _new_figure(8.27, 7.0)
    axes = figure.subplots(2, 2, squeeze=False)
    panels: dict[str, Panel] = {}
    for row, (score, unit) in enumerate(((stir_score, "%"), (t1_score, "points"))):
        label = next(d.label for d in protocol.derived if d.name == score).split(":")[0]
        by_group = [[v for e in firsts if _group(dataset, e.subject) == g
                     if (v := _score(dataset, e, source, score)) is not None] for g in groups]
        missing = [sum(1 for e in firsts if _group(dataset, e.subject) == g
                       and _score(dataset, e, source, score) is None) for g in groups]
        _box_strip(axes[row][0], groups, by_group, [_colour(groups, g) for g in groups], missing,
                   f"{label} ({unit})", f"{'AC'[row]}  {label} by group")
        panels[f"{score} by group"] = Panel(f"{label} by group", tuple(groups), ("median",),
                                            np.array([[np.median(v)] if v else [np.nan] for v in by_group]),
                                            np.array(missing))
        by_treatment = [[v for e in firsts if e.treated is flag
                         if (v := _score(dataset, e, source, score)) is not None] for _, flag in treatment]
        missing_t = [sum(1 for e in firsts if e.treated is flag and _score(dataset, e, source, score) is None)
                     for _, flag in treatment]
        unknown = sum(1 for e in firsts if e.treated is None)
        names = [n for n, _ in treatment]
        _box_strip(axes[row][1], names, by_treatment, ["#e6b400", "#1f77b4"], missing_t, f"{label} ({unit})",
                   f"{'BD'[row]}  {label}, untreated vs treated" + (f" ({unknown} unknown)" if unknown else ""))
        panels[f"{score} by treatment"] = Panel(f"{label} by treatment", tuple(names), ("median",),
                                                np.array([[np.median(v)] if v else [np.nan] for v in by_treatment]),
                                                np.array(missing_t))
    figure.suptitle(f"Fig. 1 — {protocol.name}: STIR%LB and T1-LB at the first exam of "
                    f"{count(len(firsts), 'subject')}; "
                    f"source: {_source_text(source)}" + _first_note(dataset, source), fontsize=10)
    result = FigureResult(figure, panels)
    result.paths = _save(figure, target_dir(path), f"{protocol.name}_fig1_scores_by_group")
    return result


# -- Fig. 2 ---------------------------------------------------------------------------------------
def write_muscle_scores_by_group(dataset: ExportDataset, path: str | Path, *,
                                 source: str = CONSENSUS) -> FigureResult:
    """Fig. 2: per muscle (both sides), STIR % = STIR-positive / evaluated × 100 (top) and
    the summed T1 score (bottom), at each subject's first exam, stacked by group (a group's
    part of the STIR bar is its positives over all evaluated), lower body left, upper body
    right. Muscles nobody could evaluate are marked NE. Written as
    ``<protocol>_fig2_muscles_by_group.{png,svg,pdf}``."""
    protocol = dataset.protocol
    stir = _measure_on(protocol, "STIR")
    t1 = _measure_on(protocol, "T1")
    if stir is None or t1 is None:
        raise MyoscoreError(f"protocol {protocol.name} needs a STIR and a T1 measure for Fig. 2")
    _check_source(dataset, source)
    firsts = _first_exams(dataset, source)
    groups = _groups(dataset, [e.subject for e in firsts])
    bodies = [b for b in ("lower", "upper") if any(it.unit.body == b for it in protocol.items)]
    lower_units = len({it.unit.key for it in protocol.items if it.unit.body == "lower"})
    figure = _new_figure(11.69, 8.27)
    grid = figure.add_gridspec(2, len(bodies), width_ratios=[
        max(1, len({it.unit.key for it in protocol.items if it.unit.body == b})) for b in bodies])
    panels: dict[str, Panel] = {}
    for col, body in enumerate(bodies):
        for row, (measure, kind) in enumerate(((stir, "percent"), (t1, "sum"))):
            ax = figure.add_subplot(grid[row, col])
            items = [it for it in protocol.items if it.measure == measure and it.unit.body == body]
            units = list(dict.fromkeys(it.unit.key for it in items))
            names = [next(it.unit.name for it in items if it.unit.key == u) for u in units]
            values, not_evaluable = _cells(dataset, firsts, items, source)
            evaluated = np.zeros(len(units))
            parts = np.zeros((len(groups), len(units)))
            ne = np.zeros(len(units), dtype=int)
            for r, exam in enumerate(firsts):
                g = groups.index(_group(dataset, exam.subject))
                for c, item in enumerate(items):
                    u = units.index(item.unit.key)
                    if np.isnan(values[r, c]):
                        ne[u] += int(not_evaluable[r, c])
                        continue
                    evaluated[u] += 1
                    parts[g, u] += (values[r, c] >= 1.0) if kind == "percent" else values[r, c]
            if kind == "percent":
                with np.errstate(invalid="ignore", divide="ignore"):
                    parts = np.where(evaluated > 0, parts / np.maximum(evaluated, 1) * 100.0, 0.0)
            bottom = np.zeros(len(units))
            for g, name in enumerate(groups):
                ax.bar(range(len(units)), parts[g], bottom=bottom, color=_colour(groups, name), width=0.8,
                       label=name if row == 0 and col == 0 else None)
                bottom += parts[g]
            for u in np.flatnonzero(evaluated == 0).tolist():
                ax.bar(u, ax.get_ylim()[1] * 0.04 or 1.0, color=NOT_EVALUABLE_COLOUR, hatch=NOT_EVALUABLE_HATCH,
                       edgecolor="0.4", width=0.8, linewidth=0)
                ax.text(u, 0, "NE", rotation=90, fontsize=6, ha="center", va="bottom", color="0.25")
            ax.set_xticks(range(len(units)), names, rotation=90, fontsize=6.5)
            ax.set_xlim(-0.6, len(units) - 0.4)
            ax.tick_params(axis="y", labelsize=7)
            if kind == "percent":
                ax.set_ylim(0, 100)
                ax.set_ylabel("STIR-positive / evaluated (%)", fontsize=8)
            else:
                ax.set_ylabel("Summed T1 score", fontsize=8)
            title = f"{'AB'[row]}  {'STIR %' if kind == 'percent' else 'T1 sum'}, {body} body"
            ax.set_title(title, fontsize=9)
            panels[f"{measure} {body}"] = Panel(title, tuple(groups), tuple(names), parts, ne)
    figure.legend(loc="outside lower center", fontsize=7, frameon=False, ncols=len(groups))
    figure.suptitle(f"Fig. 2 — {protocol.name}: per muscle, both sides, at the first exam of "
                    f"{count(len(firsts), 'subject')} "
                    f"subjects ({lower_units} lower-body muscles)\nsource: {_source_text(source)}"
                    + _first_note(dataset, source), fontsize=10)
    result = FigureResult(figure, panels)
    result.paths = _save(figure, target_dir(path), f"{protocol.name}_fig2_muscles_by_group")
    return result


# -- Fig. 3 ---------------------------------------------------------------------------------------
def write_score_changes(dataset: ExportDataset, path: str | Path, *, source: str = CONSENSUS) -> FigureResult:
    """Fig. 3: per subject with a follow-up, ΔSTIR%LB (points of %, top) and ΔT1-LB
    (bottom) between the first and the last rated exam, ordered and coloured by group.
    A change that cannot be computed (nothing evaluated at one exam) is marked n/a.
    Written as ``<protocol>_fig3_changes.{png,svg,pdf}``."""
    protocol = dataset.protocol
    stir_score, t1_score = paper_scores(protocol)
    _check_source(dataset, source)
    pairs = _pairs(dataset, source, "change")
    groups = _groups(dataset, [p[0].subject for p in pairs])
    pairs.sort(key=lambda p: (groups.index(_group(dataset, p[0].subject)), p[0].subject))
    subjects = [p[0].subject for p in pairs]
    figure = _new_figure(max(6.0, 2.5 + 0.45 * len(pairs)), 6.5)
    axes = figure.subplots(2, 1, squeeze=False)[:, 0]
    panels: dict[str, Panel] = {}
    for ax, score, colour_unit in zip(axes, (stir_score, t1_score), ("points of %", "points"), strict=True):
        label = next(d.label for d in protocol.derived if d.name == score).split(":")[0]
        deltas = []
        for first, last in pairs:
            a, b = _score(dataset, first, source, score), _score(dataset, last, source, score)
            deltas.append(np.nan if a is None or b is None else b - a)
        values = np.array(deltas)
        colours = [_colour(groups, _group(dataset, s)) for s in subjects]
        ax.bar(range(len(pairs)), np.nan_to_num(values), color=colours, width=0.7, edgecolor="black", linewidth=0.4)
        for i, v in enumerate(values):
            if np.isnan(v):
                ax.text(i, 0, "n/a", ha="center", va="bottom", fontsize=7, color="0.3")
        ax.axhline(0, color="black", linewidth=0.6)
        months = [f"\n+{number_text(last.months_from_onset - first.months_from_onset)} mo"
                  if first.months_from_onset is not None and last.months_from_onset is not None else ""
                  for first, last in pairs]
        ax.set_xticks(range(len(pairs)), [f"{s}{m}" for s, m in zip(subjects, months, strict=True)], fontsize=7)
        ax.set_ylabel(f"Δ{label} ({colour_unit})", fontsize=8)
        ax.tick_params(axis="y", labelsize=7)
        ax.set_title(f"Δ{label}: last − first exam", fontsize=9)
        panels[score] = Panel(f"Δ{label}", tuple(subjects), ("delta",), values[:, None], np.isnan(values))
    from matplotlib.patches import Patch

    figure.legend(handles=[Patch(color=_colour(groups, g), label=g) for g in groups], loc="outside lower center",
                  fontsize=7, frameon=False, ncols=len(groups))
    figure.suptitle(f"Fig. 3 — {protocol.name}: first and last exam of {count(len(pairs), 'subject')} "
                    "with a follow-up\n"
                    f"source: {_source_text(source)}" + _pairs_note(dataset, source), fontsize=10)
    result = FigureResult(figure, panels)
    result.paths = _save(figure, target_dir(path), f"{protocol.name}_fig3_changes")
    return result


# -- Fig. 4 ---------------------------------------------------------------------------------------
def write_progression(dataset: ExportDataset, path: str | Path, *, source: str = CONSENSUS) -> FigureResult:
    """Fig. 4: by group, (A) of the muscles STIR-positive at the first exam, the share whose
    T1 score rose by ≥ 1 at the last; (B) of the muscles whose T1 rose, the share that were
    not STIR-positive at the first exam. Bars are labelled with the counts (37/183).
    Pairs with STIR or T1 not evaluated are left out and counted. Written as
    ``<protocol>_fig4_progression.{png,svg,pdf}``."""
    from myoscore.scores import ExamValues, progression, progression_measures

    protocol = dataset.protocol
    measures = progression_measures(protocol)
    if measures is None:
        raise MyoscoreError(f"protocol {protocol.name} has no STIR and T1 measures on the same muscles")
    _check_source(dataset, source)
    pairs = _pairs(dataset, source, "progression")
    groups = _groups(dataset, [p[0].subject for p in pairs])

    def values(exam: ExamInfo) -> dict[str, float | None]:
        return {key: row.value for key, row in dataset.ratings_of(exam.exam_id, source).items()}

    counts = np.zeros((len(groups), 4), dtype=int)  # stir+, stir+ progressed, progressed, progressed not stir+
    excluded = np.zeros(len(groups), dtype=int)
    for g, name in enumerate(groups):
        exams = [ExamValues(e.exam_id, e.subject, values(e)) for first, last in pairs
                 if _group(dataset, first.subject) == name for e in (first, last)]
        if not exams:
            continue
        total = progression(protocol, exams, *measures).total
        counts[g] = (total.stir_positive, total.stir_positive_progressed, total.progressed,
                     total.progressed_not_stir_positive)
        excluded[g] = int(total.n_excluded)
    figure = _new_figure(8.27, 4.2)
    axes = figure.subplots(1, 2, squeeze=False)[0]
    panels: dict[str, Panel] = {}
    for ax, (numerator, denominator), title in zip(
            axes, ((1, 0), (3, 2)),
            ("A  STIR-positive at the first exam: T1 progressed at the last",
             "B  T1 progressed: not STIR-positive at the first exam"), strict=True):
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(counts[:, denominator] > 0, counts[:, numerator] / np.maximum(counts[:, denominator], 1)
                             * 100.0, np.nan)
        ax.bar(range(len(groups)), np.nan_to_num(share), color=[_colour(groups, g) for g in groups], width=0.6,
               edgecolor="black", linewidth=0.4)
        for i in range(len(groups)):
            text = f"{counts[i, numerator]}/{counts[i, denominator]}" if counts[i, denominator] else "none"
            ax.text(i, (0 if np.isnan(share[i]) else share[i]) + 1.5, text, ha="center", fontsize=7)
        ax.set_xticks(range(len(groups)), groups, fontsize=7)
        ax.set_ylim(0, 105)
        ax.set_ylabel("Muscles (%)", fontsize=8)
        ax.tick_params(axis="y", labelsize=7)
        ax.set_title(title, fontsize=8.5)
        panels[title[0]] = Panel(title, tuple(groups), ("percent",), share[:, None],
                                 counts[:, [numerator, denominator]])
    left_out = int(excluded.sum())
    figure.suptitle(f"Fig. 4 — {protocol.name}: first and last exam of {count(len(pairs), 'subject')} with a follow-up "
                    f"(T1 +1 or more)\n{left_out} muscle-sides not evaluated left out; source: "
                    f"{_source_text(source)}" + _pairs_note(dataset, source), fontsize=9)
    result = FigureResult(figure, panels)
    result.paths = _save(figure, target_dir(path), f"{protocol.name}_fig4_progression")
    return result
