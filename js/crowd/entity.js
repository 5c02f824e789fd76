// crowd-entity-annotation: highlight spans of a text and label them. Output as GT documents it:
//   {"<name>": {"entities": [{"label", "startOffset", "endOffset"}]}}
// with offsets in code points (Python's), end exclusive, sorted by start. Select text with the
// mouse, then press a label's key (1-9, 0) or click the label; with a label chosen first, a
// selection is labeled at once. Click a highlight to select it; Delete removes it. Spans may
// not overlap in nblabel (GT allows it).
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
import { overlaps, segments } from "./spans.js";

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
      .map((e) => ({ label: e.label, startOffset: +e.startOffset, endOffset: +e.endOffset }));
    this.active = -1;
    this.selected = -1;
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
      const span = event.target.closest?.("[data-entity]");
      if (span) this.select(Number(span.dataset.entity));
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
    if (overlaps(this.entities, span.start, span.end)) {
      this.status.textContent = "That text overlaps a labeled span: remove that one first.";
      return true;
    }
    this.entities.push({ label: this.labels[index].label, startOffset: span.start, endOffset: span.end });
    this.entities.sort((a, b) => a.startOffset - b.startOffset);
    globalThis.getSelection()?.removeAllRanges();
    this.selected = -1;
    this.status.textContent = `Labeled “${[...this.text].slice(span.start, span.end).join("")}” as ${this.labels[index].full}.`;
    this.draw();
    return true;
  }

  useLabel(index) {
    if (this.selected >= 0) {
      this.entities[this.selected].label = this.labels[index].label;
      this.draw();
      return;
    }
    if (!this.labelSelection(index)) {
      this.active = index;
      this.labelButtons.forEach((b, i) => b.setAttribute("aria-pressed", i === index ? "true" : "false"));
    }
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
    this.textBox.replaceChildren(
      ...segments(this.length, this.entities).map((seg) => {
        const text = chars.slice(seg.start, seg.end).join("");
        if (!seg.entity) return h("span", { "data-start": seg.start, text });
        const index = this.entities.indexOf(seg.entity);
        const label = this.labels.find((l) => l.label === seg.entity.label);
        return h("mark", {
          class: `crowd-entity${index === this.selected ? " crowd-selected" : ""}`,
          "data-start": seg.start,
          "data-entity": index,
          "data-tag": label ? label.short : seg.entity.label,
          title: label ? label.full : seg.entity.label,
          text,
        });
      }),
    );
    this.dataset.count = String(this.entities.length);
  }

  crowdEntry() {
    return [this.crowdName, { entities: this.entities.map((e) => ({ ...e })) }];
  }

  crowdRestore(value) {
    if (Array.isArray(value?.entities)) {
      this.entities = value.entities.map((e) => ({ label: e.label, startOffset: e.startOffset, endOffset: e.endOffset }));
      this.selected = -1;
      this.draw();
    }
  }
}

define("crowd-entity-annotation", CrowdEntityAnnotation);
// GT's own sample templates also name it crowd-entity-annotator (other/custom-instructions-width).
define("crowd-entity-annotator", class extends CrowdEntityAnnotation {});
