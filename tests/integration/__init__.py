"""Integration tests: real SQLite/PostgreSQL databases, real DICOM, subprocesses and servers."""
