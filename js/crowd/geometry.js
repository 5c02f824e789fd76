// Pure geometry of the drawing elements (no DOM), tested with node --test. Coordinates are
// in the image's natural pixels, (0, 0) at its top left corner, as GT's outputs are.

/** A pointer position (client pixels) as a point on the image, clamped to the image. */
export function toImage(clientX, clientY, rect, width, height) {
  const x = ((clientX - rect.left) * width) / (rect.width || 1);
  const y = ((clientY - rect.top) * height) / (rect.height || 1);
  return { x: Math.min(Math.max(x, 0), width), y: Math.min(Math.max(y, 0), height) };
}

/** The box spanned by two corners, in whole pixels (GT's boundingBoxes entries). */
export function boxFrom(a, b) {
  const left = Math.round(Math.min(a.x, b.x));
  const top = Math.round(Math.min(a.y, b.y));
  return {
    left,
    top,
    width: Math.round(Math.max(a.x, b.x)) - left,
    height: Math.round(Math.max(a.y, b.y)) - top,
  };
}

/** A point in whole pixels. */
export function roundPoint(p) {
  return { x: Math.round(p.x), y: Math.round(p.y) };
}

/** True when two points are within `distance` of each other. */
export function near(a, b, distance) {
  return Math.hypot(a.x - b.x, a.y - b.y) <= distance;
}
