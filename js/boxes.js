// nblabel bounding-box widget: draw, select, move, resize and classify boxes on a zoomable image.
//
// The kernel sends images ahead of the cursor (downscaled, with their original size); boxes are
// edited entirely in the browser in original image pixels (lib/box_editor.js, with the pointer
// through lib/tools/box.js) on the zoomable stage (lib/viewport.js); Enter sends the image's
// boxes as GT's label object through the same outbox as every widget (lib/channel.js), and the
// next image shows at once.
import { AttributePanel, attributesFor, FRAME_KEY, fixedNames, given, hasAttributes, missing, OBJECT_KEY } from "./lib/attributes.js";
import { BoxEditor, boxIntentForKey } from "./lib/box_editor.js";
import { colorOf } from "./lib/box_paint.js";
import { classButton, h, itemNotes, setPressed, setText, showNote } from "./lib/dom.js";
import { Frame } from "./lib/frame.js";
import { uid } from "./lib/ids.js";
import { Pixels } from "./lib/pixels.js";
import { BoxTool } from "./lib/tools/box.js";
import { itemStage } from "./lib/viewport.js";

const KEEP_BEHIND = 10; // decoded images kept for going back

/** The edits of the selected box (or of none): one BoxEditor method each. */
const EDITS = { redo: "redo", cycle: "cycle", delete: "remove", duplicate: "duplicate", accept: "accept" };

