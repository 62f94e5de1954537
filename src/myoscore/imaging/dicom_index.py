"""Header-only indexing of folders of DICOM (and NIfTI) files into series records.

:func:`index_paths` walks folders recursively, reads only the header tags it needs
(``pydicom.dcmread(stop_before_pixels=True, specific_tags=...)``), groups files into
studies and series, splits a series that mixes orientations, image types, echoes or
matrix sizes, and sorts slices by the projection of ``ImagePositionPatient`` on the
slice normal. Nothing is copied or modified. A single bad file never raises: it
becomes a :class:`SkippedFile` whose reason says what is wrong, and the good files
beside it are still indexed.

Identifying fields (patient name and ID, birth date, study date) are kept on
:class:`SeriesRecord` only so that the store can pseudonymise them; they are
excluded from ``repr`` and must never reach a reader or a :class:`Volume`.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import struct
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar

import numpy as np

from myoscore.domain import Sequence
from myoscore.imaging.classify import classify_series, kind_from_name
from myoscore.imaging.geometry import plan_stack, slice_normal
from myoscore.imaging.nifti import nifti_header_problem

__all__ = [
    "IndexResult",
    "NativePixels",
    "SeriesRecord",
    "SkippedFile",
    "SliceRef",
    "index_paths",
]

ProgressCallback = Callable[[int, int], None]

#: Header tags read from each file; everything else (and the pixel data) is skipped.
HEADER_TAGS = [
    "SpecificCharacterSet",
    "SOPClassUID",
    "SOPInstanceUID",
    "StudyInstanceUID",
    "SeriesInstanceUID",
    "SeriesNumber",
    "InstanceNumber",
    "Modality",
    "SeriesDescription",
    "ProtocolName",
    "SequenceName",
    "ImageType",
    "PatientID",
    "PatientName",
    "PatientBirthDate",
    "StudyDate",
    "ImagePositionPatient",
    "ImageOrientationPatient",
    "PixelSpacing",
    "SliceThickness",
    "SpacingBetweenSlices",
    "Rows",
    "Columns",
    "NumberOfFrames",
    "SamplesPerPixel",
    "BitsAllocated",
    "BitsStored",
    "PixelRepresentation",
    "RescaleSlope",
    "RescaleIntercept",
    "EchoTime",
    "EchoNumbers",
    "RepetitionTime",
    "InversionTime",
    "FlipAngle",
    "ScanningSequence",
    "SequenceVariant",
    "MagneticFieldStrength",
    "Manufacturer",
    "ManufacturerModelName",
    "SharedFunctionalGroupsSequence",
    "PerFrameFunctionalGroupsSequence",
]

@cache
def _tag_of() -> dict[str, int]:
    """Keyword → integer tag, built on first use: pydicom's dictionary loads only when a
    header is read, not when the workstation starts."""
    from pydicom.datadict import tag_for_keyword

    tags = {}
    for keyword in [*HEADER_TAGS, "PhotometricInterpretation"]:
        tag = tag_for_keyword(keyword)
        if tag is None:  # pragma: no cover - guarded by the keyword list above
            raise ValueError(keyword)
        tags[keyword] = tag
    return tags


@cache
def _header_tag_list() -> list[int]:
    # Integer tags: pydicom converts keywords on every call otherwise (measured ~25 % slower).
    return [_tag_of()[k] for k in HEADER_TAGS] + [_tag_of()["PhotometricInterpretation"]]

#: Header fields (non-identifying) passed to classification and kept on the record.
CLASSIFY_FIELDS = (
    "Modality",
    "SeriesDescription",
    "ProtocolName",
    "SequenceName",
    "ScanningSequence",
    "SequenceVariant",
    "RepetitionTime",
    "EchoTime",
    "InversionTime",
    "FlipAngle",
    "ImageType",
    "MagneticFieldStrength",
    "Manufacturer",
    "ManufacturerModelName",
    "SliceThickness",
    "SpacingBetweenSlices",
    "SeriesNumber",
    "TransferSyntaxUID",
)

_PIXEL_TAGS = {0x7FE00010, 0x7FE00008, 0x7FE00009}
_NIFTI_NAME = re.compile(r"\.nii(\.gz)?$", re.IGNORECASE)

# Uncompressed transfer syntaxes whose pixel bytes can be read straight from disk.
_NATIVE_SYNTAXES = {
    "1.2.840.10008.1.2": "<",  # Implicit VR Little Endian
    "1.2.840.10008.1.2.1": "<",  # Explicit VR Little Endian
    "1.2.840.10008.1.2.2": ">",  # Explicit VR Big Endian (retired, still found)
}

_SYNTAX_OF_ENCODING = {
    (True, True): "1.2.840.10008.1.2",
    (False, True): "1.2.840.10008.1.2.1",
    (False, False): "1.2.840.10008.1.2.2",
}

# SOP classes that are DICOM but not images, by UID prefix (PS3.4 Annex B).
_NON_IMAGE_CLASSES = (
    ("1.2.840.10008.5.1.4.1.1.88.", "a structured report (SR), not an image"),
    ("1.2.840.10008.5.1.4.1.1.11.", "a presentation state, not an image"),
    ("1.2.840.10008.5.1.4.1.1.104.", "an encapsulated document (PDF/CDA), not an image"),
    ("1.2.840.10008.5.1.4.1.1.9.", "a waveform (ECG and the like), not an image"),
    ("1.2.840.10008.5.1.4.1.1.66", "a raw data / registration / segmentation object"),
    ("1.2.840.10008.5.1.4.1.1.481.", "a radiotherapy object, not an MR image"),
    ("1.2.840.10008.1.3.10", "a DICOMDIR (media directory), not an image"),
    ("1.2.840.10008.5.1.4.1.1.1.59", "a key object selection, not an image"),
)


# ----------------------------------------------------------------------------- records
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


# ------------------------------------------------------------------------------ walking
def _walk(paths: Iterable[str | os.PathLike[str]]) -> tuple[list[Path], list[SkippedFile]]:
    """Files under ``paths`` (recursively, following symlinks but not their loops)."""
    files: list[Path] = []
    skipped: list[SkippedFile] = []
    seen_files: set[tuple[int, int]] = set()
    visited: dict[tuple[int, int], Path] = {}

    def visit_dir(folder: Path) -> None:
        try:
            info = os.stat(folder)
        except OSError as exc:
            skipped.append(SkippedFile(folder, _os_reason(exc, "folder")))
            return
        identity = (info.st_dev, info.st_ino)
        if identity in visited:
            first = visited[identity]
            if _is_inside(folder, first):
                reason = f"symbolic link loop: leads back to {first}; not followed"
            else:
                reason = f"same folder as {first}, already indexed; not followed"
            skipped.append(SkippedFile(folder, reason))
            return
        visited[identity] = folder
        try:
            # os.scandir is looked up at call time (tests simulate unreadable folders).
            with os.scandir(folder) as iterator:
                entries = sorted(iterator, key=lambda e: e.name)
        except OSError as exc:
            skipped.append(SkippedFile(folder, _os_reason(exc, "folder")))
            return
        for entry in entries:
            visit(Path(entry.path))

    def visit(path: Path) -> None:
        try:
            info = os.stat(path)
        except OSError as exc:
            if os.path.islink(path):
                if exc.errno == errno.ELOOP:
                    reason = "symbolic link loop (the link points to itself); not followed"
                else:
                    reason = f"broken symbolic link (target {os.readlink(path)} does not exist)"
            else:
                reason = _os_reason(exc, "file")
            skipped.append(SkippedFile(path, reason))
            return
        if stat.S_ISDIR(info.st_mode):
            visit_dir(path)
        elif stat.S_ISREG(info.st_mode):
            identity = (info.st_dev, info.st_ino)
            if identity in seen_files:
                return  # the same file reached twice (overlapping inputs or links)
            seen_files.add(identity)
            files.append(path)
        else:
            skipped.append(SkippedFile(path, "not a regular file (device, socket or pipe)"))

    for raw in paths:
        visit(Path(raw))
    return files, skipped


def _is_inside(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder)
    except ValueError:
        return False
    return True


def _os_reason(exc: OSError, what: str) -> str:
    if isinstance(exc, PermissionError):
        if what == "folder":
            return "folder cannot be read (permission denied); its files were not indexed"
        return "file cannot be read (permission denied)"
    if isinstance(exc, FileNotFoundError):
        return f"{what} does not exist"
    return f"{what} cannot be read: {exc.strerror or exc}"


# ------------------------------------------------------------------------ header values
def _str(value: Any) -> str:
    if value is None:
        return ""
    return str(value).strip()


def _float(value: Any) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _floats(value: Any, count: int) -> tuple[float, ...] | None:
    if value is None:
        return None
    try:
        numbers = tuple(float(v) for v in value)
    except (TypeError, ValueError):
        return None
    if len(numbers) != count or not all(np.isfinite(numbers)):
        return None
    return numbers


def _point(value: Any) -> tuple[float, float, float] | None:
    """A position in patient space (three finite numbers), or None."""
    numbers = _floats(value, 3)
    return None if numbers is None else (numbers[0], numbers[1], numbers[2])


def _tokens(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(t.strip().upper() for t in value.split("\\") if t.strip())
    try:
        return tuple(str(t).strip().upper() for t in value if str(t).strip())
    except TypeError:
        return (str(value).strip().upper(),)


def _plain(value: Any) -> Any:
    """A pydicom value as plain Python (str, float, int or tuple of them)."""
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value) if isinstance(value, float) else int(value)
    if isinstance(value, (str, bytes)):
        return _str(value.decode("ascii", "replace") if isinstance(value, bytes) else value)
    try:
        return tuple(_plain(v) for v in value)
    except TypeError:
        return _str(value)


def _first_item(dataset: Any, *keywords: str) -> Any:
    """Follow nested one-item sequences: ``_first_item(ds, "PixelMeasuresSequence")``."""
    current = dataset
    for keyword in keywords:
        seq = getattr(current, keyword, None) if current is not None else None
        if not seq:
            return None
        current = seq[0]
    return current


# ------------------------------------------------------------------------ file headers
@dataclass
class _Frame:
    """One image (file or frame) with the header facts grouping and sorting need."""

    path: Path
    frame: int | None
    study_uid: str
    series_uid: str
    sop_uid: str
    instance_number: int | None
    position: tuple[float, float, float] | None
    orientation: tuple[float, ...] | None
    pixel_spacing: tuple[float, ...] | None
    rows: int
    columns: int
    image_type: tuple[str, ...]
    echo: float | None
    slope: float
    intercept: float
    dtype: str
    native: NativePixels | None
    fields: dict[str, Any]
    identifying: dict[str, str]
    notes: list[str]
    multiframe: bool


@dataclass
class _Nifti:
    path: Path
    shape: tuple[int, int, int]
    spacing: tuple[float, float, float]
    orientation: tuple[float, ...]
    n_volumes: int
    description: str


def _looks_like_headerless_dicom(head: bytes) -> bool:
    """A DICOM file without preamble starts with a group 0x0008 element (little endian)."""
    if len(head) < 8:
        return False
    group: int
    element: int
    group, element = struct.unpack("<HH", head[:4])
    return group == 0x0008 and element <= 0x0020


def _is_nifti(path: Path, head: bytes) -> bool:
    if _NIFTI_NAME.search(path.name):
        return True
    if len(head) >= 348:
        size_le = struct.unpack("<i", head[:4])[0]
        size_be = struct.unpack(">i", head[:4])[0]
        return 348 in (size_le, size_be) and head[344:347] in (b"n+1", b"ni1")
    return False


def _pixel_element(
    fp: Any, size: int, little_endian: bool, implicit_vr: bool
) -> tuple[int, int, int] | None:
    """At the current position: ``(tag, value offset, value length)`` of a pixel element."""
    start = fp.tell()
    head = fp.read(12)
    if len(head) < 8:
        return None
    endian = "<" if little_endian else ">"
    group, element = struct.unpack(endian + "HH", head[:4])
    tag = (group << 16) | element
    if tag not in _PIXEL_TAGS:
        return None
    if implicit_vr:
        length = struct.unpack(endian + "I", head[4:8])[0]
        return tag, start + 8, length
    if len(head) < 12:
        return tag, size + 1, 0  # header itself cut short
    length = struct.unpack(endian + "I", head[8:12])[0]
    return tag, start + 12, length


def _check_encapsulated(fp: Any, offset: int, size: int, little_endian: bool) -> str | None:
    """Walk the items of encapsulated pixel data; a reason if the file ends inside them."""
    endian = "<" if little_endian else ">"
    position = offset
    items = 0
    while True:
        fp.seek(position)
        head = fp.read(8)
        if len(head) < 8:
            return (
                f"truncated: the file ends inside the compressed pixel data "
                f"(after {items} fragment(s), at byte {size})"
            )
        group, element, length = struct.unpack(endian + "HHI", head)
        if (group, element) == (0xFFFE, 0xE0DD):
            return None
        if (group, element) != (0xFFFE, 0xE000):
            return f"corrupt compressed pixel data: unexpected tag at byte {position}"
        position += 8 + length
        items += 1
        if position > size:
            return (
                f"truncated: compressed pixel data fragment {items} needs {length} bytes "
                f"but the file ends at byte {size}"
            )


def _header_ends_cleanly(fp: Any, dataset: Any, size: int) -> bool:
    """True if the file's last data element ends exactly at the end of the file."""
    from pydicom.dataelem import DataElement
    from pydicom.filereader import data_element_generator

    implicit_vr, little_endian = dataset.original_encoding
    if implicit_vr is None or little_endian is None:
        return True
    fp.seek(0)
    start = 0
    if fp.read(132)[128:132] == b"DICM":
        start = 132
        # Skip the file meta group (always explicit VR little endian).
        fp.seek(start)
        for _ in data_element_generator(
            fp, False, True, stop_when=lambda tag, vr, length: tag >> 16 != 0x0002
        ):
            pass
        start = fp.tell()
    fp.seek(start)
    end = start
    for element in data_element_generator(fp, implicit_vr, little_endian, defer_size=0):
        # The generator yields a DataElement (which has no length field) only for a sequence
        # of undefined length, after reading it up to its delimiter.
        if isinstance(element, DataElement) or element.length == 0xFFFFFFFF:
            end = fp.tell()
        else:
            end = element.value_tell + element.length
    return end == size


