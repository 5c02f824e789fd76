// The document of the entity widget, as DOM: its text in blocks, its entities as <mark>s, and the
// two document elements that take turns on screen.
//
// The text is cut into blocks of about BLOCK characters, each ending after a line break (never
// inside an entity), so an edit rebuilds and repaints one small block, and blocks off screen
// are not laid out at all (content-visibility). Entities may overlap and nest, so a block is cut
// into `pieces` wherever an entity starts or ends: {start, end, node, entities, marks, block},
// the text node wrapped in one <mark> per entity covering it (outer first, `marks[i]` for
// `entities[i]`). `byNode` finds the piece of a text node or mark and the block of a block
// element; `entityOf` the entity of a mark. A text without line breaks is one block. Text is
// only ever set as text nodes, never parsed as HTML; offsets here are UTF-16 units.
//
// Two document elements take turns (`Documents`): while one is on screen, the document that Enter
// or s would show next is built in the other (hidden, laid out in the same place) when the page
// is idle, so moving on only swaps them.
import { OBJECT_KEY } from "./attributes.js";
import { afterPaint, h, idleOnce, TakingTurns } from "./dom.js";
import { OffsetIndex } from "./offsets.js";
import { SpanDoc } from "./spans.js";
import { snapToWords, trimSpaces } from "./tokens.js";

const BLOCK = 2000; // characters per block of text
const FIRST_BLOCKS = 3; // blocks painted with the text, before the rest

/** One item's document: its text, entities (a SpanDoc) and block elements. */
export class DocView {
  /**
   * @param {object} item the item payload (`key`, `text`, `proposal`)
   * @param {Array|null} value the answer to show (code point offsets), null: the proposal's
   * @param {{labels: string[], colourOf: Map, isSelected: (entity) => boolean}} style
   */
  constructor(item, value, { labels, colourOf, isSelected }) {
    const index = new OffsetIndex(item.text ?? "");
    const given = value ?? item.proposal?.value ?? [];
    const proposed = value === null || value === undefined;
    const entities = [];
    for (const e of given) {
      if (!labels.includes(e.label) || e.endOffset > index.length) continue;
      entities.push({
        start: index.toUtf16(e.startOffset),
        end: index.toUtf16(e.endOffset),
        label: e.label,
        proposed: proposed && Boolean(item.proposal),
        confidence: e.confidence,
        attrs: e[OBJECT_KEY] ?? null,
      });
    }
    this.key = item.key;
    this.text = index.text;
    this.index = index;
    const seen = new Set();
    this.spans = new SpanDoc(
      entities.filter((e) => {
        const id = `${e.start}:${e.end}:${e.label}`; // the same entity twice is shown once
        return !seen.has(id) && seen.add(id);
      }),
    );
    this.tokens = null; // made on the first cursor move (lib/tokens.js)
    this.colourOf = colourOf;
    this.isSelected = isSelected;
    // What the view was built from: a prepared view is used only while these are unchanged.
    this.source = { item, value, proposal: item.proposal };
    this.buildBlocks();
  }

  /** True while the view shows `item` with answer `value` as they are now. */
  isFresh(item, value) {
    const { source } = this;
    return this.key === item.key && source.item === item && source.value === value && source.proposal === item.proposal;
  }

  buildBlocks() {
    this.pieces = [];
    this.byNode = new Map();
    this.entityOf = new Map();
    this.blocks = [];
    let start = 0;
    for (const end of this._blockEnds()) {
      this.blocks.push(this._buildBlock(start, end));
      start = end;
    }
    this._sortPieces();
  }

  _blockEnds() {
    const { text: content, spans } = this;
    const ends = [];
    let from = 0;
    // The end of the outermost entity covering offset u (null: none covers it).
    const coverEnd = (u) => spans.overlapping(u, u + 1).reduce((end, e) => Math.max(end ?? 0, e.end), null);
    while (from < content.length) {
      let cut = content.indexOf("\n", from + BLOCK);
      // Never inside an entity: move on to the first line break after it.
      for (let end = cut === -1 ? null : coverEnd(cut); end !== null; end = coverEnd(cut)) {
        cut = content.indexOf("\n", end);
        if (cut === -1) break;
      }
      if (cut === -1 || cut + 1 >= content.length) break;
      ends.push(cut + 1);
      from = cut + 1;
    }
    ends.push(content.length);
    return ends;
  }

  /** A block element for [start, end): its text cut where entities start and end, in marks. */
  _buildBlock(start, end) {
    const el = h("div", { class: "nbl-block" });
    const block = { start, end, el };
    this.byNode.set(el, block);
    const entities = this.spans.overlapping(start, end);
    const cuts = new Set([start, end]);
    for (const e of entities) {
      if (e.start > start) cuts.add(e.start);
      if (e.end < end) cuts.add(e.end);
    }
    const bounds = [...cuts].sort((x, y) => x - y);
    const made = [];
    // How many entities each one holds at its deepest: its underline sits that far below the
    // text, so stacked entities show as stacked lines.
    const inner = new Map(entities.map((e) => [e, 0]));
    for (let i = 0; i + 1 < bounds.length; i += 1) {
      const [a, b] = [bounds[i], bounds[i + 1]];
      const covering = entities.filter((e) => e.start <= a && b <= e.end);
      covering.forEach((e, k) => inner.set(e, Math.max(inner.get(e), covering.length - 1 - k)));
      made.push(this._piece(a, b, covering, block));
    }
    if (!made.length) made.push(this._piece(start, end, [], block)); // an empty text: one empty node
    for (const piece of made) {
      piece.marks.forEach((mark, k) => mark.style.setProperty("--nbl-inner", String(inner.get(piece.entities[k]))));
    }
    el.append(...made.map((p) => p.marks[0] ?? p.node));
    return el;
  }

