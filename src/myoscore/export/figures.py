"""Figures as PNG, SVG and PDF (matplotlib, imported inside the functions; no pyplot).

* :func:`write_heatmap`: subjects × units (muscles or compartments, with side), colour =
  score, not evaluable hatched grey (seed 000, Fig. 1);
* :func:`write_stir_t1_heatmaps`: STIR and T1 side by side at baseline and follow-up, a
  2 × 2 panel (seed 004, Fig. 5);
* :func:`write_summed_bars`: per unit, the sum of the scores over subjects, stacked by
  group;
* seed 004's Fig. 1–4 (scores by group, per-muscle STIR % and T1 sum by group, changes,
  progression) are in :mod:`myoscore.export.paper_figures`; :func:`write_figures` writes
  them when the protocol has their scores.

Each returns a :class:`FigureResult` with the files, the matplotlib ``Figure`` and the
numbers drawn (:class:`Panel`), so tests and callers can check what is on the page.

Mid-study, a figure draws the exams that have ratings from its source and names the others
in its title ("2 of 3 exams; left out: S-103 · baseline (no consensus yet)",
:mod:`myoscore.export.coverage`); a figure with nothing to draw raises a
:class:`~myoscore.domain.MyoscoreError` saying why, which :func:`write_figures_report`
records as skipped while it writes the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from myoscore.domain import MyoscoreError
from myoscore.export._common import number_text, target_dir
from myoscore.export.coverage import Skipped, count, coverage_note, left_out_text, source_text
from myoscore.export.dataset import CONSENSUS, ExamInfo, ExportDataset
from myoscore.schemes import Item, Protocol, Scale, ScaleKind

if TYPE_CHECKING:  # matplotlib is imported lazily, inside the functions that draw
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.typing import RcKeyType

log = logging.getLogger(__name__)

#: Every figure is written in these formats.
FIGURE_FORMATS = ("png", "svg", "pdf")
NOT_EVALUABLE_COLOUR = "0.78"
NOT_EVALUABLE_HATCH = "///"
#: Deterministic output (no dates, fixed SVG ids); SVG text stays text, so it can be edited and searched.
_RC: dict[RcKeyType, Any] = {"svg.hashsalt": "myoscore", "svg.fonttype": "none", "hatch.linewidth": 0.6}


@dataclass(frozen=True)
class Panel:
    """The numbers one panel draws.

    For a heatmap ``values`` is rows × columns, NaN where nothing is drawn in colour, and
    ``not_evaluable`` marks the hatched cells. For a bar chart ``values`` is groups ×
    units (summed scores) and ``not_evaluable`` counts the not-evaluable ratings left out.
    """

    title: str
    rows: tuple[str, ...]
    columns: tuple[str, ...]
    values: np.ndarray
    not_evaluable: np.ndarray


@dataclass
class FigureResult:
    figure: Figure
    panels: dict[str, Panel]
    paths: list[Path] = field(default_factory=list)


@dataclass
class FigureSet:
    """What :func:`write_figures_report` did: the files, the figures it could not draw
    (with the reason), and the exams without ratings from ``source`` (with the reason)."""

    source: str
    paths: list[Path] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    left_out: tuple[tuple[ExamInfo, str], ...] = ()


# -- shared helpers ---------------------------------------------------------------------------
def _numeric(protocol: Protocol, item: Item) -> bool:
    return protocol.scales[item.scale].kind is not ScaleKind.NOMINAL


def _measure_items(protocol: Protocol, measure: str) -> list[Item]:
    items = [item for item in protocol.items if item.measure == measure]
    if not items:
        raise MyoscoreError(f"protocol {protocol.name} has no measure {measure!r} "
                            f"(measures: {', '.join(numeric_measures(protocol))})")
    if not _numeric(protocol, items[0]):
        raise MyoscoreError(f"measure {measure!r} has the nominal scale {items[0].scale}: it has no numbers to draw")
    return items


def numeric_measures(protocol: Protocol) -> list[str]:
    """Measures with numbers (not nominal), in protocol order."""
    return list(dict.fromkeys(item.measure for item in protocol.items if _numeric(protocol, item)))


def _title(item: Item) -> str:
    return item.label if item.sequence in item.label else f"{item.label} ({item.sequence})"


def _column_label(item: Item) -> str:
    return f"{item.unit.name} {item.side}" if item.side else item.unit.name


def _check_source(dataset: ExportDataset, source: str) -> None:
    if not any(row.source == source for row in dataset.ratings):
        present = ", ".join(dataset.sources) or "none"
        raise MyoscoreError(f"no ratings from {source!r} to draw (sources: {present})")


def _cells(dataset: ExportDataset, exams: Sequence[ExamInfo], items: Sequence[Item],
           source: str) -> tuple[np.ndarray, np.ndarray]:
    values = np.full((len(exams), len(items)), np.nan)
    not_evaluable = np.zeros((len(exams), len(items)), dtype=bool)
    for r, exam in enumerate(exams):
        given = dataset.ratings_of(exam.exam_id, source)
        for c, item in enumerate(items):
            row = given.get(item.key)
            if row is None:
                continue
            if row.not_evaluable:
                not_evaluable[r, c] = True
            elif row.value is not None:
                values[r, c] = row.value
    return values, not_evaluable


def _colormap(sequence: str) -> Any:
    from matplotlib import colormaps
    from matplotlib.colors import ListedColormap

    base = colormaps["Reds" if sequence == "STIR" else "Blues" if sequence == "T1" else "viridis"]
    # Start above the colormap's white, so a 0 score never looks like an empty cell.
    return ListedColormap(base(np.linspace(0.12, 1.0, 256)), name=f"myoscore_{sequence}")


def _scale_range(scale: Scale) -> tuple[float, float]:
    numbers = [lv.value for lv in scale.levels if lv.value is not None]
    return float(min(numbers)), float(max(numbers))


def _draw_heatmap(ax: Axes, panel: Panel, scale: Scale, sequence: str, *, xlabels: bool = True,
                  ylabels: bool = True) -> Any:
    from matplotlib.patches import Rectangle

    cmap = _colormap(sequence).with_extremes(bad="white")
    low, high = _scale_range(scale)
    # "none": vector formats embed the rows × columns array itself, one pixel per cell.
    image = ax.imshow(np.ma.masked_invalid(panel.values), cmap=cmap, vmin=low, vmax=high, aspect="auto",
                      interpolation="none")
    for r, c in zip(*np.nonzero(panel.not_evaluable), strict=True):
        ax.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, facecolor=NOT_EVALUABLE_COLOUR, edgecolor="0.4",
                               hatch=NOT_EVALUABLE_HATCH, linewidth=0))
    n_rows, n_cols = panel.values.shape
    ax.set_xticks(range(n_cols), panel.columns if xlabels else [], rotation=90, fontsize=7)
    ax.set_yticks(range(n_rows), panel.rows if ylabels else [], fontsize=7)
    ax.tick_params(length=2)
    # Cell borders as two line collections (minor ticks would cost a Tick object per cell).
    ax.vlines(np.arange(0.5, n_cols - 1), -0.5, n_rows - 0.5, colors="white", linewidth=0.6)
    ax.hlines(np.arange(0.5, n_rows - 1), -0.5, n_cols - 0.5, colors="white", linewidth=0.6)
    ax.set_title(panel.title, fontsize=9)
    return image


def _colorbar(figure: Figure, image: Any, axes: Any, scale: Scale, label: str | None = None) -> None:
    bar = figure.colorbar(image, ax=axes, shrink=0.8, pad=0.01)
    levels = [(lv.value, lv.code) for lv in scale.levels if lv.value is not None]
    bar.set_ticks([v for v, _ in levels], labels=[c for _, c in levels])
    bar.set_label(scale.title if label is None else label, fontsize=8 if label is None else 7)
    bar.ax.tick_params(labelsize=7)


def _missing_legend(figure: Figure) -> None:
    from matplotlib.patches import Patch

    handles = [
        Patch(facecolor=NOT_EVALUABLE_COLOUR, edgecolor="0.4", hatch=NOT_EVALUABLE_HATCH, label="Not evaluable (NE)"),
        Patch(facecolor="white", edgecolor="0.4", label="Not scored"),
    ]
    figure.legend(handles=handles, loc="outside lower center", ncols=2, fontsize=8, frameon=False)


def _save(figure: Figure, folder: Path, stem: str) -> list[Path]:
    import matplotlib

    paths = []
    with matplotlib.rc_context(_RC):
        for fmt in FIGURE_FORMATS:
            path = folder / f"{stem}.{fmt}"
            metadata = {"png": {"Software": None}, "svg": {"Date": None}, "pdf": {"CreationDate": None}}[fmt]
            figure.savefig(path, format=fmt, dpi=200, metadata=metadata)
            paths.append(path)
    return paths


def _new_figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _with_note(title: str, note: str) -> str:
    return f"{title}\n{note}" if note else title


def _none_rated(dataset: ExportDataset, source: str, scope: Sequence[ExamInfo], exam_order: int | None) -> str:
    which = "no exam" if exam_order is None else "no baseline exam" if exam_order == 1 else \
        f"no exam of order {exam_order}"
    left = dataset.left_out(source, scope)
    return f"{which} has ratings from {source_text(source)}" + (f": {left_out_text(left)}" if left else "")


def follow_up_scope(dataset: ExportDataset) -> list[ExamInfo]:
    """The exams of subjects with two or more exams in the dataset, in output order."""
    counts: dict[str, int] = {}
    for exam in dataset.exams:
        counts[exam.subject] = counts.get(exam.subject, 0) + 1
    return [exam for exam in dataset.exams_in_order if counts[exam.subject] >= 2]


def follow_up_pairs(dataset: ExportDataset, source: str) -> list[tuple[ExamInfo, ExamInfo]]:
    """Per subject, (first exam, last exam rated by ``source``): the subject's first exam
    (order 1, its baseline) must be rated, so a follow-up never stands in for a baseline."""
    pairs = []
    for subject in dataset.subjects:
        rated = [e for e in dataset.exams_in_order if e.subject == subject and dataset.has_ratings(e.exam_id, source)]
        if len(rated) >= 2 and rated[0].order == 1:
            pairs.append((rated[0], rated[-1]))
    return pairs


def first_exams(dataset: ExportDataset, source: str) -> list[ExamInfo]:
    """Each subject's first exam (order 1) when ``source`` rated it, in output order."""
    return [e for e in dataset.exams_in_order if e.order == 1 and dataset.has_ratings(e.exam_id, source)]


