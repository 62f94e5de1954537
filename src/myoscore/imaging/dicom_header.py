"""One DICOM file's header → the frames (2-D images) it holds, with what grouping needs.

A single-frame file gives one :class:`Frame`; an enhanced (or legacy) multi-frame file
one per frame, with the per-frame functional groups lifted onto it. Only the tags in
:mod:`myoscore.imaging.dicom_tags` are read (``specific_tags``, no pixel data).
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from myoscore.imaging.dicom_checks import encapsulated_problem, header_ends_cleanly, native_dtype, pixel_element
from myoscore.imaging.dicom_tags import CLASSIFY_FIELDS, header_tag_list, non_image_reason
from myoscore.imaging.dicom_values import (
    RawHeader,
    as_float,
    as_floats,
    as_int,
    as_point,
    as_str,
    as_tokens,
    first_item,
    plain,
)
from myoscore.imaging.records import NativePixels, SkippedFile
from myoscore.imaging.scaling import Scaling, frame_scaling

__all__ = ["Frame", "SeriesCache", "read_dicom"]


@dataclass
class Frame:
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
    scaling: Scaling
    dtype: str
    native: NativePixels | None
    fields: dict[str, Any]
    identifying: dict[str, str]
    notes: list[str]
    multiframe: bool
    # Identity beyond the UID (PS3.3 C.7.3.1, C.7.6.16): scanners reuse one UID for
    # several series, stacks, echoes, repetitions.
    series_number: int | None = None
    stack: str = ""
    echo_time: float | None = None
    acquisition: int | None = None
    temporal: int | None = None
    b_value: float | None = None
    #: Why ImagePositionPatient could not be used ("" when it could, or is absent).
    position_problem: str = ""

    @property
    def label(self) -> str:
        """File name, with the frame number for multi-frame files (for messages)."""
        return self.path.name if self.frame is None else f"{self.path.name}[frame {self.frame + 1}]"



SeriesCache = dict[tuple[Any, ...], tuple[dict[str, Any], dict[str, str]]]


def _syntax_of_encoding(implicit_vr: bool | None, little_endian: bool | None) -> str:
    """The transfer syntax a file without file meta was written in (as pydicom found it)."""
    from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

    if implicit_vr is None or little_endian is None:
        return ""
    if implicit_vr:
        return str(ImplicitVRLittleEndian)
    return str(ExplicitVRLittleEndian if little_endian else ExplicitVRBigEndian)


def read_dicom(
    path: Path, fp: Any, info: os.stat_result, has_marker: bool, cache: SeriesCache
) -> list[Frame] | SkippedFile:
    import pydicom

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dataset = pydicom.dcmread(
            fp, stop_before_pixels=True, specific_tags=header_tag_list(), force=not has_marker
        )
        header = RawHeader(dataset)
        result = _frames_of_dicom(path, fp, info, dataset, header, cache)
    notes = sorted({str(w.message) for w in caught})
    if notes and isinstance(result, list) and result:
        result[0].notes.extend(notes)
    return result


def _frames_of_dicom(
    path: Path, fp: Any, info: os.stat_result, dataset: Any, header: RawHeader, cache: SeriesCache
) -> list[Frame] | SkippedFile:
    size = info.st_size
    meta = getattr(dataset, "file_meta", None)
    transfer_syntax = as_str(meta.get("TransferSyntaxUID")) if meta is not None else ""
    if not transfer_syntax:
        # No file meta (headerless file): the encoding pydicom found is the syntax.
        transfer_syntax = _syntax_of_encoding(*dataset.original_encoding)
    sop_class = as_str(header.get("SOPClassUID")) or (
        as_str(meta.get("MediaStorageSOPClassUID")) if meta is not None else ""
    )
    if fp.tell() > size:
        return SkippedFile(path, f"truncated: the header runs past the end of the file ({size} bytes)")

    not_image = non_image_reason(sop_class)
    if not_image is not None:
        return SkippedFile(path, f"DICOM {not_image} (SOP class {sop_class})")

    implicit_vr, little_endian = dataset.original_encoding
    pixel = pixel_element(fp, size, little_endian is not False, bool(implicit_vr))
    if pixel is None:
        if not header_ends_cleanly(fp, dataset, size):
            return SkippedFile(
                path, f"truncated: the file ends inside the header (at byte {size}), before the image"
            )
        what = f"SOP class {sop_class}" if sop_class else "no SOP class"
        return SkippedFile(path, f"DICOM without pixel data ({what}); nothing to show")

    tag, offset, length = pixel
    if offset > size:
        return SkippedFile(path, f"truncated: the file ends inside the pixel data header ({size} bytes)")
    rows = as_int(header.get("Rows")) or 0
    columns = as_int(header.get("Columns")) or 0
    if rows <= 0 or columns <= 0:
        return SkippedFile(path, "image without Rows/Columns; cannot tell the matrix size")
    samples = as_int(header.get("SamplesPerPixel")) or 1
    if samples != 1:
        photometric = as_str(header.get("PhotometricInterpretation")) or "colour"
        return SkippedFile(
            path, f"colour image ({samples} samples per pixel, {photometric}); only greyscale is read"
        )
    n_frames = as_int(header.get("NumberOfFrames")) or 1
    bits = as_int(header.get("BitsAllocated")) or 16
    native: NativePixels | None = None
    if length == 0xFFFFFFFF:
        problem = encapsulated_problem(fp, offset, size, little_endian is not False)
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
        dtype = (
            native_dtype(transfer_syntax, bits, as_int(header.get("PixelRepresentation")) == 1, samples)
            if tag == 0x7FE00010
            else None
        )
        if dtype is not None:
            native = NativePixels(
                offset=offset,
                dtype=dtype,
                bits_stored=as_int(header.get("BitsStored")) or bits,
                file_size=size,
                mtime_ns=info.st_mtime_ns,
            )

    study_uid = as_str(header.get("StudyInstanceUID"))
    series_uid = as_str(header.get("SeriesInstanceUID"))
    image_type = as_tokens(header.get("ImageType"))
    echo = as_float(header.get("EchoNumbers"))
    if echo is None:
        echo = as_float(header.get("EchoTime"))
    multiframe = "PerFrameFunctionalGroupsSequence" in dataset or n_frames > 1
    series_number = as_int(header.get("SeriesNumber"))
    mosaic = _mosaic_problem(dataset, image_type, rows, columns)
    if mosaic is not None:
        return SkippedFile(path, mosaic)
    # Series-level fields are the same for every image of a series part: convert them
    # once (multi-frame files lift values from functional groups, so never share).
    key = (study_uid, series_uid, series_number, image_type, echo, transfer_syntax)
    cached = None if multiframe else cache.get(key)
    if cached is None:
        fields = {k: plain(dataset.get(k)) for k in CLASSIFY_FIELDS if k in dataset}
        fields["TransferSyntaxUID"] = transfer_syntax
        fields["SOPClassUID"] = sop_class
        identifying = {
            "patient_id": as_str(dataset.get("PatientID")),
            "patient_name": as_str(dataset.get("PatientName")),
            "birth_date": as_str(dataset.get("PatientBirthDate")),
            "study_date": as_str(dataset.get("StudyDate")),
        }
        if not multiframe:
            cache[key] = (fields, identifying)
    else:
        fields, identifying = cached
    common: dict[str, Any] = {
        "path": path,
        "study_uid": study_uid,
        "series_uid": series_uid,
        "sop_uid": as_str(header.get("SOPInstanceUID")),
        "rows": rows,
        "columns": columns,
        "fields": fields,
        "identifying": identifying,
        "notes": [],
        "dtype": f"{'int' if as_int(header.get('PixelRepresentation')) == 1 else 'uint'}"
        f"{8 * max(1, bits // 8)}",
        "series_number": series_number,
        "acquisition": as_int(header.get("AcquisitionNumber")),
    }
    if multiframe:
        return _frames_of_multiframe(dataset, common, native, n_frames, rows * columns * bits // 8)

    scaling = frame_scaling(dataset, as_float(header.get("RescaleSlope")), as_float(header.get("RescaleIntercept")))
    raw_position = header.get("ImagePositionPatient")
    position = as_point(raw_position)
    return [
        Frame(
            frame=None,
            instance_number=as_int(header.get("InstanceNumber")),
            position=position,
            orientation=as_floats(header.get("ImageOrientationPatient"), 6),
            pixel_spacing=as_floats(header.get("PixelSpacing"), 2),
            image_type=image_type,
            echo=echo,
            scaling=scaling,
            native=native,
            multiframe=False,
            echo_time=as_float(header.get("EchoTime")),
            temporal=as_int(header.get("TemporalPositionIdentifier")),
            b_value=as_float(header.get("DiffusionBValue")),
            position_problem=_position_problem(raw_position, position),
            **common,
        )
    ]


def _position_problem(raw: Any, position: tuple[float, float, float] | None) -> str:
    if position is not None or raw is None or raw == "":
        return ""
    shown = "\\".join(str(v) for v in raw) if isinstance(raw, (tuple, list)) else str(raw)
    return f"ImagePositionPatient {shown!r} is not three finite numbers"


def _mosaic_problem(dataset: Any, image_type: tuple[str, ...], rows: int, columns: int) -> str | None:
    """Why a Siemens mosaic is refused, or None when the file is not a mosaic.

    A mosaic packs N slices as tiles of one large frame; its ImagePositionPatient is
    the corner of the whole frame and the slice order lives in the CSA header. Rather
    than build wrong geometry, myoscore refuses mosaics (dcm2niix unpacks them; import
    its NIfTI).
    """
    from myoscore.imaging.dicom_tags import SIEMENS_CREATOR, SIEMENS_MOSAIC_COUNT
    from myoscore.imaging.scaling import private_float

    count = private_float(dataset, SIEMENS_MOSAIC_COUNT, SIEMENS_CREATOR, "SIEMENS", integer=True)
    if "MOSAIC" not in image_type and count is None:
        return None
    images = f"{int(count)} images" if count else "an unknown number of images (no NumberOfImagesInMosaic)"
    return (
        f"Siemens mosaic ({images} tiled in one {rows}×{columns} frame): mosaics are not unpacked, "
        "since their slice geometry lives in the private CSA header; convert the series with "
        "dcm2niix and import the NIfTI"
    )


def _frames_of_multiframe(
    dataset: Any, common: dict[str, Any], native: NativePixels | None, n_frames: int, frame_bytes: int
) -> list[Frame]:
    """Frames of an enhanced (or legacy) multi-frame file, with per-frame geometry."""
    shared = first_item(dataset, "SharedFunctionalGroupsSequence")
    per_frame = list(getattr(dataset, "PerFrameFunctionalGroupsSequence", []) or [])
    fields = common["fields"]
    # Enhanced MR keeps TR/TI in functional groups; lift them for classification.
    timing = first_item(shared, "MRTimingAndRelatedParametersSequence")
    if timing is not None and "RepetitionTime" not in fields:
        fields["RepetitionTime"] = plain(timing.get("RepetitionTime"))
        fields["FlipAngle"] = plain(timing.get("FlipAngle"))
    modifier = first_item(shared, "MRModifierSequence")
    if modifier is not None and "InversionTime" not in fields:
        times = modifier.get("InversionTimes")
        if times:
            fields["InversionTime"] = plain(times[0] if not isinstance(times, float) else times)

    def lookup(index: int, *keywords: str) -> Any:
        item = per_frame[index] if index < len(per_frame) else None
        found = first_item(item, *keywords)
        return found if found is not None else first_item(shared, *keywords)

    frames: list[Frame] = []
    for index in range(n_frames):
        plane_position = lookup(index, "PlanePositionSequence")
        plane_orientation = lookup(index, "PlaneOrientationSequence")
        measures = lookup(index, "PixelMeasuresSequence")
        transform = lookup(index, "PixelValueTransformationSequence")
        echo_item = lookup(index, "MREchoSequence")
        frame_type = lookup(index, "MRImageFrameTypeSequence")
        content = lookup(index, "FrameContentSequence")

        raw_position = (
            plane_position.get("ImagePositionPatient") if plane_position is not None
            else dataset.get("ImagePositionPatient")
        )
        position = as_point(raw_position)
        orientation = as_floats(
            plane_orientation.get("ImageOrientationPatient") if plane_orientation is not None
            else dataset.get("ImageOrientationPatient"),
            6,
        )
        spacing = as_floats(
            measures.get("PixelSpacing") if measures is not None else dataset.get("PixelSpacing"),
            2,
        )
        slope = as_float(transform.get("RescaleSlope")) if transform is not None else None
        intercept = as_float(transform.get("RescaleIntercept")) if transform is not None else None
        if slope is None:
            slope = as_float(dataset.get("RescaleSlope"))
            intercept = as_float(dataset.get("RescaleIntercept"))
        frame_item = per_frame[index] if index < len(per_frame) else None
        scaling = frame_scaling(dataset, slope, intercept, per_frame=frame_item, shared=shared)
        echo = as_float(echo_item.get("EffectiveEchoTime")) if echo_item is not None else None
        if echo is not None and "EchoTime" not in fields:
            fields["EchoTime"] = echo
        diffusion = lookup(index, "MRDiffusionSequence")
        image_type = (
            as_tokens(frame_type.get("FrameType")) if frame_type is not None else ()
        ) or as_tokens(dataset.get("ImageType"))
        in_stack = as_int(content.get("InStackPositionNumber")) if content is not None else None
        stack = as_str(content.get("StackID")) if content is not None else ""
        temporal = as_int(content.get("TemporalPositionIndex")) if content is not None else None
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
            Frame(
                frame=index,
                instance_number=in_stack if in_stack is not None else index + 1,
                position=position,
                orientation=orientation,
                pixel_spacing=spacing,
                image_type=image_type,
                echo=echo,
                scaling=scaling,
                native=frame_native,
                multiframe=True,
                stack=stack,
                echo_time=echo,
                temporal=temporal,
                b_value=as_float(diffusion.get("DiffusionBValue")) if diffusion is not None else None,
                position_problem=_position_problem(raw_position, position),
                **common,
            )
        )
    if not per_frame and n_frames > 1 and frames:
        frames[0].notes.append(
            "multi-frame file without per-frame functional groups: all frames share one "
            "position"
        )
    return frames
