// DOM helpers. Text from data is only ever set with textContent: nothing that came from a
// manifest is parsed as HTML.
import { classKey } from "./keys.js";

const HIDDEN_TAB_MS = 100; // a hidden tab paints no frames: work after a paint waits at most this long

/**
 * Resolves once the next frame has been painted (or soon, in a hidden tab that paints none), as
 * background work: after the tasks already waiting (input, the page's own timers) where the
 * browser can tell (`scheduler.postTask`).
 */
export function afterPaint() {
  return new Promise((resolve) => {
    const post = globalThis.scheduler?.postTask;
    requestAnimationFrame(() => (post ? globalThis.scheduler.postTask(resolve, { priority: "background" }) : setTimeout(resolve, 0)));
    setTimeout(resolve, HIDDEN_TAB_MS);
  });
}

/** A function that runs `fn` once the page is idle, however often it is called before then. */
export function idleOnce(fn) {
  let queued = false;
  const run = () => {
    queued = false;
    fn();
  };
  return () => {
    if (queued) return;
    queued = true;
    if (globalThis.requestIdleCallback) requestIdleCallback(run, { timeout: 300 });
    else setTimeout(run, 30);
  };
}

/**
 * Create an element. `attrs` keys starting with "on" add listeners; `text` sets textContent;
 * `dataset` and `style` are objects; every other key is set with setAttribute.
 */
export function h(tag, attrs = {}, children = []) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "text") el.textContent = String(value);
    else if (name === "dataset") Object.assign(el.dataset, value);
    else if (name === "style") Object.assign(el.style, value);
    else if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) if (child) el.append(child);
  return el;
}

/** Show a hidden note `el` (a problem, a notice) with `text`. */
export function showNote(el, text) {
  el.hidden = false;
  setText(el, text);
}

/**
 * Mark a toggle button pressed or not: its class `className` and `aria-pressed`, each touched
 * only when it changes (an attribute set to the same value still costs a style check per frame).
 */
export function setPressed(button, on, className = "nbl-chosen") {
  if (button.classList.contains(className) !== on) button.classList.toggle(className, on);
  const pressed = on ? "true" : "false";
  if (button.getAttribute("aria-pressed") !== pressed) button.setAttribute("aria-pressed", pressed);
}

/** Show note `el` with `text`, or hide it when `text` is null; touching only what changes. */
export function setNote(el, text) {
  const hide = text === null;
  if (el.hidden !== hide) el.hidden = hide;
  if (!hide) setText(el, text);
}

/** Set the data attribute `name` (camelCase) of `el`, only when it changed (as setText). */
export function setData(el, name, value) {
  if (el.dataset[name] !== value) el.dataset[name] = value;
}

/** Replace an element's text, only when it changed (avoids needless layout). */
export function setText(el, text) {
  const value = String(text);
  if (el.textContent !== value) el.textContent = value;
}

/** A widget's action button (`nbl-action nbl-<name>`, test id `nbl-<name>`), its hint as tooltip. */
export function actionButton(name, label, hint, onclick) {
  return h("button", {
    class: `nbl-action nbl-${name}`,
    type: "button",
    "data-testid": `nbl-${name}`,
    title: hint,
    text: label,
    onclick,
  });
}

/**
 * The button of class `index`: its number key (from lib/keys.js) shown and in the tooltip, and
 * an optional colour `swatch` for widgets that draw classes in colour (`className` and `dataset`
 * for widgets that style their class buttons their own way).
 */
export function classButton(label, index, { testid, onclick, swatch = null, className = "nbl-class", dataset = null }) {
  const key = classKey(index);
  const title = key ? `${label} (key ${key})` : label;
  return h("button", { class: className, type: "button", "data-testid": testid, dataset, title, onclick }, [
    swatch && h("span", { class: "nbl-swatch", style: { background: swatch } }),
    h("kbd", { text: key || "·" }),
    h("span", { text: label }),
  ]);
}

/**
 * The two notes shown over an item: `problem` (the item cannot be shown; announced to screen
 * readers) and `message` (e.g. nothing left to label). Both start hidden.
 */
export function itemNotes() {
  return {
    problem: h("div", { class: "nbl-error", "data-testid": "nbl-error", role: "alert", hidden: true }),
    message: h("div", { class: "nbl-message", "data-testid": "nbl-message", hidden: true }),
  };
}

/**
 * Two elements that take turns on screen: while `shown` is on screen, the next item is built in
 * `spare`, laid out in the same place but invisible (CSS class `nbl-spare`), so showing it only
 * swaps them. The test id stays on the element shown; `spareKey` says what the spare holds.
 */
export class TakingTurns {
  /** @param {() => HTMLElement} make makes one of the two elements; `testid` names the one shown */
  constructor(make, testid) {
    this.shown = make();
    this.spare = make();
    this.testid = testid;
    this.shown.dataset.testid = testid;
    this.spare.classList.add("nbl-spare");
    this.spare.setAttribute("aria-hidden", "true");
    this.spare.hidden = true;
    this.spareKey = null;
  }

  /** The spare now holds the item `key`: lay it out (invisibly), scrolled to its top. */
  prepared(key) {
    this.spareKey = key;
    this.spare.hidden = false;
    this.spare.scrollTop = 0;
  }

  /** The spare comes on screen; the element that was shown becomes the spare. */
  swap() {
    [this.shown, this.spare] = [this.spare, this.shown];
    const { shown, spare } = this;
    shown.classList.remove("nbl-spare");
    shown.removeAttribute("aria-hidden");
    shown.dataset.testid = this.testid;
    shown.hidden = false;
    spare.classList.add("nbl-spare");
    spare.setAttribute("aria-hidden", "true");
    delete spare.dataset.testid;
    // Out of the layout until the next item is built in it: the frame that shows the new item
    // lays out nothing of the old one.
    spare.hidden = true;
    this.spareKey = null;
  }
}
