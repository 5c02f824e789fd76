// Label category and frame attributes (Ground Truth's label category configuration): the
// attributes an object of a label takes, what a required one left empty says, and the panel
// that edits them. `attributesFor`, `missing`, `fixedNames` and `readValue` are pure (tested with
// node --test);
// the panel builds form fields from the configuration, values only ever set as field values.
//
// The configuration is the widget's `attributes` trait: {labels: {label: [attr]}, global: [attr],
// frame: [attr]}, each attr {name, type: "string" | "number", enum?, minimum?, maximum?,
// isRequired?, editsAllowed?, description?}.

import { h } from "./dom.js";

/** GT's key for an object's attribute values, and for the item's. */
export const OBJECT_KEY = "label-category-attributes";
export const FRAME_KEY = "frame-attributes";

/** The class (or classes) of a classification answer, bare or given with its frame attributes
 * (GT's classifier shape, {label} or {labels}); any other value as it is. */
export function classesOf(value) {
  if (value && typeof value === "object" && !Array.isArray(value) && ("label" in value || "labels" in value)) return value.labels ?? value.label;
  return value;
}

/** True when the configuration declares any attribute. */
export function hasAttributes(config) {
  return Boolean(config && (Object.keys(config.labels ?? {}).length || config.global?.length || config.frame?.length));
}

/** The attributes an object of `label` takes: the label's own, then those of every label. */
export function attributesFor(config, label) {
  return [...(config?.labels?.[label] ?? []), ...(config?.global ?? [])];
}

/** The names of the required attributes in `list` that `values` leaves empty. */
export function missing(list, values) {
  return list.filter((a) => a.isRequired && (values?.[a.name] === undefined || values[a.name] === "")).map((a) => a.name);
}

/**
 * Per label in `present`, the required attributes `values[label]` leaves empty: [{label, names}],
 * only the labels that miss some (a mask's classes, each with its own values).
 */
export function missingByLabel(config, present, values) {
  return present.map((label) => ({ label, names: missing(attributesFor(config, label), values?.[label]) })).filter((m) => m.names.length);
}

/**
 * The names in `list` that GT's `editsAllowed: "none"` keeps as an earlier job gave them in
 * `earlier` (an adjustment job): those with a value there. Their fields are read-only.
 */
export function fixedNames(list, earlier) {
  return list.filter((a) => a.editsAllowed === "none" && earlier?.[a.name] !== undefined && earlier[a.name] !== "").map((a) => a.name);
}

/** A field's text as the attribute's value: a number for number attributes, "" for empty. */
export function readValue(attr, text) {
  if (text === "") return "";
  if (attr.type === "number") {
    const n = Number(text);
    return Number.isFinite(n) ? n : "";
  }
  return text;
}

/** `values` without empty entries (what an answer carries), or null when none is left. */
export function given(values) {
  const out = {};
  for (const [k, v] of Object.entries(values ?? {})) if (v !== "" && v !== undefined) out[k] = v;
  return Object.keys(out).length ? out : null;
}

/**
 * A form of one object's (or the item's) attributes. `show(title, list, values)` rebuilds it;
 * `onChange(values)` gets the new values after each field changes. Fields are reachable with the
 * keyboard (`focus()` enters the first; Tab moves on; Esc gives the keys back to the widget).
 */
export class AttributePanel {
  constructor(testid, onChange) {
    this.onChange = onChange;
    this.el = h("fieldset", { class: "nbl-attrs", "data-testid": testid, hidden: true });
    this.values = {};
    this.fixed = [];
  }

  show(title, list, values, fixed = []) {
    this.values = { ...(values ?? {}) };
    this.fixed = fixed;
    if (!list.length) {
      this.el.hidden = true;
      this.el.replaceChildren();
      return;
    }
    const fields = list.map((attr) => this._field(attr));
    this.el.replaceChildren(h("legend", { text: title }), ...fields);
    this.el.hidden = false;
  }

  _field(attr) {
    const id = `nbl-attr-${attr.name}`;
    const current = this.values[attr.name] ?? "";
    let input;
    if (attr.enum?.length) {
      input = h("select", {}, [h("option", { value: "", text: "—" }), ...attr.enum.map((v) => h("option", { value: String(v), text: String(v) }))]);
    } else {
      input = h("input", { type: attr.type === "number" ? "number" : "text", min: attr.minimum, max: attr.maximum });
    }
    input.value = String(current);
    if (this.fixed.includes(attr.name)) {
      input.disabled = true; // editsAllowed "none": the earlier job's value stays
      input.title = "Given by the earlier job: this attribute's edits are not allowed";
    }
    input.dataset.testid = id;
    input.setAttribute("aria-label", attr.name);
    input.addEventListener("change", () => {
      this.values[attr.name] = readValue(attr, input.value);
      this.onChange({ ...this.values });
    });
    const name = `${attr.name}${attr.isRequired ? " *" : ""}`;
    return h("label", { class: "nbl-attr", title: attr.description || "" }, [h("span", { text: name }), input]);
  }

  /** Put the keyboard in the first field; false when there is none. */
  focus() {
    const first = this.el.hidden ? null : this.el.querySelector("select:enabled, input:enabled");
    first?.focus();
    return Boolean(first);
  }
}
