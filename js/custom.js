// nblabel custom-task widget: each item is the user's Ground Truth worker template, rendered in
// the kernel (Liquid, autoescaped) and shown with nblabel's crowd-* elements (js/crowd/).
//
// The template is the user's own code: its markup is inserted as HTML and its scripts run in
// the page, as in GT's worker page; values from the data were HTML-escaped by Liquid. Its
// <style> rules are wrapped in @scope so they style the item, not the notebook.
//
// Answers follow the protocol every item widget shares (lib/channel.js, lib/session.js, and
// src/nblabel/widgets/item_widget.py in the kernel): Submit (or Ctrl+Enter) records the form
// output, shows the next prefetched item and sends the answer; the kernel stores it and
// acknowledges; unacknowledged answers are re-sent.
import { ELEMENTS, collect, restore } from "./crowd/index.js";
import { Channel } from "./lib/channel.js";
import { actionButton, h, itemNotes, setText } from "./lib/dom.js";
import { Frame } from "./lib/frame.js";
import { uid } from "./lib/ids.js";
import { intentForKey } from "./lib/keys.js";
import { LabelSession } from "./lib/session.js";

const loadedScripts = new Set(); // external template scripts load once per page

/** True when a key press belongs to a text field, a select or a slider, not to the widget. */
function typing(target) {
  if (!(target instanceof Element)) return false;
  if (target.isContentEditable) return true;
  if (target.tagName === "TEXTAREA" || target.tagName === "SELECT") return true;
  return target.tagName === "INPUT" && !["checkbox", "radio", "button", "submit"].includes(target.type);
}

/** Insert a rendered template: scoped styles, then its scripts, run in order. */
function insertTemplate(host, html) {
  host.innerHTML = html;
  for (const style of host.querySelectorAll("style")) {
    style.textContent = `@scope (.nbl-template) {\n${style.textContent}\n}`;
  }
  for (const old of host.querySelectorAll("script")) {
    const script = document.createElement("script");
    for (const attr of old.attributes) script.setAttribute(attr.name, attr.value);
    const src = old.getAttribute("src");
    if (src) {
      if (loadedScripts.has(src)) {
        old.remove();
        continue;
      }
      loadedScripts.add(src);
    } else if (old.type === "module") {
      script.textContent = old.textContent;
    } else {
      // Each item runs its script again: a block keeps its let/const from clashing with the
      // previous item's, while its functions stay global (for onclick="..." handlers).
      script.textContent = `{\n${old.textContent}\n}`;
    }
    old.replaceWith(script);
  }
  // Notebook 7 reads its shortcuts in the capture phase and only spares an event whose target
  // itself carries this mark (G7): every control the person can focus gets it.
  for (const control of host.querySelectorAll("input, textarea, select, button, a[href], [tabindex], [contenteditable]")) {
    control.setAttribute("data-lm-suppress-shortcuts", "true");
  }
  document.dispatchEvent(new Event("all-crowd-elements-ready"));
}

