import assert from "node:assert/strict";
import { test } from "node:test";
import { LabelSession } from "./session.js";

const items = (...keys) => keys.map((key, position) => ({ key, position, total: 10, kind: "text", text: key }));

test("shows the first fetched item and advances on answers", () => {
  const s = new LabelSession();
  assert.equal(s.current, null);
  s.add(items("a", "b", "c"));
  assert.equal(s.current, "a");
  assert.deepEqual(s.answer("x", "u1"), { type: "answer", uid: "u1", key: "a", value: "x" });
  assert.equal(s.current, "b");
  assert.equal(s.ahead, 1);
});

test("past the end waits, then shows items as they arrive", () => {
  const s = new LabelSession();
  s.add(items("a"));
  s.answer("x", "u1");
  assert.equal(s.current, null);
  s.add(items("b"));
  assert.equal(s.current, "b");
});

test("duplicate keys from the kernel are ignored", () => {
  const s = new LabelSession();
  s.add(items("a", "b"));
  assert.deepEqual(s.add(items("b", "c")), ["c"]);
  assert.deepEqual(s.queue, ["b", "c"]);
});

test("undo takes back the last answer and shows its item again", () => {
  const s = new LabelSession();
  s.add(items("a", "b", "c"));
  s.answer("x", "u1");
  s.answer("y", "u2");
  assert.equal(s.current, "c");
  assert.deepEqual(s.undo("u3"), { type: "undo", uid: "u3", target: "u2", key: "b" });
  assert.equal(s.current, "b");
  assert.equal(s.values.get("b"), null);
  // the unanswered item that was on screen comes next again
  assert.equal(s.queue[0], "c");
  s.answer("z", "u4");
  assert.equal(s.current, "c");
});

test("undo of a relabel restores the earlier answer", () => {
  const s = new LabelSession();
  s.add(items("a", "b"));
  s.answer("x", "u1");
  s.back();
  s.answer("y", "u2");
  assert.equal(s.values.get("a"), "y");
  s.undo("u3");
  assert.equal(s.current, "a");
  assert.equal(s.values.get("a"), "x");
});

test("undo with nothing answered returns null", () => {
  const s = new LabelSession();
  s.add(items("a"));
  assert.equal(s.undo("u1"), null);
  assert.equal(s.current, "a");
});

test("back and forward move through the trail but not past the frontier", () => {
  const s = new LabelSession();
  s.add(items("a", "b", "c"));
  s.answer("x", "u1");
  s.answer("y", "u2");
  assert.equal(s.back(), true);
  assert.equal(s.current, "b");
  assert.equal(s.revisiting, true);
  assert.equal(s.back(), true);
  assert.equal(s.current, "a");
  assert.equal(s.back(), false);
  assert.equal(s.forward(), true);
  assert.equal(s.forward(), true);
  assert.equal(s.current, "c");
  assert.equal(s.forward(), false);
});

test("relabeling a revisited item moves forward along the trail", () => {
  const s = new LabelSession();
  s.add(items("a", "b", "c"));
  s.answer("x", "u1");
  s.answer("y", "u2");
  s.back();
  s.back();
  s.answer("z", "u3");
  assert.equal(s.current, "b");
  assert.equal(s.values.get("a"), "z");
});

test("skip moves on and records no value", () => {
  const s = new LabelSession();
  s.add(items("a", "b"));
  assert.deepEqual(s.skip("u1"), { type: "skip", uid: "u1", key: "a" });
  assert.equal(s.current, "b");
  assert.equal(s.values.has("a"), false);
});

test("exclude lists what the browser holds and unacked keys", () => {
  const s = new LabelSession();
  s.add(items("a", "b", "c"));
  s.answer("x", "u1");
  assert.deepEqual(s.exclude(["a"]).sort(), ["a", "b", "c"]);
});

test("values sent by the kernel are shown for items labeled earlier", () => {
  const s = new LabelSession();
  s.add([{ key: "a", position: 0, total: 1, kind: "text", text: "t", value: "cat" }]);
  assert.equal(s.values.get("a"), "cat");
});

