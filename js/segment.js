// nblabel semantic-segmentation widget: paint one class per original pixel on a zoomable image.
//
// The mask lives in the browser as a Uint8Array of class indices at the original resolution
// (lib/mask.js: integer brush, polygon, flood and fill rules, tile-based undo); the overlay is
// coloured from it (lib/mask_layer.js) on the zoomable stage (lib/viewport.js). Enter sends the
// indices, zlib-compressed, as a binary buffer through the same outbox as every widget
// (lib/channel.js); the kernel writes the indexed PNG. The next image shows at once.
import { Channel, decodeBuffer, decodeItems } from "./lib/channel.js";
import { actionButton, classButton, h, itemNotes, setText } from "./lib/dom.js";
import { Frame, Pixels } from "./lib/frame.js";
import { uid } from "./lib/ids.js";
import { CLASS_KEYS } from "./lib/keys.js";
import { MAX_BRUSH, MaskEditor, deflate, inflate } from "./lib/mask.js";
import { MaskLayer } from "./lib/mask_layer.js";
import { LabelSession } from "./lib/session.js";
import { itemStage } from "./lib/viewport.js";

const KEEP_BEHIND = 6; // decoded images kept for going back
const KEEP_MASK_BYTES = 256 * 1024 * 1024; // answered masks kept to show again (and undo), newest first
const CLOSE_PX = 8; // a polygon click this close (CSS pixels) to its first corner closes it
const OPACITIES = [0.25, 0.5, 0.75, 1];
const TOOLS = { b: "brush", e: "eraser", p: "polygon", g: "flood" };

