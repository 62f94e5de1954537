"""Cohen's kappa (two readers, optionally weighted) and Fleiss' kappa (many readers).

References
----------
Cohen J (1960). A coefficient of agreement for nominal scales. Educ Psychol Meas 20:37-46.
Cohen J (1968). Weighted kappa. Psychol Bull 70:213-220.
Fleiss JL, Cohen J, Everitt BS (1969). Large sample standard errors of kappa and weighted
kappa. Psychol Bull 72:323-327.
Fleiss JL (1971). Measuring nominal scale agreement among many raters. Psychol Bull
76:378-382.
Fleiss JL, Nee JCM, Landis JR (1979). Large sample variance of kappa in the case of
different sets of raters. Psychol Bull 86:974-977.
Gwet KL (2014). Handbook of Inter-Rater Reliability, 4th ed. (Fleiss' kappa with missing
ratings and its linearised variance).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from myoscore.agreement._coding import FloatArray, IntArray, as_table, code_ratings
from myoscore.agreement._intervals import (
    TINY,
    check_confidence,
    clip_unit,
    sqrt_nonneg,
    t_critical,
    two_sided_normal_p,
    z_critical,
)
from myoscore.agreement._tables import pair_table, subject_counts
from myoscore.agreement._weights import Weights, agreement_weights, check_weights

NAN = math.nan

NO_PAIRS = "no subject was rated by both readers"
FEW_PAIRS = "fewer than two subjects were rated by both readers"
ONE_CATEGORY = (
    "both readers used one and the same single category: expected agreement is 1, "
    "so kappa is undefined"
)


@dataclass(frozen=True)
class KappaResult:
    """Cohen's (weighted) kappa for two readers; see ``docs/agreement.md`` for each field."""

    kappa: float
    se: float
    ci_low: float
    ci_high: float
    observed: float
    expected: float
    n: int
    n_excluded: int
    categories: tuple[Hashable, ...]
    confusion: tuple[tuple[int, ...], ...]
    weights: Weights
    reason: str | None
    percent_agreement: float
    se_null: float
    z: float
    p_value: float
    confidence: float
    bootstrap: int
    boot_ci_low: float
    boot_ci_high: float
    boot_undefined: int

    @property
    def confusion_array(self) -> IntArray:
        """The confusion matrix as a new integer array (rows reader 1, columns reader 2)."""
        return np.array(self.confusion, dtype=np.intp).reshape(len(self.categories), -1)


@dataclass(frozen=True)
class FleissResult:
    """Fleiss' kappa for more than two raters; see ``docs/agreement.md`` for each field."""

    kappa: float
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
    category_counts: tuple[int, ...]
    reason: str | None
    se_null: float
    z: float
    p_value: float
    confidence: float


# --- Cohen ----------------------------------------------------------------------------


def _kappa_many(tables: FloatArray, w: FloatArray) -> FloatArray:
    """Kappa of a stack of confusion tables (B × K × K); NaN where undefined."""
    n = tables.sum(axis=(1, 2))
    p = tables / n[:, None, None]
    rows, cols = p.sum(axis=2), p.sum(axis=1)
    po = (p * w).sum(axis=(1, 2))
    pe = np.einsum("bi,ij,bj->b", rows, w, cols)
    out = np.full(tables.shape[0], NAN)
    ok = (1.0 - pe) > TINY
    out[ok] = (po[ok] - pe[ok]) / (1.0 - pe[ok])
    return out


def _bootstrap(
    table: FloatArray, w: FloatArray, replicates: int, seed: Any, confidence: float
) -> tuple[float, float, int]:
    """Percentile bootstrap CI by resampling subjects with replacement.

    Resampling n subject pairs with replacement gives a confusion table that is exactly
    Multinomial(n, observed cell proportions); drawing the tables directly costs
    O(replicates × K²) instead of O(replicates × n), whatever the number of ratings.
    """
    rng = np.random.default_rng(seed)
    n = int(table.sum())
    k = table.shape[0]
    draws = rng.multinomial(n, (table / n).ravel(), size=replicates).reshape(replicates, k, k)
    kappas = _kappa_many(draws.astype(np.float64), w)
    finite = kappas[~np.isnan(kappas)]
    undefined = replicates - finite.size
    if finite.size == 0:
        return NAN, NAN, undefined
    alpha = 1.0 - confidence
    low, high = np.quantile(finite, [alpha / 2.0, 1.0 - alpha / 2.0])
    return float(low), float(high), undefined


