"""The annotation record and the interface every store implements."""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from nblabel.store.kinds import KINDS

if TYPE_CHECKING:
    from nblabel.store.claims import Claim

__all__ = [
    "COLUMNS",
    "MAX_META_CHARS",
    "MAX_VALUE_CHARS",
    "Annotation",
    "Store",
    "StoreFormatError",
    "UnstorableValue",
    "annotation_from_row",
    "new_uid",
    "row_of",
    "utc_now",
]


class UnstorableValue(ValueError):
    """An annotation the store cannot hold as given (a lone UTF-16 surrogate or a NUL character
    in its text, a non-finite number, a value too large); nothing was stored. A widget's answer
    that meets one is *rejected* with this reason, never retried."""


class StoreFormatError(OSError):
    """The file or database is not an nblabel store this release can open (another
    application's, or one written by a newer nblabel); the message names it."""


#: The largest answer value a store keeps, in characters of its JSON text. Answers are labels,
#: boxes, spans or a mask's file name: far below this; a larger one is a forged or broken message.
MAX_VALUE_CHARS = 16 * 1024 * 1024

#: The largest ``meta`` object a store keeps, in characters of its JSON text: a few timings and
#: names, so anything near this came from a forged message.
MAX_META_CHARS = 64 * 1024


def utc_now() -> str:
    """The current UTC time in Ground Truth's ``creation-date`` spelling (microseconds, no zone)."""
    return datetime.now(timezone.utc).replace(tzinfo=None).isoformat(timespec="microseconds")


def new_uid() -> str:
    """A fresh unique annotation id."""
    return uuid.uuid4().hex


@dataclass(frozen=True)
class Annotation:
    """One entry of the append-only log.

    Parameters
    ----------
    item
        The item key (see :func:`nblabel.labeling.items.item_keys`).
    attribute
        The label attribute the answer is for.
    annotator
        A person's name, or ``auto:<model>`` for the auto-labeler.
    kind
        One of :data:`KINDS`.
    value
        The answer in the task's own form (a class name, a list of names, ...), JSON-able.
    confidence
        The answer's confidence in [0, 1], if any.
    uid
        Unique id; appending the same uid twice stores it once, so re-sent answers are harmless.
    created
        UTC timestamp, GT spelling.
    target
        For ``retract``: the uid taken back.
    meta
        What is known about how the annotation came about, as a JSON object: ``"asked"`` (why
        the item was shown to the person), ``"timing"`` and ``"worker"`` (Ground Truth's worker
        timing and identity). None when nothing is known (every answer of a store from before
        schema 3).
    seq
        Position in the log, set by the store.
    """

    item: str
    attribute: str
    annotator: str
    kind: str
    value: Any = None
    confidence: float | None = None
    uid: str = field(default_factory=new_uid)
    created: str = field(default_factory=utc_now)
    target: str | None = None
    meta: Mapping[str, Any] | None = None
    seq: int = 0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown annotation kind {self.kind!r}; expected one of {KINDS}")
        if self.kind == "retract" and not self.target:
            raise ValueError("a retraction must name the annotation it takes back (target)")


#: The log's columns as the stores select them, in the order :func:`annotation_from_row` reads.
COLUMNS = "seq, uid, item, attribute, annotator, kind, value, confidence, created, target, meta"


def _text(who: str, name: str, text: Any, *, optional: bool = False) -> None:
    """Refuse a text field both stores cannot keep losslessly (the rule is the same for both)."""
    if text is None and optional:
        return
    if not isinstance(text, str):
        raise UnstorableValue(f"annotation {who}: {name} must be a string, got {type(text).__name__}")
    if "\x00" in text:
        raise UnstorableValue(f"annotation {who}: {name} contains a NUL character")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise UnstorableValue(
            f"annotation {who}: {name} contains a lone UTF-16 surrogate ({text[exc.start]!r} at "
            f"character {exc.start}), which UTF-8 cannot hold"
        ) from None


# One encoder for every value: json.dumps() with arguments builds a new one per call.
_VALUE_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False)


def _plain_texts(texts: tuple[Any, ...]) -> bool:
    """True when every one is a string that UTF-8 can hold, without a NUL."""
    try:
        joined = "".join(texts)
        joined.encode("utf-8")
    except (TypeError, UnicodeEncodeError):
        return False
    return "\x00" not in joined


