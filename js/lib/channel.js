// The browser half of the widget protocol shared by the one-item-at-a-time widgets (see
// src/nblabel/widgets/item_widget.py): answers go out through the outbox and are re-sent until
// acknowledged, images arrive as binary buffers and are decoded off the main thread, and the
// first `hello` tells the kernel the display size and the answers an earlier widget left unsaved.
import { Outbox } from "./outbox.js";

const RESEND_AFTER_MS = 4000;

/** The page's localStorage, or null where it is unavailable (sandboxed frames). */
export function storage() {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}

/** Decode one binary buffer into an ImageBitmap. */
export function decodeBuffer(view, mime) {
  const blob = new Blob([view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength)], { type: mime });
  return createImageBitmap(blob);
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

export class Channel {
  /**
   * @param {object} model  the anywidget model
   * @param {() => void} onChange  called when the number of unsaved answers may have changed
   */
  constructor(model, onChange = () => {}) {
    this.model = model;
    this.outbox = new Outbox(model.get("job_id"), storage());
    this.onChange = onChange;
    // Answers left unsaved by an earlier widget of this job (kernel died, page reloaded) go first.
    this.leftover = this.outbox.due(performance.now(), -1);
    this._helloSent = false;
    this._timer = setInterval(() => {
      for (const msg of this.outbox.due(performance.now(), RESEND_AFTER_MS)) this.trySend(msg, this.outbox.buffersOf(msg.uid));
    }, 1000);
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

  /**
   * Send an answer and keep it until the kernel acknowledges it. Binary `buffers` (a mask) are
   * re-sent with it while the page lives; only text answers survive a reload.
   */
  send(msg, buffers = null) {
    this.outbox.add(msg, performance.now(), buffers);
    this.trySend(msg, buffers);
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
   * Say hello once the widget is laid out (the next frame), with images wanted at `width()` CSS
   * pixels wide and 60% of the window high, in device pixels.
   */
  hello(width) {
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
    clearInterval(this._timer);
  }
}
