// Keyboard map of the entity widget: label keys as in classification (1-9 then 0), a token
// cursor on the arrows (Shift extends), e steps through stacked (overlapping) entities, Enter
// submits, s skips, z / y undo and redo. Returns
// intents, never touches the DOM.
import { CLASS_KEYS } from "./keys.js";

/**
 * The intent of a keydown, or null when the widget should leave the key alone.
 * @param {{key: string, ctrlKey?: boolean, metaKey?: boolean, altKey?: boolean, shiftKey?: boolean}} event
 * @param {number} nLabels
 */
export function spanIntentForKey(event, nLabels) {
  const command = event.ctrlKey || event.metaKey;
  if (command && !event.altKey) {
    const key = event.key.toLowerCase();
    if (key === "z") return { type: event.shiftKey ? "redo" : "undo" };
    if (key === "y") return { type: "redo" };
    return null; // Ctrl+C and friends keep working
  }
  if (command || event.altKey) return null;
  const index = CLASS_KEYS.indexOf(event.key);
  if (index !== -1) return index < nLabels ? { type: "label", index } : null;
  switch (event.key) {
    case "ArrowRight":
      return { type: "cursor", step: 1, extend: Boolean(event.shiftKey) };
    case "ArrowLeft":
      return { type: "cursor", step: -1, extend: Boolean(event.shiftKey) };
    case "Enter":
      return { type: "submit" };
    case "s":
    case "S":
      return { type: "skip" };
    case "z":
      return { type: "undo" };
    case "Z":
    case "y":
    case "Y":
      return { type: "redo" };
    case "Delete":
    case "Backspace":
      return { type: "remove" };
    case "e":
      return { type: "cycle" };
    case "Escape":
      return { type: "clear" };
    case "[":
      return { type: "back" };
    case "]":
      return { type: "forward" };
    default:
      return null;
  }
}
