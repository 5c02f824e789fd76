import assert from "node:assert/strict";
import { test } from "node:test";
import { spanIntentForKey } from "./spankeys.js";

test("label keys 1-9 then 0, only as many as labels", () => {
  assert.deepEqual(spanIntentForKey({ key: "1" }, 3), { type: "label", index: 0 });
  assert.deepEqual(spanIntentForKey({ key: "0" }, 10), { type: "label", index: 9 });
  assert.equal(spanIntentForKey({ key: "4" }, 3), null);
});

test("arrows move the token cursor, Shift extends", () => {
  assert.deepEqual(spanIntentForKey({ key: "ArrowRight" }, 2), { type: "cursor", step: 1, extend: false });
  assert.deepEqual(spanIntentForKey({ key: "ArrowLeft", shiftKey: true }, 2), {
    type: "cursor",
    step: -1,
    extend: true,
  });
});

test("submit, skip, undo, redo, remove, clear, revisit", () => {
  const type = (e) => spanIntentForKey(e, 2)?.type ?? null;
  assert.equal(type({ key: "Enter" }), "submit");
  assert.equal(type({ key: "s" }), "skip");
  assert.equal(type({ key: "z" }), "undo");
  assert.equal(type({ key: "Z", shiftKey: true }), "redo");
  assert.equal(type({ key: "y" }), "redo");
  assert.equal(type({ key: "z", ctrlKey: true }), "undo");
  assert.equal(type({ key: "Z", ctrlKey: true, shiftKey: true }), "redo");
  assert.equal(type({ key: "y", metaKey: true }), "redo");
  assert.equal(type({ key: "Delete" }), "remove");
  assert.equal(type({ key: "Backspace" }), "remove");
  assert.equal(type({ key: "Escape" }), "clear");
  assert.equal(type({ key: "[" }), "back");
  assert.equal(type({ key: "]" }), "forward");
});

test("copy, Alt combinations and other keys are left alone", () => {
  assert.equal(spanIntentForKey({ key: "c", ctrlKey: true }, 2), null);
  assert.equal(spanIntentForKey({ key: "1", altKey: true }, 2), null);
  assert.equal(spanIntentForKey({ key: "x" }, 2), null);
});
