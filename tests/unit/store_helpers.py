"""Store back ends for contract tests that run against SQLite and PostgreSQL alike.

A :class:`Backend` opens a store (several times, as several kernels would) and gives the test a
plain SQL connection to the same database, to check what really landed there. The ``backend``
fixture (in pg_fixtures.py) gives each test one of each, a PostgreSQL one on a fresh database.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from nblabel.store import Store, open_store

__all__ = ["Backend", "raw_connection"]


@contextlib.contextmanager
def raw_connection(url: str) -> Iterator[Any]:
    """A plain psycopg connection that sees nblabel's tables unqualified (``annotations``)."""
    import psycopg

    with psycopg.connect(url, autocommit=True, options="-c search_path=nblabel") as conn:
        yield conn


@dataclass
class Backend:
    """One store back end for one test: ``spec`` is what ``open_store`` is given."""

    kind: str  # "sqlite" or "postgres"
    spec: str
    job: str = "job"

    def open(self) -> Store:
        """Open the store (again)."""
        return open_store(self.spec, self.job)

    @contextlib.contextmanager
    def sql(self) -> Iterator[Any]:
        """A plain connection to the store's database; tables are reachable unqualified."""
        if self.kind == "sqlite":
            db = sqlite3.connect(self.spec, isolation_level=None)
            try:
                yield db
            finally:
                db.close()
        else:
            with raw_connection(self.spec) as conn:
                yield conn

    def scalar(self, query: str) -> Any:
        """The first column of the first row of a plain query."""
        with self.sql() as db:
            return db.execute(query).fetchone()[0]

    @property
    def errors(self) -> tuple[type[BaseException], ...]:
        """The exceptions the plain connection raises when the database refuses a statement."""
        if self.kind == "sqlite":
            return (sqlite3.DatabaseError,)
        import psycopg

        return (psycopg.Error,)
