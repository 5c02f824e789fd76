import assert from "node:assert/strict";
import { test } from "node:test";
import { RelaxedJSONError, parseRelaxed } from "./relaxed-json.js";

test("GT's attribute spellings parse", () => {
  assert.deepEqual(parseRelaxed("['Cat', 'Dog']"), ["Cat", "Dog"]);
  assert.deepEqual(parseRelaxed("{ text: 'None of the above' }"), { text: "None of the above" });
  assert.deepEqual(
    parseRelaxed("[{'label': 'person', 'shortDisplayName': 'per'}, {label: 'date',},]"),
    [{ label: "person", shortDisplayName: "per" }, { label: "date" }],
  );
  assert.deepEqual(parseRelaxed('[{"x": 570, "y": -2.5e1}]'), [{ x: 570, y: -25 }]);
  assert.deepEqual(parseRelaxed(" [ true, false, null ] "), [true, false, null]);
  assert.equal(parseRelaxed("'it\\'s'"), "it's");
});

test("strict JSON parses as JSON does", () => {
  const text = JSON.stringify({ a: [1, "two", { "b-c": null }], d: "é\n\u0001" });
  assert.deepEqual(parseRelaxed(text), JSON.parse(text));
});

test("bad input is refused, never evaluated", () => {
  for (const bad of ["['a'", "{a 1}", "alert(1)", "['a'] x", "'open"]) {
    assert.throws(() => parseRelaxed(bad), RelaxedJSONError, bad);
  }
});
