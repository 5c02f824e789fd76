// A mask drawn over the zoomable stage (lib/viewport.js), shared by the segmentation and
// verification widgets. The class indices are coloured into an offscreen canvas at the original
// resolution, only where they changed (ImageData from the index array, no antialiasing), and
// the visible part of it is drawn on the stage overlay with nearest-neighbour scaling, so a
// pointer move while painting costs a small recolour plus one image draw.

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
  }

  /** Draw the visible part on the overlay `ctx` through viewport `vp` at `opacity` (0-1). */
  draw(ctx, vp, opacity) {
    const r = vp.visibleRect();
    if (r.width < 1 || r.height < 1 || opacity <= 0) return;
    ctx.save();
    ctx.imageSmoothingEnabled = false; // one flat colour per original pixel, however zoomed
    ctx.globalAlpha = opacity;
    const p = vp.toScreen(r.left, r.top);
    ctx.drawImage(this.canvas, r.left, r.top, r.width, r.height, p.x, p.y, r.width * vp.scale, r.height * vp.scale);
    ctx.restore();
  }

  destroy() {
    this.canvas.width = 0;
    this.canvas.height = 0;
  }
}
