"""Reads and consensus as DICOM Structured Reports (TID 1500), and back.

Template (docs/structured_reports.md): a Comprehensive 3D SR whose content is a TID 1500
*Imaging Measurement Report*. Each scored item is one TID 1501 *Measurement and
Qualitative Evaluation Group*:

- tracking identifier = the item key (``edema.thigh.anterior.R``), with a UID;
- finding site = the atlas unit (SNOMED CT where ``scoring_schemes/coding/anatomy.toml``
  lists a checked code, else ``99MYOSCORE:<unit key>``) with laterality (SNOMED CT
  Right/Left) for sided items;
- method = the protocol (``99MYOSCORE:<protocol hash[:16]>``, meaning ``name version``);
- a qualitative evaluation whose name is the measure (``99MYOSCORE:<measure>``, meaning
  the protocol's indicator) and whose value is the grade's concept declared in the scale
  file, or ``99MYOSCORE:NE`` (not evaluable);
- a consensus value that is no level of the scale (a mean of 2.5) is a numeric
  measurement instead, with UCUM unit ``{score}``.

The observer is the pseudonymous reader (person observer name = reader name; for a
consensus, the one who decided it). The patient module carries the study's pseudonym:
it is built here from the subject code, never copied from an image header, so an SR is
pseudonymous by construction. Evaluated series are referenced by UID in the evidence
sequence.

:func:`sr_ratings` reads such an SR back and decodes each group from its *codes* (finding
site, laterality, measure, grade), checking the tracking identifier agrees, so a
round trip gives the same ratings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from myoscore.domain import NOT_EVALUABLE, MyoscoreError
from myoscore.schemes import Protocol, Scale
from myoscore.schemes.coding import PRIVATE_SCHEME, anatomy_codes

__all__ = [
    "PRIVATE_SCHEME",
    "InstanceReference",
    "SrContent",
    "SrError",
    "SrSubject",
    "build_sr",
    "read_sr",
    "sr_protocol_name",
    "sr_ratings",
    "uid_for",
    "write_sr",
]

_NOT_EVALUABLE_MEANING = "Not evaluable"
_KINDS = ("read", "consensus")


class SrError(MyoscoreError):
    """An SR cannot be built or is not one myoscore can read back."""


@dataclass(frozen=True)
class InstanceReference:
    """One evaluated image instance, by UID only."""

    study_uid: str
    series_uid: str
    sop_class_uid: str
    sop_instance_uid: str


@dataclass(frozen=True)
class SrSubject:
    """Who and what the SR is about, pseudonymous unless ``patient_id`` is given
    (the coordinator's audited "identified" export)."""

    pseudonym: str
    study_uid: str
    exam_label: str = ""
    patient_id: str = ""
    patient_name: str = ""


@dataclass(frozen=True)
class SrContent:
    """What an SR written by myoscore says, decoded."""

    kind: str  # "read" or "consensus"
    observer: str
    patient_id: str
    study_uid: str
    protocol_name: str
    protocol_hash16: str
    values: dict[str, tuple[str | None, float | None]]  # item key -> (level code, number)
    references: tuple[InstanceReference, ...] = field(default=())


# ---------------------------------------------------------------- coding


def _concept(scheme: str, value: str, meaning: str) -> Any:
    from highdicom.sr import CodedConcept

    return CodedConcept(value=value, scheme_designator=scheme, meaning=meaning[:64])


def _unit_code(unit_key: str, unit_name: str) -> tuple[str, str, str]:
    return anatomy_codes().get(unit_key, (PRIVATE_SCHEME, unit_key, unit_name))


def _level_code(scale: Scale, code: str, library_scale: Scale | None) -> tuple[str, str, str]:
    """The concept of one grade: declared in the scale file (the library's copy, since
    a read's stored snapshot does not keep export codings), else the private default."""
    for source in (scale, library_scale):
        if source is None:
            continue
        for level in source.levels:
            if level.code == code and level.concept:
                scheme, _, value = level.concept.partition(":")
                return scheme, value, level.label
    level = scale.level(code)
    return PRIVATE_SCHEME, f"{scale.name}.{code}", level.label


def _laterality(side: str | None) -> Any:
    from pydicom.sr.codedict import codes

    return {"R": codes.SCT.Right, "L": codes.SCT.Left}.get(side or "")


# ---------------------------------------------------------------- writing


def build_sr(
    protocol: Protocol,
    values: Mapping[str, tuple[str | None, float | None]],
    *,
    kind: str,
    observer: str,
    subject: SrSubject,
    references: Sequence[InstanceReference] = (),
    series_uid: str | None = None,
    sop_uid: str | None = None,
    series_number: int = 900,
    when: datetime | None = None,
    library: Mapping[str, Scale] | None = None,
) -> Any:
    """One read's or consensus's values as a Comprehensive 3D SR dataset.

    ``values`` maps item keys to ``(level code, number)``: the code is a level code or
    ``"NE"``; a consensus mean that is no level has code ``None`` and its number.
    ``library`` holds the scales as loaded from the scale files: a read's stored
    protocol snapshot does not keep the grades' export concepts, the files do.
    """
    import highdicom as hd
    from pydicom.dataset import Dataset
    from pydicom.sr.codedict import codes
    from pydicom.uid import generate_uid

    if kind not in _KINDS:
        raise SrError(f"SR kind must be 'read' or 'consensus', not {kind!r}")
    library = library or {}
    site_owner: dict[tuple[str, str], str] = {}
    method = _concept(PRIVATE_SCHEME, protocol.hash[:16], f"{protocol.name} {protocol.version}")
    groups = []
    for key, (code, number) in values.items():
        item = protocol.item(key)
        scale = protocol.scales[item.scale]
        site = _unit_code(item.unit.key, item.unit.name)
        owner = site_owner.setdefault(site[:2], item.unit.key)
        if owner != item.unit.key:
            raise SrError(f"finding-site code {site[0]}:{site[1]} is listed for both {owner} and "
                          f"{item.unit.key} (scoring_schemes/coding/anatomy.toml)")
        name = _concept(PRIVATE_SCHEME, item.measure, item.indicator)
        qualitative, measurements = [], []
        if code == NOT_EVALUABLE:
            qualitative.append(hd.sr.QualitativeEvaluation(
                name, _concept(PRIVATE_SCHEME, NOT_EVALUABLE, _NOT_EVALUABLE_MEANING)))
        elif code is not None and scale.accepts(code):
            qualitative.append(hd.sr.QualitativeEvaluation(name, _concept(*_level_code(scale, code,
                                                                                   library.get(scale.name)))))
        elif number is not None:
            measurements.append(hd.sr.Measurement(name=name, value=float(number),
                                                  unit=_concept("UCUM", "{score}", "score")))
        else:
            raise SrError(f"item {key}: {code!r} is no level of scale {scale.name} and has no number")
        groups.append(hd.sr.MeasurementsAndQualitativeEvaluations(
            # The same finding of the same subject keeps its tracking UID across reads
            # and exams (TID 1500 tracking), and the file is the same at every export.
            tracking_identifier=hd.sr.TrackingIdentifier(uid=uid_for("tracking", subject.pseudonym, key),
                                                         identifier=key),
            method=method,
            finding_sites=[hd.sr.FindingSite(anatomic_location=_concept(*site),
                                             laterality=_laterality(item.side))],
            qualitative_evaluations=qualitative or None,
            measurements=measurements or None,
        ))
    observer_context = hd.sr.ObservationContext(
        observer_person_context=hd.sr.ObserverContext(
            observer_type=codes.DCM.Person,
            observer_identifying_attributes=hd.sr.PersonObserverIdentifyingAttributes(name=_person_name(observer)),
        ),
    )
    report = hd.sr.MeasurementReport(
        observation_context=observer_context,
        procedure_reported=_concept("SCT", "363679005", "Imaging procedure"),  # CID 100
        imaging_measurements=groups,
        title=codes.DCM.ImagingMeasurementReport,
    )
    evidence = _evidence(subject, references)
    sr = hd.sr.Comprehensive3DSR(
        evidence=evidence,
        content=report,
        series_instance_uid=series_uid or generate_uid(),
        series_number=series_number,
        sop_instance_uid=sop_uid or (uid_for(series_uid, "sr") if series_uid else generate_uid()),
        instance_number=1,
        manufacturer="myoscore",
        is_complete=True,
        is_final=True,
        record_evidence=bool(references),
    )
    sr.SeriesDescription = f"myoscore {kind} {protocol.name}"
    scheme = Dataset()
    scheme.CodingSchemeDesignator = PRIVATE_SCHEME
    scheme.CodingSchemeName = "myoscore private codes (docs/structured_reports.md)"
    scheme.CodingSchemeResponsibleOrganization = "myoscore"
    sr.CodingSchemeIdentificationSequence = [scheme]
    if when is not None:
        setattr(sr, "ContentDate", when.strftime("%Y%m%d"))  # noqa: B010 - highdicom types it as DA
        setattr(sr, "ContentTime", when.strftime("%H%M%S"))  # noqa: B010 - and TM
    # A pseudonymous SR carries no more of the patient than the pseudonym.
    for keyword in ("PatientBirthDate", "PatientSex", "AccessionNumber", "ReferringPhysicianName",
                    "StudyDate", "StudyTime"):
        if keyword in sr and not subject.patient_id:
            setattr(sr, keyword, "")
    assert isinstance(sr, Dataset)
    return sr


def _person_name(name: str) -> str:
    # PN components are separated by "^"; a pseudonymous reader name is one family name.
    # A trailing caret marks a deliberate single-component name.
    return (name.replace("^", " ")[:63] or "unknown") + "^"


def _evidence(subject: SrSubject, references: Sequence[InstanceReference]) -> list[Any]:
    """Minimal datasets for highdicom's evidence: UIDs and the (pseudonymous) patient."""
    from pydicom.dataset import Dataset
    from pydicom.uid import MRImageStorage

    refs = list(references) or [InstanceReference(subject.study_uid, "", str(MRImageStorage), "")]
    out = []
    for ref in refs:
        ds = Dataset()
        ds.StudyInstanceUID = ref.study_uid
        # Derived, not the study UID plus a suffix: that overflows 64 characters.
        ds.SeriesInstanceUID = ref.series_uid or uid_for(ref.study_uid, "evidence series")
        ds.SOPClassUID = ref.sop_class_uid
        ds.SOPInstanceUID = ref.sop_instance_uid or uid_for(ref.study_uid, "evidence instance")
        ds.PatientID = subject.patient_id or subject.pseudonym
        ds.PatientName = subject.patient_name or _person_name(subject.pseudonym)
        ds.PatientBirthDate = ""
        ds.PatientSex = ""
        ds.StudyID = subject.exam_label[:16]
        ds.StudyDate = ""
        ds.StudyTime = ""
        ds.AccessionNumber = ""
        ds.ReferringPhysicianName = ""
        ds.Modality = "MR"
        out.append(ds)
    return out


def write_sr(dataset: Any, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    dataset.save_as(path, enforce_file_format=True)
    return path


# ---------------------------------------------------------------- reading


def read_sr(path: Path) -> Any:
    """Read an SR file with highdicom; a clear error for anything else."""
    import highdicom as hd
    from pydicom.errors import InvalidDicomError

    try:
        return hd.sr.srread(path)
    except (InvalidDicomError, OSError) as exc:
        raise SrError(f"{path}: not a readable DICOM file ({exc})") from exc
    except (ValueError, AttributeError, KeyError) as exc:
        raise SrError(f"{path}: not a DICOM SR myoscore can read ({exc})") from exc


def sr_ratings(sr: Any, protocol: Protocol, library: Mapping[str, Scale] | None = None) -> SrContent:
    """Decode an SR written by :func:`build_sr` against the protocol it names."""
    content = sr.ContentSequence
    if str(sr.get("Manufacturer", "")) != "myoscore":
        raise SrError(f"SR {sr.SOPInstanceUID} was not written by myoscore (Manufacturer {sr.get('Manufacturer')!r})")
    kind = "consensus" if str(sr.get("SeriesDescription", "")).startswith("myoscore consensus") else "read"
    observer = ""
    for item in content:
        if _value(item.ConceptNameCodeSequence[0]) == "121008" and "PersonName" in item:  # Person Observer Name
            observer = str(item.PersonName).rstrip("^")
    library = library or {}
    by_code = {(m, u, s): it.key for it in protocol.items
               for m, u, s in [(it.measure, _unit_code(it.unit.key, it.unit.name)[:2], it.side)]}
    values: dict[str, tuple[str | None, float | None]] = {}
    protocol_hash16 = ""
    protocol_name = ""
    for group in _measurement_groups(content):
        key, site, side, measure, grade, number, method = _decode_group(group)
        if method is not None:
            protocol_hash16, protocol_name = method[0], method[1].rsplit(" ", 1)[0]
            if protocol_hash16 != protocol.hash[:16]:
                raise SrError(f"SR {sr.SOPInstanceUID} was made with protocol {method[1]} ({protocol_hash16}), "
                              f"not {protocol.name} {protocol.version} ({protocol.hash[:16]})")
        found = by_code.get((measure, site, side))
        if found is None:
            raise SrError(f"SR {sr.SOPInstanceUID}: no item of {protocol.name} for measure {measure}, "
                          f"site {site[0]}:{site[1]}, side {side or 'none'}")
        if key and key != found:
            raise SrError(f"SR {sr.SOPInstanceUID}: tracking identifier {key} disagrees with its codes ({found})")
        scale = protocol.scale_of(found)
        if grade is not None:
            code = NOT_EVALUABLE if grade == (PRIVATE_SCHEME, NOT_EVALUABLE) else _level_for(scale, grade, library)
            values[found] = (code, scale.value_of(code))
        else:
            values[found] = (None, number)
    references = tuple(
        InstanceReference(str(study.StudyInstanceUID), str(series.SeriesInstanceUID),
                          str(inst.ReferencedSOPClassUID), str(inst.ReferencedSOPInstanceUID))
        for study in sr.get("CurrentRequestedProcedureEvidenceSequence", [])
        for series in study.ReferencedSeriesSequence
        for inst in series.ReferencedSOPSequence
    )
    return SrContent(kind, observer, str(sr.PatientID), str(sr.StudyInstanceUID), protocol_name,
                     protocol_hash16, values, references)


def sr_protocol_name(sr: Any) -> str:
    """The protocol name an SR's groups record (their method's meaning, ``name version``)."""
    for group in _measurement_groups(sr.ContentSequence):
        method = _decode_group(group)[6]
        if method is not None:
            return method[1].rsplit(" ", 1)[0]
    raise SrError(f"SR {sr.SOPInstanceUID} records no protocol")


def _measurement_groups(content: Any) -> list[Any]:
    groups: list[Any] = []
    for item in content:
        if _value(item.ConceptNameCodeSequence[0]) == "126010":  # Imaging Measurements
            groups.extend(child for child in item.ContentSequence
                          if _value(child.ConceptNameCodeSequence[0]) == "125007")  # Measurement Group
    return groups


def _value(concept: Any) -> str:
    # Values longer than 16 characters (private unit keys) are stored as LongCodeValue.
    return str(concept.get("CodeValue") or concept.get("LongCodeValue") or concept.get("URNCodeValue") or "")


def _code(item: Any) -> tuple[str, str]:
    concept = item.ConceptCodeSequence[0]
    return str(concept.CodingSchemeDesignator), _value(concept)


def _decode_group(group: Any) -> tuple[str, tuple[str, str], str | None, str, tuple[str, str] | None,
                                       float | None, tuple[str, str] | None]:
    key, site, side, measure = "", ("", ""), None, ""
    grade: tuple[str, str] | None = None
    number: float | None = None
    method: tuple[str, str] | None = None
    for child in group.ContentSequence:
        name = child.ConceptNameCodeSequence[0]
        cv = _value(name)
        if cv == "112039":  # Tracking Identifier
            key = str(child.TextValue)
        elif cv == "363698007":  # Finding Site
            site = _code(child)
            for modifier in child.get("ContentSequence", []):
                if _value(modifier.ConceptNameCodeSequence[0]) == "272741003":  # Laterality
                    side = {"24028007": "R", "7771000": "L"}.get(_code(modifier)[1])
        elif cv == "370129005":  # Measurement Method
            method = (_value(child.ConceptCodeSequence[0]), str(child.ConceptCodeSequence[0].CodeMeaning))
        elif str(name.CodingSchemeDesignator) == PRIVATE_SCHEME:
            measure = cv
            if child.ValueType == "CODE":
                grade = _code(child)
            elif child.ValueType == "NUM":
                number = float(child.MeasuredValueSequence[0].NumericValue)
    return key, site, side, measure, grade, number, method


def _level_for(scale: Scale, grade: tuple[str, str], library: Mapping[str, Scale]) -> str:
    for level in scale.levels:
        if _level_code(scale, level.code, library.get(scale.name))[:2] == grade:
            return level.code
    raise SrError(f"grade code {grade[0]}:{grade[1]} is no level of scale {scale.name}")


def uid_for(*parts: str) -> str:
    """A UID derived from ``parts`` (the same parts give the same UID): SRs exported twice
    replace each other on a server instead of piling up."""
    from pydicom.uid import generate_uid

    return str(generate_uid(entropy_srcs=["myoscore", *parts]))
