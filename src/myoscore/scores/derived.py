"""Derived scores: the numbers the papers compute by hand, from one read or from consensus.

Pure functions over a protocol and a mapping ``item_key → value``: the scale's number for
the level given, ``None`` for not evaluable (and an absent key for an item nobody scored).
Consensus values may be fractional (2.5 from the mean of two readers); they are used as
they are. Which items a score covers, and its function, are declared in the protocol file
(:class:`~myoscore.schemes.DerivedScore`); nothing here knows a protocol by name.

See ``docs/scores.md`` for every formula and the sentence of the paper it implements.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from myoscore.domain import NOT_EVALUABLE, MyoscoreError
from myoscore.schemes import DerivedFunction, DerivedScore, Item, Protocol, ScaleKind, UnitLevel

#: One read's (or consensus) numbers by item key; ``None`` when not evaluable.
Values = Mapping[str, float | None]
#: One read's (or consensus) level codes by item key; ``"NE"`` or ``None`` when not evaluable.
Codes = Mapping[str, str | None]

NOTHING_EVALUATED = "no item of the score was evaluated"


def _number(value: float | None) -> float | None:
    """A usable number, or ``None`` for not evaluable / missing (NaN counts as missing)."""
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number


# -- one score of one read -------------------------------------------------------------------
@dataclass(frozen=True)
class ScoreResult:
    """One derived score of one read (or of consensus).

    Attributes
    ----------
    value
        The score; ``None`` when no item was evaluated (``reason`` says so).
    n_items, n_evaluated, n_missing
        Items the score covers; those with a number; the rest (not evaluable or unscored).
    n_not_evaluable
        Of ``n_missing``, the items given as not evaluable (a value of ``None``); the others
        have no value at all (unscored, or no consensus that stands).
    minimum, maximum
        The score's range when every item is evaluated (e.g. T1-LB 0–312; percentages 0–100).
    maximum_evaluated
        The highest value possible over the items actually evaluated (for a sum: the sum of
        the scale maxima of the evaluated items; for a count: ``n_evaluated``).
    """

    name: str
    label: str
    function: DerivedFunction
    value: float | None
    n_items: int
    n_evaluated: int
    n_missing: int
    minimum: float
    maximum: float
    maximum_evaluated: float
    reason: str | None = None
    regions: tuple[str, ...] = ()  # the atlas regions the score covers (its scope)
    n_not_evaluable: int = 0

    @property
    def complete(self) -> bool:
        """Every item of the score was evaluated: only then is the value comparable with
        the full range (a calf sum over 4 of 6 compartments is not a 0–30 score)."""
        return self.n_evaluated == self.n_items


def _scale_bounds(protocol: Protocol, key: str) -> tuple[float, float]:
    scale = protocol.scale_of(key)
    numbers = [lv.value for lv in scale.levels if lv.value is not None]
    if not numbers:  # the loader refuses nominal items in derived scores; keep the guard
        raise ValueError(f"item {key!r} has scale {scale.name} without numbers; it cannot enter a score")
    return float(min(numbers)), float(max(numbers))


def compute_score(protocol: Protocol, score: DerivedScore, values: Values) -> ScoreResult:
    """Compute one derived score from one read's (or consensus) values.

    ``sum``              Σ evaluated values (not evaluable items add nothing).
    ``percent_positive`` #(value ≥ threshold) / #evaluated × 100 (STIR% of seed 004).
    ``percent_of_max``   Σ evaluated values / Σ scale maxima of the evaluated items × 100
                         (T1-LB %: T1-LB / (4 × evaluated) × 100).
    ``count_positive``   #(value ≥ threshold).
    ``any_positive``     1 if any evaluated value ≥ threshold, else 0.
    """
    bounds = [_scale_bounds(protocol, key) for key in score.item_keys]
    numbers = [_number(values.get(key)) for key in score.item_keys]
    evaluated = [(v, b) for v, b in zip(numbers, bounds, strict=True) if v is not None]
    n_items, n_evaluated = len(score.item_keys), len(evaluated)
    function = score.function
    if function is DerivedFunction.SUM:
        minimum, maximum = sum(b[0] for b in bounds), sum(b[1] for b in bounds)
        maximum_evaluated = sum(b[1] for _, b in evaluated)
    elif function in (DerivedFunction.PERCENT_POSITIVE, DerivedFunction.PERCENT_OF_MAX):
        minimum, maximum, maximum_evaluated = 0.0, 100.0, 100.0
    elif function is DerivedFunction.COUNT_POSITIVE:
        minimum, maximum, maximum_evaluated = 0.0, float(n_items), float(n_evaluated)
    else:
        minimum, maximum, maximum_evaluated = 0.0, 1.0, 1.0

    value: float | None = None
    reason: str | None = None
    positive = sum(1 for v, _ in evaluated if v >= score.threshold)
    if n_evaluated == 0:
        reason = NOTHING_EVALUATED
    elif function is DerivedFunction.SUM:
        value = sum(v for v, _ in evaluated)
    elif function is DerivedFunction.PERCENT_POSITIVE:
        value = 100.0 * positive / n_evaluated
    elif function is DerivedFunction.PERCENT_OF_MAX:
        ceiling = sum(b[1] for _, b in evaluated)
        if ceiling > 0:
            value = 100.0 * sum(v for v, _ in evaluated) / ceiling
        else:
            reason = "the evaluated items' scale maximum is 0"
    elif function is DerivedFunction.COUNT_POSITIVE:
        value = float(positive)
    else:
        value = 1.0 if positive else 0.0
    return ScoreResult(
        score.name, score.label, function, value, n_items, n_evaluated, n_items - n_evaluated,
        float(minimum), float(maximum), float(maximum_evaluated), reason, protocol.regions_of(score.item_keys),
        sum(1 for key in score.item_keys if key in values and values[key] is None),
    )


def compute_scores(protocol: Protocol, values: Values) -> tuple[ScoreResult, ...]:
    """Every derived score the protocol declares, in declaration order."""
    return tuple(compute_score(protocol, score, values) for score in protocol.derived)


# -- frequencies across subjects ---------------------------------------------------------------
@dataclass(frozen=True)
class Frequency:
    """How many subjects have a finding (value ≥ threshold) in a region or compartment.

    A subject is *positive* when any item of the indicator in the unit (either side) is
    ≥ threshold, and *evaluated* when at least one of those items has a number.
    ``percent`` is ``n_positive / n_evaluated × 100`` (``None`` when nobody was evaluated).
    """

    indicator: str
    level: UnitLevel
    unit: str
    name: str
    region: str
    n_subjects: int
    n_evaluated: int
    n_positive: int
    percent: float | None


def _numeric_items(protocol: Protocol) -> list[Item]:
    return [it for it in protocol.items if protocol.scales[it.scale].kind is not ScaleKind.NOMINAL]


def frequencies(protocol: Protocol, subjects: Mapping[str, Values], threshold: float = 1.0) -> list[Frequency]:
    """Subjects with each finding per region and per compartment (seed 000's counts).

    Parameters
    ----------
    protocol
        Its non-nominal items are grouped by ``indicator`` and by the region and
        compartment of their atlas unit.
    subjects
        One set of values per subject (the caller picks the exam, usually the first).
    threshold
        A value at or above it is a finding (1: fatty infiltration is Fischer ≥ 1).
    """
    groups: dict[tuple[str, UnitLevel, str], tuple[str, str, list[str]]] = {}
    for item in _numeric_items(protocol):
        region_key = (item.indicator, UnitLevel.REGION, item.unit.region)
        groups.setdefault(region_key, (item.unit.region, item.unit.region, []))[2].append(item.key)
        if item.unit.compartment is not None:
            name = item.unit.name if item.unit.level is UnitLevel.COMPARTMENT else item.unit.compartment
            compartment_key = (item.indicator, UnitLevel.COMPARTMENT, item.unit.compartment)
            groups.setdefault(compartment_key, (name, item.unit.region, []))[2].append(item.key)
    rows = []
    for (indicator, level, unit), (name, region, keys) in groups.items():
        evaluated = positive = 0
        for values in subjects.values():
            numbers = [n for n in (_number(values.get(k)) for k in keys) if n is not None]
            if numbers:
                evaluated += 1
                positive += any(n >= threshold for n in numbers)
        rows.append(Frequency(indicator, level, unit, name, region, len(subjects), evaluated, positive,
                              100.0 * positive / evaluated if evaluated else None))
    return rows


@dataclass(frozen=True)
class PatternCount:
    """Subjects per code of one nominal item (e.g. the thigh's edema pattern)."""

    item_key: str
    indicator: str
    unit: str
    region: str
    counts: dict[str, int]  # every code of the scale, in scale order, zeros included
    n_not_evaluable: int
    n_missing: int  # unscored


def pattern_counts(protocol: Protocol, subjects: Mapping[str, Codes]) -> list[PatternCount]:
    """Counts of each code of every nominal item across subjects (seed 000: "patchy pattern
    with 24 patients ... each 12 patients with diffuse or mixed pattern")."""
    rows = []
    for item in protocol.items:
        scale = protocol.scales[item.scale]
        if scale.kind is not ScaleKind.NOMINAL:
            continue
        counts = dict.fromkeys(scale.codes, 0)
        not_evaluable = missing = 0
        for codes in subjects.values():
            code = codes.get(item.key)
            if code is None and item.key not in codes:
                missing += 1
            elif code is None or code == NOT_EVALUABLE:
                not_evaluable += 1
            elif code in counts:
                counts[code] += 1
            else:
                raise ValueError(f"{item.key}: {code!r} is not a level of {scale.name}")
        rows.append(PatternCount(item.key, item.indicator, item.unit.key, item.unit.region, counts,
                                 not_evaluable, missing))
    return rows


# -- longitudinal --------------------------------------------------------------------------
@dataclass(frozen=True)
class ExamValues:
    """One exam's values, with what orders it among its subject's exams."""

    exam_id: int
    subject: str
    values: Values
    exam_date: date | None = None
    label: str = ""
    months_from_onset: float | None = None
    order: int | None = None  # position among the subject's exams, when already known (exports)


def exams_in_order(exams: Iterable[ExamValues]) -> dict[str, list[ExamValues]]:
    """Each subject's exams, first to last: by ``order`` when every exam of the subject has
    one, else by exam date when every exam has one, otherwise by exam id (the order exams
    were entered)."""
    by_subject: dict[str, list[ExamValues]] = {}
    for exam in exams:
        by_subject.setdefault(exam.subject, []).append(exam)
    for subject_exams in by_subject.values():
        if all(e.order is not None for e in subject_exams):
            subject_exams.sort(key=lambda e: (e.order or 0, e.exam_id))
        elif all(e.exam_date is not None for e in subject_exams):
            subject_exams.sort(key=lambda e: (e.exam_date, e.exam_id))
        else:
            subject_exams.sort(key=lambda e: e.exam_id)
    return dict(sorted(by_subject.items()))


@dataclass(frozen=True)
class ScoreChange:
    """A derived score at a subject's first and last exam (seed 004's ΔSTIR and ΔT1).

    ``delta`` is last − first in the score's own unit (percentage points for STIR%);
    ``relative`` is (last − first) / first × 100, ``None`` when first is 0 or missing.
    """

    subject: str
    score: str
    first_exam: int
    last_exam: int
    n_exams: int
    first: float | None
    last: float | None
    delta: float | None
    relative: float | None
    days: int | None


def longitudinal(protocol: Protocol, exams: Iterable[ExamValues]) -> list[ScoreChange]:
    """ΔScore between the first and last exam of every subject with two exams or more,
    for every derived score of the protocol."""
    rows = []
    for subject, ordered in exams_in_order(exams).items():
        if len(ordered) < 2:
            continue
        first, last = ordered[0], ordered[-1]
        days = (last.exam_date - first.exam_date).days if first.exam_date and last.exam_date else None
        for score in protocol.derived:
            a = compute_score(protocol, score, first.values).value
            b = compute_score(protocol, score, last.values).value
            delta = b - a if a is not None and b is not None else None
            relative = 100.0 * delta / a if delta is not None and a else None
            rows.append(ScoreChange(subject, score.name, first.exam_id, last.exam_id, len(ordered),
                                    a, b, delta, relative, days))
    return rows


# -- STIR-positive at baseline → T1 progression at follow-up (seed 004, Fig. 4) -------------------
@dataclass(frozen=True)
class ProgressionCounts:
    """Counts over (subject, unit, side) pairs with STIR evaluated at the first exam and T1
    evaluated at both the first and the last exam.

    Fig. 4A is ``stir_positive_progressed / stir_positive`` (37/183); Fig. 4B is
    ``progressed_not_stir_positive / progressed`` (39/76).
    """

    unit: str | None  # atlas unit key; None for all units together
    side: str | None
    n_pairs: int
    n_excluded: int
    stir_positive: int
    stir_positive_progressed: int
    progressed: int
    progressed_not_stir_positive: int

    @property
    def percent_stir_positive_progressed(self) -> float | None:
        return 100.0 * self.stir_positive_progressed / self.stir_positive if self.stir_positive else None

    @property
    def percent_progressed_not_stir_positive(self) -> float | None:
        return 100.0 * self.progressed_not_stir_positive / self.progressed if self.progressed else None


@dataclass(frozen=True)
class Progression:
    stir_measure: str
    t1_measure: str
    n_subjects: int  # subjects with two exams or more
    total: ProgressionCounts
    by_unit: tuple[ProgressionCounts, ...] = field(default=())
    regions: tuple[str, ...] = ()  # the atlas regions the analysis covers


def progression_measures(protocol: Protocol) -> tuple[str, str] | None:
    """The (STIR, T1) measures to match: the first numeric STIR measure declared in the
    protocol that has a numeric T1 measure on the same units and sides; ``None`` if none."""
    def measures(sequence: str) -> dict[str, set[tuple[str, str | None]]]:
        found: dict[str, set[tuple[str, str | None]]] = {}
        for item in _numeric_items(protocol):
            if item.sequence == sequence:
                found.setdefault(item.measure, set()).add((item.unit.key, item.side))
        return found

    t1 = measures("T1")
    for stir, places in measures("STIR").items():
        for t1_measure, t1_places in t1.items():
            if places == t1_places:
                return stir, t1_measure
    return None


def progression(protocol: Protocol, exams: Iterable[ExamValues], stir_measure: str, t1_measure: str, *,
                stir_threshold: float = 1.0, t1_step: float = 1.0,
                regions: Iterable[str] | None = None) -> Progression:
    """STIR-positive units at the first exam whose T1 score rose by ≥ ``t1_step`` at the last.

    Each STIR item of ``stir_measure`` is matched with the ``t1_measure`` item of the same
    atlas unit and side; ``regions`` (default: every region) limits the units (seed 004:
    the lower body). A pair is excluded (and counted) when STIR is not evaluated at the
    first exam or T1 is not evaluated at either exam.
    """
    scope = None if regions is None else set(regions)
    t1_items = {(it.unit.key, it.side): it.key for it in protocol.items if it.measure == t1_measure}
    pairs = [(it.unit.key, it.side, it.key, t1_items[(it.unit.key, it.side)])
             for it in protocol.items if it.measure == stir_measure and (it.unit.key, it.side) in t1_items
             and (scope is None or it.unit.region in scope)]
    if not pairs:
        raise MyoscoreError(f"protocol {protocol.name}: no unit has both a {stir_measure!r} and a {t1_measure!r} item"
                            + ("" if scope is None else f" in regions {', '.join(sorted(scope))}"))
    tallies = {(unit, side): [0, 0, 0, 0, 0, 0] for unit, side, _, _ in pairs}
    subjects = 0
    for ordered in exams_in_order(exams).values():
        if len(ordered) < 2:
            continue
        subjects += 1
        first, last = ordered[0].values, ordered[-1].values
        for unit, side, stir_key, t1_key in pairs:
            tally = tallies[(unit, side)]
            stir, t1_first, t1_last = (_number(first.get(stir_key)), _number(first.get(t1_key)),
                                       _number(last.get(t1_key)))
            if stir is None or t1_first is None or t1_last is None:
                tally[1] += 1
                continue
            positive, progressed = stir >= stir_threshold, t1_last - t1_first >= t1_step
            tally[0] += 1
            tally[2] += positive
            tally[3] += positive and progressed
            tally[4] += progressed
            tally[5] += progressed and not positive
    by_unit = tuple(ProgressionCounts(unit, side, *tally) for (unit, side), tally in tallies.items())
    total = ProgressionCounts(None, None, *(sum(t[i] for t in tallies.values()) for i in range(6)))
    covered = tuple(dict.fromkeys(protocol.item(stir_key).unit.region for _, _, stir_key, _ in pairs))
    return Progression(stir_measure, t1_measure, subjects, total, by_unit, covered)


def protocol_progression(protocol: Protocol, exams: Iterable[ExamValues], stir_measure: str | None = None,
                         t1_measure: str | None = None) -> Progression | None:
    """The progression analysis as the protocol declares it (measures, regions, threshold
    and step of its ``[progression]`` table); without one, the detected measures over every
    region (:func:`progression_measures`). ``None`` when the protocol has no such measures.
    Measures named here replace the declared ones; the declared scope stays."""
    declared = protocol.progression
    if declared is not None:
        return progression(protocol, exams, stir_measure or declared.stir_measure, t1_measure or declared.t1_measure,
                           stir_threshold=declared.stir_threshold, t1_step=declared.t1_step,
                           regions=declared.regions)
    detected = progression_measures(protocol)
    if stir_measure and t1_measure:
        detected = (stir_measure, t1_measure)
    if detected is None:
        return None
    return progression(protocol, exams, stir_measure or detected[0], t1_measure or detected[1])



# -- per-muscle and regional summaries across subjects (seed 004, Fig. 2; "pelvic girdle and
# thighs were in general more affected than legs (32% and 34% versus 12%)") ----------------------
#: The side a summary pools: both sides together, or one.
POOLED = "pooled"


@dataclass(frozen=True)
class UnitSummary:
    """One measure on one atlas unit (a muscle, compartment or region) across subjects.

    Counts run over (subject, side) pairs, or over (subject, unit, side) for a region:
    ``n_evaluated`` have a number, ``n_positive`` of them are ≥ ``threshold``.
    ``percent_positive`` is ``n_positive / n_evaluated × 100`` (per-muscle STIR%: adductor
    magnus 57 % in seed 004); ``total`` is the sum of the evaluated values (Fig. 2B's summed
    T1 score per muscle). ``side`` is ``"pooled"`` (both sides), ``"R"`` or ``"L"``.
    """

    measure: str
    level: UnitLevel
    unit: str
    name: str
    region: str
    side: str
    n_subjects: int
    n_items: int  # item values the summary could have had: subjects × its items
    n_evaluated: int
    n_positive: int
    total: float
    threshold: float

    @property
    def percent_positive(self) -> float | None:
        return 100.0 * self.n_positive / self.n_evaluated if self.n_evaluated else None

    @property
    def mean(self) -> float | None:
        return self.total / self.n_evaluated if self.n_evaluated else None

    @property
    def complete(self) -> bool:
        return self.n_evaluated == self.n_items


def unit_summaries(protocol: Protocol, subjects: Mapping[str, Values], *, threshold: float = 1.0,
                   measures: Iterable[str] | None = None) -> list[UnitSummary]:
    """Per-unit and per-region summaries of every numeric measure, pooled and per side.

    ``subjects`` holds one set of values per subject (the caller picks the exam: seed 004
    uses the first MRI). Units come in atlas order, each with its pooled, right and left
    rows (a measure scored without sides has only the pooled row); then each region.
    """
    wanted = None if measures is None else set(measures)
    groups: dict[tuple[str, UnitLevel, str, str], tuple[str, str, list[str]]] = {}
    for item in _numeric_items(protocol):
        if wanted is not None and item.measure not in wanted:
            continue
        sides = [POOLED, *([item.side] if item.side else [])]
        for side in sides:
            groups.setdefault((item.measure, item.unit.level, item.unit.key, side),
                              (item.unit.name, item.unit.region, []))[2].append(item.key)
    region_names = {it.unit.region: it.unit.name for it in protocol.items if it.unit.level is UnitLevel.REGION}
    for item in _numeric_items(protocol):
        if (wanted is not None and item.measure not in wanted) or item.unit.level is UnitLevel.REGION:
            continue
        for side in [POOLED, *([item.side] if item.side else [])]:
            # "*" keeps the region's pooled row apart from a region-level item of the same key
            groups.setdefault((item.measure, UnitLevel.REGION, f"{item.unit.region}*", side),
                              (region_names.get(item.unit.region, item.unit.region), item.unit.region,
                               []))[2].append(item.key)
    rows = []
    for (measure, level, unit, side), (name, region, keys) in groups.items():
        evaluated = positive = 0
        total = 0.0
        for values in subjects.values():
            for key in keys:
                number = _number(values.get(key))
                if number is None:
                    continue
                evaluated += 1
                positive += number >= threshold
                total += number
        rows.append(UnitSummary(measure, level, unit.rstrip("*"), name, region, side, len(subjects),
                                len(keys) * len(subjects), evaluated, positive, total, threshold))
    return rows

