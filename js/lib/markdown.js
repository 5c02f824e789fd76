// Markdown shown readably, built as text-derived DOM: model outputs are full of Markdown
// (code fences, lists, headings), and reading them raw is slow. The parser is pure (tested with
// `node --test`); the renderer only creates elements and sets textContent, so nothing from the
// data is ever parsed as HTML: a `<script>` in a response shows as the text "<script>".
//
// Supported: ``` fenced code blocks (the language after the fence is shown as a caption),
// `#` headings, `-`/`*`/`1.` list items, paragraphs (single newlines kept), and inline `code`
// and **bold**. Anything else is text.

const FENCE = /^\s*(```|~~~)\s*([\w+-]*)\s*$/;
const HEADING = /^(#{1,6})\s+(.*)$/;
const ITEM = /^\s*(?:[-*+]|\d{1,3}[.)])\s+(.*)$/;

/**
 * Blocks of a Markdown text: `{type: "code", lang, text}`, `{type: "heading", level, text}`,
 * `{type: "list", items: [text]}`, `{type: "para", text}`. An unclosed fence runs to the end.
 * @param {string} text
 */
export function parseBlocks(text) {
  const lines = String(text).replace(/\r\n?/g, "\n").split("\n");
  const blocks = [];
  let para = null;
  let list = null;
  const close = () => {
    para = null;
    list = null;
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const fence = FENCE.exec(line);
    if (fence) {
      close();
      const body = [];
      i++;
      while (i < lines.length && !(lines[i].trim().startsWith(fence[1]) && lines[i].trim().replace(fence[1], "") === "")) {
        body.push(lines[i]);
        i++;
      }
      blocks.push({ type: "code", lang: fence[2], text: body.join("\n") });
      continue;
    }
    if (!line.trim()) {
      close();
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading) {
      close();
      blocks.push({ type: "heading", level: heading[1].length, text: heading[2] });
      continue;
    }
    const item = ITEM.exec(line);
    if (item) {
      para = null;
      if (!list) {
        list = { type: "list", items: [] };
        blocks.push(list);
      }
      list.items.push(item[1]);
      continue;
    }
    if (list && /^\s{2,}\S/.test(line)) {
      list.items[list.items.length - 1] += `\n${line.trim()}`; // a list item's continuation
      continue;
    }
    list = null;
    if (para) para.text += `\n${line}`;
    else {
      para = { type: "para", text: line };
      blocks.push(para);
    }
  }
  return blocks;
}

/**
 * Inline runs of a line: `{type: "text" | "code" | "bold", text}`. Unmatched markers are text.
 * @param {string} text
 */
export function parseInline(text) {
  const runs = [];
  const pattern = /`([^`\n]+)`|\*\*([^*\n]+)\*\*/g;
  let last = 0;
  for (let m = pattern.exec(text); m; m = pattern.exec(text)) {
    if (m.index > last) runs.push({ type: "text", text: text.slice(last, m.index) });
    runs.push(m[1] !== undefined ? { type: "code", text: m[1] } : { type: "bold", text: m[2] });
    last = m.index + m[0].length;
  }
  if (last < text.length) runs.push({ type: "text", text: text.slice(last) });
  return runs;
}

function inline(doc, parent, text) {
  for (const run of parseInline(text)) {
    if (run.type === "text") parent.append(doc.createTextNode(run.text));
    else {
      const el = doc.createElement(run.type === "code" ? "code" : "strong");
      el.textContent = run.text;
      parent.append(el);
    }
  }
}

/**
 * Fill `parent` (emptied first) with the Markdown `text` as elements whose text is set with
 * textContent or text nodes only.
 * @param {HTMLElement} parent
 * @param {string} text
 */
export function renderMarkdown(parent, text) {
  const doc = parent.ownerDocument;
  parent.replaceChildren();
  for (const block of parseBlocks(text)) {
    let el;
    if (block.type === "code") {
      el = doc.createElement("pre");
      if (block.lang) el.dataset.lang = block.lang;
      const code = doc.createElement("code");
      code.textContent = block.text;
      el.append(code);
    } else if (block.type === "heading") {
      el = doc.createElement(`h${Math.min(block.level + 3, 6)}`); // under the widget's own headings
      inline(doc, el, block.text);
    } else if (block.type === "list") {
      el = doc.createElement("ul");
      for (const text of block.items) {
        const li = doc.createElement("li");
        inline(doc, li, text);
        el.append(li);
      }
    } else {
      el = doc.createElement("p");
      inline(doc, el, block.text);
    }
    parent.append(el);
  }
}
