"""A task's instructions to the people labeling, as Ground Truth's worker pages have them.

GT shows a short instruction beside the item and full instructions with good and bad examples
(its label-category file's ``"instructions": {"shortInstruction", "fullInstruction"}``). Every
built-in task takes ``instructions=``: a Markdown string (its first paragraph is the short text),
a mapping, or an :class:`Instructions`. The widget renders the Markdown as text-built DOM, never
as HTML (js/lib/instructions.js); example images are URLs or local files, which are read through
the file guard and embedded when the widget is made.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from nblabel.io.guard import FileGuard

__all__ = ["Example", "Instructions"]

_PARAGRAPH = re.compile(r"\n\s*\n")


@dataclass(frozen=True)
class Example:
    """An example image with a caption (what is right or wrong about it).

    ``image`` is an ``http(s)`` URL, a ``data:image/...`` URL, or a local path or ``s3://`` URI
    (embedded when the widget is made).
    """

    image: str
    caption: str = ""


@dataclass(frozen=True)
class Instructions:
    """What the person labeling is told: ``short`` beside the item, ``full`` in the panel the
    ``i`` key opens (both Markdown), with ``good`` and ``bad`` example images.

    Examples
    --------
    >>> Instructions.of("Box every **car**.\\n\\nParked cars count too.").short
    'Box every **car**.'
    """

    short: str = ""
    full: str = ""
    good: tuple[Example, ...] = ()
    bad: tuple[Example, ...] = ()

    @classmethod
    def of(cls, value: Any) -> Instructions | None:
        """Instructions from what a task constructor was given.

        ``None`` gives None; a string is the full text, its first paragraph the short one; a
        mapping takes ``short``/``full``/``good``/``bad`` (GT's ``shortInstruction`` and
        ``fullInstruction`` too), examples as image references or ``{"image", "caption"}``.

        Raises
        ------
        TypeError
            Anything else, or an example that is neither a string nor such a mapping.
        """
        if value is None or isinstance(value, Instructions):
            return value
        if isinstance(value, str):
            text = value.strip()
            return cls(short=_PARAGRAPH.split(text, maxsplit=1)[0], full=text) if text else None
        if isinstance(value, Mapping):
            full = str(value.get("full", value.get("fullInstruction", "")) or "")
            short = str(value.get("short", value.get("shortInstruction", "")) or "")
            if not short and full:
                short = _PARAGRAPH.split(full.strip(), maxsplit=1)[0]
            return cls(
                short=short,
                full=full,
                good=_examples(value.get("good"), "good"),
                bad=_examples(value.get("bad"), "bad"),
            )
        raise TypeError(
            f"instructions are a Markdown string, a dict (short, full, good, bad) or Instructions, got {value!r}"
        )

    def payload(self, guard: FileGuard) -> dict[str, Any]:
        """What the widget shows: the texts, and each example as ``{"src", "caption"}`` with local
        and S3 images embedded as ``data:`` URLs read through ``guard``.

        Raises
        ------
        nblabel.media.MediaError
            An example image cannot be read, or is not an image.
        """

        def shown(examples: Sequence[Example]) -> list[dict[str, str]]:
            return [{"src": _src(e.image, guard), "caption": e.caption} for e in examples]

        return {"short": self.short, "full": self.full, "good": shown(self.good), "bad": shown(self.bad)}


def _examples(value: Any, which: str) -> tuple[Example, ...]:
    if value is None:
        return ()
    if isinstance(value, (str, Mapping)):
        value = [value]
    out = []
    for entry in value:
        if isinstance(entry, str):
            out.append(Example(entry))
        elif isinstance(entry, Example):
            out.append(entry)
        elif isinstance(entry, Mapping) and isinstance(entry.get("image"), str):
            out.append(Example(entry["image"], str(entry.get("caption", ""))))
        else:
            raise TypeError(
                f"a {which} example is an image reference or {{'image', 'caption'}}, got {entry!r}"
            )
    return tuple(out)


def _src(image: str, guard: FileGuard) -> str:
    scheme = urlparse(image).scheme.lower()
    if scheme in ("http", "https") or image.lower().startswith("data:image/"):
        return image
    from nblabel.media import MediaError

    mime, data = guard.embed(image)
    if not mime.startswith("image/"):
        raise MediaError(image, f"an example must be an image, this is {mime}")
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
