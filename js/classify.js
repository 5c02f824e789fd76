// nblabel classification widget (images and texts, single- and multi-label).
//
// The kernel sends items ahead of the cursor; a keypress records the answer, draws the next
// prefetched item at once and sends the answer as a custom message (not a trait: ipywidgets
// merges quick trait changes) once that item is painted. Prefetched images arrive decoded in
// `<img>` elements (lib/pixels.js), so drawing the next item only swaps one element for another.
// Prefetching, acknowledgements and re-sending unsaved answers across reconnects and kernel
// restarts are lib/channel.js; the header, actions and shared commands lib/frame.js.
// Frame attributes (GT's label category configuration) have a panel beside the item (t enters
// it); a required one left empty keeps the answer back and says why.
import { AttributePanel, classesOf, FRAME_KEY, given, hasAttributes, missing } from "./lib/attributes.js";
import { classButton, h, idleOnce, itemNotes, setNote, setPressed, setText, showNote, TakingTurns } from "./lib/dom.js";
import { Frame, itemActions } from "./lib/frame.js";
import { uid } from "./lib/ids.js";
import { intentForKey } from "./lib/keys.js";
import { Pixels, decodeImageElements } from "./lib/pixels.js";

const KEEP_BEHIND = 30; // decoded images kept for going back

