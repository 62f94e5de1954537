"""Agreement statistics between readers: numpy only (scipy for distributions).

Every function takes ratings as given by readers: level codes (``"0"``, ``"2a"``) or
numbers, with ``None``, NaN or :data:`myoscore.domain.NOT_EVALUABLE` for a rating that
could not be given. Not-evaluable ratings are excluded pairwise and counted in each result;
undefined statistics are NaN with a ``reason`` and never raise. Multi-rater functions take
one orientation: a subjects × raters matrix.

Modules
-------
``_coding``
    Category coding (declared list, positions) and missing-value handling.
``_weights``
    Linear and quadratic agreement weights by position.
``kappa``
    :func:`cohen_kappa`, :func:`percent_agreement`, :func:`fleiss_kappa`.
``gwet``
    :func:`gwet_ac` (AC1, AC2).
``krippendorff``
    :func:`krippendorff_alpha` (nominal, ordinal, interval).
``icc``
    :func:`icc`, the six Shrout & Fleiss forms.
``bland_altman``
    :func:`bland_altman`, bias and limits of agreement.

See ``docs/agreement.md`` for every result field, the formulas and their references.
"""

from myoscore.agreement.bland_altman import BlandAltmanResult, bland_altman
from myoscore.agreement.gwet import GwetResult, gwet_ac
from myoscore.agreement.icc import ICCForm, ICCResult, icc
from myoscore.agreement.kappa import (
    FleissResult,
    KappaResult,
    cohen_kappa,
    fleiss_kappa,
    percent_agreement,
)
from myoscore.agreement.krippendorff import AlphaResult, krippendorff_alpha

__all__ = [
    "AlphaResult",
    "BlandAltmanResult",
    "FleissResult",
    "GwetResult",
    "ICCForm",
    "ICCResult",
    "KappaResult",
    "bland_altman",
    "cohen_kappa",
    "fleiss_kappa",
    "gwet_ac",
    "icc",
    "krippendorff_alpha",
    "percent_agreement",
]
