// The browser half of the widget protocol shared by the one-item-at-a-time widgets (see
// src/nblabel/widgets/item_widget.py): answers go out through the outbox and are re-sent until
// acknowledged, images arrive as binary buffers and are decoded off the main thread, and the
// first `hello` tells the kernel the display size and the answers an earlier widget left unsaved.
// `follow` keeps a widget's LabelSession fed: prefetch, acknowledgements, new auto-labeling
// rounds, refusals and items the kernel reopens; the widget only draws.
import { Outbox } from "./outbox.js";

const RESEND_AFTER_MS = 4000;
const KEEP_AHEAD = 3; // prefetched items kept in place when a new round reorders the queue

/** The page's localStorage, or null where it is unavailable (sandboxed frames). */
export function storage() {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}

/** The bytes of a binary buffer from the kernel (a DataView over a larger message). */
export function bytesOf(view) {
  return view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength);
}

/** Decode one binary buffer into an ImageBitmap. */
export function decodeBuffer(view, mime) {
  return createImageBitmap(new Blob([bytesOf(view)], { type: mime }));
}

/** Decode the images of item payloads in place: `item.bitmap`, or `item.error` when the browser cannot. */
export async function decodeItems(items, buffers) {
  await Promise.all(
    items.map(async (item) => {
      if (item.buffer === undefined || item.buffer === null) return;
      try {
        item.bitmap = await decodeBuffer(buffers[item.buffer], item.mime);
      } catch (err) {
        item.error = `the browser could not decode this image (${err?.message ?? err})`;
      }
    }),
  );
}

/**
 * The kernel's custom messages, both ways: `trySend` sends without keeping, `listen` hears every
 * message until `destroy`. The review grid talks through a Link; the item widgets through a
 * Channel, which keeps what they send until it is acknowledged.
 */
export class Link {
  /** @param {object} model the anywidget model */
  constructor(model) {
    this.model = model;
    this._onMsg = null;
  }

  /** Send without keeping: a dead kernel's comm may refuse; the caller does not need it back. */
  trySend(msg, buffers = null) {
    try {
      if (buffers) this.model.send(msg, undefined, buffers);
      else this.model.send(msg);
    } catch (err) {
      console.warn("nblabel: could not send, will retry", err);
    }
  }

  /** Call `fn(msg, buffers)` for every custom message from the kernel. */
  listen(fn) {
    this._onMsg = (msg, buffers) => fn(msg, buffers); // its promise: a test can wait for it
    this.model.on("msg:custom", this._onMsg);
  }

  destroy() {
    if (this._onMsg) this.model.off("msg:custom", this._onMsg);
  }
}

export class Channel extends Link {
  /**
   * @param {object} model  the anywidget model
   * @param {() => void} onChange  called when the number of unsaved answers may have changed
   * @param {{decode?: (items: object[], buffers: DataView[]) => Promise}} options `decode`: how the
   *   images of arriving items are decoded (`decodeItems` by default)
   */
  constructor(model, onChange = () => {}, { decode = decodeItems } = {}) {
    super(model);
    this.outbox = new Outbox(model.get("job_id"), storage());
    this.onChange = onChange;
    this.decode = decode;
    this.windowSize = model.get("window");
    this.session = null;
    this.hooks = {};
    this._requesting = false; // a `hello` or `more` is waiting for its items
    // New rounds (the queue changed: a round, rows added) seen so far, and how many had been seen
    // when the waiting request went out: a reply computed before the latest round may say
    // "nothing left" of a queue that has grown since.
    this._rounds = 0;
    this._requestedAt = 0;
    // Answers left unsaved by an earlier widget of this job (kernel died, page reloaded) go first.
    this.leftover = this.outbox.due(performance.now(), -1);
    this._helloSent = false;
    this._timer = setInterval(() => {
      for (const msg of this.outbox.due(performance.now(), RESEND_AFTER_MS)) this.trySend(msg, this.outbox.buffersOf(msg.uid));
    }, 1000);
  }

  /**
   * Send an answer and keep it until the kernel acknowledges it. Binary `buffers` (a mask) are
   * re-sent with it while the page lives; only text answers survive a reload.
   */
  send(msg, buffers = null) {
    this.keep(msg, buffers);
    this.trySend(msg, buffers);
  }

  /**
   * Keep an answer until the kernel acknowledges it, without sending it yet (the caller sends it
   * with `trySend` soon): kept in the page's storage, it is re-sent even if the page closes first.
   */
  keep(msg, buffers = null) {
    this.outbox.add(msg, performance.now(), buffers);
    this.onChange();
  }

  ack(uids) {
    const hit = this.outbox.ack(uids);
    this.onChange();
    return hit;
  }

  get unsaved() {
    return this.outbox.size;
  }

