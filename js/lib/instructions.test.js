import assert from "node:assert/strict";
import { test } from "node:test";
import { parseInline, parseMarkdown } from "./instructions.js";

test("Markdown blocks: headings, lists, paragraphs joined across lines", () => {
  const blocks = parseMarkdown("# Boxes\nDraw **tight** boxes\naround each car.\n\n- one per car\n- not *parked* ones\n1. first\n");
  assert.deepEqual(
    blocks.map((b) => b.type),
    ["heading", "p", "ul", "ol"],
  );
  assert.equal(blocks[0].level, 1);
  assert.deepEqual(blocks[1].runs, [
    { type: "text", text: "Draw " },
    { type: "strong", text: "tight" },
    { type: "text", text: " boxes" },
    { type: "text", text: " " },
    { type: "text", text: "around each car." },
  ]);
  assert.equal(blocks[2].items.length, 2);
  assert.deepEqual(blocks[2].items[1][1], { type: "em", text: "parked" });
});

test("HTML stays text; links keep only http(s) and mailto; code is literal", () => {
  const evil = '<script>alert(1)</script><img src=x onerror="y()">';
  assert.deepEqual(parseInline(evil), [{ type: "text", text: evil }]);
  assert.deepEqual(parseInline("[docs](https://x.org/a)"), [{ type: "link", text: "docs", href: "https://x.org/a" }]);
  assert.deepEqual(parseInline("[run](javascript:alert(1))"), [{ type: "text", text: "[run](javascript:alert(1)" }, { type: "text", text: ")" }]);
  assert.deepEqual(parseInline("`**not bold**`"), [{ type: "code", text: "**not bold**" }]);
});