def no_pairs_reason(dataset: ExportDataset, source: str, what: str) -> str:
    scope = follow_up_scope(dataset)
    left = dataset.left_out(source, scope)
    return (f"no subject has its first and a later exam rated by {source_text(source)}: there is no {what} to draw"
            + (f" ({left_out_text(left)})" if left else ""))


# -- seed 000, Fig. 1 --------------------------------------------------------------------------------
def heatmap_exams(dataset: ExportDataset, source: str, exam_order: int | None) -> list[ExamInfo]:
    """The rows of a heatmap: exams with ratings from ``source``, of order ``exam_order``
    (``None``: every exam), sorted by subject then order."""
    return [exam for exam in dataset.exams_in_order
            if (exam_order is None or exam.order == exam_order) and dataset.has_ratings(exam.exam_id, source)]


def write_heatmap(dataset: ExportDataset, path: str | Path, *, measure: str | None = None,
                  source: str = CONSENSUS, exam_order: int | None = 1) -> FigureResult:
    """Subjects × units heatmap of one measure (default: the protocol's first numeric one).

    Rows are subjects at exam ``exam_order`` (1 = baseline; ``None``: one row per exam),
    columns the measure's items (unit and side) in protocol order; colour is the value
    (fractional means in between levels), not evaluable is hatched grey, unscored white.
    Written as ``<protocol>_heatmap_<measure>.{png,svg,pdf}`` in the folder ``path``.
    """
    protocol = dataset.protocol
    measure = measure or numeric_measures(protocol)[0]
    items = _measure_items(protocol, measure)
    _check_source(dataset, source)
    scope = [exam for exam in dataset.exams_in_order if exam_order is None or exam.order == exam_order]
    exams = heatmap_exams(dataset, source, exam_order)
    if not exams:
        raise MyoscoreError(_none_rated(dataset, source, scope, exam_order))
    rows = tuple(exam.subject if exam_order is not None else f"{exam.subject} · {exam.label}" for exam in exams)
    values, not_evaluable = _cells(dataset, exams, items, source)
    scale = protocol.scales[items[0].scale]
    title = _with_note(f"{_title(items[0])}, {source}", coverage_note(dataset, source, scope, width=90))
    panel = Panel(title, rows, tuple(_column_label(it) for it in items), values, not_evaluable)
    figure = _new_figure(max(6.0, 1.8 + 0.22 * len(items)), max(3.5, 2.2 + 0.2 * len(exams)))
    ax = figure.add_subplot()
    image = _draw_heatmap(ax, panel, scale, items[0].sequence)
    ax.set_ylabel("Subject", fontsize=8)
    _colorbar(figure, image, ax, scale)
    _missing_legend(figure)
    result = FigureResult(figure, {"heatmap": panel})
    result.paths = _save(figure, target_dir(path), f"{protocol.name}_heatmap_{measure}")
    return result