  /** A piece of text [start, end) inside the marks of `entities` (outer first). */
  _piece(start, end, entities, block) {
    const node = document.createTextNode(this.text.slice(start, end));
    const piece = { start, end, node, entities, marks: [], block };
    this.pieces.push(piece);
    this.byNode.set(node, piece);
    let child = node;
    for (let k = entities.length - 1; k >= 0; k -= 1) {
      const mark = h("mark", { class: "nbl-ent", "data-testid": "nbl-entity" });
      mark.append(child);
      piece.marks.unshift(mark);
      this.byNode.set(mark, piece);
      this.entityOf.set(mark, entities[k]);
      this._dress(mark, entities[k], end === entities[k].end);
      child = mark;
    }
    return piece;
  }

  /** Label, colour and selection of one mark of `entity`; `last`: the mark ending the entity,
   * which shows its label. */
  _dress(mark, entity, last = !mark.classList.contains("nbl-cont")) {
    mark.dataset.label = entity.label;
    mark.dataset.c = String(this.colourOf.get(entity.label));
    mark.dataset.start = String(this.index.toCodePoint(entity.start));
    mark.dataset.end = String(this.index.toCodePoint(entity.end, "up"));
    mark.classList.toggle("nbl-cont", !last);
    mark.classList.toggle("nbl-proposed", Boolean(entity.proposed));
    mark.classList.toggle("nbl-selected", this.isSelected(entity));
    const conf =
      entity.proposed && entity.confidence !== undefined ? ` · proposed, ${Math.round(entity.confidence * 100)}%` : "";
    mark.title = `${entity.label}${conf} · click to relabel or remove`;
  }

  _sortPieces() {
    this.pieces.sort((a, b) => a.start - b.start);
  }

  /** The marks showing `entity`, in text order. */
  marksOf(entity) {
    const out = [];
    for (const p of this.pieces) {
      const k = p.entities.indexOf(entity);
      if (k !== -1) out.push(p.marks[k]);
    }
    return out;
  }

  /** Paint a new entity: the block(s) it lies in are built again (only those change). */
  paintAdd(entity) {
    this._rebuild(entity.start, entity.end);
  }

  /** Unpaint an entity: the block(s) it lay in are built again. */
  paintRemove(entity) {
    this._rebuild(entity.start, entity.end);
  }

  /** Build the blocks over [start, end) again, as one block when there are several (an entity
   * across a block boundary, from a selection over several lines). */
  _rebuild(start, end) {
    const blocks = this.blocks
      .map((el) => this.byNode.get(el))
      .filter((b) => b.end > start && b.start < Math.max(end, start + 1));
    if (!blocks.length) return;
    const first = blocks[0];
    const last = blocks[blocks.length - 1];
    this.pieces = this.pieces.filter((p) => {
      if (!blocks.includes(p.block)) return true;
      this.byNode.delete(p.node);
      for (const mark of p.marks) {
        this.byNode.delete(mark);
        this.entityOf.delete(mark);
      }
      return false;
    });
    for (const b of blocks) this.byNode.delete(b.el);
    const rebuilt = this._buildBlock(first.start, last.end);
    const at = this.blocks.indexOf(first.el);
    this.blocks.splice(at, blocks.length, rebuilt);
    first.el.replaceWith(rebuilt);
    for (const b of blocks.slice(1)) b.el.remove();
    this._sortPieces();
  }

  /** Repaint an entity's label, colour and selection. */
  paintLabel(entity) {
    for (const mark of this.marksOf(entity)) this._dress(mark, entity);
  }

  /** Paint an edit of the SpanDoc (`undone`: it was taken back). */
  paintEdit(edit) {
    if (!edit) return;
    const adding = (edit.op === "add") === !edit.undone;
    if (edit.op === "relabel" || edit.op === "attrs") this.paintLabel(edit.entity);
    else if (adding) this.paintAdd(edit.entity);
    else this.paintRemove(edit.entity);
  }

  /** The UTF-16 offset in the document of a DOM point, clamped to the document `host`. */
  offsetOf(node, offset, host) {
    if (!host.contains(node)) {
      const range = document.createRange();
      range.selectNodeContents(host);
      return range.comparePoint(node, offset) < 0 ? 0 : this.text.length;
    }
    if (node.nodeType === Node.TEXT_NODE) return (this.byNode.get(node)?.start ?? 0) + offset;
    const piece = this.byNode.get(node);
    if (piece?.marks?.includes(node)) return offset === 0 ? piece.start : piece.end;
    // The document or a block element: the point is before its child number `offset`.
    const child = node.childNodes[offset];
    if (child) return this.byNode.get(child)?.start ?? 0;
    return node === host ? this.text.length : piece?.end ?? this.text.length;
  }

