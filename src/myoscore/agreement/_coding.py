"""Category coding and not-evaluable handling shared by every agreement statistic.

Ratings arrive as level codes (``"0"``, ``"2a"``, ``3``) or numbers, with ``None``, NaN or
:data:`myoscore.domain.NOT_EVALUABLE` for a rating that could not be given. Every
categorical statistic works on small integers instead: the *position* of each rating in the
declared category list, and :data:`MISSING` for not evaluable. Coding once, without a
Python-level loop per rating, is what keeps 100 000 ratings in the millisecond range.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from itertools import repeat
from numbers import Real
from typing import Any, Protocol, TypeGuard

import numpy as np
import numpy.typing as npt

from myoscore.domain import NOT_EVALUABLE, InvalidValue

#: Code of a not-evaluable (missing) rating after coding.
MISSING = -1
# Code a value gets when it is neither a declared category nor a missing marker; it never
# survives coding (either it is a NaN, hence missing, or it is reported as invalid).
_UNKNOWN = -2

IntArray = npt.NDArray[np.intp]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Coded:
    """Ratings as positions in ``categories``; :data:`MISSING` where not evaluable."""

    codes: IntArray
    categories: tuple[Hashable, ...]


class RealNumber(Protocol):
    """What the statistics do with a real category: ``float(x)``, and ``int(x)`` once whole."""

    def __float__(self) -> float: ...
    def __int__(self) -> int: ...


def is_real(value: object) -> TypeGuard[RealNumber]:
    """``isinstance(value, numbers.Real)``, in a form the type checker follows.

    typeshed gives ``numbers.Real`` ``__hash__ = None`` and no ``__int__``, so mypy takes a
    ``Hashable`` that is a ``Real`` for impossible (and skips the branch behind a plain
    ``isinstance``) and rejects ``int(x)``. Every real type met here (int, float, Fraction,
    numpy scalars) has ``__int__``.
    """
    return isinstance(value, Real)


def is_missing(value: object) -> bool:
    """Whether one raw rating means "not evaluable" (``None``, NaN or ``NOT_EVALUABLE``)."""
    if value is None:
        return True
    if isinstance(value, float | np.floating):
        return bool(math.isnan(value))
    return isinstance(value, str) and value == NOT_EVALUABLE


def check_declared(categories: Sequence[Hashable]) -> tuple[Hashable, ...]:
    """The declared category list as a tuple; rejects empty, repeated or missing entries."""
    cats = tuple(categories)
    if not cats:
        raise ValueError("categories: the declared category list is empty")
    if any(is_missing(c) for c in cats):
        raise ValueError(
            f"categories: {list(cats)!r} contains a missing marker (None, NaN or "
            f"{NOT_EVALUABLE!r}); not evaluable is never a category"
        )
    if len(set(cats)) != len(cats):
        raise ValueError(f"categories: {list(cats)!r} lists a category twice")
    return cats


def invalid_value(bad: Sequence[object], cats: tuple[Hashable, ...]) -> InvalidValue:
    """The error for ratings outside the declared scale, naming (up to five of) them."""
    shown = sorted({repr(b) for b in bad})[:5]
    return InvalidValue(
        f"rating value(s) {', '.join(shown)} are not in the declared categories {list(cats)!r}"
    )


def _sorted_observed(values: set[Any]) -> tuple[Hashable, ...]:
    try:
        return tuple(sorted(values))
    except TypeError:
        raise ValueError(
            "ratings mix value types that cannot be ordered "
            f"({sorted({type(v).__name__ for v in values})}); pass categories= explicitly"
        ) from None


# Integer ratings spanning at most this many values are coded through a lookup table
# (one gather, O(n)) instead of sorting; scales are 0-5, so this is the usual path.
_LUT_SPAN = 1 << 16


def _code_small_ints(
    valid: npt.NDArray[np.int64], categories: tuple[Hashable, ...] | None
) -> tuple[IntArray, tuple[Hashable, ...]] | None:
    """Code integer ratings through a lookup table; None if the value span is too wide."""
    if valid.size == 0:
        return None
    low, high = int(valid.min()), int(valid.max())
    if high - low >= _LUT_SPAN:
        return None
    shifted = valid - low
    if categories is None:
        present = np.flatnonzero(np.bincount(shifted, minlength=high - low + 1))
        cats: tuple[Hashable, ...] = tuple((present + low).tolist())
        lut = np.full(high - low + 1, _UNKNOWN, dtype=np.intp)
        lut[present] = np.arange(present.size)
        return lut[shifted], cats
    lut = np.full(high - low + 1, _UNKNOWN, dtype=np.intp)
    for position, cat in enumerate(categories):  # loops over the K categories only
        if is_real(cat) and float(cat).is_integer():
            if low <= int(cat) <= high:
                lut[int(cat) - low] = position
        elif not is_real(cat):
            raise invalid_value(np.unique(valid).tolist(), categories)
    codes = lut[shifted]
    if (codes == _UNKNOWN).any():
        raise invalid_value(np.unique(valid[codes == _UNKNOWN]).tolist(), categories)
    return codes, categories


def _code_numeric(flat: npt.NDArray[Any], categories: tuple[Hashable, ...] | None) -> Coded:
    """Code a numeric array: NaN is missing, the rest is matched by value."""
    if flat.dtype.kind == "f":
        valid_mask: npt.NDArray[np.bool_] | None = ~np.isnan(flat)
        valid = flat[valid_mask]
        # Whole-number floats (NaN-padded integer scores) take the integer path; the range
        # check keeps the cast exact and free of "invalid value" warnings.
        integral = bool(valid.size) and bool(np.all(np.abs(valid) < 2.0**53))
        as_int = valid.astype(np.int64) if integral else np.empty(0, dtype=np.int64)
        integral = integral and bool(np.array_equal(as_int, valid))
    else:
        valid_mask, valid = None, flat
        as_int = valid.astype(np.int64, copy=False)
        integral = True
    fast = _code_small_ints(as_int, categories) if integral else None
    if fast is not None:
        valid_codes, cats = fast
    else:
        valid_codes, cats = _code_sorted(valid, categories)
    if valid_mask is None:
        return Coded(valid_codes.astype(np.intp, copy=False), cats)
    codes = np.full(flat.shape, MISSING, dtype=np.intp)
    codes[valid_mask] = valid_codes
    return Coded(codes, cats)


def _code_sorted(
    valid: npt.NDArray[Any], categories: tuple[Hashable, ...] | None
) -> tuple[IntArray, tuple[Hashable, ...]]:
    """Code numbers of any spread by binary search over the sorted category values."""
    if categories is None:
        cat_values = np.unique(valid)
        cats: tuple[Hashable, ...] = tuple(cat_values.tolist())
    else:
        cats = categories
        try:
            cat_values = np.asarray(cats, dtype=np.float64)
        except (TypeError, ValueError):
            # Numbers rated against a non-numeric scale ("0", "2a"): none can match.
            raise invalid_value(np.unique(valid).tolist(), cats) from None
    if valid.size == 0:
        return np.empty(0, dtype=np.intp), cats
    order = np.argsort(cat_values, kind="stable")
    sorted_values = cat_values[order]
    pos = np.minimum(np.searchsorted(sorted_values, valid), sorted_values.size - 1)
    matched = sorted_values[pos] == valid
    if not matched.all():
        raise invalid_value(np.unique(valid[~matched]).tolist(), cats)
    return order[pos], cats


def _code_objects(values: list[Any], categories: tuple[Hashable, ...] | None) -> Coded:
    """Code arbitrary hashable values (strings, mixed numbers, None) through a dict."""
    if categories is None:
        try:
            distinct = set(values)
        except TypeError as exc:
            raise ValueError(f"ratings must be hashable level codes or numbers: {exc}") from None
        # The loop runs over distinct values (a handful), not over ratings.
        # numpy scalars become Python scalars so the result shows 3, not np.int64(3);
        # they hash and compare equal, so the lookup below still matches them.
        cats = _sorted_observed(
            {v.item() if isinstance(v, np.generic) else v for v in distinct if not is_missing(v)}
        )
    else:
        cats = categories
    lookup: dict[Any, int] = {c: i for i, c in enumerate(cats)}
    lookup.setdefault(None, MISSING)
    lookup.setdefault(NOT_EVALUABLE, MISSING)
    n = len(values)
    try:
        # map() over a bound dict method iterates in C: no Python bytecode per rating.
        codes = np.fromiter(map(lookup.get, values, repeat(_UNKNOWN, n)), dtype=np.intp, count=n)
    except TypeError as exc:
        raise ValueError(f"ratings must be hashable level codes or numbers: {exc}") from None
    unknown = np.flatnonzero(codes == _UNKNOWN)
    if unknown.size:
        # NaN != NaN defeats the dict lookup, so NaN ratings land here with any invalid
        # value; this loop only visits those, never the well-formed ratings.
        bad = [values[i] for i in unknown.tolist() if not is_missing(values[i])]
        if bad:
            raise invalid_value(bad, cats)
        codes[unknown] = MISSING
    return Coded(codes, cats)


def code_ratings(values: Any, categories: Sequence[Hashable] | None = None) -> Coded:
    """Code ratings of any shape as category positions.

    Parameters
    ----------
    values : array_like
        Level codes or numbers; ``None``, NaN or ``NOT_EVALUABLE`` for not evaluable.
    categories : sequence, optional
        The declared, ordered category list. When omitted, the sorted set of observed
        (non-missing) values is used.

    Returns
    -------
    Coded
        ``codes`` has the shape of ``values``.

    Raises
    ------
    myoscore.domain.InvalidValue
        A rating is not one of the declared categories.
    ValueError
        The declared list is empty or repeats a category, or observed values of different
        types cannot be ordered.
    """
    cats = None if categories is None else check_declared(categories)
    if isinstance(values, np.ndarray) and values.dtype.kind in "biuf":
        coded = _code_numeric(values.ravel(), cats)
        return Coded(coded.codes.reshape(values.shape), coded.categories)
    if isinstance(values, list | tuple) and (
        not values or not isinstance(values[0], list | tuple | np.ndarray)
    ):
        # A flat list (the common case: one reader's ratings) needs no array round trip.
        coded = _code_objects(list(values), cats)
        return Coded(coded.codes, coded.categories)
    nested = values if isinstance(values, np.ndarray) else np.asarray(values, dtype=object)
    coded = _code_objects(nested.ravel().tolist(), cats)
    return Coded(coded.codes.reshape(nested.shape), coded.categories)


def as_numeric(values: Any, what: str) -> FloatArray:
    """Numbers as float64 with NaN for not evaluable (``None``, NaN, ``NOT_EVALUABLE``)."""
    if isinstance(values, np.ndarray) and values.dtype.kind in "biuf":
        return values.astype(np.float64)
    try:
        # numpy turns None into NaN for a float dtype: the common case needs no loop.
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        pass
    # Something else is in there (NOT_EVALUABLE, or a value that is not a number): sort the
    # ratings one by one so the error, if any, names the culprit.
    nested = np.asarray(values, dtype=object)
    flat = nested.ravel().tolist()
    out = np.full(len(flat), np.nan)
    for i, value in enumerate(flat):
        if is_missing(value):
            continue
        try:
            out[i] = float(value)
        except (TypeError, ValueError):
            raise ValueError(
                f"{what}: rating {value!r} is not a number (use None for not evaluable)"
            ) from None
    return out.reshape(nested.shape)


def as_table(table: Any, what: str) -> Any:
    """Check a subjects × raters matrix and return it as an array (object or numeric)."""
    arr = table if isinstance(table, np.ndarray) else np.asarray(table, dtype=object)
    if arr.ndim != 2:
        raise ValueError(
            f"{what}: expected a subjects × raters matrix (2-D), got {arr.ndim} dimension(s)"
        )
    return arr
