"""The agreement report for a protocol and a pair of readers (coordinator use case).

One row per indicator and region, and per indicator overall, as in seed 000's
Supplementary Table 1 (subcutaneous edema, fascia edema, muscle edema, fatty
infiltration); one row per atlas unit (muscle or compartment, both sides pooled) and one
overall row, as in seed 004 ("Inter-rater agreement (κ) ... was 0.87"). Only submitted
reads count; the statistics are :func:`myoscore.agreement.cohen_kappa` over the scale's
declared codes, so a level neither reader used still counts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from myoscore.agreement import cohen_kappa, gwet_ac, krippendorff_alpha
from myoscore.app.coordination import codes_of, protocol_in_use, repeat_pairs, reveal_ratings, submitted_reads
from myoscore.app.sessions import CoordinatorSession
from myoscore.domain import NOT_EVALUABLE, MyoscoreError
from myoscore.domain.agreement import AgreementRow, RowKind
from myoscore.schemes import Item, Protocol, Scale, ScaleKind, UnitLevel

#: One reader's codes of one exam by item key (absent: unscored).
Codes = Mapping[str, str]
nan = float("nan")
#: The label of the row over every item: codes of different scales pooled (descriptive only).
POOLED_LABEL = "All items pooled across scales (descriptive; not a per-indicator κ)"


@dataclass(frozen=True)
class AgreementReport:
    protocol: str
    protocol_hash: str
    readers: tuple[str, str]
    n_exams: int
    rows: tuple[AgreementRow, ...]
    min_pairs: int = 10  # the protocol's minimum of compared pairs for a cell to be read


def _row(kind: str, label: str, items: Sequence[Item], pairs: Sequence[tuple[Codes, Codes]],
         categories: tuple[str, ...], weighted: bool, *, indicator: str | None = None,
         region: str | None = None, unit: str | None = None, scale: str | None = None) -> AgreementRow:
    first: list[str | None] = []
    second: list[str | None] = []
    not_evaluable = unscored = 0
    for codes_a, codes_b in pairs:
        for item in items:
            a, b = codes_a.get(item.key), codes_b.get(item.key)
            if a is None or b is None:
                unscored += 1
            elif NOT_EVALUABLE in (a, b):
                not_evaluable += 1
            first.append(a)
            second.append(b)
    plain = cohen_kappa(first, second, categories=categories)
    linear = cohen_kappa(first, second, categories=categories, weights="linear") if weighted else None
    # AC1 and alpha over the same compared pairs (NE and unscored are missing for both).
    table = [[a, b] for a, b in zip(first, second, strict=True)]
    ac1 = alpha = None
    level: Literal["ordinal", "nominal"] = "ordinal" if weighted else "nominal"
    if plain.n:
        ac1 = gwet_ac(table, categories=categories)
        alpha = krippendorff_alpha(table, level=level, categories=categories)
    return AgreementRow(
        kind, label, indicator, region, unit, scale, categories, len(first), not_evaluable, unscored,
        plain.n, plain.percent_agreement, plain.kappa, plain.se, plain.ci_low, plain.ci_high,
        None if linear is None else linear.kappa,
        None if linear is None else linear.ci_low,
        None if linear is None else linear.ci_high,
        plain.reason,
        plain.confusion,
        nan if ac1 is None else ac1.ac,
        nan if ac1 is None else ac1.ci_low,
        nan if ac1 is None else ac1.ci_high,
        nan if alpha is None else alpha.alpha,
        level,
    )


def _pooled_categories(scales: Sequence[Scale]) -> tuple[tuple[str, ...], bool]:
    """Union of the scales' codes in order of appearance, and whether a linear weighted κ
    is meaningful over it (no nominal scale, an ordinal one, every scale's order kept)."""
    union: list[str] = []
    for scale in scales:
        union += [code for code in scale.codes if code not in union]
    kinds = {scale.kind for scale in scales}
    ordered = all(
        [union.index(code) for code in scale.codes] == sorted(union.index(code) for code in scale.codes)
        for scale in scales
    )
    return tuple(union), ScaleKind.NOMINAL not in kinds and ScaleKind.ORDINAL in kinds and ordered


def agreement_rows(protocol: Protocol, pairs: Sequence[tuple[Codes, Codes]]) -> list[AgreementRow]:
    """The report's rows from the two readers' codes, one ``(codes_a, codes_b)`` per exam."""
    # Indicators in protocol order; one scale per row (an indicator scored on two scales
    # gets one group per scale).
    by_indicator: dict[tuple[str, str], list[Item]] = {}
    for item in protocol.items:
        by_indicator.setdefault((item.indicator, item.scale), []).append(item)
    indicator_names = [name for name, _ in by_indicator]
    rows: list[AgreementRow] = []
    for (indicator, scale_name), items in by_indicator.items():
        scale = protocol.scales[scale_name]
        weighted = scale.kind is ScaleKind.ORDINAL
        name = indicator if indicator_names.count(indicator) == 1 else f"{indicator} ({scale_name})"
        regions = list(dict.fromkeys(item.unit.region for item in items))
        for region in regions:
            rows.append(_row(RowKind.INDICATOR, f"{name}, {region}", [i for i in items if i.unit.region == region],
                             pairs, scale.codes, weighted, indicator=indicator, region=region, scale=scale_name))
        rows.append(_row(RowKind.INDICATOR, f"{name}, overall", items, pairs, scale.codes, weighted,
                         indicator=indicator, scale=scale_name))
    by_unit: dict[tuple[str, str, str], list[Item]] = {}
    for item in protocol.items:
        if item.unit.level is not UnitLevel.REGION:
            by_unit.setdefault((item.unit.key, item.indicator, item.scale), []).append(item)
    for (unit, indicator, scale_name), items in by_unit.items():
        scale = protocol.scales[scale_name]
        rows.append(_row(RowKind.UNIT, f"{items[0].unit.name}: {indicator}", items, pairs, scale.codes,
                         scale.kind is ScaleKind.ORDINAL, indicator=indicator, region=items[0].unit.region,
                         unit=unit, scale=scale_name))
    used = [protocol.scales[name] for name in dict.fromkeys(item.scale for item in protocol.items)]
    categories, weighted = _pooled_categories(used)
    # Seed 004 reports one κ over every muscle and both scales ("Inter-rater agreement (κ)
    # for MRI scoring between observers was 0.87"). Pooling codes of different scales is
    # descriptive only, so the row says so instead of posing as a per-indicator κ.
    rows.append(_row(RowKind.OVERALL, POOLED_LABEL, protocol.items, pairs, categories, weighted))
    return rows


def agreement_report(coordinator: CoordinatorSession, protocol_name: str, readers: Sequence[str], *,
                     include_excluded: bool = False) -> AgreementReport:
    """Agreement between two readers over every exam both have submitted for the protocol
    (excluded exams only with ``include_excluded``).

    Reveals both readers' ratings to the coordinator (audited, one event per read).
    """
    names = tuple(name.strip() for name in readers)
    if len(names) != 2:
        raise MyoscoreError(f"agreement is between two readers; got {len(names)}: {', '.join(names)}")
    protocol = protocol_in_use(coordinator, protocol_name)
    groups = submitted_reads(coordinator, protocol_name, names, include_excluded=include_excluded)
    ratings = reveal_ratings(coordinator, [read.id for group in groups for read in group],
                             f"agreement {protocol_name} {','.join(names)}")
    pairs = [(codes_of(ratings[a.id]), codes_of(ratings[b.id])) for a, b in groups]
    return AgreementReport(protocol.name, protocol.hash, (names[0], names[1]), len(groups),
                           tuple(agreement_rows(protocol, pairs)), protocol.min_pairs)


def intra_reader_report(coordinator: CoordinatorSession, protocol_name: str, reader: str, *,
                        include_excluded: bool = False) -> AgreementReport:
    """Agreement of one reader with themself: first read against the blinded repeat read."""
    protocol = protocol_in_use(coordinator, protocol_name)
    pairs_of_reads = repeat_pairs(coordinator, protocol_name, reader, include_excluded=include_excluded)
    ratings = reveal_ratings(coordinator, [read.id for pair in pairs_of_reads for read in pair],
                             f"intra-reader agreement {protocol_name} {reader}")
    pairs = [(codes_of(ratings[first.id]), codes_of(ratings[again.id])) for first, again in pairs_of_reads]
    return AgreementReport(protocol.name, protocol.hash, (reader, f"{reader} (repeat)"), len(pairs),
                           tuple(agreement_rows(protocol, pairs)), protocol.min_pairs)
