// The box tool of the zoomable stage (lib/viewport.js): drag to draw a box, click to select one,
// drag a box or one of its handles to move or resize it; boxes are edited by a BoxEditor
// (lib/box_editor.js), in original image pixels. No DOM of its own: it is driven by the stage's
// pointer calls and describes its marks as shapes the stage shows in its SVG (lib/shapes.js), so
// it is tested with `node --test`.
import { boxShapes } from "../box_paint.js";

const GRAB_PX = 6; // how close (CSS pixels) a handle or edge must be to grab it
const MIN_BOX_PX = 3; // a drag shorter than this (CSS pixels) is a click, not a box
export const CURSORS = {
  nw: "nwse-resize",
  se: "nwse-resize",
  ne: "nesw-resize",
  sw: "nesw-resize",
  n: "ns-resize",
  s: "ns-resize",
  e: "ew-resize",
  w: "ew-resize",
  move: "move",
};

export class BoxTool {
  /**
   * @param {object} stage the Stage the tool is on (its `viewport`, `overlay`, `spaceDown`)
   * @param {string[]} labels class names, drawn on the boxes
   * @param {() => void} edited called after a drag ends (a box drawn, moved, resized or selected)
   */
  constructor(stage, labels, edited = () => {}) {
    this.stage = stage;
    this.labels = labels;
    this.edited = edited;
    this.editor = null; // the BoxEditor of the image on screen, null when there is none
    this.currentClass = 0; // class of the next box drawn
    this.cursor = "crosshair";
  }

  /** Grab distance in original pixels at the current zoom. */
  _tolerance() {
    return GRAB_PX / this.stage.viewport.scale;
  }

  down(p) {
    const { editor } = this;
    if (!editor) return false;
    const hit = editor.hit(p, this._tolerance());
    if (hit) editor.beginEdit(hit.index, hit.handle, p);
    else {
      editor.select(-1);
      editor.beginDraw(p, this.currentClass);
    }
    return true;
  }

  move(p) {
    this.editor?.dragTo(p);
  }

  up(p) {
    const { editor } = this;
    if (!editor) return;
    editor.dragTo(p);
    const { drag } = editor;
    const changed = editor.endDrag(Math.max(1, MIN_BOX_PX / this.stage.viewport.scale));
    // A click on a proposed box (a press and release that moved nothing) accepts it.
    if (!changed && drag && drag.kind !== "draw") editor.accept(drag.index);
    // The next box drawn takes the class of the box just drawn or changed.
    if (changed && editor.boxes[editor.selected]) this.currentClass = editor.boxes[editor.selected].class_id;
    this.edited();
  }

  /** The pointer's cursor says what a press would grab. */
  hover(p) {
    if (!this.editor || this.stage.spaceDown) return;
    const hit = this.editor.hit(p, this._tolerance());
    this.stage.overlay.style.cursor = hit ? CURSORS[hit.handle] : "crosshair";
  }

  /** The marks: the boxes, the one being drawn, and guides through the pointer (lib/shapes.js). */
  shapes(st) {
    const { editor } = this;
    if (!editor) return [];
    const vp = st.viewport;
    const pending = editor.pending;
    const moving = editor.drag && editor.drag.kind !== "draw";
    const guides = st.pointer && !moving && !st.panning ? crosshair(vp, vp.toScreen(st.pointer.x, st.pointer.y)) : [];
    return [
      ...boxShapes(vp, editor.boxes, this.labels, { selected: editor.selected }),
      ...boxShapes(vp, pending ? [pending] : [], this.labels, { dashed: true }),
      guides,
    ];
  }
}

/** Guides across the stage through screen point `s` while drawing or about to draw: white dashes
 * over black, so they show on any image. */
function crosshair(vp, s) {
  const x = Math.round(s.x) + 0.5;
  const y = Math.round(s.y) + 0.5;
  const line = { d: `M0 ${y}H${vp.viewWidth}M${x} 0V${vp.viewHeight}`, fill: "none", "stroke-width": 1, "stroke-dasharray": "4 4" };
  return [
    { tag: "path", attrs: { ...line, stroke: "rgba(255,255,255,0.9)" } },
    { tag: "path", attrs: { ...line, stroke: "rgba(0,0,0,0.6)", "stroke-dashoffset": 4 } },
  ];
}
