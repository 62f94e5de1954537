"""The rows of an inter-reader agreement report, shared by the report (app) and the
exports (export), so a table, a spreadsheet and the GUI say the same thing."""

from __future__ import annotations

from dataclasses import dataclass


class RowKind:
    INDICATOR = "indicator"  # one indicator in one region, or over every region (region None)
    UNIT = "unit"  # one atlas unit (muscle or compartment), one indicator, both sides pooled
    OVERALL = "overall"  # every item of the protocol


@dataclass(frozen=True)
class AgreementRow:
    """One row of the report.

    ``n_items`` counts item × exam pairs; ``n_not_evaluable`` the pairs where a reader said
    not evaluable, ``n_unscored`` those a reader left unscored (both excluded pairwise);
    ``n_compared`` the rest. ``percent_agreement`` is exact agreement over the compared
    pairs. ``weighted_*`` (linear weights) is given for ordinal scales only, else ``None``.
    Undefined statistics are NaN with ``reason``. ``confusion`` is the count matrix of the
    compared pairs in the order of ``categories`` (rows: first reader, columns: second);
    it sums to ``n_compared``.
    """

    kind: str
    label: str
    indicator: str | None
    region: str | None
    unit: str | None
    scale: str | None
    categories: tuple[str, ...]
    n_items: int
    n_not_evaluable: int
    n_unscored: int
    n_compared: int
    percent_agreement: float
    kappa: float
    kappa_se: float
    kappa_ci_low: float
    kappa_ci_high: float
    weighted_kappa: float | None
    weighted_ci_low: float | None
    weighted_ci_high: float | None
    reason: str | None
    confusion: tuple[tuple[int, ...], ...] = ()
    ac1: float = float("nan")  # Gwet's AC1 (chance-corrected, robust to skewed prevalence)
    ac1_ci_low: float = float("nan")
    ac1_ci_high: float = float("nan")
    alpha: float = float("nan")  # Krippendorff's alpha (ordinal metric for ordinal scales, else nominal)
    alpha_level: str = ""
