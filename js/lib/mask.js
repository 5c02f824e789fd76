// The segmentation mask as the browser edits it: one class index per original image pixel in a
// Uint8Array (row-major, 0 = BACKGROUND), changed only by integer raster rules, with undo/redo.
// Pure logic, no DOM, so it is tested with `node --test`; tests/e2e/test_segmentation.py repeats
// the same rules in Python to check the stored PNG pixel by pixel.
//
// The rules (pixel (x, y) is the square [x, x+1) x [y, y+1); a pointer at image point (px, py)
// is pixel (floor(px), floor(py))):
// - brush: a disc of size s covers the pixels (x, y) with 4 * ((x - cx)^2 + (y - cy)^2) <= s^2
//   around its centre pixel; a stroke stamps the disc at every pixel of the Bresenham line
//   between consecutive pointer pixels;
// - polygon: corners are pixels; row y is filled between the sorted crossings of the edges
//   that span it (y0 <= y < y1, half-open), from ceil(xa) to ceil(xb) - 1 (even-odd rule);
// - flood fill: the 4-connected region of the seed pixel's class takes the new class;
// - fill the rest: every BACKGROUND pixel takes the class.

export const TILE = 64; // undo saves the tiles an edit touches, TILE x TILE pixels each
export const MAX_BRUSH = 256;
const UNDO_BYTES = 256 * 1024 * 1024; // older edits are dropped past this much saved history

/** Half widths of a brush disc of `size` pixels, for dy = -R..R (R = floor(size / 2)). */
export function discSpans(size) {
  const s = Math.max(1, Math.min(MAX_BRUSH, Math.round(size)));
  const R = Math.floor(s / 2);
  const s2 = s * s;
  const spans = [];
  for (let dy = -R; dy <= R; dy += 1) {
    let w = -1;
    while (4 * ((w + 1) * (w + 1) + dy * dy) <= s2) w += 1;
    spans.push(w);
  }
  return spans;
}

/** Call `plot(x, y)` for every pixel of the Bresenham line from (x0, y0) to (x1, y1), both ends included. */
export function bresenham(x0, y0, x1, y1, plot) {
  const dx = Math.abs(x1 - x0);
  const dy = -Math.abs(y1 - y0);
  const sx = x0 < x1 ? 1 : -1;
  const sy = y0 < y1 ? 1 : -1;
  let err = dx + dy;
  for (;;) {
    plot(x0, y0);
    if (x0 === x1 && y0 === y1) return;
    const e2 = 2 * err;
    if (e2 >= dy) {
      err += dy;
      x0 += sx;
    }
    if (e2 <= dx) {
      err += dx;
      y0 += sy;
    }
  }
}

/**
 * Call `span(y, x0, x1)` (x1 exclusive, clipped to [0, width)) for each filled run of a polygon
 * whose corners `points` are pixels [{x, y}], rows clipped to [0, height).
 */
export function polygonSpans(points, width, height, span) {
  const n = points.length;
  if (n < 3) return;
  let top = Infinity;
  let bottom = -Infinity;
  for (const p of points) {
    top = Math.min(top, p.y);
    bottom = Math.max(bottom, p.y);
  }
  top = Math.max(0, top);
  bottom = Math.min(height, bottom);
  const xs = [];
  for (let y = top; y < bottom; y += 1) {
    xs.length = 0;
    for (let i = 0; i < n; i += 1) {
      const a = points[i];
      const b = points[(i + 1) % n];
      if ((a.y <= y && y < b.y) || (b.y <= y && y < a.y)) xs.push(a.x + ((y - a.y) * (b.x - a.x)) / (b.y - a.y));
    }
    xs.sort((p, q) => p - q);
    for (let i = 0; i + 1 < xs.length; i += 2) {
      const x0 = Math.max(0, Math.ceil(xs[i]));
      const x1 = Math.min(width, Math.ceil(xs[i + 1]));
      if (x1 > x0) span(y, x0, x1);
    }
  }
}

/** A rectangle {x0, y0, x1, y1} (exclusive ends) grown to hold another, or null. */
export function unionRect(a, b) {
  if (!a) return b ? { ...b } : null;
  if (!b) return a;
  return { x0: Math.min(a.x0, b.x0), y0: Math.min(a.y0, b.y0), x1: Math.max(a.x1, b.x1), y1: Math.max(a.y1, b.y1) };
}

