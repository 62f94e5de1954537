"""The UIDs of a series' instances, read from headers only (for SR evidence and fetching)."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger(__name__)

__all__ = ["instance_uids", "pseudonymised"]


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


#: Header fields replaced or emptied when an instance is sent to the study's server. UIDs
#: are kept (DICOM PS3.15 Basic Profile with the Retain UIDs option): they are how every
#: site finds the same series; dates, names and numbers that identify the patient go.
_EMPTIED = (
    "PatientBirthDate", "PatientSex", "PatientAge", "PatientAddress", "PatientTelephoneNumbers",
    "OtherPatientIDs", "OtherPatientNames", "PatientMotherBirthName", "MilitaryRank", "EthnicGroup",
    "AccessionNumber", "InstitutionName", "InstitutionAddress", "InstitutionalDepartmentName",
    "ReferringPhysicianName", "PerformingPhysicianName", "OperatorsName", "NameOfPhysiciansReadingStudy",
    "RequestingPhysician", "StationName", "DeviceSerialNumber", "StudyID", "StudyDate", "SeriesDate",
    "AcquisitionDate", "ContentDate", "StudyTime", "SeriesTime", "AcquisitionTime", "ContentTime",
    "InstanceCreationDate", "PerformedProcedureStepStartDate", "StudyDescription", "SeriesDescription",
    "ProtocolName", "RequestAttributesSequence", "ImageComments", "AdditionalPatientHistory",
)


def pseudonymised(path: str | Path, subject_code: str) -> bytes:
    """The file's bytes with the patient replaced by the subject code and identifying
    header fields emptied (the file on disk is not touched). SeriesDescription goes too:
    it often carries names; the store keeps the classified sequence kind instead."""
    import pydicom

    ds = pydicom.dcmread(path)
    ds.remove_private_tags()
    ds.PatientID = subject_code
    ds.PatientName = subject_code + "^"
    for keyword in _EMPTIED:
        if keyword in ds:
            delattr(ds, keyword)
    ds.PatientIdentityRemoved = "YES"
    ds.DeidentificationMethod = "myoscore: pseudonym; PS3.15 Basic Profile, Retain UIDs"
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()