def cohen_kappa(
    r1: Any,
    r2: Any,
    categories: Sequence[Hashable] | None = None,
    weights: Weights = None,
    bootstrap: int = 0,
    seed: Any = None,
    confidence: float = 0.95,
) -> KappaResult:
    """Cohen's kappa, or weighted kappa, between two readers.

    Parameters
    ----------
    r1, r2 : array_like
        One rating per subject, same subjects in the same order. Level codes or numbers;
        ``None``, NaN or ``NOT_EVALUABLE`` for not evaluable. A subject missing on either
        side is excluded (pairwise) and counted in ``n_excluded``.
    categories : sequence, optional
        Declared ordered categories; they define the table and the weight positions. An
        unused declared category still counts. Default: sorted union of observed values.
    weights : {None, "linear", "quadratic"}
        Agreement weights by position: ``1 - |i-j|/(K-1)`` or ``1 - (i-j)²/(K-1)²``.
    bootstrap : int
        Number of bootstrap replicates for a percentile CI (0: none).
    seed : int, numpy.random.Generator or None
        Seed of the bootstrap, for reproducible intervals.
    confidence : float
        Level of both confidence intervals.

    Returns
    -------
    KappaResult
        ``kappa`` with the Fleiss-Cohen-Everitt (1969) large-sample ``se`` and Wald CI
        (clipped to [-1, 1]); ``se_null``, ``z`` and ``p_value`` test kappa = 0. Undefined
        cases give NaN and a ``reason``; they never raise.

    Raises
    ------
    myoscore.domain.InvalidValue
        A rating is not one of the declared categories.
    ValueError
        The two rating lists differ in length, or an argument is malformed.
    """
    check_weights(weights)
    check_confidence(confidence)
    if bootstrap < 0:
        raise ValueError(f"bootstrap={bootstrap!r}: expected a number of replicates >= 0")
    paired = pair_table(r1, r2, categories)
    counts, cats = paired.counts, paired.categories
    k = len(cats)
    n = int(counts.sum())
    w = agreement_weights(k, weights)

    base: dict[str, Any] = {
        "n": n,
        "n_excluded": paired.n_excluded,
        "categories": cats,
        "confusion": tuple(tuple(row) for row in counts.tolist()),
        "weights": weights,
        "confidence": confidence,
        "bootstrap": bootstrap,
    }
    undefined: dict[str, Any] = dict.fromkeys(
        ("kappa", "se", "ci_low", "ci_high", "se_null", "z", "p_value"), NAN
    )
    undefined.update(boot_ci_low=NAN, boot_ci_high=NAN, boot_undefined=0)
    if n == 0:
        return KappaResult(
            **base, **undefined, observed=NAN, expected=NAN, percent_agreement=NAN,
            reason=NO_PAIRS,
        )  # fmt: skip

    table = counts.astype(np.float64)
    p = table / n
    rows, cols = p.sum(axis=1), p.sum(axis=0)
    po = float((w * p).sum())
    pe = float(rows @ w @ cols)
    percent = float(100.0 * np.trace(counts) / n)
    observed: dict[str, Any] = {"observed": po, "expected": pe, "percent_agreement": percent}
    if n < 2:
        return KappaResult(**base, **undefined, **observed, reason=FEW_PAIRS)
    if 1.0 - pe <= TINY:
        return KappaResult(**base, **undefined, **observed, reason=ONE_CATEGORY)

    kappa = (po - pe) / (1.0 - pe)
    # Fleiss, Cohen & Everitt (1969): w̄_i. and w̄_.j are the weights averaged over the
    # other reader's marginal distribution.
    w_row = w @ cols
    w_col = rows @ w
    w_bar = w_row[:, None] + w_col[None, :]
    scale = n * (1.0 - pe) ** 2
    var = (
        float((p * (w - w_bar * (1.0 - kappa)) ** 2).sum()) - (kappa - pe * (1.0 - kappa)) ** 2
    ) / scale
    var_null = (float((np.outer(rows, cols) * (w - w_bar) ** 2).sum()) - pe**2) / scale
    se, se_null = sqrt_nonneg(var), sqrt_nonneg(var_null)
    zc = z_critical(confidence)
    z = kappa / se_null if se_null > 0.0 else NAN
    boot = (NAN, NAN, 0)
    if bootstrap:
        boot = _bootstrap(table, w, bootstrap, seed, confidence)
    return KappaResult(
        **base,
        **observed,
        kappa=kappa,
        se=se,
        ci_low=clip_unit(kappa - zc * se),
        ci_high=clip_unit(kappa + zc * se),
        se_null=se_null,
        z=z,
        p_value=two_sided_normal_p(z),
        boot_ci_low=boot[0],
        boot_ci_high=boot[1],
        boot_undefined=boot[2],
        reason=None,
    )


def percent_agreement(r1: Any, r2: Any, categories: Sequence[Hashable] | None = None) -> float:
    """Percentage (0-100) of subjects rated by both readers on which they gave the same value.

    Not-evaluable ratings are excluded pairwise; NaN when no subject was rated by both.
    """
    counts = pair_table(r1, r2, categories).counts
    n = int(counts.sum())
    return float(100.0 * np.trace(counts) / n) if n else NAN


# --- Fleiss ---------------------------------------------------------------------------


