// Pure logic of the review grid: the selection model, the key map, and the numbers the
// confidence slider shows. No DOM, so it is tested with `node --test` and the widget only draws
// what it says.
//
// The grid shows one page of items in reading order; the widget tells the selection how many
// columns the layout has. The cursor is one tile; the selection is a set of keys that always
// contains the cursor after a plain move or click. Shift extends a range from the anchor (the
// tile of the last plain move or click) in reading order, as file managers do.

import { classesOf } from "./attributes.js";
import { CLASS_KEYS } from "./keys.js";

export class GridSelection {
  constructor() {
    this.keys = [];
    this.cursor = 0;
    this.anchor = 0;
    this.selected = new Set();
  }

  /** The key under the cursor, or null when the page is empty. */
  get cursorKey() {
    return this.keys.length ? this.keys[this.cursor] : null;
  }

  /**
   * Show a new page. With `reset` (another page or filter) the cursor goes to the first tile.
   * Otherwise (the same page, refreshed after an action) the cursor stays on its key, or at its
   * index when that key left the grid, so the next item slides under it; selected keys that
   * are still shown stay selected.
   */
  setKeys(keys, { reset = false } = {}) {
    const cursorKey = this.cursorKey;
    const anchorKey = this.keys[this.anchor];
    this.keys = [...keys];
    const last = Math.max(0, this.keys.length - 1);
    if (reset) {
      this.cursor = 0;
      this.anchor = 0;
      this.selected = new Set(this.keys.slice(0, 1));
      return;
    }
    const at = this.keys.indexOf(cursorKey);
    this.cursor = at === -1 ? Math.min(this.cursor, last) : at;
    const anchorAt = this.keys.indexOf(anchorKey);
    this.anchor = anchorAt === -1 ? this.cursor : anchorAt;
    const shown = new Set(this.keys);
    this.selected = new Set([...this.selected].filter((k) => shown.has(k)));
    if (!this.selected.size && this.keys.length) this.selected.add(this.keys[this.cursor]);
  }

  /**
   * Move the cursor. `intent` is a `move` intent of `reviewIntent`: `dx`/`dy` in tiles, or
   * `to: "first" | "last"`; `extend` grows the selection from the anchor instead of replacing it.
   */
  move(intent, columns) {
    if (!this.keys.length) return;
    let target;
    if (intent.to === "first") target = 0;
    else if (intent.to === "last") target = this.keys.length - 1;
    else target = this.cursor + (intent.dx ?? 0) + (intent.dy ?? 0) * Math.max(1, columns);
    this._go(Math.min(Math.max(target, 0), this.keys.length - 1), Boolean(intent.extend));
  }

  /** A click on the tile at `index`: plain selects it, `shift` extends, `toggle` (Ctrl/Cmd) flips it. */
  click(index, { shift = false, toggle = false } = {}) {
    if (index < 0 || index >= this.keys.length) return;
    if (toggle) {
      const key = this.keys[index];
      if (this.selected.has(key)) this.selected.delete(key);
      else this.selected.add(key);
      this.cursor = index;
      this.anchor = index;
      return;
    }
    this._go(index, shift);
  }

  /** Select every tile of the page. */
  selectAll() {
    this.selected = new Set(this.keys);
  }

  /** Select only the cursor's tile. */
  collapse() {
    this._go(this.cursor, false);
  }

  _go(index, extend) {
    this.cursor = index;
    if (extend) {
      const [from, to] = this.anchor <= index ? [this.anchor, index] : [index, this.anchor];
      this.selected = new Set(this.keys.slice(from, to + 1));
    } else {
      this.anchor = index;
      this.selected = new Set([this.keys[index]]);
    }
  }

  /** The selected keys in grid order. */
  selectedKeys() {
    return this.keys.filter((k) => this.selected.has(k));
  }
}

/**
 * The intent of a keydown in the review grid, or null when the widget should leave it alone.
 * While the relabel panel is open (`editing`) only class keys, Enter and Escape mean something.
 * When the grid shows disagreements (`decide`), class keys decide, `z` undoes the last
 * decision, and the accept/reject keys mean nothing.
 * @param {{key: string, ctrlKey?: boolean, metaKey?: boolean, altKey?: boolean, shiftKey?: boolean}} event
 * @param {{nClasses: number, editing?: boolean, decide?: boolean}} options
 */
