import assert from "node:assert/strict";
import { test } from "node:test";
import { OffsetIndex } from "./offsets.js";

// Python's view of a string: an array of code points.
const cps = (s) => Array.from(s);

function checkAll(text) {
  const ix = new OffsetIndex(text);
  assert.equal(ix.length, cps(text).length);
  // every code-point boundary maps to a UTF-16 boundary and back
  let u = 0;
  cps(text).forEach((ch, c) => {
    assert.equal(ix.toUtf16(c), u, `toUtf16(${c}) in ${JSON.stringify(text)}`);
    assert.equal(ix.toCodePoint(u), c);
    u += ch.length;
  });
  assert.equal(ix.toUtf16(ix.length), text.length);
  assert.equal(ix.toCodePoint(text.length), ix.length);
  return ix;
}

test("ASCII: both units agree", () => {
  const ix = checkAll("Amazon SageMaker was launched in November 2017.");
  assert.equal(ix.toUtf16(7), 7);
});

test("emoji take two UTF-16 units and one code point", () => {
  const text = "Olá 👋 — Zoë met 李雷 in Zürich 🇨🇭 on 2024-02-29.";
  const ix = checkAll(text);
  // Python: text[22:28] == "Zürich" (see tests/data/manifests/ner.manifest)
  assert.equal(cps(text).slice(22, 28).join(""), "Zürich");
  const s = ix.toUtf16(22);
  const e = ix.toUtf16(28);
  assert.equal(text.slice(s, e), "Zürich");
  assert.equal(ix.toCodePoint(s), 22);
  assert.equal(ix.toCodePoint(e), 28);
});

test("an offset inside a surrogate pair rounds out, never halves a character", () => {
  const text = "a😀b";
  const ix = checkAll(text);
  assert.ok(ix.splitsPair(2));
  assert.equal(ix.toCodePoint(2, "down"), 1);
  assert.equal(ix.toCodePoint(2, "up"), 2);
  assert.equal(ix.snap(2, "down"), 1);
  assert.equal(ix.snap(2, "up"), 3);
  assert.equal(ix.snap(1, "up"), 1);
});

test("CJK, combining marks, CRLF and TABs are one unit per code point", () => {
  for (const text of ["北京市\t上海", "e\u0301te\u0301\r\nsecond line\r\n", "\t\ttabbed\r\n\r\n", "𠀀𠀁 rare CJK"]) {
    checkAll(text);
  }
  const ix = new OffsetIndex("line one\r\nline two");
  assert.equal(ix.toUtf16(10), 10);
});

test("ZWJ sequences and flags count every code point", () => {
  const text = "👩‍💻 codes; 🇨🇭 flag";
  const ix = checkAll(text);
  assert.equal(ix.length, cps(text).length);
  assert.equal(cps(text).length, text.length - 4); // 👩 💻 🇨 🇭 are astral
});

test("lone surrogates are one unit and one code point, like Python", () => {
  const ix = checkAll("a\ud800b\udc00c");
  assert.equal(ix.pairs.length, 0);
});

test("out of range offsets throw", () => {
  const ix = new OffsetIndex("abc");
  assert.throws(() => ix.toUtf16(4), RangeError);
  assert.throws(() => ix.toCodePoint(-1), RangeError);
});

test("a 100 KB text converts quickly", () => {
  const text = "word 😀 ".repeat(12500);
  const t0 = performance.now();
  const ix = new OffsetIndex(text);
  for (let c = 0; c < ix.length; c += 97) assert.equal(ix.toCodePoint(ix.toUtf16(c)), c);
  assert.ok(performance.now() - t0 < 200);
});
