"""Ratings store: SQLAlchemy tables, migrations, and the sessions that enforce
blinding (:class:`ReaderSession`) and audit (:class:`CoordinatorSession`)."""

from myoscore.store.coordinator_session import CoordinatorSession, sign_in, user_names
from myoscore.store.database import (
    Database,
    database_url,
    default_database_path,
    default_database_target,
    head_revision,
    known_revisions,
    open_database,
)
from myoscore.store.reader_session import ReaderSession

__all__ = [
    "CoordinatorSession",
    "Database",
    "ReaderSession",
    "database_url",
    "default_database_path",
    "default_database_target",
    "head_revision",
    "known_revisions",
    "open_database",
    "sign_in",
    "user_names",
]
