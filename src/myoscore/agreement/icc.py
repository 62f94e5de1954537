"""Intraclass correlation: the six Shrout & Fleiss (1979) forms with F-based CIs.

For continuous scores (sum scores, T1-LB, STIR%). Each form carries both names:

============  ==========  ==================================================================
Shrout-Fleiss McGraw-Wong model
============  ==========  ==================================================================
ICC(1,1)      ICC(1)      one-way random effects, absolute agreement, single rater
ICC(2,1)      ICC(A,1)    two-way random effects, absolute agreement, single rater
ICC(3,1)      ICC(C,1)    two-way mixed effects, consistency, single rater
ICC(1,k)      ICC(k)      one-way random effects, absolute agreement, mean of k raters
ICC(2,k)      ICC(A,k)    two-way random effects, absolute agreement, mean of k raters
ICC(3,k)      ICC(C,k)    two-way mixed effects, consistency, mean of k raters
============  ==========  ==================================================================

References
----------
Shrout PE, Fleiss JL (1979). Intraclass correlations: uses in assessing rater reliability.
Psychol Bull 86:420-428.
McGraw KO, Wong SP (1996). Forming inferences about some intraclass correlation
coefficients. Psychol Methods 1:30-46 (and correction, 1:390).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from myoscore.agreement._coding import as_numeric, as_table
from myoscore.agreement._intervals import TINY, check_confidence

NAN = math.nan

# (Shrout-Fleiss name, McGraw-Wong name, short name, description)
_FORMS: tuple[tuple[str, str, str, str], ...] = (
    ("ICC(1,1)", "ICC(1)", "ICC1", "one-way random effects, absolute agreement, single rater"),
    ("ICC(2,1)", "ICC(A,1)", "ICC2", "two-way random effects, absolute agreement, single rater"),
    ("ICC(3,1)", "ICC(C,1)", "ICC3", "two-way mixed effects, consistency, single rater"),
    ("ICC(1,k)", "ICC(k)", "ICC1k", "one-way random effects, absolute agreement, mean of k raters"),
    (
        "ICC(2,k)",
        "ICC(A,k)",
        "ICC2k",
        "two-way random effects, absolute agreement, mean of k raters",
    ),
    ("ICC(3,k)", "ICC(C,k)", "ICC3k", "two-way mixed effects, consistency, mean of k raters"),
)


@dataclass(frozen=True)
class ICCForm:
    """One ICC form with its F test and confidence interval."""

    name: str
    mcgraw_wong: str
    short: str
    description: str
    value: float
    ci_low: float
    ci_high: float
    f: float
    df1: float
    df2: float
    p_value: float
    reason: str | None


@dataclass(frozen=True)
class ICCResult:
    """All six ICC forms plus the ANOVA mean squares they come from.

    Index it with any name of a form: ``result["ICC(2,1)"]``, ``result["ICC(A,1)"]`` or
    ``result["ICC2"]``.
    """

    forms: tuple[ICCForm, ...]
    n: int
    k: int
    n_excluded: int
    ms_rows: float
    ms_cols: float
    ms_error: float
    ms_within: float
    confidence: float
    reason: str | None

    def __getitem__(self, key: str) -> ICCForm:
        wanted = key.replace(" ", "").upper()
        for form in self.forms:
            if wanted in (form.name.upper(), form.mcgraw_wong.upper(), form.short.upper()):
                return form
        names = ", ".join(f.name for f in self.forms)
        raise KeyError(f"{key!r} is not an ICC form; use one of {names} (or McGraw-Wong names)")


def _undefined_forms(reason: str) -> tuple[ICCForm, ...]:
    return tuple(
        ICCForm(name, mw, short, desc, NAN, NAN, NAN, NAN, NAN, NAN, NAN, reason)
        for name, mw, short, desc in _FORMS
    )


def _ratio(num: float, den: float, scale: float) -> float | None:
    """num / den, or None when den is zero relative to the size of the mean squares."""
    return None if abs(den) <= TINY * scale else num / den


def _div(num: float, den: float) -> float:
    """num / den for a CI bound; NaN (reported with a reason by the caller) when den is 0."""
    return NAN if den == 0.0 else num / den


def _f_test(
    ms_num: float, ms_den: float, df1: float, df2: float, scale: float
) -> tuple[float, float]:
    """F = ms_num / ms_den and its upper-tail p-value; F is infinite when ms_den is 0."""
    if ms_den <= TINY * scale:
        # x/0 is a perfect F test; 0/0 (no subject and no residual variance) is undefined.
        return (NAN, NAN) if ms_num <= TINY * scale else (math.inf, 0.0)
    f = ms_num / ms_den
    from scipy import stats  # imported on use: it costs most of a second (see _intervals)

    return f, float(stats.f.sf(f, df1, df2))


def _consistency_ci(
    f: float, df1: float, df2: float, k: int, alpha: float, average: bool
) -> tuple[float, float]:
    """Shrout & Fleiss CI of ICC(1,·) and ICC(3,·) from the F ratio."""
    if math.isinf(f):
        return 1.0, 1.0
    from scipy import stats

    f_low = f / float(stats.f.ppf(1.0 - alpha / 2.0, df1, df2))
    f_up = f * float(stats.f.ppf(1.0 - alpha / 2.0, df2, df1))
    if average:
        # f > 0 here: the form is only evaluated when MS_rows > 0.
        return 1.0 - 1.0 / f_low, 1.0 - 1.0 / f_up
    return (f_low - 1.0) / (f_low + k - 1.0), (f_up - 1.0) / (f_up + k - 1.0)


def _agreement_ci(
    icc2: float, msr: float, msc: float, mse: float, n: int, k: int, alpha: float
) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """McGraw & Wong (1996) CIs of ICC(A,1) and ICC(A,k), Satterthwaite df; None if undefined."""
    if 1.0 - icc2 <= TINY:
        return (1.0, 1.0), (1.0, 1.0)
    a = k * icc2 / (n * (1.0 - icc2))
    b = 1.0 + k * icc2 * (n - 1) / (n * (1.0 - icc2))
    den_v = (a * msc) ** 2 / (k - 1) + (b * mse) ** 2 / ((n - 1) * (k - 1))
    if den_v <= 0.0:
        return None
    v = (a * msc + b * mse) ** 2 / den_v
    from scipy import stats

    f_star = float(stats.f.ppf(1.0 - alpha / 2.0, n - 1, v))
    f_2star = float(stats.f.ppf(1.0 - alpha / 2.0, v, n - 1))
    c = k * msc + (k * n - k - n) * mse
    single = (
        _div(n * (msr - f_star * mse), f_star * c + n * msr),
        _div(n * (f_2star * msr - mse), c + n * f_2star * msr),
    )
    average = (
        _div(n * (msr - f_star * mse), f_star * (msc - mse) + n * msr),
        _div(n * (f_2star * msr - mse), msc - mse + n * f_2star * msr),
    )
    return single, average


def icc(table: Any, confidence: float = 0.95) -> ICCResult:
    """The six Shrout & Fleiss intraclass correlations with F tests and CIs.

    Parameters
    ----------
    table : array_like
        Subjects × raters matrix of numbers; ``None``, NaN or ``NOT_EVALUABLE`` for not
        evaluable. A subject with any missing rating is left out (the ANOVA needs a complete
        table) and counted in ``n_excluded``.
    confidence : float
        Level of the confidence intervals.

    Returns
    -------
    ICCResult
        Undefined forms (fewer than two complete subjects or raters, no variance, a zero
        denominator) are NaN with a ``reason``; nothing raises or warns.
    """
    check_confidence(confidence)
    y_all = as_numeric(as_table(table, "icc"), "icc")
    complete = ~np.isnan(y_all).any(axis=1)
    y = y_all[complete]
    n, k = y.shape
    n_excluded = int(y_all.shape[0] - n)

    def undefined(reason: str, ms: tuple[float, float, float, float]) -> ICCResult:
        return ICCResult(
            _undefined_forms(reason), n, k, n_excluded, *ms, confidence=confidence, reason=reason
        )

    nan_ms = (NAN, NAN, NAN, NAN)
    if k < 2:
        return undefined("fewer than two raters", nan_ms)
    if n < 2:
        return undefined("fewer than two subjects were rated by every rater", nan_ms)

    grand = float(y.mean())
    row = y.mean(axis=1)
    col = y.mean(axis=0)
    msr = k * float(((row - grand) ** 2).sum()) / (n - 1)
    msc = n * float(((col - grand) ** 2).sum()) / (k - 1)
    # Residuals computed directly (not SST - SSR - SSC) so rounding cannot make them < 0.
    mse = float(((y - row[:, None] - col[None, :] + grand) ** 2).sum()) / ((n - 1) * (k - 1))
    msw = float(((y - row[:, None]) ** 2).sum()) / (n * (k - 1))
    ms = (msr, msc, mse, msw)
    scale = max(ms)
    if scale <= TINY * max(1.0, grand**2):
        return undefined("every rating is the same value: no variance, ICC undefined", ms)

    alpha = 1.0 - confidence
    df_one = (n - 1.0, n * (k - 1.0))
    df_two = (n - 1.0, (n - 1.0) * (k - 1.0))
    f1, p1 = _f_test(msr, msw, *df_one, scale)
    f3, p3 = _f_test(msr, mse, *df_two, scale)
    values = (
        _ratio(msr - msw, msr + (k - 1) * msw, scale),
        _ratio(msr - mse, msr + (k - 1) * mse + k * (msc - mse) / n, scale),
        _ratio(msr - mse, msr + (k - 1) * mse, scale),
        _ratio(msr - msw, msr, scale),
        _ratio(msr - mse, msr + (msc - mse) / n, scale),
        _ratio(msr - mse, msr, scale),
    )
    agreement = None if values[1] is None else _agreement_ci(values[1], msr, msc, mse, n, k, alpha)
    forms = []
    reason: str | None
    for i, (name, mw, short, desc) in enumerate(_FORMS):
        one_way = i in (0, 3)
        f, p, (df1, df2) = (f1, p1, df_one) if one_way else (f3, p3, df_two)
        value = values[i]
        if value is None:
            reason = "zero denominator in the ICC formula (no between-subject variance)"
            forms.append(ICCForm(name, mw, short, desc, NAN, NAN, NAN, f, df1, df2, p, reason))
            continue
        reason = None
        if i in (1, 4):
            if agreement is None:
                low, high = NAN, NAN
                reason = "confidence interval undefined (Satterthwaite df is zero)"
            else:
                low, high = agreement[0] if i == 1 else agreement[1]
        else:
            low, high = _consistency_ci(f, df1, df2, k, alpha, average=i >= 3)
        if reason is None and (math.isnan(low) or math.isnan(high)):
            reason = "confidence interval undefined for these mean squares"
        forms.append(ICCForm(name, mw, short, desc, value, low, high, f, df1, df2, p, reason))
    return ICCResult(tuple(forms), n, k, n_excluded, *ms, confidence=confidence, reason=None)
