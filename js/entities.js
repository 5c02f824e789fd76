// nblabel named-entity widget: mark spans of a text with labels, keyboard or mouse.
//
// The text is inserted as text nodes (never HTML) in a pre-wrap block, so spaces, TABs and line
// breaks show as they are. Entities are <mark> elements wrapped around the exact characters,
// nested where entities overlap (each stacked entity's underline sits lower); adding, removing
// or relabeling one rebuilds only the block of text it lives in, so a 100 KB
// document stays responsive (lib/entity_doc.js, which also builds the next document ahead). The
// browser counts UTF-16 units; answers are converted to code points (lib/offsets.js) before
// they leave. Talking to the kernel is lib/channel.js; the frame and shared commands lib/frame.js.
import { AttributePanel, attributesFor, given, hasAttributes, missing } from "./lib/attributes.js";
import { classButton, h, setPressed, setText, showNote } from "./lib/dom.js";
import { DocView, Documents } from "./lib/entity_doc.js";
import { Frame } from "./lib/frame.js";
import { uid } from "./lib/ids.js";
import { classKey } from "./lib/keys.js";
import { spanIntentForKey } from "./lib/spankeys.js";
import { moveTokenCursor, tokenize } from "./lib/tokens.js";

const COLOURS = 10; // entities.css has this many label colours

/** What the hint line says: the entity selected, the span waiting for a label, or the label armed. */
function hintText({ selected, pending, armed }, view, labels) {
  if (selected) {
    const stacked = view.spans.nextAround(selected.start, selected.end, selected) !== selected ? " · e: the entity around it" : "";
    return `Selected: ${selected.label} “${view.excerpt(selected.start, selected.end)}” · a label key relabels it · Delete removes it${stacked}`;
  }
  if (pending) {
    const around = view.spans.around(pending[0], pending[1]);
    const inside = around ? ` inside ${around.label} “${view.excerpt(around.start, around.end)}” (e selects it)` : "";
    return `“${view.excerpt(pending[0], pending[1])}”${inside} · press a label key (1–${classKey(labels.length - 1) || "0"})`;
  }
  if (armed !== null) return `Labeling as ${labels[armed]}: select text or double-click a word · Esc stops`;
  return "";
}

/**
 * The entities of the text on screen as the person edits them: its document (lib/entity_doc.js),
 * the span being labeled (a selection, the keyboard cursor, a label chosen first), the entity
 * selected, the hint and the refusals. The widget's `frame` holds the root and the buttons.
 */