# -- seed 004, Fig. 5 -----------------------------------------------------------------------------
def _measure_on(protocol: Protocol, sequence: str) -> str | None:
    return next((it.measure for it in protocol.items if it.sequence == sequence and _numeric(protocol, it)), None)


def write_stir_t1_heatmaps(dataset: ExportDataset, path: str | Path, *, source: str = CONSENSUS,
                           body: str | None = "lower", stir_measure: str | None = None,
                           t1_measure: str | None = None) -> FigureResult:
    """Seed 004, Fig. 5: STIR and T1 heatmaps at baseline, then at follow-up (four stacked
    panels on an A4-wide page, one labelled right | left column pair per muscle).

    Rows are the subjects whose first exam and a later one are rated by ``source``, sorted
    by months from onset at baseline when known (as seed 004, Fig. 5), labelled with it and
    with the months between the exams; baseline is each subject's first exam, follow-up the
    last rated one (exams left out are named in the title). Columns are the muscles (unit
    and side) of ``body`` (``None``: all), the same in all four panels. Written as
    ``<protocol>_stir_t1_heatmaps_<body>.{png,svg,pdf}`` (lower and upper body apart, so 57
    muscles stay readable on paper).
    """
    protocol = dataset.protocol
    stir = stir_measure or _measure_on(protocol, "STIR")
    t1 = t1_measure or _measure_on(protocol, "T1")
    if stir is None or t1 is None:
        raise MyoscoreError(f"protocol {protocol.name} needs a numeric STIR and a numeric T1 measure for this figure")
    stir_items = [it for it in _measure_items(protocol, stir) if body is None or it.unit.body == body]
    if not stir_items:
        raise MyoscoreError(f"measure {stir!r} has no item on the {body} body")
    t1_by_unit = {(it.unit.key, it.side): it for it in _measure_items(protocol, t1)}
    if not any((it.unit.key, it.side) in t1_by_unit for it in stir_items):
        raise MyoscoreError(f"measures {stir!r} and {t1!r} share no unit and side to draw side by side")
    _check_source(dataset, source)

    pairs = follow_up_pairs(dataset, source)
    if not pairs:
        raise MyoscoreError(no_pairs_reason(dataset, source, "follow-up"))
    pairs.sort(key=lambda p: (p[0].months_from_onset is None, p[0].months_from_onset or 0.0, p[0].subject))

    def label(first: ExamInfo, exam: ExamInfo) -> str:
        if exam is first:
            return exam.subject + (f" ({number_text(exam.months_from_onset)} mo)"
                                   if exam.months_from_onset is not None else "")
        if exam.months_from_onset is not None and first.months_from_onset is not None:
            return f"{exam.subject} (+{number_text(exam.months_from_onset - first.months_from_onset)} mo)"
        return f"{exam.subject} ({exam.label})"

    columns = tuple(_column_label(it) for it in stir_items)
    measures: dict[str, tuple[str, Sequence[Item | None]]] = {
        "STIR": (stir, stir_items),
        "T1": (t1, [t1_by_unit.get((it.unit.key, it.side)) for it in stir_items]),
    }
    n_cols = len(stir_items)
    # A printed page: four panels stacked (STIR and T1 at baseline, then at follow-up), one
    # labelled column pair (right | left) per muscle, on an A4-wide figure.
    per_row = 0.16
    panel_height = 0.55 + per_row * len(pairs)
    figure = _new_figure(8.27, min(11.69, 2.6 + 4 * panel_height))
    axes = figure.subplots(4, 1, squeeze=False)[:, 0]
    panels: dict[str, Panel] = {}
    for row, when in enumerate(("baseline", "follow-up")):
        exams = [p[0] if row == 0 else p[1] for p in pairs]
        rows = tuple(label(p[0], e) for p, e in zip(pairs, exams, strict=True))
        for col, (sequence, (measure, items)) in enumerate(measures.items()):
            present = [it for it in items if it is not None]
            values = np.full((len(exams), n_cols), np.nan)
            not_evaluable = np.zeros((len(exams), n_cols), dtype=bool)
            drawn_values, drawn_ne = _cells(dataset, exams, present, source)
            index = [i for i, it in enumerate(items) if it is not None]
            values[:, index], not_evaluable[:, index] = drawn_values, drawn_ne
            name = f"{sequence} {when}"
            panels[name] = Panel(f"{name} ({measure})", rows, columns, values, not_evaluable)
            scale = protocol.scales[present[0].scale]
            ax = axes[2 * row + col]
            image = _draw_heatmap(ax, panels[name], scale, sequence, xlabels=False)
            _colorbar(figure, image, ax, scale, label=sequence)
            _muscle_ticks(ax, stir_items, labels=2 * row + col == 3)
    where = f"{body} body" if body else "all muscles"
    figure.suptitle(f"Fig. 5 — {protocol.name}, {where}: first and last exam of "
                    f"{count(len(pairs), 'subject')} with a follow-up; source: {source_text(source)}\n"
                    "rows by months from onset at the first exam; each muscle: right | left"
                    + _with_note("", coverage_note(dataset, source, follow_up_scope(dataset), width=120)), fontsize=9)
    _missing_legend(figure)
    result = FigureResult(figure, panels)
    stem = f"{protocol.name}_stir_t1_heatmaps" + (f"_{body}" if body else "")
    result.paths = _save(figure, target_dir(path), stem)
    return result


