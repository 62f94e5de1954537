"""Intensity scaling, stated once: stored value → display value, and → real-world value.

Every DICOM frame has two mappings from its stored integer ``SV``:

display value
    ``DV = SV × RescaleSlope + RescaleIntercept`` (slope 1, intercept 0 when absent; a
    slope of 0 is treated as 1). This is what scanners' viewers show and what readers
    score; it is the default of :func:`myoscore.imaging.load_series`.
real-world value
    The quantity the scanner means, when the header says it differs from ``DV``:

    1. **Philips private scale slope** (2005,100E), creator "Philips …" — classic files
       at the top level, enhanced files in each frame's private item (2005,140F) or the
       functional groups: the Philips floating-point value
       ``FP = DV / (RescaleSlope × SS) = (SV × RS + RI) / (RS × SS)`` (Philips' and
       dcm2niix's "precise float" formula). The private scale intercept (2005,100D), when
       present, should equal ``−RI / RS`` (then ``FP = (SV − SI) / SS`` is the same
       number); if it does not, the series says so and ``FP`` uses RescaleIntercept.
    2. **Real World Value Mapping** (0040,9096), first item (top level, shared or
       per-frame functional groups): ``RWV = SV × RealWorldValueSlope +
       RealWorldValueIntercept``, units from MeasurementUnitsCodeSequence (CodeValue, a
       UCUM unit, else CodeMeaning, else LUTLabel).
    3. Otherwise the real-world value *is* the display value (units from RescaleType
       when present).

Rule 1 wins over rule 2 on Philips files: Philips writes a Real World Value Mapping
that repeats the display mapping in some software versions. Nothing else changes
intensities (no windowing, no LUT).
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from typing import Any

from myoscore.imaging.dicom_tags import PHILIPS_CREATOR, PHILIPS_SCALE_INTERCEPT, PHILIPS_SCALE_SLOPE
from myoscore.imaging.dicom_values import as_float, as_str, first_item

__all__ = ["DISPLAY", "REAL_WORLD", "VALUE_CHOICES", "Scaling", "frame_scaling", "private_float"]

DISPLAY = "display"
REAL_WORLD = "real_world"
#: The choices offered wherever a Volume is loaded (CLI ``--values``, app functions).
VALUE_CHOICES = (DISPLAY, REAL_WORLD)

_PHILIPS_PRIVATE_ITEM = 0x2005140F


@dataclass(frozen=True)
class Scaling:
    """The two mappings of one frame (see the module docstring).

    ``real_slope`` is None when the real-world value equals the display value.
    """

    slope: float = 1.0
    intercept: float = 0.0
    real_slope: float | None = None
    real_intercept: float = 0.0
    real_units: str = ""
    real_source: str = ""
    notes: tuple[str, ...] = ()

    @property
    def differs(self) -> bool:
        """True when real-world and display values are different numbers."""
        return self.real_slope is not None and not (
            math.isclose(self.real_slope, self.slope) and math.isclose(self.real_intercept, self.intercept)
        )

    def linear(self, values: str) -> tuple[float, float]:
        """``(slope, intercept)`` applied to stored values for ``values`` (display / real_world)."""
        if values == REAL_WORLD and self.real_slope is not None:
            return self.real_slope, self.real_intercept
        return self.slope, self.intercept


def private_float(
    dataset: Any, tag: int, creator_tag: int, creator_word: str, *, integer: bool = False
) -> float | None:
    """A private float (FL/FD/DS, or UN bytes of a FL) whose block creator names the vendor."""
    if dataset is None:
        return None
    try:
        creator = dataset.get_item(creator_tag)
        element = dataset.get_item(tag)
    except (KeyError, AttributeError):
        return None
    if element is None or creator is None:
        return None
    creator_value = creator.value
    if isinstance(creator_value, bytes):
        creator_value = creator_value.decode("latin-1", "replace")
    if creator_word.upper() not in str(creator_value).upper():
        return None
    value = element.value
    if isinstance(value, bytes):
        endian = "<" if getattr(element, "is_little_endian", True) is not False else ">"
        vr = getattr(element, "VR", None)
        try:
            if vr == "DS" or vr == "IS":
                return as_float(value.decode("ascii").split("\\")[0])
            if len(value) == 8 and vr == "FD":
                return float(struct.unpack(endian + "d", value)[0])
            if integer and vr in ("US", "UN", None) and len(value) == 2:
                return float(struct.unpack(endian + "H", value)[0])
            if integer and vr in ("UL", "SL") and len(value) == 4:
                return float(struct.unpack(endian + ("I" if vr == "UL" else "i"), value)[0])
            if len(value) >= 4:
                return float(struct.unpack(endian + "f", value[:4])[0])
        except (ValueError, UnicodeDecodeError, struct.error):
            return None
        return None
    if isinstance(value, (list, tuple)):
        value = value[0] if value else None
    return as_float(value)


def _philips_items(per_frame: Any, shared: Any, dataset: Any) -> list[Any]:
    """Where a Philips scale slope can be, most specific first."""
    places: list[Any] = []
    for item in (per_frame, shared):
        if item is None:
            continue
        try:
            private = item.get(_PHILIPS_PRIVATE_ITEM)
        except (KeyError, AttributeError):
            private = None
        if private is not None and getattr(private, "VR", None) == "SQ" and private.value:
            places.append(private.value[0])
        places.append(item)
    places.append(dataset)
    return places


def _real_world_item(per_frame: Any, shared: Any, dataset: Any) -> Any:
    for place in (per_frame, shared, dataset):
        item = first_item(place, "RealWorldValueMappingSequence")
        if item is not None:
            return item
    return None


def _units(item: Any) -> str:
    code = first_item(item, "MeasurementUnitsCodeSequence")
    if code is not None:
        value = as_str(code.get("CodeValue")) or as_str(code.get("CodeMeaning"))
        if value:
            return value
    return as_str(item.get("LUTLabel"))


def frame_scaling(
    dataset: Any,
    rescale_slope: float | None,
    rescale_intercept: float | None,
    *,
    per_frame: Any = None,
    shared: Any = None,
    rescale_type: str = "",
) -> Scaling:
    """The scaling of one frame from its header (``per_frame``/``shared``: enhanced groups)."""
    rs = 1.0 if rescale_slope is None or rescale_slope == 0 or not math.isfinite(rescale_slope) else rescale_slope
    ri = 0.0 if rescale_intercept is None or not math.isfinite(rescale_intercept) else rescale_intercept
    notes: list[str] = []
    for place in _philips_items(per_frame, shared, dataset):
        ss = private_float(place, PHILIPS_SCALE_SLOPE, PHILIPS_CREATOR, "PHILIPS")
        if ss is None:
            continue
        if ss == 0 or not math.isfinite(ss):
            notes.append(f"Philips scale slope (2005,100E) is {ss:g}: real-world values not available")
            break
        si = private_float(place, PHILIPS_SCALE_INTERCEPT, PHILIPS_CREATOR, "PHILIPS")
        if si is not None and math.isfinite(si) and not math.isclose(si, -ri / rs, rel_tol=1e-3, abs_tol=1e-6):
            notes.append(
                f"Philips scale intercept (2005,100D) {si:g} differs from −RescaleIntercept/RescaleSlope "
                f"{-ri / rs:g}; floating-point values use RescaleIntercept"
            )
        return Scaling(
            rs, ri, 1.0 / ss, ri / (rs * ss), "Philips FP", "Philips private scale slope (2005,100E)", tuple(notes)
        )
    item = _real_world_item(per_frame, shared, dataset)
    if item is not None:
        slope = as_float(item.get("RealWorldValueSlope"))
        intercept = as_float(item.get("RealWorldValueIntercept"))
        if slope is not None and slope != 0 and math.isfinite(slope):
            return Scaling(
                rs, ri, slope, intercept if intercept is not None and math.isfinite(intercept) else 0.0,
                _units(item), "Real World Value Mapping (0040,9096)", tuple(notes),
            )
        notes.append("Real World Value Mapping without a usable RealWorldValueSlope (a LUT?): not applied")
    return Scaling(rs, ri, None, 0.0, rescale_type if rescale_type not in ("", "US") else "", "", tuple(notes))
