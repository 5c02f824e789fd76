// What every labeling widget shows around its item and does the same way: the header (title,
// position, progress, saved state), the "all done" line, the answer pace, and the commands they
// share (record an answer, undo, revisit). Each widget keeps only what is its own.
import { h, setText } from "./dom.js";
import { uid } from "./ids.js";

const PACE_WINDOW = 20; // answers the items/min figure is taken over

export class Frame {
  /**
   * @param {object} model the widget's model (its `title` and `progress`)
   * @param {{verb?: string, pace?: boolean, pending?: () => number}} options `verb`: what the
   *   progress line calls an answered item ("labeled", "verified"); `pace`: add answers per
   *   minute to it; `pending`: answers given but not yet handed to the channel (unsaved too).
   */
  constructor(model, { verb = "labeled", pace = false, pending = () => 0 } = {}) {
    this.model = model;
    this.verb = verb;
    this.pending = pending;
    this.times = pace ? [] : null;
    this.root = null;
    this.session = null;
    this.channel = null;
    this.show = () => {};
    this.position = h("span", { class: "nbl-position", "data-testid": "nbl-position" });
    this.progress = h("span", { class: "nbl-progress", "data-testid": "nbl-progress" });
    this.status = h("span", { class: "nbl-status", "data-testid": "nbl-status", role: "status" });
    this.header = h("div", { class: "nbl-header" }, [
      h("span", { class: "nbl-title", text: model.get("title") }),
      this.position,
      this.progress,
      this.status,
    ]);
  }

  /** Connect the widget's root, session, channel and repaint, once they exist. */
  attach({ root, session, channel, show }) {
    Object.assign(this, { root, session, channel, show });
  }

  doneText() {
    const p = this.model.get("progress");
    return `All done: ${p.labeled} labeled, ${p.skipped} skipped of ${p.total}.`;
  }

  /** "Item 3 of 40", "(revisiting)" when the cursor is behind the newest item. */
  showPosition(item, noun = "Item") {
    const revisiting = this.session?.revisiting ? " (revisiting)" : "";
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
    if (this.root) this.root.dataset.labeled = String(p.labeled);
  }

  /** "saved" or "N unsaved"; the root's `data-unacked` is what tests and benchmarks wait on. */
  showStatus() {
    const n = (this.channel ? this.channel.unsaved : 0) + this.pending();
    setText(this.status, n ? `${n} unsaved` : "saved");
    this.status.classList.toggle("nbl-unsaved", n > 0);
    if (this.root) this.root.dataset.unacked = String(n);
  }

  /** Send an answer or skip the session made: the next item is painted first, the kernel round
   * trip is not on the critical path. */
  record(msg) {
    if (!msg) return;
    this.show();
    if (this.times) {
      this.times.push(performance.now());
      if (this.times.length > PACE_WINDOW) this.times.shift();
    }
    this.channel.send(msg);
    this.channel.requestMore();
  }

  /** Take back this widget's latest answer; with none, ask the kernel to take back the latest
   * stored one (an answer from an earlier session). */
  undo() {
    const { session, channel } = this;
    session.exhausted = false; // the undone item is open again
    const msg = session.undo(uid());
    if (msg) {
      channel.send(msg);
      this.show();
    } else if (!session.answers.length) {
      channel.send({ type: "undo", uid: uid(), key: null, target: null });
    }
    channel.requestMore();
  }

  /** ← and →: move through the items already seen. */
  revisit(direction) {
    if (direction === "back" ? this.session.back() : this.session.forward()) this.show();
  }
}

/**
 * Decoded images of the items far behind the cursor are released (a long session would
 * otherwise hold every image it showed); going back asks the kernel for them again.
 */
export class Pixels {
  /** `forget(item)` drops whatever else a widget decoded for a released item (masks). */
  constructor(session, channel, keepBehind = 30, forget = () => {}) {
    this.session = session;
    this.channel = channel;
    this.keepBehind = keepBehind;
    this.forget = forget;
    this.releasedUpTo = 0; // trail index below which pixels were released
    this.fetching = new Set(); // keys whose pixels were asked for again
  }

  release() {
    const { session } = this;
    const end = session.pos - this.keepBehind;
    for (; this.releasedUpTo < end; this.releasedUpTo += 1) {
      const item = session.items.get(session.trail[this.releasedUpTo]);
      if (item?.bitmap) {
        item.bitmap.close();
        item.bitmap = null;
      }
      if (item) this.forget(item);
    }
  }

  refetch(item) {
    if (this.fetching.has(item.key)) return;
    this.fetching.add(item.key);
    this.channel.trySend({ type: "get", keys: [item.key] });
  }

  /** Items arrived (the channel's `received` hook): they are no longer being fetched. */
  received(items) {
    for (const item of items) this.fetching.delete(item.key);
  }

  /**
   * The stage of an image widget for the item on screen: its image, its error, "loading" (its
   * pixels asked for again) or "all done"; the root's `data-state` and `data-item-key` say which.
   */
  showItem(item, { frame, stage, problem, message }) {
    const root = frame.root;
    stage.el.hidden = true;
    problem.hidden = true;
    message.hidden = true;
    if (!item) {
      message.hidden = false;
      setText(message, this.session.exhausted ? frame.doneText() : "Loading the next images…");
      root.dataset.itemKey = "";
      root.dataset.state = this.session.exhausted ? "done" : "loading";
    } else if (item.error) {
      problem.hidden = false;
      setText(problem, `Cannot show this image: ${item.error}. Press s to skip it.`);
      root.dataset.state = "error";
    } else if (item.bitmap) {
      stage.el.hidden = false;
      stage.layout();
      root.dataset.state = "item";
    } else {
      message.hidden = false;
      setText(message, "Loading image…");
      root.dataset.state = "loading";
      this.refetch(item);
    }
    if (item) root.dataset.itemKey = item.key;
    frame.showPosition(item, "Image");
  }

  /** Close every decoded image (the widget is going away). */
  closeAll() {
    for (const item of this.session.items.values()) item.bitmap?.close();
  }
}
