"""Readers see series through ``reader_series``: no description, reason or file names.

A series row holds what identifies a patient as easily as a name field does: the
scanner's SeriesDescription (sites type names into it), the classification reason that
quotes it, the issues that name files, and the folder and file names of the import
(``Doe_John/STIR/IM0001``). Revision 0009 granted readers every column of their own
exams' series. From here a reader reads series only through the view ``reader_series``:

- the columns a workstation needs to show the series (ids, UIDs, kind, grid, split
  part, regions), with ``description``, ``kind_reason`` and ``issues`` always empty;
- ``path`` and ``files`` only while the study has no image server. With one (a
  multi-site study), a reader's workstation fetches series by UID from the server, which
  holds the pseudonymised copies, so file names never reach a reader's role;
- PostgreSQL: only the series of the reader's own exams (the view filters; it runs with
  its owner's rights), and the table ``series`` itself is no longer granted to readers.

SQLite has the same view, without the row filter or the masking of files (one file is
the boundary there, and a reader at the importing machine reads its folders).

Revision ID: 0012
Revises: 0011
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

READER = "myoscore_reader"
SHOWN = ("id, exam_id, series_uid, kind, kind_overridden, n_files, shape, spacing, part, regions, z_range, "
         "created_at, '' AS description, '' AS kind_reason, '[]' AS issues")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.execute(f"CREATE VIEW reader_series AS SELECT {SHOWN}, path, files FROM series")
        return
    no_server = "NOT EXISTS (SELECT 1 FROM image_servers)"
    op.execute(
        f"CREATE VIEW reader_series WITH (security_barrier) AS SELECT {SHOWN}, "
        f"CASE WHEN {no_server} THEN path ELSE '' END AS path, "
        f"CASE WHEN {no_server} THEN files ELSE '[]' END AS files "
        "FROM series WHERE exam_id IN (SELECT exam_id FROM reads WHERE reader_id = myoscore_current_reader())")
    op.execute(f"REVOKE SELECT ON series FROM {READER}")
    op.execute(f"GRANT SELECT ON reader_series TO {READER}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"GRANT SELECT ON series TO {READER}")
    op.execute("DROP VIEW reader_series")
