"""The store on a real PostgreSQL server: migrations, blinding, audit trigger, consensus.

The ``pg_url`` fixture (tests/integration/conftest.py) starts a throwaway cluster on a Unix
socket (no network) with the server binaries of the machine, installing Debian's
``postgresql`` package first if they are missing, so the multi-site configuration is tested,
not assumed.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from myoscore.app import CoordinatorSession, ReaderSession, head_revision, open_database, sign_in
from myoscore.app.agreement_report import agreement_report
from myoscore.app.consensus import consensus_list, reconcile_reads
from myoscore.app.remote_images import configure_image_server
from myoscore.app.schemes import protocol
from myoscore.domain import (
    NOT_EVALUABLE,
    AccessDenied,
    ConsensusMethod,
    ImageServerSettings,
    ReadLocked,
    Role,
    Sequence,
)


@pytest.mark.slow
def test_postgresql_end_to_end(pg_url: str) -> None:
    """Create at head, score blinded, lock, reconcile and measure agreement on PostgreSQL."""
    db = open_database(pg_url, create=True)
    assert db.revision() == head_revision()
    coordinator = CoordinatorSession(db, "pg-coordinator")
    nxp2 = protocol("nxp2_lower_limb")
    for name in ("A", "B"):
        coordinator.add_reader(name, Role.READER, f"pass-phrase-{name}")
    coordinator.add_exam("PG-01", "baseline")
    coordinator.add_exam("PG-02", "baseline")
    coordinator.assign(nxp2, ["A", "B"], seed=9)
    readers = {name: sign_in(db, name, f"pass-phrase-{name}") for name in ("A", "B")}
    for offset, reader in enumerate(readers.values()):
        assert isinstance(reader, ReaderSession)
        for read in reader.worklist():
            for i, key in enumerate(k for k in nxp2.item_keys if k.startswith("edema.")):
                reader.rate(read.id, key, NOT_EVALUABLE if i == 11 else str((i + offset * (i % 4 == 0)) % 6))
            reader.submit(read.id)
    a, b = readers["A"], readers["B"]
    assert isinstance(a, ReaderSession)
    assert isinstance(b, ReaderSession)
    with pytest.raises(AccessDenied):
        a.ratings(b.worklist()[0].id)
    with pytest.raises(ReadLocked):
        a.rate(a.worklist()[0].id, "edema.thigh.anterior.R", "1")
    assert a.ratings(a.worklist()[0].id)["edema.calf.posterior.L"].not_evaluable

    with pytest.raises(DBAPIError, match="append-only"), db.transaction() as session:
        session.execute(text("UPDATE audit_events SET actor = 'x'"))

    reconcile_reads(coordinator, "nxp2_lower_limb", ["A", "B"], ConsensusMethod.MEAN)
    consensus = consensus_list(coordinator, "nxp2_lower_limb")
    assert {c.method for c in consensus} == {ConsensusMethod.MEAN}
    assert any(c.value is not None and c.value % 1 == 0.5 for c in consensus)  # 2.5 stays 2.5
    report = agreement_report(coordinator, "nxp2_lower_limb", ["A", "B"])
    assert report.n_exams == 2
    db.dispose()
    again = open_database(pg_url)
    assert again.revision() == head_revision()
    again.dispose()


def _conninfo(url: str, user: str, dbname: str, password: str = "") -> str:
    """A libpq connection string for plain psycopg: the fixture's socket, another user and database."""
    from psycopg.conninfo import make_conninfo
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    return make_conninfo(host=str(parsed.query["host"]), port=str(parsed.query["port"]), user=user, dbname=dbname,
                         password=password or None)


