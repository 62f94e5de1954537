"""PostgreSQL as a security boundary: reader and coordinator roles, row-level security.

Every user of a PostgreSQL study gets their own login role (``readers add`` creates it
through :func:`myoscore_create_role`), a member of ``myoscore_reader`` or
``myoscore_coordinator``. For a reader role the server itself

- shows only the reader's own reads, the ratings of those reads and the series of those
  exams; writes ratings only on their own reads that are not submitted, and cannot
  reopen a submitted read;
- refuses consensus and identity links entirely, and the exam date, clinical fields and
  study UID of exams, and password hashes (column privileges);
- lets them add audit rows in their own name and read only those.

Audit rows are insert-only for every role (no UPDATE/DELETE/TRUNCATE grant, and the
trigger of revision 0001). The coordinator group sees and changes everything else. The
role that runs the migrations owns the tables and is not subject to row-level security:
it is the installer's account, not one for daily use. SQLite: nothing to do (the file
is the boundary there; docs/architecture.md, threat model).

Revision ID: 0009
Revises: 0008
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

READER, COORDINATOR = "myoscore_reader", "myoscore_coordinator"
ME = "myoscore_current_reader()"
OWN_READS = f"SELECT id FROM reads WHERE reader_id = {ME}"
WRITABLE_READS = f"SELECT id FROM reads WHERE reader_id = {ME} AND status <> 'submitted'"
MY_NAME = f"(SELECT name FROM readers WHERE id = {ME})"
RLS_TABLES = ("reads", "ratings", "series", "consensus", "identity_links", "audit_events")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for group in (READER, COORDINATOR):
        op.execute(f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{group}') THEN "
                   f"CREATE ROLE {group} NOLOGIN; END IF; END $$")
    op.execute(
        # session_user: inside a SECURITY DEFINER function current_user is the owner.
        "CREATE FUNCTION myoscore_current_reader() RETURNS integer LANGUAGE sql STABLE SECURITY DEFINER "
        "SET search_path FROM CURRENT AS $$ SELECT id FROM readers WHERE db_role = session_user $$"
    )
    op.execute(
        "CREATE FUNCTION myoscore_create_role(role_name text, password text, member_of text) RETURNS void "
        "LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$ BEGIN "
        f"IF member_of NOT IN ('{READER}', '{COORDINATOR}') THEN RAISE EXCEPTION 'unknown group %', member_of; "
        "END IF; "
        "EXECUTE format('CREATE ROLE %I LOGIN PASSWORD %L IN ROLE %I', role_name, password, member_of); END $$"
    )
    op.execute(
        "CREATE FUNCTION myoscore_set_role_password(role_name text, password text) RETURNS void "
        "LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$ BEGIN "
        "IF NOT EXISTS (SELECT FROM readers WHERE db_role = role_name) THEN "
        "RAISE EXCEPTION 'not a myoscore role: %', role_name; END IF; "
        "EXECUTE format('ALTER ROLE %I PASSWORD %L', role_name, password); END $$"
    )
    for function in ("myoscore_create_role(text, text, text)", "myoscore_set_role_password(text, text)"):
        op.execute(f"REVOKE ALL ON FUNCTION {function} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {function} TO {COORDINATOR}")

    # Coordinators: everything, except that audit rows are only added and read.
    op.execute(f"GRANT USAGE ON SCHEMA {_schema()} TO {READER}, {COORDINATOR}")
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {_schema()} TO {COORDINATOR}")
    op.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {_schema()} TO {READER}, {COORDINATOR}")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA {_schema()} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES "
               f"TO {COORDINATOR}")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA {_schema()} GRANT USAGE, SELECT ON SEQUENCES "
               f"TO {READER}, {COORDINATOR}")
    op.execute("REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM PUBLIC")
    op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM {COORDINATOR}")

    # Readers: column privileges, then row-level security.
    op.execute(f"GRANT SELECT (id, name, role, active) ON readers TO {READER}")
    op.execute(f"GRANT SELECT (id, code) ON subjects TO {READER}")
    op.execute(f"GRANT SELECT (id, subject_id, label) ON exams TO {READER}")
    op.execute(f"GRANT SELECT ON protocols, series TO {READER}")
    op.execute(f"GRANT SELECT, UPDATE (status, submitted_at) ON reads TO {READER}")
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ratings TO {READER}")
    op.execute(f"GRANT SELECT, INSERT ON audit_events TO {READER}")
    for table in RLS_TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY coordinator_all ON {table} TO {COORDINATOR} USING (true) WITH CHECK (true)")
    op.execute(f"CREATE POLICY reader_own ON reads FOR SELECT TO {READER} USING (reader_id = {ME})")
    op.execute(f"CREATE POLICY reader_submit ON reads FOR UPDATE TO {READER} "
               f"USING (reader_id = {ME} AND status <> 'submitted') WITH CHECK (reader_id = {ME})")
    op.execute(f"CREATE POLICY reader_own ON ratings FOR SELECT TO {READER} USING (read_id IN ({OWN_READS}))")
    for command, clause in (("INSERT", "WITH CHECK"), ("DELETE", "USING")):
        op.execute(f"CREATE POLICY reader_{command.lower()} ON ratings FOR {command} TO {READER} "
                   f"{clause} (read_id IN ({WRITABLE_READS}))")
    op.execute(f"CREATE POLICY reader_update ON ratings FOR UPDATE TO {READER} "
               f"USING (read_id IN ({WRITABLE_READS})) WITH CHECK (read_id IN ({WRITABLE_READS}))")
    op.execute(f"CREATE POLICY reader_own ON series FOR SELECT TO {READER} "
               f"USING (exam_id IN (SELECT exam_id FROM reads WHERE reader_id = {ME}))")
    op.execute(f"CREATE POLICY reader_own ON audit_events FOR SELECT TO {READER} USING (actor = {MY_NAME})")
    op.execute(f"CREATE POLICY reader_insert ON audit_events FOR INSERT TO {READER} WITH CHECK (actor = {MY_NAME})")
    # consensus and identity_links: no grant and no reader policy, so nothing at all.


def _schema() -> str:
    return str(op.get_bind().exec_driver_sql("SELECT quote_ident(current_schema())").scalar())