def _muscle_ticks(ax: Axes, items: Sequence[Item], *, labels: bool) -> None:
    """One tick per muscle, centred on its right | left columns; a dark line between muscles."""
    starts: list[int] = []
    names: list[str] = []
    for i, item in enumerate(items):
        if not starts or items[starts[-1]].unit.key != item.unit.key:
            starts.append(i)
            names.append(item.unit.name)
    ends = [*starts[1:], len(items)]
    ax.set_xticks([(a + b - 1) / 2 for a, b in zip(starts, ends, strict=True)], names if labels else [],
                  rotation=90, fontsize=6.5)
    n_rows = ax.get_ylim()[0] + 0.5
    ax.vlines([s - 0.5 for s in starts[1:]], -0.5, n_rows - 0.5, colors="0.35", linewidth=0.5)


# -- seed 004, Fig. 2 -----------------------------------------------------------------------------
NO_GROUP = "no group"
ALL_SUBJECTS = "all subjects"


def write_summed_bars(dataset: ExportDataset, path: str | Path, *, measures: Sequence[str] | None = None,
                      source: str = CONSENSUS, exam_order: int = 1) -> FigureResult:
    """Per unit, the sum of the scores over subjects (both sides), stacked by group.

    One panel per measure (default: every numeric measure). Each subject counts its exam
    of order ``exam_order`` (1 = baseline) rated by ``source``; not evaluable and unscored
    items add nothing (their count is kept in :attr:`Panel.not_evaluable`). Groups come
    from ``dataset.groups`` (subjects without one are "no group"); without groups there is
    one bar per unit. Written as ``<protocol>_summed_scores.{png,svg,pdf}``.
    """
    protocol = dataset.protocol
    measures = list(measures or numeric_measures(protocol))
    _check_source(dataset, source)
    scope = [e for e in dataset.exams_in_order if e.order == exam_order]
    exams = [e for e in scope if dataset.has_ratings(e.exam_id, source)]
    if not exams:
        raise MyoscoreError(_none_rated(dataset, source, scope, exam_order))
    note = coverage_note(dataset, source, scope, width=110)

    def group(exam: ExamInfo) -> str:
        return ALL_SUBJECTS if dataset.groups is None else dataset.group_of(exam.subject) or NO_GROUP

    groups = list(dict.fromkeys(sorted((group(e) for e in exams), key=lambda g: (g == NO_GROUP, g))))
    if dataset.groups is not None:  # the coordinator's order of groups, as in the mapping
        declared = list(dict.fromkeys(dataset.groups.values()))
        groups.sort(key=lambda g: (declared.index(g) if g in declared else len(declared), g))
    sizes = {g: sum(1 for e in exams if group(e) == g) for g in groups}

    from matplotlib import colormaps

    colours = colormaps["tab10"]
    units_per_measure = [list(dict.fromkeys(it.unit.key for it in _measure_items(protocol, m))) for m in measures]
    widest = max(len(units) for units in units_per_measure)
    figure = _new_figure(max(7.0, 2.0 + 0.2 * widest), 1.2 + 2.8 * len(measures))
    axes = figure.subplots(len(measures), 1, squeeze=False)
    panels: dict[str, Panel] = {}
    for ax, measure, units in zip(axes[:, 0], measures, units_per_measure, strict=True):
        items = _measure_items(protocol, measure)
        values, not_evaluable = _cells(dataset, exams, items, source)
        column = {unit: i for i, unit in enumerate(units)}
        sums = np.zeros((len(groups), len(units)))
        ne_counts = np.zeros((len(groups), len(units)), dtype=int)
        for r, exam in enumerate(exams):
            g = groups.index(group(exam))
            for c, item in enumerate(items):
                u = column[item.unit.key]
                if not np.isnan(values[r, c]):
                    sums[g, u] += values[r, c]
                ne_counts[g, u] += int(not_evaluable[r, c])
        names = tuple(next(it.unit.name for it in items if it.unit.key == unit) for unit in units)
        panel = Panel(f"{_title(items[0])}: sum over subjects, both sides",
                      tuple(groups), names, sums, ne_counts)
        panels[measure] = panel
        bottom = np.zeros(len(units))
        for g, name in enumerate(groups):
            ax.bar(range(len(units)), sums[g], bottom=bottom, color=colours(g % 10), width=0.8,
                   label=f"{name} (n = {sizes[name]})")
            bottom += sums[g]
        ax.set_xticks(range(len(units)), names, rotation=90, fontsize=7)
        ax.set_xlim(-0.6, len(units) - 0.4)
        ax.set_ylabel("Summed score", fontsize=8)
        ax.tick_params(axis="y", labelsize=7)
        ax.set_title(panel.title, fontsize=9)
        ax.legend(fontsize=7, frameon=False, loc="upper right")
    if note:
        figure.suptitle(note, fontsize=8)
    result = FigureResult(figure, panels)
    result.paths = _save(figure, target_dir(path), f"{protocol.name}_summed_scores")
    return result


