// The boxes of one image being edited: pure logic, no DOM, tested with `node --test`.
//
// Boxes are GT's `{class_id, left, top, width, height}` in whole original pixels and always lie
// inside the image. Every edit (draw, move, resize, delete, duplicate, class change, nudge,
// accepting a proposal) is one undo step; a drag is one step however many pointer moves it took.
//
// Proposed boxes (a model's or a pre-annotation's) carry `proposed: true`, their `score` and
// `origin` (their index among the image's proposals). Any edit of one, or accepting it (a click,
// or `a` on the selected box), makes it the person's (`proposed: false`); Enter takes every box,
// proposed or not. `actions()` compares the boxes with the proposals they started from.

import { OBJECT_KEY as ATTRIBUTES } from "./attributes.js";

export const HANDLES = ["nw", "n", "ne", "e", "se", "s", "sw", "w"];

export class BoxEditor {
  /**
   * @param {number} width   original image width
   * @param {number} height  original image height
   * @param {Array} boxes    starting boxes (copied)
   */
  constructor(width, height, boxes = [], proposals = []) {
    this.width = width;
    this.height = height;
    this.proposals = this._proposed(proposals);
    this.boxes = [...boxes.map((b) => this.clampBox({ ...b })), ...this.proposals.map((b) => ({ ...b }))];
    this.selected = -1;
    this.done = []; // snapshots before each edit
    this.undone = []; // snapshots for redo
    this.drag = null;
  }

  get edited() {
    return this.done.length > 0;
  }

  _proposed(proposals) {
    return proposals.map((b, origin) => ({ ...this.clampBox(b), proposed: true, score: b.score ?? null, origin }));
  }

  /**
   * A new auto-labeling round's proposals for this image: they replace the old ones, unless the
   * person has started on it (an edit, even one undone since, or a drag under way), whose work
   * stays as it is. Returns whether the boxes changed.
   */
  renewProposals(proposals) {
    if (this.done.length || this.undone.length || this.drag) return false;
    this.proposals = this._proposed(proposals);
    this.boxes = [...this.boxes.filter((b) => b.origin === undefined), ...this.proposals.map((b) => ({ ...b }))];
    this.selected = -1;
    return true;
  }

  _snapshot() {
    return { boxes: this.boxes.map((b) => ({ ...b })), selected: this.selected };
  }

  _record() {
    this.done.push(this._snapshot());
    this.undone = [];
  }

  /** Undo the latest edit; false when there is none. */
  undo() {
    const snap = this.done.pop();
    if (!snap) return false;
    this.undone.push(this._snapshot());
    this.boxes = snap.boxes;
    this.selected = snap.selected;
    return true;
  }

  redo() {
    const snap = this.undone.pop();
    if (!snap) return false;
    this.done.push(this._snapshot());
    this.boxes = snap.boxes;
    this.selected = snap.selected;
    return true;
  }

  /** A box with whole-pixel edges, inside the image, at least one pixel wide and high. */
  clampBox(b) {
    let x0 = clampInt(b.left, 0, this.width - 1);
    let y0 = clampInt(b.top, 0, this.height - 1);
    let x1 = clampInt(b.left + b.width, x0 + 1, this.width);
    let y1 = clampInt(b.top + b.height, y0 + 1, this.height);
    if (x1 <= x0) x1 = x0 + 1;
    if (y1 <= y0) y1 = y0 + 1;
    const out = { class_id: b.class_id, left: x0, top: y0, width: x1 - x0, height: y1 - y0 };
    if (b[ATTRIBUTES]) out[ATTRIBUTES] = { ...b[ATTRIBUTES] };
    return b.origin === undefined ? out : { ...out, proposed: b.proposed, score: b.score, origin: b.origin };
  }

  /** The boxes as GT's label object annotations (no proposal marks), with their attributes. */
  get answer() {
    return this.boxes.map(({ class_id, left, top, width, height, [ATTRIBUTES]: attrs }) =>
      attrs ? { class_id, left, top, width, height, [ATTRIBUTES]: attrs } : { class_id, left, top, width, height },
    );
  }

