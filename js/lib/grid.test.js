import assert from "node:assert/strict";
import { test } from "node:test";
import {
  countAtLeast,
  formatConfidence,
  formatValue,
  GridSelection,
  items,
  reviewHelp,
  reviewIntent,
  sameValue,
  sliderThreshold,
} from "./grid.js";

const keys = (n) => Array.from({ length: n }, (_, i) => `k${i}`);

function grid(n, cursor = 0) {
  const s = new GridSelection();
  s.setKeys(keys(n), { reset: true });
  if (cursor) s.click(cursor);
  return s;
}

test("a new page puts the cursor on the first tile, selected", () => {
  const s = grid(5);
  assert.equal(s.cursorKey, "k0");
  assert.deepEqual(s.selectedKeys(), ["k0"]);
  const empty = new GridSelection();
  empty.setKeys([], { reset: true });
  assert.equal(empty.cursorKey, null);
  assert.deepEqual(empty.selectedKeys(), []);
});

test("arrows move over a grid with columns and stop at the edges", () => {
  const s = grid(10); // 4 columns: rows k0-k3, k4-k7, k8-k9
  s.move({ dx: 1 }, 4);
  assert.equal(s.cursorKey, "k1");
  s.move({ dy: 1 }, 4);
  assert.equal(s.cursorKey, "k5");
  s.move({ dy: 1 }, 4);
  assert.equal(s.cursorKey, "k9"); // no tile below k9's column: the last tile
  s.move({ dy: -1 }, 4);
  assert.equal(s.cursorKey, "k5");
  s.move({ dy: -1 }, 4);
  s.move({ dy: -1 }, 4);
  assert.equal(s.cursorKey, "k0");
  s.move({ dx: -1 }, 4);
  assert.equal(s.cursorKey, "k0");
  s.move({ to: "last" }, 4);
  assert.equal(s.cursorKey, "k9");
  s.move({ to: "first" }, 4);
  assert.equal(s.cursorKey, "k0");
  assert.deepEqual(s.selectedKeys(), ["k0"]);
});

test("shift+arrows extend a range from the anchor in reading order", () => {
  const s = grid(10, 2);
  s.move({ dx: 1, extend: true }, 4);
  assert.deepEqual(s.selectedKeys(), ["k2", "k3"]);
  s.move({ dy: 1, extend: true }, 4);
  assert.deepEqual(s.selectedKeys(), ["k2", "k3", "k4", "k5", "k6", "k7"]);
  s.move({ dy: -1, extend: true }, 4);
  s.move({ dx: -2, extend: true }, 4);
  assert.deepEqual(s.selectedKeys(), ["k1", "k2"]);
  s.move({ dx: 1 }, 4); // a plain move collapses the selection
  assert.deepEqual(s.selectedKeys(), ["k2"]);
  s.move({ to: "last", extend: true }, 4);
  assert.equal(s.selectedKeys().length, 8);
});

test("clicks select, shift-clicks extend, ctrl-clicks toggle", () => {
  const s = grid(6);
  s.click(3);
  assert.deepEqual(s.selectedKeys(), ["k3"]);
  s.click(1, { shift: true });
  assert.deepEqual(s.selectedKeys(), ["k1", "k2", "k3"]);
  s.click(5, { toggle: true });
  assert.deepEqual(s.selectedKeys(), ["k1", "k2", "k3", "k5"]);
  s.click(2, { toggle: true });
  assert.deepEqual(s.selectedKeys(), ["k1", "k3", "k5"]);
  assert.equal(s.cursorKey, "k2");
  s.click(4, { shift: true }); // the anchor moved to the toggled tile
  assert.deepEqual(s.selectedKeys(), ["k2", "k3", "k4"]);
  s.click(99);
  assert.equal(s.cursorKey, "k4");
});

test("select all, and collapse back to the cursor", () => {
  const s = grid(4, 2);
  s.selectAll();
  assert.deepEqual(s.selectedKeys(), keys(4));
  s.collapse();
  assert.deepEqual(s.selectedKeys(), ["k2"]);
});

