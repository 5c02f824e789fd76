// Text offsets: the browser counts UTF-16 code units, nblabel stores code points (Python `str`
// indices, Ground Truth's "Unicode offsets"). A character outside the Basic Multilingual Plane
// (most emoji, rare CJK) is one code point but two UTF-16 units. An OffsetIndex is built once per
// text (one pass) and converts either way in O(log n), so a 100 KB document costs nothing per
// selection.

export class OffsetIndex {
  /** @param {string} text */
  constructor(text) {
    this.text = text;
    this.pairs = []; // UTF-16 index of the first half of each surrogate pair, ascending
    for (let i = 0; i < text.length - 1; i += 1) {
      const a = text.charCodeAt(i);
      if (a >= 0xd800 && a <= 0xdbff) {
        const b = text.charCodeAt(i + 1);
        if (b >= 0xdc00 && b <= 0xdfff) {
          this.pairs.push(i);
          i += 1;
        }
      }
    }
  }

  /** Length in UTF-16 units (JavaScript's `length`). */
  get utf16Length() {
    return this.text.length;
  }

  /** Length in code points (Python's `len`). */
  get length() {
    return this.text.length - this.pairs.length;
  }

  /** True when UTF-16 offset `u` falls between the two halves of a surrogate pair. */
  splitsPair(u) {
    const k = lowerBound(this.pairs, u);
    return k > 0 && this.pairs[k - 1] === u - 1;
  }

  /**
   * The code-point offset of UTF-16 offset `u`. An offset inside a surrogate pair is rounded
   * down (`round: "down"`, for span starts) or up (`"up"`, for span ends): never half a character.
   */
  toCodePoint(u, round = "down") {
    if (u < 0 || u > this.text.length) throw new RangeError(`UTF-16 offset ${u} is outside 0..${this.text.length}`);
    const k = lowerBound(this.pairs, u); // pairs starting before u
    if (k > 0 && this.pairs[k - 1] === u - 1) return round === "up" ? u + 1 - k : u - k;
    return u - k;
  }

  /** The UTF-16 offset of code-point offset `c`. */
  toUtf16(c) {
    if (c < 0 || c > this.length) throw new RangeError(`code-point offset ${c} is outside 0..${this.length}`);
    // Pair j sits at code point pairs[j] - j (ascending): count the pairs before code point c.
    let lo = 0;
    let hi = this.pairs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.pairs[mid] - mid < c) lo = mid + 1;
      else hi = mid;
    }
    return c + lo;
  }

  /** Round a UTF-16 offset out of a surrogate pair: down or up. */
  snap(u, round = "down") {
    if (!this.splitsPair(u)) return u;
    return round === "up" ? u + 1 : u - 1;
  }
}

/** Index of the first element of sorted `array` that is >= `value`. */
export function lowerBound(array, value) {
  let lo = 0;
  let hi = array.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (array[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
