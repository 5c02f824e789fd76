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
import { h, itemNotes, showNote } from "./lib/dom.js";
import { Frame, itemActions } from "./lib/frame.js";
import { uid } from "./lib/ids.js";
import { intentForKey } from "./lib/keys.js";

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

/**
 * The intent of a keydown in the custom widget (see Shell.mount's `keys`): Ctrl+Enter submits;
 * a text field keeps its keys; a crowd element takes the key, else the shared action keys do.
 */
function customKeys(event, root, host) {
  if (event.defaultPrevented) return null;
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) return { type: "submit" };
  if (typing(event.target)) {
    // The key belongs to the field (a letter, an arrow on a slider): the notebook around the
    // widget must not act on it (JupyterLab's handlers would take arrows and letters).
    event.stopPropagation();
    return null;
  }
  if (event.altKey || event.ctrlKey || event.metaKey) return null;
  // The focused crowd element, else the first one that takes keys, gets the key first.
  let tool = event.target instanceof Element ? event.target : null;
  while (tool && tool !== root && typeof tool.crowdKey !== "function") tool = tool.parentElement;
  if (!tool || tool === root) tool = [...host.querySelectorAll("*")].find((e) => typeof e.crowdKey === "function");
  if (tool?.crowdKey(event)) return true;
  // The action keys every widget shares (lib/keys.js); digits and Enter are the elements'.
  const intent = intentForKey(event, 0);
  return intent && ["skip", "undo", "back", "forward"].includes(intent.type) ? intent : null;
}

function render({ model, el }) {
  const frame = new Frame(model, { pace: true });
  const { session } = frame;
  let shownKey = undefined;
  let shownFor = undefined; // the answer the item on screen was restored from

  const host = h("div", { class: "nbl-template", "data-testid": "nbl-template" });
  const { problem, message } = itemNotes();
  const stage = h("div", { class: "nbl-stage nbl-custom-stage" }, [host, message]);
  const submitButton = frame.button("submit", "Submit ⌃⏎", "Submit the answer (Ctrl+Enter)");

  function show() {
    const key = session.current;
    const item = session.currentItem;
    const value = key === null ? null : session.values.get(key) ?? null;
    const root = frame.root;
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
      showNote(message, session.exhausted ? frame.doneText() : "Loading the next items…");
      root.dataset.itemKey = "";
      root.dataset.state = session.exhausted ? "done" : "loading";
    } else {
      if (item.error) {
        showNote(problem, `Cannot show this item: ${item.error}. Press s to skip it.`);
      }
      root.dataset.state = item.error ? "error" : "item";
      root.dataset.itemKey = item.key;
    }
    frame.showHeader(item);
  }

  function submit() {
    const item = session.currentItem;
    if (!item || item.error) return;
    // GT's crowd-form inherits a form's events: a template may veto the submission.
    const form = host.querySelector("crowd-form");
    if (form && !form.dispatchEvent(new Event("submit", { cancelable: true }))) return;
    const { answer, problems } = collect(host);
    if (problems.length) {
      showNote(problem, problems.join(" "));
      return;
    }
    frame.record(session.answer(answer, uid()));
  }

  /** Submit and reset (the template's); skip, undo and revisiting are the frame's. */
  function onIntent(intent) {
    if (intent.type === "submit") submit();
    else if (intent.type === "reset") {
      shownKey = undefined;
      session.values.set(session.current, null);
      show();
    } else return false;
    return true;
  }

  frame.listen(host, "crowd-submit", () => frame.act({ type: "submit" }));
  frame.listen(host, "crowd-reset", () => frame.act({ type: "reset" }));
  frame.mount(el, {
    className: "nbl-custom",
    dataset: { elements: ELEMENTS.length },
    body: [stage, problem],
    actions: [...itemActions("item"), submitButton],
    help: "Keys: Ctrl+Enter submit · s skip · z undo · ← → revisit (outside text fields) · 1–9 pick a category or label",
    keys: (event) => customKeys(event, frame.root, host),
    // The template's own elements take the pointer (a canvas, a label): focus stays where it goes.
    focusOnPointer: false,
    onIntent,
    show,
    flash: (text) => showNote(problem, text),
    // The kernel reopened an item (an undo from an earlier session): draw its form afresh.
    follow: { reopened: () => (shownKey = undefined) },
  });

  return () => frame.destroy();
}

export default { render };
