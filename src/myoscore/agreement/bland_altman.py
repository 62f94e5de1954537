"""Bland-Altman bias and limits of agreement between two readers' continuous scores.

References
----------
Bland JM, Altman DG (1986). Statistical methods for assessing agreement between two methods
of clinical measurement. Lancet 327:307-310.
Bland JM, Altman DG (1999). Measuring agreement in method comparison studies. Stat Methods
Med Res 8:135-160 (standard errors of the bias and of the limits).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from myoscore.agreement._coding import as_numeric
from myoscore.agreement._intervals import check_confidence, t_critical

NAN = math.nan


@dataclass(frozen=True)
class BlandAltmanResult:
    """Bias (mean of x - y) and limits of agreement; see ``docs/agreement.md``."""

    bias: float
    sd: float
    loa_low: float
    loa_high: float
    multiplier: float
    bias_ci_low: float
    bias_ci_high: float
    loa_low_ci: tuple[float, float]
    loa_high_ci: tuple[float, float]
    n: int
    n_excluded: int
    confidence: float
    reason: str | None


def bland_altman(
    x: Any, y: Any, multiplier: float = 1.96, confidence: float = 0.95
) -> BlandAltmanResult:
    """Bland-Altman analysis of paired continuous scores.

    Parameters
    ----------
    x, y : array_like
        The two readers' scores for the same subjects in the same order; ``None``, NaN or
        ``NOT_EVALUABLE`` for not evaluable (excluded pairwise, counted in ``n_excluded``).
    multiplier : float
        Limits are ``bias ± multiplier · sd``; 1.96 by default (Bland & Altman 1986 used 2).
    confidence : float
        Level of the t-based CIs of the bias and of each limit.

    Returns
    -------
    BlandAltmanResult
        ``bias`` is mean(x - y). CIs: bias ± t·sd/√n and limit ± t·√3·sd/√n (Bland & Altman
        1986, 1999). Fewer than two pairs gives NaN with a ``reason``.
    """
    check_confidence(confidence)
    a = as_numeric(x, "bland_altman x").ravel()
    b = as_numeric(y, "bland_altman y").ravel()
    if a.size != b.size:
        raise ValueError(
            f"x and y must score the same subjects in the same order: {a.size} vs {b.size} values"
        )
    keep = ~(np.isnan(a) | np.isnan(b))
    d = a[keep] - b[keep]
    n = int(d.size)
    n_excluded = int(a.size - n)
    if n < 2:
        reason = "no subject was scored by both readers" if n == 0 else "fewer than two pairs"
        bias = float(d.mean()) if n else NAN
        return BlandAltmanResult(
            bias, NAN, NAN, NAN, multiplier, NAN, NAN, (NAN, NAN), (NAN, NAN),
            n, n_excluded, confidence, reason,
        )  # fmt: skip
    bias = float(d.mean())
    sd = float(d.std(ddof=1))
    low, high = bias - multiplier * sd, bias + multiplier * sd
    tc = t_critical(confidence, n - 1)
    se_bias = sd / math.sqrt(n)
    se_limit = math.sqrt(3.0) * sd / math.sqrt(n)
    return BlandAltmanResult(
        bias=bias,
        sd=sd,
        loa_low=low,
        loa_high=high,
        multiplier=multiplier,
        bias_ci_low=bias - tc * se_bias,
        bias_ci_high=bias + tc * se_bias,
        loa_low_ci=(low - tc * se_limit, low + tc * se_limit),
        loa_high_ci=(high - tc * se_limit, high + tc * se_limit),
        n=n,
        n_excluded=n_excluded,
        confidence=confidence,
        reason=None,
    )
