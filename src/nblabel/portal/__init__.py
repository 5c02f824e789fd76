"""The labeling portal: a job opened to annotators in their browsers, with no notebook.

:func:`serve` (``job.serve(...)``, or ``nblabel serve`` on the command line) writes a one-cell
app notebook next to the job's store and serves it with `Voilà <https://voila.readthedocs.io>`_,
which renders a notebook as a web page with its widgets and never shows or runs code from the
page. Each annotator gets a personal link carrying their name and a secret token
(:mod:`nblabel.portal.tokens`); the page's kernel (:mod:`nblabel.portal.app`) checks it and
shows the task's widget with that annotator's identity, so their answers land in the job's
store under their name, with their own queue and claims, while the owner's notebook watches
``job.progress`` move.
"""

from __future__ import annotations

import json
import os
import pickle
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import pandas as pd

from nblabel.portal.tokens import Tokens, check_annotator
from nblabel.store import Store
from nblabel.store.postgres import is_postgres_url

if TYPE_CHECKING:
    from nblabel.job import Job

__all__ = ["Portal", "serve"]

#: The kernelspec the app notebook names: this interpreter, whatever Jupyter finds elsewhere.
KERNEL = "nblabel-portal"
STARTUP_TIMEOUT = 60.0  # seconds: a watchdog on Voilà answering, not a synchronisation


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _store_spec(store: Store) -> str:
    """How the page's kernel reopens the owner's store: the URL, or the file's absolute path."""
    spec = getattr(store, "spec", None)
    if isinstance(spec, str) and is_postgres_url(spec):
        return spec
    return str(Path(store.path).resolve())


def _notebook(spec_path: Path) -> str:
    cell = f"from nblabel.portal.app import show\n\nshow({str(spec_path)!r});"
    return json.dumps(
        {
            "cells": [
                {
                    "cell_type": "code",
                    "execution_count": None,
                    "id": "portal",
                    "metadata": {},
                    "outputs": [],
                    "source": cell,
                }
            ],
            "metadata": {
                "kernelspec": {"name": KERNEL, "display_name": "nblabel portal", "language": "python"}
            },
            "nbformat": 4,
            "nbformat_minor": 5,
        },
        indent=1,
    )


