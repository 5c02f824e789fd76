// The entities of the document on screen, in UTF-16 offsets, with undo and redo. Pure logic,
// no DOM: the widget paints what this says. Entities may overlap and nest, as in Ground Truth's
// tool; `add` refuses only the same label on the same range again and names it.

import { OBJECT_KEY } from "./attributes.js";
import { lowerBound } from "./offsets.js";

/** Order of entities: by start, the longer (outer) one first on the same start. */
const byStart = (a, b) => a.start - b.start || b.end - a.end;

export class SpanDoc {
  /**
   * @param {Array<{start: number, end: number, label: string, proposed?: boolean, confidence?: number}>} entities
   */
  constructor(entities = []) {
    this.ents = [...entities].sort(byStart);
    this.past = []; // edits, for undo
    this.future = []; // undone edits, for redo
  }

  /** The entities overlapping [start, end), in order (outer first on a shared start). */
  overlapping(start, end) {
    // Entities may nest, so ends are not sorted: scan those starting before `end`.
    const out = [];
    for (let i = 0; i < this.ents.length && this.ents[i].start < end; i += 1) {
      if (this.ents[i].end > start) out.push(this.ents[i]);
    }
    return out;
  }

  /** The innermost entity containing the whole of [start, end), or null. */
  around(start, end) {
    let best = null;
    for (const e of this.overlapping(start, end)) {
      if (e.start <= start && end <= e.end && (!best || e.end - e.start < best.end - best.start)) best = e;
    }
    return best;
  }

  /** The innermost entity covering offset u, or null. */
  at(u) {
    return this.around(u, u + 1);
  }

  /** The entity exactly on [start, end) (the innermost added first when several are), or null. */
  exactly(start, end) {
    return this.overlapping(start, end).find((e) => e.start === start && e.end === end) ?? null;
  }

  /**
   * The entities covering [start, end), innermost first, for choosing among stacked ones by
   * keyboard: the one after `current` in that order (the first when `current` is not among them).
   */
  nextAround(start, end, current) {
    const stack = this.overlapping(start, end)
      .filter((e) => e.start <= start && end <= e.end)
      .sort((a, b) => a.end - a.start - (b.end - b.start) || a.start - b.start);
    if (!stack.length) return null;
    return stack[(stack.indexOf(current) + 1) % stack.length];
  }

  /** Add an entity. Returns {ok: true, entity} or {ok: false, clash} (the same one, already there). */
  add(start, end, label) {
    const clash = this.overlapping(start, end).find((e) => e.start === start && e.end === end && e.label === label);
    if (clash) return { ok: false, clash };
    const entity = { start, end, label, proposed: false };
    this._insert(entity);
    this._did({ op: "add", entity });
    return { ok: true, entity };
  }

  remove(entity) {
    this._delete(entity);
    this._did({ op: "remove", entity });
  }

  relabel(entity, label) {
    if (entity.label === label && !entity.proposed) return;
    this._did({ op: "relabel", entity, from: entity.label, to: label, wasProposed: entity.proposed });
    entity.label = label;
    entity.proposed = false;
  }

  /** Set an entity's attribute values (null: none), as one edit. */
  setAttributes(entity, values) {
    if (JSON.stringify(entity.attrs ?? null) === JSON.stringify(values ?? null)) return false;
    this._did({ op: "attrs", entity, from: entity.attrs ?? null, to: values ?? null, wasProposed: entity.proposed });
    entity.attrs = values ?? null;
    entity.proposed = false;
    return true;
  }

  /** Take back the latest edit; returns it (for painting) or null. */
  undo() {
    const edit = this.past.pop();
    if (!edit) return null;
    if (edit.op === "add") this._delete(edit.entity);
    else if (edit.op === "remove") this._insert(edit.entity);
    else {
      edit.entity[edit.op === "attrs" ? "attrs" : "label"] = edit.from;
      edit.entity.proposed = edit.wasProposed;
    }
    this.future.push(edit);
    return edit;
  }

  /** Apply the latest undone edit again; returns it or null. */
  redo() {
    const edit = this.future.pop();
    if (!edit) return null;
    if (edit.op === "add") this._insert(edit.entity);
    else if (edit.op === "remove") this._delete(edit.entity);
    else {
      edit.entity[edit.op === "attrs" ? "attrs" : "label"] = edit.to;
      edit.entity.proposed = false;
    }
    this.past.push(edit);
    return edit;
  }

  _did(edit) {
    this.past.push(edit);
    this.future = [];
  }

  _insert(entity) {
    // Outer first on a shared start: after those longer, before those shorter.
    const keys = this.ents.map((e) => e.start * 2 ** 26 - e.end);
    this.ents.splice(lowerBound(keys, entity.start * 2 ** 26 - entity.end), 0, entity);
  }

  _delete(entity) {
    const i = this.ents.indexOf(entity);
    if (i !== -1) this.ents.splice(i, 1);
  }

  /** The answer: entities in code points, sorted, as the kernel stores them, with their
   * label category attributes. */
  value(index) {
    return this.ents.map((e) => {
      const out = { label: e.label, startOffset: index.toCodePoint(e.start, "down"), endOffset: index.toCodePoint(e.end, "up") };
      if (e.attrs) out[OBJECT_KEY] = { ...e.attrs };
      return out;
    });
  }
}
