"""Sign-in security: failed sign-ins in a row and the back-off they earn; each user's
PostgreSQL role (empty on SQLite).

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("readers", sa.Column("failed_sign_ins", sa.Integer, nullable=False, server_default="0"))
    op.add_column("readers", sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
    op.add_column("readers", sa.Column("db_role", sa.String(63), nullable=True))
