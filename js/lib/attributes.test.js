import assert from "node:assert/strict";
import { test } from "node:test";
import { attributesFor, fixedNames, given, hasAttributes, missing, missingByLabel, readValue } from "./attributes.js";

const CONFIG = {
  labels: { car: [{ name: "color", type: "string", enum: ["red", "blue"], isRequired: true }, { name: "doors", type: "number" }] },
  global: [{ name: "occluded", type: "string" }],
  frame: [{ name: "weather", type: "string", isRequired: true }],
};

test("the attributes of a label, the required ones missing, values read from fields", () => {
  assert.ok(hasAttributes(CONFIG));
  assert.ok(!hasAttributes({ labels: {}, global: [], frame: [] }));
  assert.deepEqual(
    attributesFor(CONFIG, "car").map((a) => a.name),
    ["color", "doors", "occluded"],
  );
  assert.deepEqual(
    attributesFor(CONFIG, "person").map((a) => a.name),
    ["occluded"],
  );
  assert.deepEqual(missing(attributesFor(CONFIG, "car"), { doors: 2 }), ["color"]);
  assert.deepEqual(missing(attributesFor(CONFIG, "car"), { color: "" }), ["color"]);
  assert.deepEqual(missing(CONFIG.frame, { weather: "sun" }), []);
  assert.equal(readValue(CONFIG.labels.car[1], "4"), 4);
  assert.equal(readValue(CONFIG.labels.car[1], "x"), "");
  assert.equal(readValue(CONFIG.labels.car[0], "red"), "red");
  assert.deepEqual(given({ color: "red", doors: "" }), { color: "red" });
  assert.equal(given({ doors: "" }), null);
});

test("a mask's classes each miss their own required attributes", () => {
  const config = { ...CONFIG, global: [{ name: "occluded", type: "string", isRequired: true }] };
  assert.deepEqual(missingByLabel(config, ["car", "bus"], { car: { color: "red" } }), [
    { label: "car", names: ["occluded"] },
    { label: "bus", names: ["occluded"] },
  ]);
  assert.deepEqual(missingByLabel(config, ["car"], { car: { color: "red", occluded: "no" } }), []);
  assert.deepEqual(missingByLabel(config, [], {}), []);
});

test("editsAllowed none keeps the values an earlier job gave, and only those", () => {
  const list = [
    { name: "color", editsAllowed: "none" },
    { name: "doors", editsAllowed: "none" },
    { name: "occluded", editsAllowed: "any" },
    { name: "note" },
  ];
  assert.deepEqual(fixedNames(list, { color: "red", doors: "", occluded: "yes", note: "x" }), ["color"]);
  assert.deepEqual(fixedNames(list, undefined), []); // nothing given earlier: every field is open
});
