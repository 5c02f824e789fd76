// nblabel semantic-segmentation widget: paint one class per original pixel on a zoomable image.
//
// The mask lives in the browser as a Uint8Array of class indices at the original resolution
// (lib/mask.js: integer brush, polygon, flood and fill rules, tile-based undo), painted with the
// tools of lib/tools/ (brush.js, polygon.js); the overlay is coloured from it
// (lib/mask_layer.js) on the zoomable stage (lib/viewport.js). Enter sends the indices,
// zlib-compressed, as a binary buffer through the same outbox as every widget (lib/channel.js);
// the kernel writes the indexed PNG. The next image shows at once. The assisted tools (box or
// extreme points → mask, superpixel brush, magic wand: lib/tools/assist.js) are edits like a stroke.
import { AttributePanel, attributesFor, FRAME_KEY, given, hasAttributes, missing, missingByLabel, OBJECT_KEY } from "./lib/attributes.js";
import { classButton, h, itemNotes, setPressed, setText, showNote } from "./lib/dom.js";
import { Frame } from "./lib/frame.js";
import { uid } from "./lib/ids.js";
import { CLASS_KEYS } from "./lib/keys.js";
import { MaskEditor, deflate, inflate } from "./lib/mask.js";
import { MaskLayer } from "./lib/mask_layer.js";
import { Pixels } from "./lib/pixels.js";
import { ASSIST_TOOLS, AssistTools } from "./lib/tools/assist.js";
import { Brush, pixelAt } from "./lib/tools/brush.js";
import { ConfidenceView } from "./lib/tools/confidence.js";
import { learnMessage } from "./lib/tools/strokes.js";
import { Polygon } from "./lib/tools/polygon.js";
import { itemStage } from "./lib/viewport.js";

const KEEP_BEHIND = 6; // decoded images kept for going back
const KEEP_MASK_BYTES = 256 * 1024 * 1024; // answered masks kept to show again (and undo), newest first
const OPACITIES = [0.25, 0.5, 0.75, 1];
const TOOLS = { b: "brush", e: "eraser", p: "polygon", g: "flood" };
for (const [tool, { key }] of Object.entries(ASSIST_TOOLS)) TOOLS[key] = tool;
const KEYS = {
  "[": { type: "size", step: -1 },
  "]": { type: "size", step: 1 },
  r: { type: "fill-rest" },
  l: { type: "learn" },
  v: { type: "confidence" },
  o: { type: "opacity" },
  m: { type: "toggle" },
  s: { type: "skip" },
  Enter: { type: "enter" },
  Escape: { type: "escape" },
  Backspace: { type: "undo" },
  ArrowLeft: { type: "back" },
  ArrowRight: { type: "forward" },
};

/** The segmentation widget's keyboard map: the intent of a keydown, or null. */
function segmentIntent(event, nLabels) {
  if (event.ctrlKey || event.metaKey || event.altKey) return null;
  const index = CLASS_KEYS.indexOf(event.key);
  if (index !== -1) return index < nLabels ? { type: "class", index } : null;
  const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
  if (TOOLS[key] && !event.shiftKey) return { type: "tool", tool: TOOLS[key] };
  if (key === "z") return { type: event.shiftKey ? "redo" : "undo" };
  return KEYS[key] ?? null;
}

/** A proposed mask's pixels (the auto-labeler's, with the kernel's buffers), unpacked as
 * `proposal.mask`, and its coarse per-pixel confidence as `proposal.confidenceMap`. */
async function unpackProposal(proposal, buffers) {
  const m = proposal?.value;
  if (m?.data?.buffer === undefined) return;
  proposal.mask = await inflate(buffers[m.data.buffer], m.width, m.height);
  delete m.data;
  const c = m.confidence;
  if (c?.data?.buffer === undefined) return;
  proposal.confidenceMap = { width: c.width, height: c.height, data: await inflate(buffers[c.data.buffer], c.width, c.height) };
  delete c.data;
}