def _native_dtype(dataset: Any, transfer_syntax: str) -> str | None:
    endian = _NATIVE_SYNTAXES.get(transfer_syntax)
    if endian is None:
        return None
    bits = _int(dataset.get("BitsAllocated"))
    signed = _int(dataset.get("PixelRepresentation")) == 1
    if bits not in (8, 16, 32) or _int(dataset.get("SamplesPerPixel", 1)) != 1:
        return None
    kind = "i" if signed else "u"
    return f"{endian if bits > 8 else '|'}{kind}{bits // 8}"


def _reason_for_sop_class(uid: str) -> str | None:
    for prefix, reason in _NON_IMAGE_CLASSES:
        if uid.startswith(prefix):
            return reason
    return None


_TEXT_VRS = {"UI", "CS", "DA", "TM", "AS", "AE"}
_NUMBER_VRS = {"DS": float, "IS": int}
_BINARY_VRS = {"US": "H", "UL": "I", "SS": "h", "SL": "i", "FL": "f", "FD": "d"}


class _Header:
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
        tag = _tag_of()[keyword]
        element = self.dataset.get_item(tag)
        if element is None:
            return default
        raw_value = getattr(element, "value", None)
        vr = self._dictionary_vr(tag)
        if isinstance(raw_value, bytes) and element.VR in (None, vr):
            try:
                return self._decode(raw_value, vr, element.is_little_endian)
            except (ValueError, struct.error, UnicodeDecodeError):
                pass  # unusual bytes: let pydicom decide (and warn)
        return _plain(self.dataset.get(keyword))

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


