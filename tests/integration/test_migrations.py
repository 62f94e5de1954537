"""Schema versions: create at the first revision, upgrade without loss; refuse newer."""

from __future__ import annotations

import itertools
import sqlite3
from pathlib import Path

import pytest

from myoscore.domain import DatabaseVersionError, NotFound
from myoscore.store import Database, database_url, head_revision, known_revisions, open_database


def _first_revision_db(path: Path) -> None:
    database = Database(database_url(str(path)))
    database.upgrade(known_revisions()[0])
    database.dispose()
    with sqlite3.connect(path) as con:
        con.execute("INSERT INTO subjects (id, code, created_at) VALUES (1, 'S-OLD', '2025-01-01')")
        con.execute("INSERT INTO exams (id, subject_id, label, created_at) VALUES (1, 1, 'baseline', '2025-01-01')")
        con.execute("INSERT INTO readers (id, name, role, password_hash, active, created_at) "
                    "VALUES (1, 'A', 'reader', 'x', 1, '2025-01-01')")
        con.execute("INSERT INTO protocols (hash, name, version, snapshot, created_at) "
                    "VALUES ('h', 'p', '1', '{}', '2025-01-01')")
        con.execute("INSERT INTO reads (id, reader_id, exam_id, protocol_hash, repeat, status, position, seed, "
                    "assigned_at) VALUES (1, 1, 1, 'h', 0, 'in_progress', 1, '1', '2025-01-01')")
        con.execute("INSERT INTO ratings (read_id, item_key, code, value, rated_at) "
                    "VALUES (1, 'edema.thigh.anterior.R', '3', 3.0, '2025-01-01')")
    con.close()


def test_first_revision_upgrades_to_head_with_data_intact(tmp_path: Path) -> None:
    """A database at revision 0001 opens, is upgraded to head, keeps its rows, and a backup is left."""
    assert len(known_revisions()) >= 2
    path = tmp_path / "old.sqlite"
    _first_revision_db(path)
    database = open_database(str(path))
    assert database.revision() == head_revision()
    database.dispose()
    with sqlite3.connect(path) as con:
        assert con.execute("SELECT code FROM subjects").fetchall() == [("S-OLD",)]
        assert con.execute("SELECT item_key, code, value FROM ratings").fetchall() == [
            ("edema.thigh.anterior.R", "3", 3.0)
        ]
        assert con.execute("SELECT study_uid FROM exams").fetchall() == [(None,)]
        # Revision 0011 gives every existing read an opaque code (timepoint blinding).
        (code,) = con.execute("SELECT code FROM reads").fetchone()
        assert code.startswith("R-")
        assert len(code) == 8
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    con.close()
    backup = tmp_path / f"old.sqlite.before-{head_revision()}"
    with sqlite3.connect(backup) as con:
        assert con.execute("SELECT version_num FROM alembic_version").fetchone() == (known_revisions()[0],)
    con.close()


def test_newer_database_is_refused_untouched(tmp_path: Path) -> None:
    """A schema revision this version does not know is refused with a clear message."""
    path = tmp_path / "new.sqlite"
    open_database(str(path), create=True).dispose()
    with sqlite3.connect(path) as con:
        con.execute("UPDATE alembic_version SET version_num = '9999_future'")
    con.close()
    before = path.read_bytes()
    with pytest.raises(DatabaseVersionError, match=r"written by a newer myoscore \(schema 9999_future\)"):
        open_database(str(path))
    assert path.read_bytes() == before


def test_foreign_and_corrupt_files_are_refused(tmp_path: Path) -> None:
    """Another application's SQLite file and a non-database file are named and refused."""
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as con:
        con.execute("CREATE TABLE patients (id INTEGER)")
    con.close()
    with pytest.raises(DatabaseVersionError, match="is not a myoscore database"):
        open_database(str(other))
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(DatabaseVersionError, match=r"junk\.sqlite cannot be opened"):
        open_database(str(junk))


def test_missing_database_is_not_created_silently(tmp_path: Path) -> None:
    """Only init/start create a database; a typo in a path is reported."""
    with pytest.raises(NotFound, match="run `myoscore init`"):
        open_database(str(tmp_path / "typo.sqlite"))
    assert not (tmp_path / "typo.sqlite").exists()


def test_sqlite_settings(db) -> None:
    """WAL, foreign keys and full synchronous commits are on for every connection."""
    with db.engine.connect() as con:
        assert con.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert con.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert con.exec_driver_sql("PRAGMA synchronous").scalar() == 2


def test_revisions_form_one_line() -> None:
    """One head, every revision after the first revising the one before: a second head
    (two branches adding a migration each) would make `upgrade head` ambiguous."""
    from alembic.script import ScriptDirectory

    from myoscore.store.database import MIGRATIONS

    scripts = ScriptDirectory(str(MIGRATIONS))
    assert scripts.get_heads() == [head_revision()]
    revisions = known_revisions()
    for before, after in itertools.pairwise(revisions):
        assert scripts.get_revision(after).down_revision == before


def test_latest_revision_downgrades_and_upgrades_again(tmp_path: Path) -> None:
    from alembic import command

    from myoscore.store.database import _alembic

    path = tmp_path / "round.sqlite"
    _first_revision_db(path)
    database = open_database(str(path))
    before_head = known_revisions()[-2]
    with database.engine.begin() as connection:
        command.downgrade(_alembic(connection), before_head)
    assert database.revision() == before_head
    database.upgrade()
    assert database.revision() == head_revision()
    database.dispose()