// The masks that came with items (an earlier answer, the label being adjusted, the model's
// proposal), unpacked.
async function unpackMasks(items, buffers) {
  await Promise.all(
    items.map(async (item) => {
      try {
        await unpackProposal(item.proposal, buffers);
      } catch (err) {
        item.notice = `could not read the proposed mask: ${err?.message ?? err}`;
      }
      for (const [field, target] of [
        ["value", "valueMask"],
        ["initial", "initialMask"],
      ]) {
        const m = item[field];
        if (m?.data?.buffer === undefined) continue;
        try {
          item[target] = await inflate(buffers[m.data.buffer], m.width, m.height);
        } catch (err) {
          item.notice = `could not read the ${field === "value" ? "earlier answer" : "mask to adjust"}: ${err?.message ?? err}`;
        }
        delete m.data;
      }
    }),
  );
}

/** Keep an answered mask to show again, dropping the oldest past the memory budget. */
function keepMask(masks, key, pixels) {
  masks.delete(key);
  masks.set(key, pixels);
  let total = 0;
  for (const m of masks.values()) total += m.length;
  for (const [k, m] of masks) {
    if (total <= KEEP_MASK_BYTES || masks.size <= 1) break;
    masks.delete(k);
    total -= m.length;
  }
}

/**
 * The painting tools of the segmentation widget: which tool, class, brush size and opacity are in
 * use (their buttons, the opacity slider, the root's data attributes), and the stage tool that
 * paints with them on `mask.editor`, coloured by `mask.layer`. `edited(count)` is called after every
 * change (`count`: pixels were painted).
 */
