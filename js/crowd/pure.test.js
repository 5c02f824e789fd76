import assert from "node:assert/strict";
import { test } from "node:test";
import { mergeEntries } from "./answer.js";
import { boxFrom, near, toImage } from "./geometry.js";
import { qaProblem, rankingProblem, wordCount } from "./genai.js";
import { instanceColor, maskFromColors, SEGMENT_COLORS } from "./segment-colors.js";
import { layout, nextEntity, repeated } from "./spans.js";

test("checkboxes sharing a name merge into one object, as GT documents", () => {
  const answer = mergeEntries([
    ["image_attributes", { blurry: true }],
    ["image_attributes", { dim: true }],
    ["image_attributes", { exposed: false }],
    ["tag", "a"],
    ["tag", "b"],
  ]);
  assert.deepEqual(answer, { image_attributes: { blurry: true, dim: true, exposed: false }, tag: "b" });
});

test("pointer positions map to natural image pixels, clamped", () => {
  const rect = { left: 10, top: 20, width: 400, height: 300 };
  assert.deepEqual(toImage(210, 170, rect, 800, 600), { x: 400, y: 300 });
  assert.deepEqual(toImage(0, 1000, rect, 800, 600), { x: 0, y: 600 });
});

test("a box from two corners in any order, whole pixels", () => {
  assert.deepEqual(boxFrom({ x: 300.4, y: 20.6 }, { x: 100.2, y: 220 }), { left: 100, top: 21, width: 200, height: 199 });
  assert.ok(near({ x: 0, y: 0 }, { x: 3, y: 4 }, 5));
  assert.ok(!near({ x: 0, y: 0 }, { x: 3, y: 4 }, 4.9));
});

test("entity layout: pieces cut at every boundary, stacked entities outer first", () => {
  const outer = { label: "org", startOffset: 0, endOffset: 8 };
  const nested = { label: "person", startOffset: 4, endOffset: 8 };
  const crossing = { label: "place", startOffset: 6, endOffset: 10 };
  const { pieces, inner } = layout(12, [crossing, nested, outer]);
  assert.deepEqual(
    pieces.map((p) => [p.start, p.end, p.covering.map((e) => e.label)]),
    [
      [0, 4, ["org"]],
      [4, 6, ["org", "person"]],
      [6, 8, ["org", "person", "place"]],
      [8, 10, ["place"]],
      [10, 12, []],
    ],
  );
  // The outer one holds two at its deepest: its underline sits two steps lower.
  assert.deepEqual([inner.get(outer), inner.get(nested), inner.get(crossing)], [2, 1, 0]);
  // Only the same label on the same range is a repeat.
  assert.equal(repeated([outer, nested], { label: "org", startOffset: 0, endOffset: 8 }), outer);
  assert.equal(repeated([outer, nested], { label: "person", startOffset: 0, endOffset: 8 }), undefined);
});

test("e steps through the entities stacked where the person clicked, else through the text", () => {
  const outer = { label: "org", startOffset: 0, endOffset: 8 };
  const nested = { label: "person", startOffset: 4, endOffset: 8 };
  const later = { label: "place", startOffset: 9, endOffset: 12 };
  const all = [later, outer, nested];
  const at = { start: 4, end: 6 }; // a click inside both: innermost first, then round
  assert.equal(nextEntity(all, at, undefined), nested);
  assert.equal(nextEntity(all, at, nested), outer);
  assert.equal(nextEntity(all, at, outer), nested);
  // No anchor (keyboard only): every entity in text order, the overlapped ones too.
  assert.equal(nextEntity(all, null, undefined), outer);
  assert.equal(nextEntity(all, null, outer), nested);
  assert.equal(nextEntity(all, null, nested), later);
  assert.equal(nextEntity([], null, undefined), null);
});

test("text rankings: every response ranked 1..n, ties only where allowed", () => {
  assert.equal(rankingProblem("Clarity", [1, 2, 2], 3, true), "");
  assert.match(rankingProblem("Clarity", [1, 2, 2], 3, false), /allows no ties/);
  assert.equal(rankingProblem("Clarity", [2, 3, 1], 3, false), "");
  assert.match(rankingProblem("Clarity", [0, 1, 2], 3, true), /from 1 to 3/);
  assert.match(rankingProblem("Clarity", [1, 2], 3, true), /from 1 to 3/);
});

test("question/answer lists keep their count and word limits", () => {
  const limits = { minQuestions: 1, maxQuestions: 2, questionMinWords: 2, questionMaxWords: 5, answerMinWords: 1, answerMaxWords: 3 };
  assert.equal(wordCount("  Who  wrote it? "), 3);
  assert.match(qaProblem([], limits), /at least 1 question/);
  assert.equal(qaProblem([{ question: "Who wrote it?", answer: "Ada" }], limits), "");
  assert.match(qaProblem([{ question: "Who?", answer: "Ada" }], limits), /Question 1 has 1 words: write 2 to 5/);
  assert.match(qaProblem([{ question: "Who wrote it?", answer: "Ada and her friend" }], limits), /Answer 1 has 4 words/);
  const three = Array.from({ length: 3 }, () => ({ question: "Who wrote it?", answer: "Ada" }));
  assert.match(qaProblem(three, limits), /at most 2/);
});

test("segmentation colours: GT's tab10 order, instances distinct and never white", () => {
  assert.equal(SEGMENT_COLORS[2], "#2ca02c");
  const colors = Array.from({ length: 255 }, (_, n) => instanceColor(n));
  assert.ok(colors.every((c) => /^#[0-9a-f]{6}$/.test(c) && c !== "#ffffff"));
  assert.ok(new Set(colors.slice(0, 40)).size === 40);
});

test("an initial-value overlay becomes mask values by its colours; white, clear and unknown are background", () => {
  const px = (hex, alpha = 255) => [parseInt(hex.slice(1, 3), 16), parseInt(hex.slice(3, 5), 16), parseInt(hex.slice(5, 7), 16), alpha];
  const rgba = Uint8ClampedArray.from([...px("#2ca02c"), ...px("#ffffff"), ...px("#1F77B4"), ...px("#1f77b4", 0), ...px("#123456")]);
  assert.deepEqual([...maskFromColors(rgba, ["#1f77b4", "#2CA02C"])], [2, 0, 1, 0, 0]);
  assert.deepEqual([...maskFromColors(rgba, [undefined, "#2ca02c"])], [2, 0, 0, 0, 0]);
});
