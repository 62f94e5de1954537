"""Persistence only: SQLAlchemy tables, migrations, and the repositories of one unit of
work, which return domain dataclasses and enforce audit and blinding at the query level
(:mod:`myoscore.store.repository`). The rules of the study are ``myoscore.app``'s."""

from myoscore.store._rows import ProtocolCache
from myoscore.store.database import (
    Database,
    aware,
    database_url,
    default_database_path,
    default_database_target,
    head_revision,
    known_revisions,
    open_database,
)
from myoscore.store.repository import (
    ConsensusWrite,
    ExamContents,
    NewRead,
    ReaderRepository,
    StudyRepository,
    reader_unit,
    study_unit,
)

__all__ = [
    "ConsensusWrite",
    "Database",
    "ExamContents",
    "NewRead",
    "ProtocolCache",
    "ReaderRepository",
    "StudyRepository",
    "aware",
    "database_url",
    "default_database_path",
    "default_database_target",
    "head_revision",
    "known_revisions",
    "open_database",
    "reader_unit",
    "study_unit",
]
