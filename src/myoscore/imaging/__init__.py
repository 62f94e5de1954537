"""DICOM and NIfTI in, :class:`Volume` out — the only place pydicom, nibabel and SimpleITK live.

Modules, one job each:

``volume``
    :class:`Volume`: voxels ``(z, y, x)`` + affine to **LPS** millimetres (the
    convention is stated there, once), orientation labels, converters.
``records``
    :class:`SeriesRecord`, :class:`SliceRef`, :class:`SkippedFile`, :class:`IndexResult`.
``dicom_index``
    :func:`index_paths`: header-only indexing of files and folders (worker processes
    for large folders, progress callback); every bad file gets a reason, none raises.
``file_walk``
    The folder walk: every regular file once, link loops and unreadable folders named.
``dicom_tags``
    Which tags are read (public and the vendors' private ones); non-image SOP classes.
``dicom_values``
    Raw header values → plain Python (fast decoding of the common VRs).
``dicom_checks``
    Per-file byte checks: DICOM without preamble, pixel element, truncation.
``dicom_header``
    One DICOM file's header → its frames (multi-frame functional groups lifted).
``series_split``
    One SeriesInstanceUID's frames → series records: split, deduplicated, ordered.
``classify``
    :func:`classify_series`: STIR / T1 / T2 / Dixon W-F-IP-OP / other, with a reason.
``geometry``
    Slice ordering along the normal; missing, duplicated and unevenly spaced slices.
``dicom_volume``
    :func:`load_series`: pixels of an indexed series, fast, rescaled, int16 or float32.
``nifti``
    :func:`inspect_nifti` (the one NIfTI validation), indexing, :func:`load_nifti`,
    :func:`write_nifti`: the RAS ↔ LPS edge.
``fingerprint``
    Is it the same image? Grids from headers and content fingerprints in one canonical
    orientation (the import's duplicate check).
``resample``
    :func:`resample_like`: one Volume on another's grid (SimpleITK), for linked views.

SimpleITK is imported lazily inside the functions that need it; pydicom and nibabel
inside the readers, so importing this package stays cheap.
"""

from myoscore.imaging.classify import classify_series, kind_from_name
from myoscore.imaging.dicom_index import index_paths
from myoscore.imaging.dicom_volume import load_series
from myoscore.imaging.nifti import load_nifti, write_nifti
from myoscore.imaging.records import IndexResult, NativePixels, SeriesRecord, SkippedFile, SliceRef
from myoscore.imaging.resample import resample_like
from myoscore.imaging.volume import LPS_TO_RAS, OrientationLabels, Volume, direction_letters

__all__ = [
    "LPS_TO_RAS",
    "IndexResult",
    "NativePixels",
    "OrientationLabels",
    "SeriesRecord",
    "SkippedFile",
    "SliceRef",
    "Volume",
    "classify_series",
    "direction_letters",
    "index_paths",
    "kind_from_name",
    "load_nifti",
    "load_series",
    "resample_like",
    "write_nifti",
]