  /**
   * Feed `session` from the kernel's messages and call the widget back to draw.
   * @param {import("./session.js").LabelSession} session
   * @param {object} hooks
   * @param {() => void} hooks.show  redraw: items arrived, a new round, an item reopened
   * @param {(text: string) => void} hooks.flash  show a problem to the person
   * @param {(items: object[]) => void} [hooks.received]  items arrived, decoded, not yet in the session
   * @param {(key: string) => void} [hooks.reopened]  the kernel took back an earlier answer of `key`
   * @param {(msg: object, buffers: DataView[]) => Promise<void>} [hooks.unpackProposals]  a new round's
   *   proposals arrived, before the session takes them (a widget unpacks their buffers)
   * @param {(proposals: object) => void} [hooks.proposals]  a new round's proposals (key -> proposal), now in the session
   *   (a widget redraws the item on screen from them)
   * @param {(msg: object, buffers: DataView[]) => void} [hooks.other]  the widget's own messages
   */
  follow(session, hooks) {
    this.session = session;
    this.hooks = hooks;
    this.listen((msg, buffers) => this._receive(msg, buffers));
  }

  /** Ask for items up to the prefetch window, unless a request is out or nothing is left. */
  requestMore() {
    const session = this.session;
    if (this._requesting || session.exhausted || session.ahead >= this.windowSize) return;
    this._requesting = true;
    this._requestedAt = this._rounds;
    this.trySend({
      type: "more",
      count: this.windowSize - session.ahead,
      exclude: session.exclude(this.outbox.keys()),
    });
  }

  async _receive(msg, buffers) {
    const { session, hooks, model } = this;
    if (msg.type === "items") {
      await Promise.all([this.decode(msg.items, buffers), hooks.received?.(msg.items, buffers)]);
      // "Nothing left" from before a round that came in meanwhile is out of date: ask again.
      const stale = msg.reply && this._requestedAt !== this._rounds;
      if (msg.reply) this._requesting = false;
      session.add(msg.items, { exhausted: Boolean(msg.exhausted) && !stale });
      if (msg.progress) model.set("progress", msg.progress);
      hooks.show();
      this.requestMore();
    } else if (msg.type === "ack") {
      if (msg.progress) model.set("progress", msg.progress);
      this.ack(msg.uids);
    } else if (msg.type === "proposals") {
      this._rounds += 1;
      await hooks.unpackProposals?.(msg, buffers);
      session.newRound(msg, KEEP_AHEAD);
      hooks.proposals?.(msg.proposals ?? {});
      if (msg.progress) model.set("progress", msg.progress);
      hooks.show();
      this.requestMore();
    } else if (msg.type === "answered") {
      // Answered from elsewhere (code, another kernel): not offered here any more.
      if (session.drop(msg.keys || [])) hooks.show();
      if (msg.progress) model.set("progress", msg.progress);
      this.requestMore();
    } else if (msg.type === "store-error") {
      // The kernel could not write the answer (disk full, read-only store): it stays unsaved
      // here and is re-sent until it is stored.
      hooks.flash(`Could not save answers yet: ${msg.reason}. They are kept and retried.`);
    } else if (msg.type === "rejected" || msg.type === "error") {
      this._refused(msg);
    } else if (msg.type === "goto") {
      // The kernel undid an answer from an earlier session: show that item again.
      await Promise.all([this.decode(msg.items, buffers), hooks.received?.(msg.items, buffers)]);
      session.reopen(msg.key, msg.items);
      hooks.reopened?.(msg.key);
      hooks.show();
    } else {
      hooks.other?.(msg, buffers);
    }
  }

  /**
   * The kernel refused a message (every message gets one reply; see item_widget.py). A
   * `rejected` answer can never be stored: it is dropped. An answer that met an `error` (a
   * failure of the kernel's) is kept but no longer re-sent from this page: it would fail again;
   * the next widget of the job sends it. A refused request stops being waited for. Either way
   * the person is told why; a sharper view is optional and fails quietly.
   */
  _refused(msg) {
    const rejected = msg.type === "rejected";
    if (msg.uid) {
      if (rejected) this.ack([msg.uid]);
      else {
        this.outbox.hold(msg.uid);
        this.onChange();
      }
      this.hooks.flash(
        rejected ? `Not saved: ${msg.reason}` : `Could not save (kept for the next widget of this job): ${msg.reason}`,
      );
      return;
    }
    if (msg.request === "hello" || msg.request === "more") this._requesting = false;
    if (msg.request === "detail") {
      console.warn("nblabel: no sharper view:", msg.reason);
      return;
    }
    this.hooks.flash(`The kernel could not answer (${msg.request ?? "a message"}): ${msg.reason}`);
  }

  /**
   * Say hello once the widget is laid out (the next frame), with images wanted at `width()` CSS
   * pixels wide and 60% of the window high, in device pixels. The reply is the first items.
   */
  hello(width) {
    this._requesting = true;
    this._requestedAt = this._rounds;
    const go = () => {
      if (this._helloSent) return;
      this._helloSent = true;
      const scale = globalThis.devicePixelRatio || 1;
      const w = Math.max(320, Math.round((width() || 800) * scale));
      const hgt = Math.max(240, Math.round((globalThis.innerHeight || 800) * 0.6 * scale));
      this.trySend({ type: "hello", width: Math.min(w, 1600), height: Math.min(hgt, 1200), resend: this.leftover });
    };
    requestAnimationFrame(go);
    setTimeout(go, 200); // a hidden tab runs no animation frames
  }

  destroy() {
    super.destroy();
    clearInterval(this._timer);
  }
}