function render({ model, el }) {
  const labels = model.get("labels");
  const adjusting = model.get("adjusting");
  const frame = new Frame(model);
  const { session, channel } = frame;
  const pixels = new Pixels(session, channel, KEEP_BEHIND);
  let shownKey;
  const drafts = new Map(); // key -> boxes of an answer taken back, to edit again
  // Label category and frame attributes: a panel for the selected box, one for the image.
  const config = hasAttributes(model.get("attributes")) ? model.get("attributes") : null;
  const frameValues = new Map(); // key -> the image's frame attribute values being edited
  const objectPanel = new AttributePanel("nbl-attrs-object", (values) => {
    if (tool.editor?.setAttributes(given(values))) edited();
  });
  const framePanel = new AttributePanel("nbl-attrs-frame", (values) => frameValues.set(shownKey, values));

  const stage = itemStage(channel, () => shownKey);
  const tool = new BoxTool(stage, labels, () => edited());
  stage.tool = tool;
  const { problem, message } = itemNotes();
  const notice = h("div", { class: "nbl-notice", "data-testid": "nbl-notice", hidden: true });
  const info = h("div", { class: "nbl-box-info", "data-testid": "nbl-box-info" });
  const classButtons = labels.map((label, index) =>
    classButton(label, index, {
      testid: `nbl-class-${index}`,
      onclick: () => frame.act({ type: "class", index }),
      swatch: colorOf(index),
    }),
  );

  /**
   * The boxes an image starts with: a draft taken back or the answer (the person's), else the
   * proposals, dashed: the auto-labeler's (each with its score) or the pre-annotation.
   */
  function startingBoxes(key, item) {
    const own = drafts.get(key) ?? session.values.get(key);
    if (config) {
      // The image's attributes start from the label being adjusted (or pre-annotated), as GT's.
      const earlier = item.initial?.[FRAME_KEY];
      frameValues.set(key, { ...(own?.[FRAME_KEY] ?? earlier ?? {}) });
      const fixed = adjusting ? fixedNames(config.frame ?? [], earlier) : [];
      framePanel.show("Image attributes", config.frame ?? [], frameValues.get(key), fixed);
    }
    if (own) return { boxes: own.annotations ?? [], proposals: [] };
    return { boxes: [], proposals: proposedBoxes(item) };
  }

  function proposedBoxes(item) {
    const model = item.proposal?.value;
    if (model?.annotations) return model.annotations.map((b, i) => ({ ...b, score: model.objects?.[i]?.confidence ?? null }));
    return item.initial?.annotations ?? [];
  }

  /**
   * A new round proposes boxes for the image on screen: drawn at once (dashed) while the person
   * has not started on it; their answer, a draft or any edit stays as it is.
   */
  function renewProposals(proposals) {
    const item = session.currentItem;
    const key = session.current;
    if (key !== shownKey || !(key in proposals) || !tool.editor || drafts.has(key) || session.values.get(key)) return;
    tool.editor.renewProposals(proposedBoxes(item));
  }

  /** A new item (or its pixels) on screen: its editor and its image on the stage. */
  function open(key, item) {
    const fresh = key !== shownKey;
    shownKey = key;
    if (item && !item.error && item.bitmap) {
      if (fresh || !tool.editor) {
        const { boxes, proposals } = startingBoxes(key, item);
        tool.editor = new BoxEditor(item.original_width, item.original_height, boxes, proposals);
      }
      stage.setImage({ bitmap: item.bitmap, width: item.original_width, height: item.original_height });
    } else {
      tool.editor = null;
      stage.setImage(null);
      if (item && !item.error) shownKey = undefined; // pixels still to come: rebuild when they do
    }
    pixels.release();
  }

  function show() {
    const key = session.current;
    const item = session.currentItem;
    if (key !== shownKey || (item?.bitmap && !stage.image?.bitmap)) open(key, item);
    pixels.showItem(item, { frame, stage, problem, message });
    const answered = key !== null && session.values.get(key) != null;
    const n = item && !item.error && !answered ? proposedBoxes(item).length : 0;
    const notes = [];
    if (item?.notice) notes.push(item.notice);
    if (n) {
      const what = item.proposal?.value?.annotations ? "proposed by the auto-labeler" : adjusting ? "from the label being adjusted" : "pre-annotated";
      notes.push(
        `${n} box${n === 1 ? "" : "es"} ${what} (dashed): Enter accepts all; a click or Tab then a accepts one; drag to adjust, Delete removes, draw to add.`,
      );
    }
    notice.hidden = notes.length === 0;
    setText(notice, notes.join(" "));
    for (const b of classButtons) b.disabled = !item || Boolean(item.error);
    edited();
    frame.showProgress();
    frame.showStatus();
  }

  // After any edit or selection change: redraw, and say what is selected.
  function edited() {
    const { editor, currentClass } = tool;
    const root = frame.root;
    stage.requestDraw();
    const sel = editor?.boxes[editor.selected];
    classButtons.forEach((b, index) => {
      const chosen = sel ? sel.class_id === index : currentClass === index;
      setPressed(b, chosen);
    });
    if (!editor) {
      setText(info, "");
      root.dataset.boxes = "[]";
      return;
    }
    const count = editor.boxes.length;
    const waiting = editor.waiting;
    const what = sel
      ? ` · selected: ${labels[sel.class_id]} at ${sel.left}, ${sel.top}, ${sel.width} × ${sel.height} px`
      : ` · next box: ${labels[currentClass]}`;
    const proposed = waiting ? ` (${waiting} proposed)` : "";
    const score = sel?.proposed && sel.score !== null ? ` · score ${sel.score.toFixed(2)}` : "";
    setText(info, `${count} box${count === 1 ? "" : "es"}${proposed}${what}${score}`);
    root.dataset.boxes = JSON.stringify(editor.answer);
    root.dataset.proposed = String(waiting);
    root.dataset.selected = String(editor.selected);
    if (config) showObjectPanel(editor, sel);
  }

  /** The selected box's attributes, rebuilt only when another box (or class) is selected or its
   * values changed elsewhere (undo), so a field being edited keeps the keyboard. */
  let panelShows = null;
  function showObjectPanel(editor, sel) {
    const label = sel ? labels[sel.class_id] : null;
    const shows = sel ? JSON.stringify([editor.selected, label, sel[OBJECT_KEY] ?? null]) : null;
    if (shows === panelShows) return;
    panelShows = shows;
    // The field just edited made this change: the panel shows it already and keeps the keyboard.
    const typed = sel && objectPanel.el.contains(document.activeElement);
    if (typed && JSON.stringify(given(objectPanel.values)) === JSON.stringify(sel[OBJECT_KEY] ?? null)) return;
    const list = sel ? attributesFor(config, label) : [];
    objectPanel.show(`Box ${editor.selected + 1}: ${label}`, list, sel?.[OBJECT_KEY], fixedFor(sel, list));
  }

  /** The selected box's attributes GT's editsAllowed "none" keeps: in an adjustment job, those
   * the box being adjusted gave (its `origin` among the label's boxes). */
  function fixedFor(sel, list) {
    const item = session.currentItem;
    if (!adjusting || !sel || sel.origin === undefined || item?.proposal?.value?.annotations) return [];
    return fixedNames(list, item?.initial?.annotations?.[sel.origin]?.[OBJECT_KEY]);
  }

  /** Why the answer cannot be sent yet (required attributes left empty), or null. */
  function unfinished(editor) {
    if (!config) return null;
    const missed = [];
    editor.boxes.forEach((b, i) => {
      const names = missing(attributesFor(config, labels[b.class_id]), b[OBJECT_KEY]);
      if (names.length) missed.push({ i, text: `box ${i + 1} (${labels[b.class_id]}) needs ${names.join(", ")}` });
    });
    const frameMissing = missing(config.frame ?? [], frameValues.get(shownKey));
    const parts = missed.map((m) => m.text);
    if (frameMissing.length) parts.push(`the image needs ${frameMissing.join(", ")}`);
    if (!parts.length) return null;
    if (missed.length) editor.select(missed[0].i); // show the first box that needs them
    return `Not submitted: ${parts.join("; ")} (t goes to the attributes).`;
  }

  function submit(item) {
    const { editor } = tool;
    editor.cancelDrag();
    const reason = unfinished(editor);
    if (reason) {
      edited();
      showNote(notice, reason);
      return;
    }
    const value = {
      image_size: [{ width: item.original_width, height: item.original_height, depth: item.depth ?? 3 }],
      annotations: editor.answer,
    };
    const frameGiven = config && given(frameValues.get(shownKey));
    if (frameGiven) value[FRAME_KEY] = frameGiven;
    const actions = editor.actions(); // what the person did to the proposals, stored with the answer
    if (actions) value.actions = actions;
    drafts.delete(session.current);
    frame.record(session.answer(value, uid()));
  }

  /** Classes, box edits and the view; skip, answer undo and revisiting are the frame's. */
  function onIntent(intent) {
    const item = session.currentItem;
    const { editor } = tool;
    const usable = item && !item.error && editor;
    switch (intent.type) {
      case "class":
        tool.currentClass = intent.index;
        if (usable) editor.setClass(intent.index);
        edited();
        return true;
      case "submit":
        if (usable) submit(item);
        return true;
      case "undo": {
        if (editor?.undo()) {
          edited();
          return true;
        }
        // No edit left on this image: the frame takes back the last answer, kept here to edit.
        const last = session.answers[session.answers.length - 1];
        if (last?.kind === "label") drafts.set(last.key, last.value);
        return false;
      }
      case "redo":
      case "accept":
      case "cycle":
      case "delete":
      case "duplicate":
        if (editor?.[EDITS[intent.type]](intent.step)) edited();
        return true;
      case "deselect":
        editor?.select(-1);
        edited();
        return true;
      case "arrow":
        if (!editor || editor.selected < 0) return arrowRevisits(intent);
        editor.nudge(intent.dx, intent.dy);
        edited();
        return true;
      case "fit":
        stage.fit();
        return true;
      default:
        return false;
    }
  }

  /** ← and → with no box selected move through the images, as in the other widgets. */
  function arrowRevisits(intent) {
    if (intent.dy === 0 && intent.dx !== 0) frame.act({ type: intent.dx < 0 ? "back" : "forward" });
    return true;
  }

  function keys(event) {
    // A focused button keeps Enter and space for itself; every other key is the widget's.
    if (event.target !== frame.root && (event.key === "Enter" || event.key === " ")) return null;
    if (stage.handleKey(event)) return true;
    // t: into the attributes, the selected box's first, else the image's.
    if (config && event.key === "t" && !event.ctrlKey && !event.metaKey && !event.altKey) return objectPanel.focus() || framePanel.focus() || null;
    const intent = boxIntentForKey(event, labels.length);
    // Tab moves between boxes only when there are boxes; otherwise it leaves the widget.
    if (intent?.type === "cycle" && !tool.editor?.boxes.length) return null;
    return intent;
  }

  frame.mount(el, {
    className: "nbl-boxes",
    body: [h("div", { class: "nbl-stage nbl-viewport-wrap" }, [stage.el, problem, message]), notice, info, h("div", { class: "nbl-classes" }, classButtons), objectPanel.el, framePanel.el],
    actions: [
      ["submit", "Submit ⏎", "Submit this image's boxes (Enter)"],
      ["skip", "Skip", "Skip this image (s)"],
      ["undo", "Undo", "Undo the last edit (z or Backspace)"],
      ["redo", "Redo", "Redo (Shift+Z)"],
      ["duplicate", "Duplicate", "Duplicate the selected box (d)"],
      ["delete", "Delete", "Delete the selected box (Delete)"],
      ["fit", "Fit", "Fit the image (f)"],
      ["back", "← Back", "Previous image (← with no box selected)"],
      ["forward", "Forward →", "Next image (→ with no box selected)"],
    ],
    help:
      "Drag to draw · click to select (a proposal: accept) · drag a box or its handles · 1–9, 0 class · Tab next box · a accept it · " +
      "arrows nudge (Shift ×10) · Delete · d duplicate · Enter submit · s skip · z undo · Shift+Z redo · " +
      `wheel or +/- zoom · space-drag pan · f fit${config ? " · t attributes (Esc back)" : ""}`,
    keys,
    keyup: (event) => {
      if (stage.handleKeyUp(event)) event.preventDefault();
    },
    onIntent,
    show,
    flash: (text) => showNote(notice, text),
    follow: {
      received: (items) => pixels.received(items),
      reopened: () => (shownKey = undefined), // its boxes start again from the reopened answer
      proposals: renewProposals, // show() follows and redraws
      other: stage.receiveDetail,
    },
  });

  return () => {
    frame.destroy();
    stage.destroy();
    pixels.closeAll();
  };
}

export default { render };
