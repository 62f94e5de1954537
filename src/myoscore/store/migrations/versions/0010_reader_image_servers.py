"""PostgreSQL: reader roles may read the study's image-server settings.

A reader's workstation at another site fetches the series of its exams from the study's
DICOM server (revision 0006); it needs the server's address and the *name* of the
environment variable that holds the password (the password itself is never stored).
Revision 0009 gave reader roles no grant on ``image_servers``, so that lookup was refused
on PostgreSQL. Readers get SELECT only; changing the settings stays the coordinators'.
SQLite: nothing to do.

Revision ID: 0010
Revises: 0009
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

READER = "myoscore_reader"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"GRANT SELECT ON image_servers TO {READER}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"REVOKE SELECT ON image_servers FROM {READER}")
