// "Learn from strokes" (the ilastik workflow): a few strokes painted on an image teach the mask
// auto-labeler before the image is answered. The partial answer is the mask's pixels the person
// changed since the image came on screen, each with its class; every other pixel is unknown (255),
// not BACKGROUND, so the model is never taught that what nobody painted is background. No DOM: the
// widget sends the message, and it is tested with `node --test`.

/** The index of a pixel nobody painted, as the kernel's mask auto-labeler reads it. */
export const UNKNOWN = 255;

/**
 * The partial answer of a mask: `data` (class indices now) where it differs from `start` (the
 * indices the image came on screen with), UNKNOWN elsewhere. Returns {pixels, painted}.
 */
export function partialAnswer(data, start) {
  if (data.length !== start.length) throw new Error(`the mask has ${data.length} pixels, its start ${start.length}`);
  const pixels = new Uint8Array(data.length).fill(UNKNOWN);
  let painted = 0;
  for (let i = 0; i < data.length; i += 1) {
    if (data[i] !== start[i]) {
      pixels[i] = data[i];
      painted += 1;
    }
  }
  return { pixels, painted };
}

/**
 * The `learn` message for image `key` ({type, key, width, height, painted}) and its pixels, to
 * send zlib-compressed as its one buffer; null when nothing was painted.
 */
export function learnMessage(key, width, height, data, start) {
  const { pixels, painted } = partialAnswer(data, start);
  if (!painted) return null;
  return { msg: { type: "learn", key, width, height, painted }, pixels };
}
