"""Text offsets in code points (Python ``str`` indices) and in UTF-16 code units.

nblabel stores entity offsets as code points, 0-based and end exclusive: ``text[start:end]`` is
the entity. Browsers (and tools written in JavaScript, Java or C#) count UTF-16 code units,
where a character outside the Basic Multilingual Plane (most emoji, rare CJK) takes two units.
These converters translate between the two; they agree on texts without such characters.
"""

from __future__ import annotations

__all__ = ["codepoint_to_utf16", "utf16_length", "utf16_to_codepoint"]


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
