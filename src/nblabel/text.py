"""Text as nblabel counts it: offsets in code points and UTF-16 units, and the one tokenizer.

Offsets
    nblabel stores entity offsets as code points, 0-based and end exclusive: ``text[start:end]``
    is the entity. Browsers (and tools written in JavaScript, Java or C#) count UTF-16 code
    units, where a character outside the Basic Multilingual Plane (most emoji, rare CJK) takes
    two units. :func:`codepoint_to_utf16` and :func:`utf16_to_codepoint` translate between the
    two; they agree on texts without such characters.
Tokens
    The tokenizer (for the CoNLL and token-table exports, and the entity tagger) is stated here
    and nowhere else: a token is a maximal run of word characters (Unicode letters, digits and
    marks, and ``_``), or any other non-space character together with the marks, variation
    selectors, skin-tone modifiers and zero-width-joiner sequences that follow it (an emoji, a
    flag); a pair of regional indicators is one token; white space separates tokens and is never
    part of one. Entity boundaries always split tokens, so every entity is a whole number of
    tokens (``"Zürich-based"`` with ``Zürich`` marked gives ``Zürich`` / ``-`` / ``based``). The
    widget's keyboard cursor uses the same rule (``js/lib/tokens.js``). :func:`tokens_and_tags`
    gives each token its IOB2 tag (``O``, ``B-<label>``, ``I-<label>``) for a text's entities.
"""

from __future__ import annotations

import bisect
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["codepoint_to_utf16", "tokenize", "tokens_and_tags", "utf16_length", "utf16_to_codepoint"]


def _astral(ch: str) -> bool:
    return ord(ch) > 0xFFFF


def utf16_length(text: str) -> int:
    """The length of ``text`` in UTF-16 code units (JavaScript's ``text.length``)."""
    return len(text) + sum(1 for ch in text if _astral(ch))


def codepoint_to_utf16(text: str, offset: int) -> int:
    """The UTF-16 offset of the code-point offset ``offset`` in ``text``.

    Raises
    ------
    ValueError
        ``offset`` is outside ``0..len(text)``.
    """
    if not 0 <= offset <= len(text):
        raise ValueError(f"offset {offset} is outside the text's {len(text)} code points")
    return offset + sum(1 for ch in text[:offset] if _astral(ch))


def utf16_to_codepoint(text: str, offset: int) -> int:
    """The code-point offset of the UTF-16 offset ``offset`` in ``text``.

    Raises
    ------
    ValueError
        ``offset`` is outside the text, or falls between the two halves of a surrogate pair
        (no code-point offset corresponds to it).
    """
    if offset < 0:
        raise ValueError(f"UTF-16 offset {offset} is negative")
    units = 0
    for index, ch in enumerate(text):
        if units == offset:
            return index
        units += 2 if _astral(ch) else 1
        if units > offset:
            raise ValueError(f"UTF-16 offset {offset} splits the character {ch!r} at code point {index}")
    if units == offset:
        return len(text)
    raise ValueError(f"UTF-16 offset {offset} is outside the text's {units} UTF-16 units")


# -- tokens ---------------------------------------------------------------------------------------

_JOINERS = {"\u200d"}
_EXTENDERS_RANGE = (0x1F3FB, 0x1F3FF)  # skin-tone modifiers


def _is_word(ch: str) -> bool:
    return ch == "_" or unicodedata.category(ch)[0] in "LNM"


def _extends(ch: str) -> bool:
    """Marks, variation selectors and skin tones stay with the character before them."""
    return (
        unicodedata.category(ch)[0] == "M"
        or ch in ("\ufe0e", "\ufe0f")
        or _EXTENDERS_RANGE[0] <= ord(ch) <= _EXTENDERS_RANGE[1]
    )


def _regional(ch: str) -> bool:
    return 0x1F1E6 <= ord(ch) <= 0x1F1FF


def tokenize(text: str, breaks: Iterable[int] = ()) -> list[tuple[int, int]]:
    """The tokens of ``text`` as ``(start, end)`` code-point offsets, also split at ``breaks``.

    See the module docstring for the rule.
    """
    cuts = set(breaks)
    out: list[tuple[int, int]] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        start = i
        if _is_word(ch):
            i += 1
            while i < n and _is_word(text[i]) and i not in cuts:
                i += 1
        elif _regional(ch) and i + 1 < n and _regional(text[i + 1]) and i + 1 not in cuts:
            i += 2
        else:
            i += 1
            while i < n and i not in cuts:
                if _extends(text[i]):
                    i += 1
                elif text[i] in _JOINERS and i + 1 < n and not text[i + 1].isspace() and i + 1 not in cuts:
                    i += 2
                else:
                    break
        out.append((start, i))
    return out


def tokens_and_tags(
    text: str, entities: Sequence[dict[str, Any]], breaks: Iterable[int] = ()
) -> tuple[list[tuple[int, int]], list[str]]:
    """Tokens of ``text`` (offsets) and their IOB2 tags for ``entities``; tokens are also split
    at ``breaks`` (see :func:`tokenize`).

    Raises
    ------
    ValueError
        An entity covers only white space, so no token carries it.
    """
    cuts = {e["startOffset"] for e in entities} | {e["endOffset"] for e in entities} | set(breaks)
    spans = tokenize(text, cuts)
    tags = ["O"] * len(spans)
    starts = [s for s, _ in spans]
    for entity in entities:
        begin, end = entity["startOffset"], entity["endOffset"]
        # The cuts make every token that starts inside the entity end inside it.
        inside = []
        k = bisect.bisect_left(starts, begin)
        while k < len(spans) and spans[k][0] < end:
            inside.append(k)
            k += 1
        if not inside:
            raise ValueError(f"entity {entity} covers no token of {text[begin:end]!r}")
        for n, k in enumerate(inside):
            tags[k] = f"{'B' if n == 0 else 'I'}-{entity['label']}"
    return spans, tags
