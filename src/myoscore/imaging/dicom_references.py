"""The UIDs of a series' instances, read from headers only (for SR evidence and fetching)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger(__name__)

__all__ = ["instance_uids"]


def instance_uids(files: Iterable[str | Path]) -> list[tuple[str, str, str, str]]:
    """``(study UID, series UID, SOP class UID, SOP instance UID)`` of each readable DICOM
    file; files that are missing or not DICOM are skipped (and logged)."""
    import pydicom
    from pydicom.errors import InvalidDicomError

    tags = ["StudyInstanceUID", "SeriesInstanceUID", "SOPClassUID", "SOPInstanceUID"]
    out = []
    for name in files:
        try:
            ds = pydicom.dcmread(name, stop_before_pixels=True, specific_tags=tags)
            out.append((str(ds.StudyInstanceUID), str(ds.SeriesInstanceUID), str(ds.SOPClassUID),
                        str(ds.SOPInstanceUID)))
        except (OSError, InvalidDicomError, AttributeError) as exc:
            log.warning("no UIDs from %s: %s", name, exc)
    return out
