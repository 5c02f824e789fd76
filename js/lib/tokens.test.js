import assert from "node:assert/strict";
import { test } from "node:test";
import { snapToWords, tokenize, trimSpaces, wordAt } from "./tokens.js";

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