function render({ model, el }) {
  const session = new LabelSession();
  const frame = new Frame(model, { pace: true });
  const channel = new Channel(model, () => frame.showStatus());
  let shownKey = undefined;
  let shownFor = undefined; // the answer the item on screen was restored from

  // -- DOM ------------------------------------------------------------------------------------
  const host = h("div", { class: "nbl-template", "data-testid": "nbl-template" });
  const { problem, message } = itemNotes();
  const stage = h("div", { class: "nbl-stage nbl-custom-stage" }, [host, message]);
  const button = (name, label, hint, intent) => actionButton(name, label, hint, () => act(intent));
  const submitButton = button("submit", "Submit ⌃⏎", "Submit the answer (Ctrl+Enter)", { type: "submit" });
  const actions = h("div", { class: "nbl-actions" }, [
    button("back", "← Back", "Previous item (←)", { type: "back" }),
    button("forward", "Forward →", "Next item (→)", { type: "forward" }),
    button("undo", "Undo", "Undo the last answer (z or Backspace)", { type: "undo" }),
    button("skip", "Skip", "Skip this item (s)", { type: "skip" }),
    submitButton,
  ]);
  const help = h("div", {
    class: "nbl-help",
    text: "Keys: Ctrl+Enter submit · s skip · z undo · ← → revisit (outside text fields) · 1–9 pick a category or label",
  });
  const root = h(
    "div",
    {
      class: "nblabel nbl-custom",
      tabindex: "0",
      "data-testid": "nbl-root",
      "data-lm-suppress-shortcuts": "true",
      "data-elements": ELEMENTS.length,
    },
    [frame.header, stage, problem, actions, help],
  );
  el.append(root);
  frame.attach({ root, session, channel, show });

  // -- drawing --------------------------------------------------------------------------------
  function show() {
    const key = session.current;
    const item = session.currentItem;
    const value = key === null ? null : session.values.get(key) ?? null;
    message.hidden = true;
    if (key !== shownKey || value !== shownFor) {
      shownKey = key;
      shownFor = value;
      problem.hidden = true;
      host.replaceChildren();
      if (item && !item.error) {
        insertTemplate(host, item.html);
        if (value) restore(host, value);
      }
      // Templates without a crowd-form (an entity template) submit with the widget's button.
      submitButton.hidden = Boolean(host.querySelector("crowd-form"));
    }
    if (!item) {
      message.hidden = false;
      setText(message, session.exhausted ? frame.doneText() : "Loading the next items…");
      root.dataset.itemKey = "";
      root.dataset.state = session.exhausted ? "done" : "loading";
    } else {
      if (item.error) {
        problem.hidden = false;
        setText(problem, `Cannot show this item: ${item.error}. Press s to skip it.`);
      }
      root.dataset.state = item.error ? "error" : "item";
      root.dataset.itemKey = item.key;
    }
    frame.showPosition(item);
    frame.showProgress();
    frame.showStatus();
  }

  function flash(textValue) {
    problem.hidden = false;
    setText(problem, textValue);
  }

  // -- acting ---------------------------------------------------------------------------------
  function submit() {
    const item = session.currentItem;
    if (!item || item.error) return;
    // GT's crowd-form inherits a form's events: a template may veto the submission.
    const form = host.querySelector("crowd-form");
    if (form && !form.dispatchEvent(new Event("submit", { cancelable: true }))) return;
    const { answer, problems } = collect(host);
    if (problems.length) {
      flash(problems.join(" "));
      return;
    }
    frame.record(session.answer(answer, uid()));
  }

  function act(intent) {
    const item = session.currentItem;
    switch (intent.type) {
      case "submit":
        submit();
        return;
      case "reset":
        shownKey = undefined;
        session.values.set(session.current, null);
        show();
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
    if (event.defaultPrevented) return;
    let intent = null;
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) intent = { type: "submit" };
    else if (typing(event.target)) {
      // The key belongs to the field (a letter, an arrow on a slider): the notebook around the
      // widget must not act on it (JupyterLab's handlers would take arrows and letters).
      event.stopPropagation();
      return;
    } else if (event.altKey || event.ctrlKey || event.metaKey) return;
    else {
      // The focused crowd element, else the first one that takes keys, gets the key first.
      let tool = event.target instanceof Element ? event.target : null;
      while (tool && tool !== root && typeof tool.crowdKey !== "function") tool = tool.parentElement;
      if (!tool || tool === root) tool = [...host.querySelectorAll("*")].find((e) => typeof e.crowdKey === "function");
      if (tool?.crowdKey(event)) {
        event.preventDefault();
        event.stopPropagation();
        return;
      }
      // The action keys every widget shares (lib/keys.js); digits and Enter are the elements'.
      intent = intentForKey(event, 0);
      if (intent && !["skip", "undo", "back", "forward"].includes(intent.type)) intent = null;
    }
    if (!intent) return;
    event.preventDefault();
    event.stopPropagation();
    act(intent);
  }

  root.addEventListener("keydown", onKeydown);
  host.addEventListener("crowd-submit", () => act({ type: "submit" }));
  host.addEventListener("crowd-reset", () => act({ type: "reset" }));
  // The kernel reopened an item (an undo from an earlier session): draw its form afresh.
  channel.follow(session, { show, flash, reopened: () => (shownKey = undefined) });
  const onProgress = () => frame.showProgress();
  model.on("change:progress", onProgress);
  show();
  channel.hello(() => root.clientWidth);

  return () => {
    channel.destroy();
    model.off("change:progress", onProgress);
  };
}

export default { render };
