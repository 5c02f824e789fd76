// Pure span helpers of crowd-entity-annotation (no DOM), tested with node --test. Offsets are
// code points, as GT's "Unicode offsets" and Python's `text[start:end]`; the element converts
// the browser's UTF-16 selections with lib/offsets.js. Entities may overlap and nest, as in
// Ground Truth's tool: only the same label on the same range twice is refused.

/** Entity order: by start, the longer (outer) one first on a shared start. */
export const byStart = (a, b) => a.startOffset - b.startOffset || b.endOffset - a.endOffset;

/** The entity already there with `entity`'s label and range, or undefined. */
export function repeated(entities, entity) {
  return entities.find(
    (e) => e.label === entity.label && e.startOffset === entity.startOffset && e.endOffset === entity.endOffset,
  );
}

/**
 * The text cut wherever an entity starts or ends: `pieces` [{start, end, covering}], `covering`
 * the entities over the piece, outer first; `inner` maps each entity to how many entities it
 * holds at its deepest (its underline sits that many steps lower, so stacked ones stay apart).
 */
export function layout(length, entities) {
  const sorted = [...entities].sort(byStart);
  const cuts = new Set([0, length]);
  for (const e of sorted) cuts.add(e.startOffset).add(e.endOffset);
  const bounds = [...cuts].filter((c) => c >= 0 && c <= length).sort((a, b) => a - b);
  const inner = new Map(sorted.map((e) => [e, 0]));
  const pieces = [];
  for (let i = 0; i + 1 < bounds.length; i += 1) {
    const [start, end] = [bounds[i], bounds[i + 1]];
    const covering = sorted.filter((e) => e.startOffset <= start && end <= e.endOffset);
    covering.forEach((e, k) => inner.set(e, Math.max(inner.get(e), covering.length - 1 - k)));
    pieces.push({ start, end, covering });
  }
  return { pieces, inner };
}

/**
 * The entity to select after `current` by keyboard: among those covering `anchor` ({start, end},
 * where the person clicked or selected), innermost first; without an anchor, or when none covers
 * it, every entity in text order. Null when there are none.
 */
export function nextEntity(entities, anchor, current) {
  let stack = anchor
    ? entities
        .filter((e) => e.startOffset <= anchor.start && anchor.end <= e.endOffset)
        .sort((a, b) => a.endOffset - a.startOffset - (b.endOffset - b.startOffset) || a.startOffset - b.startOffset)
    : [];
  if (!stack.length) stack = [...entities].sort(byStart);
  if (!stack.length) return null;
  return stack[(stack.indexOf(current) + 1) % stack.length];
}
