"""A real PostgreSQL server for the store tests, from Debian's ``postgresql`` package.

The server (:class:`tests.harness.postgres.PostgresServer`) is started once per session and
removed at the end.

Outside CI, missing binaries or psycopg skip the PostgreSQL tests with a message saying how to
get them; in CI (``CI=true``) they fail instead, so a broken install never passes as a skip.

Also here: ``backend``, which runs a store contract test against SQLite and against a fresh
PostgreSQL database (see store_helpers.py), and ``pg_database``, a fresh database.

Test modules use this module with ``pytest_plugins = ["pg_fixtures"]``.
"""

from __future__ import annotations

import os
import pwd
from collections.abc import Iterator
from pathlib import Path

import pytest
from store_helpers import Backend

from tests.harness.postgres import PostgresServer, pg_bindir

__all__ = ["PostgresServer", "pg_bindir"]


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def _unavailable(reason: str) -> None:
    if _in_ci():
        pytest.fail(f"PostgreSQL tests cannot run in CI: {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL tests skipped: {reason}")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server for the whole session (skipped, or failed in CI, when unavailable)."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _unavailable("psycopg is not installed (pip install 'nblabel[postgres]'; make test does)")
    bindir = pg_bindir()
    if bindir is None:
        _unavailable(
            "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin "
            "(apt-get install postgresql; make test does)"
        )
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            _unavailable("running as root and there is no 'postgres' system user to run the server as")
    assert bindir is not None
    server = PostgresServer(bindir)
    try:
        yield server
    finally:
        server.remove()


@pytest.fixture
def pg_url(pg_server: PostgresServer) -> str:
    """The URL of the session's PostgreSQL database (tests keep apart by job name)."""
    return pg_server.url


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """A store back end: a SQLite file, or a fresh database on the session's PostgreSQL server."""
    if request.param == "sqlite":
        yield Backend("sqlite", str(tmp_path / "db" / "job.sqlite"))
        return
    server = request.getfixturevalue("pg_server")
    url = server.create_database()
    yield Backend("postgres", url)
    server.drop_database(url)


@pytest.fixture
def pg_database(pg_server: PostgresServer) -> Iterator[str]:
    """The URL of a fresh database, dropped after the test."""
    url = pg_server.create_database()
    yield url
    pg_server.drop_database(url)
