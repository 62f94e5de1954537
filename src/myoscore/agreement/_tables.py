"""Count tables built from coded ratings: the paired confusion matrix and per-subject counts.

Both are single ``np.bincount`` calls over a combined integer key, which is what keeps
100 000 paired ratings well under the 100 ms budget.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from myoscore.agreement._coding import IntArray, check_declared, code_ratings, invalid_value, is_real

# Paired integer ratings spanning at most this many distinct values are counted straight
# from their values (span² cells); ordinal scales span 2-6 values.
_DIRECT_SPAN = 256


@dataclass(frozen=True)
class PairTable:
    """Confusion counts (rows reader 1, columns reader 2) over the declared categories."""

    counts: IntArray
    n_excluded: int
    categories: tuple[Hashable, ...]


def _integral_values(x: npt.NDArray[Any]) -> npt.NDArray[np.int64] | None:
    """Non-NaN values of a numeric array as int64, or None if any is not a whole number."""
    valid = x[~np.isnan(x)] if x.dtype.kind == "f" else x
    if x.dtype.kind != "f":
        return valid.astype(np.int64, copy=False)
    if not np.all(np.abs(valid) < 2.0**53):  # also rejects inf; keeps the cast exact
        return None
    as_int = valid.astype(np.int64)
    return as_int if np.array_equal(as_int, valid) else None


def _direct_table(
    a: npt.NDArray[Any], b: npt.NDArray[Any], categories: tuple[Hashable, ...] | None
) -> PairTable | None:
    """Confusion counts of two whole-number arrays without coding each rating.

    Returns None (caller falls back to general coding) when the values are not whole
    numbers, span too many values, or nothing was rated.
    """
    va, vb = _integral_values(a), _integral_values(b)
    if va is None or vb is None or va.size == 0 or vb.size == 0:
        return None
    low = min(int(va.min()), int(vb.min()))
    span = max(int(va.max()), int(vb.max())) - low + 1
    if span > _DIRECT_SPAN:
        return None
    used = np.bincount(va - low, minlength=span) + np.bincount(vb - low, minlength=span)
    present = np.flatnonzero(used)
    if categories is None:
        cats: tuple[Hashable, ...] = tuple((present + low).tolist())
        index = present
    else:
        real_cats = [c for c in categories if is_real(c)]
        if len(real_cats) != len(categories):
            raise invalid_value((present + low).tolist(), categories)
        cats = categories
        # Position of each declared category in the value span; span (one past the end,
        # a zero row after padding) for declared values nobody used outside the span.
        index = np.full(len(cats), span, dtype=np.intp)
        declared = np.zeros(span, dtype=bool)
        for position, cat in enumerate(real_cats):  # loops over the K categories only
            value = float(cat)
            if value.is_integer() and 0 <= int(value) - low < span:
                index[position] = int(value) - low
                declared[int(value) - low] = True
        undeclared = present[~declared[present]]
        if undeclared.size:
            raise invalid_value((undeclared + low).tolist(), cats)
    missing = np.zeros(a.shape, dtype=bool)
    for x in (a, b):
        if x.dtype.kind == "f":
            missing |= np.isnan(x)
    if missing.any():
        pa, pb = a[~missing].astype(np.int64), b[~missing].astype(np.int64)
    else:
        pa, pb = a.astype(np.int64, copy=False), b.astype(np.int64, copy=False)
    joint = np.bincount((pa - low) * span + (pb - low), minlength=span * span)
    padded = np.zeros((span + 1, span + 1), dtype=np.intp)
    padded[:span, :span] = joint.reshape(span, span)
    counts = padded[np.ix_(index, index)]
    return PairTable(counts, int(a.size - pa.size), cats)


def pair_table(r1: Any, r2: Any, categories: Sequence[Hashable] | None) -> PairTable:
    """Confusion counts of two readers' ratings over one category list.

    When no list is declared, the sorted union of every value either reader gave (also in
    pairs later excluded) is used, so both axes mean the same thing on every code path.
    Pairs with a not-evaluable rating on either side are excluded and counted.
    """
    cats = None if categories is None else check_declared(categories)
    a = r1 if isinstance(r1, np.ndarray) else list(r1)
    b = r2 if isinstance(r2, np.ndarray) else list(r2)
    for name, x in (("r1", a), ("r2", b)):
        if isinstance(x, np.ndarray) and x.ndim != 1:
            raise ValueError(f"{name}: expected one rating per subject (1-D), got shape {x.shape}")
    if len(a) != len(b):
        raise ValueError(
            f"r1 and r2 must rate the same subjects in the same order: {len(a)} ratings vs {len(b)}"
        )
    numeric = all(isinstance(x, np.ndarray) and x.dtype.kind in "biuf" for x in (a, b))
    if numeric:
        direct = _direct_table(np.asarray(a), np.asarray(b), cats)
        if direct is not None:
            return direct
    combined: Any = np.concatenate([a, b]) if numeric else [*a, *b]
    coded = code_ratings(combined, cats)
    c1, c2 = coded.codes[: len(a)], coded.codes[len(a) :]
    k = len(coded.categories)
    both = (c1 >= 0) & (c2 >= 0)
    counts = np.bincount(c1[both] * k + c2[both], minlength=k * k).reshape(k, k)
    return PairTable(counts.astype(np.intp), int(c1.size - both.sum()), coded.categories)


def subject_counts(codes: IntArray, k: int) -> IntArray:
    """Per-subject category counts (subjects × k) from a coded subjects × raters matrix.

    One ``bincount`` over ``subject * k + category`` replaces a loop over subjects.
    """
    n_subjects = codes.shape[0]
    subject = np.broadcast_to(np.arange(n_subjects)[:, None], codes.shape)
    valid = codes >= 0
    flat = subject[valid] * k + codes[valid]
    return np.bincount(flat, minlength=n_subjects * k).reshape(n_subjects, k).astype(np.intp)
