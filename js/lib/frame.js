// What every nblabel widget shows around its content and does the same way.
//
// `Shell`: the root element (focusable, keys kept from JupyterLab), the header, the task's
// instructions when it has some (lib/instructions.js: the short text under the header, the full
// panel on the i key), the action bar and the help line, built once by `mount`; a key or a
// button becomes an intent, and every intent goes through one switch: the widget's own
// `onIntent` first, then the commands shared. The review grid is a Shell.
//
// `Frame`: a Shell for the one-item-at-a-time widgets. It owns their LabelSession and Channel,
// shows the position, progress and saved state, and holds the commands they share: record an
// answer (the next item is painted first, the answer leaves after that paint), skip, undo,
// revisit. It times the person's work on each item (lib/timing.js) and sends the timing with the
// answer. Each widget keeps only what is its own.
import { Channel } from "./channel.js";
import { actionButton, afterPaint, h, setData, setText } from "./dom.js";
import { uid } from "./ids.js";
import { InstructionsView, instructionsOf } from "./instructions.js";
import { LabelSession } from "./session.js";
import { ActiveClock } from "./timing.js";

const PACE_WINDOW = 20; // answers the items/min figure is taken over

/**
 * The action bar's commands of the widgets that answer one item at a time and answer it at
 * once (classification, verification, custom tasks): back, forward, undo, skip (Shell.mount's
 * `actions`). `noun`: what an item is ("item", "image"); `answer`: what undo takes back.
 */
export function itemActions(noun, answer = "answer") {
  return [
    ["back", "← Back", `Previous ${noun} (←)`],
    ["forward", "Forward →", `Next ${noun} (→)`],
    ["undo", "Undo", `Undo the last ${answer} (z or Backspace)`],
    ["skip", "Skip", `Skip this ${noun} (s)`],
  ];
}

/** True for the elements that keep the pointer's focus (the widget root does not take it). */
function keepsFocus(target) {
  return target instanceof Element && Boolean(target.closest("button, select, input, textarea"));
}

/** True for the elements a typed letter belongs to (a form field), not to the widget's keys. */
function takesText(target) {
  return target instanceof Element && Boolean(target.closest("input, textarea, select, [contenteditable]"));
}

export class Shell {
  /**
   * @param {object} model the widget's model (its `title`)
   * @param {Node[]} status what the header shows after the title
   */
  constructor(model, status = []) {
    this.model = model;
    this.root = null;
    this.buttons = {};
    this.onIntent = () => false;
    this.header = h("div", { class: "nbl-header" }, [h("span", { class: "nbl-title", text: model.get("title") }), ...status]);
    this._listeners = [];
  }

  /**
   * An action button whose click is `intent` (`{type: name}` by default); kept in `buttons`.
   * Its `name` gives the class `nbl-<name>` and the test id.
   */
  button(name, label, hint, intent = { type: name }) {
    const b = actionButton(name, label, hint, this.clicked(intent));
    this.buttons[name] = b;
    return b;
  }

  /** A click handler that acts on `intent`, then gives the keys back to the widget. */
  clicked(intent) {
    return () => {
      this.act(intent);
      this.root?.focus({ preventScroll: true }); // keys go to the widget again, not to the button
    };
  }

  /**
   * Build the widget's root in `el`: the header, `body`, the action bar, the help line.
   * @param {HTMLElement} el where anywidget renders
   * @param {object} spec
   * @param {string} spec.className the widget's class (`nbl-classify`, ...)
   * @param {Node[]} spec.body what comes between the header and the action bar
   * @param {Array<Array|Node>} spec.actions the action bar: `[name, label, hint, intent?]` (see
   *   `button`) or elements; null entries are left out
   * @param {string} spec.help the keys, in one line
   * @param {(intent: object) => boolean} spec.onIntent the widget's own intents: true when it
   *   handled the intent, false to leave it to the commands shared
   * @param {(event: KeyboardEvent) => object|true|null} spec.keys the intent of a keydown, true
   *   when the widget used the key itself, null to leave it alone
   * @param {(event: KeyboardEvent) => void} [spec.keyup]
   * @param {boolean} [spec.focusOnPointer] a click outside the controls focuses the widget
   * @param {string} [spec.testid] the root's test id
   * @param {object} [spec.dataset] the root's first data attributes
   */
  mount(el, { className, body, actions, help, onIntent, keys, keyup = null, focusOnPointer = true, testid = "nbl-root", dataset = {} }) {
    this.onIntent = onIntent;
    const bar = actions.filter(Boolean).map((a) => (Array.isArray(a) ? this.button(...a) : a));
    const guide = instructionsOf(this.model);
    this.guide = guide ? new InstructionsView(guide, { onToggle: () => this.root.focus({ preventScroll: true }) }) : null;
    this.root = h(
      "div",
      { class: `nblabel ${className}`, tabindex: "0", "data-testid": testid, "data-lm-suppress-shortcuts": "true", dataset },
      [
        this.header,
        this.guide?.short,
        this.guide?.panel,
        ...body,
        bar.length ? h("div", { class: "nbl-actions" }, bar) : null,
        h("div", { class: "nbl-help", text: this.guide ? `${help} · i instructions` : help }),
      ],
    );
    el.append(this.root);
    this.listen(this.root, "keydown", (event) => {
      // An attribute field (lib/attributes.js) keeps its keys; Esc gives them back to the widget.
      if (event.target instanceof Element && event.target.closest(".nbl-attrs")) {
        if (event.key === "Escape") {
          event.preventDefault();
          this.root.focus({ preventScroll: true });
        }
        return;
      }
      if (this.guideKey(event)) {
        event.preventDefault();
        event.stopPropagation();
        return;
      }
      const intent = keys(event);
      if (!intent) {
        if (event.key === "Escape" && event.target === this.root) this.handBack();
        return;
      }
      event.preventDefault();
      event.stopPropagation();
      if (intent !== true) this.act(intent);
    });
    if (keyup) this.listen(this.root, "keyup", keyup);
    if (focusOnPointer) {
      this.listen(this.root, "pointerdown", (event) => {
        if (!keepsFocus(event.target)) this.root.focus({ preventScroll: true });
      });
    }
    return this.root;
  }

