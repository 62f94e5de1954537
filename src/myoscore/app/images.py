"""Loading an exam's series as Volumes, for the viewer and for exports."""

from __future__ import annotations

from pathlib import Path

from myoscore.domain import ImagingError, Series
from myoscore.imaging import Volume, load_nifti, load_series


def is_nifti(path: str) -> bool:
    return path.lower().endswith((".nii", ".nii.gz"))


def load_volume(series: Series) -> Volume:
    """Read a registered series from where it was imported (files are never copied)."""
    if not series.files:
        raise ImagingError(f"series {series.id} ({series.description or series.kind}) has no files")
    missing = [f for f in series.files if not Path(f).exists()]
    if missing:
        raise ImagingError(
            f"series {series.id} ({series.description or series.kind}): {len(missing)} of {len(series.files)} "
            f"files are no longer where they were imported from, e.g. {missing[0]}"
        )
    if is_nifti(series.files[0]):
        return load_nifti(series.files[0])
    return load_series(list(series.files))
