"""The review widget: a grid of auto-labels to accept, reject or relabel, least confident first;
or, in its disagreements mode, the items people disagree on, for a person's final decision.

The pages and actions are :class:`~nblabel.labeling.review.ReviewFeed`'s; this module only
carries its messages over the comm and reads images in a worker thread.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import anywidget
import traitlets

from nblabel.labeling.feed import Feed
from nblabel.labeling.review import MODES, ReviewFeed
from nblabel.widgets.item_widget import STATIC

__all__ = ["ReviewWidget"]

log = logging.getLogger(__name__)


class ReviewWidget(anywidget.AnyWidget):
    """Review a job's auto-labels in a grid, least confident first.

    Each tile shows an item (a thumbnail, or the first characters of a text), the class the
    auto-labeler proposed and its confidence. A person accepts proposals (they become
    ``verified`` answers), rejects them (the items go back to the people's queue and the
    auto-labeler leaves them alone), or relabels them (a person's answer). A slider accepts every
    proposal at or above a confidence in one step and shows, live, how many that is. A class
    filter narrows the grid, and the slider, to one proposed class.

    Keys (on the focused widget only): arrows move, Shift+arrows and Shift-click extend the
    selection, Ctrl/Cmd-click toggles a tile, Ctrl/Cmd+A selects the page, ``Home``/``End``,
    ``PageUp``/``PageDown``; ``a`` or ``Enter`` accepts the selection, ``r`` or ``Delete``
    rejects it, ``1``-``9``, ``0`` relabel it. In multi-label tasks a class key opens a small
    panel where keys toggle classes and ``Enter`` saves. Every action also has a button. The
    auto-labels of a box job are accepted or rejected only: no class key makes boxes, and a
    rejected image goes back to the people, who draw its boxes.

    When the auto-labeler finishes a round, the grid fetches its page again. Accepting or
    rejecting an item whose proposal changed after it was drawn leaves it alone and says so.
    The widget does not undo reviews, and it only shows items whose current label comes from
    the auto-labeler: labels by people are not reviewed here.

    With ``disagreements=True`` the grid shows the items people disagree on instead, most
    disputed first (:meth:`nblabel.Job.disagreements`): each tile shows every annotator's
    answer side by side, the current consolidated label and its confidence. Clicking an
    annotator's answer, or a class key on the selected tiles, records a person's final decision
    (:meth:`nblabel.Job.decide`), which later consolidations leave alone; ``z`` takes back the
    last decision made in this widget. Decided tiles stay in place, marked as decided. A
    decision on an item whose answers changed after it was drawn is left out and said so. The
    class filter shows the items where someone gave that class.

    Parameters
    ----------
    feed
        The job's item feed; its task must be a classification task.
    page_size
        Tiles per page (1-200).
    thumb
        Thumbnail size in CSS pixels (48-512); images are downscaled to fit it.
    disagreements
        Show the items people disagree on, for a final decision, instead of the auto-labels.

    Raises
    ------
    TypeError
        The job's task is not single- or multi-label classification (box tasks: auto-labels only).
    """

    _esm = STATIC / "review.js"
    _css = STATIC / "review.css"

    # -- configuration ----------------------------------------------------------------------
    labels = traitlets.List(traitlets.Unicode(), help="Class names, in key order.").tag(sync=True)
    multi_label = traitlets.Bool(False, help="Several classes per item.").tag(sync=True)
    media = traitlets.Unicode("image", help="'image' or 'text'.").tag(sync=True)
    title = traitlets.Unicode("", help="Shown in the widget's header.").tag(sync=True)
    page_size = traitlets.Int(24, help="Tiles per page.").tag(sync=True)
    thumb = traitlets.Int(160, help="Thumbnail size in CSS pixels.").tag(sync=True)
    relabel = traitlets.Bool(
        True, help="Class keys relabel the selection (not on box jobs: accept and reject only)."
    ).tag(sync=True)
    mode = traitlets.Unicode(
        "auto", help="'auto' (review auto-labels) or 'disagreements' (decide disputed items)."
    ).tag(sync=True)

    def __init__(
        self, feed: Feed, page_size: int = 24, thumb: int = 160, disagreements: bool = False, **kwargs: Any
    ) -> None:
        mode = MODES[bool(disagreements)]
        review = ReviewFeed(feed, mode, page_size)
        if not 48 <= thumb <= 512:
            raise ValueError(f"thumb must be 48-512 pixels, got {thumb}")
        super().__init__(
            labels=list(review.task.labels),
            multi_label=review.multi_label,
            media=review.task.media,
            title=f"{feed.title} · {'disagreements' if disagreements else 'review'}",
            page_size=page_size,
            thumb=thumb,
            mode=mode,
            relabel=review.relabels,
            **kwargs,
        )
        self.review = review
        # Thumbnails at twice their CSS size stay sharp on high-density screens.
        feed.max_width = feed.max_height = 2 * thumb
        self.feed = feed
        # Handlers run on the kernel's main thread; image pages are sent from worker threads.
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self.on_msg(self._on_custom)
        feed.watch_rounds(self._closed, lambda: self._reply({"type": "stale"}), "nblabel-review-rounds")

    def close(self) -> None:
        """Close the widget, stop watching the auto-labeler and stop the image workers."""
        if hasattr(self, "feed"):  # ipywidgets also closes widgets whose __init__ raised
            self._closed.set()
            self.feed.close()
        super().close()

    def _on_custom(self, _widget: Any, content: dict[str, Any], buffers: list[Any]) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if not self.review.accepts(kind):
            log.warning("nblabel review widget (%s mode): unknown message %r", self.mode, kind)
            return
        view = {key: content.get(key) for key in ("seq", "view")}
        try:
            if kind != "page":
                try:
                    self._reply(self.review.act(str(kind), content, view))
                except OSError as exc:  # disk full, read-only store
                    log.error("nblabel: cannot store a review: %s", exc)
                    self._reply({"type": "error", **view, "reason": f"could not save: {exc}"})
                except Exception as exc:  # a bug: still answer the action, or it shows "saving…"
                    log.exception("nblabel review widget: cannot apply %r", kind)
                    self._reply({"type": "error", **view, "reason": f"could not save: {exc!r}"})
            self._send_page(content, view)
        except Exception:  # a bad message must not kill the comm; say so in the log
            log.exception("nblabel review widget: cannot handle %r", kind)

    def _reply(self, message: dict[str, Any], buffers: list[bytes] | None = None) -> None:
        with self._lock:
            self.send(message, buffers or [])

    def _send_page(self, content: dict[str, Any], view: dict[str, Any]) -> None:
        """Send a page; its thumbnails are read in a worker thread."""
        message, tiles, buffers = self.review.page(content, view)

        def work() -> None:
            try:
                self._reply(*self.review.fill(message, tiles, buffers))
            except Exception:
                log.exception("nblabel review widget: cannot prepare a page")

        if self.review.task.media == "text":
            work()
        else:
            threading.Thread(target=work, name="nblabel-review", daemon=True).start()
