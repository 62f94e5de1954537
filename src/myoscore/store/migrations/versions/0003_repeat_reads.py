"""Repeat reads for intra-reader reliability: when a repeat read becomes available.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("reads", sa.Column("available_from", sa.DateTime(timezone=True), nullable=True))
