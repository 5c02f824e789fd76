// The assisted tools' geometry: prompts and their answers, superpixel strokes, the magic wand.
import assert from "node:assert/strict";
import { test } from "node:test";
import { MaskEditor } from "../mask.js";
import { PromptTool, applyAnswer, boxBetween } from "./prompt.js";
import { SuperpixelBrush, Superpixels } from "./superpixel.js";
import { paintRegion, wandRegion } from "./wand.js";

function grid(editor) {
  const rows = [];
  for (let y = 0; y < editor.height; y += 1) rows.push([...editor.data.subarray(y * editor.width, (y + 1) * editor.width)].join(""));
  return rows;
}

/** An answer's 0/1 bytes for rect {x0, y0, x1, y1} from rows of "0"/"1". */
function bits(rows) {
  return Uint8Array.from(rows.join(""), (c) => Number(c));
}

test("a box spans the pixels of both corners, either way round, clipped to the image", () => {
  assert.deepEqual(boxBetween({ x: 5.7, y: 2.1 }, { x: 1.2, y: 8.9 }, 20, 20), [1, 2, 6, 9]);
  assert.deepEqual(boxBetween({ x: -3, y: -1 }, { x: 30, y: 4.5 }, 20, 10), [0, 0, 20, 5]);
});

test("a drag is a box prompt; clicks then correct it; Shift-clicks are not the object", () => {
  const editor = new MaskEditor(20, 10);
  const tool = new PromptTool();
  tool.down({ x: 2.5, y: 1.5 });
  tool.move({ x: 10, y: 5 });
  const first = tool.up({ x: 12.5, y: 7.5 }, editor, 3, 1, false);
  assert.deepEqual(first, { type: "prompt", id: 1, box: [2, 1, 13, 8], extreme: null, points: [], labels: [], strokes: [] });
  tool.down({ x: 4.2, y: 4.2 });
  const add = tool.up({ x: 4.4, y: 4.3 }, editor, 3, 1, false); // moved less than a click's slack
  assert.deepEqual(add.points, [[4, 4]]);
  assert.deepEqual(add.labels, [1]);
  tool.down({ x: 9, y: 3 });
  const remove = tool.up({ x: 9, y: 3 }, editor, 3, 1, true);
  assert.deepEqual([remove.id, remove.box, remove.points, remove.labels], [3, [2, 1, 13, 8], [[4, 4], [9, 3]], [1, 0]]);
  tool.finish();
  tool.down({ x: 9, y: 3 });
  assert.equal(tool.up({ x: 9, y: 3 }, editor, 3, 1, false), null, "a click without an object asks nothing");
});

test("an Alt-drag after the object's answer is a refining stroke; Alt+Shift is not the object", () => {
  const editor = new MaskEditor(20, 10);
  const tool = new PromptTool();
  tool.down({ x: 2.5, y: 1.5 }, { altKey: true }, 5); // no object yet: Alt does not matter, a box
  tool.up({ x: 12.5, y: 7.5 }, editor, 3, 1, false);
  tool.down({ x: 3.2, y: 2.7 }, { altKey: true }, 5);
  tool.move({ x: 3.9, y: 2.1 }); // the same pixel: not repeated
  tool.move({ x: 6.5, y: 4.5 });
  const add = tool.up({ x: 9.1, y: 4.8 }, editor, 3, 1, false);
  assert.deepEqual(add.strokes, [{ points: [[3, 2], [6, 4], [9, 4]], size: 5, label: 1 }]);
  assert.deepEqual([add.box, add.points], [[2, 1, 13, 8], []], "the box stays; a stroke is no click");
  tool.down({ x: 11, y: 6 }, { altKey: true, shiftKey: true }, 3);
  const remove = tool.up({ x: 11, y: 6 }, editor, 3, 1, false); // a one-pixel stroke is still a stroke
  assert.deepEqual(remove.strokes.map((s) => [s.points, s.size, s.label]), [[[[3, 2], [6, 4], [9, 4]], 5, 1], [[[11, 6]], 3, 0]]);
  remove.strokes[0].points.push([0, 0]);
  assert.equal(tool.object.strokes[0].points.length, 3, "a request holds copies");
  tool.finish();
  tool.down({ x: 4, y: 4 }, { altKey: true }, 5);
  assert.equal(tool.up({ x: 4, y: 4 }, editor, 3, 1, false), null, "after Escape, no object to refine");
});

