"""Use cases shared by the GUI, the CLI and the tests (no Qt here).

The GUI and the CLI import ``myoscore.app`` (and ``myoscore.domain`` for types) only.
This package exports what every screen needs at start-up: opening a database, signing
in, the two sessions. The heavier use cases are its modules, imported when used
(:mod:`~myoscore.app.study`, :mod:`~myoscore.app.imports`, :mod:`~myoscore.app.export`…).
"""

from myoscore.app.sessions import (
    UNCHANGED,
    CoordinatorSession,
    ReaderSession,
    bootstrap_coordinator,
    sign_in,
    user_names,
)
from myoscore.store import (
    Database,
    database_url,
    default_database_path,
    default_database_target,
    head_revision,
    known_revisions,
    open_database,
)

__all__ = [
    "UNCHANGED",
    "CoordinatorSession",
    "Database",
    "ReaderSession",
    "bootstrap_coordinator",
    "database_url",
    "default_database_path",
    "default_database_target",
    "head_revision",
    "known_revisions",
    "open_database",
    "sign_in",
    "user_names",
]
