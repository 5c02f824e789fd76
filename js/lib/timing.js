// How long a person worked on the item on screen, as Ground Truth's worker responses record it:
// `acceptanceTime` (the item was shown), `submissionTime` and `timeSpentInSeconds`, the active
// time. Time counts between inputs (keys, pointer, wheel) up to PAUSE_MS apart: a longer pause
// with no input counts nothing, nor does time while the tab is hidden. Pure: the caller passes
// the times (performance.now() for spans, Date.now() for the stamps), so tests drive a clock.

/** A gap without input longer than this is a pause: none of it counts. */
export const PAUSE_MS = 30_000;

export class ActiveClock {
  constructor() {
    this.key = null;
    this.activeMs = 0;
    this.last = null; // monotonic time of the last input (or of the item showing), null: paused
    this.acceptance = null; // wall-clock ms when the item was shown
  }

  /** The item `key` is on screen at monotonic `now` (wall `wall`); a new item starts over. */
  showing(key, now, wall) {
    if (key === this.key) return;
    this.key = key;
    this.activeMs = 0;
    this.last = key === null ? null : now;
    this.acceptance = key === null ? null : wall;
  }

  /** An input at `now`: the time since the last one counts unless it was a pause. */
  input(now) {
    if (this.key === null) return;
    if (this.last !== null) {
      const gap = now - this.last;
      if (gap > 0 && gap <= PAUSE_MS) this.activeMs += gap;
    }
    this.last = now;
  }

  /** The tab was hidden (`hidden`) or shown again at `now`: hidden time never counts. */
  visibility(hidden, now) {
    if (hidden) {
      this.input(now); // up to the moment it was hidden
      this.last = null;
    } else if (this.key !== null) this.last = now;
  }

  /**
   * The timing of an answer to the item on screen, submitted at `now` (wall `wall`), or null when
   * the answer is for another item (one revisited answers keep no timing of their own).
   */
  timing(key, now, wall) {
    if (key !== this.key || this.acceptance === null) return null;
    this.input(now);
    return {
      acceptanceTime: new Date(this.acceptance).toISOString(),
      submissionTime: new Date(Math.max(wall, this.acceptance)).toISOString(),
      timeSpentInSeconds: Math.round(this.activeMs) / 1000,
    };
  }
}