  /** i opens or closes the instructions, Esc closes them: true when the key was theirs. */
  guideKey(event) {
    const { guide } = this;
    if (!guide || event.ctrlKey || event.metaKey || event.altKey || takesText(event.target)) return false;
    if (event.key === "i") guide.toggle();
    else if (event.key === "Escape" && guide.isOpen) guide.toggle(false);
    else return false;
    return true;
  }

  /**
   * Esc that the widget has no use for gives the keys back to JupyterLab or Notebook: the widget
   * lets go of the focus and the notebook takes it (command mode: arrows, j/k, a/b work again).
   */
  handBack() {
    const notebook = this.root.closest(".jp-Notebook");
    this.root.blur();
    notebook?.focus({ preventScroll: true });
  }

  /** Add an event listener that `destroy` removes. */
  listen(target, type, fn, options) {
    target.addEventListener(type, fn, options);
    this._listeners.push(() => target.removeEventListener(type, fn, options));
  }

  /** One intent, from a key or a button: the widget's own first, then the shared commands. */
  act(intent) {
    if (!this.onIntent(intent)) this.shared(intent);
  }

  /** The commands every widget of this kind shares (none for a bare shell). */
  shared() {}

  destroy() {
    for (const off of this._listeners.splice(0)) off();
  }
}

export class Frame extends Shell {
  /**
   * @param {object} model the widget's model (its `title`, `progress`, `job_id`, `window`)
   * @param {object} [options]
   * @param {string} [options.verb] what the progress line calls an answered item ("labeled", "verified")
   * @param {boolean} [options.pace] add answers per minute to the progress line
   * @param {(items: object[], buffers: DataView[]) => Promise} [options.decode] how the images of
   *   arriving items are decoded (lib/channel.js `decodeItems` by default)
   */
  constructor(model, { verb = "labeled", pace = false, decode } = {}) {
    const position = h("span", { class: "nbl-position", "data-testid": "nbl-position" });
    const progress = h("span", { class: "nbl-progress", "data-testid": "nbl-progress" });
    const status = h("span", { class: "nbl-status", "data-testid": "nbl-status", role: "status" });
    super(model, [position, progress, status]);
    Object.assign(this, { position, progress, status, verb });
    this.times = pace ? [] : null;
    this.clock = new ActiveClock(); // active time on the item on screen, sent with its answer
    this.session = new LabelSession();
    this.channel = new Channel(model, () => this.showStatus(), { decode });
    this.show = () => {};
    this.queued = 0; // answers waiting for their binary part to be made: unsaved, not yet kept
    this._outgoing = Promise.resolve(); // messages leave in the order they were made
    this._onProgress = () => {
      this.showProgress();
      // "All done: ..." quotes the counts: paint it again when the last acknowledgement lands.
      if (this.session.exhausted && this.session.current === null) this.show();
    };
    model.on("change:progress", this._onProgress);
  }

  /**
   * Mount (see Shell.mount), follow the kernel and say hello.
   * @param {HTMLElement} el
   * @param {object} spec Shell.mount's spec, and:
   * @param {() => void} spec.show draw the item on screen (called by every shared command)
   * @param {(text: string) => void} spec.flash show a problem to the person
   * @param {object} [spec.follow] more hooks of Channel.follow (`received`, `reopened`, `other`)
   */
  mount(el, { show: draw, flash, follow = {}, ...spec }) {
    const root = super.mount(el, spec);
    const show = () => {
      draw();
      this.clock.showing(this.session.current ?? null, performance.now(), Date.now());
    };
    this.show = show;
    this.flash = flash;
    const input = () => this.clock.input(performance.now());
    for (const type of ["keydown", "pointerdown", "pointermove", "wheel"]) this.listen(root, type, input, { capture: true, passive: true });
    this.listen(document, "visibilitychange", () => this.clock.visibility(document.hidden, performance.now()));
    this.channel.follow(this.session, { show, flash, ...follow });
    show();
    // Images are sent at the size they are shown at: the widget's width, 60% of the window's
    // height. The width is read once the widget is laid out (the next frame), not now.
    this.channel.hello(() => root.clientWidth);
    return root;
  }

