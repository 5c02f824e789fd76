"""A throwaway PostgreSQL server from Debian's ``postgresql`` package, for tests and benchmarks.

``initdb`` into a fresh temporary folder, then ``postgres`` listening on 127.0.0.1 on a free
port (trust authentication, loopback only), stopped by :meth:`PostgresServer.remove` (fast
shutdown, then kill after 10 s), both through ``pg_ctl``, whose ``-w`` waits for the server to
accept connections: readiness without a sleep. PostgreSQL refuses to run as root; as root (CI)
both commands run as the ``postgres`` system user (``setpriv``), in a folder that user owns.
Shared by the store tests (tests/unit/pg_fixtures.py) and the portal's browser test.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

__all__ = ["PostgresServer", "pg_bindir"]

STARTUP_TIMEOUT = 60.0  # seconds: a watchdog on the server becoming ready, not a synchronisation


def pg_bindir() -> Path | None:
    """The newest ``/usr/lib/postgresql/<version>/bin`` with initdb and postgres, if any."""
    found = []
    for bindir in Path("/usr/lib/postgresql").glob("*/bin"):
        version = bindir.parent.name
        tools = (bindir / "initdb", bindir / "pg_ctl", bindir / "postgres")
        if re.fullmatch(r"\d+(\.\d+)?", version) and all(t.is_file() for t in tools):
            found.append((float(version), bindir))
    return max(found)[1] if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    """A throwaway PostgreSQL cluster on 127.0.0.1; ``url`` reaches its ``postgres`` database."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.folder = Path(tempfile.mkdtemp(prefix="nblabel-pg-"))
        self.data = self.folder / "data"
        self.log = self.folder / "server.log"
        self.prefix: list[str] = []
        if os.geteuid() == 0:  # PostgreSQL refuses root: run as the package's system user
            user = pwd.getpwnam("postgres")
            os.chown(self.folder, user.pw_uid, user.pw_gid)
            self.prefix = [
                "setpriv",
                f"--reuid={user.pw_uid}",
                f"--regid={user.pw_gid}",
                "--init-groups",
                "--",
            ]
        subprocess.run(
            [
                *self.prefix,
                str(bindir / "initdb"),
                "-D",
                str(self.data),
                "-U",
                "nblabel",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
            cwd=self.folder,
        )
        self.running = False
        self.port = 0
        self._start()

    def _start(self) -> None:
        # pg_ctl -w waits until the server accepts connections: readiness without a sleep.
        for _attempt in range(3):  # another process may take the free port before the server does
            self.port = _free_port()
            options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c max_connections=60"
            started = subprocess.run(
                [
                    *self._pg_ctl,
                    "-l",
                    str(self.log),
                    "-o",
                    options,
                    "-w",
                    "-t",
                    str(STARTUP_TIMEOUT),
                    "start",
                ],
                capture_output=True,
                cwd=self.folder,
            )
            if started.returncode == 0:
                self.running = True
                return
        raise RuntimeError(f"PostgreSQL did not start; its log:\n{self.log.read_text(errors='replace')}")

    @property
    def _pg_ctl(self) -> list[str]:
        return [*self.prefix, str(self.bindir / "pg_ctl"), "-D", str(self.data)]

    @property
    def url(self) -> str:
        """The connection URL of the default database."""
        return self.database_url("postgres")

    def database_url(self, name: str) -> str:
        """The connection URL of one of the server's databases."""
        return f"postgresql://nblabel@127.0.0.1:{self.port}/{name}"

    def create_database(self) -> str:
        """A new empty database; its URL."""
        import psycopg

        name = f"db_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.database_url(name)

    def drop_database(self, url: str) -> None:
        """Drop a database made by :meth:`create_database` (its files would slow the shutdown)."""
        import psycopg

        name = url.rsplit("/", 1)[1]
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        """Fast shutdown; kill the postmaster if it has not gone after 10 s."""
        if not self.running:
            return
        self.running = False
        stopped = subprocess.run([*self._pg_ctl, "-m", "fast", "-w", "-t", "10", "stop"], capture_output=True)
        pidfile = self.data / "postmaster.pid"
        if stopped.returncode != 0 and pidfile.is_file():
            with contextlib.suppress(OSError, ValueError):
                os.kill(int(pidfile.read_text().split()[0]), signal.SIGKILL)

    def remove(self) -> None:
        """Stop the server and delete its files."""
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)