def _fleiss_null_se(counts: IntArray, pi: FloatArray) -> float:
    """Fleiss, Nee & Landis (1979) standard error of kappa under kappa = 0.

    Valid only when every subject has the same number of ratings; NaN otherwise.
    """
    per_subject = counts.sum(axis=1)
    m = int(per_subject[0])
    if m < 2 or not np.all(per_subject == m):
        return NAN
    pq = pi * (1.0 - pi)
    spq = float(pq.sum())
    if spq <= TINY:
        return NAN
    n = counts.shape[0]
    var = 2.0 * (spq**2 - float((pq * (1.0 - 2.0 * pi)).sum())) / (spq**2 * n * m * (m - 1))
    return sqrt_nonneg(var)


def fleiss_kappa(
    table: Any, categories: Sequence[Hashable] | None = None, confidence: float = 0.95
) -> FleissResult:
    """Fleiss' kappa for any number of raters, with missing ratings allowed.

    Parameters
    ----------
    table : array_like
        Subjects × raters matrix of level codes or numbers; ``None``, NaN or
        ``NOT_EVALUABLE`` for not evaluable.
    categories : sequence, optional
        Declared categories (default: sorted observed values).
    confidence : float
        Level of the confidence interval.

    Returns
    -------
    FleissResult
        With complete data this is Fleiss (1971). With missing ratings it is Gwet's (2014)
        generalisation: observed agreement over subjects with at least two ratings, category
        prevalence over every rated subject. ``se`` is Gwet's linearised standard error
        (t-based CI with n - 1 df); ``se_null``/``z``/``p_value`` use Fleiss, Nee & Landis
        (1979) and need the same number of ratings on every subject.
    """
    check_confidence(confidence)
    arr = as_table(table, "fleiss_kappa")
    coded = code_ratings(arr, categories)
    cats = coded.categories
    k = len(cats)
    all_counts = subject_counts(coded.codes, k)
    per_subject = all_counts.sum(axis=1)
    counts = all_counts[per_subject >= 1]  # subjects nobody rated carry no information
    r = counts.sum(axis=1)
    two = r >= 2
    n_two = int(two.sum())
    base: dict[str, Any] = {
        "n": n_two,
        "n_raters": int(arr.shape[1]),
        "n_excluded": int(np.count_nonzero(coded.codes < 0)),
        "n_subjects_excluded": int(arr.shape[0] - n_two),
        "categories": cats,
        "category_counts": tuple(int(c) for c in all_counts.sum(axis=0)),
        "confidence": confidence,
    }
    nan_stats: dict[str, Any] = dict.fromkeys(("kappa", "se", "ci_low", "ci_high", "se_null", "z", "p_value"), NAN)
    if n_two == 0:
        return FleissResult(
            **base, **nan_stats, observed=NAN, expected=NAN,
            reason="no subject has ratings from two raters",
        )  # fmt: skip

    n = counts.shape[0]
    cf = counts.astype(np.float64)
    pair_agree = (cf * (cf - 1.0)).sum(axis=1)
    pairs = r * (r - 1.0)
    pa_i = np.zeros(n)
    pa_i[two] = pair_agree[two] / pairs[two]
    pa = float(pa_i[two].mean())
    pi = (cf / r[:, None]).mean(axis=0)
    pe = float(pi @ pi)
    if n_two < 2:
        return FleissResult(
            **base, **nan_stats, observed=pa, expected=pe,
            reason="fewer than two subjects have ratings from two raters",
        )  # fmt: skip
    if 1.0 - pe <= TINY:
        return FleissResult(
            **base, **nan_stats, observed=pa, expected=pe,
            reason="every rating is in one category: expected agreement is 1, kappa is undefined",
        )  # fmt: skip

    kappa = (pa - pe) / (1.0 - pe)
    # Gwet (2014) linearisation: each subject's contribution to kappa, corrected for its
    # contribution to chance agreement, then the variance of that mean.
    kappa_i = (n / n_two) * (pa_i - pe * two) / (1.0 - pe)
    pe_i = (cf @ pi) / r
    kappa_i -= 2.0 * (1.0 - kappa) * (pe_i - pe) / (1.0 - pe)
    var = float(((kappa_i - kappa) ** 2).sum()) / (n * (n - 1))
    se = sqrt_nonneg(var)
    tc = t_critical(confidence, n - 1)
    se_null = _fleiss_null_se(counts, pi) if base["n_excluded"] == 0 else NAN
    z = kappa / se_null if se_null > 0.0 else NAN
    return FleissResult(
        **base,
        kappa=kappa,
        se=se,
        ci_low=clip_unit(kappa - tc * se),
        ci_high=clip_unit(kappa + tc * se),
        observed=pa,
        expected=pe,
        se_null=se_null,
        z=z,
        p_value=two_sided_normal_p(z),
        reason=None,
    )