function paintingTools(frame, stage, colors, mask, edited, assist, confidence) {
  const brush = new Brush(20);
  const polygon = new Polygon();
  const view = { tool: "brush", currentClass: 1, opacity: 0.5, visible: true }; // class 0 is BACKGROUND (the eraser)
  const toolButtons = {
    brush: frame.button("tool-brush", "Brush b", "Paint with the brush (b)", { type: "tool", tool: "brush" }),
    eraser: frame.button("tool-eraser", "Eraser e", "Erase to BACKGROUND (e)", { type: "tool", tool: "eraser" }),
    polygon: frame.button("tool-polygon", "Polygon p", "Click corners, Enter or the first corner fills (p)", { type: "tool", tool: "polygon" }),
    flood: frame.button("tool-flood", "Fill g", "Fill the clicked region (g)", { type: "tool", tool: "flood" }),
  };
  for (const [tool, { label, title }] of Object.entries(ASSIST_TOOLS)) toolButtons[tool] = frame.button(`tool-${tool}`, label, title, { type: "tool", tool });
  const opacityInput = h("input", {
    type: "range",
    min: "0",
    max: "100",
    step: "5",
    value: String(view.opacity * 100),
    "data-testid": "nbl-opacity",
    "aria-label": "mask opacity",
    oninput: (e) => {
      view.opacity = Number(e.target.value) / 100;
      edited(false);
    },
  });
  const tools = h("div", { class: "nbl-actions nbl-seg-tools" }, [
    ...Object.values(toolButtons),
    frame.button("fill-rest", "Fill rest r", "Every unpainted pixel takes the current class (r)"),
    frame.button("learn", "Learn l", "Teach the auto-labeler the strokes painted so far, without answering (l)"),
    frame.button("smaller", "[", "Smaller brush ([)", { type: "size", step: -1 }),
    frame.button("larger", "]", "Larger brush (])", { type: "size", step: 1 }),
    frame.button("toggle-mask", "Hide mask m", "Hide or show the mask (m)", { type: "toggle" }),
    frame.button("confidence", "Confidence v", "Dim the proposal's low-confidence pixels (v)"),
    h("label", { class: "nbl-opacity", title: "Mask opacity (o steps it)" }, [h("span", { text: "Opacity" }), opacityInput]),
  ]);

  // -- the painting tools on the stage ---------------------------------------------------------
  /** One click or drag of the tool in use, on the mask of the image on screen. */
  const maskTool = {
    cursor: "crosshair",
    down(p, event) {
      if (!mask.editor) return false;
      const { tool, currentClass } = view;
      if (assist.handles(tool)) return assist.down(tool, p, currentClass, event);
      if (tool === "flood") {
        const q = pixelAt(p);
        mask.editor.begin();
        mask.editor.flood(q.x, q.y, currentClass);
        mask.editor.end();
        frame.root.dataset.flood = JSON.stringify({ value: currentClass, point: [q.x, q.y] });
        edited();
      } else if (tool === "polygon") {
        if (polygon.click(p, stage.viewport.scale) === "close") closePolygon();
        else edited(false);
      } else {
        brush.begin(mask.editor, p, tool === "eraser" ? 0 : currentClass);
        return true; // the stroke follows the drag
      }
      return false;
    },
    move(p) {
      if (assist.handles(view.tool)) assist.move(view.tool, p);
      else if (brush.stroke) brush.to(mask.editor, p);
    },
    up(p, event) {
      if (assist.handles(view.tool)) return assist.up(view.tool, p, event, view.currentClass, stage.viewport.scale);
      if (!brush.stroke) return;
      frame.root.dataset.stroke = JSON.stringify(brush.end(mask.editor, p));
      edited();
    },
    // The mask on the stage's layer canvas: only the rectangle painted since the last frame is
    // recoloured and redrawn (the whole visible mask when the view or the opacity changed).
    drawLayer(ctx, st) {
      if (!mask.editor || !mask.layer) return;
      const rect = mask.editor.takeDirty();
      if (rect) mask.layer.update(mask.editor.data, rect);
      mask.layer.paint(ctx, st.viewport, view.visible ? view.opacity : 0);
    },
    draw(ctx, st) {
      if (!mask.editor || !mask.layer) return;
      confidence.draw(ctx, st.viewport, mask.editor.width, mask.editor.height); // under the tools' marks
      const eraser = view.tool === "eraser";
      const color = colors[eraser ? 0 : view.currentClass] ?? "#000";
      polygon.draw(ctx, st.viewport, st.pointer, color);
      assist.draw(ctx, st.viewport, color);
      if (st.pointer && !st.panning && (view.tool === "brush" || eraser)) brush.drawOutline(ctx, st.viewport, st.pointer, eraser ? "#fff" : color);
    },
  };
  stage.tool = maskTool;

  function closePolygon() {
    if (!mask.editor) return;
    const filled = polygon.close(mask.editor, view.currentClass);
    if (filled) frame.root.dataset.polygon = JSON.stringify(filled);
    edited();
  }

  /** The buttons and the root's data attributes say which tool, class, size and opacity are in use. */
  function showTools() {
    const { tool, currentClass, opacity, visible } = view;
    for (const [name, b] of Object.entries(toolButtons)) {
      setPressed(b, tool === name);
    }
    setText(toolButtons.brush, `Brush ${brush.size}px b`);
    setText(frame.buttons["toggle-mask"], visible ? "Hide mask m" : "Show mask m");
    if (opacityInput.value !== String(Math.round(opacity * 100))) opacityInput.value = String(Math.round(opacity * 100));
    Object.assign(frame.root.dataset, {
      tool,
      brush: String(brush.size),
      class: String(currentClass),
      opacity: String(opacity),
      maskVisible: String(visible),
      confidenceView: confidence.state,
      polygonCorners: String(polygon.corners?.length ?? 0),
    });
    setText(toolButtons.wand, `Wand ±${assist.tolerance} w`);
  }

  /** Settings that change no pixel: class, tool, brush size, opacity, showing the mask. */
  function setting(intent) {
    if (intent.type === "class") {
      view.currentClass = intent.index + 1;
      if (view.tool === "eraser") view.tool = "brush";
    } else if (intent.type === "tool") {
      if (intent.tool !== "polygon") polygon.cancel();
      view.tool = intent.tool;
      assist.reset(intent.tool);
    } else if (intent.type === "size") {
      if (view.tool === "wand") assist.resize(intent.step);
      else brush.resize(intent.step);
    }
    else if (intent.type === "opacity") view.opacity = OPACITIES[(OPACITIES.indexOf(view.opacity) + 1) % OPACITIES.length] ?? 0.5;
    else if (intent.type === "toggle") view.visible = !view.visible;
    else if (intent.type === "confidence") {
      if (confidence.toggle() && !confidence.map) frame.flash("This image has no proposal, so no confidence to show.");
    }
    else if (intent.type === "escape") {
      polygon.cancel();
      assist.reset(view.tool);
    }
    else return false;
    edited(false);
    return true;
  }

  frame.listen(stage.overlay, "dblclick", (event) => {
    if (view.tool === "polygon" && polygon.drawing) {
      event.preventDefault();
      closePolygon();
    }
  });
  return { brush, polygon, view, tools, opacityInput, showTools, setting, closePolygon };
}

