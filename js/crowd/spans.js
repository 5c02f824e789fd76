// Pure text-offset helpers of crowd-entity-annotation (no DOM), tested with node --test.
// GT's entity offsets are "Unicode offsets"; nblabel counts code points, as Python does, so a
// span means the same characters in the browser and in `text[start:end]` in the kernel.

/** The code-point offset of a UTF-16 offset into `text` (a split surrogate pair counts whole). */
export function codePointOffset(text, utf16) {
  let count = 0;
  for (let i = 0; i < utf16 && i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) i += 1; // a pair is one code point
    count += 1;
  }
  return count;
}

/** The UTF-16 offset of a code-point offset into `text`. */
export function utf16Offset(text, codePoints) {
  let i = 0;
  for (let n = 0; n < codePoints && i < text.length; n += 1) {
    const c = text.charCodeAt(i);
    i += c >= 0xd800 && c <= 0xdbff && i + 1 < text.length ? 2 : 1;
  }
  return i;
}

/** True when [start, end) overlaps any entity. */
export function overlaps(entities, start, end) {
  return entities.some((e) => start < e.endOffset && e.startOffset < end);
}

/**
 * The text cut at entity boundaries (code-point offsets), in order:
 * [{start, end, entity|null}], `start`/`end` in code points.
 */
export function segments(length, entities) {
  const sorted = [...entities].sort((a, b) => a.startOffset - b.startOffset);
  const out = [];
  let at = 0;
  for (const entity of sorted) {
    if (entity.startOffset > at) out.push({ start: at, end: entity.startOffset, entity: null });
    out.push({ start: entity.startOffset, end: entity.endOffset, entity });
    at = entity.endOffset;
  }
  if (at < length) out.push({ start: at, end: length, entity: null });
  return out;
}
