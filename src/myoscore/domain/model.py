"""The domain model as frozen dataclasses (see DESIGN.md, "Domain model").

Repositories return these, never ORM rows, so a window can hold them after the
database session that produced them is closed.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime

#: The code stored for "not evaluable". It is a value of its own, never a 0:
#: STIR% divides by the muscles *evaluated*.
NOT_EVALUABLE = "NE"


class Sequence(enum.StrEnum):
    """Sequence kinds an item is scored on, and series are classified as."""

    STIR = "STIR"
    T1 = "T1"
    T2 = "T2"
    DIXON_WATER = "DIXON_WATER"
    DIXON_FAT = "DIXON_FAT"
    DIXON_IN = "DIXON_IN"
    DIXON_OUT = "DIXON_OUT"
    OTHER = "OTHER"
    LABEL_MAP = "LABEL_MAP"  # a muscle segmentation shown as an overlay, not scored


class Role(enum.StrEnum):
    READER = "reader"
    COORDINATOR = "coordinator"
    ADJUDICATOR = "adjudicator"


class ReadStatus(enum.StrEnum):
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"


class ConsensusMethod(enum.StrEnum):
    """How two readers' values of one item become consensus (declared per measure by the
    protocol; see ``docs/scores.md``)."""

    MEAN = "mean"  # ordinal scales only: the mean of the two numbers, kept fractional
    REVIEW = "review"  # joint review: the readers agree the value together
    ADJUDICATOR = "adjudicator"  # a third reader decides
    ANY_POSITIVE = "any_positive"  # binary scales: positive when either reader says positive
    BOTH_POSITIVE = "both_positive"  # binary scales: positive only when both readers say so


@dataclass(frozen=True)
class Subject:
    id: int
    code: str


@dataclass(frozen=True)
class Exam:
    """One MRI examination of a subject. ``exam_date`` and clinical fields are
    coordinator-only; the reader-facing view is :class:`BlindedExam`."""

    id: int
    subject_id: int
    subject_code: str
    label: str
    exam_date: date | None = None
    months_from_onset: float | None = None
    treated: bool | None = None
    study_uid: str | None = None  # DICOM Study Instance UID, when imported from DICOM
    excluded_at: datetime | None = None  # excluded exams leave worklists, agreement, scores, exports
    excluded_reason: str | None = None


@dataclass(frozen=True)
class BlindedExam:
    """What a reader may know of an exam: the pseudonymous code and a label."""

    id: int
    subject_code: str
    label: str


@dataclass(frozen=True)
class Series:
    id: int
    exam_id: int
    kind: Sequence
    description: str
    kind_reason: str = ""
    path: str = ""
    n_files: int = 0
    shape: tuple[int, ...] = ()
    spacing: tuple[float, ...] = ()
    files: tuple[str, ...] = ()  # sorted by slice position; never shown to a reader
    issues: tuple[str, ...] = ()
    # Which part of the indexed files this series is ("" or "#1", "#2"… when indexing split
    # them, e.g. the parts of one enhanced multi-frame file): loading selects it by this.
    part: str = ""
    uid: str = ""  # the store's series key: DICOM Series Instance UID + split part (+ "@examN")
    overridden: bool = False  # the coordinator set ``kind`` by hand (``kind_reason`` says why)
    # Atlas regions the series shows (its station: from a label map in its z-range, else
    # description rules; app.coverage) and its extent along the body, patient z in mm.
    regions: tuple[str, ...] = ()
    z_range: tuple[float, float] | None = None

    @property
    def dicom_uid(self) -> str:
        """The DICOM Series Instance UID alone: how a server finds the series' pixels."""
        base = self.uid.split("@exam", 1)[0]
        return base[: -len(self.part)] if self.part and base.endswith(self.part) else base


@dataclass(frozen=True)
class Reader:
    id: int
    name: str
    role: Role
    active: bool = True


@dataclass(frozen=True)
class Read:
    """One reader's read of one exam with one protocol."""

    id: int
    reader_id: int
    reader_name: str
    exam_id: int
    subject_code: str
    exam_label: str
    protocol_name: str
    protocol_hash: str
    status: ReadStatus
    position: int
    done: int = 0
    total: int = 0
    submitted_at: datetime | None = None
    repeat: int = 0  # > 0: an intra-reader repeat read (not shown to the reader as such)
    seed: str = ""  # the recorded seed of the worklist shuffle that placed this read
    code: str = ""  # opaque read code, shown to readers instead of subject and timepoint


@dataclass(frozen=True)
class Rating:
    """One item of one read. ``value`` is the scale's number (``None`` when not
    evaluable); ``code`` is the level code as typed (``"2a"``, ``"NE"``)."""

    read_id: int
    item_key: str
    code: str
    value: float | None
    rated_at: datetime
    version: int = 1  # raised each time the rating is written
    rating_id: int = 0  # the stored row (a rating cleared and given again is a new row)

    @property
    def not_evaluable(self) -> bool:
        return self.code == NOT_EVALUABLE


@dataclass(frozen=True)
class Consensus:
    exam_id: int
    protocol_hash: str
    item_key: str
    code: str | None
    value: float | None
    method: ConsensusMethod
    decided_by: str
    decided_at: datetime
    sources: dict[str, str] = field(default_factory=dict)
    # reader name → "<rating id>.<version>" of each rating the value was decided from
    # (empty for values stored before rating versions existed)
    rating_versions: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AuditEvent:
    id: int
    at: datetime
    actor: str
    action: str
    target: str
    old: str | None
    new: str | None


@dataclass(frozen=True)
class ImageServerSettings:
    """Where the study's series can be fetched by UID (a DICOM server such as Orthanc).

    No secret is ever part of it: ``password_env`` names the environment variable that
    holds the password on each workstation (``MYOSCORE_DICOM_PASSWORD`` by default).
    """

    name: str = "study"
    dicomweb_url: str = ""  # e.g. https://orthanc.example.org/dicom-web
    host: str = ""  # DIMSE host and port (C-GET, C-STORE)
    port: int = 0
    ae_title: str = "ORTHANC"
    username: str = ""
    password_env: str = "MYOSCORE_DICOM_PASSWORD"
