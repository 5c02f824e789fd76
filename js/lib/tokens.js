// Words and tokens for span selection, on UTF-16 offsets (the browser's). A word character is a
// letter, digit or mark (any script: CJK, accents, combining marks) or "_"; any other visible
// character is a token by itself, together with the marks, variation selectors and zero-width
// joiner sequences that belong to it (so an emoji or a flag is one token). Same rule as the
// tokenizer of nblabel's CoNLL / Hugging Face exports.

const WORD = /[\p{L}\p{N}\p{M}_]/u;
const SPACE = /\s/u;
const TOKEN =
  /[\p{L}\p{N}\p{M}_]+|\p{RI}\p{RI}|[^\s\p{L}\p{N}\p{M}_][\p{M}\u{fe0f}\u{1f3fb}-\u{1f3ff}]*(?:\u200d[^\s][\p{M}\u{fe0f}\u{1f3fb}-\u{1f3ff}]*)*/gu;

/** The character (code point) starting at UTF-16 offset u, or "". */
function charAt(text, u) {
  if (u < 0 || u >= text.length) return "";
  return String.fromCodePoint(text.codePointAt(u));
}

/** The character (code point) ending at UTF-16 offset u, or "". */
function charBefore(text, u) {
  if (u <= 0 || u > text.length) return "";
  const low = text.charCodeAt(u - 1);
  if (low >= 0xdc00 && low <= 0xdfff && u >= 2) {
    const high = text.charCodeAt(u - 2);
    if (high >= 0xd800 && high <= 0xdbff) return text.slice(u - 2, u);
  }
  return text[u - 1];
}

export function isWordChar(ch) {
  return ch !== "" && WORD.test(ch);
}

/**
 * Snap a selection [start, end) to whole words: surrounding white space is dropped, and a
 * boundary inside a word moves out to the word's edge. Returns null when only white space was
 * selected.
 */
export function snapToWords(text, start, end) {
  let s = Math.max(0, Math.min(start, end));
  let e = Math.min(text.length, Math.max(start, end));
  while (s < e && SPACE.test(charAt(text, s))) s += charAt(text, s).length;
  while (e > s && SPACE.test(charBefore(text, e))) e -= charBefore(text, e).length;
  if (s >= e) return null;
  if (isWordChar(charAt(text, s))) {
    while (isWordChar(charBefore(text, s))) s -= charBefore(text, s).length;
  }
  if (isWordChar(charBefore(text, e))) {
    while (isWordChar(charAt(text, e))) e += charAt(text, e).length;
  }
  return [s, e];
}

/** Trim white space from both ends of [start, end); null when nothing else is left. */
export function trimSpaces(text, start, end) {
  let s = start;
  let e = end;
  while (s < e && SPACE.test(charAt(text, s))) s += charAt(text, s).length;
  while (e > s && SPACE.test(charBefore(text, e))) e -= charBefore(text, e).length;
  return s < e ? [s, e] : null;
}

/** The word or token at UTF-16 offset u (for a double click), or null on white space. */
export function wordAt(text, u) {
  let at = u;
  const low = text.charCodeAt(at);
  if (low >= 0xdc00 && low <= 0xdfff && at > 0) at -= 1; // inside a surrogate pair
  const ch = charAt(text, at);
  if (ch === "" || SPACE.test(ch)) return null;
  if (isWordChar(ch)) return snapToWords(text, at, at + ch.length);
  // Another character: the token covering it, found from a little before it.
  let from = at;
  for (let n = 0; n < 16 && from > 0; n += 1) {
    const before = charBefore(text, from);
    if (before === "" || SPACE.test(before) || isWordChar(before)) break;
    from -= before.length;
  }
  const sticky = new RegExp(TOKEN.source, "uy");
  sticky.lastIndex = from;
  for (let m = sticky.exec(text); m; m = sticky.exec(text)) {
    const end = m.index + m[0].length;
    if (end > at) return [m.index, end];
    if (!m[0].length) break;
  }
  return [at, at + ch.length];
}

/** All tokens of `text` as [start, end) UTF-16 offsets, in order. */
export function tokenize(text) {
  const out = [];
  for (const m of text.matchAll(TOKEN)) out.push([m.index, m.index + m[0].length]);
  return out;
}

/**
 * The keyboard cursor over `tokens` (from `tokenize`) after one arrow press: `{anchor, focus}`
 * token indices and the span `[start, end)` they cover. With no cursor yet it starts on the first
 * token at or after offset `from`; else the focus moves by `step`, and the anchor follows unless
 * `extend` (Shift). Null when there are no tokens.
 */
export function moveTokenCursor(tokens, cursor, { step, extend, from = 0 }) {
  if (!tokens.length) return null;
  let next;
  if (!cursor) {
    let i = tokens.findIndex(([s]) => s >= from);
    if (i === -1) i = tokens.length - 1;
    next = { anchor: i, focus: i };
  } else {
    const focus = Math.max(0, Math.min(tokens.length - 1, cursor.focus + step));
    next = { anchor: extend ? cursor.anchor : focus, focus };
  }
  const span = [tokens[Math.min(next.anchor, next.focus)][0], tokens[Math.max(next.anchor, next.focus)][1]];
  return { ...next, span };
}