test("after undoing a relabel, forward reaches the unanswered item again", () => {
  const s = new LabelSession();
  s.add(items("a", "b", "c"));
  s.answer("x", "u1");
  s.answer("y", "u2");
  s.back();
  s.answer("z", "u3"); // relabel b, cursor on c
  s.undo("u4"); // c goes back to the queue, b is shown with its earlier answer
  assert.equal(s.current, "b");
  assert.equal(s.values.get("b"), "y");
  assert.equal(s.revisiting, true);
  assert.equal(s.forward(), true);
  assert.equal(s.current, "c");
  assert.equal(s.revisiting, false);
});

test("an item dropped from the queue can be fetched again", () => {
  const s = new LabelSession();
  s.add(items("a", "b", "c"));
  s.queue = ["c"]; // a new round kept only c
  assert.deepEqual(s.add(items("b")), ["b"]);
  assert.deepEqual(s.queue, ["c", "b"]);
});

test("a new round keeps the next prefetched items, drops auto-labeled ones and reorders the rest", () => {
  const s = new LabelSession();
  s.add(items("a", "b", "c", "d", "e", "f", "g"), { exhausted: true });
  assert.equal(s.current, "a");
  s.newRound({ proposals: { b: { value: "x", confidence: 0.9 } }, order: ["g", "z", "e"], auto: ["c"] }, 3);
  assert.deepEqual(s.queue, ["b", "d", "g", "e"]); // f is fetched again later, z was never held
  assert.deepEqual(s.items.get("b").proposal, { value: "x", confidence: 0.9 });
  assert.equal(s.exhausted, false);
});

test("items answered elsewhere leave the queue; the one on screen gives way unless answered here", () => {
  const s = new LabelSession();
  s.add(items("a", "b", "c", "d"));
  assert.equal(s.drop(["c"]), false); // prefetched: left out, the screen stays on a
  assert.deepEqual(s.queue, ["b", "d"]);
  assert.equal(s.drop(["a"]), true); // on screen, unanswered here: the next one shows
  assert.equal(s.current, "b");
  assert.deepEqual(s.trail, ["b"]);
  s.answer("x", "u1");
  assert.equal(s.current, "d");
  s.back();
  assert.equal(s.drop(["b"]), false); // answered here (the store echoes our own answer): kept
  assert.equal(s.current, "b");
  assert.equal(s.drop(["d"]), false); // revisiting b: d is not on screen, and stays in the trail
  assert.deepEqual(s.trail, ["b", "d"]);
});

test("news read before an undo here does not drop the reopened item", () => {
  const s = new LabelSession();
  s.add(items("a", "b"));
  s.answer("x", "u1");
  s.undo("u2"); // a is on screen again, unanswered
  assert.equal(s.current, "a");
  assert.equal(s.drop(["a"]), false); // the kernel saw a answered before the undo reached it
  assert.equal(s.current, "a");
});

test("dropping the last open item leaves nothing on screen", () => {
  const s = new LabelSession();
  s.add(items("a"), { exhausted: true });
  assert.equal(s.drop(["a"]), true);
  assert.equal(s.current, null);
});

test("reopen shows an item answered in an earlier session again, unanswered", () => {
  const s = new LabelSession();
  s.add(items("a", "b"));
  s.answer("x", "u1");
  assert.equal(s.current, "b");
  s.reopen("old", [{ key: "old", position: 7, total: 10, kind: "text", text: "old", value: "y" }]);
  assert.equal(s.current, "old");
  assert.equal(s.values.get("old"), null);
  assert.deepEqual(s.trail, ["a", "old", "b"]);
  s.reopen("a", items("a"));
  assert.equal(s.current, "a");
  assert.equal(s.values.get("a"), null);
});

test("upcoming names the item an answer or a skip would show next", () => {
  const s = new LabelSession();
  assert.equal(s.upcoming, null);
  s.add(items("a", "b", "c"));
  assert.equal(s.upcoming, "b");
  s.answer("x", "u1");
  assert.equal(s.upcoming, "c");
  s.back(); // revisiting "a": the trail's next item comes next
  assert.equal(s.upcoming, "b");
  s.forward();
  s.skip("u2");
  assert.equal(s.current, "c");
  assert.equal(s.upcoming, null);
  s.answer("y", "u3");
  assert.equal(s.current, null);
  assert.equal(s.upcoming, null);
});
