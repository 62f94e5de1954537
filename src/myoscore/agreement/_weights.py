"""Agreement weights by position in the declared category list.

Weights are *agreement* weights (1 on the diagonal, 0 for the most distant pair), the
convention of Cohen (1968) as rewritten by Fleiss, Cohen & Everitt (1969) and of Gwet
(2014). They depend on positions only, so an unused declared category still widens the
scale, exactly as the declared list (not the observed one) defines the table.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt

Weights = Literal["linear", "quadratic"] | None
WEIGHT_KINDS: tuple[str | None, ...] = (None, "linear", "quadratic")


def check_weights(weights: object) -> None:
    """Reject a weights argument that is not ``None``, ``"linear"`` or ``"quadratic"``."""
    if weights not in WEIGHT_KINDS:
        raise ValueError(
            f"weights={weights!r}: expected None (unweighted), 'linear' or 'quadratic'"
        )


def agreement_weights(k: int, weights: Weights) -> npt.NDArray[np.float64]:
    """The k × k agreement weight matrix.

    Parameters
    ----------
    k : int
        Number of declared categories.
    weights : {None, "linear", "quadratic"}
        ``None`` gives the identity (unweighted); ``"linear"`` gives
        ``1 - |i - j| / (k - 1)`` (Cicchetti & Allison 1971); ``"quadratic"`` gives
        ``1 - (i - j)**2 / (k - 1)**2`` (Fleiss & Cohen 1973).

    Returns
    -------
    numpy.ndarray
        Float matrix with ones on the diagonal.
    """
    check_weights(weights)
    if weights is None or k < 2:
        return np.eye(k)
    pos = np.arange(k, dtype=np.float64)
    dist = np.abs(pos[:, None] - pos[None, :]) / (k - 1)
    return 1.0 - dist if weights == "linear" else 1.0 - dist**2
