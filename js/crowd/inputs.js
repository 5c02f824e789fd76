// Form controls: crowd-input, crowd-text-area, crowd-checkbox, crowd-radio-group,
// crowd-radio-button, crowd-slider, crowd-toggle-button. Outputs as GT documents them:
//   input / text-area   {"<name>": "<text>"}        (left out when empty)
//   checkbox / radio / toggle  {"<name>": {"<value>": true|false}}   (value defaults to "on")
//   slider              {"<name>": <number>}   (crowd-slider-label children mark positions)
import { CrowdElement, define, h, moveChildren } from "./base.js";

let counter = 0;
const nextId = (prefix) => `${prefix}-${(counter += 1)}`;

function describe(el) {
  return el.getAttribute("label") || el.getAttribute("placeholder") || el.crowdName;
}

class TextField extends CrowdElement {
  build() {
    const label = this.getAttribute("label");
    const multi = this.localName === "crowd-text-area";
    const field = multi
      ? h("textarea", { rows: this.getAttribute("rows") || "3" })
      : h("input", { type: this.getAttribute("type") || "text" });
    for (const [attr, prop] of [
      ["placeholder", "placeholder"],
      ["max-length", "maxLength"],
      ["min-length", "minLength"],
    ]) {
      if (this.hasAttribute(attr)) field[prop] = attr.endsWith("length") ? Number(this.getAttribute(attr)) : this.getAttribute(attr);
    }
    field.disabled = this.hasAttribute("disabled");
    field.value = this.getAttribute("value") ?? "";
    field.setAttribute("aria-label", describe(this));
    field.className = "crowd-field-control";
    this.field = field;
    const pattern = this.hasAttribute("auto-validate") ? this.getAttribute("allowed-pattern") : null;
    if (pattern) {
      // GT: "ignore non-matching characters as the worker types".
      const allowed = new RegExp(pattern);
      field.addEventListener("input", () => {
        const kept = [...field.value].filter((c) => allowed.test(c)).join("");
        if (kept !== field.value) field.value = kept;
      });
    }
    this.error = h("div", { class: "crowd-field-error", hidden: true });
    const counterEl = this.hasAttribute("char-counter") ? h("div", { class: "crowd-char-counter" }) : null;
    if (counterEl) {
      const update = () => {
        const max = this.getAttribute("max-length");
        counterEl.textContent = max ? `${field.value.length}/${max}` : String(field.value.length);
      };
      field.addEventListener("input", update);
      update();
    }
    // Element.append writes null as the text "null": leave the counter out when there is none.
    this.append(
      h("label", { class: "crowd-field" }, [label ? h("span", { class: "crowd-field-label", text: label }) : null, field]),
      ...(counterEl ? [counterEl] : []),
      this.error,
    );
    if (this.hasAttribute("auto-focus")) queueMicrotask(() => field.focus({ preventScroll: true }));
  }

  crowdEntry() {
    return this.field.value === "" ? null : [this.crowdName, this.field.value];
  }

  crowdCheck() {
    const value = this.field.value;
    let problem = "";
    if (this.hasAttribute("required") && value.trim() === "") problem = `Fill in “${describe(this)}”.`;
    const min = Number(this.getAttribute("min-length") || 0);
    if (!problem && value && value.length < min) problem = `“${describe(this)}” needs at least ${min} characters.`;
    this.error.hidden = !problem;
    this.error.textContent = problem ? this.getAttribute("error-message") || problem : "";
    this.field.setAttribute("aria-invalid", problem ? "true" : "false");
    return problem;
  }

  crowdRestore(value) {
    if (typeof value === "string") this.field.value = value;
  }
}

/** A checkable element: checkbox, radio button, toggle button. */
class Checkable extends CrowdElement {
  get crowdValue() {
    return this.getAttribute("value") || "on";
  }

  get checked() {
    return this.control.checked;
  }

  set checked(on) {
    this.control.checked = Boolean(on);
  }

  crowdEntry() {
    return [this.crowdName, { [this.crowdValue]: this.checked }];
  }

  crowdCheck() {
    return this.hasAttribute("required") && !this.checked ? `Check “${this.textContent.trim() || this.crowdName}”.` : "";
  }

  crowdRestore(value) {
    if (value && typeof value === "object" && this.crowdValue in value) this.checked = value[this.crowdValue];
  }
}

class CrowdCheckbox extends Checkable {
  build() {
    const input = h("input", { type: "checkbox", class: "crowd-check-control" });
    input.checked = this.hasAttribute("checked") && this.getAttribute("checked") !== "false";
    input.disabled = this.hasAttribute("disabled");
    this.control = input;
    const text = moveChildren(this, h("span"));
    this.append(h("label", { class: "crowd-check" }, [input, text]));
  }
}

