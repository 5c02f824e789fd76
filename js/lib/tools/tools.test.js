// The drawing tools of the stage, driven as the stage drives them: image points in, edits out.
import assert from "node:assert/strict";
import { test } from "node:test";
import { BoxEditor } from "../box_editor.js";
import { MAX_BRUSH, MaskEditor } from "../mask.js";
import { BoxTool } from "./box.js";
import { Brush, pixelAt } from "./brush.js";
import { Polygon } from "./polygon.js";

const box = (class_id, left, top, width, height) => ({ class_id, left, top, width, height });

function grid(editor) {
  const rows = [];
  for (let y = 0; y < editor.height; y += 1) rows.push([...editor.data.subarray(y * editor.width, (y + 1) * editor.width)].join(""));
  return rows;
}

/** A stage as the tools see it: a zoom and an overlay whose cursor they set. */
function fakeStage(scale = 1) {
  return { viewport: { scale }, overlay: { style: {} }, spaceDown: false };
}

test("box tool: a drag draws a box of the current class, which the next box keeps", () => {
  const stage = fakeStage();
  let edits = 0;
  const tool = new BoxTool(stage, ["cat", "dog"], () => (edits += 1));
  assert.equal(tool.down({ x: 5, y: 5 }), false); // no image yet: the drag is not the tool's
  tool.editor = new BoxEditor(100, 80);
  tool.currentClass = 1;
  assert.equal(tool.down({ x: 10, y: 10 }), true);
  tool.move({ x: 30, y: 20 });
  tool.up({ x: 40, y: 30 });
  assert.deepEqual(tool.editor.boxes, [box(1, 10, 10, 30, 20)]);
  assert.equal(tool.editor.selected, 0);
  assert.equal(edits, 1);
});

test("box tool: a press on an edge resizes, inside moves; the grab distance is in screen pixels", () => {
  const stage = fakeStage(2); // 2 CSS pixels per image pixel: 6 CSS px grab = 3 image px
  const tool = new BoxTool(stage, ["cat"]);
  tool.editor = new BoxEditor(100, 80, [box(0, 10, 10, 20, 20)]);
  tool.hover({ x: 32.5, y: 20 });
  assert.equal(stage.overlay.style.cursor, "ew-resize");
  tool.hover({ x: 34, y: 20 });
  assert.equal(stage.overlay.style.cursor, "crosshair"); // 4 image px = 8 CSS px: too far
  tool.down({ x: 32.5, y: 20 });
  tool.up({ x: 50, y: 20 });
  assert.deepEqual(tool.editor.boxes, [box(0, 10, 10, 40, 20)]);
  tool.down({ x: 20, y: 20 });
  tool.up({ x: 25, y: 22 });
  assert.deepEqual(tool.editor.boxes, [box(0, 15, 12, 40, 20)]);
  assert.equal(tool.editor.done.length, 2); // one undo step per drag
});

test("box tool: a click (shorter than 3 CSS pixels) draws nothing and clears the selection", () => {
  const tool = new BoxTool(fakeStage(0.5), ["cat"]); // 3 CSS px = 6 image px
  tool.editor = new BoxEditor(100, 80, [box(0, 50, 50, 10, 10)]);
  tool.editor.select(0);
  tool.down({ x: 10, y: 10 });
  tool.up({ x: 15, y: 15 });
  assert.equal(tool.editor.boxes.length, 1);
  assert.equal(tool.editor.selected, -1);
});

test("brush: a stroke is one undo step and says what it painted", () => {
  const editor = new MaskEditor(8, 3);
  const brush = new Brush(1);
  brush.begin(editor, { x: 0.5, y: 1.7 }, 2);
  brush.to(editor, { x: 3.2, y: 1.1 });
  const stroke = brush.end(editor, { x: 7.9, y: 1 });
  assert.deepEqual(stroke, { size: 1, value: 2, points: [[0, 1], [3, 1], [7, 1]] });
  assert.equal(brush.stroke, null);
  assert.deepEqual(grid(editor), ["00000000", "22222222", "00000000"]);
  assert.equal(editor.undoStack.length, 1);
  assert.equal(editor.undo(), true);
  assert.deepEqual(grid(editor), ["00000000", "00000000", "00000000"]);
});

test("brush sizes: one pixel at a time below 10, a quarter above, within 1..MAX_BRUSH", () => {
  const brush = new Brush(2);
  brush.resize(-1);
  brush.resize(-1);
  assert.equal(brush.size, 1);
  brush.size = 9;
  brush.resize(1);
  assert.equal(brush.size, 10);
  brush.resize(1);
  assert.equal(brush.size, 13); // 10 + round(2.5)
  brush.size = MAX_BRUSH - 1;
  brush.resize(1);
  assert.equal(brush.size, MAX_BRUSH);
  assert.deepEqual(pixelAt({ x: 2.99, y: -0.5 }), { x: 2, y: -1 });
});

test("polygon: corners until a click within 8 CSS pixels of the first one closes it", () => {
  const poly = new Polygon();
  assert.equal(poly.click({ x: 10.5, y: 10.5 }, 1), "corner");
  assert.equal(poly.click({ x: 11, y: 11 }, 1), "corner"); // near the first, but too few corners yet
  assert.equal(poly.click({ x: 50, y: 10 }, 1), "corner");
  assert.equal(poly.click({ x: 50, y: 50 }, 1), "corner");
  assert.equal(poly.click({ x: 10, y: 14 }, 10), "corner"); // 4 px at 10x zoom: 40 CSS px away
  assert.equal(poly.click({ x: 12.9, y: 10.2 }, 4), "close"); // pixel (12, 10): 2 px at 4x, 8 CSS px
  assert.deepEqual(poly.corners, [{ x: 10, y: 10 }, { x: 11, y: 11 }, { x: 50, y: 10 }, { x: 50, y: 50 }, { x: 10, y: 14 }]);
});

test("polygon: closing fills it as one undo step; fewer than three corners fill nothing", () => {
  const editor = new MaskEditor(7, 7);
  const poly = new Polygon();
  for (const p of [{ x: 1, y: 1 }, { x: 5, y: 1 }, { x: 5, y: 5 }, { x: 1, y: 5 }]) poly.click(p, 10);
  assert.deepEqual(poly.close(editor, 3), { value: 3, points: [[1, 1], [5, 1], [5, 5], [1, 5]] });
  assert.equal(poly.drawing, false);
  assert.deepEqual(grid(editor), ["0000000", "0333300", "0333300", "0333300", "0333300", "0000000", "0000000"]);
  assert.equal(editor.undoStack.length, 1);
  poly.click({ x: 0, y: 0 }, 1);
  poly.click({ x: 6, y: 6 }, 1);
  assert.equal(poly.close(editor, 1), null);
  assert.equal(editor.undoStack.length, 1);
});

test("polygon: undo takes back corners one by one, then there is nothing to take back", () => {
  const poly = new Polygon();
  poly.click({ x: 0, y: 0 }, 1);
  poly.click({ x: 3, y: 0 }, 1);
  assert.equal(poly.pop(), true);
  assert.deepEqual(poly.corners, [{ x: 0, y: 0 }]);
  assert.equal(poly.pop(), true);
  assert.equal(poly.drawing, false);
  assert.equal(poly.pop(), false);
});
