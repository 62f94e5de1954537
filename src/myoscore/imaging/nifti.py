"""NIfTI in and out: one validation for indexing and loading, and the RAS edge.

NIfTI is RAS, myoscore is LPS; the flip is :data:`myoscore.imaging.volume.LPS_TO_RAS`
(stated once there). A NIfTI voxel ``(i, j, k)`` indexes the data array as
``data[i, j, k]``; a Volume stores ``voxels[k, j, i]``. The affine keeps the same
voxel-index meaning (column i, row j, slice k), so only the patient axes flip.

:func:`inspect_nifti` is the one place a NIfTI file is judged: the raw header is read
first (nibabel silently "fixes" some defects — a zero pixdim becomes 1 mm — and gives
misleading messages for others), then nibabel's header, then the data block's length
(a ``.nii.gz`` is decompressed to its end, so a truncated stream is caught at import,
not when a reader opens it). :func:`index_nifti` and :func:`load_nifti` both use it.
"""

from __future__ import annotations

import gzip
import math
import os
import re
import struct
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from myoscore.domain import ImagingError
from myoscore.imaging.classify import kind_from_name
from myoscore.imaging.records import SeriesRecord, SkippedFile
from myoscore.imaging.volume import LPS_TO_RAS, Volume

__all__ = ["NiftiFacts", "index_nifti", "inspect_nifti", "load_nifti", "looks_like_nifti", "write_nifti"]

_INT16 = np.iinfo(np.int16)
_NAME = re.compile(r"\.nii(\.gz)?$", re.IGNORECASE)
_CHUNK = 1 << 20


class NiftiProblem(Exception):
    """Why a file cannot be read as NIfTI (a sentence without the path)."""


@dataclass(frozen=True)
class NiftiFacts:
    """What :func:`inspect_nifti` found: enough to index the file and to load it.

    ``shape`` is nibabel's array shape with trailing 1s dropped (3-D or 4-D); ``ras``
    the affine nibabel will use; ``issues`` the defects that did not stop it.
    """

    shape: tuple[int, ...]
    ras: np.ndarray
    n_volumes: int
    issues: tuple[str, ...]
    description: str


def looks_like_nifti(path: Path, head: bytes) -> bool:
    """By name (``.nii``, ``.nii.gz``) or by an uncompressed NIfTI-1 header's magic."""
    if _NAME.search(path.name):
        return True
    if len(head) >= 348:
        size_le = struct.unpack("<i", head[:4])[0]
        size_be = struct.unpack(">i", head[:4])[0]
        return 348 in (size_le, size_be) and head[344:347] in (b"n+1", b"ni1")
    return False


def _open(path: Path) -> Any:
    return gzip.open(path, "rb") if path.name.lower().endswith(".gz") else open(path, "rb")


@dataclass(frozen=True)
class _Raw:
    endian: str
    version: int
    dims: tuple[int, ...]
    pixdim: tuple[float, ...]
    vox_offset: float
    slope: float
    intercept: float
    qform_code: int
    sform_code: int


