"""The semantic-segmentation widget: paint a class per pixel on a zoomable image."""

from __future__ import annotations

import logging
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np
import traitlets

from nblabel.io.guard import MASK_BYTES
from nblabel.masks import decode_indices
from nblabel.media import MediaError
from nblabel.tasks.segment_prompts import extreme_points_prompt, stroke_points, superpixels
from nblabel.tasks.segmentation import SemanticSegmentation
from nblabel.widgets.item_widget import STATIC, ItemWidget

if TYPE_CHECKING:
    from nblabel.labeling.feed import Feed

__all__ = ["SegmentWidget"]

log = logging.getLogger(__name__)


class SegmentWidget(ItemWidget):
    """Paint segmentation masks on a job's images, one image at a time.

    The mask is exact: one class index per original pixel, painted with integer rules and no
    antialiasing, sent to the kernel losslessly and written there as an indexed PNG. Tools:
    ``b`` brush, ``e`` eraser (paints BACKGROUND), ``p`` polygon (click the corners; Enter, a
    double-click or a click on the first corner fills it; Escape drops it), ``g`` flood fill of
    the region under the pointer, ``r`` fills every still-unpainted pixel with the current class.
    ``[`` and ``]`` change the brush size; ``1``-``9``, ``0`` pick the class; ``o`` steps the mask
    opacity, ``m`` hides or shows the mask; ``z`` / ``Backspace`` undo and ``Shift+Z`` redoes every
    edit (past the first edit, ``z`` takes back the previous image's answer); ``Enter`` submits,
    ``s`` skips, ``←``/``→`` revisit. Zoom with the wheel or ``+``/``-``, pan with space-drag or
    the middle button, ``f`` fits. It does not draw boxes: see the box widget.

    Click-to-mask tools ask the kernel: ``c`` box (drag a box around an object; the task's prompt
    model, GrabCut by default, returns its mask in the current class) and ``x`` extreme points
    (click the object's leftmost, topmost, rightmost and bottommost points); after either, clicks
    correct the mask (Shift-click: not the object), and so do strokes dragged with Alt (Alt+Shift:
    not the object; GrabCut re-runs in its mask mode from the previous result with the strokes'
    pixels sure), each answer one more undo step, and Escape starts the next object. ``u`` is the superpixel brush (a stroke fills whole SLIC regions,
    computed once per image in the kernel), ``w`` the magic wand (flood fill by colour, in the
    browser; ``[`` ``]`` change its tolerance). ``l`` learns from strokes: the mask painted so far
    (the pixels changed since the image came on screen; the others are unknown, not background)
    trains the mask auto-labeler (``job.autolabel()``) without being stored as an answer, and the
    image stays in the queue. Every tool's result is an ordinary edit of the
    mask: undo, eraser, class and opacity act on it as on a brush stroke. The kernel's work runs
    in worker threads, one reply per request.

    Parameters
    ----------
    feed
        The item feed of the job to label; its task must be :class:`~nblabel.tasks.segmentation.SemanticSegmentation`.
    window
        How many images the browser holds ahead of the one on screen (default 4).
    """

    _esm = STATIC / "segment.js"
    _css = STATIC / "segment.css"

    colors = traitlets.List(traitlets.Unicode(), help="Hex colour by class index (0: BACKGROUND).").tag(
        sync=True
    )
    adjusting = traitlets.Bool(False, help="The images start from an earlier job's masks.").tag(sync=True)

    def __init__(self, feed: Feed, *, window: int | None = None, **kwargs: Any) -> None:
        if not isinstance(feed.task, SemanticSegmentation):
            raise TypeError(f"SegmentWidget paints SemanticSegmentation tasks, not {feed.task!r}")
        super().__init__(
            feed,
            window=window or 4,
            colors=list(feed.task.colors),
            adjusting=bool(feed.task.adjust),
            **kwargs,
        )
        # The tools' kernel work (prompt model, superpixels) runs here, never on the kernel's
        # main thread: two workers, so a slow superpixel computation does not hold up a click.
        self._tools = ThreadPoolExecutor(max_workers=2, thread_name_prefix="nblabel-seg-tools")

    def close(self) -> None:
        """Close the widget and stop its tool workers."""
        if hasattr(self, "_tools"):
            self._tools.shutdown(wait=False, cancel_futures=True)
        super().close()

    def _on_request(self, kind: Any, content: dict[str, Any], buffers: list[Any]) -> bool:
        if kind == "learn":
            self._learn(content, buffers)
        elif kind == "prompt":
            self._tools.submit(self._reply_prompt, content)
        elif kind == "superpixels":
            self._tools.submit(self._reply_superpixels, content)
        else:
            return False
        return True

    def _learn(self, content: dict[str, Any], buffers: list[Any]) -> None:
        """Learn from strokes: the image's partial answer trains the mask auto-labeler, not stored
        as an answer. The request: ``key``, ``width``, ``height`` and one buffer, the image's
        pixels as class indices with 255 where nothing was painted, zlib-compressed; the reply
        ``learned`` says how many pixels were painted (a malformed request is ``rejected``)."""
        key = str(content.get("key") or "")
        if len(buffers) != 1:
            raise ValueError(f"the strokes come as one buffer, got {len(buffers)}")
        width, height = int(content.get("width") or 0), int(content.get("height") or 0)
        if not (width > 0 and height > 0 and width * height <= MASK_BYTES):  # before inflating
            raise ValueError(f"the strokes cannot be {width} x {height} pixels")
        strokes = decode_indices(bytes(buffers[0]), width, height, "the strokes: ")
        painted = self.feed.learn_from_strokes(key, strokes)
        self._reply({"type": "learned", "key": key, "painted": painted})

    def _reply_prompt(self, content: dict[str, Any]) -> None:
        """The mask of a click-to-mask prompt: its bounding rectangle and the rectangle's pixels.

        The request: ``id``, ``key``, ``box`` (``[x0, y0, x1, y1]``, exclusive ends, or null),
        ``points`` and ``labels`` (1 on the object, 0 not), ``extreme`` (the 4 extreme
        points, or null) and ``strokes`` (refining strokes, see
        :data:`~nblabel.tasks.segment_prompts.Stroke`: a prompt model with a ``refine`` method,
        as :class:`~nblabel.tasks.segment_prompts.GrabCut` has, takes them whole; any other
        gets their points as clicks). The reply (``prompt-mask``) carries ``rect`` (null when the mask is
        empty) and one buffer: the rectangle's 0/1 bytes, row by row, zlib-compressed; or
        ``error``.
        """
        key = str(content.get("key") or "")
        reply: dict[str, Any] = {"type": "prompt-mask", "id": content.get("id"), "key": key, "rect": None}
        started = time.perf_counter()
        try:
            image = self.feed.original(key)
            height, width = image.shape[:2]
            points = np.asarray(content.get("points") or [], dtype=float).reshape(-1, 2)
            labels = np.asarray(content.get("labels") or [], dtype=int).reshape(-1)
            box = content.get("box")
            if content.get("extreme"):
                box, extreme, ones = extreme_points_prompt(content["extreme"], width, height)
                points, labels = np.concatenate([extreme, points]), np.concatenate([ones, labels])
            model = self.feed.task.prompt_model
            strokes = content.get("strokes") or []
            if strokes and callable(getattr(model, "refine", None)):
                mask = model.refine(image, points, labels, box, strokes)
            else:
                if strokes:
                    more, more_labels = stroke_points(strokes)
                    points, labels = np.concatenate([points, more]), np.concatenate([labels, more_labels])
                mask = model(image, points, labels, box)
            mask = np.asarray(mask, dtype=bool)
            if mask.shape != (height, width):
                raise ValueError(
                    f"the prompt model returned a {mask.shape} mask for a {width} x {height} image"
                )
        except (MediaError, KeyError, TypeError, ValueError) as exc:
            reply["error"] = str(exc)
            self._reply(reply)
            return
        except Exception as exc:  # the user's prompt model failed: say so, keep the widget alive
            log.exception("nblabel: the prompt model failed on %s", key)
            reply["error"] = f"the prompt model failed: {exc}"
            self._reply(reply)
            return
        reply["ms"] = round(1000 * (time.perf_counter() - started), 1)
        rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
        if not len(rows):
            self._reply(reply)
            return
        x0, x1, y0, y1 = int(cols[0]), int(cols[-1]) + 1, int(rows[0]), int(rows[-1]) + 1
        reply["rect"] = [x0, y0, x1, y1]
        self._reply(reply, [zlib.compress(mask[y0:y1, x0:x1].astype(np.uint8).tobytes(), 1)])

    def _reply_superpixels(self, content: dict[str, Any]) -> None:
        """An image's SLIC superpixels: ``superpixels`` with ``width``, ``height``, ``count`` and
        one buffer, the labels as little-endian uint16, row by row, zlib-compressed; or ``error``."""
        key = str(content.get("key") or "")
        try:
            labels = superpixels(self.feed.original(key))
        except (MediaError, KeyError) as exc:
            self._reply({"type": "superpixels", "key": key, "error": str(exc)})
            return
        except Exception as exc:  # still one reply, or the browser waits for it forever
            log.exception("nblabel: cannot compute the superpixels of %s", key)
            self._reply({"type": "superpixels", "key": key, "error": f"superpixels failed: {exc}"})
            return
        height, width = labels.shape
        message = {"type": "superpixels", "key": key, "width": width, "height": height}
        message["count"] = int(labels.max()) + 1
        self._reply(message, [zlib.compress(labels.astype("<u2").tobytes(), 1)])
