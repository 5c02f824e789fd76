import assert from "node:assert/strict";
import { test } from "node:test";
import { MaskLayer } from "./mask_layer.js";
import { Viewport } from "./viewport.js";

// A 2D canvas reduced to what MaskLayer uses, rasterised the way a browser does for
// nearest-neighbour drawImage: a device pixel inside the destination (and the clip) takes the
// source pixel its centre maps back to. Pixels hold the source's uint32 colours, 0 = clear.
class FakeContext {
  constructor(canvas) {
    this.canvas = canvas;
    this.state = { m: [1, 0, 0, 1, 0, 0], clip: null, alpha: 1 };
    this.stack = [];
    this.path = [];
    this.drawn = 0; // device pixels written by drawImage, to tell a partial redraw from a whole one
  }

  get globalAlpha() {
    return this.state.alpha;
  }

  set globalAlpha(v) {
    this.state.alpha = v;
  }

  set imageSmoothingEnabled(_v) {}

  save() {
    this.stack.push({ ...this.state });
  }

  restore() {
    this.state = this.stack.pop();
  }

  setTransform(a, b, c, d, e, f) {
    this.state.m = [a, b, c, d, e, f];
  }

  beginPath() {
    this.path = [];
  }

  _device(x, y, w, h) {
    const [a, , , d, e, f] = this.state.m;
    return { x0: a * x + e, y0: d * y + f, x1: a * (x + w) + e, y1: d * (y + h) + f };
  }

  rect(x, y, w, h) {
    this.path.push(this._device(x, y, w, h));
  }

  clip() {
    const [r] = this.path;
    const c = this.state.clip;
    this.state.clip = c ? { x0: Math.max(c.x0, r.x0), y0: Math.max(c.y0, r.y0), x1: Math.min(c.x1, r.x1), y1: Math.min(c.y1, r.y1) } : r;
  }

  _each(r, fn) {
    const c = this.state.clip ?? { x0: 0, y0: 0, x1: this.canvas.width, y1: this.canvas.height };
    for (let y = Math.max(0, Math.floor(r.y0)); y < Math.min(this.canvas.height, Math.ceil(r.y1)); y += 1) {
      for (let x = Math.max(0, Math.floor(r.x0)); x < Math.min(this.canvas.width, Math.ceil(r.x1)); x += 1) {
        const cx = x + 0.5;
        const cy = y + 0.5;
        if (cx < r.x0 || cx >= r.x1 || cy < r.y0 || cy >= r.y1) continue;
        if (cx < c.x0 || cx >= c.x1 || cy < c.y0 || cy >= c.y1) continue;
        fn(x, y, cx, cy);
      }
    }
  }

  clearRect(x, y, w, h) {
    this._each(this._device(x, y, w, h), (px, py) => {
      this.canvas.pixels[py * this.canvas.width + px] = 0;
    });
  }

  drawImage(src, sx, sy, sw, sh, dx, dy, dw, dh) {
    const r = this._device(dx, dy, dw, dh);
    this._each(r, (px, py, cx, cy) => {
      const u = Math.floor(sx + ((cx - r.x0) / (r.x1 - r.x0)) * sw);
      const v = Math.floor(sy + ((cy - r.y0) / (r.y1 - r.y0)) * sh);
      this.canvas.pixels[py * this.canvas.width + px] = src.pixels[v * src.width + u];
      this.drawn += 1;
    });
  }

  createImageData(w, h) {
    return { width: w, height: h, data: new Uint8ClampedArray(w * h * 4) };
  }

  putImageData(image, x, y) {
    const words = new Uint32Array(image.data.buffer);
    for (let j = 0; j < image.height; j += 1) {
      for (let i = 0; i < image.width; i += 1) this.canvas.pixels[(y + j) * this.canvas.width + x + i] = words[j * image.width + i];
    }
  }
}

class FakeCanvas {
  constructor(width = 0, height = 0) {
    this.width = width;
    this.height = height;
    this.context = null;
  }

