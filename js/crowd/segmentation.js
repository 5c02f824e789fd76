// crowd-semantic-segmentation and crowd-instance-segmentation: paint the image's pixels with the
// segmentation widget's own pieces (lib/mask.js for the raster rules and undo, lib/tools/brush.js
// and lib/tools/polygon.js for the tools, lib/mask_layer.js for the colouring). Outputs as GT
// documents them (gt-formats.md §2.7 and §6; SMDG sms-ui-template-crowd-semantic-segmentation.md,
// sms-ui-template-crowd-instance-segmentation.md), in the image's natural pixels:
//   semantic  {"<name>": {"inputImageProperties": {"height","width"},
//                         "labelMappings": {"<label>": {"color": "#rrggbb"}},
//                         "labeledImage": {"pngImageData": "<base64 PNG>"}}}
//   instance  {"<name>": {"inputImageProperties": {...}, "instances": [{"color","label"}],
//                         "labeledImage": {"pngImageData": "<base64 PNG>"}}}
// The PNG colours each pixel with its label's (semantic) or instance's (instance) colour; unlabeled
// pixels are white, GT's BACKGROUND colour (#ffffff in `internal-color-map`). labelMappings lists
// the labels present in the mask. Keys: 1-9, 0 pick the label (instance: start a new instance of
// it), b brush, p polygon, e eraser, [ ] brush size, n a new instance of the same label, Enter
// closes a polygon, Escape drops it, u undoes the last stroke.
// `initial-value` (GT's, for adjusting a prior job's mask): {"labelMappings": {"<label>":
// {"color"}}, "src": "<the prior mask's URL>"} (semantic) or {"instances": [{"color","label"}],
// "src"} (instance); the element opens with that mask, read by colour, and the output gains
// `initialValueModified`.
import { MaskEditor } from "../lib/mask.js";
import { colorTable, MaskLayer } from "../lib/mask_layer.js";
import { Brush } from "../lib/tools/brush.js";
import { Polygon } from "../lib/tools/polygon.js";
import {
  CrowdElement,
  define,
  digitIndex,
  h,
  instructionsPanel,
  jsonAttr,
  labelButtons,
  takeRegions,
  withLabelsProperty,
} from "./base.js";
import { toImage } from "./geometry.js";
import { instanceColor, maskFromColors, SEGMENT_COLORS } from "./segment-colors.js";

const WHITE = 0xffffffff; // BACKGROUND in the output PNG: opaque white

