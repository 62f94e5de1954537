"""Series part: which split part of its files a series is (e.g. one of the parts of an
enhanced multi-frame file), so that each part loads and exports on its own.

Revision ID: 0004
Revises: 0003
"""

import re

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("series", sa.Column("part", sa.String(32), nullable=False, server_default=""))
    # Series imported before this revision carry their part only in the UID suffix
    # ("<uid>#2", or "<uid>#2@exam5" when attached to a named exam).
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT id, series_uid FROM series")).fetchall()
    for row_id, uid in rows:
        match = re.search(r"(#\d+)(@exam\d+)?$", uid or "")
        if match:
            connection.execute(sa.text("UPDATE series SET part = :part WHERE id = :id"),
                               {"part": match.group(1), "id": row_id})