  get pixels() {
    if (!this._pixels || this._pixels.length !== this.width * this.height) this._pixels = new Uint32Array(this.width * this.height);
    return this._pixels;
  }

  getContext() {
    this.context ??= new FakeContext(this);
    return this.context;
  }
}

globalThis.document = { createElement: () => new FakeCanvas() };

const COLORS = ["#000000", "#ff0000", "#00ff00", "#0000ff"];

function seeded(seed) {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
}

// After every edit, the layer redrawn only where it changed equals the layer drawn whole.
function check(vp, dpr, seed) {
  globalThis.devicePixelRatio = dpr;
  const W = 90;
  const H = 70;
  const data = new Uint8Array(W * H);
  const layer = new MaskLayer(W, H, COLORS);
  layer.update(data);
  const screen = new FakeCanvas(Math.round(vp.viewWidth * dpr), Math.round(vp.viewHeight * dpr));
  const ctx = screen.getContext();
  layer.paint(ctx, vp, 0.5);
  const random = seeded(seed);
  let partial = 0;
  for (let i = 0; i < 25; i += 1) {
    const x0 = Math.floor(random() * W);
    const y0 = Math.floor(random() * H);
    const rect = { x0, y0, x1: Math.min(W, x0 + 1 + Math.floor(random() * 9)), y1: Math.min(H, y0 + 1 + Math.floor(random() * 9)) };
    const value = Math.floor(random() * COLORS.length);
    for (let y = rect.y0; y < rect.y1; y += 1) data.fill(value, y * W + rect.x0, y * W + rect.x1);
    layer.update(data, rect);
    ctx.drawn = 0;
    layer.paint(ctx, vp, 0.5);
    if (ctx.drawn < screen.width * screen.height / 4) partial += 1;
    const reference = new MaskLayer(W, H, COLORS); // the same pixels, drawn whole
    reference.update(data);
    const whole = new FakeCanvas(screen.width, screen.height);
    reference.paint(whole.getContext(), vp, 0.5);
    assert.deepEqual(screen.pixels, whole.pixels, `edit ${i}: ${JSON.stringify(rect)}`);
  }
  return partial;
}

test("a partial redraw of the mask layer equals a whole one, fitted and zoomed, at any device pixel ratio", () => {
  for (const dpr of [1, 1.5, 2]) {
    const fitted = new Viewport(90, 70, 41.3, 29.7);
    assert.ok(check(fitted, dpr, 7) >= 20, "small edits redraw only their rectangle");
    const zoomed = new Viewport(90, 70, 60, 47);
    zoomed.zoomAt(3.37, 21.2, 17.9);
    zoomed.panBy(-13.3, 5.1);
    assert.ok(check(zoomed, dpr, 11) >= 15);
  }
});

test("a changed view or opacity redraws the layer whole", () => {
  globalThis.devicePixelRatio = 1;
  const layer = new MaskLayer(10, 10, COLORS);
  layer.update(new Uint8Array(100).fill(1));
  const vp = new Viewport(10, 10, 20, 20);
  const screen = new FakeCanvas(20, 20);
  const ctx = screen.getContext();
  layer.paint(ctx, vp, 0.5);
  assert.equal(ctx.drawn, 400);
  ctx.drawn = 0;
  layer.paint(ctx, vp, 0.5);
  assert.equal(ctx.drawn, 0, "nothing changed, nothing drawn");
  layer.paint(ctx, vp, 0.75);
  assert.equal(ctx.drawn, 400);
  ctx.drawn = 0;
  vp.zoomAt(2, 0, 0);
  layer.paint(ctx, vp, 0.75);
  assert.equal(ctx.drawn, 400);
  ctx.drawn = 0;
  layer.paint(ctx, vp, 0);
  assert.equal(ctx.drawn, 0);
  assert.ok(screen.pixels.every((p) => p === 0), "hidden: the layer is cleared");
});
