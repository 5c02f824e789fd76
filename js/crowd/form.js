// crowd-form and crowd-button, and collect(): the form output GT records as a worker's
// answerContent — one object keyed by each element's `name`.
import { mergeEntries } from "./answer.js";
import { CrowdElement, define, h, moveChildren } from "./base.js";

// Named native controls a template may put in a crowd-form, read like a form submission.
function nativeEntry(el) {
  if (el.disabled || !el.name) return null;
  if (el.type === "checkbox" || el.type === "radio") return el.checked ? [el.name, el.value] : null;
  if (el.type === "submit" || el.type === "button" || el.type === "file") return null;
  return el.value === "" ? null : [el.name, el.value];
}

// A control that is part of one of nblabel's crowd elements (a radio button's <input>).
function insideElement(el, scope) {
  for (let node = el.parentElement; node && node !== scope; node = node.parentElement) {
    if (typeof node.crowdEntry === "function") return true;
  }
  return false;
}

/**
 * The form output of everything under `scope`, and the problems that block submitting it.
 * @returns {{answer: object, problems: string[]}}
 */
export function collect(scope) {
  const entries = [];
  const problems = [];
  for (const el of scope.querySelectorAll("*")) {
    if (typeof el.crowdEntry === "function") {
      const problem = el.crowdCheck();
      if (problem) problems.push(problem);
      const entry = el.crowdEntry();
      if (entry) entries.push(entry);
    } else if (/^(INPUT|SELECT|TEXTAREA)$/.test(el.tagName) && el.hasAttribute("name") && !insideElement(el, scope)) {
      const entry = nativeEntry(el);
      if (entry) entries.push(entry);
    }
  }
  return { answer: mergeEntries(entries), problems };
}

/** Show an earlier answer in the elements under `scope`. */
export function restore(scope, answer) {
  if (!answer || typeof answer !== "object") return;
  for (const el of scope.querySelectorAll("*")) {
    if (typeof el.crowdRestore === "function" && el.crowdName in answer) el.crowdRestore(answer[el.crowdName]);
  }
}

class CrowdForm extends CrowdElement {
  build() {
    // GT appends a Submit button when the form has none.
    if (!this.querySelector('crowd-button[form-action="submit"]')) {
      this.append(h("crowd-button", { "form-action": "submit", variant: "primary" }, ["Submit"]));
    }
  }
}

class CrowdButton extends CrowdElement {
  build() {
    const action = this.getAttribute("form-action");
    const variant = this.getAttribute("variant") || "normal";
    const button = h("button", {
      type: "button",
      class: `crowd-button crowd-button-${variant}`,
      disabled: this.hasAttribute("disabled"),
      "data-testid": action === "submit" ? "crowd-submit" : null,
    });
    moveChildren(this, button);
    if (this.hasAttribute("loading")) button.setAttribute("aria-busy", "true");
    button.addEventListener("click", () => {
      const href = this.getAttribute("href");
      if (href) globalThis.open(href, this.getAttribute("target") || "_blank", "noopener");
      if (action === "submit" || action === "reset") {
        this.dispatchEvent(new CustomEvent(`crowd-${action}`, { bubbles: true }));
      }
    });
    this.append(button);
  }
}

define("crowd-form", CrowdForm);
define("crowd-button", CrowdButton);
