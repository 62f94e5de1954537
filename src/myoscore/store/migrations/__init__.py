"""Alembic migrations of the myoscore schema (run programmatically, no alembic.ini)."""
