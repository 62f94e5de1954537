"""Series regions: the atlas regions a series covers (its station) and its extent along
the body, so the coordinator's series table and a read know which units no series shows.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Series imported before this revision get their regions when their exam is next
    # imported into, or from `myoscore series regions` (app.coverage.refresh_exam_regions).
    op.add_column("series", sa.Column("regions", sa.Text(), nullable=False, server_default="[]"))
    op.add_column("series", sa.Column("z_range", sa.String(64), nullable=False, server_default="[]"))
