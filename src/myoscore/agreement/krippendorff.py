"""Krippendorff's alpha (nominal, ordinal, interval) with missing ratings.

alpha = 1 - D_o / D_e, computed from the coincidence matrix of pairable values (values in
units that carry at least two of them).

References
----------
Krippendorff K (2011). Computing Krippendorff's alpha-reliability. Annenberg School for
Communication, University of Pennsylvania (departmental paper 43).
Hayes AF, Krippendorff K (2007). Answering the call for a standard reliability measure for
coding data. Commun Methods Meas 1:77-89.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from myoscore.agreement._coding import FloatArray, as_table, code_ratings, is_real
from myoscore.agreement._intervals import TINY
from myoscore.agreement._tables import subject_counts

Level = Literal["nominal", "ordinal", "interval"]
LEVELS: tuple[str, ...] = ("nominal", "ordinal", "interval")
NAN = math.nan


@dataclass(frozen=True)
class AlphaResult:
    """Krippendorff's alpha; see ``docs/agreement.md`` for each field."""

    alpha: float
    level: Level
    observed_disagreement: float
    expected_disagreement: float
    n_pairable: int
    n_units: int
    n_excluded: int
    n_units_excluded: int
    categories: tuple[Hashable, ...]
    coincidence: tuple[tuple[float, ...], ...] | None
    reason: str | None


# Above this many categories the K × K coincidence matrix is not built for nominal and
# interval data (their disagreements have O(N·K) forms); continuous scores can have
# thousands of distinct values.
MAX_COINCIDENCE = 1000


def _interval_values(cats: tuple[Hashable, ...]) -> FloatArray:
    """Numeric categories keep their values; codes such as "2a" use their positions."""
    numeric = all(not isinstance(c, bool) and is_real(c) for c in cats)
    if numeric:
        return np.asarray(cats, dtype=np.float64)
    return np.arange(len(cats), dtype=np.float64)


def _ordinal_delta2(n_c: FloatArray) -> FloatArray:
    """δ²(c, k) = (Σ_{g=c..k} n_g - (n_c + n_k) / 2)², by position in the declared order.

    An unused category has n_g = 0 and so adds no distance.
    """
    k = n_c.size
    cum = np.concatenate([[0.0], np.cumsum(n_c)])
    lo = np.minimum.outer(np.arange(k), np.arange(k))
    hi = np.maximum.outer(np.arange(k), np.arange(k))
    return np.asarray((cum[hi + 1] - cum[lo] - (n_c[:, None] + n_c[None, :]) / 2.0) ** 2)


def _disagreements(
    level: Level,
    cats: tuple[Hashable, ...],
    counts: FloatArray,
    m: FloatArray,
    coincidence: FloatArray | None,
) -> tuple[float, float, float]:
    """Observed and expected disagreement, and the largest δ² (to judge "zero")."""
    n_c = counts.sum(axis=0)
    n = float(n_c.sum())
    if level == "nominal":
        # Only the diagonal of the coincidence matrix matters: Σ_c o_cc.
        agree = float((counts * (counts - 1.0) / (m - 1.0)[:, None]).sum())
        return (n - agree) / n, (n * n - float(n_c @ n_c)) / (n * (n - 1.0)), 1.0
    if level == "interval":
        v = _interval_values(cats)
        used = n_c > 0
        v = v - float(n_c @ v) / n  # centring keeps the sums of squares accurate
        # Σ over ordered pairs i != j of (v_i - v_j)² = 2 m Σv² - 2 (Σv)², per unit and overall.
        s1, s2 = counts @ v, counts @ v**2
        d_o = float(((2.0 * m * s2 - 2.0 * s1**2) / (m - 1.0)).sum()) / n
        t1, t2 = float(n_c @ v), float(n_c @ v**2)
        d_e = (2.0 * n * t2 - 2.0 * t1**2) / (n * (n - 1.0))
        spread = float(np.ptp(v[used])) ** 2 if used.any() else 0.0
        return d_o, d_e, spread
    assert coincidence is not None  # ordinal always builds it
    d2 = _ordinal_delta2(n_c)
    d_o = float((coincidence * d2).sum()) / n
    d_e = float((np.outer(n_c, n_c) * d2).sum()) / (n * (n - 1.0))
    return d_o, d_e, float(d2.max(initial=0.0))


def krippendorff_alpha(
    table: Any, level: Level = "nominal", categories: Sequence[Hashable] | None = None
) -> AlphaResult:
    """Krippendorff's alpha for a subjects × raters matrix with missing values.

    Parameters
    ----------
    table : array_like
        Subjects (units) × raters (coders) matrix of level codes or numbers; ``None``, NaN
        or ``NOT_EVALUABLE`` for not evaluable.
    level : {"nominal", "ordinal", "interval"}
        Metric of the difference function. Ordinal uses the declared order; interval uses
        the numeric category values (positions when the codes are not numbers).
    categories : sequence, optional
        Declared ordered categories (default: sorted observed values).

    Returns
    -------
    AlphaResult
        Units with fewer than two values are not pairable and are counted in
        ``n_units_excluded``. NaN with a ``reason`` when there are no pairable values or no
        expected disagreement (every pairable value identical).
    """
    if level not in LEVELS:
        raise ValueError(f"level={level!r}: expected 'nominal', 'ordinal' or 'interval'")
    arr = as_table(table, "krippendorff_alpha")
    coded = code_ratings(arr, categories)
    cats = coded.categories
    k = len(cats)
    counts = subject_counts(coded.codes, k).astype(np.float64)
    m = counts.sum(axis=1)
    pairable = m >= 2
    counts, m = counts[pairable], m[pairable]
    n = float(m.sum())
    coincidence = None
    if level == "ordinal" or k <= MAX_COINCIDENCE:
        # o_ck = Σ_u (ordered c-k pairs within unit u) / (m_u - 1), as one matrix product.
        share = counts / (m - 1.0)[:, None]
        coincidence = share.T @ counts - np.diag(share.sum(axis=0))
    base: dict[str, Any] = {
        "level": level,
        "n_pairable": round(n),
        "n_units": int(pairable.sum()),
        "n_excluded": int(np.count_nonzero(coded.codes < 0)),
        "n_units_excluded": int(arr.shape[0] - pairable.sum()),
        "categories": cats,
        "coincidence": None
        if coincidence is None
        else tuple(tuple(row) for row in coincidence.tolist()),
    }
    if n < 2.0:
        return AlphaResult(
            **base, alpha=NAN, observed_disagreement=NAN, expected_disagreement=NAN,
            reason="no unit has values from two raters: nothing is pairable",
        )  # fmt: skip
    d_o, d_e, scale = _disagreements(level, cats, counts, m, coincidence)
    # Relative test: interval differences carry the units of the ratings.
    if not d_e > TINY * scale:
        return AlphaResult(
            **base, alpha=NAN, observed_disagreement=d_o, expected_disagreement=d_e,
            reason="every pairable value is the same: zero expected disagreement, alpha undefined",
        )  # fmt: skip
    return AlphaResult(
        **base,
        alpha=1.0 - d_o / d_e,
        observed_disagreement=d_o,
        expected_disagreement=d_e,
        reason=None,
    )