function spanEditor(frame, labels, config) {
  const colourOf = new Map(labels.map((label, i) => [label, i % COLOURS]));
  let view = null; // the DocView on screen
  let armed = null; // label index chosen before selecting
  let lastLabel = null; // for double clicks without a chosen label
  let pending = null; // [start, end) selected, waiting for a label key
  let cursor = null; // {anchor, focus} token indices of the keyboard cursor
  let selected = null; // the entity clicked (to relabel or remove)
  let stackAt = null; // [start, end) whose stacked entities e steps through
  let pointer = null; // {alt} while a mouse selection is being made

  const docs = new Documents((item, value) => new DocView(item, value, { labels, colourOf, isSelected: (e) => e === selected }));
  const chips = labels.map((label, index) =>
    classButton(label, index, {
      testid: `nbl-label-${index}`,
      className: "nbl-chip",
      dataset: { c: String(colourOf.get(label)) },
      onclick: () => frame.act({ type: "label", index }),
    }),
  );
  const hint = h("div", { class: "nbl-hint", "data-testid": "nbl-hint", role: "status" });
  // The selected entity's label category attributes (t reaches them, Esc gives the keys back).
  const panel = new AttributePanel("nbl-attrs-object", (values) => {
    if (selected && view?.spans.setAttributes(selected, given(values))) view.paintLabel(selected);
  });
  const reason = h("div", { class: "nbl-error", "data-testid": "nbl-reason", role: "alert", hidden: true });

  // -- selections -----------------------------------------------------------------------------
  function onPointerDown(event) {
    if (!view || !docs.text.contains(event.target) || event.button !== 0) return;
    pointer = { alt: event.altKey };
    document.addEventListener("pointerup", onPointerUp, { once: true });
  }

  function onPointerUp(event) {
    const alt = pointer.alt || event.altKey;
    pointer = null;
    const selection = document.getSelection();
    const range = selection && selection.rangeCount ? selection.getRangeAt(0) : null;
    if (!range || range.collapsed) {
      // The innermost mark under the pointer: e then steps out to the entities around it.
      const mark = event.target instanceof Element ? event.target.closest("mark.nbl-ent") : null;
      select(mark ? view.entityOf.get(mark) ?? null : null);
      pending = null;
      cursor = null;
      showHint();
      return;
    }
    const span = view.spanOf(range, docs.text, alt);
    cursor = null;
    if (!span) return;
    const [s, e] = span;
    const same = view.spans.exactly(s, e);
    if (same) {
      // A selection of exactly an entity picks it; a smaller one inside may become a nested one.
      docs.clearSelection();
      select(same);
      return;
    }
    offer(s, e);
  }

  function onDoubleClick() {
    if (!pending) return;
    // A double click inside an entity picks that entity (a drag makes a nested one).
    const inside = view.spans.around(pending[0], pending[1]);
    if (inside) {
      pending = null;
      docs.clearSelection();
      select(inside);
    } else if ((armed ?? lastLabel) !== null) tag(armed ?? lastLabel); // the word, with the label in use
  }

  /** A span is ready: label it now (a label was chosen first) or wait for a key. */
  function offer(start, end) {
    select(null);
    pending = [start, end];
    if (armed !== null) {
      tag(armed);
      return;
    }
    view.selectRange(start, end);
    showHint();
  }

  function tag(index) {
    const [start, end] = pending;
    const result = view.spans.add(start, end, labels[index]);
    if (!result.ok) {
      const c = result.clash;
      showNote(reason, `Not added: “${view.excerpt(start, end)}” is already a ${c.label} entity.`);
      return;
    }
    // The keyboard cursor stays where it is (the next arrow moves on from it), unselected.
    pending = null;
    lastLabel = index;
    docs.clearSelection();
    view.paintAdd(result.entity);
    hideReason();
    showHint();
  }

  function select(entity) {
    const previous = selected;
    selected = entity;
    stackAt = null;
    if (previous) view.paintLabel(previous);
    if (entity) view.paintLabel(entity);
    frame.buttons.remove.disabled = !entity;
    if (config) showPanel();
    showHint();
  }

  function showPanel() {
    const list = selected ? attributesFor(config, selected.label) : [];
    panel.show(selected ? `${selected.label} “${view.excerpt(selected.start, selected.end)}”` : "", list, selected?.attrs);
  }

  /** Why the entities cannot be submitted yet (a required attribute left empty), or null; the
   * first entity that needs one is selected. */
  function unfinished() {
    if (!config || !view) return null;
    const needs = view.spans.ents
      .map((e) => ({ e, names: missing(attributesFor(config, e.label), e.attrs) }))
      .filter((n) => n.names.length);
    if (!needs.length) return null;
    select(needs[0].e);
    const parts = needs.map(({ e, names }) => `${e.label} “${view.excerpt(e.start, e.end)}” needs ${names.join(", ")}`);
    return `Not submitted: ${parts.join("; ")} (t goes to the attributes).`;
  }

  function moveCursor(step, extend) {
    if (!view.tokens) view.tokens = tokenize(view.text);
    const from = pending ? pending[0] : selected ? selected.start : 0;
    const moved = moveTokenCursor(view.tokens, cursor, { step, extend, from });
    if (!moved) return;
    cursor = moved;
    select(null);
    pending = moved.span;
    view.selectRange(...pending);
    view.scrollTo(cursor.focus === cursor.anchor ? pending[0] : view.tokens[cursor.focus][0], docs.text);
    showHint();
  }

  // -- acting ---------------------------------------------------------------------------------
  /** e: select the next of the entities stacked over the span (or the entity selected), innermost
   * first, round again after the outermost. */
  function cycle() {
    const at = stackAt ?? pending ?? (selected ? [selected.start, selected.end] : null);
    const next = at && view.spans.nextAround(at[0], at[1], selected);
    if (!next) return;
    pending = null;
    cursor = null;
    docs.clearSelection();
    select(next);
    stackAt = at;
    hideReason();
  }

  /** A label key: relabel the entity selected or exactly under the cursor, tag the span (inside
   * another entity too: entities nest), or arm the label. */
  function label(index) {
    const same = pending ? view.spans.exactly(pending[0], pending[1]) : null;
    const entity = selected ?? same;
    if (entity) {
      view.spans.relabel(entity, labels[index]);
      lastLabel = index;
      if (config && entity === selected) showPanel(); // another label takes other attributes
      if (!selected) {
        pending = null; // the cursor was on an entity
        docs.clearSelection();
      }
      view.paintLabel(entity);
    } else if (pending) tag(index);
    else {
      armed = armed === index ? null : index; // pressed again: disarm
      showLegend();
    }
    showHint();
  }

  function remove() {
    const entity = selected ?? (pending ? view.spans.around(pending[0], pending[1]) : null);
    if (!entity) return;
    view.spans.remove(entity);
    selected = null;
    if (config) showPanel();
    frame.buttons.remove.disabled = true;
    pending = null;
    docs.clearSelection();
    view.paintRemove(entity);
    showHint();
  }

  /** An edit of the entities undone (`undone`) or redone. */
  function repaint(edit, undone) {
    edit.undone = undone;
    if (selected && !view.spans.ents.includes(selected)) select(null);
    else if (config && edit.entity === selected) showPanel();
    pending = null;
    view.paintEdit(edit);
    hideReason();
    showHint();
  }


  /** The intents of editing the entities (all but submit): true when handled. */
  function act(intent) {
    switch (intent.type) {
      case "label":
        if (view) label(intent.index);
        return true;
      case "cursor":
        if (view) moveCursor(intent.step, intent.extend);
        return true;
      case "remove":
        if (view) remove();
        return true;
      case "cycle":
        if (view) cycle();
        return true;
      case "clear":
        pending = null;
        cursor = null;
        armed = null;
        select(null);
        docs.clearSelection();
        hideReason();
        showLegend();
        showHint();
        return true;
      case "undo":
        if (!view?.spans.past.length) return false; // no edit left: the frame takes back the answer
        repaint(view.spans.undo(), true);
        return true;
      case "redo": {
        const edit = view?.spans.redo();
        if (edit) repaint(edit, false);
        return true;
      }
      default:
        return false;
    }
  }

  /** A new item on screen (null: none) with its answer `value`: its document, nothing selected. */
  function open(item, value) {
    pending = null;
    cursor = null;
    selected = null;
    if (config) showPanel();
    frame.buttons.remove.disabled = true;
    hideReason();
    if (item && !item.error) view = docs.open(item, value);
    else {
      view = null;
      docs.clear();
    }
  }

  function showLegend() {
    chips.forEach((chip, index) => {
      setPressed(chip, armed === index, "nbl-armed");
    });
  }

  function showHint() {
    setText(hint, hintText({ selected, pending, armed }, view, labels));
    frame.root.dataset.entities = view ? String(view.spans.ents.length) : "0";
  }

  function hideReason() {
    if (!reason.hidden) reason.hidden = true;
  }

  for (const doc of [docs.text, docs.spare]) {
    frame.listen(doc, "dblclick", onDoubleClick);
    frame.listen(doc, "pointerdown", onPointerDown);
  }
  return {
    docs,
    chips,
    hint,
    reason,
    panel,
    unfinished,
    act,
    open,
    showLegend,
    showHint,
    get view() {
      return view;
    },
    destroy: () => document.removeEventListener("pointerup", onPointerUp),
  };
}

