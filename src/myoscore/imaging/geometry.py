"""Slice-stack geometry shared by the indexer and the loader: normals, ordering, gaps.

Positions are LPS millimetres (see :mod:`myoscore.imaging.volume`). A slice's
*location* is the projection of its ``ImagePositionPatient`` on the slice normal
(row direction × column direction); stacks are ordered by it, ascending.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["StackPlan", "plan_stack", "slice_normal"]

#: Relative deviation of one slice step from the typical step that is still "even".
EVEN_TOLERANCE = 0.01
#: Relative deviation up to which an uneven stack is still built (with a warning),
#: using the mean step; above it the loader refuses.
BUILD_TOLERANCE = 0.10
#: Two slices closer than this fraction of the typical step share a position.
DUPLICATE_TOLERANCE = 0.05


def slice_normal(orientation: npt.ArrayLike) -> np.ndarray:
    """Unit normal of a slice from ``ImageOrientationPatient`` (row × column cosines)."""
    iop = np.asarray(orientation, dtype=np.float64)
    normal = np.cross(iop[:3], iop[3:6])
    norm = np.linalg.norm(normal)
    if norm < 1e-6:
        raise ValueError(f"ImageOrientationPatient {list(iop)} has parallel row and column axes")
    return normal / norm


@dataclass(frozen=True)
class StackPlan:
    """Where each sorted slice goes in a regular volume.

    Attributes
    ----------
    slots
        For each slice (in ascending location order) its index k in the volume.
    n_slots
        Number of slices of the volume (more than the slices when some are missing).
    step
        Distance between consecutive slots along the normal in mm (0 for one slice).
    issues
        Human-readable problems, each naming locations in mm (and the labels given).
    fatal
        Why no regular volume can be built (duplicates, very uneven spacing), or None.
    """

    slots: tuple[int, ...]
    n_slots: int
    step: float
    issues: tuple[str, ...]
    fatal: str | None


def _mm(value: float) -> str:
    return f"{value:.2f} mm"


def plan_stack(locations: Sequence[float], labels: Sequence[str] | None = None) -> StackPlan:
    """Plan a regular stack from ascending slice locations.

    Parameters
    ----------
    locations
        Slice locations in mm along the normal, sorted ascending.
    labels
        Optional name of each slice (a file name) to quote in the issues.
    """
    locs = np.asarray(locations, dtype=np.float64)
    n = len(locs)
    names = list(labels) if labels is not None else [f"slice {i + 1}" for i in range(n)]
    if n <= 1:
        return StackPlan(tuple(range(n)), n, 0.0, (), None)
    diffs = np.diff(locs)
    span = float(locs[-1] - locs[0])
    issues: list[str] = []

    # Duplicates first: they make the typical step meaningless.
    positive = diffs[diffs > 1e-6]
    typical = float(np.median(positive)) if positive.size else 0.0
    duplicate_limit = max(1e-3, DUPLICATE_TOLERANCE * typical)
    duplicates = np.flatnonzero(diffs < duplicate_limit)
    if duplicates.size:
        shown = [f"{_mm(locs[i])} ({names[i]}, {names[i + 1]})" for i in duplicates[:5]]
        more = f" and {duplicates.size - 5} more" if duplicates.size > 5 else ""
        message = f"duplicated slice positions: {'; '.join(shown)}{more}"
        return StackPlan(tuple(range(n)), n, typical, (message,), message)

    # Gaps that are whole multiples of the typical step are missing slices.
    ratios = diffs / typical
    multiples = np.rint(ratios)
    missing_gaps = np.flatnonzero(
        (multiples >= 2) & (np.abs(ratios - multiples) <= BUILD_TOLERANCE)
    )
    slot_steps = np.ones(n - 1, dtype=np.int64)
    slot_steps[missing_gaps] = multiples[missing_gaps].astype(np.int64)
    for i in missing_gaps:
        count = int(multiples[i]) - 1
        issues.append(
            f"missing slice{'s' if count > 1 else ''}: {count} between "
            f"{_mm(locs[i])} ({names[i]}) and {_mm(locs[i + 1])} ({names[i + 1]}), "
            f"expected step {_mm(typical)}"
        )
    slots = np.concatenate([[0], np.cumsum(slot_steps)])
    n_slots = int(slots[-1]) + 1
    step = span / (n_slots - 1)

    fatal: str | None = None
    total_missing = n_slots - n
    if total_missing > max(2, n // 2):
        fatal = (
            f"{total_missing} slices missing for {n} present: these look like separate "
            f"stacks ({_mm(locs[0])} to {_mm(locs[-1])}), not one series"
        )
        issues.append(fatal)

    # Deviation of each slice from the regular grid the slots define.
    grid = locs[0] + slots * step
    deviation = np.abs(locs - grid)
    worst = int(np.argmax(deviation))
    relative = float(deviation[worst] / step) if step > 0 else 0.0
    if relative > EVEN_TOLERANCE:
        effective = diffs / slot_steps
        message = (
            f"uneven slice spacing: steps {_mm(float(effective.min()))} to "
            f"{_mm(float(effective.max()))}; slice at {_mm(locs[worst])} ({names[worst]}) is "
            f"{_mm(float(deviation[worst]))} off a regular {_mm(step)} grid"
        )
        if relative > BUILD_TOLERANCE and fatal is None:
            fatal = message
        issues.append(message)
    return StackPlan(tuple(int(s) for s in slots), n_slots, step, tuple(issues), fatal)