export function reviewIntent(event, { nClasses, editing = false, decide = false }) {
  if (event.altKey) return null;
  if (event.ctrlKey || event.metaKey) {
    return !editing && (event.key === "a" || event.key === "A") ? { type: "selectAll" } : null;
  }
  const index = CLASS_KEYS.indexOf(event.key);
  if (index !== -1) return index < nClasses ? { type: "class", index } : null;
  if (event.key === "Escape") return { type: "cancel" };
  if (editing) return event.key === "Enter" ? { type: "save" } : null;
  if (decide) {
    if (event.key === "z" || event.key === "Z") return { type: "undo" };
    if (["a", "A", "Enter", "r", "R", "Delete"].includes(event.key)) return null;
  }
  const extend = Boolean(event.shiftKey);
  switch (event.key) {
    case "a":
    case "A":
    case "Enter":
      return { type: "accept" };
    case "r":
    case "R":
    case "Delete":
      return { type: "reject" };
    case "ArrowLeft":
      return { type: "move", dx: -1, extend };
    case "ArrowRight":
      return { type: "move", dx: 1, extend };
    case "ArrowUp":
      return { type: "move", dy: -1, extend };
    case "ArrowDown":
      return { type: "move", dy: 1, extend };
    case "Home":
      return { type: "move", to: "first", extend };
    case "End":
      return { type: "move", to: "last", extend };
    case "PageUp":
      return { type: "page", delta: -1 };
    case "PageDown":
      return { type: "page", delta: 1 };
    default:
      return null;
  }
}

/**
 * The review grid's help line: what its keys do in this mode. `relabel` is false where a class
 * key cannot make an answer (a box job's label holds boxes): accept and reject only.
 * @param {{decide?: boolean, multi?: boolean, relabel?: boolean}} options
 */
export function reviewHelp({ decide = false, multi = false, relabel = true }) {
  const classKeys = relabel ? `1–9, 0 ${multi ? "choose classes" : "relabel"} · ` : "";
  return (
    "Keys: arrows move (Shift extends, Ctrl/Cmd-click toggles, Ctrl+A selects the page) · " +
    (decide
      ? `click an answer or press 1–9, 0 to ${multi ? "choose classes" : "decide"} · z undo · `
      : `a or Enter accept · r or Delete reject · ${classKeys}`) +
    "PageUp/PageDown pages · Esc"
  );
}

/** How many values of an ascending array (e.g. a Float64Array) are at least `threshold`. */
export function countAtLeast(sorted, threshold) {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < threshold) lo = mid + 1;
    else hi = mid;
  }
  return sorted.length - lo;
}

/** The slider's threshold: its value snapped to hundredths, the same double Python parses. */
export function sliderThreshold(value) {
  return Math.round(Number.parseFloat(value) * 100) / 100;
}

/**
 * A confidence as the tiles show it: two decimals, rounded down, so a tile reading "0.96" is
 * never counted by a slider at 0.97. Null (no confidence) reads "–".
 */
export function formatConfidence(confidence) {
  if (confidence === null || confidence === undefined || Number.isNaN(confidence)) return "–";
  return (Math.floor(confidence * 100 + 1e-9) / 100).toFixed(2);
}

/** A proposed answer as text: a class name, or a multi-label list joined ("(none)" if empty). */
export function formatValue(value) {
  value = classesOf(value); // a class given with frame attributes shows as its class
  if (Array.isArray(value)) return value.length ? value.join(", ") : "(none)";
  if (Array.isArray(value?.annotations)) return `${value.annotations.length} box${value.annotations.length === 1 ? "" : "es"}`;
  return value === null || value === undefined ? "" : String(value);
}

/** True when two answers are the same class, or the same set of classes (multi-label). */
export function sameValue(a, b) {
  a = classesOf(a);
  b = classesOf(b);
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    const set = new Set(a);
    return b.every((v) => set.has(v));
  }
  return a !== null && a !== undefined && a === b;
}

/** "1 item", "3 items". */
export function items(n) {
  return `${n} item${n === 1 ? "" : "s"}`;
}
