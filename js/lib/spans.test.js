import assert from "node:assert/strict";
import { test } from "node:test";
import { OffsetIndex } from "./offsets.js";
import { SpanDoc } from "./spans.js";

test("adding keeps entities sorted; adjacent is fine, overlap is refused naming the clash", () => {
  const doc = new SpanDoc();
  assert.ok(doc.add(10, 16, "Place").ok);
  assert.ok(doc.add(0, 6, "Org").ok);
  assert.ok(doc.add(6, 10, "Org").ok); // touches both neighbours
  const refused = doc.add(12, 20, "Person");
  assert.equal(refused.ok, false);
  assert.deepEqual([refused.clash.start, refused.clash.end, refused.clash.label], [10, 16, "Place"]);
  assert.deepEqual(
    doc.ents.map((e) => e.start),
    [0, 6, 10],
  );
  assert.equal(doc.at(11).label, "Place");
  assert.equal(doc.at(16), null);
  assert.equal(doc.around(11, 13).label, "Place");
  assert.equal(doc.around(9, 13), null);
});

test("undo and redo every kind of edit", () => {
  const doc = new SpanDoc([{ start: 0, end: 3, label: "A", proposed: true }]);
  const [proposed] = doc.ents;
  doc.relabel(proposed, "B");
  assert.equal(proposed.proposed, false);
  const added = doc.add(4, 6, "A").entity;
  doc.remove(added);
  assert.equal(doc.ents.length, 1);
  assert.equal(doc.undo().op, "remove");
  assert.equal(doc.ents.length, 2);
  assert.equal(doc.undo().op, "add");
  assert.equal(doc.undo().op, "relabel");
  assert.equal(proposed.label, "A");
  assert.equal(proposed.proposed, true);
  assert.equal(doc.undo(), null);
  assert.equal(doc.redo().op, "relabel");
  assert.equal(proposed.label, "B");
  assert.equal(doc.redo().op, "add");
  assert.equal(doc.ents.length, 2);
  doc.add(8, 9, "A"); // a new edit drops what could be redone
  assert.equal(doc.redo(), null);
});

test("the answer is in code points", () => {
  const text = "👋 Zoë in Zürich";
  const ix = new OffsetIndex(text);
  const doc = new SpanDoc();
  doc.add(text.indexOf("Zoë"), text.indexOf("Zoë") + 3, "Person");
  doc.add(text.indexOf("Zürich"), text.length, "Place");
  assert.deepEqual(doc.value(ix), [
    { label: "Person", startOffset: 2, endOffset: 5 },
    { label: "Place", startOffset: 9, endOffset: 15 },
  ]);
  assert.equal(Array.from(text).slice(2, 5).join(""), "Zoë");
});
