"""Linking views by patient coordinates (numpy only; the Qt views use it).

The views of one station (say thigh STIR and thigh T1) share one *frame*: the lead
series' in-plane axes ``u`` (its column direction, drawn to the right) and ``v`` (its
row direction, drawn downwards) and its slice normal. Every series whose slices are
parallel to the lead's is drawn in that frame, each pixel placed where it is in the
patient (an affine map per series), so zoom and pan can be linked one-to-one and the
same anatomy sits under the same screen point even with different matrices, fields of
view or flipped rows. A series in another plane is drawn in its own frame, unlinked
in plane.

Through-plane the views share one *focus point* in LPS millimetres. Each view shows
its slice nearest to the focus (no interpolation: the reader sees acquired pixels),
and states how far that slice is from it. Stepping a view moves the focus onto that
view's next slice, so the view being scrolled is always exact and the others are
within half of their own slice step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover - typing only; the image stack loads with the first read
    from myoscore.app.exam_images import Volume

__all__ = ["Frame", "SliceLink", "ViewSlice"]

#: |cos| between slice normals above which two series count as parallel.
PARALLEL = 0.995


@dataclass(frozen=True)
class Frame:
    """A drawing frame: origin and unit axes (LPS) of the screen's x, y and depth."""

    origin: np.ndarray
    u: np.ndarray  # screen right
    v: np.ndarray  # screen down
    normal: np.ndarray

    @classmethod
    def of(cls, volume: Volume) -> Frame:
        direction = volume.direction
        return cls(volume.index_to_patient((0.0, 0.0, 0.0)), direction[:, 0].copy(), direction[:, 1].copy(),
                   volume.slice_normal.copy())

    def labels(self) -> tuple[str, str, str, str]:
        """Patient-direction letters at the screen's (left, right, top, bottom) edges."""
        from myoscore.app.exam_images import direction_letters

        return (direction_letters(-self.u), direction_letters(self.u),
                direction_letters(-self.v), direction_letters(self.v))

    def transform(self, volume: Volume) -> tuple[float, float, float, float, float, float]:
        """``(m11, m12, m21, m22, dx, dy)`` of the QTransform that places image item
        coordinates of ``volume`` (pixel ``(i, j)`` spans ``[i, i+1] × [j, j+1]``) at
        frame coordinates in millimetres."""
        column, row = volume.affine[:3, 0], volume.affine[:3, 1]
        a = np.array([[column @ self.u, row @ self.u], [column @ self.v, row @ self.v]])
        p0 = volume.index_to_patient((0.0, 0.0, 0.0)) - self.origin
        b = np.array([p0 @ self.u, p0 @ self.v]) - 0.5 * a.sum(axis=1)
        return (float(a[0, 0]), float(a[1, 0]), float(a[0, 1]), float(a[1, 1]), float(b[0]), float(b[1]))

    def to_frame(self, point: np.ndarray) -> tuple[float, float]:
        """Frame coordinates (mm) of an LPS point."""
        d = np.asarray(point, dtype=float) - self.origin
        return float(d @ self.u), float(d @ self.v)


@dataclass(frozen=True)
class ViewSlice:
    """What one view shows for the current focus."""

    index: int  # slice k, 0-based
    count: int
    location: float  # mm along the frame normal of that slice's centre
    offset: float  # mm from the focus to that slice's plane (signed, along its normal)
    inside: bool  # the focus lies within the series' slab (± half a slice)


class SliceLink:
    """The shared focus of the views of one station, and each view's nearest slice.

    Parameters
    ----------
    volumes
        The station's volumes; the first one is the lead and defines the frame.
    """

    def __init__(self, volumes: Sequence[Volume]) -> None:
        if not volumes:
            raise ValueError("a station needs at least one volume")
        self.volumes = tuple(volumes)
        self.frame = Frame.of(self.volumes[0])
        self.frames = tuple(
            self.frame if abs(float(v.slice_normal @ self.frame.normal)) >= PARALLEL else Frame.of(v)
            for v in self.volumes
        )
        self._inverses = tuple(np.linalg.inv(v.affine) for v in self.volumes)
        lead = self.volumes[0]
        z, y, x = lead.shape
        self.focus = lead.index_to_patient(((x - 1) / 2.0, (y - 1) / 2.0, float(z // 2)))

    def linked_in_plane(self, view: int) -> bool:
        return self.frames[view] is self.frame

    def _slice_coordinate(self, view: int) -> float:
        """The focus's fractional slice index in a view (inverse affines computed once)."""
        inverse = self._inverses[view]
        return float(inverse[2, :3] @ self.focus + inverse[2, 3])

    def slice_of(self, view: int) -> ViewSlice:
        volume = self.volumes[view]
        n = volume.shape[0]
        k_float = self._slice_coordinate(view)
        k = int(min(max(round(k_float), 0), n - 1))
        step = float(np.linalg.norm(volume.affine[:3, 2]))
        return ViewSlice(k, n, self.location(view, k), (k_float - k) * step, -0.5 <= k_float <= n - 0.5)

    def location(self, view: int, k: int) -> float:
        """Position (mm along the frame normal) of the centre of slice ``k`` of a view."""
        volume = self.volumes[view]
        _z, y, x = volume.shape
        centre = volume.index_to_patient(((x - 1) / 2.0, (y - 1) / 2.0, float(k)))
        return float(centre @ self.frame.normal)

    def step(self, view: int, delta: int) -> bool:
        """Move the focus onto slice ``k + delta`` of ``view`` (clamped); True if it moved."""
        volume = self.volumes[view]
        current = self.slice_of(view).index
        target = int(min(max(current + delta, 0), volume.shape[0] - 1))
        index = volume.patient_to_index(self.focus)
        before = self.focus
        index[2] = float(target)
        self.focus = volume.index_to_patient(index)
        return not np.allclose(before, self.focus)

    def go_to(self, point: np.ndarray) -> None:
        """Put the focus on an LPS point (an item's largest slice, say)."""
        self.focus = np.asarray(point, dtype=float).copy()
