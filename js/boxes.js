// nblabel bounding-box widget: draw, select, move, resize and classify boxes on a zoomable image.
//
// The kernel sends images ahead of the cursor (downscaled, with their original size); boxes are
// edited entirely in the browser in original image pixels (lib/box_editor.js) on the zoomable
// stage (lib/viewport.js); Enter sends the image's boxes as GT's label object through the same
// outbox as every widget (lib/channel.js), and the next image shows at once.
import { BoxEditor, boxIntentForKey } from "./lib/box_editor.js";
import { colorOf, paintBoxes } from "./lib/box_paint.js";
import { Channel, decodeBuffer } from "./lib/channel.js";
import { actionButton, classButton, h, itemNotes, setText } from "./lib/dom.js";
import { Frame, Pixels } from "./lib/frame.js";
import { uid } from "./lib/ids.js";
import { LabelSession } from "./lib/session.js";
import { itemStage } from "./lib/viewport.js";

const GRAB_PX = 6; // how close (CSS pixels) a handle or edge must be to grab it
const MIN_BOX_PX = 3; // a drag shorter than this (CSS pixels) is a click, not a box
const KEEP_BEHIND = 10; // decoded images kept for going back
const CURSORS = {
  nw: "nwse-resize",
  se: "nwse-resize",
  ne: "nesw-resize",
  sw: "nesw-resize",
  n: "ns-resize",
  s: "ns-resize",
  e: "ew-resize",
  w: "ew-resize",
  move: "move",
};

