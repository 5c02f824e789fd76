"""What the labeling widgets are sent: item payloads and the answers they send back.

This is the widget protocol's Python half, kept free of widget code so it runs and is tested
headless. Images are downscaled and encoded here, in worker threads, so a slow or huge image
never blocks the kernel from acknowledging answers. The feed also follows the auto-labeler:
:meth:`Feed.watch_rounds` calls back when a new round lands, and :meth:`Feed.round_news` says
what changed for the items a widget holds.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from nblabel.autolabel.asked import ASKED
from nblabel.labeling.answers import AnswerLog
from nblabel.labeling.items import Items
from nblabel.labeling.queue import Queue
from nblabel.labeling.timing import PROPOSAL, check_timing, worker_identity
from nblabel.media import MediaError, Preview, crop_image, preview_image, read_rgb
from nblabel.store import Annotation

__all__ = ["Feed", "lift_bytes"]

log = logging.getLogger(__name__)

#: The longest uid a widget message may carry.
MAX_UID_CHARS = 128

# The annotation kind each answer message makes, and the kinds a widget's undo may take back.
_KIND_OF = {"answer": "human", "skip": "skip", "undo": "retract"}
_UNDOABLE = frozenset({"human", "verified", "skip"})


class Feed:
    """Serves one job's items to a widget and applies the widget's answers to the job's log.

    Parameters
    ----------
    items, queue, log
        The job's items, its queue for this session, and its answer log.
    max_width, max_height
        The display size images are downscaled to (original sizes travel with them).
    """

    def __init__(
        self, items: Items, queue: Queue, log: AnswerLog, max_width: int = 1024, max_height: int = 768
    ) -> None:
        self.items = items
        self.queue = queue
        self.log = log
        self.task = items.task
        #: What the widget's header says: the job, and the attribute when it has another name.
        self.title = items.name if log.attribute == items.name else f"{items.name} · {log.attribute}"
        #: Identifies the job's store and attribute, for re-sending unsaved answers.
        self.job_id = f"{Path(log.store.path).resolve()}::{log.attribute}"
        self.max_width = max_width
        self.max_height = max_height
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="nblabel-media")
        self._preview = lru_cache(maxsize=64)(self._load_preview)
        # The last few images at full resolution: a tool's prompt and its corrections reuse one.
        self._original = lru_cache(maxsize=4)(self._read_original)

    def close(self) -> None:
        """Stop the image workers."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    def progress(self) -> dict[str, int]:
        """The job's progress as the widget shows it."""
        return self.log.progress()._asdict()

    def key(self, item: int | str) -> str:
        """The item key of a row position or key (``KeyError`` when there is no such item)."""
        return self.items.key(item)

    def watch_rounds(
        self,
        closed: threading.Event,
        on_round: Callable[[], None],
        name: str,
        on_answers: Callable[[], None] | None = None,
    ) -> threading.Thread:
        """Call ``on_round`` (from a daemon thread) each time the auto-labeler writes a new
        round or rows were added to the job (the queue changed either way), and ``on_answers`` each time answers were appended otherwise (by code in this
        kernel, another kernel, this widget itself), until ``closed`` is set.

        The store is polled once a second: rounds and answers come from other processes, and
        two indexed queries are cheaper than any notification machinery.
        """

        def run() -> None:
            seen = self.queue.latest_round()
            seq = self.log.ledger.last_seq
            count = len(self.items)
            while not closed.wait(1.0):
                try:
                    latest = self.queue.latest_round()
                    if latest != seen:
                        seen = latest
                        on_round()
                    elif on_answers is not None:
                        self.log.refresh()
                        if len(self.items) != count:  # rows added to the job: the queue grew
                            on_round()
                        elif self.log.ledger.last_seq == seq:
                            continue
                        else:
                            on_answers()
                    seq = self.log.ledger.last_seq
                    count = len(self.items)
                except Exception:  # the store may be closing with the kernel; keep the widget alive
                    log.exception("nblabel %s: cannot follow the store", name)

        thread = threading.Thread(target=run, name=name, daemon=True)
        thread.start()
        return thread

    def answer_news(self, keys: Collection[str]) -> dict[str, Any]:
        """After answers were appended: which of the keys a widget holds no longer wait for
        this annotator (answered or skipped from anywhere), and the progress now."""
        self.log.refresh()
        ledger = self.log.ledger
        done = [
            key
            for key in keys
            if self.items.has(key) and (not ledger.awaits_person(key) or self.queue.answered(key))
        ]
        return {"type": "answered", "keys": done, "progress": self.progress()}

    # -- items ----------------------------------------------------------------------------

    def next_positions(
        self, count: int, exclude: Collection[str] = (), skip: Collection[str] = ()
    ) -> tuple[list[int], bool]:
        """Claim up to ``count`` open positions not in ``exclude`` (the items the widget holds,
        whose claims are renewed) nor in ``skip`` (items never to show, left unclaimed), and
        say whether the queue ran dry."""
        self.log.refresh()
        if count <= 0:
            return [], False
        positions = self.queue.claim(count, held=exclude, skip=skip)
        return positions, len(positions) < count

    def payloads(self, positions: list[int]) -> tuple[list[dict[str, Any]], list[bytes]]:
        """Item payloads and their binary buffers (images) for some positions.

        Images are prepared in parallel in worker threads; the call returns when all are ready.
        """
        media = self.task.media
        futures = [
            self._pool.submit(self._preview, self.items.source(p), self.max_width, self.max_height)
            if media == "image"
            else None
            for p in positions
        ]
        items: list[dict[str, Any]] = []
        buffers: list[bytes] = []
        for position, future in zip(positions, futures, strict=True):
            item = self.item(position)
            item["kind"] = media
            proposal = self._proposal(item["key"])
            if proposal is not None:
                item["proposal"] = proposal
            if future is None:
                text = self.items.source(position)
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
            items.append(lift_bytes(item, buffers))
        return items, buffers

    def item(self, position: int) -> dict[str, Any]:
        """What every widget is told about an item: its ``key``, ``position``, the ``total``,
        and the person's earlier answer as ``value``, in the form the widget shows it (None
        when there is none; a ``notice`` when it cannot be shown again)."""
        key = self.items.keys[position]
        current = self.log.current(key)
        item: dict[str, Any] = {
            "key": key,
            "position": position,
            "total": len(self.items),
            "value": None if current is None or current.kind == "auto" else current.value,
        }
        if item["value"] is not None:
            try:
                item["value"] = self.task.widget_value(item["value"])
            except (OSError, ValueError) as exc:  # e.g. a mask file removed since
                log.warning("nblabel: item %s: cannot show its answer again: %s", key, exc)
                item["notice"] = f"could not load the earlier answer: {exc}"
        return item

    def _proposal(self, key: str) -> dict[str, Any] | None:
        """The item's proposal as the widget shows it (a mask proposal with its pixels), or None
        (also when its files went away with an old round)."""
        proposal = self.queue.proposal(key)
        if proposal is None:
            return None
        try:
            return {"value": self.task.widget_value(proposal[0]), "confidence": proposal[1]}
        except (OSError, ValueError) as exc:
            log.info("nblabel: item %s: cannot show its proposal: %s", key, exc)
            return None

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
                self.task.item_extras(self.items.row_inputs(position), self.items.source(position), size)
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
        if self.task.media != "image" or not isinstance(value, dict):
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
        result = self._preview(self.items.source_of(key), self.max_width, self.max_height)
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
        crop = crop_image(
            str(self.items.source_of(self.items.key(key))), box, width, height, guard=self.items.files
        )
        message = {"type": "detail", "key": key, "rect": dict(rect), "mime": crop.mime}
        return message, crop.data

    def original(self, key: str) -> np.ndarray:
        """An item's image at its original resolution, ``(H, W, 3)`` uint8 (the tools work on it).

        Raises
        ------
        MediaError
            The image cannot be read.
        """
        ref = self.items.source_of(self.items.key(key))
        if not isinstance(ref, str):
            raise MediaError(str(ref), "the item has no source-ref")
        return self._original(ref)

    def learn_from_strokes(self, key: str, strokes: np.ndarray) -> int:
        """Keep an image's partial answer for the mask auto-labeler (``job.learn_from_strokes``):
        ``strokes`` holds a class index where the person painted and 255 (unknown) elsewhere. It
        trains the next rounds; it is not an answer. Returns the painted pixels.

        Raises
        ------
        ValueError
            An unknown item, another size than the image's, or nothing painted.
        """
        from nblabel.autolabel.mask_loop import UNKNOWN
        from nblabel.autolabel.mask_worker import save_strokes

        key = self.items.key(key)
        height, width = np.shape(strokes)
        self._check_image_size(key, {"width": width, "height": height, "data": None})
        painted = int(np.count_nonzero(np.asarray(strokes) != UNKNOWN))
        if not painted:
            raise ValueError(f"item {key}: no painted pixel to learn from")
        save_strokes(self.log.store, self.log.folder, self.log.attribute, key, strokes)
        return painted

    def _read_original(self, ref: str) -> np.ndarray:
        return read_rgb(ref, guard=self.items.files)

    def _load_preview(self, ref: Any, max_width: int, max_height: int) -> Preview | MediaError:
        if not isinstance(ref, str):
            return MediaError(str(ref), "the item has no source-ref")
        try:
            return preview_image(ref, max_width, max_height, guard=self.items.files)
        except MediaError as exc:
            log.info("cannot show %s: %s", ref, exc.reason)
            return exc

    def round_news(self, keys: Collection[str], window: int) -> dict[str, Any]:
        """After a new round: proposals for keys the widget holds that wait for an answer, which
        of them were auto-labeled, and the first ``window`` keys of the new queue for people.
        A mask proposal's pixels are bytes here: :func:`lift_bytes` turns them into buffers."""
        self.log.refresh()
        order = []
        for position in self.queue.open_positions():
            order.append(self.items.keys[position])
            if len(order) >= window:
                break
        proposals = {}
        auto = []
        for key in keys:
            if not self.items.has(key):
                continue
            current = self.log.current(key)
            proposal = self._proposal(key) if current is None or current.kind == "auto" else None
            if proposal is not None:
                proposals[key] = proposal
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

    def _answer_meta(self, message: Mapping[str, Any], key: str, value: Any = None) -> dict[str, Any]:
        """An answer's ``meta``: why its item was asked, as the queue chose it (``asked``: the
        design-based bound weights random draws by it, see :mod:`nblabel.autolabel.asked`) and,
        when the browser measured it, GT's worker timing (``timing``: ``acceptanceTime``,
        ``submissionTime``, ``timeSpentInSeconds``) and who answered (``worker``: ``workerId``,
        ``workerMetadata``). An answer (``value``) to an item the widget showed with a proposal
        records whether it took the proposal as it was (``proposal``: ``{"unchanged": bool}``,
        see :meth:`nblabel.tasks.base.Task.took_proposal`; ``job.stats()`` counts it).

        Raises
        ------
        ValueError
            The timing is not two ISO times and a number of seconds in [0, one day].
        """
        meta: dict[str, Any] = {ASKED: self.queue.asked(key)}
        proposal = self.queue.proposal(key) if message.get("type") == "answer" else None
        if proposal is not None:
            took = self.task.took_proposal(value, proposal[0])
            if took is not None:
                meta[PROPOSAL] = {"unchanged": took}
        timing = message.get("timing")
        if timing is not None:
            meta |= {"timing": check_timing(timing), "worker": worker_identity(self.log.annotator)}
        return meta

    def apply(self, message: dict[str, Any], buffers: Sequence[Any] = ()) -> Annotation | None:
        """Apply one answer message from the widget to the answer log.

        Messages: ``answer`` (``key``, ``value``), ``skip`` (``key``), ``undo`` (``target``, or
        none to take back the annotator's latest). Every message carries the browser-made
        ``uid``, so a re-sent message is stored once. An answer's binary buffer (a mask's
        pixels) reaches the task as the value's ``data``.

        Returns the annotation that an ``undo`` without target took back (the widget shows its
        item again), else None. A uid already stored is acknowledged only when it is the same
        answer sent again; an undo takes back only this session's annotator's own answers.

        Raises
        ------
        ValueError, KeyError, TypeError
            The message is not a valid answer for this job (a uid naming another annotation, an
            undo of someone else's answer, a value no store can keep); nothing was stored.
        """
        kind = message.get("type")
        uid = message.get("uid")
        if not isinstance(uid, str) or not uid:
            raise ValueError(f"the message has no uid (a non-empty string), got {uid!r}")
        if len(uid) > MAX_UID_CHARS:  # browsers make 32 hex digits; a huge one is forged
            raise ValueError(f"the message's uid is {len(uid)} characters long, more than {MAX_UID_CHARS}")
        answers = self.log
        answers.refresh()  # another kernel may have stored this uid, or moved the undo target
        if answers.has(uid):  # sent again: acknowledged if it is the same answer
            self._check_resent(answers.ledger.by_uid[uid], kind, message)
            return None
        if kind == "answer":
            key = self.items.key(message["key"])
            value = message.get("value")
            if buffers and isinstance(value, dict):
                value = {**value, "data": bytes(buffers[0])}
            value = self.task.widget_answer(value, key)  # pixels, never a path
            self._check_image_size(key, value)
            answers.label(key, value, uid=uid, meta=self._answer_meta(message, key, value))
        elif kind == "skip":
            key = self.items.key(message["key"])
            answers.skip(key, uid=uid, meta=self._answer_meta(message, key))
        elif kind == "undo":
            target = message.get("target")
            if target is not None and not isinstance(target, str):
                raise ValueError(f"an undo target is an answer's uid, got {target!r}")
            if target:
                taken = answers.ledger.by_uid.get(target)
                if taken is None:
                    raise ValueError(f"cannot undo {target}: that answer was never stored")
                if taken.annotator != answers.annotator or taken.kind not in _UNDOABLE:
                    raise ValueError(f"cannot undo {target}: it is not an answer of {answers.annotator!r}")
                answers.retract(target, uid=uid)
            else:
                undone = answers.undo(uid=uid)
                if undone is None:  # refused, not acknowledged: nothing was stored
                    raise ValueError(
                        f"nothing to undo: {answers.annotator!r} has no answer left to take back"
                    )
                return undone
        else:
            raise ValueError(f"unknown message type {repr(kind)[:80]}")
        return None

    def _check_resent(self, stored: Annotation, kind: Any, message: dict[str, Any]) -> None:
        """Refuse a message whose uid is already stored for another annotation than the one it
        would make (a forged or colliding uid), so it is never acknowledged as stored."""
        same = stored.kind == _KIND_OF.get(kind) and stored.annotator == self.log.annotator
        if same and kind == "undo":
            same = not message.get("target") or stored.target == message["target"]
        elif same:
            same = stored.item == self.items.key(message.get("key"))
        if not same:
            raise ValueError(f"uid {stored.uid!r} already names another annotation; nothing was stored")


def lift_bytes(obj: Any, buffers: list[bytes]) -> Any:
    """Replace bytes inside a payload (a mask's pixels) by ``{"buffer": i}``, appending them to
    ``buffers``: binary data travels as websocket buffers, never inside the JSON."""
    if isinstance(obj, (bytes, bytearray)):
        buffers.append(bytes(obj))
        return {"buffer": len(buffers) - 1}
    if isinstance(obj, dict):
        return {k: lift_bytes(v, buffers) for k, v in obj.items()}
    if isinstance(obj, list):
        return [lift_bytes(v, buffers) for v in obj]
    return obj
