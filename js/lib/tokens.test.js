import assert from "node:assert/strict";
import { test } from "node:test";
import { moveTokenCursor, snapToWords, tokenize, trimSpaces, wordAt } from "./tokens.js";

const slice = (text, r) => (r ? text.slice(r[0], r[1]) : null);
const words = (text) => tokenize(text).map((r) => slice(text, r));

test("a selection inside words snaps out to whole words", () => {
  const text = "Amazon SageMaker was launched";
  assert.equal(slice(text, snapToWords(text, 2, 10)), "Amazon SageMaker");
  assert.equal(slice(text, snapToWords(text, 6, 8)), "SageMaker");
  assert.equal(slice(text, snapToWords(text, 6, 7)), null);
});

test("selected white space is trimmed, punctuation is kept exact", () => {
  const text = "  (Zoë),  next";
  assert.equal(slice(text, snapToWords(text, 0, 8)), "(Zoë),");
  assert.equal(slice(text, trimSpaces(text, 0, 9)), "(Zoë),");
});

test("words in other scripts, with combining marks and emoji", () => {
  const text = "Olá 👋 — Zoë met 李雷 in Zu\u0308rich";
  assert.deepEqual(words(text), ["Olá", "👋", "—", "Zoë", "met", "李雷", "in", "Zu\u0308rich"]);
  const z = text.indexOf("Zu");
  assert.equal(slice(text, snapToWords(text, z + 1, z + 2)), "Zu\u0308rich");
  assert.equal(slice(text, wordAt(text, text.indexOf("👋") + 1)), "👋");
  assert.equal(wordAt(text, 3), null);
});

test("flags, skin tones and ZWJ sequences are one token each", () => {
  const text = "🇨🇭 👍🏽 👩‍💻!";
  assert.deepEqual(words(text), ["🇨🇭", "👍🏽", "👩‍💻", "!"]);
});

test("CRLF and TAB separate tokens and are never part of one", () => {
  const text = "one\r\ntwo\tthree";
  assert.deepEqual(words(text), ["one", "two", "three"]);
  assert.equal(slice(text, snapToWords(text, 1, 6)), "one\r\ntwo");
  assert.equal(slice(text, snapToWords(text, 3, 5)), null);
});

test("the token cursor starts at an offset, steps within the text and extends with Shift", () => {
  const text = "Ada met Bob in Paris";
  const tokens = tokenize(text);
  const words = (c) => text.slice(c.span[0], c.span[1]);
  let c = moveTokenCursor(tokens, null, { step: 1, extend: false, from: 5 });
  assert.equal(words(c), "Bob"); // the first token starting at or after offset 5
  c = moveTokenCursor(tokens, null, { step: 1, extend: false, from: 4 });
  assert.equal(words(c), "met");
  c = moveTokenCursor(tokens, c, { step: 1, extend: true });
  assert.equal(words(c), "met Bob");
  c = moveTokenCursor(tokens, c, { step: -1, extend: true });
  c = moveTokenCursor(tokens, c, { step: -1, extend: true });
  assert.equal(words(c), "Ada met"); // the anchor stays on "met"
  c = moveTokenCursor(tokens, c, { step: -1, extend: false });
  assert.equal(words(c), "Ada"); // clamped at the first token
  assert.deepEqual([c.anchor, c.focus], [0, 0]);
  assert.equal(words(moveTokenCursor(tokens, null, { step: 1, extend: false, from: 99 })), "Paris");
  assert.equal(moveTokenCursor([], null, { step: 1, extend: false }), null);
});
