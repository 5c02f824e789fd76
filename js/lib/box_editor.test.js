import assert from "node:assert/strict";
import { test } from "node:test";
import { BoxEditor, boxIntentForKey, handleAt } from "./box_editor.js";

const box = (class_id, left, top, width, height) => ({ class_id, left, top, width, height });

test("drawing rounds to whole pixels, clamps to the image and selects the new box", () => {
  const ed = new BoxEditor(100, 80);
  ed.beginDraw({ x: 90.6, y: 10.4 }, 2);
  ed.dragTo({ x: 130, y: -5 });
  assert.deepEqual(ed.pending, box(2, 91, 0, 9, 10));
  assert.equal(ed.endDrag(), true);
  assert.deepEqual(ed.boxes, [box(2, 91, 0, 9, 10)]);
  assert.equal(ed.selected, 0);
});

test("a click without a drag draws nothing", () => {
  const ed = new BoxEditor(100, 80);
  ed.beginDraw({ x: 5, y: 5 }, 0);
  ed.dragTo({ x: 5.2, y: 5.1 });
  assert.equal(ed.endDrag(), false);
  assert.equal(ed.boxes.length, 0);
  assert.equal(ed.edited, false);
});

test("move keeps the box inside the image; one drag is one undo step", () => {
  const ed = new BoxEditor(100, 80, [box(0, 10, 10, 20, 20)]);
  const hit = ed.hit({ x: 20, y: 20 }, 2);
  assert.deepEqual(hit, { index: 0, handle: "move" });
  ed.beginEdit(0, "move", { x: 20, y: 20 });
  ed.dragTo({ x: 30, y: 25 });
  ed.dragTo({ x: 200, y: 300 });
  assert.equal(ed.endDrag(), true);
  assert.deepEqual(ed.boxes[0], box(0, 80, 60, 20, 20));
  assert.equal(ed.undo(), true);
  assert.deepEqual(ed.boxes[0], box(0, 10, 10, 20, 20));
  assert.equal(ed.redo(), true);
  assert.deepEqual(ed.boxes[0], box(0, 80, 60, 20, 20));
});

test("resize by corner and edge handles, flipping past the opposite edge", () => {
  const ed = new BoxEditor(100, 80, [box(0, 10, 10, 20, 20)]);
  assert.equal(handleAt(ed.boxes[0], { x: 30, y: 30 }, 2), "se");
  assert.equal(handleAt(ed.boxes[0], { x: 20, y: 9 }, 2), "n");
  assert.equal(handleAt(ed.boxes[0], { x: 11, y: 20 }, 2), "w");
  ed.beginEdit(0, "se", { x: 30, y: 30 });
  ed.dragTo({ x: 45.4, y: 50.6 });
  ed.endDrag();
  assert.deepEqual(ed.boxes[0], box(0, 10, 10, 35, 41));
  ed.beginEdit(0, "w", { x: 10, y: 20 });
  ed.dragTo({ x: 60, y: 0 });
  ed.endDrag();
  assert.deepEqual(ed.boxes[0], box(0, 45, 10, 15, 41));
});

test("class change, nudge, duplicate, delete and cycling, each undoable", () => {
  const ed = new BoxEditor(100, 80, [box(0, 0, 0, 10, 10), box(1, 50, 50, 10, 10)]);
  assert.equal(ed.cycle(1), true);
  assert.equal(ed.selected, 0);
  ed.cycle(-1);
  assert.equal(ed.selected, 1);
  ed.setClass(2);
  ed.nudge(10, 0);
  ed.nudge(100, 0); // clamped at the right edge
  assert.deepEqual(ed.boxes[1], box(2, 90, 50, 10, 10));
  ed.duplicate();
  assert.equal(ed.boxes.length, 3);
  assert.deepEqual(ed.boxes[2], box(2, 90, 60, 10, 10));
  ed.remove();
  ed.select(0);
  ed.remove();
  assert.deepEqual(ed.boxes, [box(2, 90, 50, 10, 10)]);
  let steps = 0;
  while (ed.undo()) steps += 1;
  assert.equal(steps, 6);
  assert.deepEqual(ed.boxes, [box(0, 0, 0, 10, 10), box(1, 50, 50, 10, 10)]);
});

test("the selected or smallest box is hit first", () => {
  const ed = new BoxEditor(100, 100, [box(0, 0, 0, 100, 100), box(1, 40, 40, 10, 10)]);
  assert.equal(ed.hit({ x: 45, y: 45 }, 1).index, 1);
  ed.select(0);
  assert.equal(ed.hit({ x: 45, y: 45 }, 1).index, 0);
  assert.equal(ed.hit({ x: 150, y: 150 }, 1), null);
});

test("starting boxes are clamped to the image", () => {
  const ed = new BoxEditor(50, 50, [box(0, -10, 40, 30, 30)]);
  assert.deepEqual(ed.boxes, [box(0, 0, 40, 20, 10)]);
});