_SeriesCache = dict[tuple[Any, ...], tuple[dict[str, Any], dict[str, str]]]


def _read_file(path: Path, cache: _SeriesCache | None = None) -> list[_Frame] | _Nifti | SkippedFile:
    """Read one file's header. Never raises for a bad file: returns a SkippedFile."""
    try:
        info = os.stat(path)
        size = info.st_size
        if size == 0:
            return SkippedFile(path, "empty file (0 bytes)")
        with open(path, "rb") as fp:
            head = fp.read(348)
            if _is_nifti(path, head):
                return _read_nifti(path)
            has_marker = head[128:132] == b"DICM"
            if not has_marker and not _looks_like_headerless_dicom(head):
                if size < 132:
                    return SkippedFile(path, f"not a DICOM file (only {size} bytes)")
                return SkippedFile(path, "not a DICOM file (no 'DICM' marker at byte 128)")
            fp.seek(0)
            return _read_dicom(path, fp, info, has_marker, {} if cache is None else cache)
    except OSError as exc:
        return SkippedFile(path, _os_reason(exc, "file"))
    except Exception as exc:  # one bad file must never stop an import
        return SkippedFile(path, f"unreadable DICOM header: {type(exc).__name__}: {exc}")


def _read_dicom(
    path: Path, fp: Any, info: os.stat_result, has_marker: bool, cache: _SeriesCache
) -> list[_Frame] | SkippedFile:
    import pydicom

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dataset = pydicom.dcmread(
            fp, stop_before_pixels=True, specific_tags=_header_tag_list(), force=not has_marker
        )
        header = _Header(dataset)
        result = _frames_of_dicom(path, fp, info, dataset, header, cache)
    notes = sorted({str(w.message) for w in caught})
    if notes and isinstance(result, list) and result:
        result[0].notes.extend(notes)
    return result


