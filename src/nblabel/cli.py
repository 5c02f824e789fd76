"""The ``nblabel`` command line.

``nblabel serve jobs.py:job --annotator ana --annotator bob`` serves a job's labeling portal
(:mod:`nblabel.portal`) from a server that outlives any notebook: the Python file is run, its
variable (``job`` by default) is the :class:`~nblabel.Job`, the personal links are printed, and
the portal runs until Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import runpy
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

import nblabel

__all__ = ["load_job", "main"]


def load_job(spec: str) -> nblabel.Job:
    """The Job a spec names: ``path/to/file.py`` (its variable ``job``) or ``file.py:variable``."""
    path, _, name = spec.partition(":")
    if not Path(path).is_file():
        raise SystemExit(f"nblabel serve: no such file {path!r} (give a Python file that makes the job)")
    found = runpy.run_path(path, run_name="__nblabel_serve__").get(name or "job")
    if not isinstance(found, nblabel.Job):
        raise SystemExit(f"nblabel serve: {path} defines no Job named {name or 'job'!r}")
    return found


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nblabel", description="nblabel on the command line")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser(
        "serve",
        help="serve a job's labeling portal to annotators' browsers",
        description="Serve a job's labeling portal (Voilà) until Ctrl-C. Annotators named get new "
        "personal links (printed); the links issued before keep working.",
    )
    serve.add_argument("job", help="a Python file that makes the job, optionally :variable (default job)")
    serve.add_argument(
        "-a", "--annotator", action="append", default=[], help="give this annotator a new link (repeat)"
    )
    serve.add_argument("--revoke", action="append", default=[], help="end this annotator's access (repeat)")
    serve.add_argument("--port", type=int, default=None, help="the port (default: a free one)")
    serve.add_argument("--host", default="127.0.0.1", help="the address to listen on (default 127.0.0.1)")
    serve.add_argument("--instructions", default="", help="instructions text, or @file to read them")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    instructions = args.instructions
    if instructions.startswith("@"):
        instructions = Path(instructions[1:]).read_text(encoding="utf-8")
    job = load_job(args.job)
    portal = job.serve(args.annotator, port=args.port, host=args.host, instructions=instructions)
    for name in args.revoke:
        portal.revoke(name)
    # SIGTERM (a service manager's stop) ends the portal as Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        print(f"nblabel portal for job {job.name!r} at {portal.url} (Ctrl-C stops it)", flush=True)
        for row in portal.links.itertuples():
            print(f"{row.annotator}\t{row.link}", flush=True)
        portal.wait()
    except KeyboardInterrupt:
        pass
    finally:
        portal.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