test("key map", () => {
  assert.deepEqual(boxIntentForKey({ key: "2" }, 3), { type: "class", index: 1 });
  assert.equal(boxIntentForKey({ key: "4" }, 3), null);
  assert.equal(boxIntentForKey({ key: "z" }, 3).type, "undo");
  assert.equal(boxIntentForKey({ key: "Backspace" }, 3).type, "undo");
  assert.equal(boxIntentForKey({ key: "Z", shiftKey: true }, 3).type, "redo");
  assert.deepEqual(boxIntentForKey({ key: "ArrowUp", shiftKey: true }, 3), { type: "arrow", dx: 0, dy: -10 });
  assert.deepEqual(boxIntentForKey({ key: "Tab", shiftKey: true }, 3), { type: "cycle", step: -1 });
  assert.equal(boxIntentForKey({ key: "Delete" }, 3).type, "delete");
  assert.equal(boxIntentForKey({ key: "s", ctrlKey: true }, 3), null);
  assert.equal(boxIntentForKey({ key: "f" }, 3), null, "f belongs to the stage");
});

test("proposals start dashed (proposed), and their answer carries no marks", () => {
  const ed = new BoxEditor(100, 80, [], [{ ...box(1, 10, 10, 20, 20), score: 0.9 }, box(0, 50, 40, 10, 10)]);
  assert.equal(ed.waiting, 2);
  assert.equal(ed.boxes[0].proposed, true);
  assert.equal(ed.boxes[0].score, 0.9);
  assert.deepEqual(ed.answer, [box(1, 10, 10, 20, 20), box(0, 50, 40, 10, 10)]);
  assert.deepEqual(ed.actions(), { accepted: 2, adjusted: 0, deleted: 0, added: 0 });
});

test("a click accepts one proposal; an edit adjusts one; Delete and drawing are counted", () => {
  const ed = new BoxEditor(100, 80, [], [box(1, 10, 10, 20, 20), box(0, 50, 40, 10, 10), box(2, 70, 5, 10, 10)]);
  ed.beginEdit(0, "move", { x: 15, y: 15 });
  ed.dragTo({ x: 15, y: 15 });
  assert.equal(ed.endDrag(), false, "a click is not an edit");
  assert.equal(ed.boxes[0].proposed, true);
  assert.equal(ed.accept(0), true);
  assert.equal(ed.boxes[0].proposed, false);
  assert.equal(ed.accept(0), false, "already the person's");
  ed.beginEdit(1, "se", { x: 60, y: 50 });
  ed.dragTo({ x: 65, y: 55 });
  assert.equal(ed.endDrag(), true);
  assert.equal(ed.boxes[1].proposed, false);
  ed.select(2);
  ed.remove();
  ed.beginDraw({ x: 0, y: 60 }, 2);
  ed.dragTo({ x: 10, y: 70 });
  ed.endDrag();
  ed.duplicate();
  assert.deepEqual(ed.actions(), { accepted: 1, adjusted: 1, deleted: 1, added: 2 });
  assert.equal(ed.waiting, 0);
  ed.undo();
  ed.undo();
  ed.undo();
  // The proposal back from the deletion still waits: Enter would take it unchanged.
  assert.deepEqual(ed.actions(), { accepted: 2, adjusted: 1, deleted: 0, added: 0 });
  assert.equal(ed.waiting, 1);
});

test("the person's own boxes record no actions; a key accepts the selected proposal", () => {
  assert.equal(new BoxEditor(100, 80, [box(0, 1, 1, 5, 5)]).actions(), null);
  assert.deepEqual(boxIntentForKey({ key: "a" }, 3), { type: "accept" });
  const ed = new BoxEditor(100, 80, [], [box(0, 1, 1, 5, 5)]);
  ed.cycle(1);
  assert.equal(ed.accept(), true);
  ed.setClass(2);
  assert.deepEqual(ed.actions(), { accepted: 0, adjusted: 1, deleted: 0, added: 0 });
});

test("a new round's proposals replace the old ones until the person starts on the image", () => {
  const ed = new BoxEditor(100, 80, [], [box(0, 1, 1, 5, 5)]);
  ed.select(0); // selecting is not an edit
  assert.equal(ed.renewProposals([{ ...box(1, 10, 10, 20, 20), score: 0.7 }, box(2, 90, 70, 30, 30)]), true);
  assert.deepEqual(ed.answer, [box(1, 10, 10, 20, 20), box(2, 90, 70, 10, 10)]);
  assert.equal(ed.waiting, 2);
  assert.equal(ed.boxes[0].score, 0.7);
  assert.equal(ed.selected, -1);
  assert.deepEqual(ed.actions(), { accepted: 2, adjusted: 0, deleted: 0, added: 0 });

  ed.accept(0); // the person has started: their work stays
  assert.equal(ed.renewProposals([box(0, 1, 1, 5, 5)]), false);
  assert.deepEqual(ed.answer, [box(1, 10, 10, 20, 20), box(2, 90, 70, 10, 10)]);
  ed.undo(); // undone, but redo still holds it
  assert.equal(ed.renewProposals([box(0, 1, 1, 5, 5)]), false);

  const drawing = new BoxEditor(100, 80, [], [box(0, 1, 1, 5, 5)]);
  drawing.beginDraw({ x: 30, y: 30 }, 0);
  assert.equal(drawing.renewProposals([]), false, "a drag under way");
  assert.deepEqual(drawing.answer, [box(0, 1, 1, 5, 5)]);
});
