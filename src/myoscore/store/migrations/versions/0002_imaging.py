"""Imaging: series of an exam, the study UID of imported exams, identity links.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    # add_column + a unique index, not a batch table rebuild: rebuilding "exams"
    # under SQLite's foreign keys would fail on the rows that reference it.
    op.add_column("exams", sa.Column("study_uid", sa.String(128), nullable=True))
    op.create_index("ix_exams_study_uid", "exams", ["study_uid"], unique=True)
    op.create_table(
        "identity_links",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "subject_id", sa.Integer, sa.ForeignKey("subjects.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("patient_id", sa.String(128), nullable=False, unique=True),
    )
    op.create_table(
        "series",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("exam_id", sa.Integer, sa.ForeignKey("exams.id"), nullable=False),
        sa.Column("series_uid", sa.String(160), nullable=False, unique=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("kind_reason", sa.Text, nullable=False),
        sa.Column("kind_overridden", sa.Boolean, nullable=False),
        sa.Column("description", sa.String(256), nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("files", sa.Text, nullable=False),
        sa.Column("n_files", sa.Integer, nullable=False),
        sa.Column("shape", sa.String(64), nullable=False),
        sa.Column("spacing", sa.String(128), nullable=False),
        sa.Column("issues", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
