// nblabel classification widget (images and texts, single- and multi-label).
//
// The kernel sends items ahead of the cursor; a keypress records the answer, draws the next
// prefetched item at once and sends the answer as a custom message (not a trait: ipywidgets
// merges quick trait changes). Prefetching, acknowledgements and re-sending unsaved answers
// across reconnects and kernel restarts are lib/channel.js.
import { Channel } from "./lib/channel.js";
import { actionButton, classButton, h, itemNotes, setText } from "./lib/dom.js";
import { Frame, Pixels } from "./lib/frame.js";
import { uid } from "./lib/ids.js";
import { intentForKey } from "./lib/keys.js";
import { LabelSession } from "./lib/session.js";

const KEEP_BEHIND = 30; // decoded images kept for going back

function render({ model, el }) {
  const labels = model.get("labels");
  const multi = model.get("multi_label");
  const media = model.get("media");
  const session = new LabelSession();
  const frame = new Frame(model, { pace: true });
  const channel = new Channel(model, () => frame.showStatus());
  const pixels = new Pixels(session, channel, KEEP_BEHIND);
  let toggled = new Set(); // multi-label choice on screen
  let shownKey = undefined;
  let textScrolled = false;

  // -- DOM ------------------------------------------------------------------------------------
  const canvas = h("canvas", { class: "nbl-image", "data-testid": "nbl-image", hidden: true });
  const text = h("div", { class: "nbl-text", "data-testid": "nbl-text", hidden: true });
  const { problem, message } = itemNotes();
  const suggestion = h("div", { class: "nbl-proposal", "data-testid": "nbl-proposal", hidden: true });
  const stage = h("div", { class: "nbl-stage" }, [canvas, text, problem, message]);

  const classButtons = labels.map((label, index) =>
    classButton(label, index, { testid: `nbl-class-${index}`, onclick: () => act({ type: "class", index }) }),
  );
  const button = (name, label, hint, intent) => actionButton(name, label, hint, () => act(intent));
  const actions = h("div", { class: "nbl-actions" }, [
    button("back", "← Back", "Previous item (←)", { type: "back" }),
    button("forward", "Forward →", "Next item (→)", { type: "forward" }),
    button("undo", "Undo", "Undo the last answer (z or Backspace)", { type: "undo" }),
    button("skip", "Skip", "Skip this item (s)", { type: "skip" }),
    multi ? button("submit", "Submit ⏎", "Submit the selected classes (Enter)", { type: "submit" }) : null,
  ]);
  const help = h("div", {
    class: "nbl-help",
    text: multi
      ? "Keys: 1–9, 0 toggle a class · Enter submit · s skip · z undo · ← → revisit"
      : "Keys: 1–9, 0 label · Enter accept the suggestion · s skip · z undo · ← → revisit",
  });
  const root = h(
    "div",
    {
      class: "nblabel nbl-classify",
      tabindex: "0",
      "data-testid": "nbl-root",
      "data-lm-suppress-shortcuts": "true",
      "data-media": media,
    },
    [frame.header, stage, suggestion, h("div", { class: "nbl-classes" }, classButtons), actions, help],
  );
  el.append(root);
  frame.attach({ root, session, channel, show });

  // -- drawing --------------------------------------------------------------------------------
  function show() {
    const key = session.current;
    const item = session.currentItem;
    if (key !== shownKey) {
      shownKey = key;
      // Multi-label: start from the answer given before, else from the model's proposal.
      toggled = new Set(multi ? session.values.get(key) ?? item?.proposal?.value ?? [] : []);
      pixels.release();
    }
    canvas.hidden = true;
    text.hidden = true;
    problem.hidden = true;
    message.hidden = true;
    if (!item) {
      message.hidden = false;
      setText(message, session.exhausted ? frame.doneText() : "Loading the next items…");
      root.dataset.itemKey = "";
      root.dataset.state = session.exhausted ? "done" : "loading";
    } else if (item.error) {
      problem.hidden = false;
      setText(problem, `Cannot show this item: ${item.error}. Press s to skip it.`);
      root.dataset.state = "error";
    } else if (item.kind === "text") {
      text.hidden = false;
      setText(text, item.text);
      // Resetting scrollTop forces a layout inside the key handler: only do it when scrolled.
      if (textScrolled) {
        text.scrollTop = 0;
        textScrolled = false;
      }
      root.dataset.state = "item";
    } else if (item.bitmap) {
      canvas.hidden = false;
      if (canvas.width !== item.bitmap.width) canvas.width = item.bitmap.width;
      if (canvas.height !== item.bitmap.height) canvas.height = item.bitmap.height;
      canvas.getContext("2d").drawImage(item.bitmap, 0, 0);
      canvas.setAttribute("aria-label", `image ${item.position + 1}`);
      root.dataset.state = "item";
    } else {
      message.hidden = false;
      setText(message, "Loading image…");
      root.dataset.state = "loading";
      pixels.refetch(item);
    }
    if (item) root.dataset.itemKey = item.key;
    frame.showPosition(item);
    const value = key === null ? null : session.values.get(key);
    const proposal = item && !item.error && (value === null || value === undefined) ? item.proposal : null;
    suggestion.hidden = !proposal;
    if (proposal) {
      const names = multi ? proposal.value.join(", ") || "none" : proposal.value;
      setText(suggestion, `Model suggests: ${names} (${Math.round(proposal.confidence * 100)}%) · Enter accepts`);
    }
    const proposed = new Set(proposal ? (multi ? proposal.value : [proposal.value]) : []);
    classButtons.forEach((b, index) => {
      b.classList.toggle("nbl-proposed", proposed.has(labels[index]));
      const chosen = multi ? toggled.has(labels[index]) : value === labels[index];
      b.classList.toggle("nbl-chosen", chosen);
      b.setAttribute("aria-pressed", chosen ? "true" : "false");
      b.disabled = !item || Boolean(item.error);
    });
    frame.showProgress();
    frame.showStatus();
  }

  function flash(textValue) {
    problem.hidden = false;
    setText(problem, textValue);
  }

  // -- acting ---------------------------------------------------------------------------------
  function act(intent) {
    const item = session.currentItem;
    switch (intent.type) {
      case "class": {
        if (!item || item.error) return;
        const label = labels[intent.index];
        if (multi) {
          if (toggled.has(label)) toggled.delete(label);
          else toggled.add(label);
          show();
          return;
        }
        frame.record(session.answer(label, uid()));
        return;
      }
      case "submit":
        if (!item || item.error) return;
        if (multi) frame.record(session.answer(labels.filter((l) => toggled.has(l)), uid()));
        else if (session.revisiting) {
          if (session.forward()) show(); // Enter on a revisited item keeps its answer
        } else if (item.proposal) frame.record(session.answer(item.proposal.value, uid())); // accept

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
    const intent = intentForKey(event, labels.length);
    if (!intent) return;
    event.preventDefault();
    event.stopPropagation();
    act(intent);
  }

  function onPointerDown(event) {
    if (!(event.target instanceof HTMLButtonElement)) root.focus({ preventScroll: true });
  }

  text.addEventListener(
    "scroll",
    () => {
      textScrolled = text.scrollTop > 0;
    },
    { passive: true },
  );
  root.addEventListener("keydown", onKeydown);
  root.addEventListener("pointerdown", onPointerDown);
  channel.follow(session, {
    show,
    flash,
    received: (items) => pixels.received(items),
  });
  const onProgress = () => frame.showProgress();
  model.on("change:progress", onProgress);
  // Images are sent at the size they are shown at: the stage's width, 60% of the window's
  // height. The width is read once the widget is laid out (the next frame), not at render.
  show();
  channel.hello(() => root.clientWidth);

  return () => {
    channel.destroy();
    model.off("change:progress", onProgress);
    pixels.closeAll();
  };
}

export default { render };
