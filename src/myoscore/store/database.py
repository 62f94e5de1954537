"""Opening a myoscore database: engine set-up, schema version checks, migrations.

SQLite is the default (WAL, foreign keys on, ``synchronous=FULL`` so a commit is
durable when it returns, a busy timeout so two processes wait for each other instead
of failing). Any SQLAlchemy URL works; PostgreSQL is the multi-site choice.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from alembic.config import Config

from myoscore.domain import DatabaseVersionError, NotFound
from myoscore.domain.files import create_private_file, make_private, readable_by_others

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BUSY_TIMEOUT_MS = 30_000


def utcnow() -> datetime:
    return datetime.now(UTC)


def aware(moment: datetime) -> datetime:
    """SQLite returns stored UTC timestamps without a zone; say which zone they are in."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def database_url(target: str) -> str:
    """Accept a SQLAlchemy URL or a plain file path (taken as SQLite)."""
    if "://" in target:
        return target
    return f"sqlite:///{Path(target).expanduser().resolve()}"


def _sqlite_path(url: str) -> Path | None:
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        return Path(url.removeprefix("sqlite:///"))
    return None


def _make_engine(url: str, *, pooled: bool = True) -> Engine:
    if not url.startswith("sqlite"):
        if not pooled:
            from sqlalchemy.pool import NullPool

            return create_engine(url, poolclass=NullPool)
        return create_engine(url, pool_pre_ping=True)
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        # We issue BEGIN ourselves (below): pysqlite's implicit transactions defer
        # the write lock, and two writers then fail with "database is locked"
        # instead of waiting their turn.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _alembic(connection: Connection) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


class Database:
    """An open myoscore database. Each :meth:`transaction` is one unit of work."""

    def __init__(self, url: str, *, pooled: bool = True) -> None:
        self.url = url
        self.engine = _make_engine(url, pooled=pooled)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        #: Problems found on opening that the user should hear about (shown by the CLI).
        self.warnings: list[str] = []

    @property
    def location(self) -> str:
        path = _sqlite_path(self.url)
        return str(path) if path else self.engine.url.render_as_string(hide_password=True)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """Commit on success (durably, before returning), roll back on any error."""
        with self._sessions() as session, session.begin():
            yield session

    def revision(self) -> str | None:
        with self.engine.connect() as connection:
            tables = inspect(connection).get_table_names()
            if "alembic_version" not in tables:
                if tables:
                    raise DatabaseVersionError(
                        f"{self.location} is not a myoscore database "
                        f"(it has tables {', '.join(sorted(tables)[:5])} but no schema version)"
                    )
                return None
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()

    def upgrade(self, target: str = "head") -> None:
        from alembic import command  # Alembic loads only when a schema changes

        with self.engine.begin() as connection:
            command.upgrade(_alembic(connection), target)

    def dispose(self) -> None:
        self.engine.dispose()


def known_revisions() -> list[str]:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(MIGRATIONS))
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


def head_revision() -> str:
    return known_revisions()[-1]


def open_database(target: str, *, create: bool = False) -> Database:
    """Open (and if asked, create) a database, upgrading an older schema in place.

    A database written by a newer myoscore is refused, not touched. Before an SQLite
    database is upgraded, a copy is kept beside it (``NAME.before-REV``).
    """
    url = database_url(target)
    path = _sqlite_path(url)
    if path is not None and not path.exists():
        if not create:
            raise NotFound(f"no myoscore database at {path}: run `myoscore init` first")
        # Owner-only before SQLite touches it: SQLite gives the WAL and SHM files the
        # database file's permissions.
        create_private_file(path)
    database = Database(url)
    if path is not None:
        _check_private(database, path)
    try:
        revision = database.revision()
    except DBAPIError as exc:
        database.dispose()
        raise DatabaseVersionError(f"{database.location} cannot be opened as a database: {exc.orig}") from exc
    except DatabaseVersionError:
        database.dispose()
        raise
    known = known_revisions()
    if revision is None:
        if not create:
            database.dispose()
            raise NotFound(f"{database.location} is empty: run `myoscore init` first")
        database.upgrade()
    elif revision not in known:
        database.dispose()
        raise DatabaseVersionError(
            f"{database.location} was written by a newer myoscore (schema {revision}); this "
            f"version understands schemas up to {known[-1]}. Update myoscore to open it; "
            "the database was not changed."
        )
    elif revision != known[-1]:
        if path is not None:
            _backup_sqlite(path, path.with_name(f"{path.name}.before-{known[-1]}"))
        database.upgrade()
    return database


def _check_private(database: Database, path: Path) -> None:
    exposed = [p for p in (path, path.with_name(f"{path.name}-wal"), path.with_name(f"{path.name}-shm"))
               if readable_by_others(p)]
    if exposed:
        message = (f"{path} can be read by other users of this computer (it holds pseudonymised ratings "
                   f"and, for the coordinator, identity links): run `chmod 600 {' '.join(map(str, exposed))}`")
        log.warning(message)
        database.warnings.append(message)


def _backup_sqlite(source: Path, target: Path) -> None:
    create_private_file(target)
    # The backup API copies a consistent snapshot even with a WAL file beside it.
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()
    make_private(target)


def default_database_path() -> Path:
    from platformdirs import user_data_path

    return user_data_path("myoscore", appauthor=False) / "myoscore.sqlite"


def default_database_target() -> str:
    return os.environ.get("MYOSCORE_DB") or str(default_database_path())
