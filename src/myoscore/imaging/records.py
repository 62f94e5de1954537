"""What indexing produces: series records, their slices, and the files it skipped.

Plain frozen dataclasses, no I/O: :mod:`myoscore.imaging.dicom_index` builds them,
:mod:`myoscore.imaging.dicom_volume` and the store consume them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from myoscore.domain import Sequence

__all__ = ["IndexResult", "NativePixels", "ProgressCallback", "SeriesRecord", "SkippedFile", "SliceRef"]

#: ``progress(done, total)``: files whose header has been read, of all files found.
ProgressCallback = Callable[[int, int], None]

@dataclass(frozen=True)
class SkippedFile:
    """A file or folder that was not indexed, and why (a sentence for the user)."""

    path: Path
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


@dataclass(frozen=True)
class NativePixels:
    """Where a slice's uncompressed pixel bytes are, so the loader can read them directly.

    ``file_size`` and ``mtime_ns`` are the file's state at index time; if either
    changed the loader falls back to a full pydicom read.
    """

    offset: int
    dtype: str
    bits_stored: int
    file_size: int
    mtime_ns: int


@dataclass(frozen=True)
class SliceRef:
    """One 2-D image of a series: a single-frame file or one frame of a multi-frame file."""

    path: Path
    frame: int | None
    position: tuple[float, float, float]
    location: float
    instance_number: int | None
    rescale_slope: float = 1.0
    rescale_intercept: float = 0.0
    dtype: str = "uint16"
    native: NativePixels | None = field(default=None, repr=False, compare=False)
    #: Stored value → real-world value (:mod:`myoscore.imaging.scaling`); None: the
    #: real-world value is the display value (stored × rescale slope + intercept).
    real_slope: float | None = None
    real_intercept: float = 0.0

    @property
    def label(self) -> str:
        """File name, with the frame number for multi-frame files (for messages)."""
        return self.path.name if self.frame is None else f"{self.path.name}[frame {self.frame + 1}]"


@dataclass(frozen=True)
class SeriesRecord:
    """One series (or one part of a split series) as found by :func:`index_paths`.

    Attributes
    ----------
    study_uid, series_uid, split
        DICOM StudyInstanceUID and SeriesInstanceUID, and ``""`` or ``"#1"``, ``"#2"``…
        when the series had to be split; :attr:`key` joins the last two. NIfTI files get
        ``"nifti:<folder>"`` and ``"nifti:<file>"``.
    source
        ``"dicom"`` or ``"nifti"``.
    kind, kind_reason
        The sequence classification and the one-line reason for it.
    paths, slices
        Files in slice order; for DICOM one :class:`SliceRef` per image (frame).
    shape, spacing, orientation
        ``(z, y, x)`` of the volume the loader will build (missing slices included),
        voxel size ``(x, y, z)`` in mm, and ImageOrientationPatient (6 cosines, LPS).
    affine
        NIfTI: the voxel → LPS affine of the header, row by row (16 numbers); empty for
        DICOM, whose affine follows from the slices (:func:`~myoscore.imaging.fingerprint.record_grid`).
    issues
        Problems that did not stop indexing (missing slice, uneven spacing, split
        reasons, header warnings), each naming files and positions.
    header
        Non-identifying header fields (TR, TE, TI, ImageType, field strength, scanner
        model, transfer syntax…) used for classification and Volume metadata.
    patient_id, patient_name, birth_date, study_date
        **Identifying.** Kept only so the store can pseudonymise them; hidden from
        ``repr``; never shown to readers or copied into a Volume.
    """

    study_uid: str
    series_uid: str
    split: str
    source: str
    modality: str
    description: str
    protocol_name: str
    series_number: int | None
    kind: Sequence
    kind_reason: str
    paths: tuple[Path, ...]
    slices: tuple[SliceRef, ...]
    shape: tuple[int, int, int]
    spacing: tuple[float, float, float]
    orientation: tuple[float, ...]
    issues: tuple[str, ...] = ()
    affine: tuple[float, ...] = field(default=(), repr=False)
    split_reason: str = ""
    header: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)
    patient_id: str = field(default="", repr=False)
    patient_name: str = field(default="", repr=False)
    birth_date: str = field(default="", repr=False)
    study_date: str = field(default="", repr=False)

    @property
    def key(self) -> str:
        """Stable identity of this (part of a) series: series UID plus split suffix."""
        return f"{self.series_uid}{self.split}"

    @property
    def n_files(self) -> int:
        return len(self.paths)

    @property
    def folder(self) -> Path:
        """The folder holding the first file (where the series is read in place)."""
        return self.paths[0].parent


@dataclass(frozen=True)
class IndexResult:
    """Everything :func:`index_paths` found: series and the files it skipped."""

    series: tuple[SeriesRecord, ...]
    skipped: tuple[SkippedFile, ...]
    n_files: int

    def summary(self) -> str:
        """A few lines for a CLI or a log: series found, files skipped and why."""
        lines = [
            f"{len(self.series)} series from {self.n_files} files; "
            f"{len(self.skipped)} skipped"
        ]
        for record in self.series:
            lines.append(
                f"  {record.kind.value:<11} {record.description or '(no description)'} "
                f"{'×'.join(str(s) for s in record.shape)}"
                + (f" ({len(record.issues)} issue(s))" if record.issues else "")
            )
            lines.extend(f"    ! {issue}" for issue in record.issues)
        lines.extend(f"  skipped {item}" for item in self.skipped)
        return "\n".join(lines)
