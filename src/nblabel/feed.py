"""What the labeling widgets are sent: item payloads and the answers they send back.

This is the widget protocol's Python half, kept free of widget code so it runs and is tested
headless. Images are downscaled and encoded here, in worker threads, so a slow or huge image
never blocks the kernel from acknowledging answers.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from nblabel.media import MediaError, Preview, crop_image, preview_image
from nblabel.store import Annotation

if TYPE_CHECKING:
    from nblabel.job import Job

__all__ = ["Feed"]

log = logging.getLogger(__name__)


class Feed:
    """Serves one job's items to a widget and applies the widget's answers to the job.

    Parameters
    ----------
    job
        The job whose items are shown.
    max_width, max_height
        The display size images are downscaled to (original sizes travel with them).
    """

    def __init__(self, job: Job, max_width: int = 1024, max_height: int = 768) -> None:
        self.job = job
        self.max_width = max_width
        self.max_height = max_height
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="nblabel-media")
        self._preview = lru_cache(maxsize=64)(self._load_preview)

    def close(self) -> None:
        """Stop the image workers."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    def progress(self) -> dict[str, int]:
        """The job's progress as the widget shows it."""
        return self.job.progress._asdict()

    # -- items ----------------------------------------------------------------------------

    def next_positions(self, count: int, exclude: Collection[str] = ()) -> tuple[list[int], bool]:
        """Claim up to ``count`` open positions not in ``exclude`` (the items the widget holds,
        whose claims are renewed), and say whether the queue ran dry."""
        self.job.refresh()
        if count <= 0:
            return [], False
        positions = self.job.claim(count, held=exclude)
        return positions, len(positions) < count

    def payloads(self, positions: list[int]) -> tuple[list[dict[str, Any]], list[bytes]]:
        """Item payloads and their binary buffers (images) for some positions.

        Images are prepared in parallel in worker threads; the call returns when all are ready.
        """
        media = self.job.task.media
        futures = [
            self._pool.submit(self._preview, self.job.source(p), self.max_width, self.max_height)
            if media == "image"
            else None
            for p in positions
        ]
        items: list[dict[str, Any]] = []
        buffers: list[bytes] = []
        total = len(self.job.keys)
        for position, future in zip(positions, futures, strict=True):
            key = self.job.keys[position]
            current = self.job.current(key)
            item: dict[str, Any] = {
                "key": key,
                "position": position,
                "total": total,
                "kind": media,
                "value": None if current is None or current.kind == "auto" else current.value,
            }
            if item["value"] is not None:
                try:
                    item["value"] = self.job.task.widget_value(item["value"])
                except (OSError, ValueError) as exc:  # e.g. a mask file removed since
                    log.warning("nblabel: item %s: cannot show its answer again: %s", key, exc)
                    item["notice"] = f"could not load the earlier answer: {exc}"
            proposal = self.job.proposal(key)
            if proposal is not None:
                item["proposal"] = {"value": proposal[0], "confidence": proposal[1]}
            if future is None:
                text = self.job.source(position)
                item["text"] = text if isinstance(text, str) else ""
            else:
                result = future.result()
                if isinstance(result, MediaError):
                    item["error"] = result.reason
                else:
                    item.update(
                        buffer=len(buffers),
                        mime=result.mime,
                        width=result.width,
                        height=result.height,
                        original_width=result.original_width,
                        original_height=result.original_height,
                        depth=result.depth,
                    )
                    buffers.append(result.data)
            if "error" not in item:
                self._extras(item, position)
            items.append(_lift_bytes(item, buffers))
        return items, buffers

    def _extras(self, item: dict[str, Any], position: int) -> None:
        """Add what the task shows with the item (boxes to start from, a label to verify)."""
        size = {}
        if "original_width" in item:
            size = {
                "width": item["original_width"],
                "height": item["original_height"],
                "depth": item["depth"],
            }
        try:
            item.update(
                self.job.task.item_extras(self.job.row_inputs(position), self.job.source(position), size)
            )
        except Exception as exc:  # a user's detector or a malformed input label: say so, show the item
            log.warning("nblabel: item %s: cannot read its starting labels: %s", item["key"], exc)
            item["notice"] = f"could not load the starting labels: {exc}"

    def _check_image_size(self, key: str, value: Any) -> None:
        """Refuse an answer drawn for another size than its image's, before anything is written.

        Box answers name the ``image_size`` they were drawn on, masks their ``width`` and
        ``height``; a confused or hostile widget could claim any size (and boxes are clamped to
        it). Malformed sizes are left to the task's own validation, which names them.
        """
        if self.job.task.media != "image" or not isinstance(value, dict):
            return
        sizes = value.get("image_size")
        if isinstance(sizes, list) and sizes and isinstance(sizes[0], dict):
            claimed = (sizes[0].get("width"), sizes[0].get("height"))
        elif "data" in value:
            claimed = (value.get("width"), value.get("height"))
        else:
            return
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in claimed):
            return
        result = self._preview(self.job.source(self.job.position(key)), self.max_width, self.max_height)
        if isinstance(result, MediaError):
            raise ValueError(f"item {key}: the answer cannot be checked against its image: {result.reason}")
        if tuple(claimed) != (result.original_width, result.original_height):
            raise ValueError(
                f"item {key}: the answer is for a {claimed[0]:g}x{claimed[1]:g} image, but the image is "
                f"{result.original_width}x{result.original_height}"
            )

    def detail(self, key: str, rect: dict[str, int], width: int, height: int) -> tuple[dict[str, Any], bytes]:
        """A sharper crop of an image region for a zoomed-in widget: the message and its buffer.

        ``rect`` is ``left``, ``top``, ``width``, ``height`` in original pixels; the crop is at most
        2048 pixels a side (the screen's size is asked for, so this only bounds a bad request).

        Raises
        ------
        MediaError
            The image cannot be read.
        """
        left, top = int(rect["left"]), int(rect["top"])
        box = (left, top, left + int(rect["width"]), top + int(rect["height"]))
        width, height = max(1, min(int(width), 2048)), max(1, min(int(height), 2048))
        crop = crop_image(str(self.job.source(self.job.position(key))), box, width, height)
        message = {"type": "detail", "key": key, "rect": dict(rect), "mime": crop.mime}
        return message, crop.data

    @staticmethod
    def _load_preview(ref: Any, max_width: int, max_height: int) -> Preview | MediaError:
        if not isinstance(ref, str):
            return MediaError(str(ref), "the item has no source-ref")
        try:
            return preview_image(ref, max_width, max_height)
        except MediaError as exc:
            log.info("cannot show %s: %s", ref, exc.reason)
            return exc

    def round_news(self, keys: Collection[str], window: int) -> dict[str, Any]:
        """After a new round: proposals for keys the widget holds, which of them were
        auto-labeled, and the first ``window`` keys of the new queue for people."""
        self.job.refresh()
        order = []
        for position in self.job.open_positions():
            order.append(self.job.keys[position])
            if len(order) >= window:
                break
        proposals = {}
        auto = []
        for key in keys:
            if not self.job.has_item(key):
                continue
            proposal = self.job.proposal(key)
            if proposal is not None:
                proposals[key] = {"value": proposal[0], "confidence": proposal[1]}
            current = self.job.current(key)
            if current is not None and current.kind == "auto":
                auto.append(key)
        return {
            "type": "proposals",
            "proposals": proposals,
            "auto": auto,
            "order": order,
            "progress": self.progress(),
        }

    # -- answers --------------------------------------------------------------------------

    def apply(self, message: dict[str, Any], buffers: Sequence[Any] = ()) -> Annotation | None:
        """Apply one answer message from the widget to the job.

        Messages: ``answer`` (``key``, ``value``), ``skip`` (``key``), ``undo`` (``target``, or
        none to take back the annotator's latest). Every message carries the browser-made
        ``uid``, so a re-sent message is stored once. An answer's binary buffer (a mask's
        pixels) reaches the task as the value's ``data``.

        Returns the annotation that an ``undo`` without target took back (the widget shows its
        item again), else None.

        Raises
        ------
        ValueError, KeyError
            The message is not a valid answer for this job; nothing was stored.
        """
        kind = message.get("type")
        uid = message.get("uid")
        if not isinstance(uid, str) or not uid:
            raise ValueError(f"the message has no uid (a non-empty string), got {uid!r}")
        job = self.job
        job.refresh()  # another kernel may have stored this uid, or moved the undo target
        if job.has_annotation(uid):  # a re-sent answer that is already stored
            return None
        if kind == "answer":
            key = job.key(message["key"])
            value = message.get("value")
            if buffers and isinstance(value, dict):
                value = {**value, "data": bytes(buffers[0])}
            self._check_image_size(key, value)
            value = job.answer_value(key, value, uid)
            job.record(Annotation(key, job.attribute, job.annotator, "human", value, uid=uid))
        elif kind == "skip":
            job.record(Annotation(job.key(message["key"]), job.attribute, job.annotator, "skip", uid=uid))
        elif kind == "undo":
            target = message.get("target")
            if target is not None and not isinstance(target, str):
                raise ValueError(f"an undo target is an answer's uid, got {target!r}")
            if target:
                if not job.has_annotation(target):
                    raise ValueError(f"cannot undo {target}: that answer was never stored")
                job.retract(target, retract_uid=uid)
            else:
                return job.undo(uid=uid)
        else:
            raise ValueError(f"unknown message type {kind!r}")
        return None


def _lift_bytes(obj: Any, buffers: list[bytes]) -> Any:
    """Replace bytes inside a payload (a mask's pixels) by ``{"buffer": i}``, appending them to
    ``buffers``: binary data travels as websocket buffers, never inside the JSON."""
    if isinstance(obj, (bytes, bytearray)):
        buffers.append(bytes(obj))
        return {"buffer": len(buffers) - 1}
    if isinstance(obj, dict):
        return {k: _lift_bytes(v, buffers) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_lift_bytes(v, buffers) for v in obj]
    return obj