function render({ model, el }) {
  const labels = model.get("labels");
  const colors = model.get("colors");
  const adjusting = model.get("adjusting");
  const frame = new Frame(model);
  const { session, channel } = frame;
  // Released far behind the cursor: the image, and the masks unpacked for it.
  const pixels = new Pixels(session, channel, KEEP_BEHIND, (item) => {
    item.valueMask = null;
    item.initialMask = null;
  });
  const masks = new Map(); // key -> indices of an answer given (or taken back) here, to show again
  // The mask of the image on screen, its colours, and the indices it came on screen with (what
  // "learn from strokes" compares with).
  const mask = { editor: null, layer: null, start: null };
  let shownKey;
  // Label category and frame attributes: a panel for the class being painted, one for the image;
  // per image, {class: values} and the image's values being edited.
  const config = hasAttributes(model.get("attributes")) ? model.get("attributes") : null;
  const attrValues = new Map(); // key -> {classes: {label: values}, frame: values}
  const classPanel = new AttributePanel("nbl-attrs-object", (values) => {
    attributesOf(shownKey).classes[labels[view.currentClass - 1]] = values;
  });
  const framePanel = new AttributePanel("nbl-attrs-frame", (values) => (attributesOf(shownKey).frame = values));

  const stage = itemStage(channel, () => shownKey);
  const { problem, message } = itemNotes();
  const notice = h("div", { class: "nbl-notice", "data-testid": "nbl-notice", hidden: true });
  const info = h("div", { class: "nbl-seg-info", "data-testid": "nbl-seg-info" });
  const classButtons = labels.map((label, index) =>
    classButton(label, index, { testid: `nbl-class-${index}`, onclick: () => frame.act({ type: "class", index }), swatch: colors[index + 1] }),
  );
  const assist = new AssistTools({
    channel,
    root: () => frame.root,
    key: () => shownKey,
    item: () => session.currentItem,
    mask,
    edited: (count) => edited(count),
    flash: (text) => showNote(notice, text),
    size: () => brush.size,
  });
  const confidence = new ConfidenceView();
  const { brush, polygon, view, tools, opacityInput, showTools, setting, closePolygon } = paintingTools(frame, stage, colors, mask, (count) => edited(count), assist, confidence);

  // -- drawing --------------------------------------------------------------------------------
  /** A new item (or its pixels) on screen: its mask mask.editor, its mask.layer, its image on the stage. */
  function open(key, item) {
    const fresh = key !== shownKey;
    shownKey = key;
    polygon.cancel();
    brush.cancel();
    if (fresh) assist.reset(view.tool);
    if (item && !item.error && item.bitmap) {
      if (fresh || !mask.editor) {
        const w = item.original_width;
        const hgt = item.original_height;
        let start = masks.get(key) ?? item.valueMask ?? item.initialMask ?? item.proposal?.mask ?? null;
        if (start && start.length !== w * hgt) {
          showNote(notice, `The starting mask does not fit this ${w} x ${hgt} image; starting blank.`);
          start = null;
        }
        mask.editor = new MaskEditor(w, hgt, start);
        mask.start = mask.editor.data.slice();
        // The model's confidence goes with its proposal, shown only while the proposal is the start.
        confidence.show(start && start === item.proposal?.mask ? item.proposal.confidenceMap : null);
        mask.layer?.destroy();
        mask.layer = new MaskLayer(w, hgt, colors);
        mask.layer.update(mask.editor.data);
        mask.editor.takeDirty();
      }
      stage.setImage({ bitmap: item.bitmap, width: item.original_width, height: item.original_height });
    } else {
      mask.editor = null;
      mask.start = null;
      confidence.show(null);
      mask.layer?.destroy();
      mask.layer = null;
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
    const notes = [];
    if (item?.notice) notes.push(item.notice);
    const answered = key !== null && (session.values.get(key) != null || masks.has(key));
    if (item?.initialMask && !answered) {
      notes.push(adjusting ? "Starting from the mask being adjusted: Enter accepts it as it is; paint to change it." : "Starting from an earlier mask.");
    } else if (item?.proposal?.mask && !answered) {
      const unsure = item.proposal.confidenceMap ? " v dims where the model is unsure." : "";
      notes.push(`Starting from the model's proposal (confidence ${Math.round(item.proposal.confidence * 100)}%): Enter accepts it as it is; paint to change it.${unsure}`);
    }
    frame.root.dataset.proposal = item?.proposal?.mask && !answered ? String(item.proposal.confidence) : "";
    notice.hidden = notes.length === 0;
    setText(notice, notes.join(" "));
    for (const b of classButtons) b.disabled = !item || Boolean(item.error);
    edited();
    frame.showProgress();
    frame.showStatus();
  }

  // After any edit or setting change: redraw, and say what the tools are (`count`: count the
  // painted pixels again, after an edit).
  function edited(count = true) {
    const root = frame.root;
    stage.requestDraw();
    showTools();
    classButtons.forEach((b, index) => {
      const chosen = view.currentClass === index + 1 && view.tool !== "eraser";
      setPressed(b, chosen);
    });
    if (!mask.editor) {
      setText(info, "");
      if (config) showPanels();
      return;
    }
    if (count) {
      let painted = 0;
      const data = mask.editor.data;
      for (let i = 0; i < data.length; i += 1) if (data[i] !== 0) painted += 1;
      root.dataset.painted = String(painted);
      root.dataset.edits = String(mask.editor.undoStack.length);
    }
    const what = view.tool === "eraser" ? "eraser" : `${view.tool} · ${labels[view.currentClass - 1]}`;
    const pct = ((100 * Number(root.dataset.painted || 0)) / mask.editor.data.length).toFixed(1);
    const corners = polygon.corners ? ` · polygon: ${polygon.corners.length} corners, Enter fills` : "";
    setText(info, `${what} · brush ${brush.size}px · ${pct}% painted${corners}${assist.status(view.tool)}`);
    if (config) showPanels();
  }

  /** The attribute values being edited for an image: from its answer when it has one. */
  function attributesOf(key) {
    if (!attrValues.has(key)) {
      const value = session.values.get(key);
      attrValues.set(key, { classes: structuredClone(value?.[OBJECT_KEY] ?? {}), frame: { ...(value?.[FRAME_KEY] ?? {}) } });
    }
    return attrValues.get(key);
  }

  /** The panels for the image on screen and the class being painted, rebuilt only when either
   * changes, so a field being edited keeps the keyboard. */
  let panelShows = null;
  function showPanels() {
    const usable = Boolean(mask.editor);
    const label = labels[view.currentClass - 1];
    const shows = JSON.stringify([shownKey ?? null, usable, label]);
    if (shows === panelShows) return;
    panelShows = shows;
    const values = attributesOf(shownKey);
    classPanel.show(`Class: ${label}`, usable ? attributesFor(config, label) : [], values.classes[label]);
    framePanel.show("Image attributes", usable ? config.frame ?? [] : [], values.frame);
  }

  /** Why the mask cannot be sent yet (required attributes of its classes or the image left
   * empty), or null; the first class that needs some becomes the one painted, to show them. */
  function unfinished(present) {
    const values = attributesOf(shownKey);
    const classes = missingByLabel(config, present, values.classes);
    const parts = classes.map((m) => `${m.label} needs ${m.names.join(", ")}`);
    const frameMissing = missing(config.frame ?? [], values.frame);
    if (frameMissing.length) parts.push(`the image needs ${frameMissing.join(", ")}`);
    if (!parts.length) return null;
    if (classes.length) {
      view.currentClass = labels.indexOf(classes[0].label) + 1;
      edited(false);
    }
    return `Not submitted: ${parts.join("; ")} (t goes to the attributes).`;
  }

  // -- acting ---------------------------------------------------------------------------------
  function submit(item) {
    const answer = { width: item.original_width, height: item.original_height };
    if (config) {
      const present = mask.editor.present().map((c) => labels[c - 1]);
      const reason = unfinished(present);
      if (reason) {
        showNote(notice, reason);
        return;
      }
      const values = attributesOf(shownKey);
      const classes = Object.fromEntries(present.map((label) => [label, given(values.classes[label])]).filter(([, v]) => v));
      if (Object.keys(classes).length) answer[OBJECT_KEY] = classes;
      const frameGiven = given(values.frame);
      if (frameGiven) answer[FRAME_KEY] = frameGiven;
    }
    const pixelsOut = mask.editor.data.slice();
    keepMask(masks, session.current, pixelsOut);
    const msg = session.answer(answer, uid());
    // Compressing the mask is off the critical path: it is done once the next image is painted.
    frame.record(msg, async () => [await deflate(pixelsOut)]);
  }

  /** Learn from strokes: the pixels painted so far (the others unknown) teach the auto-labeler;
   * the image stays on screen, unanswered. */
  function learn(item) {
    const learning = learnMessage(shownKey, item.original_width, item.original_height, mask.editor.data, mask.start);
    if (!learning) {
      showNote(notice, "Nothing painted yet: paint a few strokes of each class, then press l.");
      return;
    }
    frame.root.dataset.learn = JSON.stringify(learning.msg);
    deflate(learning.pixels).then((bytes) => channel.trySend(learning.msg, [bytes]));
  }

  /** The kernel kept the strokes for the auto-labeler's next round. */
  function learned(msg) {
    frame.root.dataset.learned = JSON.stringify({ key: msg.key, painted: msg.painted });
    if (msg.key === shownKey) showNote(notice, `The auto-labeler learns from these ${msg.painted} painted pixels in its next round; the image still waits for its answer.`);
  }

  /** Tools, settings and mask edits; skip, answer undo and revisiting are the frame's. */
  function onIntent(intent) {
    const item = session.currentItem;
    const usable = item && !item.error && mask.editor;
    if (setting(intent)) return true;
    switch (intent.type) {
      case "fill-rest":
        if (!usable) return true;
        mask.editor.begin();
        mask.editor.fillRest(view.currentClass);
        mask.editor.end();
        edited();
        return true;
      case "learn":
        if (usable) learn(item);
        return true;
      case "enter":
        if (polygon.drawing) closePolygon();
        else if (usable) submit(item);
        return true;
      case "submit":
        if (usable) submit(item);
        return true;
      case "undo":
        if (polygon.pop()) edited(false);
        else if (mask.editor?.undo()) edited();
        else {
          // The frame takes back the last answer: rebuild the editor from its mask, in `masks`.
          if (session.answers.length) shownKey = undefined;
          return false;
        }
        return true;
      case "redo":
        if (mask.editor?.redo()) edited();
        return true;
      case "fit":
        stage.fit();
        return true;
      default:
        return false;
    }
  }

  function keys(event) {
    // A focused button keeps Enter and space for itself; every other key is the widget's.
    if (event.target !== frame.root && (event.key === "Enter" || event.key === " ")) return null;
    if (event.target === opacityInput && event.key.startsWith("Arrow")) return null;
    if (stage.handleKey(event)) return true;
    // t: into the attributes, the painted class's first, else the image's.
    if (config && event.key === "t" && !event.ctrlKey && !event.metaKey && !event.altKey) return classPanel.focus() || framePanel.focus() || null;
    return segmentIntent(event, labels.length);
  }

  frame.mount(el, {
    className: "nbl-segment",
    body: [h("div", { class: "nbl-stage nbl-viewport-wrap" }, [stage.el, problem, message]), notice, info, h("div", { class: "nbl-classes" }, classButtons), tools, classPanel.el, framePanel.el],
    actions: [
      ["submit", "Submit ⏎", "Submit this image's mask (Enter)"],
      ["skip", "Skip", "Skip this image (s)"],
      ["undo", "Undo", "Undo the last edit (z or Backspace)"],
      ["redo", "Redo", "Redo (Shift+Z)"],
      ["fit", "Fit", "Fit the image (f)"],
      ["back", "← Back", "Previous image (←)"],
      ["forward", "Forward →", "Next image (→)"],
    ],
    help:
      "b brush · e eraser · p polygon (Enter closes) · g fill region · c box → mask · x extreme points → mask (click to add, " +
      "Shift-click to remove, Alt-drag refines with a stroke, Alt+Shift-drag: not the object, Esc next object) · u superpixels · w wand · r fill rest · l learn from strokes (teach the auto-labeler, no answer) · [ ] brush size / wand tolerance · 1–9, 0 class · " +
      "o opacity · m hide mask · v dim a proposal's low-confidence pixels · z undo · Shift+Z redo · Enter submit · s skip · wheel or +/- zoom · space-drag pan · f fit" +
      (config ? " · t attributes (Esc back)" : ""),
    keys,
    keyup: (event) => {
      if (stage.handleKeyUp(event)) event.preventDefault();
    },
    onIntent,
    show,
    flash: (text) => showNote(notice, text),
    follow: {
      received: (items, buffers) => {
        pixels.received(items);
        return unpackMasks(items, buffers);
      },
      reopened: (key) => {
        // The kernel undid an answer from an earlier session: its mask is the one to edit again.
        const item = session.items.get(key);
        if (item?.valueMask) keepMask(masks, key, item.valueMask);
        shownKey = undefined;
      },
      other: (msg, buffers) => {
        if (msg.type !== "learned") return assist.receive(msg, buffers) || stage.receiveDetail(msg, buffers);
        learned(msg);
        return true;
      },
      unpackProposals: async (msg, buffers) => {
        await Promise.all(Object.values(msg.proposals ?? {}).map((p) => unpackProposal(p, buffers).catch(() => delete p.value)));
        // The image on screen starts over from its new proposal, unless the person has touched it.
        const key = session.current;
        if (key in (msg.proposals ?? {}) && msg.proposals[key].mask && !mask.editor?.undoStack.length && session.values.get(key) == null && !masks.has(key)) shownKey = undefined;
      },
    },
  });

  return () => {
    frame.destroy();
    stage.destroy();
    mask.layer?.destroy();
    pixels.closeAll();
  };
}

export default { render };
