import assert from "node:assert/strict";
import { test } from "node:test";
import { mergeEntries } from "./answer.js";
import { boxFrom, near, toImage } from "./geometry.js";
import { qaProblem, rankingProblem, wordCount } from "./genai.js";
import { instanceColor, maskFromColors, SEGMENT_COLORS } from "./segment-colors.js";
import { overlaps, segments } from "./spans.js";

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

test("segments cover the text; overlaps are found", () => {
  const entities = [
    { label: "b", startOffset: 6, endOffset: 8 },
    { label: "a", startOffset: 0, endOffset: 2 },
  ];
  assert.deepEqual(
    segments(10, entities).map((s) => [s.start, s.end, s.entity?.label ?? null]),
    [
      [0, 2, "a"],
      [2, 6, null],
      [6, 8, "b"],
      [8, 10, null],
    ],
  );
  assert.ok(overlaps(entities, 1, 3));
  assert.ok(!overlaps(entities, 2, 6));
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
