"""Unit tests: the core without a database file or images where it can."""