class Portal:
    """A running portal: Voilà serving one job's app notebook.

    Made by :func:`serve` (``job.serve``); use :attr:`links` to hand out the personal links,
    :meth:`revoke` to end someone's access and :meth:`stop` to stop the server (the store keeps
    every answer and token: serving again keeps the links that were not replaced).

    Attributes
    ----------
    url
        The server's base URL.
    folder
        Where the app notebook, the job's spec and the kernelspec live (inside the job's folder).
    """

    def __init__(
        self, folder: Path, tokens: Tokens, issued: dict[str, str], host: str, port: int | None
    ) -> None:
        self.folder = folder
        self.tokens = tokens
        self._issued = dict(issued)
        self.host = host
        self.port = port or _free_port(host)
        self.url = f"http://{host}:{self.port}"
        self.log_path = folder / "voila.log"
        self._proc: subprocess.Popen[bytes] | None = None

    # -- links ------------------------------------------------------------------------------

    def link(self, name: str) -> str:
        """The personal link of an annotator issued a token by this call (``KeyError`` otherwise:
        tokens are stored hashed, so an older link cannot be shown again, only replaced)."""
        return f"{self.url}/?{urlencode({'who': name, 'token': self._issued[name]})}"

    @property
    def links(self) -> pd.DataFrame:
        """One row per annotator given a new link: ``annotator``, ``link``."""
        rows = [{"annotator": name, "link": self.link(name)} for name in self._issued]
        return pd.DataFrame(rows, columns=["annotator", "link"])

    def revoke(self, name: str) -> None:
        """End ``name``'s access: their page and their next widget message are refused; their
        answers stay in the store."""
        self.tokens.revoke(name)
        self._issued.pop(name, None)

    # -- the server -------------------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        """The Voilà server's process id while it runs."""
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    def start(self) -> Portal:
        """Start Voilà on the app notebook and wait until it answers."""
        if self.pid is not None:
            return self
        data = self.folder / "jupyter"
        spec = data / "kernels" / KERNEL
        spec.mkdir(parents=True, exist_ok=True)
        (spec / "kernel.json").write_text(
            json.dumps(
                {
                    "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                    "display_name": "nblabel portal",
                    "language": "python",
                }
            )
        )
        env = dict(os.environ)
        env["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(data), env.get("JUPYTER_PATH")]))
        # The kernels import this very nblabel, also when it is not installed (a source tree).
        package_root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
        env.pop("JUPYTERHUB_USER", None)  # the owner's Hub identity is nobody's annotator name
        cmd = [
            sys.executable,
            "-m",
            "voila",
            str(self.folder / "app.ipynb"),
            "--no-browser",
            f"--Voila.ip={self.host}",
            f"--port={self.port}",
            "--Voila.port_retries=0",
            "--show_tracebacks=False",  # an annotator sees a refusal, never the owner's code
            "--strip_sources=True",
        ]
        with open(self.log_path, "ab") as log:
            self._proc = subprocess.Popen(
                cmd,
                cwd=self.folder,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C in the owner's kernel does not reach it
            )
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + STARTUP_TIMEOUT
        # A static file: asking for the page itself would start a kernel.
        probe = f"{self.url}/voila/static/favicon.ico"
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                break
            try:
                with urllib.request.urlopen(probe, timeout=2):
                    return
            except urllib.error.HTTPError:
                return  # it answers
            except (urllib.error.URLError, OSError):
                time.sleep(0.1)  # the interval of a readiness poll
        tail = self.log_tail()
        self.stop()
        raise RuntimeError(f"the portal's Voilà server did not start on {self.url}; its log:\n{tail}")

    def log_tail(self, n: int = 60) -> str:
        """The last ``n`` lines of the Voilà server's log (kernels' errors land there too)."""
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])

    def stop(self) -> None:
        """Stop the server and its kernels (answers are already in the store)."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()  # Voilà shuts its kernels down on SIGTERM
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)

    def wait(self) -> int | None:
        """Block until the server exits; its exit status (None when it was not started)."""
        proc = self._proc
        return None if proc is None else proc.wait()

    def __enter__(self) -> Portal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.pid is not None else "stopped"
        return f"Portal({self.url!r}, {state}, annotators={list(self._issued)})"

    def _repr_html_(self) -> str:
        return self.links.to_html(index=False)


def serve(
    job: Job,
    annotators: Iterable[str] = (),
    *,
    port: int | None = None,
    host: str = "127.0.0.1",
    instructions: str = "",
) -> Portal:
    """Open ``job`` to annotators in their browsers (see :meth:`nblabel.Job.serve`)."""
    names = [check_annotator(name) for name in annotators]
    if len(set(names)) != len(names):
        raise ValueError(f"annotators must be different names, got {names}")
    if not isinstance(instructions, str):
        raise TypeError(f"instructions must be text, got {type(instructions).__name__}")
    folder = job.store.local_dir.resolve() / job.name / f"portal-{job.attribute}"
    folder.mkdir(parents=True, exist_ok=True)
    spec = {
        "name": job.name,
        "data": job.data,
        "task": job.task,
        "attribute": job.attribute,
        "store": _store_spec(job.store),
        "media_root": None if job.media_root is None else str(Path(job.media_root).resolve()),
        "cwd": os.getcwd(),
        "instructions": instructions,
    }
    try:
        pickled = pickle.dumps(spec)
    except (pickle.PicklingError, AttributeError, TypeError) as exc:
        raise TypeError(
            f"the portal's kernels rebuild the job from a pickle of its task and data: {exc}; "
            "define the task's callables at module level"
        ) from exc
    spec_path = folder / "job.pickle"
    spec_path.write_bytes(pickled)
    (folder / "app.ipynb").write_text(_notebook(spec_path))
    tokens = Tokens(job.store, job.attribute)
    issued = {name: tokens.issue(name) for name in names}
    return Portal(folder, tokens, issued, host, port).start()