  /** Set the selected box's attribute values (null: none); false when none is selected or
   * nothing changes. An edit like any other: undone with z, and a proposal becomes the person's. */
  setAttributes(values) {
    const b = this.boxes[this.selected];
    if (!b || JSON.stringify(b[ATTRIBUTES] ?? null) === JSON.stringify(values ?? null)) return false;
    this._record();
    const { [ATTRIBUTES]: _old, ...rest } = b;
    this.boxes[this.selected] = own(values ? { ...rest, [ATTRIBUTES]: { ...values } } : rest);
    return true;
  }

  /** How many proposed boxes are still waiting to be accepted, edited or deleted. */
  get waiting() {
    return this.boxes.filter((b) => b.proposed).length;
  }

  /**
   * What the person did to the proposals: `{accepted, adjusted, deleted, added}` counts, or
   * null when the image had none. A proposal taken unchanged (by Enter, a click or `a`) is
   * accepted; changed in any way, adjusted; gone, deleted; a box not from a proposal is added.
   */
  actions() {
    if (!this.proposals.length) return null;
    const counts = { accepted: 0, adjusted: 0, deleted: 0, added: 0 };
    const kept = new Set();
    for (const b of this.boxes) {
      if (b.origin === undefined) counts.added += 1;
      else {
        kept.add(b.origin);
        counts[sameBox(b, this.proposals[b.origin]) ? "accepted" : "adjusted"] += 1;
      }
    }
    counts.deleted = this.proposals.length - kept.size;
    return counts;
  }

  /** Make the proposed box at `index` the person's, unchanged; false when it is not proposed. */
  accept(index = this.selected) {
    const b = this.boxes[index];
    if (!b?.proposed) return false;
    this._record();
    this.boxes[index] = { ...b, proposed: false };
    this.selected = index;
    return true;
  }

  /** A box from two corner points (original pixels, any order), rounded and clamped. */
  boxFromPoints(a, b, classId) {
    const x0 = clampInt(Math.min(a.x, b.x), 0, this.width);
    const y0 = clampInt(Math.min(a.y, b.y), 0, this.height);
    const x1 = clampInt(Math.max(a.x, b.x), 0, this.width);
    const y1 = clampInt(Math.max(a.y, b.y), 0, this.height);
    return { class_id: classId, left: x0, top: y0, width: x1 - x0, height: y1 - y0 };
  }

  /**
   * What is under an image point: `{index, handle}` (handle: one of HANDLES, or "move" inside),
   * or null. `tol` is the grab distance in original pixels. The selected box wins, then the
   * smallest box, so a box inside another can still be picked.
   */
  hit(p, tol) {
    const order = this.boxes.map((_, i) => i).sort((a, b) => area(this.boxes[a]) - area(this.boxes[b]));
    if (this.selected >= 0) order.unshift(this.selected);
    for (const i of order) {
      const handle = handleAt(this.boxes[i], p, tol);
      if (handle) return { index: i, handle };
    }
    for (const i of order) {
      const b = this.boxes[i];
      if (p.x >= b.left && p.x <= b.left + b.width && p.y >= b.top && p.y <= b.top + b.height) {
        return { index: i, handle: "move" };
      }
    }
    return null;
  }

  // -- drags ----------------------------------------------------------------------------------

  /** Start drawing a new box at `p`. */
  beginDraw(p, classId) {
    this.drag = { kind: "draw", start: p, end: p, classId };
  }

  /** Start moving or resizing box `index` (`handle` from `hit`). */
  beginEdit(index, handle, p) {
    this.selected = index;
    this.drag = { kind: handle === "move" ? "move" : "resize", handle, index, start: p, box: { ...this.boxes[index] } };
  }

