// nblabel's versions of Ground Truth's crowd HTML elements, registered as custom elements.
// The list below must equal SUPPORTED_ELEMENTS in src/nblabel/tasks/templating.py (a unit
// test compares them): the kernel refuses templates using any other crowd-* element.
import "./form.js";
import "./inputs.js";
import "./classifiers.js";
import "./layout.js";
import "./drawing.js";
import "./entity.js";

export const ELEMENTS = [
  "crowd-alert",
  "crowd-bounding-box",
  "crowd-button",
  "crowd-card",
  "crowd-checkbox",
  "crowd-classifier",
  "crowd-classifier-multi-select",
  "crowd-entity-annotation",
  "crowd-form",
  "crowd-image-classifier",
  "crowd-image-classifier-multi-select",
  "crowd-input",
  "crowd-instructions",
  "crowd-keypoint",
  "crowd-polygon",
  "crowd-radio-button",
  "crowd-radio-group",
  "crowd-slider",
  "crowd-text-area",
  "crowd-toggle-button",
];

export { collect, restore } from "./form.js";