def _frames_of_dicom(
    path: Path, fp: Any, info: os.stat_result, dataset: Any, header: _Header, cache: _SeriesCache
) -> list[_Frame] | SkippedFile:
    size = info.st_size
    meta = getattr(dataset, "file_meta", None)
    transfer_syntax = _str(meta.get("TransferSyntaxUID")) if meta is not None else ""
    if not transfer_syntax:
        # No file meta (headerless file): the encoding pydicom found is the syntax.
        transfer_syntax = _SYNTAX_OF_ENCODING.get(tuple(dataset.original_encoding), "")
    sop_class = _str(header.get("SOPClassUID")) or (
        _str(meta.get("MediaStorageSOPClassUID")) if meta is not None else ""
    )
    if fp.tell() > size:
        return SkippedFile(path, f"truncated: the header runs past the end of the file ({size} bytes)")

    not_image = _reason_for_sop_class(sop_class)
    if not_image is not None:
        return SkippedFile(path, f"DICOM {not_image} (SOP class {sop_class})")

    implicit_vr, little_endian = dataset.original_encoding
    pixel = _pixel_element(fp, size, little_endian is not False, bool(implicit_vr))
    if pixel is None:
        if not _header_ends_cleanly(fp, dataset, size):
            return SkippedFile(
                path, f"truncated: the file ends inside the header (at byte {size}), before the image"
            )
        what = f"SOP class {sop_class}" if sop_class else "no SOP class"
        return SkippedFile(path, f"DICOM without pixel data ({what}); nothing to show")

    tag, offset, length = pixel
    if offset > size:
        return SkippedFile(path, f"truncated: the file ends inside the pixel data header ({size} bytes)")
    rows = _int(header.get("Rows")) or 0
    columns = _int(header.get("Columns")) or 0
    if rows <= 0 or columns <= 0:
        return SkippedFile(path, "image without Rows/Columns; cannot tell the matrix size")
    samples = _int(header.get("SamplesPerPixel")) or 1
    if samples != 1:
        photometric = _str(header.get("PhotometricInterpretation")) or "colour"
        return SkippedFile(
            path, f"colour image ({samples} samples per pixel, {photometric}); only greyscale is read"
        )
    n_frames = _int(header.get("NumberOfFrames")) or 1
    bits = _int(header.get("BitsAllocated")) or 16
    native: NativePixels | None = None
    if length == 0xFFFFFFFF:
        problem = _check_encapsulated(fp, offset, size, little_endian is not False)
        if problem is not None:
            return SkippedFile(path, problem)
    else:
        expected = rows * columns * n_frames * bits // 8
        available = size - offset
        if length > available:
            return SkippedFile(
                path,
                f"truncated: pixel data needs {length} bytes but only {available} remain "
                f"(file is {size} bytes)",
            )
        if length < expected:
            return SkippedFile(
                path,
                f"pixel data has {length} bytes, {rows}×{columns}×{n_frames} frames of "
                f"{bits} bits need {expected}",
            )
        dtype = _native_dtype(header, transfer_syntax) if tag == 0x7FE00010 else None
        if dtype is not None:
            native = NativePixels(
                offset=offset,
                dtype=dtype,
                bits_stored=_int(header.get("BitsStored")) or bits,
                file_size=size,
                mtime_ns=info.st_mtime_ns,
            )

    study_uid = _str(header.get("StudyInstanceUID"))
    series_uid = _str(header.get("SeriesInstanceUID"))
    image_type = _tokens(header.get("ImageType"))
    echo = _float(header.get("EchoNumbers"))
    if echo is None:
        echo = _float(header.get("EchoTime"))
    multiframe = "PerFrameFunctionalGroupsSequence" in dataset or n_frames > 1
    # Series-level fields are the same for every image of a series part: convert them
    # once (multi-frame files lift values from functional groups, so never share).
    key = (study_uid, series_uid, image_type, echo, transfer_syntax)
    cached = None if multiframe else cache.get(key)
    if cached is None:
        fields = {k: _plain(dataset.get(k)) for k in CLASSIFY_FIELDS if k in dataset}
        fields["TransferSyntaxUID"] = transfer_syntax
        fields["SOPClassUID"] = sop_class
        identifying = {
            "patient_id": _str(dataset.get("PatientID")),
            "patient_name": _str(dataset.get("PatientName")),
            "birth_date": _str(dataset.get("PatientBirthDate")),
            "study_date": _str(dataset.get("StudyDate")),
        }
        if not multiframe:
            cache[key] = (fields, identifying)
    else:
        fields, identifying = cached
    common: dict[str, Any] = {
        "path": path,
        "study_uid": study_uid,
        "series_uid": series_uid,
        "sop_uid": _str(header.get("SOPInstanceUID")),
        "rows": rows,
        "columns": columns,
        "fields": fields,
        "identifying": identifying,
        "notes": [],
        "dtype": f"{'int' if _int(header.get('PixelRepresentation')) == 1 else 'uint'}"
        f"{8 * max(1, bits // 8)}",
    }
    if multiframe:
        return _frames_of_multiframe(dataset, common, native, n_frames, rows * columns * bits // 8)

    slope = _float(header.get("RescaleSlope"))
    intercept = _float(header.get("RescaleIntercept"))
    return [
        _Frame(
            frame=None,
            instance_number=_int(header.get("InstanceNumber")),
            position=_point(header.get("ImagePositionPatient")),
            orientation=_floats(header.get("ImageOrientationPatient"), 6),
            pixel_spacing=_floats(header.get("PixelSpacing"), 2),
            image_type=image_type,
            echo=echo,
            slope=1.0 if slope is None or slope == 0 else slope,
            intercept=intercept or 0.0,
            native=native,
            multiframe=False,
            **common,
        )
    ]


def _frames_of_multiframe(
    dataset: Any, common: dict[str, Any], native: NativePixels | None, n_frames: int, frame_bytes: int
) -> list[_Frame]:
    """Frames of an enhanced (or legacy) multi-frame file, with per-frame geometry."""
    shared = _first_item(dataset, "SharedFunctionalGroupsSequence")
    per_frame = list(getattr(dataset, "PerFrameFunctionalGroupsSequence", []) or [])
    fields = common["fields"]
    # Enhanced MR keeps TR/TI in functional groups; lift them for classification.
    timing = _first_item(shared, "MRTimingAndRelatedParametersSequence")
    if timing is not None and "RepetitionTime" not in fields:
        fields["RepetitionTime"] = _plain(timing.get("RepetitionTime"))
        fields["FlipAngle"] = _plain(timing.get("FlipAngle"))
    modifier = _first_item(shared, "MRModifierSequence")
    if modifier is not None and "InversionTime" not in fields:
        times = modifier.get("InversionTimes")
        if times:
            fields["InversionTime"] = _plain(times[0] if not isinstance(times, float) else times)

    def lookup(index: int, *keywords: str) -> Any:
        item = per_frame[index] if index < len(per_frame) else None
        found = _first_item(item, *keywords)
        return found if found is not None else _first_item(shared, *keywords)

    frames: list[_Frame] = []
    for index in range(n_frames):
        plane_position = lookup(index, "PlanePositionSequence")
        plane_orientation = lookup(index, "PlaneOrientationSequence")
        measures = lookup(index, "PixelMeasuresSequence")
        transform = lookup(index, "PixelValueTransformationSequence")
        echo_item = lookup(index, "MREchoSequence")
        frame_type = lookup(index, "MRImageFrameTypeSequence")
        content = lookup(index, "FrameContentSequence")

        position = _point(
            plane_position.get("ImagePositionPatient") if plane_position is not None else
            dataset.get("ImagePositionPatient"),
        )
        orientation = _floats(
            plane_orientation.get("ImageOrientationPatient") if plane_orientation is not None
            else dataset.get("ImageOrientationPatient"),
            6,
        )
        spacing = _floats(
            measures.get("PixelSpacing") if measures is not None else dataset.get("PixelSpacing"),
            2,
        )
        slope = _float(transform.get("RescaleSlope")) if transform is not None else None
        intercept = _float(transform.get("RescaleIntercept")) if transform is not None else None
        if slope is None:
            slope = _float(dataset.get("RescaleSlope"))
            intercept = _float(dataset.get("RescaleIntercept"))
        echo = _float(echo_item.get("EffectiveEchoTime")) if echo_item is not None else None
        if echo is not None and "EchoTime" not in fields:
            fields["EchoTime"] = echo
        image_type = (
            _tokens(frame_type.get("FrameType")) if frame_type is not None else ()
        ) or _tokens(dataset.get("ImageType"))
        in_stack = _int(content.get("InStackPositionNumber")) if content is not None else None
        frame_native = None
        if native is not None:
            frame_native = NativePixels(
                offset=native.offset + index * frame_bytes,
                dtype=native.dtype,
                bits_stored=native.bits_stored,
                file_size=native.file_size,
                mtime_ns=native.mtime_ns,
            )
        frames.append(
            _Frame(
                frame=index,
                instance_number=in_stack if in_stack is not None else index + 1,
                position=position,
                orientation=orientation,
                pixel_spacing=spacing,
                image_type=image_type,
                echo=echo,
                slope=1.0 if slope is None or slope == 0 else slope,
                intercept=intercept or 0.0,
                native=frame_native,
                multiframe=True,
                **common,
            )
        )
    if not per_frame and n_frames > 1 and frames:
        frames[0].notes.append(
            "multi-frame file without per-frame functional groups: all frames share one "
            "position"
        )
    return frames


def _read_nifti(path: Path) -> _Nifti | SkippedFile:
    import nibabel

    problem = nifti_header_problem(path)
    if problem is not None:
        return SkippedFile(path, problem)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            image = nibabel.load(str(path))
            if not isinstance(image, (nibabel.Nifti1Image, nibabel.Nifti2Image)):
                return SkippedFile(path, f"not a NIfTI image ({type(image).__name__})")
            header = image.header
            shape = tuple(int(s) for s in image.shape)
            affine = np.asarray(image.affine, dtype=np.float64)
    except Exception as exc:  # nibabel raises many types for broken headers
        return SkippedFile(path, f"broken NIfTI header: {type(exc).__name__}: {exc}")
    if len(shape) < 2 or any(s <= 0 for s in shape):
        return SkippedFile(path, f"broken NIfTI header: impossible dimensions {shape}")
    if len(shape) > 4 and any(s > 1 for s in shape[4:]):
        return SkippedFile(path, f"NIfTI with {len(shape)} dimensions {shape}: only 3-D/4-D read")
    if not np.all(np.isfinite(affine)) or abs(np.linalg.det(affine[:3, :3])) < 1e-12:
        return SkippedFile(path, "broken NIfTI header: the affine (sform/qform) is singular")
    if not path.name.lower().endswith(".gz"):
        # The proxy knows the file's data offset; the in-memory header may say 0.
        offset = int(getattr(image.dataobj, "offset", header.get_data_offset()))
        needed = offset + int(np.prod(shape)) * header.get_data_dtype().itemsize
        actual = path.stat().st_size
        if actual < needed:
            return SkippedFile(
                path, f"truncated NIfTI: needs {needed} bytes for {shape}, file has {actual}"
            )
    dims = (*shape, 1, 1)[:3]
    zooms = np.linalg.norm(affine[:3, :3], axis=0)
    lps = np.diag([-1.0, -1.0, 1.0]) @ affine[:3, :3]
    directions = lps / zooms
    description = header["descrip"].item()
    return _Nifti(
        path=path,
        shape=(dims[2], dims[1], dims[0]),
        spacing=(float(zooms[0]), float(zooms[1]), float(zooms[2])),
        orientation=tuple(float(v) for v in (*directions[:, 0], *directions[:, 1])),
        n_volumes=int(shape[3]) if len(shape) > 3 else 1,
        description=description.decode("ascii", "replace").strip("\x00 ")
        if isinstance(description, bytes)
        else str(description),
    )


# ----------------------------------------------------------------------- series records
def _cluster(values: list[tuple[float, ...] | None], tolerance: float) -> list[int]:
    """Cluster ids for vectors that agree within ``tolerance`` (None forms its own)."""
    centres: list[tuple[float, ...] | None] = []
    ids = []
    for value in values:
        match = None
        for index, centre in enumerate(centres):
            if value is None or centre is None:
                if value is centre:
                    match = index
                    break
                continue
            if max(abs(a - b) for a, b in zip(value, centre, strict=True)) <= tolerance:
                match = index
                break
        if match is None:
            centres.append(value)
            match = len(centres) - 1
        ids.append(match)
    return ids


def _plane_name(orientation: tuple[float, ...] | None) -> str:
    if orientation is None:
        return "unknown orientation"
    normal = np.abs(slice_normal(orientation))
    axis = int(np.argmax(normal))
    if normal[axis] < 0.866:
        return "oblique"
    return ("sagittal", "coronal", "axial")[axis]


def _split_groups(frames: list[_Frame]) -> list[tuple[list[_Frame], str]]:
    """Split one series' frames by orientation, image type, echo, matrix, multi-frame file."""
    orientation_ids = _cluster([f.orientation for f in frames], 1e-3)
    spacing_ids = _cluster([f.pixel_spacing for f in frames], 1e-3)
    keys = []
    for frame, orientation_id, spacing_id in zip(frames, orientation_ids, spacing_ids, strict=True):
        keys.append(
            (
                orientation_id,
                frame.image_type,
                frame.echo,
                (frame.rows, frame.columns),
                spacing_id,
                str(frame.path) if frame.multiframe else "",
            )
        )
    groups: dict[tuple[Any, ...], list[_Frame]] = defaultdict(list)
    for key, frame in zip(keys, frames, strict=True):
        groups[key].append(frame)
    if len(groups) == 1:
        return [(frames, "")]
    # Name only the components that differ between the parts.
    ordered = sorted(groups.items(), key=lambda item: min(_order_key(f) for f in item[1]))
    differing = [
        i for i in range(6) if len({key[i] for key, _ in ordered}) > 1
    ]
    result = []
    for _key, members in ordered:
        first = members[0]
        parts = []
        for i in differing:
            if i == 0:
                parts.append(f"orientation {_plane_name(first.orientation)}")
            elif i == 1:
                image_type = "\\".join(first.image_type) or "(none)"
                parts.append(f"ImageType {image_type}")
            elif i == 2:
                parts.append(f"echo {first.echo:g}" if first.echo is not None else "echo (none)")
            elif i == 3:
                parts.append(f"matrix {first.rows}×{first.columns}")
            elif i == 4:
                spacing = first.pixel_spacing or ()
                parts.append(f"pixel spacing {'×'.join(f'{s:g}' for s in spacing)} mm")
            elif i == 5:
                parts.append(f"multi-frame file {first.path.name}")
        result.append((members, ", ".join(parts)))
    return result


def _order_key(frame: _Frame) -> tuple[int, str, int]:
    return (frame.instance_number or 0, str(frame.path), frame.frame or 0)


def _spacing_fallback(fields: Mapping[str, Any]) -> float:
    for value in (fields.get("SpacingBetweenSlices"), fields.get("SliceThickness")):
        number = _float(value)
        if number:
            return abs(number)
    return 1.0


def _record_from_frames(
    members: list[_Frame], split: str, split_reason: str, split_note: str | None
) -> SeriesRecord:
    issues: list[str] = []
    if split_note:
        issues.append(split_note)
    first = members[0]
    fields = dict(first.fields)
    fields["ImageType"] = first.image_type
    if first.echo is not None and first.fields.get("EchoTime") is None:
        fields["EchoTime"] = first.echo

    # Identical SOP instances (the same image copied twice): keep the first.
    unique: dict[tuple[str, int | None], _Frame] = {}
    for frame in sorted(members, key=_order_key):
        key = (frame.sop_uid, frame.frame)
        if frame.sop_uid and key in unique:
            issues.append(
                f"same image twice: {frame.path} is a copy of {unique[key].path} "
                f"(SOPInstanceUID {frame.sop_uid}); the copy is ignored"
            )
            continue
        unique[key] = frame
    frames = list(unique.values())

    orientation = first.orientation
    if orientation is None:
        orientation = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
        issues.append("no ImageOrientationPatient: axial orientation assumed, labels may be wrong")
    normal = slice_normal(orientation)
    if any(f.position is None for f in frames):
        issues.append(
            "no ImagePositionPatient: slices ordered by InstanceNumber, geometry approximate"
        )
        frames.sort(key=_order_key)
        step = _spacing_fallback(fields)
        positions = [tuple(float(v) for v in normal * step * k) for k in range(len(frames))]
    else:
        positions = [f.position for f in frames if f.position is not None]  # all of them (checked above)
    locations = [float(np.dot(p, normal)) for p in positions]
    order = sorted(range(len(frames)), key=lambda i: (locations[i], _order_key(frames[i])))
    frames = [frames[i] for i in order]
    positions = [positions[i] for i in order]
    locations = [locations[i] for i in order]

    labels = [
        f.path.name if f.frame is None else f"{f.path.name}[frame {f.frame + 1}]" for f in frames
    ]
    plan = plan_stack(locations, labels)
    issues.extend(plan.issues)

    notes: dict[str, list[Path]] = defaultdict(list)
    for frame in frames:
        for note in frame.notes:
            notes[note].append(frame.path)
    for note, paths in notes.items():
        unique_paths = list(dict.fromkeys(paths))
        issues.append(
            f"header warning in {len(unique_paths)} file(s) (first {unique_paths[0].name}): {note}"
        )

    pixel_spacing = first.pixel_spacing
    if pixel_spacing is None:
        pixel_spacing = (1.0, 1.0)
        issues.append("no PixelSpacing: 1 mm pixels assumed")
    z_spacing = plan.step if len(frames) > 1 else _spacing_fallback(fields)

    slices = tuple(
        SliceRef(
            path=f.path,
            frame=f.frame,
            position=(float(p[0]), float(p[1]), float(p[2])),
            location=loc,
            instance_number=f.instance_number,
            rescale_slope=f.slope,
            rescale_intercept=f.intercept,
            dtype=f.dtype,
            native=f.native,
        )
        for f, p, loc in zip(frames, positions, locations, strict=True)
    )
    kind, reason = classify_series(fields)
    series_number = _int(fields.get("SeriesNumber"))
    return SeriesRecord(
        study_uid=first.study_uid,
        series_uid=first.series_uid,
        split=split,
        source="dicom",
        modality=_str(fields.get("Modality")),
        description=_str(fields.get("SeriesDescription")),
        protocol_name=_str(fields.get("ProtocolName")),
        series_number=series_number,
        kind=kind,
        kind_reason=reason,
        paths=tuple(dict.fromkeys(f.path for f in frames)),
        slices=slices,
        shape=(plan.n_slots, first.rows, first.columns),
        spacing=(float(pixel_spacing[1]), float(pixel_spacing[0]), float(z_spacing)),
        orientation=tuple(float(v) for v in orientation),
        issues=tuple(issues),
        split_reason=split_reason,
        header=MappingProxyType(fields),
        **first.identifying,
    )


def _records_from_series(frames: list[_Frame]) -> list[SeriesRecord]:
    groups = _split_groups(frames)
    if len(groups) == 1:
        return [_record_from_frames(groups[0][0], "", "", None)]
    reasons = "; ".join(reason for _, reason in groups)
    note = f"series split into {len(groups)} parts ({reasons})"
    return [
        _record_from_frames(members, f"#{i}", reason, note)
        for i, (members, reason) in enumerate(groups, start=1)
    ]


def _record_from_nifti(item: _Nifti) -> SeriesRecord:
    kind, reason = kind_from_name(item.path.name)
    issues = []
    if item.n_volumes > 1:
        issues.append(f"4-D NIfTI with {item.n_volumes} volumes; volume 1 is shown by default")
    resolved = item.path.resolve()
    return SeriesRecord(
        study_uid=f"nifti:{resolved.parent}",
        series_uid=f"nifti:{resolved}",
        split="",
        source="nifti",
        modality="MR",
        description=item.description or _NIFTI_NAME.sub("", item.path.name),
        protocol_name="",
        series_number=None,
        kind=kind,
        kind_reason=reason,
        paths=(item.path,),
        slices=(),
        shape=item.shape,
        spacing=item.spacing,
        orientation=item.orientation,
        issues=tuple(issues),
        header=MappingProxyType({"n_volumes": item.n_volumes}),
    )


def index_paths(
    paths: Iterable[str | os.PathLike[str]] | str | os.PathLike[str],
    progress: ProgressCallback | None = None,
) -> IndexResult:
    """Index files and folders (recursively) into series records, reading headers only.

    Parameters
    ----------
    paths
        Files and/or folders (one path or several).
    progress
        Called as ``progress(done, total)`` after each file's header is read, and once
        with ``(0, total)`` before the first.

    Returns
    -------
    IndexResult
        Series records (split where a series mixes orientations, image types, echoes,
        matrix sizes or multi-frame files), sorted by study, series number and
        description; and the files that were skipped, each with a reason.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    files, skipped = _walk(paths)
    total = len(files)
    if progress is not None:
        progress(0, total)
    by_series: dict[tuple[str, str], list[_Frame]] = defaultdict(list)
    niftis: list[_Nifti] = []
    cache: _SeriesCache = {}
    for done, path in enumerate(files, start=1):
        result = _read_file(path, cache)
        if isinstance(result, SkippedFile):
            skipped.append(result)
        elif isinstance(result, _Nifti):
            niftis.append(result)
        else:
            for frame in result:
                by_series[(frame.study_uid, frame.series_uid)].append(frame)
        if progress is not None:
            progress(done, total)

    records: list[SeriesRecord] = []
    for (study_uid, series_uid), frames in by_series.items():
        if not series_uid:
            for frame in frames:
                skipped.append(
                    SkippedFile(frame.path, "DICOM image without SeriesInstanceUID; cannot group it")
                )
            continue
        try:
            records.extend(_records_from_series(frames))
        except Exception as exc:  # a broken series must not stop the others
            for path in dict.fromkeys(f.path for f in frames):
                skipped.append(
                    SkippedFile(
                        path,
                        f"series {series_uid} of study {study_uid} could not be indexed: "
                        f"{type(exc).__name__}: {exc}",
                    )
                )
    records.extend(_record_from_nifti(item) for item in niftis)
    records.sort(key=lambda r: (r.study_uid, r.series_number or 0, r.description, r.key))
    return IndexResult(tuple(records), tuple(skipped), total)
