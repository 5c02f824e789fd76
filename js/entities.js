// nblabel named-entity widget: mark spans of a text with labels, keyboard or mouse.
//
// The text is inserted as text nodes (never HTML) in a pre-wrap block, so spaces, TABs and line
// breaks show as they are. Entities are <mark> elements wrapped around the exact characters;
// adding, removing or relabeling one touches only the text node it lives in, so a 100 KB
// document stays responsive. The browser counts UTF-16 units; answers are converted to code
// points (lib/offsets.js) before they leave. Talking to the kernel is lib/channel.js.
import { Channel } from "./lib/channel.js";
import { actionButton, classButton, h, setText } from "./lib/dom.js";
import { Frame } from "./lib/frame.js";
import { uid } from "./lib/ids.js";
import { classKey } from "./lib/keys.js";
import { OffsetIndex } from "./lib/offsets.js";
import { LabelSession } from "./lib/session.js";
import { spanIntentForKey } from "./lib/spankeys.js";
import { SpanDoc } from "./lib/spans.js";
import { snapToWords, tokenize, trimSpaces } from "./lib/tokens.js";

const COLOURS = 10; // entities.css has this many label colours
const BLOCK = 2000; // characters per block of text (see makeView)
const FIRST_BLOCKS = 3; // blocks painted with the text, before the rest

