"""Build a :class:`~myoscore.imaging.volume.Volume` from an indexed DICOM series.

Speed matters here (the budget is "no slower than SimpleITK's series reader"), so:

* uncompressed slices are read straight from the byte offset the indexer recorded
  (``NativePixels``) into a preallocated array — no second header parse, no copy;
  if the file changed since indexing, pydicom reads it again;
* compressed slices (JPEG lossless, JPEG-LS, JPEG 2000, RLE) are decoded by the
  pydicom pixel-data plugins (pylibjpeg, openjpeg, rle) into the same array;
* files are read by a small thread pool (file I/O and the decoders release the GIL);
* rescale slope/intercept are applied per slice; the result is int16 when every
  value is an integer that fits, float32 otherwise. When the stored values already
  are the answer (slope 1, intercept 0, int16 or small uint16) no copy is made.
"""

from __future__ import annotations

import os
import threading
import warnings
from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from myoscore.domain import ImagingError
from myoscore.imaging.dicom_index import index_paths
from myoscore.imaging.geometry import plan_stack, slice_normal
from myoscore.imaging.records import SeriesRecord, SliceRef
from myoscore.imaging.scaling import DISPLAY, REAL_WORLD, VALUE_CHOICES
from myoscore.imaging.volume import Volume

__all__ = ["load_series", "metadata_from_record"]

_INT16 = np.iinfo(np.int16)


def metadata_from_record(record: SeriesRecord) -> dict[str, Any]:
    """The non-identifying Volume metadata of a series record."""
    header = record.header

    def number(key: str) -> float | None:
        value = header.get(key)
        if isinstance(value, (tuple, list)):
            value = value[0] if value else None
        try:
            return None if value in (None, "") else float(value)
        except (TypeError, ValueError):
            return None

    image_type = header.get("ImageType") or ()
    metadata: dict[str, Any] = {
        "format": record.source,
        "modality": record.modality,
        "sequence": record.kind.value,
        "sequence_reason": record.kind_reason,
        "series_description": record.description,
        "protocol_name": record.protocol_name,
        "series_number": record.series_number,
        "repetition_time": number("RepetitionTime"),
        "echo_time": number("EchoTime"),
        "inversion_time": number("InversionTime"),
        "flip_angle": number("FlipAngle"),
        "magnetic_field_strength": number("MagneticFieldStrength"),
        "manufacturer": str(header.get("Manufacturer") or ""),
        "manufacturer_model": str(header.get("ManufacturerModelName") or ""),
        "slice_thickness": number("SliceThickness"),
        "image_type": "\\".join(image_type) if isinstance(image_type, tuple) else str(image_type),
        "transfer_syntax": str(header.get("TransferSyntaxUID") or ""),
        "series_part": str(header.get("series_part") or ""),
        "real_world_source": str(header.get("real_world_source") or ""),
        "real_world_units": str(header.get("real_world_units") or ""),
    }
    return {key: value for key, value in metadata.items() if value not in (None, "")}


def _resolve(source: SeriesRecord | str | os.PathLike[str] | Iterable[Any], part: str | None) -> SeriesRecord:
    if isinstance(source, SeriesRecord):
        return source
    paths = [source] if isinstance(source, (str, os.PathLike)) else list(source)
    result = index_paths(paths)
    where = ", ".join(str(p) for p in paths[:3]) + (" …" if len(paths) > 3 else "")
    if not result.series:
        reasons = "; ".join(str(s) for s in result.skipped[:5])
        raise ImagingError(f"no readable image series in {where}" + (f": {reasons}" if reasons else ""))
    if len(result.series) == 1:
        return result.series[0]
    if part is not None:
        matches = [r for r in result.series if r.split == part]
        if len(matches) == 1:
            return matches[0]
    found = "; ".join(
        f"{r.description or '(no description)'} [{r.key}] {r.split_reason}".strip() for r in result.series
    )
    wanted = f"part {part!r} not among " if part else ""
    raise ImagingError(
        f"{len(result.series)} series found in {where}, expected one: {wanted}{found}; "
        "index the folder and pass one SeriesRecord (or the part)"
    )


