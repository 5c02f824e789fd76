// What every nblabel crowd element shares. The elements live in the light DOM (no shadow root)
// so that a template's own scripts and styles reach them as they reach GT's elements. Text
// from attributes is inserted as text, never parsed as HTML.
//
// The answer protocol, read by collect() in form.js:
//   el.crowdEntry()        -> [name, value] to put into the form output, or null
//   el.crowdCheck()        -> "" or a sentence saying what is missing
//   el.crowdRestore(value) -> show an earlier answer's value for this element's name
//   el.crowdKey(event)     -> true when the element used a key press (digits, Delete, ...)
import { h } from "../lib/dom.js";
import { CLASS_KEYS, classKey } from "../lib/keys.js";
import { parseRelaxed } from "./relaxed-json.js";

export { classKey, h };

/** Register a custom element once (several widgets share one page's registry). */
export function define(name, cls) {
  if (!customElements.get(name)) customElements.define(name, cls);
}

/** A JSON-like attribute (GT writes `['a', 'b']`), or `fallback` when absent or unreadable. */
export function jsonAttr(el, name, fallback) {
  const raw = el.getAttribute(name);
  if (raw === null || raw.trim() === "") return fallback;
  try {
    return parseRelaxed(raw);
  } catch (err) {
    el.dataset.crowdError = `${name}: ${err.message}`;
    console.warn(`nblabel: <${el.localName}> ${name}:`, err.message);
    return fallback;
  }
}

/** Detach the element's children that are region tags (`short-instructions`, ...). */
export function takeRegions(el, names) {
  const out = {};
  for (const child of [...el.children]) {
    const name = child.localName;
    if (names.includes(name) && !(name in out)) {
      out[name] = child;
      child.remove();
    }
  }
  return out;
}

/** Move all of a node's children into `target`. */
export function moveChildren(from, target) {
  while (from.firstChild) target.append(from.firstChild);
  return target;
}

/** The digit key's index (1 -> 0, ..., 9 -> 8, 0 -> 9), or -1: the other widgets' class keys. */
export function digitIndex(event) {
  if (event.ctrlKey || event.metaKey || event.altKey) return -1;
  return CLASS_KEYS.indexOf(event.key);
}

/**
 * The label buttons of a drawing element (key 1-9, 0 and the name; `color(index)` on the left
 * edge); a click calls `choose(index)`.
 */
export function labelButtons(labels, color, choose) {
  return labels.map((label, index) =>
    h(
      "button",
      {
        type: "button",
        class: "crowd-label",
        "aria-pressed": "false",
        style: { borderLeftColor: color(index) },
        onclick: () => choose(index),
      },
      [h("kbd", { text: classKey(index) || "·" }), h("span", { text: label })],
    ),
  );
}

/**
 * Give a drawing element GT's `labels` property: templates set it from script (GT's
 * *-custom-labels samples start from `labels = []` and add the worker's own). The element keeps
 * the list in `labelList` and redraws its picker with `drawLabels()`.
 */
export function withLabelsProperty(cls) {
  Object.defineProperty(cls.prototype, "labels", {
    get() {
      return [...(this.labelList ?? [])];
    },
    set(list) {
      this.labelList = (Array.isArray(list) ? list : []).map(String);
      if (this._built) this.drawLabels();
    },
  });
  return cls;
}

/** GT's instructions regions of a task element, as a side panel. */
export function instructionsPanel(regions) {
  const parts = [];
  const short = regions["short-instructions"];
  if (short) parts.push(moveChildren(short, h("div", { class: "crowd-short-instructions" })));
  const full = regions["full-instructions"];
  if (full) {
    const summary = h("summary", { text: full.getAttribute("header") || "View full instructions" });
    parts.push(h("details", { class: "crowd-full-instructions" }, [summary, moveChildren(full, h("div"))]));
  }
  return parts.length ? h("div", { class: "crowd-instructions-panel" }, parts) : null;
}

/**
 * Base class: builds once on first connection (moving an element re-connects it), and gives
 * the element's `name`.
 */
export class CrowdElement extends HTMLElement {
  connectedCallback() {
    if (this._built) return;
    this._built = true;
    this.build();
  }

  build() {}

  get crowdName() {
    return this.getAttribute("name") || this.localName;
  }

  crowdCheck() {
    return "";
  }
}