test("after an action the next item slides under the cursor", () => {
  const s = grid(6, 2);
  s.setKeys(["k0", "k1", "k3", "k4", "k5", "k6"]); // k2 accepted, k6 filled the page
  assert.equal(s.cursorKey, "k3");
  assert.deepEqual(s.selectedKeys(), ["k3"]);
  s.click(4);
  s.setKeys(["k0", "k1", "k3"]); // the cursor's index fell off the end
  assert.equal(s.cursorKey, "k3");
  s.setKeys([]);
  assert.equal(s.cursorKey, null);
  assert.deepEqual(s.selectedKeys(), []);
});

test("a refresh keeps the cursor's key and the surviving selection", () => {
  const s = grid(6, 1);
  s.click(3, { shift: true });
  s.setKeys(["k9", "k0", "k1", "k2", "k4", "k5"]); // k3 left, k9 arrived in front
  assert.equal(s.cursorKey, "k2"); // index 3 of the new page
  assert.deepEqual(s.selectedKeys(), ["k1", "k2"]);
  s.move({ dx: 1, extend: true }, 3); // the anchor kept its key
  assert.deepEqual(s.selectedKeys(), ["k1", "k2", "k4"]);
  s.setKeys(["a", "b"], { reset: true });
  assert.deepEqual(s.selectedKeys(), ["a"]);
});

test("the key map", () => {
  const intent = (key, extra = {}, editing = false) => reviewIntent({ key, ...extra }, { nClasses: 3, editing });
  assert.deepEqual(intent("1"), { type: "class", index: 0 });
  assert.deepEqual(intent("3"), { type: "class", index: 2 });
  assert.equal(intent("4"), null);
  assert.equal(intent("a").type, "accept");
  assert.equal(intent("Enter").type, "accept");
  assert.equal(intent("r").type, "reject");
  assert.equal(intent("Delete").type, "reject");
  assert.deepEqual(intent("ArrowDown", { shiftKey: true }), { type: "move", dy: 1, extend: true });
  assert.deepEqual(intent("ArrowLeft"), { type: "move", dx: -1, extend: false });
  assert.deepEqual(intent("End"), { type: "move", to: "last", extend: false });
  assert.deepEqual(intent("Home", { shiftKey: true }), { type: "move", to: "first", extend: true });
  assert.deepEqual(intent("PageDown"), { type: "page", delta: 1 });
  assert.deepEqual(intent("PageUp"), { type: "page", delta: -1 });
  assert.equal(intent("Escape").type, "cancel");
  assert.equal(intent("a", { ctrlKey: true }).type, "selectAll");
  assert.equal(intent("A", { metaKey: true }).type, "selectAll");
  assert.equal(intent("r", { ctrlKey: true }), null);
  assert.equal(intent("a", { altKey: true }), null);
  assert.equal(intent("x"), null);
});

test("while relabeling only class keys, Enter and Escape count", () => {
  const intent = (key) => reviewIntent({ key }, { nClasses: 3, editing: true });
  assert.deepEqual(intent("2"), { type: "class", index: 1 });
  assert.equal(intent("Enter").type, "save");
  assert.equal(intent("Escape").type, "cancel");
  assert.equal(intent("a"), null);
  assert.equal(intent("ArrowRight"), null);
  assert.equal(reviewIntent({ key: "a", ctrlKey: true }, { nClasses: 3, editing: true }), null);
});

test("deciding disagreements: class keys decide, z undoes, accept and reject keys mean nothing", () => {
  const intent = (key, extra = {}) => reviewIntent({ key, ...extra }, { nClasses: 3, decide: true });
  assert.deepEqual(intent("2"), { type: "class", index: 1 });
  assert.equal(intent("4"), null);
  assert.deepEqual(intent("z"), { type: "undo" });
  assert.deepEqual(intent("Z"), { type: "undo" });
  for (const key of ["a", "A", "Enter", "r", "R", "Delete"]) assert.equal(intent(key), null, key);
  assert.deepEqual(intent("ArrowRight", { shiftKey: true }), { type: "move", dx: 1, extend: true });
  assert.deepEqual(intent("PageDown"), { type: "page", delta: 1 });
  assert.equal(intent("a", { ctrlKey: true }).type, "selectAll");
  assert.equal(intent("z", { ctrlKey: true }), null); // the browser's own undo stays its own
  // the multi-label decision panel: keys toggle, Enter saves, z means nothing there
  const editing = (key) => reviewIntent({ key }, { nClasses: 3, decide: true, editing: true });
  assert.equal(editing("Enter").type, "save");
  assert.equal(editing("z"), null);
  // the auto-label grid has no undo
  assert.equal(reviewIntent({ key: "z" }, { nClasses: 3 }), null);
});

