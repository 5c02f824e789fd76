import assert from "node:assert/strict";
import { test } from "node:test";
import { parseBlocks, parseInline } from "./markdown.js";
import { preferenceIntent, RankingDraft, RatingDraft } from "./preference.js";

const DIMS = [
  { name: "Clarity", allowTie: true },
  { name: "Inclusivity", allowTie: false },
];

test("ranking keys build GT's crowd-text-ranking answer with ties and undo", () => {
  const d = new RankingDraft(DIMS, 3);
  assert.ok(d.place(1));
  assert.ok(d.tie());
  assert.ok(d.place(0)); // shares rank 1
  assert.equal(d.place(0), false); // placed already
  assert.ok(d.place(2)); // competition ranking: 3
  assert.equal(d.dim, 1); // a full dimension moves on
  assert.equal(d.tie(), false); // Inclusivity takes no ties
  d.place(2);
  d.place(0);
  assert.ok(d.undo());
  assert.equal(d.complete, false);
  d.place(1);
  d.place(0);
  assert.ok(d.complete);
  assert.deepEqual(d.value(), {
    ordinalRankingDimensions: [
      { name: "Clarity", responseRankings: [1, 1, 3] },
      { name: "Inclusivity", responseRankings: [3, 2, 1] },
    ],
  });
  // A revisited answer comes back as it was, untouched.
  const again = new RankingDraft(DIMS, 3, d.value());
  assert.deepEqual(again.value(), d.value());
  assert.equal(again.touched, false);
});

test("rating keys score each response in turn; Tab moves between dimensions", () => {
  const r = new RatingDraft(["Help", "Harm"], 2, [1, 5]);
  assert.equal(r.rate(7), false);
  r.rate(4);
  r.rate(2);
  assert.equal(r.dim, 1);
  r.rate(5);
  r.undo();
  r.move(-1);
  assert.equal(r.dim, 0);
  r.move(1);
  assert.equal(r.response, 0);
  r.rate(1);
  r.rate(3);
  assert.deepEqual(r.value(), {
    ratingDimensions: [
      { name: "Help", responseRatings: [4, 2] },
      { name: "Harm", responseRatings: [1, 3] },
    ],
  });
});

test("keys map to intents per kind", () => {
  assert.deepEqual(preferenceIntent({ key: "t" }, "pairwise"), { type: "choose", choice: "tie" });
  assert.equal(preferenceIntent({ key: "3" }, "pairwise"), null);
  assert.deepEqual(preferenceIntent({ key: "3" }, "ranking"), { type: "digit", digit: 3 });
  assert.deepEqual(preferenceIntent({ key: "Tab", shiftKey: true }, "rating"), { type: "prev-dimension" });
  assert.equal(preferenceIntent({ key: "Tab" }, "pairwise"), null);
  assert.equal(preferenceIntent({ key: "a", ctrlKey: true }, "pairwise"), null);
  assert.deepEqual(preferenceIntent({ key: "e" }, "rating"), { type: "correct" });
  assert.deepEqual(preferenceIntent({ key: "e" }, "pairwise"), { type: "correct" });
});

test("Markdown parses into text blocks; markup in the data stays text", () => {
  const blocks = parseBlocks("# Title\nSome <script>alert(1)</script> text\nmore\n\n- one\n- `two`\n\n```py\nx = '<b>'\n```\nafter");
  assert.deepEqual(blocks, [
    { type: "heading", level: 1, text: "Title" },
    { type: "para", text: "Some <script>alert(1)</script> text\nmore" },
    { type: "list", items: ["one", "`two`"] },
    { type: "code", lang: "py", text: "x = '<b>'" },
    { type: "para", text: "after" },
  ]);
  assert.deepEqual(parseInline("a **b** `<i>` c*"), [
    { type: "text", text: "a " },
    { type: "bold", text: "b" },
    { type: "text", text: " " },
    { type: "code", text: "<i>" },
    { type: "text", text: " c*" },
  ]);
  assert.deepEqual(parseBlocks("```\nunclosed"), [{ type: "code", lang: "", text: "unclosed" }]);
});