  shared(intent) {
    switch (intent.type) {
      case "skip":
        if (this.session.currentItem) this.record(this.session.skip(uid()));
        return;
      case "undo":
        this.undo();
        return;
      case "back":
      case "forward":
        this.revisit(intent.type);
        return;
      default:
    }
  }

  doneText() {
    const p = this.model.get("progress");
    return `All done: ${p.labeled} labeled, ${p.skipped} skipped of ${p.total}.`;
  }

  /** "Item 3 of 40", "(revisiting)" when the cursor is behind the newest item. */
  showPosition(item, noun = "Item") {
    const revisiting = this.session.revisiting ? " (revisiting)" : "";
    setText(this.position, item ? `${noun} ${item.position + 1} of ${item.total}${revisiting}` : "");
  }

  showProgress() {
    const p = this.model.get("progress");
    let rate = "";
    const times = this.times;
    if (times && times.length >= 2) {
      const span = times[times.length - 1] - times[0];
      if (span > 0) rate = ` · ${(((times.length - 1) * 60000) / span).toFixed(1)} items/min`;
    }
    setText(this.progress, `${p.labeled} ${this.verb} · ${p.skipped} skipped · ${p.remaining} left${rate}`);
    if (this.root) setData(this.root, "labeled", String(p.labeled));
  }

  /** "saved" or "N unsaved"; the root's `data-unacked` is what tests and benchmarks wait on. */
  showStatus() {
    const n = this.channel.unsaved + this.queued;
    setText(this.status, n ? `${n} unsaved` : "saved");
    this.status.classList.toggle("nbl-unsaved", n > 0);
    if (this.root) setData(this.root, "unacked", String(n));
  }

  /**
   * The root's `data-state` ("item", "error", "loading", "done") and `data-item-key` (what tests
   * and benchmarks wait on), set only when they change.
   */
  showState(state, key) {
    setData(this.root, "state", state);
    setData(this.root, "itemKey", key);
  }

  /** The header's three parts at once (after an item was drawn). */
  showHeader(item, noun = "Item") {
    this.showPosition(item, noun);
    this.showProgress();
    this.showStatus();
  }

  /**
   * Send a message once the next frame is painted, after those posted before it: sending takes
   * milliseconds that must not delay the next item. It is kept in the outbox at once (a tab
   * closed before it leaves loses nothing), unless it has a binary part: `buffers()` makes that
   * on the way (a mask compressed), and the message is kept when it is sent. Then ask for more.
   */
  post(msg, buffers = null) {
    const { channel } = this;
    if (buffers) {
      this.queued += 1;
      this.showStatus();
    } else channel.keep(msg);
    const painted = afterPaint();
    this._outgoing = this._outgoing
      .then(() => painted)
      .then(async () => {
        if (buffers) {
          const parts = await buffers();
          this.queued -= 1;
          channel.send(msg, parts);
        } else channel.trySend(msg);
        channel.requestMore();
      })
      .catch((err) => {
        if (buffers) this.queued -= 1;
        this.showStatus();
        this.flash(`Could not send the answer: ${err?.message ?? err}`);
      });
  }

  /** Record an answer or skip the session made: the next item is painted first. */
  record(msg, buffers = null) {
    if (!msg) return;
    const timing = this.clock.timing(msg.key, performance.now(), Date.now());
    if (timing) msg.timing = timing; // GT's acceptanceTime, submissionTime, timeSpentInSeconds
    this.show();
    if (this.times) {
      this.times.push(performance.now());
      if (this.times.length > PACE_WINDOW) this.times.shift();
    }
    this.post(msg, buffers);
  }

  /** Take back this widget's latest answer; with none, ask the kernel to take back the latest
   * stored one (an answer from an earlier session). */
  undo() {
    const { session } = this;
    session.exhausted = false; // the undone item is open again
    const msg = session.undo(uid());
    if (msg) this.show();
    this.post(msg ?? { type: "undo", uid: uid(), key: null, target: null });
  }

  /** ← and →: move through the items already seen. */
  revisit(direction) {
    if (direction === "back" ? this.session.back() : this.session.forward()) this.show();
  }

  destroy() {
    super.destroy();
    this.channel.destroy();
    this.model.off("change:progress", this._onProgress);
  }
}
