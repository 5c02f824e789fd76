// nblabel label-verification widget: an earlier label shown over its image, a verdict per key.
//
// Boxes under review are drawn on the zoomable stage (lib/viewport.js, lib/box_paint.js), a mask
// as a coloured overlay (lib/mask_layer.js); a class label is shown by name. Keys 1, 2, ... record
// a verdict with the comment typed so far and
// show the next image at once; the comment box keeps its keys to itself while it has focus.
import { paintBoxes } from "./lib/box_paint.js";
import { Channel, decodeBuffer } from "./lib/channel.js";
import { actionButton, classButton, h, itemNotes, setText } from "./lib/dom.js";
import { Frame } from "./lib/frame.js";
import { uid } from "./lib/ids.js";
import { intentForKey } from "./lib/keys.js";
import { inflate } from "./lib/mask.js";
import { MaskLayer } from "./lib/mask_layer.js";
import { LabelSession } from "./lib/session.js";
import { itemStage } from "./lib/viewport.js";

function render({ model, el }) {
  const verdicts = model.get("labels");
  const session = new LabelSession();
  const frame = new Frame(model, { verb: "verified" });
  const channel = new Channel(model, () => frame.showStatus());
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
    classButton(label, index, { testid: `nbl-verdict-${index}`, onclick: () => act({ type: "class", index }) }),
  );
  const action = (name, label, hint, intent) => actionButton(name, label, hint, () => act(intent));
  const root = h(
    "div",
    { class: "nblabel nbl-verify", tabindex: "0", "data-testid": "nbl-root", "data-lm-suppress-shortcuts": "true" },
    [
      frame.header,
      under,
      h("div", { class: "nbl-stage nbl-viewport-wrap" }, [stage.el, problem, message]),
      comment,
      h("div", { class: "nbl-classes" }, buttons),
      h("div", { class: "nbl-actions" }, [
        action("back", "← Back", "Previous image (←)", { type: "back" }),
        action("forward", "Forward →", "Next image (→)", { type: "forward" }),
        action("undo", "Undo", "Undo the last verdict (z or Backspace)", { type: "undo" }),
        action("skip", "Skip", "Skip this image (s)", { type: "skip" }),
      ]),
      h("div", {
        class: "nbl-help",
        text: "Keys: 1–9 verdict · c comment · s skip · z undo · ← → revisit · wheel or +/- zoom · space-drag pan · f fit",
      }),
    ],
  );
  el.append(root);
  frame.attach({ root, session, channel, show });

  async function onDetail(msg, buffers) {
    if (msg.type === "detail" && msg.key === shownKey) stage.setDetail(msg.rect, await decodeBuffer(buffers[0], msg.mime));
  }

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

  function flash(text) {
    problem.hidden = false;
    setText(problem, text);
  }

  function show() {
    const key = session.current;
    const item = session.currentItem;
    const value = key === null ? null : session.values.get(key);
    if (key !== shownKey) {
      shownKey = key;
      comment.value = value?.comment ?? "";
      layer?.destroy();
      layer = null;
      if (item?.shownMask && !item.error) {
        layer = new MaskLayer(item.shown.mask.width, item.shown.mask.height, item.shown.colors);
        layer.update(item.shownMask);
      }
      stage.setImage(item && !item.error && item.bitmap ? { bitmap: item.bitmap, width: item.original_width, height: item.original_height } : null);
    }
    stage.el.hidden = true;
    problem.hidden = true;
    message.hidden = true;
    if (!item) {
      message.hidden = false;
      setText(message, session.exhausted ? "All done." : "Loading the next images…");
      root.dataset.state = session.exhausted ? "done" : "loading";
    } else if (item.error) {
      problem.hidden = false;
      setText(problem, `Cannot show this image: ${item.error}. Press s to skip it.`);
      root.dataset.state = "error";
    } else {
      stage.el.hidden = false;
      stage.layout();
      root.dataset.state = "item";
    }
    const shown = item?.shown;
    let text = "";
    if (shown?.missing) text = "This image has no label to verify.";
    else if (shown?.boxes) text = `${shown.boxes.length} box${shown.boxes.length === 1 ? "" : "es"} to verify`;
    else if (shown?.class_name !== undefined) text = `Label: ${shown.class_name}`;
    else if (shown?.mask) text = `Mask to verify: ${shown.present.length ? shown.present.join(", ") : "all background"}`;
    if (item?.notice) text = `${text} ${item.notice}`.trim();
    setText(under, text);
    root.dataset.itemKey = item ? item.key : "";
    frame.showPosition(item, "Image");
    buttons.forEach((b, index) => {
      const chosen = value?.verdict === verdicts[index];
      b.classList.toggle("nbl-chosen", chosen);
      b.setAttribute("aria-pressed", chosen ? "true" : "false");
      b.disabled = !item || Boolean(item.error);
    });
    stage.requestDraw();
    frame.showProgress();
    frame.showStatus();
  }

  function act(intent) {
    const item = session.currentItem;
    switch (intent.type) {
      case "class":
        if (!item || item.error) return;
        frame.record(session.answer({ verdict: verdicts[intent.index], comment: comment.value.trim() }, uid()));
        return;
      case "skip":
        if (item) frame.record(session.skip(uid()));
        return;
      case "undo":
        frame.undo();
        return;
      case "back":
      case "forward":
        frame.revisit(intent.type);
        return;
      default:
    }
  }

  function onKeydown(event) {
    if (event.target === comment) {
      // Typing a comment: every key is the comment's, Escape hands the keys back to the widget.
      event.stopPropagation();
      if (event.key === "Escape") {
        event.preventDefault();
        root.focus({ preventScroll: true });
      }
      return;
    }
    if (event.target !== root && (event.key === "Enter" || event.key === " ")) return;
    if (stage.handleKey(event)) {
      event.preventDefault();
      event.stopPropagation();
      return;
    }
    if (event.key === "c" && !event.ctrlKey && !event.metaKey && !event.altKey) {
      event.preventDefault();
      event.stopPropagation();
      comment.focus();
      return;
    }
    const intent = intentForKey(event, verdicts.length);
    if (!intent || intent.type === "submit" || intent.type === "help") return;
    event.preventDefault();
    event.stopPropagation();
    act(intent);
  }

  function onPointerDown(event) {
    if (!(event.target instanceof HTMLButtonElement) && event.target !== comment) root.focus({ preventScroll: true });
  }

  root.addEventListener("keydown", onKeydown);
  root.addEventListener("keyup", (event) => stage.handleKeyUp(event));
  root.addEventListener("pointerdown", onPointerDown);
  channel.follow(session, { show, flash, received: unpackMasks, other: onDetail });
  const onProgress = () => frame.showProgress();
  model.on("change:progress", onProgress);
  show();
  channel.hello(() => root.clientWidth);

  return () => {
    channel.destroy();
    stage.destroy();
    layer?.destroy();
    model.off("change:progress", onProgress);
    for (const item of session.items.values()) item.bitmap?.close();
  };
}

export default { render };
