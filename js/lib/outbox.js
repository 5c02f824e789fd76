// Answers sent to the kernel and not yet acknowledged. They are kept in the page's storage
// (localStorage) under the job's id, so that answers given while the kernel was dead or the
// connection was down are sent again by the next widget of the same job, after a reconnect or a
// kernel restart. The kernel stores each answer once per uid, so re-sending is harmless. An
// answer the kernel failed on unexpectedly is held: kept, but no longer re-sent from this page.

export class Outbox {
  /**
   * @param {string} jobId   identifies the job's store; one outbox per job
   * @param {Storage|null} storage  localStorage, or null when the page has none
   */
  constructor(jobId, storage) {
    this.key = `nblabel:outbox:${jobId}`;
    this.storage = storage;
    this.messages = new Map(); // uid -> {message, sentAt}
    for (const message of this._load()) this.messages.set(message.uid, { message, sentAt: 0 });
  }

  _load() {
    if (!this.storage) return [];
    try {
      const saved = JSON.parse(this.storage.getItem(this.key) ?? "[]");
      return Array.isArray(saved) ? saved.filter((m) => m && typeof m.uid === "string") : [];
    } catch {
      return [];
    }
  }

  _save() {
    if (!this.storage) return;
    // Messages with binary buffers (a mask's pixels) stay in memory only: storage holds text.
    const all = [...this.messages.values()].filter((entry) => !entry.buffers).map((entry) => entry.message);
    try {
      if (all.length) this.storage.setItem(this.key, JSON.stringify(all));
      else this.storage.removeItem(this.key);
    } catch {
      // Storage full or disabled: the answers are still held in memory and re-sent from there.
    }
  }

  /** Remember a message as sent at `now` (ms), with its binary `buffers` if any. */
  add(message, now, buffers = null) {
    this.messages.set(message.uid, { message, sentAt: now, buffers });
    this._save();
  }

  /** The binary buffers sent with a message (null when it had none). */
  buffersOf(uid) {
    return this.messages.get(uid)?.buffers ?? null;
  }

  /** Forget acknowledged messages. Returns how many were pending. */
  ack(uids) {
    let hit = 0;
    for (const uid of uids) if (this.messages.delete(uid)) hit += 1;
    if (hit) this._save();
    return hit;
  }

  /**
   * Stop re-sending a message (the kernel failed on it: sending it again every few seconds would
   * fail the same way). It stays unsaved and in storage, so the next widget of the job sends it.
   */
  hold(uid) {
    const entry = this.messages.get(uid);
    if (entry) entry.held = true;
  }

  /** Messages sent before `olderThan` (ms), in the order they were given; marks them re-sent. */
  due(now, olderThan) {
    const out = [];
    for (const entry of this.messages.values()) {
      if (!entry.held && entry.sentAt <= now - olderThan) {
        entry.sentAt = now;
        out.push(entry.message);
      }
    }
    return out;
  }

  /** Item keys with an unacknowledged message. */
  keys() {
    return [...this.messages.values()].map((entry) => entry.message.key).filter(Boolean);
  }

  get size() {
    return this.messages.size;
  }
}