def _raw_header(path: Path) -> _Raw:
    try:
        with _open(path) as stream:
            head = stream.read(544)
    except EOFError:
        _data_length(path, 0, ())  # raises, saying how far the stream goes
        raise  # pragma: no cover - _data_length raised
    except (OSError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
        raise NiftiProblem(f"broken NIfTI: not a readable gzip file ({exc})") from exc
    if len(head) < 4:
        raise NiftiProblem(f"broken NIfTI header: the file holds only {len(head)} bytes")
    for endian in "<>":
        size = struct.unpack(endian + "i", head[:4])[0]
        if size in (348, 540):
            break
    else:
        found = struct.unpack("<i", head[:4])[0]
        raise NiftiProblem(f"broken NIfTI header: sizeof_hdr is {found}, expected 348 (NIfTI-1) or 540 (NIfTI-2)")
    if len(head) < size:
        raise NiftiProblem(f"truncated NIfTI: the header needs {size} bytes, the file holds {len(head)}")
    if size == 348:
        dims = struct.unpack(endian + "8h", head[40:56])
        pixdim = struct.unpack(endian + "8f", head[76:108])
        vox_offset = struct.unpack(endian + "f", head[108:112])[0]
        slope, intercept = struct.unpack(endian + "2f", head[112:120])
        qform_code, sform_code = struct.unpack(endian + "2h", head[252:256])
        version = 1
    else:
        dims = struct.unpack(endian + "8q", head[16:80])
        pixdim = struct.unpack(endian + "8d", head[104:168])
        vox_offset = float(struct.unpack(endian + "q", head[168:176])[0])
        slope, intercept = struct.unpack(endian + "2d", head[176:192])
        qform_code, sform_code = struct.unpack(endian + "2i", head[344:352])
        version = 2
    return _Raw(endian, version, tuple(dims), tuple(pixdim), vox_offset, slope, intercept, qform_code, sform_code)


def _check_raw(raw: _Raw) -> list[str]:
    """Refuse what nibabel would fix silently or misreport; return milder issues."""
    n_dims = raw.dims[0]
    if not 1 <= n_dims <= 7:
        raise NiftiProblem(
            f"broken NIfTI header: dim[0] is {n_dims}, it must be 1 to 7 (the number of dimensions)"
        )
    shape = tuple(raw.dims[1 : n_dims + 1])
    if n_dims < 2 or any(s <= 0 for s in shape):
        raise NiftiProblem(f"broken NIfTI header: impossible dimensions {shape}")
    issues = []
    uses_pixdim = raw.sform_code <= 0  # the qform and the fallback both scale by pixdim
    spatial = raw.pixdim[1 : 1 + min(3, n_dims)]
    if uses_pixdim and not all(math.isfinite(v) and v > 0 for v in spatial):
        raise NiftiProblem(
            f"broken NIfTI header: voxel size pixdim {tuple(float(v) for v in spatial)} is not positive and "
            "no sform gives the geometry"
        )
    if raw.sform_code <= 0 and raw.qform_code <= 0:
        issues.append("neither sform nor qform is set (codes 0): orientation unknown, RAS axes assumed")
    if math.isinf(raw.slope) or (raw.slope not in (0.0, 1.0) and math.isfinite(raw.slope)
                                 and not math.isfinite(raw.intercept)):
        raise NiftiProblem(
            f"broken NIfTI header: scl_slope {raw.slope} / scl_inter {raw.intercept} cannot scale the stored values"
        )
    if math.isnan(raw.slope):
        issues.append("scl_slope is NaN: stored values are read unscaled")
    return issues


def _data_length(path: Path, needed: int, shape: tuple[int, ...]) -> None:
    """Refuse a data block shorter than ``needed`` bytes (decompressing a ``.gz`` to its end)."""
    if not path.name.lower().endswith(".gz"):
        actual = path.stat().st_size
        if actual < needed:
            raise NiftiProblem(f"truncated NIfTI: needs {needed} bytes for {shape}, file has {actual}")
        return
    total = 0
    try:
        with gzip.open(path, "rb") as stream:
            # Small reads near the start, so a stream cut inside the header says where.
            while chunk := stream.read(_CHUNK if total else 64):
                total += len(chunk)
    except EOFError as exc:
        if total == 0:
            raise NiftiProblem(f"broken NIfTI: not a readable gzip file ({exc})") from exc
        raise NiftiProblem(
            f"truncated .nii.gz: the compressed stream ends after {total} bytes, before its end marker"
        ) from exc
    except (OSError, zlib.error) as exc:
        raise NiftiProblem(f"broken .nii.gz: corrupt compressed data after {total} bytes ({exc})") from exc
    if total < needed:
        raise NiftiProblem(f"truncated NIfTI: needs {needed} bytes for {shape}, the decompressed file has {total}")


def inspect_nifti(path: str | os.PathLike[str], *, check_data: bool = True) -> NiftiFacts:
    """Judge a NIfTI file once; raise :class:`NiftiProblem` (a reason) if it cannot be read."""
    import nibabel

    path = Path(path)
    raw = _raw_header(path)
    issues = _check_raw(raw)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            image = nibabel.load(str(path))
            if not isinstance(image, (nibabel.Nifti1Image, nibabel.Nifti2Image)):
                raise NiftiProblem(f"not a NIfTI image ({type(image).__name__})")
            header = image.header
            shape = tuple(int(s) for s in image.shape)
            ras = np.asarray(image.affine, dtype=np.float64)
            itemsize = header.get_data_dtype().itemsize
            offset = int(getattr(image.dataobj, "offset", header.get_data_offset()))
    except NiftiProblem:
        raise
    except Exception as exc:  # nibabel raises many types for broken headers
        raise NiftiProblem(f"broken NIfTI header: {type(exc).__name__}: {exc}") from exc
    while len(shape) > 3 and shape[-1] == 1:
        shape = shape[:-1]
    if len(shape) > 4:
        raise NiftiProblem(f"{len(shape)}-D NIfTI {shape}: only 3-D and 4-D are read")
    if not np.all(np.isfinite(ras)) or abs(np.linalg.det(ras[:3, :3])) < 1e-12:
        raise NiftiProblem("broken NIfTI header: the affine (sform/qform) is singular")
    if check_data:
        _data_length(path, offset + int(np.prod(shape)) * itemsize, shape)
    description = header["descrip"].item()
    if isinstance(description, bytes):
        description = description.decode("ascii", "replace")
    return NiftiFacts(
        shape=shape,
        ras=ras,
        n_volumes=shape[3] if len(shape) == 4 else 1,
        issues=tuple(issues),
        description=str(description).strip("\x00 "),
    )


def index_nifti(path: Path) -> SeriesRecord | SkippedFile:
    """A NIfTI file as one series record (header and data length checked), or why not."""
    try:
        facts = inspect_nifti(path)
    except NiftiProblem as exc:
        return SkippedFile(path, str(exc))
    except OSError as exc:
        return SkippedFile(path, f"file cannot be read: {exc.strerror or exc}")
    dims = (*facts.shape, 1, 1)[:3]
    lps = LPS_TO_RAS @ facts.ras
    zooms = np.linalg.norm(lps[:3, :3], axis=0)
    directions = lps[:3, :3] / zooms
    issues = list(facts.issues)
    if facts.n_volumes > 1:
        issues.append(f"4-D NIfTI with {facts.n_volumes} volumes; volume 1 is shown by default")
    kind, reason = kind_from_name(path.name)
    resolved = path.resolve()
    return SeriesRecord(
        study_uid=f"nifti:{resolved.parent}",
        series_uid=f"nifti:{resolved}",
        split="",
        source="nifti",
        modality="MR",
        description=facts.description or _NAME.sub("", path.name),
        protocol_name="",
        series_number=None,
        kind=kind,
        kind_reason=reason,
        paths=(path,),
        slices=(),
        shape=(dims[2], dims[1], dims[0]),
        spacing=(float(zooms[0]), float(zooms[1]), float(zooms[2])),
        orientation=tuple(float(v) for v in (*directions[:, 0], *directions[:, 1])),
        issues=tuple(issues),
        affine=tuple(float(v) for v in lps.reshape(-1)),
        header=MappingProxyType({"n_volumes": facts.n_volumes}),
    )


def _compact(data: np.ndarray) -> np.ndarray:
    """int16 when every value is an integer that fits, float32 otherwise."""
    if data.dtype == np.int16:
        return data
    if data.dtype.kind in "iub":
        if data.size == 0 or (data.min() >= _INT16.min and data.max() <= _INT16.max):
            return data.astype(np.int16)
        return data.astype(np.float32)
    data32 = data.astype(np.float32, copy=False)
    if data.size and np.all(np.isfinite(data32)):
        low, high = float(data32.min()), float(data32.max())
        if low >= _INT16.min and high <= _INT16.max and np.array_equal(data32, np.round(data32)):
            return data32.astype(np.int16)
    return data32


def load_nifti(path: str | os.PathLike[str], volume_index: int = 0, *, values: str = "display") -> Volume:
    """Load a ``.nii`` / ``.nii.gz`` file as a Volume (LPS).

    Parameters
    ----------
    path
        The NIfTI-1 or NIfTI-2 file.
    volume_index
        Which volume of a 4-D file (0-based); must be 0 for a 3-D file.
    values
        Accepted for symmetry with :func:`load_series`: a NIfTI file has one scaling
        (``scl_slope``/``scl_inter``), so display and real-world values are the same.

    Notes
    -----
    The file is judged by :func:`inspect_nifti` (the same rules as at import). The
    affine is nibabel's best affine: the sform when ``sform_code > 0``, else the qform
    when ``qform_code > 0``, else the pixdim scaling (with a warning, since orientation
    is then unknown). ``scl_slope``/``scl_inter`` are applied.
    """
    import nibabel

    path = Path(path)
    if not path.exists():
        raise ImagingError(f"{path}: file does not exist")
    try:
        # The data block is read just below; a short one fails there, naming the file.
        facts = inspect_nifti(path, check_data=False)
    except NiftiProblem as exc:
        raise ImagingError(f"{path}: {exc}") from exc
    shape = facts.shape
    if not 0 <= volume_index < facts.n_volumes:
        raise ImagingError(
            f"{path}: volume {volume_index} requested, the file has {facts.n_volumes} "
            f"(valid: 0 to {facts.n_volumes - 1})"
        )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        image: Any = nibabel.load(str(path))
    messages = [*facts.issues, *(f"nibabel: {w.message}" for w in caught)]
    proxy: Any = image.dataobj
    try:
        if len(shape) == 4 and len(image.shape) == 4:
            data = np.asanyarray(proxy[..., volume_index])  # reads one volume only
        else:
            data = np.asanyarray(proxy).reshape(shape)
            if data.ndim == 4:
                data = data[..., volume_index]
    except Exception as exc:  # truncated or corrupt data block
        raise ImagingError(f"{path}: cannot read the image data: {type(exc).__name__}: {exc}") from exc
    if data.ndim == 2:
        data = data[:, :, np.newaxis]
    voxels = np.ascontiguousarray(_compact(np.asarray(data)).transpose(2, 1, 0))

    kind, reason = kind_from_name(path.name)
    metadata = {
        "format": "nifti",
        "modality": "MR",
        "sequence": kind.value,
        "sequence_reason": reason,
        "series_description": facts.description,
        "values": values,
    }
    metadata = {k: v for k, v in metadata.items() if v}
    return Volume(voxels, LPS_TO_RAS @ facts.ras, metadata, tuple(messages))


def write_nifti(volume: Volume, path: str | os.PathLike[str]) -> Path:
    """Write a Volume as NIfTI-1 (``.nii`` or ``.nii.gz`` by suffix), RAS affine.

    Both sform and qform are set (code 1, scanner anatomical); an affine with shear
    (gantry tilt) is exact in the sform only. Returns the path written.
    """
    import nibabel

    path = Path(path)
    if not (path.name.endswith(".nii") or path.name.endswith(".nii.gz")):
        raise ImagingError(f"{path}: a NIfTI file name must end in .nii or .nii.gz")
    image = volume.to_nibabel()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        nibabel.save(image, str(path))
    except OSError as exc:
        raise ImagingError(f"{path}: cannot write NIfTI: {exc.strerror or exc}") from exc
    return path