/** One edit's undo record: the tiles it touched, as they were before and after. */
class Edit {
  constructor() {
    this.tiles = new Map(); // tile index -> {before, after}
    this.rect = null;
  }

  get bytes() {
    let n = 0;
    for (const t of this.tiles.values()) n += t.before.length + (t.after?.length ?? 0);
    return n;
  }
}

export class MaskEditor {
  /**
   * @param {number} width   original image width
   * @param {number} height  original image height
   * @param {Uint8Array} [data]  class indices to start from (copied); default all BACKGROUND
   */
  constructor(width, height, data = null) {
    this.width = width;
    this.height = height;
    this.data = new Uint8Array(width * height);
    if (data) {
      if (data.length !== width * height) throw new Error(`a ${width} x ${height} mask needs ${width * height} pixels, got ${data.length}`);
      this.data.set(data);
    }
    this.tilesX = Math.ceil(width / TILE);
    this.undoStack = [];
    this.redoStack = [];
    this.edit = null;
    this.dirty = null; // changed since the last takeDirty(): what the overlay must recolour
    this.last = null; // the pointer pixel of the stroke in progress
  }

  // -- edits ----------------------------------------------------------------------------------

  /** Start an edit; every change until `end()` is undone in one step. */
  begin() {
    if (!this.edit) this.edit = new Edit();
  }

  /** Finish the edit. Returns true when it changed any pixel (it is then on the undo stack). */
  end() {
    const edit = this.edit;
    this.edit = null;
    this.last = null;
    if (!edit) return false;
    for (const [index, tile] of edit.tiles) {
      tile.after = this._readTile(index);
      if (equal(tile.before, tile.after)) edit.tiles.delete(index);
    }
    if (!edit.tiles.size) return false;
    this.undoStack.push(edit);
    this.redoStack = [];
    let total = this.undoStack.reduce((n, e) => n + e.bytes, 0);
    while (total > UNDO_BYTES && this.undoStack.length > 1) total -= this.undoStack.shift().bytes;
    return true;
  }

  /** Take back the last edit; returns true when there was one. */
  undo() {
    const edit = this.undoStack.pop();
    if (!edit) return false;
    for (const [index, tile] of edit.tiles) this._writeTile(index, tile.before);
    this.redoStack.push(edit);
    return true;
  }

  /** Do again the last edit undone; returns true when there was one. */
  redo() {
    const edit = this.redoStack.pop();
    if (!edit) return false;
    for (const [index, tile] of edit.tiles) this._writeTile(index, tile.after);
    this.undoStack.push(edit);
    return true;
  }

  /** The region changed since the last call (or null), and forget it. */
  takeDirty() {
    const rect = this.dirty;
    this.dirty = null;
    return rect;
  }

  // -- tools (points are integer pixels) ------------------------------------------------------

  /** Stamp the brush along the stroke: from the previous pointer pixel of this edit to (x, y). */
  brushTo(x, y, size, value) {
    const spans = discSpans(size);
    const from = this.last ?? { x, y };
    bresenham(from.x, from.y, x, y, (px, py) => this._disc(px, py, spans, value));
    this.last = { x, y };
  }

  /** Fill a polygon (corner pixels). */
  polygon(points, value) {
    polygonSpans(points, this.width, this.height, (y, x0, x1) => this._span(y, x0, x1, value));
  }

  /** Flood the 4-connected region of (x, y)'s class with `value`. Returns the pixels changed. */
  flood(x, y, value) {
    const { width, height, data } = this;
    if (x < 0 || y < 0 || x >= width || y >= height) return 0;
    const target = data[y * width + x];
    if (target === value) return 0;
    let changed = 0;
    const stack = [x, y];
    while (stack.length) {
      const sy = stack.pop();
      const sx = stack.pop();
      const row = sy * width;
      if (data[row + sx] !== target) continue;
      let a = sx;
      while (a > 0 && data[row + a - 1] === target) a -= 1;
      let b = sx + 1;
      while (b < width && data[row + b] === target) b += 1;
      this._span(sy, a, b, value);
      changed += b - a;
      for (const ny of [sy - 1, sy + 1]) {
        if (ny < 0 || ny >= height) continue;
        const nrow = ny * width;
        let inRun = false;
        for (let i = a; i < b; i += 1) {
          const hit = data[nrow + i] === target;
          if (hit && !inRun) stack.push(i, ny);
          inRun = hit;
        }
      }
    }
    return changed;
  }

