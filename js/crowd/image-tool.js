// The shared stage of the drawing elements (crowd-bounding-box, crowd-keypoint, crowd-polygon):
// the image at its displayed size with an SVG overlay whose viewBox is the image's natural
// size, so every shape is kept in natural pixels, as GT outputs them. A label picker (keys
// 1-9, 0), selection, and Delete/Backspace to remove the selected shape.
import { colorOf } from "../lib/box_paint.js";
import { CrowdElement, digitIndex, h, instructionsPanel, jsonAttr, labelButtons, takeRegions, withLabelsProperty } from "./base.js";
import { toImage } from "./geometry.js";

const SVG = "http://www.w3.org/2000/svg";

/** Create an SVG element. */
export function s(tag, attrs = {}) {
  const el = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) if (value !== null && value !== undefined) el.setAttribute(name, String(value));
  return el;
}

export class ImageTool extends CrowdElement {
  /** What the tool draws, for the hint line. */
  get hint() {
    return "";
  }

  build() {
    const regions = takeRegions(this, ["short-instructions", "full-instructions"]);
    this.labelList = jsonAttr(this, "labels", []).map(String);
    this.active = 0;
    this.shapes = [];
    this.selected = -1;
    this.width = 0;
    this.height = 0;
    this.modified = false;
    this.tabIndex = 0;
    this.image = h("img", {
      class: "crowd-tool-image",
      src: this.getAttribute("src") || "",
      draggable: "false",
      alt: this.getAttribute("header") || "image to annotate",
    });
    this.svg = s("svg", { class: "crowd-tool-overlay", "data-testid": "crowd-overlay" });
    this.labelBox = h("div", { class: "crowd-labels" });
    this.status = h("div", { class: "crowd-tool-hint", text: this.hint });
    const header = this.getAttribute("header");
    this.append(
      h("div", { class: "crowd-task" }, [
        h("div", { class: "crowd-task-main" }, [
          header ? h("div", { class: "crowd-header", text: header }) : null,
          h("div", { class: "crowd-tool-canvas" }, [this.image, this.svg]),
          this.labelBox,
          this.status,
        ]),
        instructionsPanel(regions),
      ]),
    );
    this.initial = this.hasAttribute("initial-value") ? jsonAttr(this, "initial-value", []) : null;
    const loaded = () => {
      this.width = this.image.naturalWidth;
      this.height = this.image.naturalHeight;
      this.svg.setAttribute("viewBox", `0 0 ${this.width} ${this.height}`);
      this.dataset.ready = "true";
      this.draw();
    };
    this.image.addEventListener("load", loaded);
    this.image.addEventListener("error", () => {
      this.status.textContent = "The image could not be loaded.";
      this.dataset.ready = "error";
    });
    if (this.image.complete && this.image.naturalWidth) loaded();
    if (Array.isArray(this.initial)) this.shapes = this.fromValue(this.initial);
    this.drawLabels();
    this.svg.addEventListener("pointerdown", (event) => this.pointer(event, "down"));
    this.svg.addEventListener("pointermove", (event) => this.pointer(event, "move"));
    this.svg.addEventListener("pointerup", (event) => this.pointer(event, "up"));
    this.svg.addEventListener("dblclick", (event) => this.onDoubleClick?.(event));
  }

  pointer(event, phase) {
    if (!this.width) return;
    const p = toImage(event.clientX, event.clientY, this.svg.getBoundingClientRect(), this.width, this.height);
    if (phase === "down") {
      if (event.button !== 0) return;
      event.preventDefault(); // no text selection or image drag while drawing
      this.focus({ preventScroll: true });
      this.svg.setPointerCapture?.(event.pointerId);
      const index = event.target.dataset?.index;
      this.onDown(p, index === undefined ? -1 : Number(index), event);
    } else if (phase === "move") this.onMove?.(p, event);
    else this.onUp?.(p, event);
  }

  /** Natural pixels per screen pixel, for hit tolerances and handle sizes. */
  get scale() {
    const rect = this.svg.getBoundingClientRect();
    return rect.width ? this.width / rect.width : 1;
  }

  get label() {
    return this.labelList[this.active] ?? "";
  }

  color(label) {
    const index = this.labelList.indexOf(label);
    return colorOf(Math.max(index, 0));
  }

  /** Draw the label picker for `labelList` (again when a template sets `labels`). */
  drawLabels() {
    this.labelButtons = labelButtons(this.labelList, (index) => colorOf(index), (index) => this.chooseLabel(index));
    this.labelBox.replaceChildren(...this.labelButtons);
    this.active = Math.min(this.active, Math.max(this.labelList.length - 1, 0));
    this.chooseLabel(this.active);
  }

  chooseLabel(index) {
    if (index < 0 || index >= this.labelList.length) return;
    this.active = index;
    this.labelButtons.forEach((b, i) => b.setAttribute("aria-pressed", i === index ? "true" : "false"));
    if (this.selected >= 0 && this.shapes[this.selected].label !== this.label) {
      this.shapes[this.selected].label = this.label;
      this.changed();
    }
  }

  select(index) {
    this.selected = index;
    this.draw();
  }

  changed() {
    this.modified = true;
    this.draw();
  }

  crowdKey(event) {
    const index = digitIndex(event);
    if (index >= 0 && index < this.labelList.length) {
      this.chooseLabel(index);
      return true;
    }
    if ((event.key === "Delete" || event.key === "Backspace") && this.selected >= 0) {
      this.shapes.splice(this.selected, 1);
      this.selected = -1;
      this.changed();
      return true;
    }
    return this.onKey?.(event) ?? false;
  }

  crowdCheck() {
    return this.width ? "" : `The image of “${this.getAttribute("header") || this.crowdName}” has not loaded.`;
  }

  crowdEntry() {
    if (!this.width) return null;
    const value = { ...this.output(), inputImageProperties: { height: this.height, width: this.width } };
    if (this.initial !== null) value.initialValueModified = this.modified;
    return [this.crowdName, value];
  }

  crowdRestore(value) {
    this.shapes = this.fromValue(this.valueShapes(value) ?? []);
    this.selected = -1;
    this.draw();
  }

  draw() {
    if (!this.width) return;
    this.svg.replaceChildren(...this.render(this.scale));
    this.dataset.count = String(this.shapes.length);
  }
}

// GT's `labels` property, set by the *-custom-labels samples' scripts.
withLabelsProperty(ImageTool);
