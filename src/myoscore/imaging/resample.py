"""Resample one Volume onto another's grid (SimpleITK), for linked STIR + T1 views.

Both volumes are in LPS, like ITK, so the identity transform maps one onto the
other: the same patient point, whatever each grid's spacing, matrix or slices.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from myoscore.domain import ImagingError
from myoscore.imaging.volume import Volume

__all__ = ["resample_like"]

Interpolation = Literal["nearest", "linear", "bspline"]


def resample_like(
    volume: Volume,
    reference: Volume,
    interpolation: Interpolation = "linear",
    fill_value: float = 0.0,
) -> Volume:
    """``volume`` resampled onto the grid (shape and affine) of ``reference``.

    Parameters
    ----------
    volume
        The image to move (e.g. T1).
    reference
        The grid to land on (e.g. STIR); its affine is copied exactly.
    interpolation
        ``"nearest"`` (keeps labels and int16), ``"linear"`` or ``"bspline"``
        (float32 results).
    fill_value
        Value for reference voxels outside ``volume``.
    """
    try:
        import SimpleITK
    except ImportError as exc:  # pragma: no cover - SimpleITK is a dependency
        raise ImportError("resample_like needs SimpleITK (pip install SimpleITK)") from exc

    interpolators = {
        "nearest": SimpleITK.sitkNearestNeighbor,
        "linear": SimpleITK.sitkLinear,
        "bspline": SimpleITK.sitkBSpline,
    }
    if interpolation not in interpolators:
        raise ImagingError(
            f"unknown interpolation {interpolation!r}; use one of {sorted(interpolators)}"
        )
    moving = volume.to_simpleitk()
    if interpolation != "nearest":
        moving = SimpleITK.Cast(moving, SimpleITK.sitkFloat32)
    grid = reference.to_simpleitk()
    resampled = SimpleITK.Resample(
        moving,
        grid,
        SimpleITK.Transform(),
        interpolators[interpolation],
        float(fill_value),
        moving.GetPixelID(),
    )
    voxels = SimpleITK.GetArrayFromImage(resampled)
    if interpolation == "nearest":
        voxels = voxels.astype(volume.voxels.dtype, copy=False)
    else:
        voxels = voxels.astype(np.float32, copy=False)
    warnings = (*volume.warnings, f"resampled ({interpolation}) onto a {reference.shape} grid")
    # The reference affine is copied, not rebuilt from ITK's (spacing, direction) pair,
    # so the two views share exactly the same geometry.
    return Volume(voxels, np.array(reference.affine), dict(volume.metadata), warnings)
