// Keyboard map of the classification widget. Class keys are 1-9 then 0, in label order; the
// action keys follow common labeling tools. Returns intents, never touches the DOM.

export const CLASS_KEYS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "0"];

/** The key shown on the button of the class at `index`, or "" past the tenth class. */
export function classKey(index) {
  return index < CLASS_KEYS.length ? CLASS_KEYS[index] : "";
}

/**
 * The intent of a keydown, or null when the widget should leave the key alone.
 * @param {{key: string, ctrlKey?: boolean, metaKey?: boolean, altKey?: boolean, shiftKey?: boolean}} event
 * @param {number} nClasses
 */
export function intentForKey(event, nClasses) {
  if (event.ctrlKey || event.metaKey || event.altKey) return null;
  const index = CLASS_KEYS.indexOf(event.key);
  if (index !== -1) return index < nClasses ? { type: "class", index } : null;
  switch (event.key) {
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
    case "?":
      return { type: "help" };
    default:
      return null;
  }
}
