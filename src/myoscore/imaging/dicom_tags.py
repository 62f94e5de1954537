"""Which DICOM tags indexing reads, and what a SOP class tells us.

Tables only (no file access). Keywords are turned into integer tags on first use, so
pydicom's dictionary loads when a header is read, not when the workstation starts.
"""

from __future__ import annotations

from functools import cache

__all__ = [
    "CLASSIFY_FIELDS",
    "HEADER_TAGS",
    "NON_IMAGE_CLASSES",
    "PHILIPS_CREATOR",
    "PHILIPS_SCALE_INTERCEPT",
    "PHILIPS_SCALE_SLOPE",
    "PIXEL_TAGS",
    "SIEMENS_CREATOR",
    "SIEMENS_MOSAIC_COUNT",
    "header_tag_list",
    "non_image_reason",
    "tag_of",
]

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
    "AcquisitionNumber",
    "TemporalPositionIdentifier",
    "DiffusionBValue",
    "ImageComments",
    "RealWorldValueMappingSequence",
    "Manufacturer",
    "ManufacturerModelName",
    "SharedFunctionalGroupsSequence",
    "PerFrameFunctionalGroupsSequence",
]

# Private tags, each in its creator's block 0x10 (where both vendors put them); the
# creator is checked before a value is used.
#: Philips private creator (2005,0010), scale intercept (2005,100D) and slope (2005,100E).
PHILIPS_CREATOR = 0x20050010
PHILIPS_SCALE_INTERCEPT = 0x2005100D
PHILIPS_SCALE_SLOPE = 0x2005100E
#: Siemens private creator (0019,0010) and NumberOfImagesInMosaic (0019,100A).
SIEMENS_CREATOR = 0x00190010
SIEMENS_MOSAIC_COUNT = 0x0019100A
_PRIVATE_TAGS = (PHILIPS_CREATOR, PHILIPS_SCALE_INTERCEPT, PHILIPS_SCALE_SLOPE, SIEMENS_CREATOR, SIEMENS_MOSAIC_COUNT)

#: Pixel Data, Float Pixel Data, Double Float Pixel Data.
PIXEL_TAGS = frozenset({0x7FE00010, 0x7FE00008, 0x7FE00009})


@cache
def tag_of() -> dict[str, int]:
    """Keyword → integer tag, built on first use."""
    from pydicom.datadict import tag_for_keyword

    tags = {}
    for keyword in [*HEADER_TAGS, "PhotometricInterpretation"]:
        tag = tag_for_keyword(keyword)
        if tag is None:  # pragma: no cover - guarded by the keyword list above
            raise ValueError(keyword)
        tags[keyword] = tag
    return tags


@cache
def header_tag_list() -> list[int]:
    """The tags to read, as integers (pydicom converts keywords on every call otherwise,
    measured ~25 % slower)."""
    return sorted({*tag_of().values(), *_PRIVATE_TAGS})


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

# SOP classes that are DICOM but not images, by UID prefix (PS3.4 Annex B).
NON_IMAGE_CLASSES = (
    ("1.2.840.10008.5.1.4.1.1.88.", "a structured report (SR), not an image"),
    ("1.2.840.10008.5.1.4.1.1.11.", "a presentation state, not an image"),
    ("1.2.840.10008.5.1.4.1.1.104.", "an encapsulated document (PDF/CDA), not an image"),
    ("1.2.840.10008.5.1.4.1.1.9.", "a waveform (ECG and the like), not an image"),
    ("1.2.840.10008.5.1.4.1.1.66", "a raw data / registration / segmentation object"),
    ("1.2.840.10008.5.1.4.1.1.481.", "a radiotherapy object, not an MR image"),
    ("1.2.840.10008.1.3.10", "a DICOMDIR (media directory), not an image"),
    ("1.2.840.10008.5.1.4.1.1.1.59", "a key object selection, not an image"),
)


def non_image_reason(sop_class: str) -> str | None:
    """Why a SOP class is not an image we read, or None."""
    for prefix, reason in NON_IMAGE_CLASSES:
        if sop_class.startswith(prefix):
            return reason
    return None
