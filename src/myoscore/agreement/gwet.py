"""Gwet's AC1 (nominal) and AC2 (weighted) agreement coefficients for any number of raters.

AC1 replaces kappa's chance agreement by one that stays small when a category is very
prevalent, so it avoids the "kappa paradox" (high agreement, low kappa) that muscle scores
full of zeros trigger.

References
----------
Gwet KL (2008). Computing inter-rater reliability and its variance in the presence of high
agreement. Br J Math Stat Psychol 61:29-48.
Gwet KL (2014). Handbook of Inter-Rater Reliability, 4th ed., chapters 2-4.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from myoscore.agreement._coding import as_table, code_ratings
from myoscore.agreement._intervals import check_confidence, clip_unit, sqrt_nonneg, t_critical
from myoscore.agreement._tables import subject_counts
from myoscore.agreement._weights import Weights, agreement_weights, check_weights

NAN = math.nan


@dataclass(frozen=True)
class GwetResult:
    """Gwet's AC1/AC2; see ``docs/agreement.md`` for each field."""

    ac: float
    name: str
    se: float
    ci_low: float
    ci_high: float
    observed: float
    expected: float
    n: int
    n_raters: int
    n_excluded: int
    n_subjects_excluded: int
    categories: tuple[Hashable, ...]
    weights: Weights
    reason: str | None
    confidence: float


def gwet_ac(
    table: Any,
    categories: Sequence[Hashable] | None = None,
    weights: Weights = None,
    confidence: float = 0.95,
) -> GwetResult:
    """Gwet's AC1 (``weights=None``) or AC2 (``"linear"`` / ``"quadratic"``).

    Parameters
    ----------
    table : array_like
        Subjects × raters matrix of level codes or numbers (two columns for two readers);
        ``None``, NaN or ``NOT_EVALUABLE`` for not evaluable.
    categories : sequence, optional
        Declared ordered categories (default: sorted observed values). Their number q
        enters chance agreement, so an unused declared category changes AC1/AC2.
    weights : {None, "linear", "quadratic"}
        Agreement weights by position in ``categories``.
    confidence : float
        Level of the confidence interval.

    Returns
    -------
    GwetResult
        ``observed`` is Gwet's p_a over subjects with at least two ratings; ``expected`` is
        p_e = T_w / (q (q - 1)) · Σ π_k (1 - π_k) with π_k the mean per-subject share of
        category k over every rated subject. ``se`` is Gwet's linearised standard error
        (finite population ignored) with a t-based CI on n - 1 df.
    """
    check_weights(weights)
    check_confidence(confidence)
    arr = as_table(table, "gwet_ac")
    coded = code_ratings(arr, categories)
    cats = coded.categories
    q = len(cats)
    w = agreement_weights(q, weights)
    all_counts = subject_counts(coded.codes, q)
    counts = all_counts[all_counts.sum(axis=1) >= 1]
    r = counts.sum(axis=1).astype(np.float64)
    two = r >= 2
    n_two = int(two.sum())
    base: dict[str, Any] = {
        "name": "AC1" if weights is None else "AC2",
        "n": n_two,
        "n_raters": int(arr.shape[1]),
        "n_excluded": int(np.count_nonzero(coded.codes < 0)),
        "n_subjects_excluded": int(arr.shape[0] - n_two),
        "categories": cats,
        "weights": weights,
        "confidence": confidence,
    }
    nan_stats: dict[str, Any] = dict.fromkeys(("ac", "se", "ci_low", "ci_high"), NAN)
    if n_two == 0:
        return GwetResult(
            **base, **nan_stats, observed=NAN, expected=NAN,
            reason="no subject has ratings from two raters",
        )  # fmt: skip
    if q < 2:
        return GwetResult(
            **base, **nan_stats, observed=1.0, expected=NAN,
            reason="only one category: chance agreement (which divides by q - 1) is undefined",
        )  # fmt: skip

    n = counts.shape[0]
    cf = counts.astype(np.float64)
    # r*_ik = Σ_l w_kl r_il: ratings of subject i that agree (partially) with category k.
    weighted = cf @ w.T
    pair_agree = (cf * (weighted - 1.0)).sum(axis=1)
    pa_i = np.zeros(n)
    pa_i[two] = pair_agree[two] / (r[two] * (r[two] - 1.0))
    pa = float(pa_i[two].mean())
    pi = (cf / r[:, None]).mean(axis=0)
    t_w = float(w.sum())
    pe = t_w * float((pi * (1.0 - pi)).sum()) / (q * (q - 1))
    if n_two < 2:
        return GwetResult(
            **base, **nan_stats, observed=pa, expected=pe,
            reason="fewer than two subjects have ratings from two raters",
        )  # fmt: skip

    # pe <= T_w / q² < 1 whenever q >= 2, so 1 - pe never vanishes here.
    ac = (pa - pe) / (1.0 - pe)
    ac_i = (n / n_two) * (pa_i - pe * two) / (1.0 - pe)
    pe_i = t_w / (q * (q - 1)) * (cf @ (1.0 - pi)) / r
    ac_i -= 2.0 * (1.0 - ac) * (pe_i - pe) / (1.0 - pe)
    se = sqrt_nonneg(float(((ac_i - ac) ** 2).sum()) / (n * (n - 1)))
    tc = t_critical(confidence, n - 1)
    return GwetResult(
        **base,
        ac=ac,
        se=se,
        ci_low=clip_unit(ac - tc * se),
        ci_high=clip_unit(ac + tc * se),
        observed=pa,
        expected=pe,
        reason=None,
    )
