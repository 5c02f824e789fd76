// crowd-entity-annotation: highlight spans of a text and label them. Output as GT documents it:
//   {"<name>": {"entities": [{"label", "startOffset", "endOffset"}]}}
// with offsets in code points (Python's), end exclusive, sorted by start. Select text with the
// mouse, then press a label's key (1-9, 0) or click the label; with a label chosen first, a
// selection is labeled at once. Entities may overlap and nest, as in GT: stacked ones are marks
// inside marks, each underlined a step lower than those it holds. Click a highlight to select
// the innermost entity there; `e` selects the next one stacked there (or, with nothing clicked,
// the next in the text), so every entity is reachable from the keyboard; a digit relabels the
// selected entity, Delete removes it and Escape deselects it.
import { OffsetIndex } from "../lib/offsets.js";
import {
  classKey,
  CrowdElement,
  define,
  digitIndex,
  h,
  instructionsPanel,
  jsonAttr,
  takeRegions,
} from "./base.js";
import { byStart, layout, nextEntity, repeated } from "./spans.js";

class CrowdEntityAnnotation extends CrowdElement {
  build() {
    const regions = takeRegions(this, ["short-instructions", "full-instructions"]);
    // Anything else inside the element (GT's samples put extra questions there) stays below.
    const extra = [...this.childNodes];
    for (const node of extra) node.remove();
    this.labels = jsonAttr(this, "labels", []).map((l) =>
      typeof l === "object" && l !== null
        ? { label: String(l.label), short: String(l.shortDisplayName ?? l.label), full: String(l.fullDisplayName ?? l.label) }
        : { label: String(l), short: String(l), full: String(l) },
    );
    this.text = this.getAttribute("text") ?? "";
    this.offsets = new OffsetIndex(this.text);
    this.length = this.offsets.length;
    this.entities = jsonAttr(this, "initial-value", [])
      .filter((e) => e && this.labels.some((l) => l.label === e.label))
      .map((e) => ({ label: e.label, startOffset: +e.startOffset, endOffset: +e.endOffset }))
      .sort(byStart);
    this.active = -1;
    this.selected = -1;
    this.anchor = null; // {start, end}: where the person last clicked or selected (for `e`)
    this.labelButtons = this.labels.map((l, index) =>
      h(
        "button",
        {
          type: "button",
          class: "crowd-label",
          "aria-pressed": "false",
          title: l.full,
          onclick: () => this.useLabel(index),
        },
        [h("kbd", { text: classKey(index) || "·" }), h("span", { text: l.full })],
      ),
    );
    this.textBox = h("div", { class: "crowd-entity-text", "data-testid": "crowd-entity-text", tabindex: "0" });
    this.textBox.addEventListener("mouseup", () => this.fromSelection());
    this.textBox.addEventListener("click", (event) => {
      const mark = event.target.closest?.("[data-entity]");
      // A drag that selected text (to nest an entity inside this one) is not a click on it.
      if (!mark || this.selection()) return;
      this.anchor = { start: Number(mark.dataset.start), end: Number(mark.dataset.end) };
      this.select(Number(mark.dataset.entity));
    });
    this.status = h("div", { class: "crowd-tool-hint", text: "Select text, then press a label's key or click the label." });
    const header = this.getAttribute("header");
    this.append(
      h("div", { class: "crowd-task" }, [
        h("div", { class: "crowd-task-main" }, [
          header ? h("div", { class: "crowd-header", text: header }) : null,
          h("div", { class: "crowd-labels" }, this.labelButtons),
          this.textBox,
          this.status,
          h("div", { class: "crowd-entity-extra" }, extra),
        ]),
        instructionsPanel(regions),
      ]),
    );
    this.draw();
  }

  /** The current selection inside the text as code-point offsets, or null. */
  selection() {
    const sel = globalThis.getSelection?.();
    if (!sel || sel.rangeCount === 0 || sel.isCollapsed) return null;
    const range = sel.getRangeAt(0);
    // A selection edge inside a surrogate pair takes the whole character.
    const at = (node, offset, round) => {
      const span = (node.nodeType === Node.TEXT_NODE ? node.parentElement : node)?.closest?.("[data-start]");
      if (!span || !this.textBox.contains(span)) return null;
      const base = this.offsets.toUtf16(Number(span.dataset.start));
      const inner = node.nodeType === Node.TEXT_NODE ? offset : offset ? span.textContent.length : 0;
      return this.offsets.toCodePoint(Math.min(base + inner, this.text.length), round);
    };
    const start = at(range.startContainer, range.startOffset, "down");
    const end = at(range.endContainer, range.endOffset, "up");
    if (start === null || end === null || end <= start) return null;
    return { start, end };
  }

