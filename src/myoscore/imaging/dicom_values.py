"""Header values as plain Python: the raw decoding indexing needs, nothing else.

pydicom's element conversion costs ~15 µs per element; :class:`RawHeader` decodes the
handful of simple value representations read for every file straight from the raw
bytes and leaves anything unusual to pydicom. The ``as_*`` helpers turn a value (or
None) into the type a rule needs, or None when it is missing or malformed.
"""

from __future__ import annotations

import struct
from typing import Any, ClassVar

import numpy as np

from myoscore.imaging.dicom_tags import tag_of

__all__ = [
    "RawHeader",
    "as_float",
    "as_floats",
    "as_int",
    "as_point",
    "as_str",
    "as_tokens",
    "first_item",
    "plain",
]


def as_str(value: Any) -> str:
    if value is None:
        return ""
    return str(value).strip()


def as_float(value: Any) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def as_int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def as_floats(value: Any, count: int) -> tuple[float, ...] | None:
    if value is None:
        return None
    try:
        numbers = tuple(float(v) for v in value)
    except (TypeError, ValueError):
        return None
    if len(numbers) != count or not all(np.isfinite(numbers)):
        return None
    return numbers


def as_point(value: Any) -> tuple[float, float, float] | None:
    """A position in patient space (three finite numbers), or None."""
    numbers = as_floats(value, 3)
    return None if numbers is None else (numbers[0], numbers[1], numbers[2])


def as_tokens(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(t.strip().upper() for t in value.split("\\") if t.strip())
    try:
        return tuple(str(t).strip().upper() for t in value if str(t).strip())
    except TypeError:
        return (str(value).strip().upper(),)


def plain(value: Any) -> Any:
    """A pydicom value as plain Python (str, float, int or tuple of them)."""
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value) if isinstance(value, float) else int(value)
    if isinstance(value, (str, bytes)):
        return as_str(value.decode("ascii", "replace") if isinstance(value, bytes) else value)
    try:
        return tuple(plain(v) for v in value)
    except TypeError:
        return as_str(value)


def first_item(dataset: Any, *keywords: str) -> Any:
    """Follow nested one-item sequences: ``first_item(ds, "PixelMeasuresSequence")``."""
    current = dataset
    for keyword in keywords:
        seq = getattr(current, keyword, None) if current is not None else None
        if not seq:
            return None
        current = seq[0]
    return current


_TEXT_VRS = {"UI", "CS", "DA", "TM", "AS", "AE"}
_NUMBER_VRS = {"DS": float, "IS": int}
_BINARY_VRS = {"US": "H", "UL": "I", "SS": "h", "SL": "i", "FL": "f", "FD": "d"}


class RawHeader:
    """Plain values of a header read with ``specific_tags``.

    pydicom's element conversion costs ~15 µs per element; the handful of simple
    value representations read for every file (UIDs, code strings, decimal and
    integer strings, binary integers) are decoded here straight from the raw bytes,
    which more than doubles indexing speed. Anything else (person names, text in a
    specific character set, sequences, unexpected VRs) goes through pydicom.
    """

    _vr_cache: ClassVar[dict[int, str]] = {}

    def __init__(self, dataset: Any) -> None:
        self.dataset = dataset
        # The raw elements by integer tag: Dataset.get_item converts its key to a Tag on
        # every call, a fifth of the indexing time for the ~25 reads per file.
        elements = getattr(dataset, "_dict", None)
        self._elements: Any = elements if isinstance(elements, dict) else None
        self._values: dict[str, Any] = {}

    def __contains__(self, keyword: str) -> bool:
        return keyword in self.dataset

    @classmethod
    def _dictionary_vr(cls, tag: int) -> str:
        vr = cls._vr_cache.get(tag)
        if vr is None:
            from pydicom.datadict import dictionary_VR

            try:
                vr = dictionary_VR(tag)
            except KeyError:
                vr = ""
            cls._vr_cache[tag] = vr
        return vr

    def get(self, keyword: str, default: Any = None) -> Any:
        if keyword in self._values:
            value = self._values[keyword]
            return default if value is None else value
        value = self._get(keyword)
        self._values[keyword] = value
        return default if value is None else value

    def _get(self, keyword: str) -> Any:
        tag = tag_of()[keyword]
        element = self._elements.get(tag) if self._elements is not None else self.dataset.get_item(tag)
        if element is None:
            return None
        raw_value = getattr(element, "value", None)
        vr = self._dictionary_vr(tag)
        if isinstance(raw_value, bytes) and element.VR in (None, vr):
            try:
                return self._decode(raw_value, vr, element.is_little_endian)
            except (ValueError, struct.error, UnicodeDecodeError):
                pass  # unusual bytes: let pydicom decide (and warn)
        return plain(self.dataset.get(keyword))

    @staticmethod
    def _decode(raw_value: bytes, vr: str, little_endian: bool) -> Any:
        if vr in _TEXT_VRS or vr in _NUMBER_VRS:
            parts = [p.strip(" \x00") for p in raw_value.decode("ascii").split("\\")]
            if vr in _NUMBER_VRS:
                convert = _NUMBER_VRS[vr]
                numbers = tuple(convert(p if vr == "DS" else float(p)) for p in parts if p)
                if not numbers:
                    return None
                return numbers[0] if len(numbers) == 1 else numbers
            texts = tuple(p for p in parts)
            return texts[0] if len(texts) == 1 else texts
        if vr in _BINARY_VRS:
            code = _BINARY_VRS[vr]
            count = len(raw_value) // struct.calcsize(code)
            values = struct.unpack(("<" if little_endian else ">") + code * count, raw_value)
            return values[0] if count == 1 else values
        raise ValueError(vr)
