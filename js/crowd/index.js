// nblabel's versions of Ground Truth's crowd HTML elements, registered as custom elements.
// The list below must equal SUPPORTED_ELEMENTS in src/nblabel/tasks/templating.py (a unit
// test compares them): the kernel refuses templates using any other crowd-* element.
import "./form.js";
import "./inputs.js";
import "./classifiers.js";
import "./layout.js";
import "./drawing.js";
import "./entity.js";
import "./segmentation.js";
import "./generative.js";

export const ELEMENTS = [
  "crowd-alert",
  "crowd-badge",
  "crowd-bounding-box",
  "crowd-button",
  "crowd-card",
  "crowd-checkbox",
  "crowd-classifier",
  "crowd-classifier-multi-select",
  "crowd-entity-annotation",
  "crowd-entity-annotator",
  "crowd-fab",
  "crowd-form",
  "crowd-icon-button",
  "crowd-image-classifier",
  "crowd-image-classifier-multi-select",
  "crowd-input",
  "crowd-instance-segmentation",
  "crowd-instructions",
  "crowd-keypoint",
  "crowd-line",
  "crowd-modal",
  "crowd-polygon",
  "crowd-polyline",
  "crowd-question-answer-generation",
  "crowd-radio-button",
  "crowd-radio-group",
  "crowd-semantic-segmentation",
  "crowd-slider",
  "crowd-slider-label",
  "crowd-tab",
  "crowd-tabs",
  "crowd-text-area",
  "crowd-text-ranking",
  "crowd-toast",
  "crowd-toggle-button",
];

export { collect, restore } from "./form.js";
