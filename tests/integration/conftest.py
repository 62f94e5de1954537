"""Fixtures shared by the integration tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.postgres_server import running_postgres


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    """A PostgreSQL server of its own for each test module that asks for it; its URL."""
    with running_postgres() as url:
        yield url