def row_of(a: Annotation) -> tuple[Any, ...]:
    """The annotation as the stores insert it: ``uid, item, attribute, annotator, kind, value,
    confidence, created, target, meta``, the value and the meta as JSON text.

    Every check happens here, before a transaction starts, so a value that cannot be stored is
    refused the same way by every back end and never leaves a transaction open.

    Raises
    ------
    UnstorableValue
        A text is not a string, holds a lone surrogate or a NUL; the value is not JSON, holds a
        non-finite number or is larger than :data:`MAX_VALUE_CHARS`; the meta is not a JSON
        object or is larger than :data:`MAX_META_CHARS`; the confidence is not a finite number.
    """
    uid = a.uid
    # repr() escapes surrogates, and a forged uid may be huge: messages show its start only.
    who = repr(uid) if not isinstance(uid, str) or len(uid) <= 64 else f"{uid[:64]!r}..."
    texts = (uid, a.item, a.attribute, a.annotator, a.created, a.target or "")
    if not _plain_texts(texts):  # the common case costs one join and one encode; else name it
        for name, text in zip(("uid", "item", "attribute", "annotator", "created"), texts, strict=False):
            _text(who, name, text)
        _text(who, "target", a.target, optional=True)
    value = None if a.value is None else _json(who, "value", a.value, MAX_VALUE_CHARS)
    meta = None
    if a.meta is not None:
        if not isinstance(a.meta, Mapping) or not all(isinstance(k, str) for k in a.meta):
            raise UnstorableValue(
                f"annotation {who}: meta must be a JSON object, got {type(a.meta).__name__}"
            )
        meta = _json(who, "meta", dict(a.meta), MAX_META_CHARS)
    confidence = a.confidence
    if confidence is not None:
        if isinstance(confidence, bool) or not isinstance(confidence, (int, float)):
            raise UnstorableValue(f"annotation {who}: confidence must be a number, got {confidence!r}")
        if not math.isfinite(confidence):
            raise UnstorableValue(f"annotation {who}: confidence must be finite, got {confidence!r}")
    return (uid, a.item, a.attribute, a.annotator, a.kind, value, confidence, a.created, a.target, meta)


def _json(who: str, name: str, obj: Any, limit: int) -> str:
    """``obj`` as the JSON text a store keeps, at most ``limit`` characters.

    Raises
    ------
    UnstorableValue
        Not JSON, a non-finite number, too deeply nested or too large, or a text UTF-8 cannot hold.
    """
    try:
        text = _VALUE_ENCODER.encode(obj)
    except (TypeError, ValueError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else exc
        raise UnstorableValue(f"annotation {who}: the {name} is not storable JSON: {reason}") from None
    if len(text) > limit:
        raise UnstorableValue(
            f"annotation {who}: the {name} is {len(text)} characters of JSON, more than the "
            f"{limit} a store keeps"
        )
    _text(who, name, text)
    return text


def annotation_from_row(row: Sequence[Any]) -> Annotation:
    """An annotation from a row of :data:`COLUMNS`, its value stored as JSON text."""
    seq, uid, item, attribute, annotator, kind, value, confidence, created, target, meta = row
    return Annotation(
        item=item,
        attribute=attribute,
        annotator=annotator,
        kind=kind,
        value=None if value is None else json.loads(value),
        confidence=confidence,
        uid=uid,
        created=created,
        target=target,
        meta=None if meta is None else json.loads(meta),
        seq=seq,
    )


class Store(Protocol):
    """What a Job needs from a store."""

    #: Where the store is, for messages (a file path, or a URL without its password).
    path: Any
    #: What :func:`nblabel.store.open_store` takes to open this store again, in another process.
    spec: str
    #: A folder on this machine for what goes with the store: feature caches, worker logs.
    local_dir: Path

    def append(self, annotations: Iterable[Annotation]) -> list[Annotation]:
        """Durably append annotations; return those newly stored (with ``seq``), in order."""
        ...

    def annotations(self, attribute: str | None = None, after: int = 0) -> Iterator[Annotation]:
        """Yield stored annotations in log order, optionally for one attribute, after a seq."""
        ...

    def save_round(
        self,
        attribute: str,
        report: dict[str, Any],
        proposals: Iterable[tuple[str, Any, float]],
        queue: Iterable[str],
        annotations: Iterable[Annotation],
    ) -> int:
        """Store an auto-labeling round (report, proposals, queue, annotations) atomically."""
        ...

    def latest_round(self, attribute: str) -> tuple[int, dict[str, Any]] | None:
        """The newest auto-labeling round's number and report."""
        ...

    def proposals(self, attribute: str) -> dict[str, tuple[Any, float]]:
        """The latest round's proposal per item."""
        ...

    def queue(self, attribute: str) -> list[str]:
        """The latest round's order of items for people."""
        ...

    def get_meta(self, key: str) -> str | None:
        """A job-level setting, or None."""
        ...

    def set_meta(self, key: str, value: str) -> None:
        """Store a job-level setting."""
        ...

    def claim(
        self,
        attribute: str,
        annotator: str,
        session: str,
        candidates: Sequence[str],
        *,
        want: int,
        slots: int,
        ttl: float,
        renew: Collection[str] = (),
    ) -> list[str]:
        """Atomically claim up to ``want`` of the candidates for a person's session (see
        :func:`nblabel.store.claims.choose`), and renew the session's claims on ``renew``."""
        ...

    def claims(self, attribute: str) -> list[Claim]:
        """Every live (unexpired) claim on an attribute."""
        ...

    def close(self) -> None:
        """Release the store's resources."""
        ...
