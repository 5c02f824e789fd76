// The entities of the document on screen, in UTF-16 offsets, with undo and redo. Pure logic,
// no DOM: the widget paints what this says. Entities never overlap (adjacent ones are fine);
// `add` refuses an overlap and names the entity in the way.

import { lowerBound } from "./offsets.js";

export class SpanDoc {
  /**
   * @param {Array<{start: number, end: number, label: string, proposed?: boolean, confidence?: number}>} entities
   */
  constructor(entities = []) {
    this.ents = [...entities].sort((a, b) => a.start - b.start);
    this.past = []; // edits, for undo
    this.future = []; // undone edits, for redo
  }

  /** Index of the first entity ending after `u` (the one containing `u`, or the next). */
  _from(u) {
    // Entities are sorted and disjoint, so their ends are sorted too.
    let lo = 0;
    let hi = this.ents.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.ents[mid].end <= u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The entities overlapping [start, end). */
  overlapping(start, end) {
    const out = [];
    for (let i = this._from(start); i < this.ents.length && this.ents[i].start < end; i += 1) out.push(this.ents[i]);
    return out;
  }

  /** The entity containing the whole of [start, end), or null. */
  around(start, end) {
    const [first] = this.overlapping(start, end);
    return first && first.start <= start && end <= first.end ? first : null;
  }

  /** The entity covering offset u, or null. */
  at(u) {
    return this.around(u, u + 1);
  }

  /** Add an entity. Returns {ok: true, entity} or {ok: false, clash} (the entity in the way). */
  add(start, end, label) {
    const [clash] = this.overlapping(start, end);
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

  /** Take back the latest edit; returns it (for painting) or null. */
  undo() {
    const edit = this.past.pop();
    if (!edit) return null;
    if (edit.op === "add") this._delete(edit.entity);
    else if (edit.op === "remove") this._insert(edit.entity);
    else {
      edit.entity.label = edit.from;
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
      edit.entity.label = edit.to;
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
    const starts = this.ents.map((e) => e.start);
    this.ents.splice(lowerBound(starts, entity.start), 0, entity);
  }

  _delete(entity) {
    const i = this.ents.indexOf(entity);
    if (i !== -1) this.ents.splice(i, 1);
  }

  /** The answer: entities in code points, sorted, as the kernel stores them. */
  value(index) {
    return this.ents.map((e) => ({
      label: e.label,
      startOffset: index.toCodePoint(e.start, "down"),
      endOffset: index.toCodePoint(e.end, "up"),
    }));
  }
}
