"""The coordinator's study desk: excluded exams, study settings, opaque read codes and
recorded assignments (issue 14).

- ``exams.excluded_at`` / ``excluded_reason``: an excluded exam keeps its reads, ratings
  and consensus but drops out of worklists, agreement, scores and exports unless asked
  for. Excluding and including again are audited.
- ``study_settings``: one row per named setting (``timepoint_blinding`` …); a missing
  row means the setting's default (app.study_settings).
- ``reads.code``: an opaque per-read code that a reader sees instead of the subject code
  and timepoint while timepoint blinding is on. Existing reads get one here.
- ``assignments`` and ``reads.assignment_id``: each assignment (its design, its seed and
  who made it) is recorded, so it can be undone while none of its reads has a rating.

PostgreSQL: readers may read the settings and whether an exam is excluded (their
worklist hides excluded exams); assignments stay the coordinators' (default privileges
of revision 0009).

Revision ID: 0011
Revises: 0010
"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

READER = "myoscore_reader"
#: No 0/O or 1/I/L: codes are read aloud and typed.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def new_read_code() -> str:
    return "R-" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(6))


def upgrade() -> None:
    op.add_column("exams", sa.Column("excluded_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("exams", sa.Column("excluded_reason", sa.Text(), nullable=True))
    op.create_table(
        "study_settings",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
    )
    op.create_table(
        "assignments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("design", sa.String(32), nullable=False),
        sa.Column("seed", sa.String(64), nullable=False, server_default=""),
        sa.Column("parameters", sa.Text(), nullable=False, server_default="{}"),
    )
    # Plain ADD COLUMN, not a batch copy of ``reads``: ratings reference reads, and
    # SQLite refuses to drop a referenced table while foreign keys are enforced.
    op.add_column("reads", sa.Column("code", sa.String(16), nullable=True))
    op.add_column("reads", sa.Column("assignment_id", sa.Integer(), nullable=True))
    op.create_index("uq_reads_code", "reads", ["code"], unique=True)
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":  # SQLite cannot add a constraint to a table
        op.create_foreign_key("fk_reads_assignment", "reads", "assignments", ["assignment_id"], ["id"])
    used: set[str] = set()
    for (read_id,) in bind.execute(sa.text("SELECT id FROM reads")).all():
        code = new_read_code()
        while code in used:
            code = new_read_code()
        used.add(code)
        bind.execute(sa.text("UPDATE reads SET code = :code WHERE id = :id"), {"code": code, "id": read_id})
    if bind.dialect.name == "postgresql":
        op.execute(f"GRANT SELECT ON study_settings TO {READER}")
        op.execute(f"GRANT SELECT (excluded_at) ON exams TO {READER}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"REVOKE SELECT ON study_settings FROM {READER}")
        op.execute(f"REVOKE SELECT (excluded_at) ON exams FROM {READER}")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint("fk_reads_assignment", "reads", type_="foreignkey")
    op.drop_index("uq_reads_code", "reads")
    op.drop_column("reads", "assignment_id")
    op.drop_column("reads", "code")
    op.drop_table("assignments")
    op.drop_table("study_settings")
    op.drop_column("exams", "excluded_reason")
    op.drop_column("exams", "excluded_at")
