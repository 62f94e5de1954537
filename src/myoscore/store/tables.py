"""SQLAlchemy tables. Only the store sees these; repositories return domain dataclasses.

Kept portable between SQLite and PostgreSQL: no dialect types, explicit lengths,
timestamps stored timezone-aware in UTC.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class SubjectRow(Base):
    __tablename__ = "subjects"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class IdentityLinkRow(Base):
    """Coordinator-only link from the hospital's PatientID to the pseudonymous subject.

    Kept in its own table so a study can turn it off (and drop it) without touching
    anything else; no reader-facing call ever reads it.
    """

    __tablename__ = "identity_links"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id", ondelete="CASCADE"))
    patient_id: Mapped[str] = mapped_column(String(128), unique=True)


class ExamRow(Base):
    __tablename__ = "exams"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"))
    label: Mapped[str] = mapped_column(String(128))
    exam_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    months_from_onset: Mapped[float | None] = mapped_column(Float, nullable=True)
    treated: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    study_uid: Mapped[str | None] = mapped_column(String(128), nullable=True, unique=True, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Excluded exams keep their reads but leave worklists, agreement, scores and exports.
    excluded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    excluded_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class SeriesRow(Base):
    __tablename__ = "series"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    exam_id: Mapped[int] = mapped_column(ForeignKey("exams.id"))
    series_uid: Mapped[str] = mapped_column(String(160), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    kind_reason: Mapped[str] = mapped_column(Text, default="")
    kind_overridden: Mapped[bool] = mapped_column(Boolean, default=False)
    description: Mapped[str] = mapped_column(String(256), default="")
    path: Mapped[str] = mapped_column(Text, default="")
    files: Mapped[str] = mapped_column(Text, default="[]")  # JSON list, sorted by slice position
    n_files: Mapped[int] = mapped_column(Integer, default=0)
    shape: Mapped[str] = mapped_column(String(64), default="[]")  # JSON
    spacing: Mapped[str] = mapped_column(String(128), default="[]")  # JSON
    issues: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of messages
    # "" or the split part ("#2") of the indexed files this series is (imaging's SeriesRecord.split).
    part: Mapped[str] = mapped_column(String(32), default="", server_default="")
    # Atlas regions the series covers (JSON list) and its patient-z extent (JSON [low, high]
    # or []): the station it belongs to, computed by app.coverage.
    regions: Mapped[str] = mapped_column(Text, default="[]", server_default="[]")
    z_range: Mapped[str] = mapped_column(String(64), default="[]", server_default="[]")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


#: What a reader's role reads instead of ``series`` (a view, revision 0012): the same
#: columns, with description, reason and issues empty and, on PostgreSQL with an image
#: server, no path or files. Not in ``Base.metadata``: migrations create it.
READER_SERIES = Table("reader_series", MetaData(), *(Column(c.name, c.type) for c in SeriesRow.__table__.columns))


class ReaderRow(Base):
    __tablename__ = "readers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Failed sign-ins in a row, and until when the next attempt is refused unchecked.
    failed_sign_ins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # PostgreSQL: the user's own login role (row-level security keys on it); None on SQLite.
    db_role: Mapped[str | None] = mapped_column(String(63), nullable=True)


class ProtocolRow(Base):
    """The exact protocol a read used, as canonical JSON keyed by its hash."""

    __tablename__ = "protocols"
    hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(32))
    snapshot: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ReadRow(Base):
    __tablename__ = "reads"
    __table_args__ = (UniqueConstraint("reader_id", "exam_id", "protocol_hash", "repeat"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reader_id: Mapped[int] = mapped_column(ForeignKey("readers.id"))
    exam_id: Mapped[int] = mapped_column(ForeignKey("exams.id"))
    protocol_hash: Mapped[str] = mapped_column(ForeignKey("protocols.hash"))
    repeat: Mapped[int] = mapped_column(Integer, default=0)  # >0: intra-reader repeat read
    status: Mapped[str] = mapped_column(String(16))
    position: Mapped[int] = mapped_column(Integer)
    seed: Mapped[str] = mapped_column(String(64))
    assigned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # A repeat read stays out of the worklist until its wash-out period has passed.
    available_from: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # Opaque code a reader sees instead of subject code and timepoint (timepoint blinding).
    code: Mapped[str | None] = mapped_column(String(16), nullable=True, unique=True)
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("assignments.id"), nullable=True)


class StudySettingRow(Base):
    """One named study setting; a missing row means the setting's default."""

    __tablename__ = "study_settings"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class AssignmentRow(Base):
    """One assignment of exams to readers: its design and seed, so it can be reproduced
    and undone while none of its reads has a rating."""

    __tablename__ = "assignments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(64))
    design: Mapped[str] = mapped_column(String(32))
    seed: Mapped[str] = mapped_column(String(64), default="", server_default="")
    parameters: Mapped[str] = mapped_column(Text, default="{}", server_default="{}")  # JSON


class RatingRow(Base):
    __tablename__ = "ratings"
    __table_args__ = (UniqueConstraint("read_id", "item_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    read_id: Mapped[int] = mapped_column(ForeignKey("reads.id"))
    item_key: Mapped[str] = mapped_column(String(160))
    code: Mapped[str] = mapped_column(String(16))
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    rated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Raised each time the rating is written: consensus records the versions it was decided
    # from, so a re-scored rating makes that consensus stale.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class ConsensusRow(Base):
    __tablename__ = "consensus"
    __table_args__ = (UniqueConstraint("exam_id", "protocol_hash", "item_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    exam_id: Mapped[int] = mapped_column(ForeignKey("exams.id"))
    protocol_hash: Mapped[str] = mapped_column(ForeignKey("protocols.hash"))
    item_key: Mapped[str] = mapped_column(String(160))
    code: Mapped[str | None] = mapped_column(String(16), nullable=True)
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    method: Mapped[str] = mapped_column(String(16))
    decided_by: Mapped[str] = mapped_column(String(64))
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sources: Mapped[str] = mapped_column(Text, default="{}")  # JSON: reader name → code
    # JSON: reader name → "<rating id>.<version>" of the ratings the value was decided from
    rating_versions: Mapped[str] = mapped_column(Text, default="{}", server_default="{}")


class AuditRow(Base):
    """Append-only (database triggers refuse UPDATE and DELETE)."""

    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(256))
    old: Mapped[str | None] = mapped_column(Text, nullable=True)
    new: Mapped[str | None] = mapped_column(Text, nullable=True)


class ImageServerRow(Base):
    """The study's DICOM server. Never a password: only the name of the environment
    variable that holds it on each workstation (docs/multisite.md)."""

    __tablename__ = "image_servers"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    dicomweb_url: Mapped[str] = mapped_column(String(512), default="", server_default="")
    host: Mapped[str] = mapped_column(String(256), default="", server_default="")
    port: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    ae_title: Mapped[str] = mapped_column(String(16), default="ORTHANC", server_default="ORTHANC")
    username: Mapped[str] = mapped_column(String(128), default="", server_default="")
    password_env: Mapped[str] = mapped_column(String(128), default="", server_default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
