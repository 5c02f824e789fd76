// A mask drawn over the zoomable stage (lib/viewport.js), shared by the segmentation and
// verification widgets. The class indices are coloured into an offscreen canvas at the original
// resolution, only where they changed (ImageData from the index array, no antialiasing), and
// the visible part of it is drawn on the stage with nearest-neighbour scaling. The painting widget
// keeps it on the stage's layer canvas (`paint`): while the view stays put only the screen
// rectangle of the pixels changed since the last frame is redrawn, so a pointer move while
// painting costs a small recolour plus a small draw, not a redraw of the whole visible mask.
import { unionRect } from "./mask.js";

/** RGBA (as little-endian uint32) per class index: BACKGROUND transparent, classes opaque. */
export function colorTable(colors) {
  const table = new Uint32Array(256);
  colors.forEach((hex, index) => {
    if (index === 0) return;
    const v = parseInt(String(hex).replace("#", ""), 16);
    const r = (v >> 16) & 255;
    const g = (v >> 8) & 255;
    const b = v & 255;
    table[index] = ((255 << 24) | (b << 16) | (g << 8) | r) >>> 0;
  });
  return table;
}

export class MaskLayer {
  /**
   * @param {number} width, height  the mask's (original image's) size
   * @param {string[]} colors  hex colour by class index
   */
  constructor(width, height, colors) {
    this.width = width;
    this.height = height;
    this.table = colorTable(colors);
    this.canvas = document.createElement("canvas");
    this.canvas.width = width;
    this.canvas.height = height;
    this.ctx = this.canvas.getContext("2d");
    this.pending = null; // recoloured, not yet painted on the layer: {x0, y0, x1, y1}
    this.painted = ""; // the view and opacity the layer canvas shows; another one repaints it whole
  }

  /** Recolour `rect` ({x0, y0, x1, y1}; all of it when null) from the indices `data`. */
  update(data, rect = null) {
    const r = rect ?? { x0: 0, y0: 0, x1: this.width, y1: this.height };
    const x0 = Math.max(0, r.x0);
    const y0 = Math.max(0, r.y0);
    const w = Math.min(this.width, r.x1) - x0;
    const hgt = Math.min(this.height, r.y1) - y0;
    if (w <= 0 || hgt <= 0) return;
    const image = this.ctx.createImageData(w, hgt);
    const out = new Uint32Array(image.data.buffer);
    const table = this.table;
    for (let y = 0; y < hgt; y += 1) {
      const src = (y0 + y) * this.width + x0;
      const dst = y * w;
      for (let x = 0; x < w; x += 1) out[dst + x] = table[data[src + x]];
    }
    this.ctx.putImageData(image, x0, y0);
    this.pending = unionRect(this.pending, { x0, y0, x1: x0 + w, y1: y0 + hgt });
  }

  /**
   * Bring the stage's layer canvas (`ctx`, untransformed) up to date through viewport `vp` at
   * `opacity`: whole when the view, the opacity or the canvas changed, otherwise only the screen
   * rectangle of what `update` recoloured since the last call.
   */
  paint(ctx, vp, opacity) {
    const canvas = ctx.canvas;
    const dpr = globalThis.devicePixelRatio || 1; // as the stage sizes its canvases
    const view = [vp.scale, vp.x, vp.y, canvas.width, canvas.height, opacity].join();
    let clip = null;
    if (view === this.painted && canvas === this.canvasPainted) {
      const r = this.pending;
      if (!r) return;
      // The changed pixels' screen rectangle, grown to whole device pixels.
      const x0 = Math.max(0, Math.floor((vp.x + r.x0 * vp.scale) * dpr));
      const y0 = Math.max(0, Math.floor((vp.y + r.y0 * vp.scale) * dpr));
      const x1 = Math.min(canvas.width, Math.ceil((vp.x + r.x1 * vp.scale) * dpr));
      const y1 = Math.min(canvas.height, Math.ceil((vp.y + r.y1 * vp.scale) * dpr));
      if (x1 > x0 && y1 > y0) clip = { x0, y0, x1, y1 };
      else {
        this.pending = null;
        return;
      }
    }
    this.pending = null;
    this.painted = view;
    this.canvasPainted = canvas;
    ctx.save();
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    if (clip) {
      ctx.beginPath();
      ctx.rect(clip.x0, clip.y0, clip.x1 - clip.x0, clip.y1 - clip.y0);
      ctx.clip();
      ctx.clearRect(clip.x0, clip.y0, clip.x1 - clip.x0, clip.y1 - clip.y0);
    } else {
      ctx.clearRect(0, 0, canvas.width, canvas.height);
    }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    // The same mapping as a whole redraw, from a source rectangle a pixel wider than the clip on
    // each side, so every device pixel in the clip samples the original pixel it always did.
    this.draw(ctx, vp, opacity, clip && {
      x0: (clip.x0 / dpr - vp.x) / vp.scale - 1,
      y0: (clip.y0 / dpr - vp.y) / vp.scale - 1,
      x1: (clip.x1 / dpr - vp.x) / vp.scale + 1,
      y1: (clip.y1 / dpr - vp.y) / vp.scale + 1,
    });
    ctx.restore();
  }

  /**
   * Draw the visible part (or of it, the original pixels `within` {x0, y0, x1, y1}) on `ctx`
   * through viewport `vp` at `opacity` (0-1).
   */
  draw(ctx, vp, opacity, within = null) {
    const r = within ? intersect(vp.visibleRect(), within) : vp.visibleRect();
    if (r.width < 1 || r.height < 1 || opacity <= 0) return;
    ctx.save();
    ctx.imageSmoothingEnabled = false; // one flat colour per original pixel, however zoomed
    ctx.globalAlpha = opacity;
    const p = vp.toScreen(r.left, r.top);
    ctx.drawImage(this.canvas, r.left, r.top, r.width, r.height, p.x, p.y, r.width * vp.scale, r.height * vp.scale);
    ctx.restore();
  }

  destroy() {
    this.canvasPainted = null;
    this.canvas.width = 0;
    this.canvas.height = 0;
  }
}

// The part of a visible rectangle {left, top, width, height} inside {x0, y0, x1, y1} (fractional
// ends rounded outward), as {left, top, width, height}.
function intersect(r, within) {
  const left = Math.max(r.left, Math.floor(within.x0));
  const top = Math.max(r.top, Math.floor(within.y0));
  const right = Math.min(r.left + r.width, Math.ceil(within.x1));
  const bottom = Math.min(r.top + r.height, Math.ceil(within.y1));
  return { left, top, width: right - left, height: bottom - top };
}
