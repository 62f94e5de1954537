"""Readers see only their own exams' and subjects' rows (PostgreSQL).

Revision 0009 gave readers column privileges on ``subjects`` (id, code) and ``exams``
(id, subject_id, label) but no row-level security on them, so plain SQL with a reader's
role listed every subject code and timepoint label of the study — how many subjects,
which have a follow-up — including exams never assigned to that reader. From here a
reader's role sees the rows of the exams it has a read of, and their subjects, as the
app already shows; coordinators keep every row. SQLite: nothing to do (the file is the
boundary there).

Revision ID: 0013
Revises: 0012
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

READER, COORDINATOR = "myoscore_reader", "myoscore_coordinator"
# Subqueries in a policy run under the reader's own rights, so ``reads`` and ``exams``
# are already limited to the reader's rows there.
OWN_EXAMS = "SELECT exam_id FROM reads WHERE reader_id = myoscore_current_reader()"
POLICIES = {"exams": f"id IN ({OWN_EXAMS})", "subjects": "id IN (SELECT subject_id FROM exams)"}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, own in POLICIES.items():
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY coordinator_all ON {table} TO {COORDINATOR} USING (true) WITH CHECK (true)")
        op.execute(f"CREATE POLICY reader_own ON {table} FOR SELECT TO {READER} USING ({own})")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in POLICIES:
        op.execute(f"DROP POLICY reader_own ON {table}")
        op.execute(f"DROP POLICY coordinator_all ON {table}")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
