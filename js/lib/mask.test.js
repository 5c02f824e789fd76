import assert from "node:assert/strict";
import { test } from "node:test";
import { MaskEditor, TILE, bresenham, discSpans, polygonSpans } from "./mask.js";

function grid(editor) {
  const rows = [];
  for (let y = 0; y < editor.height; y += 1) rows.push([...editor.data.subarray(y * editor.width, (y + 1) * editor.width)].join(""));
  return rows;
}

test("brush discs: size 1 is one pixel, size 2 a plus, size 5 a round disc", () => {
  assert.deepEqual(discSpans(1), [0]);
  assert.deepEqual(discSpans(2), [0, 1, 0]);
  assert.deepEqual(discSpans(5), [1, 2, 2, 2, 1]);
  const m = new MaskEditor(7, 7);
  m.brushTo(3, 3, 5, 1);
  assert.deepEqual(grid(m), ["0000000", "0011100", "0111110", "0111110", "0111110", "0011100", "0000000"]);
});

test("bresenham visits every pixel of a line once, both ends included, in any direction", () => {
  const seen = [];
  bresenham(0, 0, 5, 2, (x, y) => seen.push([x, y]));
  assert.deepEqual(seen, [[0, 0], [1, 0], [2, 1], [3, 1], [4, 2], [5, 2]]);
  const back = [];
  bresenham(5, 2, 0, 0, (x, y) => back.push([x, y]));
  assert.equal(back.length, 6);
  assert.deepEqual(back[0], [5, 2]);
  assert.deepEqual(back.at(-1), [0, 0]);
  const single = [];
  bresenham(3, 3, 3, 3, (x, y) => single.push([x, y]));
  assert.deepEqual(single, [[3, 3]]);
});

test("a stroke stamps along the line and clips at the image edges", () => {
  const m = new MaskEditor(8, 3);
  m.begin();
  m.brushTo(-1, 1, 1, 2);
  m.brushTo(9, 1, 1, 2);
  m.end();
  assert.deepEqual(grid(m), ["00000000", "22222222", "00000000"]);
});

test("polygon fill: half-open rows and columns (a rectangle of corners 1..5 fills 4 x 4)", () => {
  const m = new MaskEditor(7, 7);
  m.polygon([{ x: 1, y: 1 }, { x: 5, y: 1 }, { x: 5, y: 5 }, { x: 1, y: 5 }], 3);
  assert.deepEqual(grid(m), ["0000000", "0333300", "0333300", "0333300", "0333300", "0000000", "0000000"]);
});

test("polygon fill of a triangle and of a self-crossing bow tie (even-odd)", () => {
  const spans = [];
  polygonSpans([{ x: 0, y: 0 }, { x: 4, y: 4 }, { x: 0, y: 4 }], 10, 10, (y, a, b) => spans.push([y, a, b]));
  assert.deepEqual(spans, [[1, 0, 1], [2, 0, 2], [3, 0, 3]]);
  const m = new MaskEditor(6, 4);
  m.polygon([{ x: 0, y: 0 }, { x: 6, y: 4 }, { x: 6, y: 0 }, { x: 0, y: 4 }], 1);
  // Two triangles meeting in the middle: left and right, crossing at row 2.
  assert.deepEqual(grid(m), ["000000", "110001", "111111", "110001"]);
});

test("polygon fewer than three corners fills nothing; points outside are clipped", () => {
  const m = new MaskEditor(4, 4);
  m.polygon([{ x: 0, y: 0 }, { x: 3, y: 3 }], 1);
  assert.equal(m.present().length, 0);
  m.polygon([{ x: -10, y: -10 }, { x: 10, y: -10 }, { x: 10, y: 10 }, { x: -10, y: 10 }], 1);
  assert.deepEqual(grid(m), ["1111", "1111", "1111", "1111"]);
});

test("flood fill takes the 4-connected region only", () => {
  const m = new MaskEditor(5, 5);
  // A ring of class 1 with a hole; the diagonal gap at a corner does not leak (4-connected).
  m.polygon([{ x: 0, y: 0 }, { x: 5, y: 0 }, { x: 5, y: 5 }, { x: 0, y: 5 }], 1);
  m.polygon([{ x: 1, y: 1 }, { x: 4, y: 1 }, { x: 4, y: 4 }, { x: 1, y: 4 }], 0);
  m.data[0] = 0;
  assert.equal(m.flood(2, 2, 3), 9);
  assert.deepEqual(grid(m), ["01111", "13331", "13331", "13331", "11111"]);
  assert.equal(m.flood(2, 2, 3), 0, "same class: nothing to do");
  assert.equal(m.flood(9, 9, 3), 0, "outside the image");
});

test("fill the rest paints every background pixel with the class", () => {
  const m = new MaskEditor(3, 2);
  m.data[1] = 2;
  assert.equal(m.fillRest(1), 5);
  assert.deepEqual(grid(m), ["121", "111"]);
  assert.equal(m.fillRest(0), 0);
});

test("undo and redo restore every edit exactly, across tiles; an edit that changes nothing is not kept", () => {
  const w = TILE * 2 + 5;
  const m = new MaskEditor(w, TILE + 3);
  const snapshots = [m.data.slice()];
  m.begin();
  m.brushTo(2, 2, 9, 1);
  m.brushTo(w - 3, TILE + 1, 9, 1);
  assert.equal(m.end(), true);
  snapshots.push(m.data.slice());
  m.begin();
  m.flood(0, TILE + 2, 2);
  m.end();
  snapshots.push(m.data.slice());
  m.begin();
  m.flood(0, TILE + 2, 2); // same class: nothing changes
  assert.equal(m.end(), false);
  assert.equal(m.undoStack.length, 2);
  m.takeDirty();
  assert.equal(m.undo(), true);
  assert.deepEqual(m.data, snapshots[1]);
  assert.ok(m.takeDirty(), "undo marks what changed for the overlay");
  assert.equal(m.undo(), true);
  assert.deepEqual(m.data, snapshots[0]);
  assert.equal(m.undo(), false);
  assert.equal(m.redo(), true);
  assert.equal(m.redo(), true);
  assert.deepEqual(m.data, snapshots[2]);
  assert.equal(m.redo(), false);
  m.undo();
  m.begin();
  m.brushTo(1, 1, 1, 3);
  m.end();
  assert.equal(m.redo(), false, "a new edit drops the redo stack");
});

test("dirty rectangles cover what changed", () => {
  const m = new MaskEditor(100, 100);
  m.brushTo(50, 40, 5, 1);
  assert.deepEqual(m.takeDirty(), { x0: 48, y0: 38, x1: 53, y1: 43 });
  assert.equal(m.takeDirty(), null);
});

test("a mask to start from must have one index per pixel", () => {
  assert.throws(() => new MaskEditor(3, 3, new Uint8Array(8)), /needs 9 pixels/);
  const m = new MaskEditor(2, 2, Uint8Array.from([0, 1, 2, 0]));
  assert.deepEqual(m.present(), [1, 2]);
});

test("the wire format round-trips exactly and checks the pixel count", async () => {
  const { deflate, inflate } = await import("./mask.js");
  const m = new MaskEditor(300, 200);
  m.brushTo(100, 100, 40, 7);
  const packed = await deflate(m.data);
  assert.ok(packed.length < m.data.length / 20);
  const back = await inflate(new DataView(packed.buffer), 300, 200);
  assert.deepEqual(back, m.data);
  await assert.rejects(inflate(packed, 300, 201), /not 300 x 201/);
});