test("sameValue compares class names and multi-label sets", () => {
  assert.ok(sameValue("cat", "cat"));
  assert.ok(!sameValue("cat", "dog"));
  assert.ok(sameValue(["cat", "dog"], ["dog", "cat"]));
  assert.ok(!sameValue(["cat"], ["cat", "dog"]));
  assert.ok(sameValue([], []));
  assert.ok(!sameValue(["cat"], "cat"));
  assert.ok(!sameValue(null, "cat"));
  assert.ok(sameValue({ label: "cat", "frame-attributes": { light: "day" } }, "cat")); // its class is the answer
});

test("countAtLeast counts a sorted array from a threshold", () => {
  const sorted = new Float64Array([0.1, 0.5, 0.5, 0.9, 0.97, 1]);
  assert.equal(countAtLeast(sorted, 0), 6);
  assert.equal(countAtLeast(sorted, 0.5), 5);
  assert.equal(countAtLeast(sorted, 0.51), 3);
  assert.equal(countAtLeast(sorted, 0.97), 2);
  assert.equal(countAtLeast(sorted, 1), 1);
  assert.equal(countAtLeast(sorted, 1.01), 0);
  assert.equal(countAtLeast(new Float64Array(0), 0.5), 0);
});

test("the slider threshold is the double that its two-decimal text parses to", () => {
  assert.equal(sliderThreshold("0.29"), 0.29);
  assert.equal(sliderThreshold("0.9"), 0.9);
  assert.equal(sliderThreshold("0.30000000000000004"), 0.3);
  assert.equal(sliderThreshold("1"), 1);
});

test("confidences read two decimals rounded down, so the slider never disagrees", () => {
  assert.equal(formatConfidence(0.969), "0.96");
  assert.equal(formatConfidence(0.97), "0.97");
  assert.equal(formatConfidence(0.29), "0.29");
  assert.equal(formatConfidence(1), "1.00");
  assert.equal(formatConfidence(null), "–");
  assert.equal(formatConfidence(Number.NaN), "–");
});

test("values and counts as text", () => {
  assert.equal(formatValue("cat"), "cat");
  assert.equal(formatValue(["bird", "cat"]), "bird, cat");
  assert.equal(formatValue({ label: "cat", "frame-attributes": { light: "day" } }), "cat"); // with frame attributes
  assert.equal(formatValue({ labels: ["bird"], "frame-attributes": { light: "day" } }), "bird");
  assert.equal(formatValue([]), "(none)");
  assert.equal(formatValue(null), "");
  assert.equal(items(1), "1 item");
  assert.equal(items(0), "0 items");
  assert.equal(items(12), "12 items");
});

test("a box job's review grid: accept and reject only, class keys do nothing, and the help says so", () => {
  const intent = (key) => reviewIntent({ key }, { nClasses: 0 });
  assert.deepEqual(["1", "2", "0"].map(intent), [null, null, null]);
  assert.deepEqual(intent("a"), { type: "accept" });
  assert.deepEqual(intent("Delete"), { type: "reject" });
  const help = reviewHelp({ multi: true, relabel: false });
  assert.match(help, /a or Enter accept · r or Delete reject · PageUp/);
  assert.doesNotMatch(help, /1–9|relabel|classes/);
  assert.match(reviewHelp({}), /r or Delete reject · 1–9, 0 relabel · /);
  assert.match(reviewHelp({ multi: true }), /1–9, 0 choose classes · /);
  assert.match(reviewHelp({ decide: true }), /press 1–9, 0 to decide · z undo · /);
});
