// Attribute values of GT's crowd elements are written as JavaScript literals, not strict JSON:
// `labels="['Cat', 'Dog']"`, `exclusion-category="{ text: 'None of the above' }"`. This parses
// that subset (objects, arrays, single- or double-quoted strings, numbers, true/false/null,
// unquoted keys, trailing commas) without evaluating anything.

export class RelaxedJSONError extends Error {}

/** Parse a JSON-like literal; throws RelaxedJSONError naming the position on bad input. */
export function parseRelaxed(text) {
  let i = 0;
  const fail = (what) => {
    throw new RelaxedJSONError(`${what} at character ${i + 1} of ${JSON.stringify(text.slice(0, 80))}`);
  };
  const space = () => {
    while (i < text.length && /\s/.test(text[i])) i += 1;
  };
  const string = () => {
    const quote = text[i];
    i += 1;
    let out = "";
    while (i < text.length && text[i] !== quote) {
      if (text[i] === "\\") {
        i += 1;
        const c = text[i];
        const simple = { n: "\n", t: "\t", r: "\r", b: "\b", f: "\f", v: "\v", 0: "\0" };
        if (c === "u") {
          const hex = text.slice(i + 1, i + 5);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail("bad \\u escape");
          out += String.fromCharCode(parseInt(hex, 16));
          i += 4;
        } else if (c in simple) out += simple[c];
        else if (c === "\n") {
          // a line continuation
        } else out += c;
        i += 1;
      } else {
        out += text[i];
        i += 1;
      }
    }
    if (text[i] !== quote) fail("unterminated string");
    i += 1;
    return out;
  };
  const word = () => {
    const match = /^[A-Za-z_$][\w$-]*/.exec(text.slice(i));
    if (!match) fail("unexpected character");
    i += match[0].length;
    return match[0];
  };
  const value = () => {
    space();
    const c = text[i];
    if (c === "{") {
      i += 1;
      const obj = {};
      for (;;) {
        space();
        if (text[i] === "}") {
          i += 1;
          return obj;
        }
        const key = text[i] === '"' || text[i] === "'" ? string() : /[0-9]/.test(text[i] ?? "") ? String(number()) : word();
        space();
        if (text[i] !== ":") fail("expected ':'");
        i += 1;
        obj[key] = value();
        space();
        if (text[i] === ",") i += 1;
        else if (text[i] !== "}") fail("expected ',' or '}'");
      }
    }
    if (c === "[") {
      i += 1;
      const arr = [];
      for (;;) {
        space();
        if (text[i] === "]") {
          i += 1;
          return arr;
        }
        arr.push(value());
        space();
        if (text[i] === ",") i += 1;
        else if (text[i] !== "]") fail("expected ',' or ']'");
      }
    }
    if (c === '"' || c === "'") return string();
    if (c !== undefined && /[-+.0-9]/.test(c)) return number();
    if (c === undefined) fail("unexpected end");
    const w = word();
    if (w === "true") return true;
    if (w === "false") return false;
    if (w === "null" || w === "undefined") return null;
    return fail(`unexpected word ${w}`);
  };
  const number = () => {
    const match = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?/.exec(text.slice(i));
    if (!match) fail("bad number");
    i += match[0].length;
    return Number(match[0]);
  };
  const result = value();
  space();
  if (i < text.length) fail("unexpected text after the value");
  return result;
}
