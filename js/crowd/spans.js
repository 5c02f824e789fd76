// Pure span helpers of crowd-entity-annotation (no DOM), tested with node --test. Offsets are
// code points, as GT's "Unicode offsets" and Python's `text[start:end]`; the element converts
// the browser's UTF-16 selections with lib/offsets.js.

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