function render({ model, el }) {
  const labels = model.get("labels");
  const colourOf = new Map(labels.map((label, i) => [label, i % COLOURS]));
  const session = new LabelSession();
  const frame = new Frame(model);
  const channel = new Channel(model, () => frame.showStatus());
  let view = null; // the document on screen: {key, text, index, spans, blocks, pieces, byNode, tokens}
  let ready = null; // the next document's view, prepared in `spare`
  let prepareQueued = false;
  let armed = null; // label index chosen before selecting
  let lastLabel = null; // for double clicks without a chosen label
  let pending = null; // [start, end) selected, waiting for a label key
  let cursor = null; // {anchor, focus} token indices of the keyboard cursor
  let selected = null; // the entity clicked (to relabel or remove)
  let pointer = null; // {alt} while a mouse selection is being made
  let textScrolled = false;
  const deferred = []; // answers waiting for the next paint to be sent

  // -- DOM ------------------------------------------------------------------------------------
  const chips = labels.map((label, index) =>
    classButton(label, index, {
      testid: `nbl-label-${index}`,
      className: "nbl-chip",
      dataset: { c: String(colourOf.get(label)) },
      onclick: () => act({ type: "label", index }),
    }),
  );
  const legend = h("div", { class: "nbl-legend", "data-testid": "nbl-legend" }, chips);
  const doc = () => h("div", { class: "nbl-doc", "aria-label": "text to label" });
  let text = doc(); // the document on screen
  let spare = doc(); // the next document, built ahead (see swapDocs)
  text.dataset.testid = "nbl-doc";
  spare.classList.add("nbl-spare");
  spare.setAttribute("aria-hidden", "true");
  const message = h("div", { class: "nbl-message", "data-testid": "nbl-message", hidden: true });
  const hint = h("div", { class: "nbl-hint", "data-testid": "nbl-hint", role: "status" });
  const reason = h("div", { class: "nbl-error", "data-testid": "nbl-reason", role: "alert", hidden: true });
  const suggestion = h("div", { class: "nbl-proposal", "data-testid": "nbl-proposal", hidden: true });
  const button = (name, label, hint, intent) => actionButton(name, label, hint, () => act(intent));
  const removeButton = button("remove", "Remove entity", "Remove the selected entity (Delete)", {
    type: "remove",
  });
  const actions = h("div", { class: "nbl-actions" }, [
    button("back", "← Back", "Previous text ([)", { type: "back" }),
    button("forward", "Forward →", "Next text (])", { type: "forward" }),
    button("undo", "Undo", "Undo the last edit or answer (z)", { type: "undo" }),
    button("redo", "Redo", "Redo (y)", { type: "redo" }),
    removeButton,
    button("skip", "Skip", "Skip this text (s)", { type: "skip" }),
    button("submit", "Submit ⏎", "Submit the entities of this text (Enter)", { type: "submit" }),
  ]);
  const help = h("div", {
    class: "nbl-help",
    text:
      "Select text (snaps to words; hold Alt for exact characters) or double-click a word, then a label key " +
      "(or the key first) · ←/→ token cursor, Shift extends · click an entity to relabel it or Delete · " +
      "Enter submits · s skip · z undo · y redo · [ ] revisit",
  });
  const root = h(
    "div",
    {
      class: "nblabel nbl-entities",
      tabindex: "0",
      "data-testid": "nbl-root",
      "data-lm-suppress-shortcuts": "true",
    },
    [frame.header, legend, suggestion, h("div", { class: "nbl-stage" }, [text, spare, message]), hint, reason, actions, help],
  );
  el.append(root);
  frame.attach({ root, session, channel, show });

  // -- the document on screen -------------------------------------------------------------------
  // The text is cut into blocks of about BLOCK characters, each ending after a line break (never
  // inside an entity), so an edit re-lays out and repaints one small block, and blocks off screen
  // are not laid out at all (content-visibility). Each block holds `pieces`: plain text nodes and
  // entity marks, {start, end, node, mark, entity, block}; `byNode` finds the piece of a text node
  // or mark and the block of a block element. A text without line breaks is one block.
  //
  // Two document elements take turns: while one is on screen, the document that Enter or s would
  // show next is built in the other (hidden, laid out in the same place) when the page is idle,
  // so moving on only swaps them.

  /** A view of an item: its text, entities and block elements (not yet in the page). */
  function makeView(item, value) {
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
    const spans = new SpanDoc(entities.filter((e, i) => i === 0 || e.start >= entities[i - 1].end));
    const v = { key: item.key, text: index.text, index, spans, pieces: [], byNode: new Map(), tokens: null };
    // What the view was built from: a prepared view is used only while these are unchanged.
    v.source = { item, value, proposal: item.proposal };
    buildBlocks(v);
    return v;
  }

  function buildBlocks(v) {
    v.pieces = [];
    v.byNode = new Map();
    v.blocks = [];
    let start = 0;
    for (const end of blockEnds(v)) {
      v.blocks.push(buildBlock(v, start, end));
      start = end;
    }
    v.pieces.sort((a, b) => a.start - b.start);
  }

  function openView(item) {
    const value = session.values.get(item.key);
    if (ready && isFresh(ready, item, value)) {
      view = ready;
      ready = null;
      swapDocs();
      return;
    }
    view = makeView(item, value);
    // The first blocks fill the visible part; the rest join the page right after it is painted,
    // so a long text appears in the frame after the key press.
    const { blocks } = view;
    text.replaceChildren(...blocks.slice(0, FIRST_BLOCKS));
    if (blocks.length > FIRST_BLOCKS) {
      const shown = view;
      let done = false;
      const append = () => {
        if (done || view !== shown) return;
        done = true;
        text.append(...blocks.slice(FIRST_BLOCKS));
      };
      requestAnimationFrame(() => setTimeout(append, 0));
      setTimeout(append, 100); // a hidden tab paints nothing
    }
  }

  function isFresh(v, item, value) {
    const { source } = v;
    return v.key === item.key && source.item === item && source.value === value && source.proposal === item.proposal;
  }

  /** The prepared document comes on screen; the one that was there becomes the spare. */
  function swapDocs() {
    [text, spare] = [spare, text];
    text.classList.remove("nbl-spare");
    text.removeAttribute("aria-hidden");
    text.dataset.testid = "nbl-doc";
    spare.classList.add("nbl-spare");
    spare.setAttribute("aria-hidden", "true");
    delete spare.dataset.testid;
    // Out of the layout until the next document is built in it: the frame that shows the new
    // document lays out nothing of the old one.
    spare.hidden = true;
    textScrolled = false; // the prepared document starts at its top
  }

  /** Build the next document in the spare element, once the page is idle. */
  function schedulePrepare() {
    if (prepareQueued) return;
    prepareQueued = true;
    const run = () => {
      prepareQueued = false;
      prepare();
    };
    if (window.requestIdleCallback) requestIdleCallback(run, { timeout: 300 });
    else setTimeout(run, 30);
  }

  function prepare() {
    const key = session.upcoming;
    const item = key === null ? null : session.items.get(key);
    if (!item || item.error || (ready && isFresh(ready, item, session.values.get(key)))) return;
    ready = makeView(item, session.values.get(key));
    spare.replaceChildren(...ready.blocks);
    spare.hidden = false;
    spare.scrollTop = 0;
  }

  function blockEnds(v) {
    const { text: content, spans } = v;
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

  /** A block element of view `v` for [start, end) with its plain text and entities. */
  function buildBlock(v, start, end) {
    const el = h("div", { class: "nbl-block" });
    const block = { start, end, el };
    v.byNode.set(el, block);
    let at = start;
    for (const entity of v.spans.overlapping(start, end)) {
      if (entity.start > at) el.append(plainPiece(v, at, entity.start, block));
      el.append(markPiece(v, entity, block));
      at = entity.end;
    }
    if (at < end || !el.childNodes.length) el.append(plainPiece(v, at, end, block));
    return el;
  }

  function plainPiece(v, start, end, block, node = document.createTextNode(v.text.slice(start, end))) {
    const piece = { start, end, node, mark: null, entity: null, block };
    v.pieces.push(piece);
    v.byNode.set(node, piece);
    return node;
  }

  function markPiece(v, entity, block, node = document.createTextNode(v.text.slice(entity.start, entity.end))) {
    const mark = h("mark", { class: "nbl-ent", "data-testid": "nbl-entity" });
    mark.append(node);
    const piece = { start: entity.start, end: entity.end, node, mark, entity, block };
    dressMark(v, piece);
    v.pieces.push(piece);
    v.byNode.set(node, piece);
    v.byNode.set(mark, piece);
    return mark;
  }

  function dressMark(v, piece) {
    const { mark, entity } = piece;
    mark.dataset.label = entity.label;
    mark.dataset.c = String(colourOf.get(entity.label));
    mark.dataset.start = String(v.index.toCodePoint(entity.start));
    mark.dataset.end = String(v.index.toCodePoint(entity.end, "up"));
    mark.classList.toggle("nbl-proposed", Boolean(entity.proposed));
    mark.classList.toggle("nbl-selected", entity === selected);
    const conf =
      entity.proposed && entity.confidence !== undefined ? ` · proposed, ${Math.round(entity.confidence * 100)}%` : "";
    mark.title = `${entity.label}${conf} · click to relabel or remove`;
  }

  function sortPieces() {
    view.pieces.sort((a, b) => a.start - b.start);
  }

  /** Paint a new entity: split the plain text node it lies in (only that block changes). */
  function paintAdd(entity) {
    const piece = view.pieces.find((p) => !p.entity && p.start <= entity.start && entity.end <= p.end);
    if (!piece) return mergeBlocks(entity.start, entity.end);
    const { node, block } = piece;
    let middle = node;
    if (entity.start > piece.start) middle = node.splitText(entity.start - piece.start);
    const after = entity.end < piece.end ? middle.splitText(entity.end - entity.start) : null;
    const marker = document.createComment("");
    middle.replaceWith(marker);
    view.byNode.delete(node);
    view.pieces.splice(view.pieces.indexOf(piece), 1);
    if (middle !== node) plainPiece(view, piece.start, entity.start, block, node);
    marker.replaceWith(markPiece(view, entity, block, middle));
    if (after) plainPiece(view, entity.end, piece.end, block, after);
    sortPieces();
  }

  /** An entity across a block boundary (a selection over several lines): one block for both. */
  function mergeBlocks(start, end) {
    const blocks = view.blocks.map((el) => view.byNode.get(el)).filter((b) => b.end > start && b.start < end);
    const first = blocks[0];
    const last = blocks[blocks.length - 1];
    view.pieces = view.pieces.filter((p) => !blocks.includes(p.block));
    for (const b of blocks) view.byNode.delete(b.el);
    const merged = buildBlock(view, first.start, last.end);
    const at = view.blocks.indexOf(first.el);
    view.blocks.splice(at, blocks.length, merged);
    first.el.replaceWith(merged);
    for (const b of blocks.slice(1)) b.el.remove();
    sortPieces();
  }

  /** Unpaint an entity: its text joins the plain text around it in its block. */
  function paintRemove(entity) {
    const i = view.pieces.findIndex((p) => p.entity === entity);
    if (i === -1) {
      // Not painted (cannot happen unless the DOM was changed from outside): paint it all again.
      buildBlocks(view);
      text.replaceChildren(...view.blocks);
      return;
    }
    const piece = view.pieces[i];
    const plain = (p) => p && !p.entity && p.block === piece.block;
    const before = plain(view.pieces[i - 1]) ? view.pieces[i - 1] : null;
    const after = plain(view.pieces[i + 1]) ? view.pieces[i + 1] : null;
    const { node, mark } = piece;
    view.byNode.delete(mark);
    view.byNode.delete(node);
    view.pieces.splice(i, 1);
    if (before) {
      before.node.appendData(node.data + (after ? after.node.data : ""));
      before.end = after ? after.end : piece.end;
      mark.remove();
      if (after) dropPlain(after);
    } else if (after) {
      after.node.insertData(0, node.data);
      after.start = piece.start;
      mark.remove();
    } else {
      mark.replaceWith(node);
      plainPiece(view, piece.start, piece.end, piece.block, node);
      sortPieces();
    }
  }

  function dropPlain(piece) {
    piece.node.remove();
    view.byNode.delete(piece.node);
    view.pieces.splice(view.pieces.indexOf(piece), 1);
  }

  function paintLabel(entity) {
    const piece = view.pieces.find((p) => p.entity === entity);
    if (piece) dressMark(view, piece);
  }

  function paintEdit(edit) {
    if (!edit) return;
    const adding = (edit.op === "add") === !edit.undone;
    if (edit.op === "relabel") paintLabel(edit.entity);
    else if (adding) paintAdd(edit.entity);
    else paintRemove(edit.entity);
  }

  // -- selections -----------------------------------------------------------------------------

  /** The UTF-16 offset in the document of a DOM point, clamped to the document. */
  function offsetOf(node, offset) {
    if (!text.contains(node)) {
      const range = document.createRange();
      range.selectNodeContents(text);
      return range.comparePoint(node, offset) < 0 ? 0 : view.text.length;
    }
    if (node.nodeType === Node.TEXT_NODE) return (view.byNode.get(node)?.start ?? 0) + offset;
    const piece = view.byNode.get(node);
    if (piece?.mark === node) return offset === 0 ? piece.start : piece.end;
    // The document or a block element: the point is before its child number `offset`.
    const child = node.childNodes[offset];
    if (child) return view.byNode.get(child)?.start ?? 0;
    return node === text ? view.text.length : piece?.end ?? view.text.length;
  }

  function selectRange(start, end) {
    const a = locate(start);
    const b = locate(end);
    const selection = document.getSelection();
    if (!a || !b || !selection) return;
    selection.setBaseAndExtent(a[0], a[1], b[0], b[1]);
  }

  function locate(u) {
    for (const p of view.pieces) if (p.start <= u && u <= p.end) return [p.node, u - p.start];
    return null;
  }

  function clearSelection() {
    const selection = document.getSelection();
    if (selection && selection.rangeCount && text.contains(selection.anchorNode)) selection.removeAllRanges();
  }

  function onPointerDown(event) {
    if (!(event.target instanceof HTMLButtonElement)) root.focus({ preventScroll: true });
    if (!view || !text.contains(event.target) || event.button !== 0) return;
    pointer = { alt: event.altKey };
    document.addEventListener("pointerup", onPointerUp, { once: true });
  }

  function onPointerUp(event) {
    const alt = pointer.alt || event.altKey;
    pointer = null;
    const selection = document.getSelection();
    const range = selection && selection.rangeCount ? selection.getRangeAt(0) : null;
    if (!range || range.collapsed) {
      const mark = event.target instanceof Element ? event.target.closest("mark.nbl-ent") : null;
      const piece = mark && view.byNode.get(mark);
      select(piece ? piece.entity : null);
      pending = null;
      cursor = null;
      showHint();
      return;
    }
    const start = offsetOf(range.startContainer, range.startOffset);
    const end = offsetOf(range.endContainer, range.endOffset);
    const span = alt ? trimSpaces(view.text, start, end) : snapToWords(view.text, start, end);
    cursor = null;
    if (!span) return;
    const s = view.index.snap(span[0], "down");
    const e = view.index.snap(span[1], "up");
    const inside = view.spans.around(s, e);
    if (inside) {
      // A click-drag or double click inside an entity picks that entity.
      clearSelection();
      select(inside);
      return;
    }
    offer(s, e);
  }

  function onDoubleClick() {
    // The first click's selection made the word pending; tag it with the label in use.
    if (pending && (armed ?? lastLabel) !== null) tag(armed ?? lastLabel);
  }

  /** A span is ready: label it now (a label was chosen first) or wait for a key. */
  function offer(start, end) {
    select(null);
    pending = [start, end];
    if (armed !== null) {
      tag(armed);
      return;
    }
    selectRange(start, end);
    showHint();
  }

  function tag(index) {
    const [start, end] = pending;
    const label = labels[index];
    const result = view.spans.add(start, end, label);
    if (!result.ok) {
      const c = result.clash;
      refuse(
        `Not added: “${excerpt(start, end)}” overlaps ${c.label} “${excerpt(c.start, c.end)}”. ` +
          "Entities cannot overlap: remove or change that one first.",
      );
      return;
    }
    // The keyboard cursor stays where it is (the next arrow moves on from it), unselected.
    pending = null;
    lastLabel = index;
    clearSelection();
    paintAdd(result.entity);
    hideReason();
    showHint();
  }

  function excerpt(start, end) {
    const s = view.text.slice(start, end);
    return s.length > 40 ? `${s.slice(0, 37)}…` : s;
  }

  function select(entity) {
    const previous = selected;
    selected = entity;
    if (previous) paintLabel(previous);
    if (entity) paintLabel(entity);
    removeButton.disabled = !entity;
    showHint();
  }

  // -- keyboard cursor ----------------------------------------------------------------------------

  function moveCursor(step, extend) {
    if (!view.tokens) view.tokens = tokenize(view.text);
    const tokens = view.tokens;
    if (!tokens.length) return;
    if (!cursor) {
      const from = pending ? pending[0] : selected ? selected.start : 0;
      let i = tokens.findIndex(([s]) => s >= from);
      if (i === -1) i = tokens.length - 1;
      cursor = { anchor: i, focus: i };
    } else {
      const focus = Math.max(0, Math.min(tokens.length - 1, cursor.focus + step));
      cursor = { anchor: extend ? cursor.anchor : focus, focus };
    }
    select(null);
    showCursor(true);
  }

  function showCursor(reveal) {
    const tokens = view.tokens;
    const a = tokens[Math.min(cursor.anchor, cursor.focus)];
    const b = tokens[Math.max(cursor.anchor, cursor.focus)];
    pending = [a[0], b[1]];
    selectRange(a[0], b[1]);
    if (reveal) scrollToOffset(cursor.focus === cursor.anchor ? a[0] : tokens[cursor.focus][0]);
    showHint();
  }

  function scrollToOffset(u) {
    const at = locate(u);
    if (!at) return;
    const range = document.createRange();
    range.setStart(at[0], at[1]);
    const box = range.getBoundingClientRect();
    const frame = text.getBoundingClientRect();
    if (box.top < frame.top || box.bottom > frame.bottom) {
      text.scrollTop += box.top - frame.top - frame.height / 3;
    }
  }

  // -- acting ---------------------------------------------------------------------------------

  function act(intent) {
    const item = session.currentItem;
    switch (intent.type) {
      case "label":
        if (!view) return;
        if (selected) {
          view.spans.relabel(selected, labels[intent.index]);
          lastLabel = intent.index;
          paintLabel(selected);
          showHint();
        } else if (pending && view.spans.around(pending[0], pending[1])) {
          // The cursor is on an entity: relabel it.
          const entity = view.spans.around(pending[0], pending[1]);
          view.spans.relabel(entity, labels[intent.index]);
          lastLabel = intent.index;
          pending = null;
          clearSelection();
          paintLabel(entity);
          showHint();
        } else if (pending) {
          tag(intent.index);
        } else {
          armed = armed === intent.index ? null : intent.index; // pressed again: disarm
          showLegend();
          showHint();
        }
        return;
      case "cursor":
        if (view) moveCursor(intent.step, intent.extend);
        return;
      case "remove": {
        if (!view) return;
        const entity = selected ?? (pending ? view.spans.around(pending[0], pending[1]) : null);
        if (!entity) return;
        view.spans.remove(entity);
        selected = null;
        removeButton.disabled = true;
        pending = null;
        clearSelection();
        paintRemove(entity);
        showHint();
        return;
      }
      case "clear":
        pending = null;
        cursor = null;
        armed = null;
        select(null);
        clearSelection();
        hideReason();
        showLegend();
        showHint();
        return;
      case "submit":
        if (!item || !view) return;
        record(session.answer(view.spans.value(view.index), uid()));
        return;
      case "skip":
        if (item) record(session.skip(uid()));
        return;
      case "undo": {
        if (view?.spans.past.length) {
          const edit = view.spans.undo();
          edit.undone = true;
          afterEdit(edit);
          return;
        }
        flush(); // the answer being undone goes out first
        frame.undo();
        return;
      }
      case "redo": {
        const edit = view?.spans.redo();
        if (edit) {
          edit.undone = false;
          afterEdit(edit);
        }
        return;
      }
      case "back":
      case "forward":
        frame.revisit(intent.type);
        return;
      default:
    }
  }

  function afterEdit(edit) {
    if (selected && !view.spans.ents.includes(selected)) selected = null;
    pending = null;
    paintEdit(edit);
    hideReason();
    showHint();
  }

  function record(msg) {
    if (!msg) return;
    show(); // paint the next text first: the kernel round trip is not on the critical path
    // A long text's answer takes a few milliseconds to save and send: do it once the next text
    // is painted (or soon, in a hidden tab, which paints nothing). Sent in order (see flush).
    deferred.push(msg);
    requestAnimationFrame(() => setTimeout(flush, 0));
    setTimeout(flush, 100);
  }

  function flush() {
    if (!deferred.length) return;
    for (const msg of deferred.splice(0)) channel.send(msg);
    channel.requestMore();
  }

  // -- drawing --------------------------------------------------------------------------------

  function show() {
    const key = session.current;
    const item = session.currentItem;
    if (!view || key !== view.key) {
      pending = null;
      cursor = null;
      selected = null;
      removeButton.disabled = true;
      hideReason();
      if (item && !item.error) {
        openView(item);
        text.hidden = false;
        if (textScrolled) {
          text.scrollTop = 0;
          textScrolled = false;
        }
      } else {
        view = null;
        text.replaceChildren();
        text.hidden = true;
      }
    }
    message.hidden = Boolean(item && !item.error);
    if (!item) {
      setText(message, session.exhausted ? frame.doneText() : "Loading the next texts…");
      root.dataset.itemKey = "";
      root.dataset.state = session.exhausted ? "done" : "loading";
    } else {
      if (item.error) setText(message, `Cannot show this text: ${item.error}. Press s to skip it.`);
      root.dataset.itemKey = item.key;
      root.dataset.state = item.error ? "error" : "item";
    }
    frame.showPosition(item, "Text");
    const proposed = view ? view.spans.ents.filter((e) => e.proposed).length : 0;
    suggestion.hidden = proposed === 0;
    if (proposed) {
      const conf = item.proposal?.confidence;
      const pct = conf === undefined ? "" : ` (lowest confidence ${Math.round(conf * 100)}%)`;
      setText(suggestion, `${proposed} proposed ${proposed === 1 ? "entity" : "entities"}${pct} · Enter accepts · edit them first if needed`);
    }
    showLegend();
    showHint();
    frame.showProgress();
    frame.showStatus();
    schedulePrepare();
  }

  function showLegend() {
    chips.forEach((chip, index) => {
      chip.classList.toggle("nbl-armed", armed === index);
      chip.setAttribute("aria-pressed", armed === index ? "true" : "false");
    });
  }

  function showHint() {
    let textValue = "";
    if (selected) {
      textValue = `Selected: ${selected.label} “${excerpt(selected.start, selected.end)}” · a label key relabels it · Delete removes it`;
    } else if (pending) {
      textValue = `“${excerpt(pending[0], pending[1])}” · press a label key (1–${classKey(labels.length - 1) || "0"})`;
    } else if (armed !== null) {
      textValue = `Labeling as ${labels[armed]}: select text or double-click a word · Esc stops`;
    }
    setText(hint, textValue);
    root.dataset.entities = view ? String(view.spans.ents.length) : "0";
  }

  function refuse(textValue) {
    reason.hidden = false;
    setText(reason, textValue);
  }

  function hideReason() {
    if (!reason.hidden) reason.hidden = true;
  }

  function onKeydown(event) {
    const intent = spanIntentForKey(event, labels.length);
    if (!intent) return;
    event.preventDefault();
    event.stopPropagation();
    act(intent);
  }

  for (const el of [text, spare]) {
    el.addEventListener(
      "scroll",
      (event) => {
        if (event.currentTarget === text) textScrolled = text.scrollTop > 0;
      },
      { passive: true },
    );
    el.addEventListener("dblclick", onDoubleClick);
  }
  root.addEventListener("keydown", onKeydown);
  root.addEventListener("pointerdown", onPointerDown);
  const onProgress = () => frame.showProgress();
  model.on("change:progress", onProgress);
  channel.follow(session, { show, flash: refuse });
  show();
  channel.hello(() => root.clientWidth);

  return () => {
    channel.destroy();
    model.off("change:progress", onProgress);
    document.removeEventListener("pointerup", onPointerUp);
  };
}

export default { render };
