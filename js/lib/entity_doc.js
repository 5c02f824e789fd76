// The document of the entity widget, as DOM: its text in blocks, its entities as <mark>s, and the
// two document elements that take turns on screen.
//
// The text is cut into blocks of about BLOCK characters, each ending after a line break (never
// inside an entity), so an edit re-lays out and repaints one small block, and blocks off screen
// are not laid out at all (content-visibility). Each block holds `pieces`: plain text nodes and
// entity marks, {start, end, node, mark, entity, block}; `byNode` finds the piece of a text node
// or mark and the block of a block element. A text without line breaks is one block. Text is
// only ever set as text nodes, never parsed as HTML; offsets here are UTF-16 units.
//
// Two document elements take turns (`Documents`): while one is on screen, the document that Enter
// or s would show next is built in the other (hidden, laid out in the same place) when the page
// is idle, so moving on only swaps them.
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
      });
    }
    entities.sort((a, b) => a.start - b.start);
    this.key = item.key;
    this.text = index.text;
    this.index = index;
    this.spans = new SpanDoc(entities.filter((e, i) => i === 0 || e.start >= entities[i - 1].end));
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
    while (from < content.length) {
      let cut = content.indexOf("\n", from + BLOCK);
      // Never inside an entity: move on to the first line break after it.
      for (let inside = cut === -1 ? null : spans.around(cut, cut + 1); inside; inside = spans.around(cut, cut + 1)) {
        cut = content.indexOf("\n", inside.end);
        if (cut === -1) break;
      }
      if (cut === -1 || cut + 1 >= content.length) break;
      ends.push(cut + 1);
      from = cut + 1;
    }
    ends.push(content.length);
    return ends;
  }

  /** A block element for [start, end) with its plain text and entities. */
  _buildBlock(start, end) {
    const el = h("div", { class: "nbl-block" });
    const block = { start, end, el };
    this.byNode.set(el, block);
    let at = start;
    for (const entity of this.spans.overlapping(start, end)) {
      if (entity.start > at) el.append(this._plainPiece(at, entity.start, block));
      el.append(this._markPiece(entity, block));
      at = entity.end;
    }
    if (at < end || !el.childNodes.length) el.append(this._plainPiece(at, end, block));
    return el;
  }

  _plainPiece(start, end, block, node = document.createTextNode(this.text.slice(start, end))) {
    const piece = { start, end, node, mark: null, entity: null, block };
    this.pieces.push(piece);
    this.byNode.set(node, piece);
    return node;
  }

  _markPiece(entity, block, node = document.createTextNode(this.text.slice(entity.start, entity.end))) {
    const mark = h("mark", { class: "nbl-ent", "data-testid": "nbl-entity" });
    mark.append(node);
    const piece = { start: entity.start, end: entity.end, node, mark, entity, block };
    this._dress(piece);
    this.pieces.push(piece);
    this.byNode.set(node, piece);
    this.byNode.set(mark, piece);
    return mark;
  }

  _dress(piece) {
    const { mark, entity } = piece;
    mark.dataset.label = entity.label;
    mark.dataset.c = String(this.colourOf.get(entity.label));
    mark.dataset.start = String(this.index.toCodePoint(entity.start));
    mark.dataset.end = String(this.index.toCodePoint(entity.end, "up"));
    mark.classList.toggle("nbl-proposed", Boolean(entity.proposed));
    mark.classList.toggle("nbl-selected", this.isSelected(entity));
    const conf =
      entity.proposed && entity.confidence !== undefined ? ` · proposed, ${Math.round(entity.confidence * 100)}%` : "";
    mark.title = `${entity.label}${conf} · click to relabel or remove`;
  }

  _sortPieces() {
    this.pieces.sort((a, b) => a.start - b.start);
  }

  /** Paint a new entity: split the plain text node it lies in (only that block changes). */
  paintAdd(entity) {
    const piece = this.pieces.find((p) => !p.entity && p.start <= entity.start && entity.end <= p.end);
    if (!piece) return this._mergeBlocks(entity.start, entity.end);
    const { node, block } = piece;
    let middle = node;
    if (entity.start > piece.start) middle = node.splitText(entity.start - piece.start);
    const after = entity.end < piece.end ? middle.splitText(entity.end - entity.start) : null;
    const marker = document.createComment("");
    middle.replaceWith(marker);
    this.byNode.delete(node);
    this.pieces.splice(this.pieces.indexOf(piece), 1);
    if (middle !== node) this._plainPiece(piece.start, entity.start, block, node);
    marker.replaceWith(this._markPiece(entity, block, middle));
    if (after) this._plainPiece(entity.end, piece.end, block, after);
    this._sortPieces();
  }

  /** An entity across a block boundary (a selection over several lines): one block for both. */
  _mergeBlocks(start, end) {
    const blocks = this.blocks.map((el) => this.byNode.get(el)).filter((b) => b.end > start && b.start < end);
    const first = blocks[0];
    const last = blocks[blocks.length - 1];
    this.pieces = this.pieces.filter((p) => !blocks.includes(p.block));
    for (const b of blocks) this.byNode.delete(b.el);
    const merged = this._buildBlock(first.start, last.end);
    const at = this.blocks.indexOf(first.el);
    this.blocks.splice(at, blocks.length, merged);
    first.el.replaceWith(merged);
    for (const b of blocks.slice(1)) b.el.remove();
    this._sortPieces();
  }

  /** Unpaint an entity: its text joins the plain text around it in its block. `host` is the
   * document element, repainted whole if the entity is not found. */
  paintRemove(entity, host) {
    const i = this.pieces.findIndex((p) => p.entity === entity);
    if (i === -1) {
      // Not painted (cannot happen unless the DOM was changed from outside): paint it all again.
      this.buildBlocks();
      host.replaceChildren(...this.blocks);
      return;
    }
    const piece = this.pieces[i];
    const plain = (p) => p && !p.entity && p.block === piece.block;
    const before = plain(this.pieces[i - 1]) ? this.pieces[i - 1] : null;
    const after = plain(this.pieces[i + 1]) ? this.pieces[i + 1] : null;
    const { node, mark } = piece;
    this.byNode.delete(mark);
    this.byNode.delete(node);
    this.pieces.splice(i, 1);
    if (before) {
      before.node.appendData(node.data + (after ? after.node.data : ""));
      before.end = after ? after.end : piece.end;
      mark.remove();
      if (after) this._dropPlain(after);
    } else if (after) {
      after.node.insertData(0, node.data);
      after.start = piece.start;
      mark.remove();
    } else {
      mark.replaceWith(node);
      this._plainPiece(piece.start, piece.end, piece.block, node);
      this._sortPieces();
    }
  }

  _dropPlain(piece) {
    piece.node.remove();
    this.byNode.delete(piece.node);
    this.pieces.splice(this.pieces.indexOf(piece), 1);
  }

  /** Repaint an entity's label, colour and selection. */
  paintLabel(entity) {
    const piece = this.pieces.find((p) => p.entity === entity);
    if (piece) this._dress(piece);
  }

  /** Paint an edit of the SpanDoc (`undone`: it was taken back). */
  paintEdit(edit, host) {
    if (!edit) return;
    const adding = (edit.op === "add") === !edit.undone;
    if (edit.op === "relabel") this.paintLabel(edit.entity);
    else if (adding) this.paintAdd(edit.entity);
    else this.paintRemove(edit.entity, host);
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
    if (piece?.mark === node) return offset === 0 ? piece.start : piece.end;
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
