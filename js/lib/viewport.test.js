import assert from "node:assert/strict";
import { test } from "node:test";
import { previewWidth, Viewport } from "./viewport.js";

const close = (a, b, eps = 1e-9) => assert.ok(Math.abs(a - b) <= eps, `${a} != ${b}`);

test("fit shows the whole image centred", () => {
  const vp = new Viewport(8000, 6000, 800, 400);
  close(vp.scale, 400 / 6000);
  close(vp.x, (800 - 8000 * vp.scale) / 2);
  close(vp.y, 0);
  assert.equal(vp.fitted, true);
});

test("screen and image transforms are inverse", () => {
  const vp = new Viewport(4000, 3000, 800, 600);
  vp.zoomAt(3.7, 123, 456);
  vp.panBy(-50, 20);
  for (const [sx, sy] of [
    [0, 0],
    [400, 300],
    [799, 599],
    [17.5, 3.25],
  ]) {
    const p = vp.toImage(sx, sy);
    const s = vp.toScreen(p.x, p.y);
    close(s.x, sx, 1e-9);
    close(s.y, sy, 1e-9);
  }
});

test("zooming keeps the image point under the pointer in place", () => {
  const vp = new Viewport(1000, 500, 1000, 500);
  const before = vp.toImage(250, 100);
  vp.zoomAt(4, 250, 100);
  const after = vp.toImage(250, 100);
  close(after.x, before.x);
  close(after.y, before.y);
  close(vp.scale, 4);
  assert.equal(vp.fitted, false);
  vp.zoomAt(0.5, 250, 100);
  close(vp.toImage(250, 100).x, before.x);
});

test("zoom is bounded", () => {
  const vp = new Viewport(100, 100, 100, 100);
  vp.zoomAt(1e6, 50, 50);
  close(vp.scale, 32);
  vp.zoomAt(1e-6, 50, 50);
  close(vp.scale, 0.5);
  assert.equal(vp.zoomAt(0.1, 0, 0), false, "no change past the bound");
});

test("panning cannot pull a zoomed image off the stage", () => {
  const vp = new Viewport(1000, 1000, 500, 500);
  vp.zoomTo(1); // image 1000x1000 on a 500x500 stage
  vp.panBy(10_000, 10_000);
  close(vp.x, 0);
  close(vp.y, 0);
  vp.panBy(-10_000, -10_000);
  close(vp.x, -500);
  close(vp.y, -500);
  assert.equal(vp.panBy(-1, 0), false, "at the edge nothing moves");
});

test("a small image can move inside the stage but not leave it", () => {
  const vp = new Viewport(100, 100, 400, 400);
  vp.zoomTo(1);
  vp.panBy(1000, 0);
  close(vp.x, 300);
  vp.panBy(-1000, 0);
  close(vp.x, 0);
});

test("resize keeps a fitted view fitted and a zoomed view's centre", () => {
  const vp = new Viewport(2000, 1000, 400, 200);
  vp.resize(800, 400);
  close(vp.scale, 0.4);
  vp.zoomAt(5, 100, 100);
  const centre = vp.toImage(400, 200);
  vp.resize(600, 400);
  const after = vp.toImage(300, 200);
  close(after.x, centre.x, 1e-6);
  close(after.y, centre.y, 1e-6);
});

test("visible rect is in original pixels inside the image", () => {
  const vp = new Viewport(4000, 3000, 800, 600);
  assert.deepEqual(vp.visibleRect(), { left: 0, top: 0, width: 4000, height: 3000 });
  vp.zoomTo(1);
  const r = vp.visibleRect();
  assert.equal(r.width, 800);
  assert.equal(r.height, 600);
  assert.equal(r.left, 1600);
  assert.equal(r.top, 1200);
});

test("detail is wanted only when the preview is coarser than the screen", () => {
  const vp = new Viewport(8000, 6000, 800, 600);
  assert.equal(vp.wantsDetail(800), false, "fitted: the preview is enough");
  vp.zoomAt(2, 400, 300);
  assert.equal(vp.wantsDetail(800), true);
  assert.equal(vp.wantsDetail(8000), false, "a full-size preview never needs detail");
  const size = vp.detailSize({ left: 0, top: 0, width: 4000, height: 3000 }, 1);
  assert.deepEqual(size, { width: 800, height: 600 });
  vp.zoomTo(4);
  assert.deepEqual(vp.detailSize({ left: 0, top: 0, width: 200, height: 150 }, 2), { width: 200, height: 150 });
});

test("percent reads original pixels per CSS pixel", () => {
  const vp = new Viewport(400, 300, 800, 600);
  assert.equal(vp.percent, 200);
  const clamped = vp.clampToImage({ x: -5, y: 500 });
  assert.deepEqual(clamped, { x: 0, y: 300 });
});

test("the image canvas holds the fitted view's pixels until a zoom shows more", () => {
  // A 4000x3000 image, its 2048-pixel preview, fitted at 800 CSS pixels wide.
  const image = { bitmap: { width: 2048, height: 1536 }, width: 4000, height: 3000 };
  const vp = new Viewport(4000, 3000, 1000, 600);
  assert.equal(previewWidth(image, vp), 800);
  assert.equal(previewWidth(image, vp, 2), 1600); // device pixels
  vp.zoomAt(0.5, 500, 300);
  assert.equal(previewWidth(image, vp), 800, "zoomed out: the fitted resolution is enough");
  vp.fit();
  vp.zoomAt(1.1, 500, 300);
  assert.equal(previewWidth(image, vp), 2048, "zoomed in: every preview pixel");
  // A preview smaller than the screen is never upscaled on the canvas.
  const small = { bitmap: { width: 640, height: 480 }, width: 640, height: 480 };
  assert.equal(previewWidth(small, new Viewport(640, 480, 1100, 600)), 640);
});

test("the marks canvas covers the image on the stage and a margin, cut to the stage", () => {
  // 640x480 on a 1100x600 stage: fitted at 125%, 800x600 from x = 150.
  const vp = new Viewport(640, 480, 1100, 600);
  assert.deepEqual(vp.marksRect(16), { left: 134, top: 0, width: 832, height: 600 });
  vp.zoomAt(2, 550, 300); // larger than the stage: the stage
  assert.deepEqual(vp.marksRect(16), { left: 0, top: 0, width: 1100, height: 600 });
  vp.fit();
  vp.zoomAt(0.5, 550, 300); // smaller than the stage on both sides: whole pixels around it
  const a = vp.toScreen(0, 0);
  const r = vp.marksRect(16);
  assert.equal(r.left, Math.floor(a.x - 16));
  assert.equal(r.top, Math.floor(a.y - 16));
  assert.ok(r.left + r.width >= vp.toScreen(640, 480).x + 16 && r.top + r.height >= vp.toScreen(640, 480).y + 16);
});
