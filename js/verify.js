// nblabel label-verification widget: an earlier label shown over its image, a verdict per key.
//
// Boxes under review are drawn on the zoomable stage (lib/viewport.js, lib/box_paint.js), a mask
// as a coloured overlay (lib/mask_layer.js); a class label is shown by name. Keys 1, 2, ... record
// a verdict with the comment typed so far and show the next image at once; the comment box keeps
// its keys to itself while it has focus.
import { paintBoxes } from "./lib/box_paint.js";
import { classButton, h, itemNotes, setPressed, setText, showNote } from "./lib/dom.js";
import { Frame, itemActions } from "./lib/frame.js";
import { uid } from "./lib/ids.js";
import { intentForKey } from "./lib/keys.js";
import { inflate } from "./lib/mask.js";
import { MaskLayer } from "./lib/mask_layer.js";
import { itemStage } from "./lib/viewport.js";

// A mask under review arrives zlib-compressed in a binary buffer.
async function unpackMasks(items, buffers) {
  await Promise.all(
    items.map(async (item) => {
      const m = item.shown?.mask;
      if (m?.data?.buffer === undefined) return;
      try {
        item.shownMask = await inflate(buffers[m.data.buffer], m.width, m.height);
      } catch (err) {
        item.notice = `could not read the mask: ${err?.message ?? err}`;
      }
      delete m.data;
    }),
  );
}

/** What is under review, in words. */
function describe(item) {
  const shown = item?.shown;
  let text = "";
  if (shown?.missing) text = "This image has no label to verify.";
  else if (shown?.boxes) text = `${shown.boxes.length} box${shown.boxes.length === 1 ? "" : "es"} to verify`;
  else if (shown?.class_name !== undefined) text = `Label: ${shown.class_name}`;
  else if (shown?.mask) text = `Mask to verify: ${shown.present.length ? shown.present.join(", ") : "all background"}`;
  if (item?.notice) text = `${text} ${item.notice}`.trim();
  return text;
}

function render({ model, el }) {
  const verdicts = model.get("labels");
  const frame = new Frame(model, { verb: "verified" });
  const { session, channel } = frame;
  let shownKey;
  let layer = null; // the mask under review, coloured

  const stage = itemStage(channel, () => shownKey);
  stage.tool = {
    cursor: "default",
    draw(ctx, st) {
      const shown = session.currentItem?.shown;
      if (shown?.boxes) paintBoxes(ctx, st.viewport, shown.boxes, shown.classes ?? {});
      layer?.draw(ctx, st.viewport, 0.5);
    },
  };
  const { problem, message } = itemNotes();
  const under = h("div", { class: "nbl-under-review", "data-testid": "nbl-under-review" });
  const comment = h("textarea", {
    class: "nbl-comment",
    "data-testid": "nbl-comment",
    rows: "2",
    maxlength: "2000",
    placeholder: "Optional comment (c to type, Esc to leave)",
    "aria-label": "comment",
  });
  const buttons = verdicts.map((label, index) =>
    classButton(label, index, { testid: `nbl-verdict-${index}`, onclick: () => frame.act({ type: "class", index }) }),
  );

  /** A new item on screen: its comment, its mask layer, its image on the stage. */
  function open(item, value) {
    comment.value = value?.comment ?? "";
    layer?.destroy();
    layer = null;
    if (item?.shownMask && !item.error) {
      layer = new MaskLayer(item.shown.mask.width, item.shown.mask.height, item.shown.colors);
      layer.update(item.shownMask);
    }
    const usable = item && !item.error && item.bitmap;
    stage.setImage(usable ? { bitmap: item.bitmap, width: item.original_width, height: item.original_height } : null);
  }

  function show() {
    const key = session.current;
    const item = session.currentItem;
    const value = key === null ? null : session.values.get(key);
    if (key !== shownKey) {
      shownKey = key;
      open(item, value);
    }
    const root = frame.root;
    stage.el.hidden = true;
    problem.hidden = true;
    message.hidden = true;
    if (!item) {
      showNote(message, session.exhausted ? "All done." : "Loading the next images…");
      root.dataset.state = session.exhausted ? "done" : "loading";
    } else if (item.error) {
      showNote(problem, `Cannot show this image: ${item.error}. Press s to skip it.`);
      root.dataset.state = "error";
    } else {
      stage.el.hidden = false;
      stage.layout();
      root.dataset.state = "item";
    }
    setText(under, describe(item));
    root.dataset.itemKey = item ? item.key : "";
    buttons.forEach((b, index) => {
      const chosen = value?.verdict === verdicts[index];
      setPressed(b, chosen);
      b.disabled = !item || Boolean(item.error);
    });
    stage.requestDraw();
    frame.showHeader(item, "Image");
  }

  /** A verdict key; skip, undo and revisiting are the frame's. */
  function onIntent(intent) {
    if (intent.type !== "class") return false;
    const item = session.currentItem;
    if (item && !item.error) {
      frame.record(session.answer({ verdict: verdicts[intent.index], comment: comment.value.trim() }, uid()));
    }
    return true;
  }

  function keys(event) {
    if (event.target === comment) {
      // Typing a comment: every key is the comment's, Escape hands the keys back to the widget.
      event.stopPropagation();
      if (event.key !== "Escape") return null;
      frame.root.focus({ preventScroll: true });
      return true;
    }
    if (event.target !== frame.root && (event.key === "Enter" || event.key === " ")) return null;
    if (stage.handleKey(event)) return true;
    if (event.key === "c" && !event.ctrlKey && !event.metaKey && !event.altKey) {
      comment.focus();
      return true;
    }
    const intent = intentForKey(event, verdicts.length);
    return !intent || intent.type === "submit" || intent.type === "help" ? null : intent;
  }

  frame.mount(el, {
    className: "nbl-verify",
    body: [under, h("div", { class: "nbl-stage nbl-viewport-wrap" }, [stage.el, problem, message]), comment, h("div", { class: "nbl-classes" }, buttons)],
    actions: itemActions("image", "verdict"),
    help: "Keys: 1–9 verdict · c comment · s skip · z undo · ← → revisit · wheel or +/- zoom · space-drag pan · f fit",
    keys,
    keyup: (event) => stage.handleKeyUp(event),
    onIntent,
    show,
    flash: (text) => showNote(problem, text),
    follow: { received: unpackMasks, other: stage.receiveDetail },
  });

  return () => {
    frame.destroy();
    stage.destroy();
    layer?.destroy();
    for (const item of session.items.values()) item.bitmap?.close();
  };
}

export default { render };
