import assert from "node:assert/strict";
import { test } from "node:test";
import { classKey, intentForKey } from "./keys.js";

test("digits pick classes 1-9 then 0", () => {
  assert.deepEqual(intentForKey({ key: "1" }, 3), { type: "class", index: 0 });
  assert.deepEqual(intentForKey({ key: "0" }, 10), { type: "class", index: 9 });
  assert.equal(intentForKey({ key: "4" }, 3), null);
  assert.equal(classKey(9), "0");
  assert.equal(classKey(10), "");
});

test("action keys", () => {
  assert.equal(intentForKey({ key: "s" }, 2).type, "skip");
  assert.equal(intentForKey({ key: "z" }, 2).type, "undo");
  assert.equal(intentForKey({ key: "Backspace" }, 2).type, "undo");
  assert.equal(intentForKey({ key: "ArrowLeft" }, 2).type, "back");
  assert.equal(intentForKey({ key: "ArrowRight" }, 2).type, "forward");
  assert.equal(intentForKey({ key: "Enter" }, 2).type, "submit");
});

test("modified keys and unknown keys are left alone", () => {
  assert.equal(intentForKey({ key: "1", ctrlKey: true }, 2), null);
  assert.equal(intentForKey({ key: "s", metaKey: true }, 2), null);
  assert.equal(intentForKey({ key: "x" }, 2), null);
});
