// The proposal's confidence view: the dimming layer's pixels and where it is drawn.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfidenceView, DIM_ALPHA, dimmingPixels } from "./confidence.js";

const map = { width: 3, height: 2, data: Uint8Array.from([255, 0, 128, 255, 51, 204]) };

test("a pixel is dimmed by how unsure the model was: certain ones not at all", () => {
  const rgba = dimmingPixels(map);
  assert.equal(rgba.length, 24);
  const alpha = [0, 1, 2, 3, 4, 5].map((i) => rgba[4 * i + 3]);
  assert.deepEqual(alpha, [0, DIM_ALPHA, Math.round((DIM_ALPHA * 127) / 255), 0, 160, 40]);
  assert.ok([0, 1, 2, 3, 4, 5].every((i) => rgba[4 * i] === 0 && rgba[4 * i + 1] === 0 && rgba[4 * i + 2] === 0), "black");
  assert.throws(() => dimmingPixels({ ...map, width: 4 }), /needs 8 values, got 6/);
});

test("the view draws the map stretched over the whole image, only when on and there is a map", () => {
  const made = [];
  const view = new ConfidenceView((w, h, rgba) => {
    made.push([w, h, rgba[7]]);
    return { canvas: made.length };
  });
  const drawn = [];
  const ctx = {
    save() {},
    restore() {},
    drawImage: (...args) => drawn.push([ctx.imageSmoothingEnabled, ...args]),
  };
  const vp = { toScreen: (x, y) => ({ x: 10 + 0.5 * x, y: 20 + 0.5 * y }) }; // zoomed out, panned
  view.show(map);
  assert.equal(view.state, "off");
  assert.equal(view.draw(ctx, vp, 600, 400), false, "off by default");
  assert.equal(view.toggle(), true);
  assert.equal(view.draw(ctx, vp, 600, 400), true);
  assert.deepEqual(drawn, [[true, { canvas: 1 }, 10, 20, 300, 200]]);
  view.draw(ctx, vp, 600, 400);
  assert.deepEqual(made, [[3, 2, DIM_ALPHA]], "the layer is made once per map");
  view.show(null);
  assert.equal(view.state, "none");
  assert.equal(view.draw(ctx, vp, 600, 400), false, "no map, nothing dimmed");
  view.show(map);
  view.draw(ctx, vp, 600, 400);
  assert.equal(made.length, 2, "a new map, a new layer");
});