def default_source(dataset: ExportDataset) -> str:
    """Consensus when any exam has it, else the first reader with ratings."""
    rated = [s for s in dataset.sources if any(r.source == s for r in dataset.ratings)]
    if not rated:
        raise MyoscoreError("the dataset has no ratings to draw")
    return CONSENSUS if CONSENSUS in rated else rated[0]


def write_figures_report(dataset: ExportDataset, path: str | Path, *, source: str | None = None) -> FigureSet:
    """Every figure the dataset allows, into the folder ``path``, from the exams rated by
    ``source`` (default :func:`default_source`); a figure with nothing to draw is skipped
    with its reason, the others are written.

    A heatmap per numeric measure and the summed-score bar chart (baseline exams), the
    STIR/T1 figure when the protocol has numeric STIR and T1 measures and the study has a
    follow-up, and seed 004's Fig. 1–4 when the protocol has their scores.
    """
    source = default_source(dataset) if source is None else source
    protocol = dataset.protocol
    report = FigureSet(source, left_out=dataset.left_out(source))
    stems: list[str] = []

    def attempt(stem: str, draw: Callable[[], FigureResult]) -> None:
        stems.append(stem)
        try:
            report.paths.extend(draw().paths)
        except MyoscoreError as exc:
            report.skipped.append(Skipped(stem, str(exc)))
            log.info("figure %s not drawn: %s", stem, exc)

    if not any(row.source == source for row in dataset.ratings):
        present = ", ".join(source_text(s) for s in dataset.sources) or "none"
        report.skipped.append(Skipped("figures", f"no exam has ratings from {source_text(source)} yet "
                                                 f"(sources: {present})"))
        return report
    for measure in numeric_measures(protocol):
        attempt(f"{protocol.name}_heatmap_{measure}",
                partial(write_heatmap, dataset, path, measure=measure, source=source))
    attempt(f"{protocol.name}_summed_scores", lambda: write_summed_bars(dataset, path, source=source))
    has_pair = _measure_on(protocol, "STIR") is not None and _measure_on(protocol, "T1") is not None
    has_follow_up = bool(follow_up_scope(dataset))  # a study with follow-ups, rated or not yet
    if has_pair and has_follow_up:
        for body in ("lower", "upper"):
            if any(it.unit.body == body for it in protocol.items):
                attempt(f"{protocol.name}_stir_t1_heatmaps_{body}",
                        partial(write_stir_t1_heatmaps, dataset, path, source=source, body=body))
    _paper_figures(dataset, path, source, attempt, has_follow_up)
    return report