function render({ model, el }) {
  const labels = model.get("labels");
  const config = hasAttributes(model.get("attributes")) ? model.get("attributes") : null;
  const frame = new Frame(model);
  const { session } = frame;
  const editor = spanEditor(frame, labels, config);
  const { docs } = editor;
  const message = h("div", { class: "nbl-message", "data-testid": "nbl-message", hidden: true });
  const suggestion = h("div", { class: "nbl-proposal", "data-testid": "nbl-proposal", hidden: true });

  function show() {
    const root = frame.root;
    const key = session.current;
    const item = session.currentItem;
    if (!editor.view || key !== editor.view.key) editor.open(item, item ? session.values.get(item.key) : null);
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
    const { view } = editor;
    const proposed = view ? view.spans.ents.filter((e) => e.proposed).length : 0;
    suggestion.hidden = proposed === 0;
    if (proposed) {
      const conf = item.proposal?.confidence;
      const pct = conf === undefined ? "" : ` (lowest confidence ${Math.round(conf * 100)}%)`;
      setText(suggestion, `${proposed} proposed ${proposed === 1 ? "entity" : "entities"}${pct} · Enter accepts · edit them first if needed`);
    }
    editor.showLegend();
    editor.showHint();
    frame.showHeader(item, "Text");
    docs.prepareSoon(() => {
      const next = session.upcoming;
      return next === null || !session.items.has(next) ? null : { item: session.items.get(next), value: session.values.get(next) };
    });
  }

  /** Submit, and the entity edits; skip, answer undo and revisiting are the frame's. */
  function onIntent(intent) {
    if (intent.type !== "submit") return editor.act(intent);
    const { view } = editor;
    if (!session.currentItem || !view) return true;
    const reason = editor.unfinished();
    if (reason) showNote(editor.reason, reason);
    else frame.record(session.answer(view.spans.value(view.index), uid()));
    return true;
  }

  frame.mount(el, {
    className: "nbl-entities",
    body: [
      h("div", { class: "nbl-legend", "data-testid": "nbl-legend" }, editor.chips),
      suggestion,
      h("div", { class: "nbl-stage" }, [docs.text, docs.spare, message]),
      editor.hint,
      editor.reason,
      editor.panel.el,
    ],
    actions: [
      ["back", "← Back", "Previous text ([)"],
      ["forward", "Forward →", "Next text (])"],
      ["undo", "Undo", "Undo the last edit or answer (z)"],
      ["redo", "Redo", "Redo (y)"],
      ["remove", "Remove entity", "Remove the selected entity (Delete)"],
      ["skip", "Skip", "Skip this text (s)"],
      ["submit", "Submit ⏎", "Submit the entities of this text (Enter)"],
    ],
    help:
      "Select text (snaps to words; hold Alt for exact characters) or double-click a word, then a label key " +
      "(or the key first); inside an entity it nests · ←/→ token cursor, Shift extends · click an entity to relabel it or Delete · " +
      "e steps through stacked entities · " +
      `Enter submits · s skip · z undo · y redo · [ ] revisit${config ? " · t attributes of the selected entity (Esc back)" : ""}`,
    keys: (event) =>
      config && event.key === "t" && !event.ctrlKey && !event.metaKey && !event.altKey
        ? editor.panel.focus() || null
        : spanIntentForKey(event, labels.length),
    onIntent,
    show,
    flash: (text) => showNote(editor.reason, text),
  });

  return () => {
    frame.destroy();
    editor.destroy();
  };
}

export default { render };
