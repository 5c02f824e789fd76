// The proposal's per-pixel confidence, drawn over the segmentation widget's image on request: the
// mask auto-labeler sends each proposal with a coarse 8-bit confidence map (0: a guess, 255:
// certain), and the view dims every pixel by how unsure the model was, so the person looks first
// where the proposal most likely needs correcting. The map is coloured once into a small canvas
// and stretched over the image with smoothing (it is coarse on purpose). No DOM of its own but the
// canvas, which the widget's factory makes; tested with `node --test`.

/** The darkest dimming (alpha 0-255), for a pixel of confidence 0; a certain pixel is not dimmed. */
export const DIM_ALPHA = 200;

/** RGBA pixels of the dimming layer of a confidence map {width, height, data}: black, alpha by doubt. */
export function dimmingPixels(map) {
  const { width, height, data } = map;
  if (data.length !== width * height) throw new Error(`a ${width} x ${height} confidence map needs ${width * height} values, got ${data.length}`);
  const rgba = new Uint8ClampedArray(4 * data.length);
  for (let i = 0; i < data.length; i += 1) rgba[4 * i + 3] = Math.round((DIM_ALPHA * (255 - data[i])) / 255);
  return rgba;
}

/** A canvas holding `rgba` (width x height), in the browser. */
function browserCanvas(width, height, rgba) {
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  canvas.getContext("2d").putImageData(new ImageData(rgba, width, height), 0, 0);
  return canvas;
}

export class ConfidenceView {
  /** @param {(width: number, height: number, rgba: Uint8ClampedArray) => CanvasImageSource} [makeCanvas] */
  constructor(makeCanvas = browserCanvas) {
    this.makeCanvas = makeCanvas;
    this.on = false; // the person's choice, kept from image to image
    this.map = null; // the confidence map of the image on screen, or null
    this.canvas = null; // its dimming layer, made when first drawn
  }

  /** The image on screen changed: its proposal's confidence map, or null. */
  show(map) {
    if (map === this.map) return;
    this.map = map ?? null;
    this.canvas = null;
  }

  /** The key: dim or stop dimming. Returns whether the view is on. */
  toggle() {
    this.on = !this.on;
    return this.on;
  }

  /** What the root's data attribute says: "on", "off", or "none" (no map for this image). */
  get state() {
    if (!this.map) return "none";
    return this.on ? "on" : "off";
  }

  /**
   * Dim the image (`width` x `height` original pixels) on `ctx` through viewport `vp` by the map,
   * stretched over the whole image. Returns true when it drew.
   */
  draw(ctx, vp, width, height) {
    if (!this.on || !this.map) return false;
    this.canvas ??= this.makeCanvas(this.map.width, this.map.height, dimmingPixels(this.map));
    const a = vp.toScreen(0, 0);
    const b = vp.toScreen(width, height);
    ctx.save();
    ctx.imageSmoothingEnabled = true; // a coarse map: blend its cells, no blocks
    ctx.drawImage(this.canvas, a.x, a.y, b.x - a.x, b.y - a.y);
    ctx.restore();
    return true;
  }
}