const MaskTool = withLabelsProperty(
  class extends CrowdElement {
    get instance() {
      return this.localName === "crowd-instance-segmentation";
    }

    build() {
      const regions = takeRegions(this, ["short-instructions", "full-instructions"]);
      this.labelList = jsonAttr(this, "labels", []).map(String);
      this.active = 0;
      this.tool = "brush";
      this.brush = new Brush(12);
      this.polygon = new Polygon();
      this.instances = []; // instance tool: [{label, color}], the mask's value is index + 1
      this.current = 0; // the instance painted now (its mask value), 0 before the first stroke
      this.initial = this.hasAttribute("initial-value") ? jsonAttr(this, "initial-value", {}) : null;
      this.modified = false;
      if (this.instance && Array.isArray(this.initial?.instances)) {
        this.instances = this.initial.instances.map((i) => ({ label: String(i?.label ?? ""), color: String(i?.color ?? "") }));
      }
      this.tabIndex = 0;
      this.image = h("img", {
        class: "crowd-tool-image",
        src: this.getAttribute("src") || "",
        draggable: "false",
        alt: this.getAttribute("header") || "image to segment",
      });
      this.stage = h("div", { class: "crowd-tool-canvas", "data-testid": "crowd-mask-stage" }, [this.image]);
      this.labelBox = h("div", { class: "crowd-labels" });
      this.toolButtons = ["brush", "polygon", "eraser"].map((tool) =>
        h("button", {
          type: "button",
          class: "crowd-label",
          "aria-pressed": "false",
          text: `${tool[0]} ${tool}`,
          onclick: () => this.chooseTool(tool),
        }),
      );
      const extra = [
        h("button", { type: "button", class: "crowd-label", text: "u undo", onclick: () => this.undo() }),
        this.instance
          ? h("button", { type: "button", class: "crowd-label", text: "n new instance", onclick: () => this.newInstance() })
          : null,
      ];
      this.status = h("div", {
        class: "crowd-tool-hint",
        text: "Paint with the brush or click polygon corners (Enter closes). 1–9 pick the label.",
      });
      const header = this.getAttribute("header");
      this.append(
        h("div", { class: "crowd-task" }, [
          h("div", { class: "crowd-task-main" }, [
            header ? h("div", { class: "crowd-header", text: header }) : null,
            this.stage,
            this.labelBox,
            h("div", { class: "crowd-labels" }, [...this.toolButtons, ...extra]),
            this.status,
          ]),
          instructionsPanel(regions),
        ]),
      );
      this.drawLabels();
      this.chooseTool("brush");
      const loaded = () => this.start(this.image.naturalWidth, this.image.naturalHeight);
      this.image.addEventListener("load", loaded);
      this.image.addEventListener("error", () => {
        this.status.textContent = "The image could not be loaded.";
        this.dataset.ready = "error";
      });
      if (this.image.complete && this.image.naturalWidth) loaded();
    }

    /** The image is loaded: open the editor, on the initial mask when there is one. */
    start(width, height) {
      if (this.editor || this.starting) return;
      this.starting = true;
      const src = this.initial?.src;
      if (!src) {
        this.open(width, height, null);
        return;
      }
      this.readInitial(String(src), width, height).then(
        (data) => this.open(width, height, data),
        () => {
          this.open(width, height, null);
          this.status.textContent = "The initial mask could not be loaded: the image starts unlabeled.";
        },
      );
    }

    /** The initial mask's values from its overlay image, read by colour at the natural size. */
    async readInitial(src, width, height) {
      const img = new Image();
      img.src = src;
      await img.decode();
      const canvas = h("canvas", { width: String(width), height: String(height) });
      const ctx = canvas.getContext("2d");
      ctx.imageSmoothingEnabled = false; // colours stay exact: they are the classes
      ctx.drawImage(img, 0, 0, width, height);
      const mappings = this.initial.labelMappings ?? {};
      const colors = this.instance ? this.instances.map((i) => i.color) : this.labelList.map((label) => mappings[label]?.color);
      return maskFromColors(ctx.getImageData(0, 0, width, height).data, colors);
    }

    open(width, height, data) {
      this.width = width;
      this.height = height;
      this.editor = new MaskEditor(width, height, data);
      this.layer = new MaskLayer(width, height, this.colors());
      this.layer.canvas.className = "crowd-mask-layer";
      // The polygon's corners are drawn on their own canvas, in natural pixels like the mask.
      this.preview = h("canvas", { class: "crowd-mask-layer", width: String(width), height: String(height) });
      this.stage.append(this.layer.canvas, this.preview);
      for (const phase of ["down", "move", "up"]) {
        this.preview.addEventListener(`pointer${phase}`, (event) => this.pointer(event, phase));
      }
      this.preview.addEventListener("dblclick", () => this.closePolygon());
      if (data) {
        this.layer.update(this.editor.data);
        this.dataset.painted = String(this.editor.present().length);
      }
      this.dataset.ready = "true";
    }

    /** Colour by mask value: semantic, one per label; instance, one per instance. */
    colors() {
      const list = this.instance ? this.instances.map((i) => i.color) : this.labelList.map((_, i) => SEGMENT_COLORS[i % SEGMENT_COLORS.length]);
      return ["#ffffff", ...list];
    }

    recolor() {
      if (!this.layer) return;
      this.layer.table = colorTable(this.colors());
      this.layer.update(this.editor.data);
    }

    /** Draw the label picker for `labelList` (again when a template sets `labels`). */
    drawLabels() {
      const color = (index) => SEGMENT_COLORS[index % SEGMENT_COLORS.length];
      this.labelButtons = labelButtons(this.labelList, color, (index) => this.chooseLabel(index));
      this.labelBox.replaceChildren(...this.labelButtons);
      this.active = Math.min(this.active, Math.max(this.labelList.length - 1, 0));
      this.labelButtons.forEach((b, i) => b.setAttribute("aria-pressed", i === this.active ? "true" : "false"));
      this.recolor();
    }

    chooseLabel(index) {
      if (index < 0 || index >= this.labelList.length) return;
      this.active = index;
      this.labelButtons.forEach((b, i) => b.setAttribute("aria-pressed", i === index ? "true" : "false"));
      if (this.instance) this.current = 0; // the next stroke starts a new instance of this label
      if (this.tool === "eraser") this.chooseTool("brush");
    }

    chooseTool(tool) {
      this.tool = tool;
      this.polygon.cancel();
      this.drawPreview();
      this.toolButtons.forEach((b) => b.setAttribute("aria-pressed", b.textContent.endsWith(tool) ? "true" : "false"));
    }

    newInstance() {
      this.current = 0;
      this.status.textContent = `The next stroke starts a new ${this.labelList[this.active] ?? ""} instance.`;
    }

    /** The mask value the next edit paints: 0 erases; an instance is made on its first stroke. */
    paintValue() {
      if (this.tool === "eraser") return 0;
      if (!this.instance) return this.active + 1;
      if (!this.current) {
        if (this.instances.length >= 255) {
          this.status.textContent = "255 instances is the most one mask holds.";
          return null;
        }
        this.instances.push({ label: this.labelList[this.active] ?? "", color: instanceColor(this.instances.length) });
        this.current = this.instances.length;
        this.recolor();
      }
      return this.current;
    }

    pointer(event, phase) {
      if (!this.editor || !this.labelList.length) return;
      const p = toImage(event.clientX, event.clientY, this.preview.getBoundingClientRect(), this.width, this.height);
      if (phase === "down") {
        if (event.button !== 0) return;
        event.preventDefault();
        this.focus({ preventScroll: true });
        if (this.tool === "polygon") {
          if (this.polygon.click(p, 1 / this.scale) === "close") this.closePolygon();
          this.drawPreview();
          return;
        }
        const value = this.paintValue();
        if (value === null) return;
        this.preview.setPointerCapture?.(event.pointerId);
        this.brush.begin(this.editor, p, value);
        this.changed();
      } else if (this.brush.stroke) {
        if (phase === "move") this.brush.to(this.editor, p);
        else this.brush.end(this.editor, p);
        this.changed();
      }
    }

    /** Natural pixels per screen pixel. */
    get scale() {
      const rect = this.preview.getBoundingClientRect();
      return rect.width ? this.width / rect.width : 1;
    }

    closePolygon() {
      if (!this.polygon.drawing) return false;
      const value = this.polygon.corners.length >= 3 ? this.paintValue() : null;
      if (value === null) {
        this.polygon.cancel();
      } else {
        this.polygon.close(this.editor, value);
        this.changed();
      }
      this.drawPreview();
      return true;
    }

    drawPreview() {
      if (!this.preview) return;
      const ctx = this.preview.getContext("2d");
      ctx.clearRect(0, 0, this.width, this.height);
      const identity = { toScreen: (x, y) => ({ x, y }) };
      this.polygon.draw(ctx, identity, null, SEGMENT_COLORS[this.active % SEGMENT_COLORS.length]);
    }

    undo() {
      if (this.editor?.undo()) this.changed();
    }

    changed() {
      this.modified = true;
      this.layer.update(this.editor.data, this.editor.takeDirty());
      this.dataset.painted = String(this.editor.present().length);
    }

    crowdKey(event) {
      const index = digitIndex(event);
      if (index >= 0 && index < this.labelList.length) {
        this.chooseLabel(index);
        return true;
      }
      const tools = { b: "brush", p: "polygon", e: "eraser" };
      if (tools[event.key]) {
        this.chooseTool(tools[event.key]);
        return true;
      }
      if (event.key === "[" || event.key === "]") {
        this.brush.resize(event.key === "]" ? 1 : -1);
        this.status.textContent = `Brush ${this.brush.size} px.`;
        return true;
      }
      if (event.key === "u") {
        this.undo();
        return true;
      }
      if (event.key === "n" && this.instance) {
        this.newInstance();
        return true;
      }
      if (event.key === "Enter" && this.polygon.drawing) return this.closePolygon();
      if (event.key === "Escape" && this.polygon.drawing) {
        this.polygon.cancel();
        this.drawPreview();
        return true;
      }
      return false;
    }

    crowdCheck() {
      if (!this.editor) return `The image of “${this.getAttribute("header") || this.crowdName}” has not loaded.`;
      return this.polygon.drawing ? "Close the open polygon (Enter) or drop it (Escape) first." : "";
    }

    /** The labeled image as GT's base64 PNG: each value's colour, BACKGROUND white. */
    png() {
      const canvas = h("canvas", { width: String(this.width), height: String(this.height) });
      const ctx = canvas.getContext("2d");
      const image = ctx.createImageData(this.width, this.height);
      const table = colorTable(this.colors());
      table[0] = WHITE;
      const out = new Uint32Array(image.data.buffer);
      const data = this.editor.data;
      for (let i = 0; i < data.length; i += 1) out[i] = table[data[i]];
      ctx.putImageData(image, 0, 0);
      return canvas.toDataURL("image/png").slice("data:image/png;base64,".length);
    }

    crowdEntry() {
      if (!this.editor) return null;
      const present = this.editor.present();
      const value = { inputImageProperties: { height: this.height, width: this.width } };
      if (this.instance) {
        // Every instance keeps its place (its colour), painted over or not, as the PNG's legend.
        value.instances = this.instances.map((i) => ({ color: i.color, label: i.label }));
      } else {
        value.labelMappings = Object.fromEntries(
          present.filter((v) => v <= this.labelList.length).map((v) => [this.labelList[v - 1], { color: SEGMENT_COLORS[(v - 1) % SEGMENT_COLORS.length] }]),
        );
      }
      value.labeledImage = { pngImageData: this.png() };
      if (this.initial !== null) value.initialValueModified = this.modified;
      return [this.crowdName, value];
    }
  },
);

define("crowd-semantic-segmentation", MaskTool);
define("crowd-instance-segmentation", class extends MaskTool {});