  fromSelection() {
    if (this.active < 0) return;
    this.labelSelection(this.active);
  }

  labelSelection(index) {
    const span = this.selection();
    if (!span) return false;
    const entity = { label: this.labels[index].label, startOffset: span.start, endOffset: span.end };
    if (repeated(this.entities, entity)) {
      this.status.textContent = `That text is already labeled ${this.labels[index].full}.`;
      return true;
    }
    this.entities.push(entity);
    this.entities.sort(byStart);
    this.anchor = span;
    globalThis.getSelection()?.removeAllRanges();
    this.selected = -1;
    this.status.textContent = `Labeled “${[...this.text].slice(span.start, span.end).join("")}” as ${this.labels[index].full}.`;
    this.draw();
    return true;
  }

  useLabel(index) {
    // Selected text is labeled first (inside a selected entity it nests a new one); else the
    // selected entity is relabeled; else the label waits for the next selection.
    if (this.labelSelection(index)) return;
    if (this.selected >= 0) {
      this.entities[this.selected].label = this.labels[index].label;
      this.draw();
      return;
    }
    this.active = index;
    this.labelButtons.forEach((b, i) => b.setAttribute("aria-pressed", i === index ? "true" : "false"));
  }

  select(index) {
    this.selected = this.selected === index ? -1 : index;
    this.draw();
  }

  crowdKey(event) {
    const index = digitIndex(event);
    if (index >= 0 && index < this.labels.length) {
      this.useLabel(index);
      return true;
    }
    if (event.key === "e" && this.entities.length) {
      const anchor = this.selection() ?? this.anchor;
      const entity = nextEntity(this.entities, anchor, this.entities[this.selected]);
      this.anchor = anchor;
      this.selected = this.entities.indexOf(entity);
      const label = this.labels.find((l) => l.label === entity.label)?.full ?? entity.label;
      this.status.textContent = `Selected “${[...this.text].slice(entity.startOffset, entity.endOffset).join("")}” (${label}).`;
      this.draw();
      return true;
    }
    if (event.key === "Escape" && this.selected >= 0) {
      this.select(this.selected); // deselect: digits label selections again
      return true;
    }
    if ((event.key === "Delete" || event.key === "Backspace") && this.selected >= 0) {
      this.entities.splice(this.selected, 1);
      this.selected = -1;
      this.draw();
      return true;
    }
    return false;
  }

  draw() {
    const chars = [...this.text];
    const { pieces, inner } = layout(this.length, this.entities);
    this.textBox.replaceChildren(
      ...pieces.map((piece) => {
        const text = chars.slice(piece.start, piece.end).join("");
        if (!piece.covering.length) return h("span", { "data-start": piece.start, text });
        // One mark per entity over the piece, outer first: the innermost one holds the text.
        let child = document.createTextNode(text);
        for (const entity of [...piece.covering].reverse()) {
          const index = this.entities.indexOf(entity);
          const label = this.labels.find((l) => l.label === entity.label);
          const last = piece.end === entity.endOffset; // the piece that shows the entity's label
          const mark = h("mark", {
            class: `crowd-entity${index === this.selected ? " crowd-selected" : ""}${last ? "" : " crowd-cont"}`,
            "data-start": piece.start,
            "data-end": piece.end,
            "data-entity": index,
            "data-tag": label ? label.short : entity.label,
            title: label ? label.full : entity.label,
          });
          mark.style.setProperty("--crowd-inner", String(inner.get(entity)));
          mark.append(child);
          child = mark;
        }
        return child;
      }),
    );
    this.dataset.count = String(this.entities.length);
    this.dataset.selected = this.selected >= 0 ? String(this.selected) : "";
  }

  crowdEntry() {
    return [this.crowdName, { entities: this.entities.map((e) => ({ ...e })) }];
  }

  crowdRestore(value) {
    if (Array.isArray(value?.entities)) {
      this.entities = value.entities
        .map((e) => ({ label: e.label, startOffset: e.startOffset, endOffset: e.endOffset }))
        .sort(byStart);
      this.selected = -1;
      this.draw();
    }
  }
}

define("crowd-entity-annotation", CrowdEntityAnnotation);
// GT's own sample templates also name it crowd-entity-annotator (other/custom-instructions-width).
define("crowd-entity-annotator", class extends CrowdEntityAnnotation {});