def write_figures(dataset: ExportDataset, path: str | Path, *, source: str | None = None) -> list[Path]:
    """:func:`write_figures_report`'s files; raises when no figure could be drawn at all."""
    report = write_figures_report(dataset, path, source=source)
    if not report.paths:
        raise MyoscoreError("no figure to draw: " + "; ".join(f"{s.what}: {s.reason}" for s in report.skipped))
    return report.paths


def _paper_figures(dataset: ExportDataset, path: str | Path, source: str,
                   attempt: Callable[[str, Callable[[], FigureResult]], None], has_follow_up: bool) -> None:
    """Seed 004's Fig. 1–4 when the protocol has its scores (STIR%LB, T1-LB, STIR and T1)."""
    from myoscore.export import paper_figures

    try:
        paper_figures.paper_scores(dataset.protocol)
    except MyoscoreError:
        return
    name = dataset.protocol.name
    attempt(f"{name}_fig1_scores_by_group", lambda: paper_figures.write_group_scores(dataset, path, source=source))
    attempt(f"{name}_fig2_muscles_by_group",
            lambda: paper_figures.write_muscle_scores_by_group(dataset, path, source=source))
    if has_follow_up:
        attempt(f"{name}_fig3_changes", lambda: paper_figures.write_score_changes(dataset, path, source=source))
        attempt(f"{name}_fig4_progression", lambda: paper_figures.write_progression(dataset, path, source=source))