  /** The DOM point [text node, offset] of UTF-16 offset `u`, or null. */
  locate(u) {
    for (const p of this.pieces) if (p.start <= u && u <= p.end) return [p.node, u - p.start];
    return null;
  }

  /** Select [start, end) in the page (the browser's selection shows the span being labeled). */
  selectRange(start, end) {
    const a = this.locate(start);
    const b = this.locate(end);
    const selection = document.getSelection();
    if (!a || !b || !selection) return;
    selection.setBaseAndExtent(a[0], a[1], b[0], b[1]);
  }

  /** Scroll document `host` so that offset `u` is in view, a third down, when it is not. */
  scrollTo(u, host) {
    const at = this.locate(u);
    if (!at) return;
    const range = document.createRange();
    range.setStart(at[0], at[1]);
    const box = range.getBoundingClientRect();
    const frame = host.getBoundingClientRect();
    if (box.top < frame.top || box.bottom > frame.bottom) host.scrollTop += box.top - frame.top - frame.height / 3;
  }

  /**
   * The span [start, end) a selection `range` in document `host` asks for, on whole characters:
   * snapped to whole words, or (`exact`) only trimmed of spaces. Null when it holds no word.
   */
  spanOf(range, host, exact) {
    const start = this.offsetOf(range.startContainer, range.startOffset, host);
    const end = this.offsetOf(range.endContainer, range.endOffset, host);
    const span = exact ? trimSpaces(this.text, start, end) : snapToWords(this.text, start, end);
    return span && [this.index.snap(span[0], "down"), this.index.snap(span[1], "up")];
  }

  /** The text of [start, end), cut to 40 characters. */
  excerpt(start, end) {
    const s = this.text.slice(start, end);
    return s.length > 40 ? `${s.slice(0, 37)}…` : s;
  }
}

/**
 * The two document elements: `text` on screen, `spare` where the next document is prepared.
 * `make(item, value)` builds a DocView.
 */
export class Documents {
  constructor(make) {
    this.make = make;
    this.pair = new TakingTurns(() => h("div", { class: "nbl-doc", "aria-label": "text to label" }), "nbl-doc");
    this.shown = null; // the view on screen
    this.ready = null; // the next document's view, prepared in `spare`
    this.scrolled = false; // the document on screen is scrolled down
    this._next = () => null;
    this._prepareSoon = idleOnce(() => this._prepare());
    for (const el of [this.text, this.spare]) {
      el.addEventListener(
        "scroll",
        (event) => {
          if (event.currentTarget === this.text) this.scrolled = this.text.scrollTop > 0;
        },
        { passive: true },
      );
    }
  }

  /** The document element on screen. */
  get text() {
    return this.pair.shown;
  }

  /** The document element where the next document is prepared. */
  get spare() {
    return this.pair.spare;
  }

  /** Show `item` with answer `value` on screen; returns its view. */
  open(item, value) {
    if (this.ready?.isFresh(item, value)) {
      this.shown = this.ready;
      this.ready = null;
      this._swap();
      return this.shown;
    }
    const view = this.make(item, value);
    this.shown = view;
    // The first blocks fill the visible part; the rest join the page right after it is painted,
    // so a long text appears in the frame after the key press.
    const { blocks } = view;
    const text = this.text;
    text.replaceChildren(...blocks.slice(0, FIRST_BLOCKS));
    if (blocks.length > FIRST_BLOCKS) {
      afterPaint().then(() => {
        if (this.shown === view) text.append(...blocks.slice(FIRST_BLOCKS)); // unless another came meanwhile
      });
    }
    this.text.hidden = false;
    if (this.scrolled) {
      this.text.scrollTop = 0;
      this.scrolled = false;
    }
    return view;
  }

  /** Clear the page's selection if it lies in the document on screen. */
  clearSelection() {
    const selection = document.getSelection();
    if (selection && selection.rangeCount && this.text.contains(selection.anchorNode)) selection.removeAllRanges();
  }

  /** No document on screen. */
  clear() {
    this.shown = null;
    this.text.replaceChildren();
    this.text.hidden = true;
  }

  /** The prepared document comes on screen; the one that was there becomes the spare. */
  _swap() {
    this.pair.swap();
    this.scrolled = false; // the prepared document starts at its top
  }

  /** Build the document `next()` names (`{item, value}` or null) in the spare, once the page is idle. */
  prepareSoon(next) {
    this._next = next;
    this._prepareSoon();
  }

  _prepare() {
    const upcoming = this._next();
    if (!upcoming || upcoming.item.error || this.ready?.isFresh(upcoming.item, upcoming.value)) return;
    this.ready = this.make(upcoming.item, upcoming.value);
    this.spare.replaceChildren(...this.ready.blocks);
    this.pair.prepared(upcoming.item.key);
  }
}