class CrowdRadioGroup extends CrowdElement {
  build() {
    this.groupName = nextId("crowd-radio");
    this.setAttribute("role", "radiogroup");
  }
}

class CrowdRadioButton extends Checkable {
  build() {
    // The browser keeps one radio checked per `name`: the group's name, or this button's own
    // when it stands alone (GT then reports each button separately).
    const group = this.closest("crowd-radio-group");
    if (group && !group.groupName) group.groupName = nextId("crowd-radio");
    const input = h("input", { type: "radio", class: "crowd-check-control" });
    input.name = group ? group.groupName : nextId("crowd-radio");
    input.checked = this.hasAttribute("checked") && this.getAttribute("checked") !== "false";
    input.disabled = this.hasAttribute("disabled");
    this.control = input;
    const text = moveChildren(this, h("span"));
    this.append(h("label", { class: "crowd-check" }, [input, text]));
  }
}

class CrowdToggleButton extends Checkable {
  build() {
    const button = h("button", { type: "button", class: "crowd-toggle", "aria-pressed": "false" });
    moveChildren(this, button);
    if (!button.textContent.trim()) button.append(h("span", { class: "crowd-toggle-knob", "aria-hidden": "true" }));
    button.setAttribute("aria-label", this.getAttribute("value") || this.crowdName);
    button.disabled = this.hasAttribute("disabled");
    if (this.hasAttribute("invalid")) button.classList.add("crowd-invalid");
    this.control = {
      get checked() {
        return button.getAttribute("aria-pressed") === "true";
      },
      set checked(on) {
        button.setAttribute("aria-pressed", on ? "true" : "false");
      },
    };
    this.control.checked = this.hasAttribute("checked") && this.getAttribute("checked") !== "false";
    button.addEventListener("click", () => {
      this.control.checked = !this.control.checked;
    });
    this.append(button);
  }
}

class CrowdSlider extends CrowdElement {
  build() {
    const min = Number(this.getAttribute("min") ?? 0);
    const max = Number(this.getAttribute("max") ?? 100);
    const input = h("input", {
      type: "range",
      min: String(min),
      max: String(max),
      step: this.getAttribute("step") || "1",
      class: "crowd-slider-control",
      "aria-label": this.crowdName,
    });
    input.value = this.getAttribute("value") ?? String(min);
    input.disabled = this.hasAttribute("disabled");
    this.control = input;
    this.touched = this.hasAttribute("value");
    input.addEventListener("input", () => (this.touched = true));
    const parts = [input];
    if (this.hasAttribute("pin")) {
      const pin = h("output", { class: "crowd-slider-pin", text: input.value });
      input.addEventListener("input", () => {
        pin.textContent = input.value;
      });
      parts.push(pin);
    }
    if (this.hasAttribute("editable")) {
      const box = h("input", { type: "number", min: input.min, max: input.max, step: input.step, class: "crowd-slider-edit" });
      box.value = input.value;
      input.addEventListener("input", () => {
        box.value = input.value;
      });
      box.addEventListener("input", () => {
        input.value = box.value;
        input.dispatchEvent(new Event("input"));
      });
      parts.push(box);
    }
    // crowd-slider-label children name positions on the scale (GT's gen-ai samples).
    const marks = [...this.children].filter((c) => c.localName === "crowd-slider-label");
    const ticks = marks.length
      ? h(
          "span",
          { class: "crowd-slider-ticks", "aria-hidden": "true" },
          marks.map((mark) => {
            const at = (Number(mark.getAttribute("position")) - min) / (max - min || 1);
            mark.remove();
            return h("span", { class: "crowd-slider-tick", style: { left: `${Math.min(Math.max(at, 0), 1) * 100}%` }, text: mark.textContent.trim() });
          }),
        )
      : null;
    this.append(h("span", { class: "crowd-slider" }, [h("span", { class: "crowd-slider-track" }, [input, ticks]), ...parts.slice(1)]));
  }

  crowdCheck() {
    // GT: a required slider must be moved (or its value typed) before submitting.
    return this.hasAttribute("required") && !this.touched ? `Set “${this.crowdName}” on its slider.` : "";
  }

  crowdEntry() {
    return [this.crowdName, Number(this.control.value)];
  }

  crowdRestore(value) {
    if (typeof value === "number") {
      this.touched = true;
      this.control.value = String(value);
      this.control.dispatchEvent(new Event("input"));
    }
  }
}

define("crowd-input", TextField);
define("crowd-text-area", class extends TextField {});
define("crowd-checkbox", CrowdCheckbox);
define("crowd-radio-group", CrowdRadioGroup);
define("crowd-radio-button", CrowdRadioButton);
define("crowd-toggle-button", CrowdToggleButton);
define("crowd-slider", CrowdSlider);
define("crowd-slider-label", class extends CrowdElement {});
