"""NIfTI in and out. NIfTI is RAS; myoscore is LPS — this module is where they meet.

A NIfTI voxel ``(i, j, k)`` indexes the data array as ``data[i, j, k]``; a Volume
stores ``voxels[k, j, i]``. The affine keeps the same voxel-index meaning
(column i, row j, slice k), so only the patient axes flip:
``affine_lps = diag(-1, -1, 1, 1) @ affine_ras``.
"""

from __future__ import annotations

import gzip
import os
import struct
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from myoscore.domain import ImagingError
from myoscore.imaging.classify import kind_from_name
from myoscore.imaging.volume import LPS_TO_RAS, Volume

__all__ = ["load_nifti", "nifti_header_problem", "write_nifti"]

_INT16 = np.iinfo(np.int16)


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


def nifti_header_problem(path: Path) -> str | None:
    """Why the first bytes cannot be a NIfTI header (nibabel's own message is vague)."""
    try:
        if path.name.lower().endswith(".gz"):
            with gzip.open(path, "rb") as stream:
                head = stream.read(4)
        else:
            with open(path, "rb") as stream:
                head = stream.read(4)
    except (OSError, EOFError) as exc:  # gzip.BadGzipFile is an OSError
        return f"broken NIfTI: not a readable gzip file ({exc})"
    if len(head) < 4:
        return f"broken NIfTI header: the file holds only {len(head)} bytes"
    sizes = {struct.unpack("<i", head)[0], struct.unpack(">i", head)[0]}
    if not sizes & {348, 540}:
        found = struct.unpack("<i", head)[0]
        return f"broken NIfTI header: sizeof_hdr is {found}, expected 348 (NIfTI-1) or 540 (NIfTI-2)"
    return None


def load_nifti(path: str | os.PathLike[str], volume_index: int = 0) -> Volume:
    """Load a ``.nii`` / ``.nii.gz`` file as a Volume (LPS).

    Parameters
    ----------
    path
        The NIfTI-1 or NIfTI-2 file.
    volume_index
        Which volume of a 4-D file (0-based); must be 0 for a 3-D file.

    Notes
    -----
    The affine is nibabel's best affine: the sform when ``sform_code > 0``, else the
    qform when ``qform_code > 0``, else the pixdim scaling (with a warning, since
    orientation is then unknown). ``scl_slope``/``scl_inter`` are applied.
    """
    import nibabel

    path = Path(path)
    if not path.exists():
        raise ImagingError(f"{path}: file does not exist")
    problem = nifti_header_problem(path)
    if problem is not None:
        raise ImagingError(f"{path}: {problem}")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            image = nibabel.load(str(path))
    except FileNotFoundError as exc:
        raise ImagingError(f"{path}: file does not exist") from exc
    except Exception as exc:  # nibabel raises many types for broken headers
        raise ImagingError(f"{path}: broken NIfTI header: {type(exc).__name__}: {exc}") from exc
    if not isinstance(image, (nibabel.Nifti1Image, nibabel.Nifti2Image)):
        raise ImagingError(f"{path}: not a NIfTI image ({type(image).__name__})")

    shape = tuple(int(s) for s in image.shape)
    messages = [f"nibabel: {w.message}" for w in caught]
    while len(shape) > 4 and shape[-1] == 1:
        shape = shape[:-1]
    if len(shape) > 4:
        raise ImagingError(f"{path}: {len(shape)}-D NIfTI {shape}; only 3-D and 4-D are read")
    n_volumes = shape[3] if len(shape) == 4 else 1
    if not 0 <= volume_index < n_volumes:
        raise ImagingError(
            f"{path}: volume {volume_index} requested, the file has {n_volumes} "
            f"(valid: 0 to {n_volumes - 1})"
        )
    header = image.header
    sform_code = int(header["sform_code"])
    qform_code = int(header["qform_code"])
    if sform_code == 0 and qform_code == 0:
        messages.append(
            "NIfTI has neither sform nor qform: orientation unknown, RAS axes assumed"
        )
    ras = np.asarray(image.affine, dtype=np.float64)
    if not np.all(np.isfinite(ras)) or abs(np.linalg.det(ras[:3, :3])) < 1e-12:
        raise ImagingError(f"{path}: broken NIfTI header: singular affine {ras.tolist()}")

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
    description = header["descrip"].item()
    if isinstance(description, bytes):
        description = description.decode("ascii", "replace")
    metadata = {
        "format": "nifti",
        "modality": "MR",
        "sequence": kind.value,
        "sequence_reason": reason,
        "series_description": str(description).strip("\x00 "),
    }
    metadata = {k: v for k, v in metadata.items() if v}
    return Volume(voxels, LPS_TO_RAS @ ras, metadata, tuple(messages))


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