function render({ model, el }) {
  const labels = model.get("labels");
  const adjusting = model.get("adjusting");
  const session = new LabelSession();
  const frame = new Frame(model);
  const channel = new Channel(model, () => frame.showStatus());
  const pixels = new Pixels(session, channel, KEEP_BEHIND);
  let shownKey;
  let editor = null; // the boxes of the image on screen
  let currentClass = 0; // class of the next box drawn
  const drafts = new Map(); // key -> boxes of an answer taken back, to edit again

  // -- DOM ------------------------------------------------------------------------------------
  const stage = itemStage(channel, () => shownKey);
  const { problem, message } = itemNotes();
  const notice = h("div", { class: "nbl-notice", "data-testid": "nbl-notice", hidden: true });
  const info = h("div", { class: "nbl-box-info", "data-testid": "nbl-box-info" });
  const stageWrap = h("div", { class: "nbl-stage nbl-viewport-wrap" }, [stage.el, problem, message]);

  const classButtons = labels.map((label, index) =>
    classButton(label, index, {
      testid: `nbl-class-${index}`,
      onclick: () => act({ type: "class", index }),
      swatch: colorOf(index),
    }),
  );
  const button = (name, label, hint, intent) => actionButton(name, label, hint, () => act(intent));
  const actions = h("div", { class: "nbl-actions" }, [
    button("submit", "Submit ⏎", "Submit this image's boxes (Enter)", { type: "submit" }),
    button("skip", "Skip", "Skip this image (s)", { type: "skip" }),
    button("undo", "Undo", "Undo the last edit (z or Backspace)", { type: "undo" }),
    button("redo", "Redo", "Redo (Shift+Z)", { type: "redo" }),
    button("duplicate", "Duplicate", "Duplicate the selected box (d)", { type: "duplicate" }),
    button("delete", "Delete", "Delete the selected box (Delete)", { type: "delete" }),
    button("fit", "Fit", "Fit the image (f)", { type: "fit" }),
    button("back", "← Back", "Previous image (← with no box selected)", { type: "back" }),
    button("forward", "Forward →", "Next image (→ with no box selected)", { type: "forward" }),
  ]);
  const help = h("div", {
    class: "nbl-help",
    text:
      "Drag to draw · click to select · drag a box or its handles · 1–9, 0 class · Tab next box · " +
      "arrows nudge (Shift ×10) · Delete · d duplicate · Enter submit · s skip · z undo · Shift+Z redo · " +
      "wheel or +/- zoom · space-drag pan · f fit",
  });
  const root = h(
    "div",
    {
      class: "nblabel nbl-boxes",
      tabindex: "0",
      "data-testid": "nbl-root",
      "data-lm-suppress-shortcuts": "true",
    },
    [frame.header, stageWrap, notice, info, h("div", { class: "nbl-classes" }, classButtons), actions, help],
  );
  el.append(root);
  frame.attach({ root, session, channel, show });

  // -- the drawing tool -----------------------------------------------------------------------
  const tool = {
    cursor: "crosshair",
    down(p) {
      if (!editor) return false;
      const hit = editor.hit(p, GRAB_PX / stage.viewport.scale);
      if (hit) editor.beginEdit(hit.index, hit.handle, p);
      else {
        editor.select(-1);
        editor.beginDraw(p, currentClass);
      }
      return true;
    },
    move(p) {
      editor?.dragTo(p);
    },
    up(p) {
      if (!editor) return;
      editor.dragTo(p);
      const changed = editor.endDrag(Math.max(1, MIN_BOX_PX / stage.viewport.scale));
      if (changed && editor.boxes[editor.selected]) currentClass = editor.boxes[editor.selected].class_id;
      edited();
    },
    hover(p) {
      if (!editor || stage.spaceDown) return;
      const hit = editor.hit(p, GRAB_PX / stage.viewport.scale);
      stage.overlay.style.cursor = hit ? CURSORS[hit.handle] : "crosshair";
    },
    draw(ctx, st) {
      if (!editor) return;
      const vp = st.viewport;
      paintBoxes(ctx, vp, editor.boxes, labels, { selected: editor.selected });
      const pending = editor.pending;
      if (pending) paintBoxes(ctx, vp, [pending], labels, { dashed: true });
      // Crosshair guides while drawing or about to draw.
      const p = st.pointer;
      const moving = editor.drag && editor.drag.kind !== "draw";
      if (p && !moving && !st.panning) {
        const s = vp.toScreen(p.x, p.y);
        ctx.strokeStyle = "rgba(255,255,255,0.9)";
        ctx.lineWidth = 1;
        ctx.setLineDash([4, 4]);
        ctx.beginPath();
        ctx.moveTo(0, Math.round(s.y) + 0.5);
        ctx.lineTo(vp.viewWidth, Math.round(s.y) + 0.5);
        ctx.moveTo(Math.round(s.x) + 0.5, 0);
        ctx.lineTo(Math.round(s.x) + 0.5, vp.viewHeight);
        ctx.stroke();
        ctx.strokeStyle = "rgba(0,0,0,0.6)";
        ctx.lineDashOffset = 4;
        ctx.stroke();
        ctx.lineDashOffset = 0;
        ctx.setLineDash([]);
      }
    },
  };
  stage.tool = tool;

  // -- talking to the kernel ------------------------------------------------------------------
  async function onDetail(msg, buffers) {
    if (msg.type !== "detail" || msg.key !== shownKey) return;
    try {
      stage.setDetail(msg.rect, await decodeBuffer(buffers[0], msg.mime));
    } catch (err) {
      console.warn("nblabel: could not decode a sharper view", err);
    }
  }

  // -- drawing --------------------------------------------------------------------------------
  function startingBoxes(key, item) {
    const value = drafts.get(key) ?? session.values.get(key) ?? item.initial ?? null;
    return value?.annotations ?? [];
  }

  function show() {
    const key = session.current;
    const item = session.currentItem;
    if (key !== shownKey || (item?.bitmap && !stage.image?.bitmap)) {
      const fresh = key !== shownKey;
      shownKey = key;
      if (item && !item.error && item.bitmap) {
        if (fresh || !editor) editor = new BoxEditor(item.original_width, item.original_height, startingBoxes(key, item));
        stage.setImage({ bitmap: item.bitmap, width: item.original_width, height: item.original_height });
      } else {
        editor = null;
        stage.setImage(null);
        if (item && !item.error) shownKey = undefined; // pixels still to come: rebuild when they do
      }
      pixels.release();
    }
    pixels.showItem(item, { frame, stage, problem, message });
    const answered = key !== null && session.values.get(key) != null;
    const started = item && !item.error && !answered && item.initial?.annotations?.length;
    const notes = [];
    if (item?.notice) notes.push(item.notice);
    if (started) {
      const n = item.initial.annotations.length;
      const what = adjusting ? "from the label being adjusted" : "pre-annotated";
      notes.push(`${n} box${n === 1 ? "" : "es"} ${what}: Enter accepts; edit, Delete or draw to change.`);
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
    stage.requestDraw();
    classButtons.forEach((b, index) => {
      const sel = editor?.boxes[editor.selected];
      const chosen = sel ? sel.class_id === index : currentClass === index;
      b.classList.toggle("nbl-chosen", chosen);
      b.setAttribute("aria-pressed", chosen ? "true" : "false");
    });
    if (!editor) {
      setText(info, "");
      root.dataset.boxes = "[]";
      return;
    }
    const n = editor.boxes.length;
    const sel = editor.boxes[editor.selected];
    const what = sel
      ? ` · selected: ${labels[sel.class_id]} at ${sel.left}, ${sel.top}, ${sel.width} × ${sel.height} px`
      : ` · next box: ${labels[currentClass]}`;
    setText(info, `${n} box${n === 1 ? "" : "es"}${what}`);
    root.dataset.boxes = JSON.stringify(editor.boxes);
    root.dataset.selected = String(editor.selected);
  }

  function flash(text) {
    notice.hidden = false;
    setText(notice, text);
  }

  // -- acting ---------------------------------------------------------------------------------
  function act(intent) {
    const item = session.currentItem;
    const usable = item && !item.error && editor;
    switch (intent.type) {
      case "class":
        currentClass = intent.index;
        if (usable) editor.setClass(intent.index);
        edited();
        return;
      case "submit": {
        if (!usable) return;
        editor.cancelDrag();
        const value = {
          image_size: [{ width: item.original_width, height: item.original_height, depth: item.depth ?? 3 }],
          annotations: editor.boxes.map((b) => ({ ...b })),
        };
        drafts.delete(session.current);
        frame.record(session.answer(value, uid()));
        return;
      }
      case "skip":
        if (item) frame.record(session.skip(uid()));
        return;
      case "undo": {
        if (editor?.undo()) {
          edited();
          return;
        }
        const last = session.answers[session.answers.length - 1];
        if (last?.kind === "label") drafts.set(last.key, last.value);
        frame.undo();
        return;
      }
      case "redo":
        if (editor?.redo()) edited();
        return;
      case "cycle":
        if (editor?.cycle(intent.step)) edited();
        return;
      case "delete":
        if (editor?.remove()) edited();
        return;
      case "duplicate":
        if (editor?.duplicate()) edited();
        return;
      case "deselect":
        if (editor) editor.select(-1);
        edited();
        return;
      case "arrow":
        if (editor && editor.selected >= 0) {
          editor.nudge(intent.dx, intent.dy);
          edited();
        } else if (intent.dx < 0 && intent.dy === 0) act({ type: "back" });
        else if (intent.dx > 0 && intent.dy === 0) act({ type: "forward" });
        return;
      case "fit":
        stage.fit();
        return;
      case "back":
      case "forward":
        frame.revisit(intent.type);
        return;
      default:
    }
  }

  function onKeydown(event) {
    // A focused button keeps Enter and space for itself; every other key is the widget's.
    if (event.target !== root && (event.key === "Enter" || event.key === " ")) return;
    if (stage.handleKey(event)) {
      event.preventDefault();
      event.stopPropagation();
      return;
    }
    const intent = boxIntentForKey(event, labels.length);
    if (!intent) return;
    // Tab moves between boxes only when there are boxes; otherwise it leaves the widget.
    if (intent.type === "cycle" && !editor?.boxes.length) return;
    event.preventDefault();
    event.stopPropagation();
    act(intent);
  }

  function onKeyup(event) {
    if (stage.handleKeyUp(event)) event.preventDefault();
  }

  function onPointerDown(event) {
    if (!(event.target instanceof HTMLButtonElement)) root.focus({ preventScroll: true });
  }

  root.addEventListener("keydown", onKeydown);
  root.addEventListener("keyup", onKeyup);
  root.addEventListener("pointerdown", onPointerDown);
  channel.follow(session, {
    show,
    flash,
    received: (items) => pixels.received(items),
    reopened: () => {
      shownKey = undefined; // its boxes start again from the reopened answer
    },
    other: onDetail,
  });
  const onProgress = () => frame.showProgress();
  model.on("change:progress", onProgress);

  show();
  channel.hello(() => root.clientWidth);

  return () => {
    channel.destroy();
    stage.destroy();
    model.off("change:progress", onProgress);
    pixels.closeAll();
  };
}

export default { render };