  /** Every BACKGROUND pixel takes `value`. Returns the pixels changed. */
  fillRest(value) {
    if (value === 0) return 0;
    const { width, height, data } = this;
    let changed = 0;
    for (let y = 0; y < height; y += 1) {
      const row = y * width;
      let x = 0;
      while (x < width) {
        if (data[row + x] !== 0) {
          x += 1;
          continue;
        }
        let end = x + 1;
        while (end < width && data[row + end] === 0) end += 1;
        this._span(y, x, end, value);
        changed += end - x;
        x = end;
      }
    }
    return changed;
  }

  /** Paint row `y` from `x0` to `x1` (exclusive), clipped to the mask: the tools' raster primitive. */
  span(y, x0, x1, value) {
    if (y < 0 || y >= this.height) return;
    const a = Math.max(0, x0);
    const b = Math.min(this.width, x1);
    if (b > a) this._span(y, a, b, value);
  }

  /** The class indices present (besides BACKGROUND), ascending. */
  present() {
    const seen = new Uint8Array(256);
    for (let i = 0; i < this.data.length; i += 1) seen[this.data[i]] = 1;
    const out = [];
    for (let c = 1; c < 256; c += 1) if (seen[c]) out.push(c);
    return out;
  }

  // -- internals ------------------------------------------------------------------------------

  _disc(cx, cy, spans, value) {
    const R = (spans.length - 1) >> 1;
    for (let i = 0; i < spans.length; i += 1) {
      const w = spans[i];
      if (w < 0) continue;
      const y = cy - R + i;
      if (y < 0 || y >= this.height) continue;
      const x0 = Math.max(0, cx - w);
      const x1 = Math.min(this.width, cx + w + 1);
      if (x1 > x0) this._span(y, x0, x1, value);
    }
  }

  // Every write goes through here: the tiles are saved for undo before they change.
  _span(y, x0, x1, value) {
    if (this.edit) this._save(x0, y, x1);
    this.data.fill(value, y * this.width + x0, y * this.width + x1);
    this.dirty = unionRect(this.dirty, { x0, y0: y, x1, y1: y + 1 });
  }

  _save(x0, y, x1) {
    const ty = Math.floor(y / TILE);
    for (let tx = Math.floor(x0 / TILE); tx <= Math.floor((x1 - 1) / TILE); tx += 1) {
      const index = ty * this.tilesX + tx;
      if (!this.edit.tiles.has(index)) this.edit.tiles.set(index, { before: this._readTile(index), after: null });
    }
  }

  _tileRect(index) {
    const tx = index % this.tilesX;
    const ty = Math.floor(index / this.tilesX);
    const x0 = tx * TILE;
    const y0 = ty * TILE;
    return { x0, y0, x1: Math.min(this.width, x0 + TILE), y1: Math.min(this.height, y0 + TILE) };
  }

  _readTile(index) {
    const r = this._tileRect(index);
    const w = r.x1 - r.x0;
    const out = new Uint8Array(w * (r.y1 - r.y0));
    for (let y = r.y0; y < r.y1; y += 1) {
      const start = y * this.width + r.x0;
      out.set(this.data.subarray(start, start + w), (y - r.y0) * w);
    }
    return out;
  }

  _writeTile(index, pixels) {
    const r = this._tileRect(index);
    const w = r.x1 - r.x0;
    for (let y = r.y0; y < r.y1; y += 1) this.data.set(pixels.subarray((y - r.y0) * w, (y - r.y0 + 1) * w), y * this.width + r.x0);
    this.dirty = unionRect(this.dirty, r);
  }
}

function equal(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i += 1) if (a[i] !== b[i]) return false;
  return true;
}

// -- the wire format: a mask's bytes, zlib-compressed (lossless; masks shrink a hundredfold) -----

async function pipe(bytes, stream) {
  const out = new Response(new Blob([bytes]).stream().pipeThrough(stream));
  return new Uint8Array(await out.arrayBuffer());
}

/** zlib-compress a mask's indices for the kernel (Python's zlib.decompress reads it). */
export function deflate(bytes) {
  return pipe(bytes, new CompressionStream("deflate"));
}

/** The indices of a zlib-compressed mask from the kernel; refuses a wrong pixel count. */
export async function inflate(view, width, height) {
  const bytes = view instanceof Uint8Array ? view : new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  const out = await pipe(bytes, new DecompressionStream("deflate"));
  if (out.length !== width * height) throw new Error(`the mask has ${out.length} pixels, not ${width} x ${height}`);
  return out;
}
