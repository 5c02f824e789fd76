import assert from "node:assert/strict";
import { test } from "node:test";
import { boxShapes, colorOf } from "./box_paint.js";
import { Viewport } from "./viewport.js";

const close = (a, b, eps = 1e-9) => assert.ok(Math.abs(a - b) <= eps, `${a} != ${b}`);
const measure = (text) => 6 * text.length; // a fixed-pitch stand-in for the browser's measure
const box = (class_id, left, top, width, height, extra = {}) => ({ class_id, left, top, width, height, ...extra });

/** Each outline's corners, in original pixels through the view's inverse. */
function outlinesInImage(vp, outlines) {
  return outlines.map(({ attrs: a }) => {
    const p = vp.toImage(a.x, a.y);
    const q = vp.toImage(a.x + a.width, a.y + a.height);
    return [p.x, p.y, q.x - p.x, q.y - p.y];
  });
}

test("box shapes: outlines lie on the boxes' original pixels, fitted and zoomed in", () => {
  const boxes = [box(0, 100, 150, 300, 230), box(1, 700, 500, 400, 350, { proposed: true })];
  const vp = new Viewport(1200, 900, 1100, 600);
  for (const move of [() => {}, () => vp.zoomAt(3.5, 800, 420), () => vp.panBy(-200, 90)]) {
    move();
    const [outlines] = boxShapes(vp, boxes, ["car", "person"], { measure });
    outlinesInImage(vp, outlines).forEach((got, i) => {
      const b = boxes[i];
      [b.left, b.top, b.width, b.height].forEach((v, k) => close(got[k], v, 1e-6));
    });
    close(outlines[1].attrs.x, vp.toScreen(700, 500).x);
    close(outlines[1].attrs.width, 400 * vp.scale);
  }
  assert.ok(vp.scale > 1, "zoomed past original pixels");
});

test("box shapes: class colours, proposals dashed, names as text on tags over their boxes", () => {
  const vp = new Viewport(400, 300, 400, 300); // one CSS pixel per original pixel
  const boxes = [box(0, 10, 5, 50, 40), box(2, 100, 100, 30, 30, { proposed: true })];
  const [outlines, tags, selection] = boxShapes(vp, boxes, ["car", "person", "<sign>"], { measure });
  assert.deepEqual(
    outlines.map((s) => [s.attrs.stroke, s.attrs["stroke-dasharray"], s.attrs.fill]),
    [
      [colorOf(0), "none", "none"],
      [colorOf(2), "6 4", "none"],
    ],
  );
  assert.equal(selection.length, 0, "nothing selected: no tint, no handles");
  // A tag sits above its box, or inside it where the stage's top would cut it; its width is the
  // name's and its text is data, never markup.
  assert.deepEqual(
    tags.map((t) => [t.attrs.transform, t.children[0].attrs.width, t.children[0].attrs.fill, t.children[1].text]),
    [
      ["translate(10 5)", 3 * 6 + 6, colorOf(0), "car"],
      ["translate(100 86)", 6 * 6 + 6, colorOf(2), "<sign>"],
    ],
  );
  const all = boxShapes(vp, boxes, [], { measure, dashed: true })[0];
  assert.ok(all.every((s) => s.attrs["stroke-dasharray"] === "6 4"), "a box being drawn is dashed");
});

test("box shapes: the selected box is tinted with eight handles at its corners and edges", () => {
  const vp = new Viewport(800, 600, 400, 300); // half a CSS pixel per original pixel
  const boxes = [box(0, 10, 10, 20, 20), box(1, 100, 200, 300, 100)];
  const [, , selection] = boxShapes(vp, boxes, ["a", "b"], { selected: 1, measure });
  const [tint, ...handles] = selection;
  assert.deepEqual([tint.attrs.x, tint.attrs.y, tint.attrs.width, tint.attrs.height, tint.attrs.fill], [50, 100, 150, 50, colorOf(1)]);
  assert.equal(handles.length, 8);
  const centres = handles.map((s) => [s.attrs.x + s.attrs.width / 2, s.attrs.y + s.attrs.height / 2]);
  assert.deepEqual(centres, [
    [50, 100],
    [125, 100],
    [200, 100],
    [200, 125],
    [200, 150],
    [125, 150],
    [50, 150],
    [50, 125],
  ]);
  assert.ok(handles.every((s) => s.attrs.stroke === colorOf(1) && s.attrs.width === 8));
});

test("box shapes: past 60 boxes the names are left out, the outlines stay", () => {
  const vp = new Viewport(1000, 1000, 500, 500);
  const boxes = Array.from({ length: 61 }, (_, i) => box(i % 3, i * 10, i * 10, 8, 8));
  const [outlines, tags] = boxShapes(vp, boxes, ["a", "b", "c"], { measure });
  assert.equal(outlines.length, 61);
  assert.equal(tags.length, 0);
  assert.equal(boxShapes(vp, boxes.slice(0, 60), ["a", "b", "c"], { measure })[1].length, 60);
});