@pytest.mark.slow
def test_row_level_security_holds_for_plain_sql(pg_url: str) -> None:
    """A reader's own PostgreSQL role, connecting with plain psycopg (not myoscore), cannot select
    another reader's ratings, consensus, identity links, exam dates, password hashes or others'
    audit rows, cannot write to a submitted or foreign read, and nobody can change audit rows."""
    import psycopg
    from psycopg import errors

    with psycopg.connect(_conninfo(pg_url, "myoscore", "postgres"), autocommit=True) as admin:
        admin.execute("CREATE DATABASE rls_study")
    url = pg_url.replace("/postgres?", "/rls_study?")
    db = open_database(url, create=True)
    owner = CoordinatorSession(db, "installer")
    nxp2 = protocol("nxp2_lower_limb")
    for name in ("A", "B"):
        owner.add_reader(name, Role.READER, f"pass-phrase-{name}")
    owner.add_reader("C", Role.COORDINATOR, "pass-phrase-C")
    exam = owner.add_exam("RLS-01", "baseline", exam_date=date(2024, 3, 1))
    owner.link_patient("RLS-01", "HOSPITAL-123")
    owner.add_exam("RLS-02", "follow-up")  # assigned to no one below: no reader sees it
    # Names hide in a series' description, reason, issues and its folder and file names.
    owner.add_series(exam.id, "1.2.826.0.1.3680043.8.498.1", Sequence.STIR, description="STIR DOE^JOHN",
                     kind_reason="description 'STIR DOE^JOHN'", path="/import/Doe_John/STIR",
                     files=["/import/Doe_John/STIR/IM1.dcm"], shape=(1, 4, 4), spacing=(5.0, 1.0, 1.0),
                     issues=["/import/Doe_John/STIR/IM1.dcm: odd spacing"])
    owner.assign(nxp2, ["A", "B"], seed=3, exam_ids=[exam.id])
    reads = {}
    for name in ("A", "B"):
        reader = sign_in(db, name, f"pass-phrase-{name}")
        assert isinstance(reader, ReaderSession)
        assert reader.database is not db  # the session runs as the reader's own role
        (read,) = reader.worklist()
        reader.rate(read.id, "edema.thigh.anterior.R", "2" if name == "A" else "4")
        reader.submit(read.id)
        reads[name] = read.id
    coordinator = sign_in(db, "C", "pass-phrase-C")
    assert isinstance(coordinator, CoordinatorSession)
    reconcile_reads(coordinator, "nxp2_lower_limb", ["A", "B"], ConsensusMethod.MEAN)
    assert len(coordinator.reads()) == 2  # the coordinator role sees every read
    with db.transaction() as session:
        roles: dict[str, str] = dict(session.execute(text("SELECT name, db_role FROM readers")).all())
    assert all(roles.values())

    with psycopg.connect(_conninfo(pg_url, roles["A"], "rls_study", "pass-phrase-A"), autocommit=True) as a:
        assert a.execute("SELECT read_id, code FROM ratings").fetchall() == [(reads["A"], "2")]
        assert a.execute("SELECT count(*) FROM ratings WHERE read_id = %s", (reads["B"],)).fetchone() == (0,)
        assert [r[0] for r in a.execute("SELECT id FROM reads").fetchall()] == [reads["A"]]
        assert {r[0] for r in a.execute("SELECT actor FROM audit_events").fetchall()} == {"A"}
        assert a.execute("SELECT label FROM exams WHERE id = %s", (exam.id,)).fetchone() == ("baseline",)
        # Only the rows of the reader's own exams and their subjects (migration 0013).
        assert a.execute("SELECT id, label FROM exams").fetchall() == [(exam.id, "baseline")]
        assert a.execute("SELECT code FROM subjects").fetchall() == [("RLS-01",)]
        # The study's image-server settings (no secret in them) are readable, not writable.
        assert a.execute("SELECT count(*) FROM image_servers").fetchone() == (0,)
        # Series only through the readers' view: no free text; file names only while the
        # study has no image server (the workstation reads the import folders).
        assert a.execute("SELECT kind, description, kind_reason, issues, files FROM reader_series").fetchall() == [
            ("STIR", "", "", "[]", '["/import/Doe_John/STIR/IM1.dcm"]')]
        for query in ("SELECT * FROM consensus", "SELECT * FROM identity_links", "SELECT exam_date FROM exams",
                      "SELECT description FROM series", "SELECT path, files FROM series",
                      "SELECT password_hash FROM readers", "UPDATE audit_events SET actor = 'x'",
                      "DELETE FROM audit_events", "TRUNCATE audit_events", "DELETE FROM image_servers"):
            with pytest.raises(errors.InsufficientPrivilege):
                a.execute(query)
        assert a.execute("UPDATE reads SET status = 'in_progress' WHERE id = %s", (reads["A"],)).rowcount == 0
        assert a.execute("UPDATE ratings SET code = '5'").rowcount == 0  # own read submitted, B's invisible
        with pytest.raises(errors.InsufficientPrivilege, match="row-level security"):
            a.execute("INSERT INTO ratings (read_id, item_key, code, rated_at) VALUES (%s, 'k', '1', now())",
                      (reads["B"],))
        with pytest.raises(errors.InsufficientPrivilege, match="row-level security"):
            a.execute("INSERT INTO audit_events (at, actor, action, target) VALUES (now(), 'B', 'x', 'y')")
    configure_image_server(coordinator, ImageServerSettings(dicomweb_url="http://127.0.0.1:9/dicom-web"))
    with psycopg.connect(_conninfo(pg_url, roles["A"], "rls_study", "pass-phrase-A"), autocommit=True) as a:
        # With a server the reader's workstation fetches by UID: no path or file name at all.
        assert a.execute("SELECT series_uid, path, files FROM reader_series").fetchall() == [
            ("1.2.826.0.1.3680043.8.498.1", "", "[]")]
    with psycopg.connect(_conninfo(pg_url, roles["B"], "rls_study", "pass-phrase-B"), autocommit=True) as b:
        reader_b = sign_in(db, "B", "pass-phrase-B")
        assert isinstance(reader_b, ReaderSession)
        (read_b,) = reader_b.worklist()
        (seen,) = reader_b.image_sources(read_b.id).for_loading()
        assert (seen[0].description, seen[0].files, seen[0].dicom_uid) == ("", (), "1.2.826.0.1.3680043.8.498.1")
        assert b.execute("SELECT count(*) FROM reader_series").fetchone() == (1,)
    with psycopg.connect(_conninfo(pg_url, roles["C"], "rls_study", "pass-phrase-C"), autocommit=True) as c:
        assert c.execute("SELECT count(*) FROM ratings").fetchone() == (2,)
        assert c.execute("SELECT count(*) FROM identity_links").fetchone() == (1,)
        with pytest.raises(errors.InsufficientPrivilege):
            c.execute("DELETE FROM audit_events")
    db.dispose()


