// The review grid's side of its protocol with the kernel (src/nblabel/widgets/review.py): every
// request carries a sequence number; a page answers one request, an `ack` or `error` one action.
// Tiles acted on stay hidden (decided tiles: marked as saving) until a page that already reflects
// the action arrives, so fast `a a a` presses review successive items, never the same one twice.
// `ReviewRequests` is pure logic, no DOM, tested with `node --test`; `ReviewLink` sends and
// routes the messages.
import { Link } from "./channel.js";

const NO_REPLY_MS = 5000; // an action unacknowledged this long is reported as not saved

export class ReviewRequests {
  constructor() {
    this.seq = 0; // the latest request sent
    this.shownSeq = 0; // the request whose page is on screen
    this.offset = 0; // the page and filter last asked for
    this.filter = "";
    this.shownOffset = 0; // the page and filter on screen
    this.shownFilter = "";
    this.hidden = new Map(); // seq -> keys acted on, hidden until a page of that seq arrives
    this.unacked = new Map(); // seq -> time sent
  }

  /** The message asking for the page at `offset` of the items of class `filter` ("": all). */
  page(offset, filter) {
    this.seq += 1;
    this.offset = offset;
    this.filter = filter;
    return { type: "page", seq: this.seq, offset, filter };
  }

  /** `message` (an action on the tiles `keys`) as sent at `now` (ms): numbered, waiting for its ack. */
  action(message, keys, now) {
    this.seq += 1;
    this.unacked.set(this.seq, now);
    if (keys.length) this.hidden.set(this.seq, new Set(keys));
    return { ...message, seq: this.seq, offset: this.offset, filter: this.filter };
  }

  /** The kernel answered action `seq` (stored it, or refused it). */
  answered(seq) {
    this.unacked.delete(seq);
  }

  /**
   * A page arrived. Returns null when a newer one is already on screen; else `{reset}`: true
   * when it is another page or filter than the one on screen (the selection starts again).
   */
  received(page) {
    if (page.seq <= this.shownSeq) return null;
    const reset = page.offset !== this.shownOffset || page.filter !== this.shownFilter || this.shownSeq === 0;
    this.shownSeq = page.seq;
    this.shownOffset = page.offset;
    this.shownFilter = page.filter;
    if (page.seq === this.seq) this.offset = page.offset; // the kernel moved past an emptied last page
    for (const s of this.hidden.keys()) if (s <= page.seq) this.hidden.delete(s);
    return { reset };
  }

  /** Keys acted on that no page on screen reflects yet. */
  hiddenKeys() {
    const keys = new Set();
    for (const set of this.hidden.values()) for (const key of set) keys.add(key);
    return keys;
  }

  /** "saved", "saving…", or "not saved: no reply from the kernel" when an action is late at `now`. */
  status(now) {
    const late = [...this.unacked.values()].some((sent) => now - sent > NO_REPLY_MS);
    return late ? "not saved: no reply from the kernel" : this.unacked.size ? "saving…" : "saved";
  }
}

/**
 * The grid's link to the kernel: requests numbered by its ReviewRequests (`requests`), each
 * naming the view that sent it (one widget may be displayed twice: each view pages on its own)
 * and the version of the confidences it holds (`have`: the kernel sends them again when newer).
 */
export class ReviewLink extends Link {
  constructor(model, viewId) {
    super(model);
    this.viewId = viewId;
    this.requests = new ReviewRequests();
    this.have = "";
  }

  _send(message) {
    this.trySend({ ...message, view: this.viewId, have: this.have });
  }

  /** Ask for the page at `offset` of class `filter`. */
  page(offset, filter) {
    this._send(this.requests.page(offset, filter));
  }

  /** Send an action on the tiles `keys` (hidden until a page reflects it). */
  action(message, keys) {
    this._send(this.requests.action(message, keys, performance.now()));
  }

  /**
   * Route the kernel's messages: `answered(message)` for this view's `ack` or `error`,
   * `page(message, buffers, reset)` for a page newer than the one on screen. A new round of the
   * auto-labeler, or an action of another view, asks for this view's page again.
   */
  follow({ answered, page }) {
    this.listen((message, buffers) => {
      const { requests } = this;
      if (message.type === "stale" || (message.type === "ack" && message.view !== this.viewId)) {
        this.page(requests.offset, requests.filter);
        return;
      }
      if (message.view !== this.viewId) return; // another view's page or refusal
      if (message.type === "ack" || message.type === "error") {
        requests.answered(message.seq);
        answered(message);
      } else if (message.type === "page") {
        const shown = requests.received(message);
        if (shown) page(message, buffers, shown.reset);
      }
    });
  }
}