function render({ model, el }) {
  const labels = model.get("labels");
  const colors = model.get("colors");
  const windowSize = model.get("window");
  const adjusting = model.get("adjusting");
  const session = new LabelSession();
  const frame = new Frame(model, { pending: () => compressing });
  const channel = new Channel(model, () => frame.showStatus());
  // Released far behind the cursor: the image, and the masks unpacked for it.
  const pixels = new Pixels(session, channel, KEEP_BEHIND, (item) => {
    item.valueMask = null;
    item.initialMask = null;
  });
  let requesting = false;
  let shownKey;
  let editor = null; // the mask of the image on screen
  let layer = null;
  let tool = "brush";
  let currentClass = 1; // 1..labels.length; 0 is BACKGROUND (the eraser)
  let brushSize = 20;
  let opacity = 0.5;
  let visible = true;
  let polygon = null; // corners of the polygon being drawn, pixels
  let stroke = null; // the brush stroke in progress: {size, value, points}
  let outgoing = Promise.resolve(); // answers leave in order, each after its mask is compressed
  let compressing = 0; // answers given whose mask is still being compressed: unsaved too
  const masks = new Map(); // key -> indices of an answer given (or taken back) here, to show again

  // -- DOM ------------------------------------------------------------------------------------
  const stage = itemStage(channel, () => shownKey);
  const { problem, message } = itemNotes();
  const notice = h("div", { class: "nbl-notice", "data-testid": "nbl-notice", hidden: true });
  const info = h("div", { class: "nbl-seg-info", "data-testid": "nbl-seg-info" });
  const stageWrap = h("div", { class: "nbl-stage nbl-viewport-wrap" }, [stage.el, problem, message]);

  const classButtons = labels.map((label, index) =>
    classButton(label, index, {
      testid: `nbl-class-${index}`,
      onclick: () => act({ type: "class", index }),
      swatch: colors[index + 1],
    }),
  );
  const button = (name, label, hint, intent) => actionButton(name, label, hint, () => act(intent));
  const toolButtons = {
    brush: button("tool-brush", "Brush b", "Paint with the brush (b)", { type: "tool", tool: "brush" }),
    eraser: button("tool-eraser", "Eraser e", "Erase to BACKGROUND (e)", { type: "tool", tool: "eraser" }),
    polygon: button("tool-polygon", "Polygon p", "Click corners, Enter or the first corner fills (p)", { type: "tool", tool: "polygon" }),
    flood: button("tool-flood", "Fill g", "Fill the clicked region (g)", { type: "tool", tool: "flood" }),
  };
  const opacityInput = h("input", {
    type: "range",
    min: "0",
    max: "100",
    step: "5",
    value: String(opacity * 100),
    "data-testid": "nbl-opacity",
    "aria-label": "mask opacity",
    oninput: (e) => {
      opacity = Number(e.target.value) / 100;
      edited(false);
    },
  });
  const tools = h("div", { class: "nbl-actions nbl-seg-tools" }, [
    ...Object.values(toolButtons),
    button("fill-rest", "Fill rest r", "Every unpainted pixel takes the current class (r)", { type: "fill-rest" }),
    button("smaller", "[", "Smaller brush ([)", { type: "size", step: -1 }),
    button("larger", "]", "Larger brush (])", { type: "size", step: 1 }),
    button("toggle-mask", "Hide mask m", "Hide or show the mask (m)", { type: "toggle" }),
    h("label", { class: "nbl-opacity", title: "Mask opacity (o steps it)" }, [h("span", { text: "Opacity" }), opacityInput]),
  ]);
  const actions = h("div", { class: "nbl-actions" }, [
    button("submit", "Submit ⏎", "Submit this image's mask (Enter)", { type: "submit" }),
    button("skip", "Skip", "Skip this image (s)", { type: "skip" }),
    button("undo", "Undo", "Undo the last edit (z or Backspace)", { type: "undo" }),
    button("redo", "Redo", "Redo (Shift+Z)", { type: "redo" }),
    button("fit", "Fit", "Fit the image (f)", { type: "fit" }),
    button("back", "← Back", "Previous image (←)", { type: "back" }),
    button("forward", "Forward →", "Next image (→)", { type: "forward" }),
  ]);
  const help = h("div", {
    class: "nbl-help",
    text:
      "b brush · e eraser · p polygon (Enter closes) · g fill region · r fill rest · [ ] brush size · 1–9, 0 class · " +
      "o opacity · m hide mask · z undo · Shift+Z redo · Enter submit · s skip · wheel or +/- zoom · space-drag pan · f fit",
  });
  const root = h(
    "div",
    {
      class: "nblabel nbl-segment",
      tabindex: "0",
      "data-testid": "nbl-root",
      "data-lm-suppress-shortcuts": "true",
    },
    [frame.header, stageWrap, notice, info, h("div", { class: "nbl-classes" }, classButtons), tools, actions, help],
  );
  el.append(root);
  frame.attach({ root, session, channel, show });

  // -- the painting tool ----------------------------------------------------------------------
  const pixel = (p) => ({ x: Math.floor(p.x), y: Math.floor(p.y) });
  const paintValue = () => (tool === "eraser" ? 0 : currentClass);

  function closePolygon() {
    if (!polygon || !editor) return;
    if (polygon.length >= 3) {
      editor.begin();
      editor.polygon(polygon, currentClass);
      editor.end();
      root.dataset.polygon = JSON.stringify({ value: currentClass, points: polygon.map((p) => [p.x, p.y]) });
    }
    polygon = null;
    edited();
  }

  stage.tool = {
    cursor: "crosshair",
    down(p) {
      if (!editor) return false;
      const q = pixel(p);
      if (tool === "flood") {
        editor.begin();
        editor.flood(q.x, q.y, currentClass);
        editor.end();
        root.dataset.flood = JSON.stringify({ value: currentClass, point: [q.x, q.y] });
        edited();
        return false;
      }
      if (tool === "polygon") {
        const first = polygon?.[0];
        const near = first && Math.hypot(first.x - q.x, first.y - q.y) * stage.viewport.scale <= CLOSE_PX;
        if (first && near && polygon.length >= 3) closePolygon();
        else (polygon ??= []).push(q);
        edited(false);
        return false;
      }
      stroke = { size: brushSize, value: paintValue(), points: [] };
      editor.begin();
      paintTo(q);
      return true;
    },
    move(p) {
      if (stroke) paintTo(pixel(p));
    },
    up(p) {
      if (!stroke) return;
      paintTo(pixel(p));
      editor.end();
      root.dataset.stroke = JSON.stringify(stroke);
      stroke = null;
      edited();
    },
    // The mask on the stage's layer canvas: only the rectangle painted since the last frame is
    // recoloured and redrawn (the whole visible mask when the view or the opacity changed).
    drawLayer(ctx, st) {
      if (!editor || !layer) return;
      const rect = editor.takeDirty();
      if (rect) layer.update(editor.data, rect);
      layer.paint(ctx, st.viewport, visible ? opacity : 0);
    },
    draw(ctx, st) {
      if (!editor || !layer) return;
      const vp = st.viewport;
      const color = colors[tool === "eraser" ? 0 : currentClass] ?? "#000";
      if (polygon) {
        ctx.strokeStyle = color;
        ctx.lineWidth = 2;
        ctx.beginPath();
        polygon.forEach((q, i) => {
          const s = vp.toScreen(q.x + 0.5, q.y + 0.5);
          if (i === 0) ctx.moveTo(s.x, s.y);
          else ctx.lineTo(s.x, s.y);
        });
        if (st.pointer) {
          const s = vp.toScreen(st.pointer.x, st.pointer.y);
          ctx.lineTo(s.x, s.y);
        }
        ctx.stroke();
        ctx.fillStyle = "#fff";
        for (const q of polygon) {
          const s = vp.toScreen(q.x + 0.5, q.y + 0.5);
          ctx.fillRect(s.x - 3, s.y - 3, 6, 6);
          ctx.strokeRect(s.x - 3, s.y - 3, 6, 6);
        }
      }
      const p = st.pointer;
      if (p && !st.panning && (tool === "brush" || tool === "eraser")) {
        // The brush outline: the disc's extent around the pixel under the pointer.
        const q = pixel(p);
        const s = vp.toScreen(q.x + 0.5, q.y + 0.5);
        const radius = Math.max(1.5, (brushSize / 2) * vp.scale);
        ctx.lineWidth = 1;
        ctx.strokeStyle = "rgba(0,0,0,0.7)";
        ctx.beginPath();
        ctx.arc(s.x, s.y, radius + 1, 0, 2 * Math.PI);
        ctx.stroke();
        ctx.strokeStyle = tool === "eraser" ? "#fff" : color;
        ctx.beginPath();
        ctx.arc(s.x, s.y, radius, 0, 2 * Math.PI);
        ctx.stroke();
      }
    },
  };

  function paintTo(q) {
    stroke.points.push([q.x, q.y]);
    editor.brushTo(q.x, q.y, stroke.size, stroke.value);
  }

  stage.overlay.addEventListener("dblclick", (event) => {
    if (tool === "polygon" && polygon) {
      event.preventDefault();
      closePolygon();
    }
  });

  // -- talking to the kernel ------------------------------------------------------------------
  function requestMore() {
    if (requesting || session.exhausted || session.ahead >= windowSize) return;
    requesting = true;
    channel.trySend({ type: "more", count: windowSize - session.ahead, exclude: session.exclude(channel.outbox.keys()) });
  }

  /** Answers, skips and undos go out in order; an answer's mask is compressed on the way. */
  function post(msg, pixels = null) {
    compressing += 1;
    frame.showStatus();
    outgoing = outgoing
      .then(async () => {
        const buffers = pixels ? [await deflate(pixels)] : null;
        compressing -= 1;
        channel.send(msg, buffers);
      })
      .catch((err) => {
        compressing -= 1;
        flash(`Could not send the answer: ${err?.message ?? err}`);
        frame.showStatus();
      });
  }

  /** Keep an answered mask to show again, dropping the oldest past the memory budget. */
  function keepMask(key, pixels) {
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

  // The masks that came with items (an earlier answer, or the label being adjusted), unpacked.
  async function unpackMasks(items, buffers) {
    await Promise.all(
      items.map(async (item) => {
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

  async function receive(msg, buffers) {
    if (msg.type === "items") {
      await Promise.all([decodeItems(msg.items, buffers), unpackMasks(msg.items, buffers)]);
      pixels.received(msg.items);
      if (msg.reply) requesting = false;
      session.add(msg.items, { exhausted: Boolean(msg.exhausted) });
      if (msg.progress) model.set("progress", msg.progress);
      show();
      requestMore();
    } else if (msg.type === "ack") {
      channel.ack(msg.uids);
      if (msg.progress) model.set("progress", msg.progress);
      frame.showProgress();
    } else if (msg.type === "detail") {
      if (msg.key !== shownKey) return;
      try {
        stage.setDetail(msg.rect, await decodeBuffer(buffers[0], msg.mime));
      } catch (err) {
        console.warn("nblabel: could not decode a sharper view", err);
      }
    } else if (msg.type === "store-error") {
      flash(`Could not save answers yet: ${msg.reason}. They are kept and retried.`);
    } else if (msg.type === "rejected") {
      channel.ack([msg.uid]);
      flash(`Not saved: ${msg.reason}`);
    } else if (msg.type === "goto") {
      // The kernel undid an answer from an earlier session: show that image again.
      await Promise.all([decodeItems(msg.items, buffers), unpackMasks(msg.items, buffers)]);
      session.add(msg.items);
      const index = session.trail.indexOf(msg.key);
      if (index === -1) {
        session.queue = session.queue.filter((k) => k !== msg.key);
        session.trail.splice(Math.min(session.pos, session.trail.length), 0, msg.key);
      } else {
        session.pos = index;
      }
      const item = session.items.get(msg.key);
      if (item?.valueMask) keepMask(msg.key, item.valueMask);
      session.values.set(msg.key, null);
      shownKey = undefined;
      show();
    }
  }

  // -- drawing --------------------------------------------------------------------------------
  function startingMask(key, item) {
    return masks.get(key) ?? item.valueMask ?? item.initialMask ?? null;
  }

  function show() {
    const key = session.current;
    const item = session.currentItem;
    if (key !== shownKey || (item?.bitmap && !stage.image?.bitmap)) {
      const fresh = key !== shownKey;
      shownKey = key;
      polygon = null;
      stroke = null;
      if (item && !item.error && item.bitmap) {
        if (fresh || !editor) {
          const w = item.original_width;
          const hgt = item.original_height;
          let start = startingMask(key, item);
          if (start && start.length !== w * hgt) {
            flash(`The starting mask does not fit this ${w} x ${hgt} image; starting blank.`);
            start = null;
          }
          editor = new MaskEditor(w, hgt, start);
          layer?.destroy();
          layer = new MaskLayer(w, hgt, colors);
          layer.update(editor.data);
          editor.takeDirty();
        }
        stage.setImage({ bitmap: item.bitmap, width: item.original_width, height: item.original_height });
      } else {
        editor = null;
        layer?.destroy();
        layer = null;
        stage.setImage(null);
        if (item && !item.error) shownKey = undefined; // pixels still to come: rebuild when they do
      }
      pixels.release();
    }
    pixels.showItem(item, { frame, stage, problem, message });
    const notes = [];
    if (item?.notice) notes.push(item.notice);
    const answered = key !== null && (session.values.get(key) != null || masks.has(key));
    if (item?.initialMask && !answered) {
      notes.push(adjusting ? "Starting from the mask being adjusted: Enter accepts it as it is; paint to change it." : "Starting from an earlier mask.");
    }
    notice.hidden = notes.length === 0;
    setText(notice, notes.join(" "));
    for (const b of classButtons) b.disabled = !item || Boolean(item.error);
    edited();
    frame.showProgress();
    frame.showStatus();
  }

  // After any edit or setting change: redraw, and say what the tools are.
  function edited(count = true) {
    stage.requestDraw();
    classButtons.forEach((b, index) => {
      const chosen = currentClass === index + 1 && tool !== "eraser";
      b.classList.toggle("nbl-chosen", chosen);
      b.setAttribute("aria-pressed", chosen ? "true" : "false");
    });
    for (const [name, b] of Object.entries(toolButtons)) {
      b.classList.toggle("nbl-chosen", tool === name);
      b.setAttribute("aria-pressed", tool === name ? "true" : "false");
    }
    setText(toolButtons.brush, `Brush ${brushSize}px b`);
    setText(root.querySelector(".nbl-toggle-mask"), visible ? "Hide mask m" : "Show mask m");
    if (opacityInput.value !== String(Math.round(opacity * 100))) opacityInput.value = String(Math.round(opacity * 100));
    Object.assign(root.dataset, {
      tool,
      brush: String(brushSize),
      class: String(currentClass),
      opacity: String(opacity),
      maskVisible: String(visible),
      polygonCorners: String(polygon?.length ?? 0),
    });
    if (!editor) {
      setText(info, "");
      return;
    }
    if (count) {
      let painted = 0;
      const data = editor.data;
      for (let i = 0; i < data.length; i += 1) if (data[i] !== 0) painted += 1;
      root.dataset.painted = String(painted);
      root.dataset.edits = String(editor.undoStack.length);
    }
    const what = tool === "eraser" ? "eraser" : `${tool} · ${labels[currentClass - 1]}`;
    const pct = ((100 * Number(root.dataset.painted || 0)) / editor.data.length).toFixed(1);
    setText(info, `${what} · brush ${brushSize}px · ${pct}% painted${polygon ? ` · polygon: ${polygon.length} corners, Enter fills` : ""}`);
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
        currentClass = intent.index + 1;
        if (tool === "eraser") tool = "brush";
        edited(false);
        return;
      case "tool":
        if (intent.tool !== "polygon") polygon = null;
        tool = intent.tool;
        edited(false);
        return;
      case "size": {
        const step = brushSize < 10 ? 1 : Math.max(1, Math.round(brushSize * 0.25));
        brushSize = Math.max(1, Math.min(MAX_BRUSH, brushSize + intent.step * step));
        edited(false);
        return;
      }
      case "opacity":
        opacity = OPACITIES[(OPACITIES.indexOf(opacity) + 1) % OPACITIES.length] ?? 0.5;
        edited(false);
        return;
      case "toggle":
        visible = !visible;
        edited(false);
        return;
      case "fill-rest":
        if (!usable) return;
        editor.begin();
        editor.fillRest(currentClass);
        editor.end();
        edited();
        return;
      case "enter":
        if (polygon) closePolygon();
        else act({ type: "submit" });
        return;
      case "escape":
        polygon = null;
        edited(false);
        return;
      case "submit": {
        if (!usable) return;
        const key = session.current;
        const pixels = editor.data.slice();
        keepMask(key, pixels);
        const msg = session.answer({ width: item.original_width, height: item.original_height }, uid());
        if (!msg) return;
        show(); // the next image first: compressing and the kernel round trip are off the critical path
        post(msg, pixels);
        requestMore();
        return;
      }
      case "skip":
        if (!item) return;
        {
          const msg = session.skip(uid());
          if (!msg) return;
          show();
          post(msg);
          requestMore();
        }
        return;
      case "undo": {
        if (polygon) {
          polygon.pop();
          if (!polygon.length) polygon = null;
          edited(false);
          return;
        }
        if (editor?.undo()) {
          edited();
          return;
        }
        session.exhausted = false;
        const msg = session.undo(uid());
        if (msg) {
          post(msg);
          shownKey = undefined; // rebuild the editor from the answer's mask, kept in `masks`
          show();
        } else if (!session.answers.length) {
          post({ type: "undo", uid: uid(), key: null, target: null });
        }
        requestMore();
        return;
      }
      case "redo":
        if (editor?.redo()) edited();
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

  function intentFor(event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return null;
    const index = CLASS_KEYS.indexOf(event.key);
    if (index !== -1) return index < labels.length ? { type: "class", index } : null;
    const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
    if (TOOLS[key] && !event.shiftKey) return { type: "tool", tool: TOOLS[key] };
    switch (key) {
      case "[":
        return { type: "size", step: -1 };
      case "]":
        return { type: "size", step: 1 };
      case "r":
        return { type: "fill-rest" };
      case "o":
        return { type: "opacity" };
      case "m":
        return { type: "toggle" };
      case "Enter":
        return { type: "enter" };
      case "Escape":
        return { type: "escape" };
      case "s":
        return { type: "skip" };
      case "z":
        return { type: event.shiftKey ? "redo" : "undo" };
      case "Backspace":
        return { type: "undo" };
      case "ArrowLeft":
        return { type: "back" };
      case "ArrowRight":
        return { type: "forward" };
      default:
        return null;
    }
  }

  function onKeydown(event) {
    // A focused button keeps Enter and space for itself; every other key is the widget's.
    if (event.target !== root && (event.key === "Enter" || event.key === " ")) return;
    if (event.target === opacityInput && event.key.startsWith("Arrow")) return;
    if (stage.handleKey(event)) {
      event.preventDefault();
      event.stopPropagation();
      return;
    }
    const intent = intentFor(event);
    if (!intent) return;
    event.preventDefault();
    event.stopPropagation();
    act(intent);
  }

  function onKeyup(event) {
    if (stage.handleKeyUp(event)) event.preventDefault();
  }

  function onPointerDown(event) {
    if (!(event.target instanceof HTMLButtonElement) && event.target !== opacityInput) root.focus({ preventScroll: true });
  }

  root.addEventListener("keydown", onKeydown);
  root.addEventListener("keyup", onKeyup);
  root.addEventListener("pointerdown", onPointerDown);
  const onMsg = (msg, buffers) => {
    receive(msg, buffers);
  };
  model.on("msg:custom", onMsg);
  const onProgress = () => frame.showProgress();
  model.on("change:progress", onProgress);

  requesting = true;
  show();
  channel.hello(() => root.clientWidth);

  return () => {
    channel.destroy();
    stage.destroy();
    layer?.destroy();
    model.off("msg:custom", onMsg);
    model.off("change:progress", onProgress);
    pixels.closeAll();
  };
}

export default { render };