def _read_native(ref: SliceRef, target: np.ndarray) -> bool:
    """Read a slice's raw bytes into ``target``; False if the file changed since indexing."""
    native = ref.native
    if native is None:
        return False
    try:
        info = os.stat(ref.path)
    except OSError as exc:
        raise ImagingError(f"{ref.path}: cannot be read: {exc.strerror or exc}") from exc
    if info.st_size != native.file_size or info.st_mtime_ns != native.mtime_ns:
        return False
    file_dtype = np.dtype(native.dtype)
    if file_dtype.itemsize != target.dtype.itemsize or file_dtype.kind != target.dtype.kind:
        return False
    with open(ref.path, "rb", buffering=0) as fp:
        fp.seek(native.offset)
        # ndarray.data is the memoryview memoryview(target) would give; numpy's stubs
        # declare the buffer protocol on ndarray for Python >= 3.12 only.
        view = target.data.cast("B")
        got = fp.readinto(view)
    if got != target.nbytes:
        raise ImagingError(
            f"{ref.label}: truncated pixel data ({got} of {target.nbytes} bytes) in {ref.path}"
        )
    if not file_dtype.isnative and file_dtype.itemsize > 1:
        target.byteswap(inplace=True)
    bits = file_dtype.itemsize * 8
    if 0 < native.bits_stored < bits:
        # Bits above BitsStored are not part of the value (PS3.5 8.1.1; overlays and
        # garbage live there): mask them off unsigned data, sign-extend signed data.
        if file_dtype.kind == "i":
            shift = bits - native.bits_stored
            np.left_shift(target, shift, out=target)
            np.right_shift(target, shift, out=target)
        else:
            np.bitwise_and(target, (1 << native.bits_stored) - 1, out=target)
    return True


def _decode_file(path: Path, frames: list[tuple[int | None, int]], raw: np.ndarray) -> None:
    """Decode (frame, slot) pairs of one file with pydicom's pixel plugins into ``raw``."""
    from pydicom import dcmread

    dataset = None
    try:
        dataset = dcmread(path, force=True)  # force: files without preamble are valid too
        pixels = dataset.pixel_array
    except Exception as exc:  # any decoder failure names the file and the syntax
        meta = getattr(dataset, "file_meta", None)
        syntax = getattr(meta, "TransferSyntaxUID", None)
        name = getattr(syntax, "name", None) or "unknown transfer syntax"
        raise ImagingError(f"{path}: cannot decode pixel data ({name}): {exc}") from exc
    for frame, slot in frames:
        image = pixels if frame is None or pixels.ndim == 2 else pixels[frame]
        if image.shape != raw.shape[1:]:
            raise ImagingError(
                f"{path}: image is {image.shape[0]}×{image.shape[1]}, "
                f"the series is {raw.shape[1]}×{raw.shape[2]}"
            )
        raw[slot] = image


def _to_output(
    raw: np.ndarray, slopes: np.ndarray, intercepts: np.ndarray
) -> tuple[np.ndarray, str]:
    """Apply per-slice rescale; int16 when lossless, else float32. Returns (array, note)."""
    identity = bool(np.all(slopes == 1.0) and np.all(intercepts == 0.0))
    integral = bool(
        np.all(slopes == np.round(slopes)) and np.all(intercepts == np.round(intercepts))
    )
    if identity and raw.dtype == np.int16:
        return raw, ""
    if integral and raw.dtype.kind in "iu":
        if raw.size:
            low = raw.min(axis=(1, 2)).astype(np.float64)
            high = raw.max(axis=(1, 2)).astype(np.float64)
        else:
            low = high = np.zeros(len(raw))
        ends = np.stack([low * slopes + intercepts, high * slopes + intercepts])
        if ends.min() >= _INT16.min and ends.max() <= _INT16.max:
            if identity and raw.dtype.itemsize == 2:
                return raw.view(np.int16), ""  # uint16 below 32768: same bits
            out = np.empty(raw.shape, dtype=np.int16)
            for k in range(len(raw)):
                out[k] = raw[k].astype(np.int32) * int(slopes[k]) + int(intercepts[k])
            return out, ""
    out32 = np.empty(raw.shape, dtype=np.float32)
    for k in range(len(raw)):
        np.multiply(raw[k], slopes[k], out=out32[k], casting="unsafe")
        out32[k] += np.float32(intercepts[k])
    note = ""
    if raw.dtype.kind in "iu" and raw.dtype.itemsize >= 4 and raw.size:
        peak = float(np.abs(out32).max())
        if peak > 2**24:
            note = f"values up to {peak:g} exceed float32 integer precision (2^24)"
    return out32, note


