"""Scanner-shaped DICOM files written with pydicom for the imaging tests.

Small and explicit: each function writes one file whose tags are the ones a vendor
uses for the case under test (Philips private scaling, enhanced multi-frame stacks and
echoes, two series under one UID, multi-echo, mosaics, files without preamble).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import UID, ExplicitVRLittleEndian, generate_uid

MR = "1.2.840.10008.5.1.4.1.1.4"
ENHANCED_MR = "1.2.840.10008.5.1.4.1.1.4.1"
PHILIPS = "Philips MR Imaging DD 001"


def _base(sop_class: str, study: str, series_uid: str, rows: int, columns: int) -> Dataset:
    sop_uid = generate_uid()
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = UID(sop_class)
    ds.file_meta.MediaStorageSOPInstanceUID = sop_uid
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = sop_uid
    ds.StudyInstanceUID = study
    ds.SeriesInstanceUID = series_uid
    ds.Modality = "MR"
    ds.PatientName = "SCANNER^FILES"
    ds.PatientID = "SCAN-0001"
    ds.Rows = rows
    ds.Columns = columns
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    return ds


def pixels(seed: int, rows: int = 8, columns: int = 8) -> np.ndarray:
    """Deterministic 12-bit stored values."""
    return np.random.default_rng(seed).integers(0, 4000, (rows, columns), dtype=np.uint16)


def classic(
    path: Path,
    *,
    study: str,
    series_uid: str,
    z: float,
    instance: int,
    stored: np.ndarray,
    series_number: int = 1,
    description: str = "T2_tse_tra",
    echo_number: int | None = None,
    echo_time: float = 80.0,
    rescale: tuple[float, float] | None = None,
    philips: tuple[float, float | None] | None = None,
    manufacturer: str = "SIEMENS",
    position: Sequence[float] | None = None,
    image_type: Sequence[str] = ("ORIGINAL", "PRIMARY", "M", "NORM"),
    extra: dict[int, tuple[str, Any]] | None = None,
    preamble: bool = True,
) -> Path:
    """One MR Image Storage slice (axial, 1 × 1 mm pixels, 5 mm slices)."""
    rows, columns = stored.shape
    ds = _base(MR, study, series_uid, rows, columns)
    ds.Manufacturer = manufacturer
    ds.SeriesDescription = description
    ds.SeriesNumber = series_number
    ds.InstanceNumber = instance
    ds.ImageType = list(image_type)
    ds.RepetitionTime = 3000
    ds.EchoTime = echo_time
    if echo_number is not None:
        ds.EchoNumbers = echo_number
    ds.ImagePositionPatient = list(position) if position is not None else [-4.0, -4.0, z]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing = [1, 1]
    ds.SliceThickness = 5
    if rescale is not None:
        ds.RescaleSlope, ds.RescaleIntercept = rescale
        ds.RescaleType = "normalized"
    if philips is not None:
        ss, si = philips
        block = ds.private_block(0x2005, PHILIPS, create=True)
        block.add_new(0x0E, "FL", ss)
        if si is not None:
            block.add_new(0x0D, "FL", si)
    for tag, (vr, value) in (extra or {}).items():
        ds.add_new(tag, vr, value)
    ds.PixelData = stored.astype(np.uint16).tobytes()
    if preamble:
        ds.save_as(path, enforce_file_format=True)
    else:
        ds.preamble = None
        ds.save_as(path, enforce_file_format=False, implicit_vr=False, little_endian=True)
    return path


@dataclass
class EnhancedFrame:
    """One frame of an enhanced MR file."""

    z: float
    stored: np.ndarray
    stack: str = "1"
    in_stack: int = 1
    echo_time: float = 80.0
    temporal: int | None = None
    rescale: tuple[float, float] = (1.0, 0.0)
    philips_ss: float | None = None
    real_world: tuple[float, float, str] | None = None
    frame_type: Sequence[str] = field(default_factory=lambda: ("ORIGINAL", "PRIMARY", "M", "NONE"))


def enhanced(
    path: Path,
    frames: Sequence[EnhancedFrame],
    *,
    study: str,
    series_uid: str | None = None,
    series_number: int = 1,
    description: str = "mDIXON_enh",
    manufacturer: str = "Philips",
) -> Path:
    """One Enhanced MR Image Storage file with per-frame functional groups."""
    rows, columns = frames[0].stored.shape
    ds = _base(ENHANCED_MR, study, series_uid or generate_uid(), rows, columns)
    ds.Manufacturer = manufacturer
    ds.SeriesDescription = description
    ds.SeriesNumber = series_number
    ds.InstanceNumber = 1
    ds.ImageType = ["ORIGINAL", "PRIMARY", "M", "NONE"]
    ds.NumberOfFrames = len(frames)
    shared = Dataset()
    measures = Dataset()
    measures.PixelSpacing = [1, 1]
    measures.SliceThickness = 5
    shared.PixelMeasuresSequence = DicomSequence([measures])
    orientation = Dataset()
    orientation.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    shared.PlaneOrientationSequence = DicomSequence([orientation])
    timing = Dataset()
    timing.RepetitionTime = 3000
    timing.FlipAngle = 90
    shared.MRTimingAndRelatedParametersSequence = DicomSequence([timing])
    ds.SharedFunctionalGroupsSequence = DicomSequence([shared])
    items = []
    for frame in frames:
        item = Dataset()
        content = Dataset()
        content.StackID = frame.stack
        content.InStackPositionNumber = frame.in_stack
        if frame.temporal is not None:
            content.TemporalPositionIndex = frame.temporal
        item.FrameContentSequence = DicomSequence([content])
        position = Dataset()
        position.ImagePositionPatient = [-4.0, -4.0, frame.z]
        item.PlanePositionSequence = DicomSequence([position])
        echo = Dataset()
        echo.EffectiveEchoTime = frame.echo_time
        item.MREchoSequence = DicomSequence([echo])
        frame_type = Dataset()
        frame_type.FrameType = list(frame.frame_type)
        item.MRImageFrameTypeSequence = DicomSequence([frame_type])
        transform = Dataset()
        transform.RescaleSlope, transform.RescaleIntercept = frame.rescale
        transform.RescaleType = "US"
        item.PixelValueTransformationSequence = DicomSequence([transform])
        if frame.real_world is not None:
            slope, intercept, units = frame.real_world
            mapping = Dataset()
            mapping.RealWorldValueSlope = slope
            mapping.RealWorldValueIntercept = intercept
            mapping.RealWorldValueFirstValueMapped = 0
            mapping.RealWorldValueLastValueMapped = 4095
            mapping.LUTLabel = "RWV"
            mapping.LUTExplanation = "test mapping"
            code = Dataset()
            code.CodeValue = units
            code.CodingSchemeDesignator = "UCUM"
            code.CodeMeaning = units
            mapping.MeasurementUnitsCodeSequence = DicomSequence([code])
            item.RealWorldValueMappingSequence = DicomSequence([mapping])
        if frame.philips_ss is not None:
            # Philips enhanced: the classic private tags sit in a per-frame private item
            # (2005,140F) of creator block 0x14.
            private = Dataset()
            block = private.private_block(0x2005, PHILIPS, create=True)
            block.add_new(0x0E, "FL", frame.philips_ss)
            item.add_new(0x20050014, "LO", "Philips MR Imaging DD 005")
            item.add_new(0x2005140F, "SQ", DicomSequence([private]))
        items.append(item)
    ds.PerFrameFunctionalGroupsSequence = DicomSequence(items)
    ds.PixelData = np.stack([f.stored for f in frames]).astype(np.uint16).tobytes()
    ds.save_as(path, enforce_file_format=True)
    return path
