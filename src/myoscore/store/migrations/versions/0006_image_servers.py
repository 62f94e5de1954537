"""The study's DICOM server (where series can be fetched by UID), without credentials.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "image_servers",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("dicomweb_url", sa.String(512), nullable=False, server_default=""),
        sa.Column("host", sa.String(256), nullable=False, server_default=""),
        sa.Column("port", sa.Integer, nullable=False, server_default="0"),
        sa.Column("ae_title", sa.String(16), nullable=False, server_default="ORTHANC"),
        sa.Column("username", sa.String(128), nullable=False, server_default=""),
        sa.Column("password_env", sa.String(128), nullable=False, server_default=""),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("image_servers")
