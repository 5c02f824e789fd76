// The answers being built in the preference widget (pairwise, ranking, rating) and its keys.
// Pure logic, no DOM: tested with `node --test`; js/preference.js only draws what it says.
//
// A ranking answer has GT's crowd-text-ranking shape: per dimension, the 1-based rank of each
// response in column order. Ranks are given in order: a digit places that response at the next
// rank of the current dimension; after `=` the next response shares the rank just given (a tie,
// where the dimension allows it), and the rank after a tie skips as in competition ranking
// (1, 1, 3), which GT's element also writes.

export const CHOICE_KEYS = { a: "A", b: "B", t: "tie" };

/**
 * The intent of a keydown in the preference widget, or null to leave the key alone.
 * @param {{key: string, ctrlKey?: boolean, metaKey?: boolean, altKey?: boolean, shiftKey?: boolean}} event
 * @param {string} kind "pairwise", "ranking" or "rating"
 */
export function preferenceIntent(event, kind) {
  if (event.ctrlKey || event.metaKey || event.altKey) return null;
  const key = event.key;
  if (kind === "pairwise" && CHOICE_KEYS[key.toLowerCase()]) return { type: "choose", choice: CHOICE_KEYS[key.toLowerCase()] };
  if (kind !== "pairwise" && /^[0-9]$/.test(key)) return { type: "digit", digit: Number(key) };
  if (kind === "ranking" && key === "=") return { type: "tie" };
  if (kind !== "pairwise" && key === "Tab") return { type: event.shiftKey ? "prev-dimension" : "next-dimension" };
  switch (key) {
    case "Enter":
      return { type: "submit" };
    case "s":
    case "S":
      return { type: "skip" };
    case "z":
    case "Z":
    case "Backspace":
      return { type: "undo" };
    case "ArrowLeft":
      return { type: "back" };
    case "ArrowRight":
      return { type: "forward" };
    case "c":
    case "r":
      return { type: "comment" };
    case "e":
      return { type: "correct" };
    default:
      return null;
  }
}

/** A ranking in progress: placements per dimension, the current dimension, an undo trail. */
export class RankingDraft {
  /**
   * @param {{name: string, allowTie: boolean}[]} dimensions
   * @param {number} k how many responses
   * @param {object|null} value an earlier answer to start from
   */
  constructor(dimensions, k, value = null) {
    this.dimensions = dimensions;
    this.k = k;
    this.dim = 0;
    this.tieNext = false;
    this.trail = []; // dimension indices, one per placement, for undo
    this.placed = dimensions.map(() => []); // per dimension: [{response, rank}] in the order given
    if (value) {
      for (const entry of value.ordinalRankingDimensions ?? []) {
        const d = dimensions.findIndex((x) => x.name === entry.name);
        if (d < 0) continue;
        const order = entry.responseRankings.map((rank, response) => ({ response, rank })).sort((x, y) => x.rank - y.rank);
        this.placed[d] = order;
      }
    }
  }

  /** True once a key changed this draft (an untouched revisited answer is kept as it was). */
  get touched() {
    return this.trail.length > 0;
  }

  get dimension() {
    return this.dimensions[this.dim];
  }

  /** The rank of `response` on dimension `d`, or null. */
  rankOf(d, response) {
    return this.placed[d].find((p) => p.response === response)?.rank ?? null;
  }

  /** Whether every response has a rank on dimension `d`. */
  full(d) {
    return this.placed[d].length === this.k;
  }

  get complete() {
    return this.placed.every((_, d) => this.full(d));
  }

  /** Place `response` (0-based) at the next rank; false when it is placed already or unknown. */
  place(response) {
    const list = this.placed[this.dim];
    if (response < 0 || response >= this.k || this.rankOf(this.dim, response) !== null) return false;
    const tie = this.tieNext && list.length > 0;
    list.push({ response, rank: tie ? list[list.length - 1].rank : list.length + 1 });
    this.tieNext = false;
    this.trail.push(this.dim);
    if (this.full(this.dim) && this.dim < this.dimensions.length - 1) this.dim += 1;
    return true;
  }

  /** The next placement shares the last rank: true when the dimension allows it. */
  tie() {
    if (!this.dimension.allowTie || this.placed[this.dim].length === 0 || this.full(this.dim)) return false;
    this.tieNext = !this.tieNext;
    return true;
  }

  /** Take back the latest placement (and go to its dimension); false when there is none. */
  undo() {
    this.tieNext = false;
    if (!this.trail.length) return false;
    const d = this.trail.pop();
    this.placed[d].pop();
    this.dim = d;
    return true;
  }

  /** Move to the next (+1) or previous (-1) dimension, wrapping around. */
  move(step) {
    this.tieNext = false;
    this.dim = (this.dim + step + this.dimensions.length) % this.dimensions.length;
  }

  /** GT's crowd-text-ranking answer. */
  value() {
    return {
      ordinalRankingDimensions: this.dimensions.map((d, i) => ({
        name: d.name,
        responseRankings: Array.from({ length: this.k }, (_, r) => this.rankOf(i, r)),
      })),
    };
  }
}

/** Ratings in progress: a score per dimension and response, a cursor, an undo trail. */
export class RatingDraft {
  /**
   * @param {string[]} dimensions
   * @param {number} k how many responses
   * @param {[number, number]} scale lowest and highest score
   * @param {object|null} value an earlier answer to start from
   */
  constructor(dimensions, k, scale, value = null) {
    Object.assign(this, { dimensions, k, scale, dim: 0, response: 0, trail: [] });
    this.scores = dimensions.map((name) => {
      const given = value?.ratingDimensions?.find((d) => d.name === name)?.responseRatings;
      return Array.from({ length: k }, (_, r) => given?.[r] ?? null);
    });
  }

  get touched() {
    return this.trail.length > 0;
  }

  get complete() {
    return this.scores.every((row) => row.every((s) => s !== null));
  }

  /** Give the current response `score` on the current dimension and move on; false when the
   * score is off the scale. */
  rate(score) {
    const [lo, hi] = this.scale;
    if (score < lo || score > hi) return false;
    this.trail.push({ dim: this.dim, response: this.response, before: this.scores[this.dim][this.response] });
    this.scores[this.dim][this.response] = score;
    if (this.response < this.k - 1) this.response += 1;
    else if (this.dim < this.dimensions.length - 1) {
      this.dim += 1;
      this.response = 0;
    }
    return true;
  }

  undo() {
    const last = this.trail.pop();
    if (!last) return false;
    this.scores[last.dim][last.response] = last.before;
    this.dim = last.dim;
    this.response = last.response;
    return true;
  }

  move(step) {
    this.dim = (this.dim + step + this.dimensions.length) % this.dimensions.length;
    this.response = Math.max(0, this.scores[this.dim].indexOf(null));
  }

  /** The ratings (the widget adds the comment and the correction typed). */
  value() {
    return { ratingDimensions: this.dimensions.map((name, d) => ({ name, responseRatings: [...this.scores[d]] })) };
  }
}