def load_series(
    source: SeriesRecord | str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    *,
    part: str | None = None,
    values: str = DISPLAY,
    workers: int | None = None,
) -> Volume:
    """Load one DICOM (or NIfTI) series as a Volume.

    Parameters
    ----------
    source
        A :class:`SeriesRecord` from :func:`index_paths` (fast: headers are not read
        again), or files/folders holding exactly one series (they are indexed first).
    part
        With files: which split part to load when they hold several (``SeriesRecord.split``,
        e.g. ``"#2"`` for the second part of an enhanced multi-frame file), as stored at import.
    values
        ``"display"`` (default: stored × RescaleSlope + RescaleIntercept, what scanners
        show and readers score) or ``"real_world"`` (Philips floating-point values or the
        Real World Value Mapping where the header has them; otherwise the same as display).
        The rules are in :mod:`myoscore.imaging.scaling`; the Volume's metadata says which
        values it holds (``values``, ``value_units``).
    workers
        Threads reading files; default ``min(4, CPU count)``.

    Raises
    ------
    ImagingError
        When no regular volume can be built — duplicated slice positions, very uneven
        spacing, undecodable or truncated pixel data — naming the series, files and
        positions. Milder problems (missing slices, which are filled with stored value 0
        so the geometry stays exact, slightly uneven spacing) become ``Volume.warnings``.
    """
    if values not in VALUE_CHOICES:
        raise ImagingError(f"values must be one of {', '.join(VALUE_CHOICES)}, not {values!r}")
    record = _resolve(source, part)
    if record.source == "nifti":
        from myoscore.imaging.nifti import load_nifti

        return load_nifti(record.paths[0], values=values)
    if not record.slices:
        raise ImagingError(f"series {record.key}: no images")
    name = f"series '{record.description or '(no description)'}' [{record.key}]"

    slices = record.slices
    plan = plan_stack([s.location for s in slices])
    if plan.fatal is not None:
        labelled = plan_stack([s.location for s in slices], [s.label for s in slices])
        raise ImagingError(f"{name}: cannot build a volume: {labelled.fatal}")
    n_slots = plan.n_slots
    _, rows, columns = record.shape

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        raw = _read_pixels(slices, plan.slots, (n_slots, rows, columns), workers)

    def linear(ref: SliceRef) -> tuple[float, float]:
        if values == REAL_WORLD and ref.real_slope is not None:
            return ref.real_slope, ref.real_intercept
        return ref.rescale_slope, ref.rescale_intercept

    first_slope, first_intercept = linear(slices[0])
    slopes = np.full(n_slots, first_slope, dtype=np.float64)
    intercepts = np.full(n_slots, first_intercept, dtype=np.float64)
    for ref, slot in zip(slices, plan.slots, strict=True):
        slopes[slot], intercepts[slot] = linear(ref)
    voxels, note = _to_output(raw, slopes, intercepts)

    affine = _affine(record, slices, plan.slots)
    messages = list(plan.issues)
    if note:
        messages.append(note)
    messages.extend(sorted({f"pydicom: {w.message}" for w in caught}))
    metadata = metadata_from_record(record)
    metadata["values"] = values
    if values == REAL_WORLD and "real_world_units" in metadata:
        metadata["value_units"] = metadata["real_world_units"]
    return Volume(voxels, affine, metadata, tuple(messages))


def _affine(record: SeriesRecord, slices: tuple[SliceRef, ...], slots: tuple[int, ...]) -> np.ndarray:
    iop = np.asarray(record.orientation, dtype=np.float64)
    affine = np.eye(4)
    affine[:3, 0] = iop[:3] * record.spacing[0]
    affine[:3, 1] = iop[3:6] * record.spacing[1]
    first = np.asarray(slices[0].position, dtype=np.float64)
    if len(slices) > 1 and slots[-1] > 0:
        affine[:3, 2] = (np.asarray(slices[-1].position) - first) / slots[-1]
    else:
        affine[:3, 2] = slice_normal(iop) * record.spacing[2]
    affine[:3, 3] = first
    return affine


def _read_pixels(
    slices: tuple[SliceRef, ...],
    slots: tuple[int, ...],
    shape: tuple[int, int, int],
    workers: int | None,
) -> np.ndarray:
    dtype = np.result_type(*{np.dtype(s.dtype) for s in slices})
    raw = np.zeros(shape, dtype=dtype)
    pending: dict[Path, list[tuple[int | None, int]]] = defaultdict(list)
    fast: list[tuple[SliceRef, int]] = []
    for ref, slot in zip(slices, slots, strict=True):
        if ref.native is not None:
            fast.append((ref, slot))
        else:
            pending[ref.path].append((ref.frame, slot))

    lock = threading.Lock()

    def read_fast(item: tuple[SliceRef, int]) -> None:
        ref, slot = item
        if not _read_native(ref, raw[slot]):
            with lock:
                pending[ref.path].append((ref.frame, slot))

    def read_batch(batch: list[tuple[SliceRef, int]]) -> None:
        for item in batch:
            read_fast(item)

    n_workers = workers or min(4, os.cpu_count() or 1)
    if n_workers <= 1 or len(slices) < 4:
        for item in fast:
            read_fast(item)
        for path, frames in list(pending.items()):
            _decode_file(path, frames, raw)
        return raw
    with ThreadPoolExecutor(max_workers=n_workers, thread_name_prefix="myoscore-dicom") as pool:
        # Chunks keep the per-task overhead small next to a 0.5 MB read.
        chunk = max(1, len(fast) // (n_workers * 4))
        batches = [fast[i : i + chunk] for i in range(0, len(fast), chunk)]
        for future in [pool.submit(read_batch, b) for b in batches]:
            future.result()
        futures = [
            pool.submit(_decode_file, path, frames, raw) for path, frames in pending.items()
        ]
        for future in futures:
            future.result()
    return raw

