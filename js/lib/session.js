// The labeling session as the browser sees it: items prefetched from the kernel, the trail of
// items shown so far, and the answers given in this session (for undo). Pure logic, no DOM, so
// it is tested with `node --test` and the widget only draws what it says.
//
// Positions: `trail` holds the keys shown, in order; `pos` indexes the item on screen. `pos`
// equal to `trail.length` means "past the end": everything fetched so far is answered.

export class LabelSession {
  constructor() {
    this.items = new Map(); // key -> item payload from the kernel
    this.queue = []; // keys fetched but not shown yet
    this.trail = [];
    this.pos = 0;
    this.answers = []; // {uid, key, kind, value} given in this session, oldest first
    this.touched = new Set(); // keys this session answered or skipped, even if undone since
    this.values = new Map(); // key -> latest known answer value (null: none)
    this.exhausted = false; // the kernel said nothing more is waiting
  }

  /** The key on screen, or null when past the end. */
  get current() {
    return this.pos < this.trail.length ? this.trail[this.pos] : null;
  }

  /** The key that answering or skipping the item on screen would show next, or null. */
  get upcoming() {
    if (this.pos < this.trail.length - 1) return this.trail[this.pos + 1];
    return this.pos === this.trail.length - 1 ? this.queue[0] ?? null : null;
  }

  /** The item payload on screen, or null. */
  get currentItem() {
    const key = this.current;
    return key === null ? null : this.items.get(key) ?? null;
  }

  /** True when the item on screen has already been answered in this session or before. */
  get revisiting() {
    return this.pos < this.trail.length - 1 || (this.current !== null && this._answered(this.current));
  }

  /** Add items sent by the kernel; keys already fetched are ignored. Returns the new keys. */
  add(items, { exhausted = false } = {}) {
    const added = [];
    const queued = new Set(this.queue);
    for (const item of items) {
      if (this.items.has(item.key) && (queued.has(item.key) || this.trail.includes(item.key))) {
        // A refreshed payload (e.g. re-fetched pixels) replaces the old one in place.
        this.items.set(item.key, { ...this.items.get(item.key), ...item });
        continue;
      }
      this.items.set(item.key, item);
      if (item.value !== undefined && item.value !== null) this.values.set(item.key, item.value);
      this.queue.push(item.key);
      added.push(item.key);
    }
    this.exhausted = exhausted;
    this._fill();
    return added;
  }

  /** When past the end and new items have arrived, show the next one. */
  _fill() {
    if (this.pos >= this.trail.length && this.queue.length) {
      this.trail.push(this.queue.shift());
      this.pos = this.trail.length - 1;
    }
  }

  /** Move to the next item: forward in the trail, or the next fetched one. */
  _advance() {
    this.pos += 1;
    if (this.pos >= this.trail.length) {
      this.pos = this.trail.length;
      this._fill();
    }
  }

  /** Record an answer for the item on screen and move on. Returns the message for the kernel. */
  answer(value, uid) {
    const key = this.current;
    if (key === null) return null;
    this.answers.push({ uid, key, kind: "label", value });
    this.touched.add(key);
    this.values.set(key, value);
    this._advance();
    return { type: "answer", uid, key, value };
  }

  /** Skip the item on screen. Returns the message for the kernel. */
  skip(uid) {
    const key = this.current;
    if (key === null) return null;
    this.answers.push({ uid, key, kind: "skip", value: null });
    this.touched.add(key);
    this._advance();
    return { type: "skip", uid, key };
  }

  /**
   * Take back the latest answer of this session and show its item again.
   * Returns the message for the kernel, or null when this session has nothing to undo.
   */
  undo(uid) {
    const last = this.answers.pop();
    if (!last) return null;
    const index = this.trail.lastIndexOf(last.key);
    const here = this.current;
    // An unanswered item on screen goes back to the front of the queue, so it comes next again.
    if (here !== null && here !== last.key && this.pos === this.trail.length - 1 && !this._answered(here)) {
      this.trail.pop();
      this.queue.unshift(here);
    }
    this.pos = index;
    const previous = [...this.answers].reverse().find((a) => a.key === last.key && a.kind === "label");
    const initial = this.items.get(last.key)?.value ?? null;
    this.values.set(last.key, previous ? previous.value : initial);
    return { type: "undo", uid, target: last.uid, key: last.key };
  }

  _answered(key) {
    return this.answers.some((a) => a.key === key);
  }

  /** Go back one item in the trail (to revise it). Returns true if the view changed. */
  back() {
    if (this.pos === 0 || this.trail.length === 0) return false;
    this.pos = Math.min(this.pos, this.trail.length) - 1;
    return true;
  }

  /** Go forward one item in the trail, up to the first unanswered one. */
  forward() {
    if (this.pos < this.trail.length - 1) {
      this.pos += 1;
      return true;
    }
    // At the end of the trail on an answered item (after an undo): go on to the next fetched one.
    if (this.current !== null && this._answered(this.current) && this.queue.length) {
      this._advance();
      return true;
    }
    return false;
  }

  /**
   * A new auto-labeling round: fresh proposals, and the people's queue in a new order. The first
   * `keepAhead` prefetched items stay (they are ready: the next keypresses must not wait), less
   * those the model now labels itself (`auto`); behind them come the held items that are among
   * the new first ones (`order`), in that order; the rest is fetched again in the new order.
   */
  newRound({ proposals = {}, order = [], auto = [] }, keepAhead = 3) {
    for (const [key, proposal] of Object.entries(proposals)) {
      const item = this.items.get(key);
      if (item) item.proposal = proposal;
    }
    const next = this.queue.slice(0, keepAhead);
    const held = new Set(this.queue);
    const automatic = new Set(auto);
    this.queue = [
      ...next.filter((key) => !automatic.has(key)),
      ...order.filter((key) => held.has(key) && !next.includes(key)),
    ];
    this.exhausted = false;
  }

  /**
   * Items that got an answer elsewhere (code in the kernel, another kernel): they leave the
   * prefetched queue, and the one on screen, unless this session answered it or the person is
   * revisiting, gives way to the next. Keys this session answered are left alone: the news may
   * have been read before an undo here reopened the item. Returns whether the screen changed.
   */
  drop(keys) {
    const gone = new Set(keys.filter((key) => !this.touched.has(key)));
    this.queue = this.queue.filter((key) => !gone.has(key));
    const current = this.current;
    if (current === null || !gone.has(current) || this._answered(current) || this.pos !== this.trail.length - 1) {
      return false;
    }
    this.trail.pop();
    this.pos = this.trail.length;
    this._fill();
    return true;
  }

  /**
   * The kernel took back an answer given before this session (`items` holds its payload): show
   * that item again, unanswered, at the cursor.
   */
  reopen(key, items) {
    this.add(items);
    const index = this.trail.indexOf(key);
    if (index === -1) {
      this.queue = this.queue.filter((k) => k !== key);
      this.trail.splice(Math.min(this.pos, this.trail.length), 0, key);
    } else {
      this.pos = index;
    }
    this.values.set(key, null);
  }

  /** Keys the kernel must not send again: fetched and not yet answered, or answered but unacked. */
  exclude(unackedKeys = []) {
    const keys = new Set(this.queue);
    for (let i = Math.max(0, this.pos); i < this.trail.length; i += 1) keys.add(this.trail[i]);
    for (const key of unackedKeys) keys.add(key);
    return [...keys];
  }

  /** How many fetched items are still ahead of the one on screen. */
  get ahead() {
    return this.queue.length;
  }
}
