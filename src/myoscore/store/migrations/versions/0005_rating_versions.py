"""Consensus that tracks its inputs: every rating carries a version (raised each time it is
written), and every consensus value records the rating versions it was decided from.

A consensus value whose contributing rating has since changed (a reopened read re-scored,
a rating cleared and given again) is *stale*: it is no longer exported or summed as
decided. Rows written before this revision have no recorded versions (``{}``); for them
staleness falls back to comparing the readers' codes (``sources``).

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("ratings", sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
    op.add_column("consensus", sa.Column("rating_versions", sa.Text(), nullable=False, server_default="{}"))
