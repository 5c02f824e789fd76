import assert from "node:assert/strict";
import { test } from "node:test";
import { OffsetIndex } from "./offsets.js";
import { SpanDoc } from "./spans.js";

test("adding keeps entities sorted; adjacent is fine, only the same entity again is refused", () => {
  const doc = new SpanDoc();
  assert.ok(doc.add(10, 16, "Place").ok);
  assert.ok(doc.add(0, 6, "Org").ok);
  assert.ok(doc.add(6, 10, "Org").ok); // touches both neighbours
  const refused = doc.add(10, 16, "Place");
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

test("overlapping and nested entities: sorted outer first, innermost found, stepped through", () => {
  const doc = new SpanDoc();
  const outer = doc.add(0, 16, "Product").entity; // "Amazon SageMaker"
  const inner = doc.add(7, 16, "Product").entity; // "SageMaker"
  const first = doc.add(0, 6, "Org").entity; // "Amazon"
  const crossing = doc.add(12, 20, "Thing").entity;
  const again = doc.add(0, 16, "Org").entity; // another label on the same range
  assert.deepEqual(
    doc.ents.map((e) => [e.start, e.end]),
    [[0, 16], [0, 16], [0, 6], [7, 16], [12, 20]],
  );
  assert.deepEqual(doc.overlapping(5, 8), doc.ents.slice(0, 4));
  assert.equal(doc.at(8), inner); // the innermost covering
  assert.equal(doc.at(13), crossing);
  assert.equal(doc.around(1, 3), first);
  assert.equal(doc.exactly(7, 16), inner);
  assert.equal(doc.exactly(7, 15), null);
  // e steps innermost first, out, and round again
  assert.equal(doc.nextAround(8, 9, null), inner);
  assert.equal(doc.nextAround(8, 9, inner), again);
  assert.equal(doc.nextAround(8, 9, again), outer);
  assert.equal(doc.nextAround(8, 9, outer), inner);
  assert.equal(doc.nextAround(13, 14, null), crossing); // shorter than "SageMaker"
  assert.equal(doc.nextAround(13, 14, crossing), inner);
  assert.equal(doc.nextAround(30, 31, null), null);
  doc.remove(inner);
  assert.equal(doc.at(8), again);
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

test("attribute values are one edit each, undone and redone, and part of the answer", () => {
  const ix = new OffsetIndex("Amazon SageMaker");
  const doc = new SpanDoc([{ start: 0, end: 6, label: "Org", proposed: true }]);
  const [org] = doc.ents;
  assert.ok(doc.setAttributes(org, { public: "yes" }));
  assert.equal(org.proposed, false);
  assert.ok(!doc.setAttributes(org, { public: "yes" })); // no change, no edit
  assert.deepEqual(doc.value(ix), [{ label: "Org", startOffset: 0, endOffset: 6, "label-category-attributes": { public: "yes" } }]);
  assert.equal(doc.undo().op, "attrs");
  assert.equal(org.attrs, null);
  assert.equal(org.proposed, true);
  assert.deepEqual(doc.value(ix), [{ label: "Org", startOffset: 0, endOffset: 6 }]);
  doc.redo();
  assert.deepEqual(org.attrs, { public: "yes" });
});
