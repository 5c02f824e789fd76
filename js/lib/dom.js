// DOM helpers. Text from data is only ever set with textContent: nothing that came from a
// manifest is parsed as HTML.

/**
 * Create an element. `attrs` keys starting with "on" add listeners; `text` sets textContent;
 * `dataset` and `style` are objects; every other key is set with setAttribute.
 */
export function h(tag, attrs = {}, children = []) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "text") el.textContent = String(value);
    else if (name === "dataset") Object.assign(el.dataset, value);
    else if (name === "style") Object.assign(el.style, value);
    else if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) if (child) el.append(child);
  return el;
}

/** Replace an element's text, only when it changed (avoids needless layout). */
export function setText(el, text) {
  const value = String(text);
  if (el.textContent !== value) el.textContent = value;
}