  /** Update the drag to the pointer at `p`. */
  dragTo(p) {
    const d = this.drag;
    if (!d) return;
    if (d.kind === "draw") {
      d.end = p;
    } else if (d.kind === "move") {
      const dx = Math.round(p.x - d.start.x);
      const dy = Math.round(p.y - d.start.y);
      this.boxes[d.index] = own(this._shift(d.box, dx, dy));
    } else {
      this.boxes[d.index] = own(this._resize(d.box, d.handle, p));
    }
  }

  /** The box being drawn (for display), or null. */
  get pending() {
    const d = this.drag;
    return d && d.kind === "draw" ? this.boxFromPoints(d.start, d.end, d.classId) : null;
  }

  /**
   * Finish the drag. A drawn box smaller than `minSize` original pixels is dropped (a click);
   * returns true when an edit was recorded.
   */
  endDrag(minSize = 1) {
    const d = this.drag;
    this.drag = null;
    if (!d) return false;
    if (d.kind === "draw") {
      const box = this.boxFromPoints(d.start, d.end, d.classId);
      if (box.width < minSize || box.height < minSize || box.width < 1 || box.height < 1) return false;
      this._record();
      this.boxes.push(box);
      this.selected = this.boxes.length - 1;
      return true;
    }
    const now = this.boxes[d.index];
    if (sameBox(now, d.box)) {
      this.boxes[d.index] = d.box; // a click, not an edit: the box stays as it was (proposed or not)
      return false;
    }
    // Record the state before the drag as the undo step.
    this.boxes[d.index] = d.box;
    this._record();
    this.boxes[d.index] = now;
    return true;
  }

  /** Abandon a drag, restoring the box. */
  cancelDrag() {
    const d = this.drag;
    this.drag = null;
    if (d && d.kind !== "draw") this.boxes[d.index] = d.box;
  }

  _shift(b, dx, dy) {
    const left = clampInt(b.left + dx, 0, this.width - b.width);
    const top = clampInt(b.top + dy, 0, this.height - b.height);
    return { ...b, left, top };
  }

  _resize(b, handle, p) {
    let x0 = b.left;
    let y0 = b.top;
    let x1 = b.left + b.width;
    let y1 = b.top + b.height;
    const x = clampInt(p.x, 0, this.width);
    const y = clampInt(p.y, 0, this.height);
    if (handle.includes("w")) x0 = x;
    if (handle.includes("e")) x1 = x;
    if (handle.includes("n")) y0 = y;
    if (handle.includes("s")) y1 = y;
    // Dragging an edge past the opposite one flips the box rather than collapsing it.
    const left = Math.min(x0, x1);
    const top = Math.min(y0, y1);
    return {
      ...b,
      left,
      top,
      width: Math.max(1, Math.abs(x1 - x0)),
      height: Math.max(1, Math.abs(y1 - y0)),
    };
  }

  // -- one-step edits -------------------------------------------------------------------------

  select(index) {
    this.selected = index >= 0 && index < this.boxes.length ? index : -1;
  }

  /** Select the next (step 1) or previous (-1) box, wrapping; false when there are none. */
  cycle(step) {
    const n = this.boxes.length;
    if (!n) return false;
    this.selected = this.selected < 0 ? (step > 0 ? 0 : n - 1) : (this.selected + step + n) % n;
    return true;
  }

  setClass(classId) {
    const b = this.boxes[this.selected];
    if (!b || b.class_id === classId) return false;
    this._record();
    this.boxes[this.selected] = own({ ...b, class_id: classId });
    return true;
  }

  nudge(dx, dy) {
    const b = this.boxes[this.selected];
    if (!b) return false;
    const moved = this._shift(b, dx, dy);
    if (sameBox(moved, b)) return false;
    this._record();
    this.boxes[this.selected] = own(moved);
    return true;
  }

  remove() {
    if (!this.boxes[this.selected]) return false;
    this._record();
    this.boxes.splice(this.selected, 1);
    this.selected = this.boxes.length ? Math.min(this.selected, this.boxes.length - 1) : -1;
    return true;
  }