@pytest.mark.slow
def test_user_passwords_reach_the_server_only_as_scram_secrets(pg_url: str) -> None:
    """Creating a user and changing a password send the SCRAM-SHA-256 secret, never the
    password: the server's statement log (every statement logged) does not hold it, the
    server checks it (scram-sha-256 in pg_hba.conf) and refuses a wrong one."""
    import psycopg
    from sqlalchemy.engine import make_url

    with psycopg.connect(_conninfo(pg_url, "myoscore", "postgres"), autocommit=True) as admin:
        admin.execute("CREATE DATABASE scram_study")
    url = pg_url.replace("/postgres?", "/scram_study?")
    db = open_database(url, create=True)
    owner = CoordinatorSession(db, "installer")
    first, second = "Grüße aus Köln, Straße 12", "a second pass-phrase for A"
    owner.add_reader("A", Role.READER, first)
    assert isinstance(sign_in(db, "A", first), ReaderSession)
    owner.set_password("A", second)
    with db.transaction() as session:
        role = session.execute(text("SELECT db_role FROM readers WHERE name = 'A'")).scalar_one()
    with psycopg.connect(_conninfo(url, role, "scram_study", second)) as connection:
        assert connection.execute("SELECT current_user").fetchone() == (role,)
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(_conninfo(url, role, "scram_study", first))
    db.dispose()
    log = (Path(str(make_url(pg_url).query["host"])) / "log").read_text(errors="replace")
    assert "myoscore_create_role" in log  # the statements are there…
    assert "SCRAM-SHA-256$4096:" in log
    for password in (first, second):  # …the passwords are not
        assert password not in log


@pytest.mark.slow
def test_exam_lifecycle_under_row_level_security(pg_url: str) -> None:
    """On PostgreSQL, with every session on its own role: an excluded exam leaves the reader's
    worklist (their role may read only whether an exam is excluded) and agreement; a
    signed-in coordinator includes it again and deletes an exam nothing was submitted for."""
    import psycopg

    from myoscore.app import exam_lifecycle

    with psycopg.connect(_conninfo(pg_url, "myoscore", "postgres"), autocommit=True) as admin:
        admin.execute("CREATE DATABASE lifecycle_study")
    db = open_database(pg_url.replace("/postgres?", "/lifecycle_study?"), create=True)
    owner = CoordinatorSession(db, "installer")
    nxp2 = protocol("nxp2_lower_limb")
    for name in ("A", "B"):
        owner.add_reader(name, Role.READER, f"pass-phrase-{name}")
    owner.add_reader("C", Role.COORDINATOR, "pass-phrase-C")
    kept, dropped = owner.add_exam("LC-01", "baseline"), owner.add_exam("LC-02", "baseline")
    owner.assign(nxp2, ["A", "B"], seed=5)
    for name in ("A", "B"):
        reader = sign_in(db, name, f"pass-phrase-{name}")
        assert isinstance(reader, ReaderSession)
        for read in reader.worklist():
            reader.rate(read.id, "edema.thigh.anterior.R", "2")
            reader.submit(read.id)
    coordinator = sign_in(db, "C", "pass-phrase-C")
    assert isinstance(coordinator, CoordinatorSession)

    exam_lifecycle.exclude_exam(coordinator, dropped.id, "duplicate")
    a = sign_in(db, "A", "pass-phrase-A")
    assert isinstance(a, ReaderSession)
    of_a = {r.exam_id: r.id for r in coordinator.reads(include_excluded=True) if r.reader_name == "A"}
    assert [r.id for r in a.worklist()] == [of_a[kept.id]]
    assert agreement_report(coordinator, "nxp2_lower_limb", ["A", "B"]).n_exams == 1
    exam_lifecycle.include_exam(coordinator, dropped.id)
    assert sorted(r.id for r in a.worklist()) == sorted(of_a.values())

    extra = coordinator.add_exam("LC-03", "baseline")
    coordinator.assign(nxp2, ["A"], [extra.id], seed=6)
    (begun,) = [r for r in coordinator.reads() if r.exam_id == extra.id]
    a.rate(begun.id, "edema.thigh.anterior.R", "1")
    assert exam_lifecycle.delete_exam(coordinator, extra.id).value.ratings == 1
    assert extra.id not in {e.id for e in coordinator.exams()}
    assert "LC-03" not in {s.code for s in coordinator.subjects()}
    db.dispose()
