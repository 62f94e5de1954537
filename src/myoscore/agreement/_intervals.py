"""Critical values and small numeric guards shared by the statistics.

Every statistic reports undefined results as NaN with a reason; these helpers make the
divisions that could be 0/0 explicit instead of letting numpy warn (warnings are errors in
the test suite, and a silent NaN would hide the reason).
"""

from __future__ import annotations

import math
from statistics import NormalDist

# scipy.stats is imported inside the functions that need the t and F distributions: it
# costs most of a second to import, and the workstation starts without it.

# Below this a chance-agreement complement (1 - p_e) or a disagreement is treated as zero:
# the ratio it divides is numerically meaningless well before it is exactly 0.
TINY = 1e-12


def check_confidence(confidence: float) -> None:
    """Reject a confidence level outside (0, 1)."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence={confidence!r}: expected a level between 0 and 1, e.g. 0.95")


def z_critical(confidence: float) -> float:
    """Two-sided standard-normal critical value (1.959964 for 0.95)."""
    return NormalDist().inv_cdf(0.5 + confidence / 2.0)


def t_critical(confidence: float, df: float) -> float:
    """Two-sided Student-t critical value with ``df`` degrees of freedom."""
    from scipy import stats

    return float(stats.t.ppf(0.5 + confidence / 2.0, df))


def two_sided_normal_p(z: float) -> float:
    """Two-sided p-value of a standard-normal statistic (NaN stays NaN)."""
    if math.isnan(z):
        return math.nan
    # erfc keeps full precision far in the tail, where 1 - cdf would round to 0.
    return math.erfc(abs(z) / math.sqrt(2.0))


def clip_unit(value: float) -> float:
    """Clip a kappa-type confidence bound to [-1, 1], the range of the coefficient."""
    if math.isnan(value):
        return value
    return min(1.0, max(-1.0, value))


def sqrt_nonneg(variance: float) -> float:
    """Square root of a variance that rounding may have pushed a hair below zero."""
    if math.isnan(variance):
        return variance
    return math.sqrt(max(variance, 0.0))