function render({ model, el }) {
  const labels = model.get("labels");
  const multi = model.get("multi_label");
  const frame = new Frame(model, { pace: true, decode: decodeImageElements });
  const { session, channel } = frame;
  const pixels = new Pixels(session, channel, KEEP_BEHIND);
  let toggled = new Set(); // multi-label choice on screen
  let shownKey = undefined;
  let shownImage = null; // the <img> on the stage
  let textScrolled = false;
  const prepareSoon = idleOnce(prepareNext);
  const config = hasAttributes(model.get("attributes")) ? model.get("attributes") : null;
  const frameValues = new Map(); // key -> the item's frame attribute values being edited
  const framePanel = new AttributePanel("nbl-attrs-frame", (values) => frameValues.set(shownKey, values));
  const notice = h("div", { class: "nbl-notice", "data-testid": "nbl-notice", hidden: true }); // why not submitted

  // Texts take turns like the entity widget's documents: the next text is laid out ahead.
  const texts = new TakingTurns(() => h("div", { class: "nbl-text", hidden: true }), "nbl-text");
  const { problem, message } = itemNotes();
  const suggestion = h("div", { class: "nbl-proposal", "data-testid": "nbl-proposal", hidden: true });
  const stage = h("div", { class: "nbl-stage" }, [texts.shown, texts.spare, problem, message]);
  const classButtons = labels.map((label, index) =>
    classButton(label, index, { testid: `nbl-class-${index}`, onclick: () => frame.act({ type: "class", index }) }),
  );

  /** Put `img` on the stage in place of the image there (null: none). */
  function swapImage(img) {
    if (img === shownImage) return;
    shownImage?.remove();
    shownImage = img;
    if (img) stage.prepend(img);
  }

  /**
   * The item itself: its text, its image, its problem, or a message when there is none. Only
   * what changes is touched: this runs inside the key handler, before the next item's frame.
   */
  function showContent(item) {
    let state = item ? "item" : session.exhausted ? "done" : "loading";
    let note = item ? null : session.exhausted ? frame.doneText() : "Loading the next items…";
    const usable = item && !item.error;
    if (item?.error) state = "error";
    else if (usable && item.kind !== "text" && !item.image) {
      state = "loading";
      note = "Loading image…";
      pixels.refetch(item);
    }
    swapImage(usable && item.image ? item.image : null);
    setNote(problem, item?.error ? `Cannot show this item: ${item.error}. Press s to skip it.` : null);
    setNote(message, note);
    showText(usable && item.kind === "text" ? item : null);
    frame.showState(state, item ? item.key : "");
  }

  /** A text item on screen (null: none): the prepared one if it is, else written now. */
  function showText(item) {
    if (item && texts.spareKey === item.key && texts.spare.textContent === item.text) {
      texts.swap();
      textScrolled = false; // the prepared text starts at its top
      return;
    }
    setNote(texts.shown, item ? item.text : null);
    // Resetting scrollTop forces a layout inside the key handler: only do it when scrolled.
    if (item && textScrolled) {
      texts.shown.scrollTop = 0;
      textScrolled = false;
    }
  }

  /** Lay out the text that answering or skipping would show next, in the spare, when idle. */
  function prepareNext() {
    const key = session.upcoming;
    const item = key === null ? null : session.items.get(key);
    if (!item || item.kind !== "text" || item.error || texts.spareKey === key) return;
    setText(texts.spare, item.text);
    texts.prepared(key);
  }

  /** The model's proposal (for an item not answered yet) and the class buttons' states. */
  function showChoices(key, item) {
    const value = key === null ? null : classesOf(session.values.get(key));
    const proposal = item && !item.error && (value === null || value === undefined) ? item.proposal : null;
    const names = proposal && (multi ? proposal.value.join(", ") || "none" : proposal.value);
    setNote(suggestion, proposal ? `Model suggests: ${names} (${Math.round(proposal.confidence * 100)}%) · Enter accepts` : null);
    const proposed = new Set(proposal ? (multi ? proposal.value : [proposal.value]) : []);
    const off = !item || Boolean(item.error);
    classButtons.forEach((b, index) => {
      b.classList.toggle("nbl-proposed", proposed.has(labels[index]));
      setPressed(b, multi ? toggled.has(labels[index]) : value === labels[index]);
      if (b.disabled !== off) b.disabled = off; // :disabled is in many selectors: no needless style checks
    });
  }

  function show() {
    const key = session.current;
    const item = session.currentItem;
    if (key !== shownKey) {
      shownKey = key;
      // Multi-label: start from the answer given before, else from the model's proposal.
      toggled = new Set(multi ? classesOf(session.values.get(key)) ?? item?.proposal?.value ?? [] : []);
      pixels.release();
    }
    if (config) showFrame(key, item);
    showContent(item);
    showChoices(key, item);
    frame.showHeader(item);
    prepareSoon();
  }

  /**
   * The item's frame attributes in the panel: those being edited, else its answer's. Rebuilt only
   * when another item (or its arrival) is shown, so a field being edited keeps the keyboard.
   */
  let frameShows = null;
  function showFrame(key, item) {
    const usable = key !== null && item && !item.error;
    const shows = JSON.stringify([key, Boolean(usable)]);
    if (shows === frameShows) return;
    frameShows = shows;
    notice.hidden = true; // another item: the last one's reason no longer applies
    if (!frameValues.has(key)) frameValues.set(key, { ...(session.values.get(key)?.[FRAME_KEY] ?? {}) });
    framePanel.show(item?.kind === "text" ? "Text attributes" : "Image attributes", usable ? config.frame ?? [] : [], frameValues.get(key));
  }

  /**
   * Record `classes` as the answer, with the item's frame attributes when it has any; a required
   * one left empty keeps it back, saying which (t reaches the panel).
   */
  function answer(classes) {
    const values = config ? frameValues.get(session.current) : null;
    const needed = config ? missing(config.frame ?? [], values) : [];
    if (needed.length) {
      showNote(notice, `Not submitted: the item needs ${needed.join(", ")} (t goes to the attributes).`);
      return;
    }
    const attrs = given(values);
    frame.record(session.answer(attrs ? { [multi ? "labels" : "label"]: classes, [FRAME_KEY]: attrs } : classes, uid()));
  }

  /** Class keys and Enter; skip, undo and revisiting are the frame's. */
  function onIntent(intent) {
    const item = session.currentItem;
    const usable = item && !item.error;
    if (intent.type === "class") {
      if (!usable) return true;
      const label = labels[intent.index];
      if (!multi) answer(label);
      else {
        if (toggled.has(label)) toggled.delete(label);
        else toggled.add(label);
        show();
      }
      return true;
    }
    if (intent.type !== "submit") return false;
    if (!usable) return true;
    if (multi) answer(labels.filter((l) => toggled.has(l)));
    else if (session.revisiting) {
      if (session.forward()) show(); // Enter on a revisited item keeps its answer
    } else if (item.proposal) answer(item.proposal.value); // accept
    return true;
  }

  for (const el of [texts.shown, texts.spare]) {
    frame.listen(el, "scroll", () => (textScrolled = el === texts.shown && el.scrollTop > 0), { passive: true });
  }
  frame.mount(el, {
    className: "nbl-classify",
    dataset: { media: model.get("media") },
    body: [stage, suggestion, h("div", { class: "nbl-classes" }, classButtons), notice, framePanel.el],
    actions: [
      ...itemActions("item"),
      multi ? ["submit", "Submit ⏎", "Submit the selected classes (Enter)"] : null,
    ],
    help:
      (multi
        ? "Keys: 1–9, 0 toggle a class · Enter submit · s skip · z undo · ← → revisit · Esc leave"
        : "Keys: 1–9, 0 label · Enter accept the suggestion · s skip · z undo · ← → revisit · Esc leave") +
      (config ? " · t attributes (Esc back)" : ""),
    keys: (event) => {
      // t: into the item's attributes.
      if (config && event.key === "t" && !event.ctrlKey && !event.metaKey && !event.altKey) return framePanel.focus() || null;
      return intentForKey(event, labels.length);
    },
    onIntent,
    show,
    flash: (text) => showNote(problem, text),
    follow: { received: (items) => pixels.received(items) },
  });

  return () => {
    frame.destroy();
    pixels.closeAll();
  };
}

export default { render };
