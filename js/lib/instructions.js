// A task's instructions, as Ground Truth's worker pages have them: a short text beside the item
// and a full panel (the i key, or the button) with good and bad example images.
//
// The instructions are Markdown written by the user. They are rendered as DOM built from the text
// (`parseMarkdown` is pure: blocks and inline runs; `markdownNodes` makes elements and text nodes
// from them), never as HTML: a `<script>` or `<img onerror>` in the text is shown as text. Links
// keep only http(s) and mailto addresses; example images only http(s) and data:image URLs (the
// kernel embeds local files as data URLs).

import { h } from "./dom.js";

const LINK_SCHEMES = /^(https?:|mailto:)/i;
const IMAGE_SOURCES = /^(https?:|data:image\/)/i;

/**
 * Inline runs of a line: text, strong, em, code and links, as `{type, text}` or
 * `{type: "link", text, href}`.
 */
export function parseInline(line) {
  const runs = [];
  // code first (its content is literal), then links, bold, italics
  const pattern = /`([^`]+)`|\[([^\]]+)\]\(([^)\s]+)\)|\*\*([^*]+)\*\*|__([^_]+)__|\*([^*]+)\*|_([^_]+)_/g;
  let at = 0;
  for (const m of line.matchAll(pattern)) {
    if (m.index > at) runs.push({ type: "text", text: line.slice(at, m.index) });
    if (m[1] !== undefined) runs.push({ type: "code", text: m[1] });
    else if (m[2] !== undefined) {
      runs.push(LINK_SCHEMES.test(m[3]) ? { type: "link", text: m[2], href: m[3] } : { type: "text", text: m[0] });
    } else if (m[4] !== undefined || m[5] !== undefined) runs.push({ type: "strong", text: m[4] ?? m[5] });
    else runs.push({ type: "em", text: m[6] ?? m[7] });
    at = m.index + m[0].length;
  }
  if (at < line.length) runs.push({ type: "text", text: line.slice(at) });
  return runs;
}

/**
 * The blocks of a Markdown text: headings (`#` to `###`), bullet and numbered lists, and
 * paragraphs (lines joined by a space), each `{type, level?, runs?, items?}`.
 */
export function parseMarkdown(text) {
  const blocks = [];
  let paragraph = null;
  let list = null;
  const end = () => {
    paragraph = null;
    list = null;
  };
  for (const raw of String(text ?? "").split(/\r?\n/)) {
    const line = raw.trim();
    if (!line) {
      end();
      continue;
    }
    const heading = /^(#{1,3})\s+(.*)$/.exec(line);
    const bullet = /^[-*+]\s+(.*)$/.exec(line);
    const numbered = /^\d+[.)]\s+(.*)$/.exec(line);
    if (heading) {
      end();
      blocks.push({ type: "heading", level: heading[1].length, runs: parseInline(heading[2]) });
    } else if (bullet || numbered) {
      const type = bullet ? "ul" : "ol";
      if (!list || list.type !== type) {
        paragraph = null;
        list = { type, items: [] };
        blocks.push(list);
      }
      list.items.push(parseInline((bullet ?? numbered)[1]));
    } else if (paragraph) {
      paragraph.runs.push({ type: "text", text: " " }, ...parseInline(line));
    } else {
      end();
      paragraph = { type: "p", runs: parseInline(line) };
      blocks.push(paragraph);
    }
  }
  return blocks;
}

function runNodes(runs) {
  return runs.map((run) => {
    switch (run.type) {
      case "strong":
      case "em":
      case "code":
        return h(run.type, { text: run.text });
      case "link":
        return h("a", { href: run.href, target: "_blank", rel: "noopener noreferrer", text: run.text });
      default:
        return document.createTextNode(run.text);
    }
  });
}

/** DOM nodes for a Markdown text (elements and text nodes only, never parsed HTML). */
export function markdownNodes(text) {
  return parseMarkdown(text).map((block) => {
    if (block.type === "heading") return h(`h${block.level + 3}`, {}, runNodes(block.runs));
    if (block.type === "p") return h("p", {}, runNodes(block.runs));
    return h(block.type, {}, block.items.map((runs) => h("li", {}, runNodes(runs))));
  });
}

/** The widget's instructions (the model's `instructions` trait), or null when it has none. */
export function instructionsOf(model) {
  const spec = model.get("instructions");
  if (!spec || !(spec.short || spec.full || spec.good?.length || spec.bad?.length)) return null;
  return spec;
}

function examples(kind, title, list) {
  const shown = (list ?? []).filter((e) => IMAGE_SOURCES.test(e.src ?? ""));
  if (!shown.length) return null;
  return h("section", { class: `nbl-examples nbl-${kind}`, "data-testid": `nbl-examples-${kind}` }, [
    h("h4", { text: title }),
    h(
      "div",
      { class: "nbl-example-row" },
      shown.map((e) =>
        h("figure", { class: "nbl-example" }, [
          h("img", { src: e.src, alt: e.caption || title, loading: "lazy" }),
          e.caption ? h("figcaption", { text: e.caption }) : null,
        ]),
      ),
    ),
  ]);
}

/**
 * The short text (beside the item) and the full panel of a widget's instructions; `onClose` gives
 * the keys back to the widget.
 */
export class InstructionsView {
  constructor(spec, { onToggle = () => {} } = {}) {
    this.onToggle = onToggle;
    const open = h("button", {
      type: "button",
      class: "nbl-instructions-open",
      "data-testid": "nbl-instructions-open",
      title: "Full instructions (i)",
      text: "Instructions (i)",
      onclick: () => this.toggle(),
    });
    this.short = h("div", { class: "nbl-instructions-short", "data-testid": "nbl-instructions-short" }, [
      h("div", { class: "nbl-instructions-text" }, markdownNodes(spec.short || "")),
      open,
    ]);
    const close = h("button", { type: "button", class: "nbl-instructions-close", text: "Close (i or Esc)", onclick: () => this.toggle(false) });
    this.panel = h(
      "section",
      { class: "nbl-instructions", "data-testid": "nbl-instructions", role: "dialog", "aria-label": "Instructions", hidden: true },
      [
        h("div", { class: "nbl-instructions-body" }, markdownNodes(spec.full || spec.short || "")),
        examples("good", "Good examples", spec.good),
        examples("bad", "Bad examples", spec.bad),
        close,
      ],
    );
  }

  get isOpen() {
    return !this.panel.hidden;
  }

  /** Open or close the full panel (`open` omitted: the other way round). */
  toggle(open = !this.isOpen) {
    if (open === this.isOpen) return;
    this.panel.hidden = !open;
    this.onToggle(open);
  }
}