  /** Copy the selected box, offset by `offset` pixels (kept inside the image), and select it. */
  duplicate(offset = 10) {
    const b = this.boxes[this.selected];
    if (!b) return false;
    this._record();
    const { proposed: _p, score: _s, origin: _o, ...copy } = this._shift(b, offset, offset);
    this.boxes.push(copy); // a new box of the person's, not a proposal
    this.selected = this.boxes.length - 1;
    return true;
  }
}

export function clampInt(v, lo, hi) {
  const r = Math.round(v);
  return r < lo ? lo : r > hi ? hi : r;
}

/** A box the person has edited: no longer a proposal (its origin kept, to count it adjusted). */
function own(b) {
  return b.proposed ? { ...b, proposed: false } : b;
}

function area(b) {
  return b.width * b.height;
}

function sameBox(a, b) {
  return a.left === b.left && a.top === b.top && a.width === b.width && a.height === b.height && a.class_id === b.class_id;
}

/** The handle of box `b` within `tol` of point `p`, or null. Corners win over edges. */
export function handleAt(b, p, tol) {
  const x0 = b.left;
  const y0 = b.top;
  const x1 = b.left + b.width;
  const y1 = b.top + b.height;
  const nearX0 = Math.abs(p.x - x0) <= tol;
  const nearX1 = Math.abs(p.x - x1) <= tol;
  const nearY0 = Math.abs(p.y - y0) <= tol;
  const nearY1 = Math.abs(p.y - y1) <= tol;
  const inX = p.x >= x0 - tol && p.x <= x1 + tol;
  const inY = p.y >= y0 - tol && p.y <= y1 + tol;
  if (nearX0 && nearY0) return "nw";
  if (nearX1 && nearY0) return "ne";
  if (nearX1 && nearY1) return "se";
  if (nearX0 && nearY1) return "sw";
  if (nearY0 && inX) return "n";
  if (nearY1 && inX) return "s";
  if (nearX0 && inY) return "w";
  if (nearX1 && inY) return "e";
  return null;
}

/** The screen positions of a box's eight handles, given a transform to screen. */
export function handlePoints(b, toScreen) {
  const a = toScreen(b.left, b.top);
  const c = toScreen(b.left + b.width, b.top + b.height);
  const mx = (a.x + c.x) / 2;
  const my = (a.y + c.y) / 2;
  return [
    [a.x, a.y],
    [mx, a.y],
    [c.x, a.y],
    [c.x, my],
    [c.x, c.y],
    [mx, c.y],
    [a.x, c.y],
    [a.x, my],
  ];
}

/**
 * The box widget's keyboard map: the intent of a keydown, or null to leave the key alone.
 * Zoom and pan keys (+, -, f, space) belong to the stage and are not mapped here.
 */
export function boxIntentForKey(event, nClasses) {
  if (event.ctrlKey || event.metaKey || event.altKey) return null;
  const digit = "1234567890".indexOf(event.key);
  if (digit !== -1 && event.key.length === 1) return digit < nClasses ? { type: "class", index: digit } : null;
  const step = event.shiftKey ? 10 : 1;
  switch (event.key) {
    case "Enter":
      return { type: "submit" };
    case "s":
    case "S":
      return { type: "skip" };
    case "z":
    case "Backspace":
      return { type: "undo" };
    case "Z":
      return event.shiftKey ? { type: "redo" } : { type: "undo" };
    case "Tab":
      return { type: "cycle", step: event.shiftKey ? -1 : 1 };
    case "Delete":
      return { type: "delete" };
    case "a":
    case "A":
      return { type: "accept" };
    case "d":
    case "D":
      return { type: "duplicate" };
    case "Escape":
      return { type: "deselect" };
    case "ArrowLeft":
      return { type: "arrow", dx: -step, dy: 0 };
    case "ArrowRight":
      return { type: "arrow", dx: step, dy: 0 };
    case "ArrowUp":
      return { type: "arrow", dx: 0, dy: -step };
    case "ArrowDown":
      return { type: "arrow", dx: 0, dy: step };
    default:
      return null;
  }
}