test("the 4th extreme point sends the prompt; the earlier ones only draw", () => {
  const editor = new MaskEditor(20, 10);
  const tool = new PromptTool();
  tool.mode = "extreme";
  const clicks = [
    [1, 5],
    [8, 0],
    [15, 4],
    [7, 9],
  ];
  let request = null;
  for (const [x, y] of clicks) {
    assert.equal(request, null);
    tool.down({ x: x + 0.5, y: y + 0.5 });
    request = tool.up({ x: x + 0.5, y: y + 0.5 }, editor, 1, 1, false);
  }
  assert.deepEqual(request.extreme, clicks);
  assert.equal(request.box, null);
  assert.deepEqual(tool.extreme, []);
});

test("an answer paints the object; a correction replaces it; undo steps back through both exactly", () => {
  const editor = new MaskEditor(6, 4);
  editor.begin();
  editor.span(0, 0, 6, 2); // an earlier stroke of class 2 on row 0
  editor.end();
  const before = editor.data.slice();
  const tool = new PromptTool();
  tool.down({ x: 1, y: 0 });
  const req = tool.up({ x: 4.5, y: 3.5 }, editor, 1, 1, false);
  assert.equal(tool.answer({ id: req.id, rect: [1, 0, 4, 3] }, bits(["011", "111", "010"]), editor), "painted");
  assert.deepEqual(grid(editor), ["221122", "011100", "001000", "000000"]);
  const first = editor.data.slice();
  tool.down({ x: 4.5, y: 3.5 });
  const fix = tool.up({ x: 4.5, y: 3.5 }, editor, 1, 1, false);
  assert.equal(tool.answer({ id: req.id, rect: [0, 0, 1, 1] }, bits(["1"]), editor), "stale", "an older request's answer");
  // The correction's answer is smaller: the pixels it leaves go back to the mask before the box.
  assert.equal(tool.answer({ id: fix.id, rect: [2, 1, 5, 4] }, bits(["100", "100", "011"]), editor), "painted");
  assert.deepEqual(grid(editor), ["222222", "001000", "001000", "000110"]);
  assert.equal(editor.undoStack.length, 3);
  editor.undo();
  assert.deepEqual(editor.data, first);
  editor.undo();
  assert.deepEqual(editor.data, before);
  editor.redo();
  assert.deepEqual(editor.data, first);
});

test("an empty answer takes the object back to the mask before it; an error changes nothing", () => {
  const editor = new MaskEditor(4, 4);
  const base = editor.data.slice();
  assert.equal(applyAnswer(editor, base, null, { x0: 0, y0: 0, x1: 2, y1: 2 }, bits(["11", "11"]), 5), true);
  assert.equal(applyAnswer(editor, base, { x0: 0, y0: 0, x1: 2, y1: 2 }, null, null, 5), true);
  assert.deepEqual(editor.data, base);
  const tool = new PromptTool();
  tool.down({ x: 0, y: 0 });
  const req = tool.up({ x: 3, y: 3 }, editor, 1, 1, false);
  assert.equal(tool.answer({ id: req.id, rect: null, error: "no" }, null, editor), "error");
  assert.deepEqual(editor.data, base);
  // A box in which the model finds nothing, and a click on the object after which it still finds
  // nothing: "empty", the person is told.
  const other = new PromptTool();
  other.down({ x: 0, y: 0 });
  const box = other.up({ x: 3, y: 3 }, editor, 1, 1, false);
  assert.equal(other.answer({ id: box.id, rect: null }, null, editor), "empty");
  other.down({ x: 1, y: 1 });
  const click = other.up({ x: 1, y: 1 }, editor, 1, 1, false);
  assert.equal(other.answer({ id: click.id, rect: null }, null, editor), "empty");
  assert.deepEqual(editor.data, base);
  // Found, then emptied by the person's "not it" click: that is a change, not a failure.
  other.down({ x: 1, y: 1 });
  const more = other.up({ x: 1, y: 1 }, editor, 1, 1, false);
  assert.equal(other.answer({ id: more.id, rect: [0, 0, 2, 2] }, bits(["11", "11"]), editor), "painted");
  other.down({ x: 1, y: 1 });
  const notIt = other.up({ x: 1, y: 1 }, editor, 1, 1, true);
  assert.equal(other.answer({ id: notIt.id, rect: null }, null, editor), "painted");
  assert.deepEqual(editor.data, base);
});

