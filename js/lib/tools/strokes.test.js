// "Learn from strokes": the partial answer is the changed pixels with their class, unknown elsewhere.
import assert from "node:assert/strict";
import { test } from "node:test";
import { MaskEditor } from "../mask.js";
import { Brush } from "./brush.js";
import { UNKNOWN, learnMessage, partialAnswer } from "./strokes.js";

test("the pixels changed since the image came on screen keep their class; the rest is unknown", () => {
  const start = Uint8Array.from([0, 0, 2, 2, 1, 0]); // e.g. the model's proposal
  const now = Uint8Array.from([0, 3, 2, 0, 1, 0]); // painted class 3 on one pixel, erased another
  const { pixels, painted } = partialAnswer(now, start);
  assert.deepEqual([...pixels], [UNKNOWN, 3, UNKNOWN, 0, UNKNOWN, UNKNOWN]);
  assert.equal(painted, 2);
  assert.throws(() => partialAnswer(now, start.subarray(1)), /6 pixels, its start 5/);
});

test("the learn message names the image and its size; nothing painted sends nothing", () => {
  const editor = new MaskEditor(8, 4);
  const start = editor.data.slice();
  assert.equal(learnMessage("img-1", 8, 4, editor.data, start), null);
  const brush = new Brush(1);
  brush.begin(editor, { x: 1.5, y: 1.5 }, 2);
  brush.end(editor, { x: 4.5, y: 1.5 });
  const { msg, pixels } = learnMessage("img-1", 8, 4, editor.data, start);
  assert.deepEqual(msg, { type: "learn", key: "img-1", width: 8, height: 4, painted: 4 });
  assert.equal(pixels.length, 32);
  assert.deepEqual([...pixels.subarray(8, 16)], [UNKNOWN, 2, 2, 2, 2, UNKNOWN, UNKNOWN, UNKNOWN]);
  assert.ok([...pixels.subarray(0, 8), ...pixels.subarray(16)].every((v) => v === UNKNOWN), "not background");
  editor.undo();
  assert.equal(learnMessage("img-1", 8, 4, editor.data, start), null, "an undone stroke is not taught");
});
