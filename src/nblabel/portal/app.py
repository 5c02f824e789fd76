"""The portal page's kernel side: what the generated app notebook runs for one annotator.

Voilà starts one kernel per page load and hands it the request's query string in the
``QUERY_STRING`` environment variable (``?who=<annotator>&token=<secret>``). :func:`show` checks
the pair against the store (:class:`~nblabel.portal.tokens.Tokens`), rebuilds the job with that
annotator as its identity (their own queue and claims), and displays only the job: its title,
its instructions (the first paragraph beside the item, all of it on demand), the task's widget
and the annotator's own progress. A wrong or revoked token gets a refusal instead, and every
widget message is checked again (:class:`GuardedFeed`), so a revocation takes effect at once.

Behind JupyterHub the Hub has already authenticated the person: its single-user server gives
kernels ``JUPYTERHUB_USER``, which is then the annotator (no token in the link); the store still
says whether they were granted access and not revoked.
"""

from __future__ import annotations

import html
import os
import pickle
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import ipywidgets as w
from IPython.display import display

from nblabel.job import Job
from nblabel.labeling.feed import Feed
from nblabel.portal.tokens import Tokens
from nblabel.store import Annotation, open_store
from nblabel.widgets import widget_for

__all__ = ["AccessRevoked", "GuardedFeed", "identity", "show"]


#: Items each page claims ahead: a team shares the queue, and a notebook's window for texts (50)
#: would leave a teammate nothing to claim in a small job.
WINDOW = 10


class AccessRevoked(ValueError):
    """The annotator's access ended; the widget replies ``rejected`` (the browser drops it)."""


class GuardedFeed(Feed):
    """A :class:`~nblabel.labeling.feed.Feed` that asks ``allowed()`` before serving items or
    storing an answer, so a revoked annotator's next message is refused."""

    def __init__(
        self, job: Job, allowed: Callable[[], bool], on_answer: Callable[[], None] | None = None
    ) -> None:
        super().__init__(job.items, job.queue, job.log)
        self._allowed = allowed
        self._on_answer = on_answer

    def _check(self) -> None:
        if not self._allowed():
            raise AccessRevoked("your access to this job has ended; ask the job's owner for a new link")

    def apply(self, message: dict[str, Any], buffers: Sequence[Any] = ()) -> Annotation | None:
        """Check access, then :meth:`Feed.apply`, then tell ``on_answer``."""
        self._check()
        stored = super().apply(message, buffers)
        if self._on_answer is not None:
            self._on_answer()
        return stored

    def next_positions(
        self, count: int, exclude: Collection[str] = (), skip: Collection[str] = ()
    ) -> tuple[list[int], bool]:
        """Check access, then :meth:`Feed.next_positions`."""
        self._check()
        return super().next_positions(count, exclude, skip)

    def payloads(self, positions: list[int]) -> tuple[list[dict[str, Any]], list[bytes]]:
        """Check access, then :meth:`Feed.payloads`."""
        self._check()
        return super().payloads(positions)


def identity(
    tokens: Tokens, environ: Mapping[str, str] = os.environ
) -> tuple[str, Callable[[], bool]] | None:
    """The annotator this page belongs to and the check that they still have access, or None
    when access is refused.

    ``JUPYTERHUB_USER`` (set by JupyterHub's single-user server) when present, while the store
    grants that user access; else the ``who`` of the query string, while its ``token`` is
    ``who``'s current one (a new link for ``who`` ends the old one's access too).
    """
    hub_user = environ.get("JUPYTERHUB_USER", "")
    if hub_user:
        return (hub_user, lambda: tokens.granted(hub_user)) if tokens.granted(hub_user) else None
    query = parse_qs(environ.get("QUERY_STRING", ""))
    who = query.get("who", [""])[0]
    token = query.get("token", [""])[0]
    return (who, lambda: tokens.valid(who, token)) if tokens.valid(who, token) else None


def _text(value: str, tag: str = "div", **style: str) -> w.HTML:
    """Text shown as text: escaped into one element (never data as HTML)."""
    css = ";".join(f"{k.replace('_', '-')}:{v}" for k, v in style.items())
    return w.HTML(f'<{tag} style="{css}">{html.escape(value)}</{tag}>')


def refusal(title: str) -> w.Widget:
    """The page a wrong or revoked link gets."""
    box = w.VBox(
        [
            _text(title, "h2"),
            _text(
                "This link does not give access to the job: it is wrong, or access was revoked. "
                "Ask the job's owner for a new link.",
                "p",
            ),
        ]
    )
    box.add_class("nbl-portal-refused")
    return box


def _own_progress(job: Job, who: str) -> str:
    ledger = job.log.ledger
    done = sum(1 for key in job.keys if ledger.answered_by(key, who))
    return f"{who}: {done} answered"


def page(job: Job, who: str, allowed: Callable[[], bool], instructions: str) -> w.Widget:
    """The annotator's page: title, instructions, the task's widget, their own progress."""
    mine = _text(_own_progress(job, who), "p", margin="0")
    mine.add_class("nbl-portal-mine")

    def update(_change: Any = None) -> None:
        mine.value = _text(_own_progress(job, who), "p", margin="0").value

    # After each of this annotator's answers: with several answers per item, an answer to an
    # item that still waits for someone else leaves the job's progress as it was.
    widget = widget_for(GuardedFeed(job, allowed, on_answer=update), window=WINDOW)
    widget.observe(update, names=["progress"])  # and as others' answers and added rows arrive
    parts: list[w.Widget] = [_text(job.name, "h2", margin="0 0 4px 0"), mine]
    if instructions.strip():
        short = instructions.strip().split("\n\n", 1)[0]
        parts.append(_text(short, "p", margin="0", white_space="pre-wrap"))
        if short != instructions.strip():
            full = w.Accordion([_text(instructions.strip(), "div", white_space="pre-wrap")])
            full.set_title(0, "Full instructions")
            full.selected_index = None
            parts.append(full)
    parts.append(widget)
    box = w.VBox(parts)
    box.add_class("nbl-portal")
    return box


def show(spec_path: str | os.PathLike[str]) -> w.Widget:
    """Display the portal page for the request this kernel serves (the app notebook's one call).

    ``spec_path`` is the job's spec, written by :class:`~nblabel.portal.Portal` (the job's
    arguments, pickled by its owner into the job's own folder).
    """
    spec = pickle.loads(Path(spec_path).read_bytes())  # written by the job's owner, next to the store
    os.chdir(spec["cwd"])  # relative paths (store, media) mean what they meant to the owner
    store = open_store(spec["store"], spec["name"])
    tokens = Tokens(store, spec["attribute"])
    found = identity(tokens)
    if found is None:
        shown = refusal(spec["name"])
    else:
        who, allowed = found
        job = Job(
            spec["name"],
            spec["data"],
            spec["task"],
            attribute=spec["attribute"],
            store=spec["store"],
            annotator=who,
            media_root=spec["media_root"],
        )
        shown = page(job, who, allowed, spec["instructions"])
    display(shown)
    return shown