test("superpixels index each label's pixels as runs; a stroke fills every superpixel it crosses, whole", () => {
  // 3 superpixels: 0 the left half, 1 the top right, 2 the bottom right.
  const labels = Uint16Array.from(["000111", "000111", "000222", "002222"].join(""), (c) => Number(c));
  const sp = new Superpixels(6, 4, labels);
  assert.equal(sp.count, 3);
  assert.equal(sp.at(5, 3), 2);
  assert.equal(sp.at(6, 0), -1);
  const editor = new MaskEditor(6, 4);
  const brush = new SuperpixelBrush();
  brush.begin(editor, sp, { x: 4.5, y: 0.5 }, 7);
  assert.deepEqual(grid(editor), ["000777", "000777", "000000", "000000"], "painted as the stroke goes");
  const stroke = brush.end(editor, sp, { x: 4.5, y: 3.5 });
  assert.deepEqual(stroke, { value: 7, points: [[4, 0], [4, 3]], superpixels: 2 });
  assert.deepEqual(grid(editor), ["000777", "000777", "000777", "007777"]);
  assert.equal(editor.undoStack.length, 1, "one undo step per stroke");
  editor.undo();
  assert.deepEqual(grid(editor), ["000000", "000000", "000000", "000000"]);
  assert.throws(() => new Superpixels(2, 2, new Uint16Array(3)), /4 labels/);
});

test("the wand floods the 4-connected pixels within the tolerance of the clicked colour", () => {
  const w = 5;
  const h = 3;
  const colours = ["AAbBB", "AaBBB", "ccccA"]; // A ~ a (10 apart), b 30 from B
  const value = { A: [100, 100, 100], a: [110, 95, 100], b: [200, 170, 200], B: [200, 200, 200], c: [0, 0, 0] };
  const rgba = new Uint8ClampedArray(4 * w * h);
  [...colours.join("")].forEach((c, i) => rgba.set([...value[c], 255], 4 * i));
  const { region, rect } = wandRegion(rgba, w, h, 0, 0, 12);
  assert.deepEqual([...region].join(""), ["11000", "11000", "00000"].join(""));
  assert.deepEqual(rect, { x0: 0, y0: 0, x1: 2, y1: 2 });
  const wider = wandRegion(rgba, w, h, 4, 0, 30);
  assert.deepEqual([...wider.region].join(""), ["00111", "00111", "00000"].join(""));
  assert.deepEqual(wider.rect, { x0: 2, y0: 0, x1: 5, y1: 2 });
  assert.equal(wandRegion(rgba, w, h, 9, 9, 30).rect, null);
});

test("the wand's region on smaller decoded pixels paints each original pixel by the pixel it shows as", () => {
  const editor = new MaskEditor(6, 4); // shown as 3 x 2: each decoded pixel covers 2 x 2 originals
  const region = Uint8Array.from("100011", (c) => Number(c));
  assert.equal(paintRegion(editor, region, 3, 2, { x0: 0, y0: 0, x1: 3, y1: 2 }, 4), 12);
  assert.deepEqual(grid(editor), ["440000", "440000", "004444", "004444"]);
  const other = new MaskEditor(7, 5); // uneven: original columns 0-2 show decoded column 0, 3-4 column 1, 5-6 column 2
  assert.equal(paintRegion(other, Uint8Array.from("010010", (c) => Number(c)), 3, 2, { x0: 1, y0: 0, x1: 2, y1: 2 }, 1), 10);
  assert.deepEqual(grid(other), ["0001100", "0001100", "0001100", "0001100", "0001100"]);
});
