// The box tool of the zoomable stage (lib/viewport.js): drag to draw a box, click to select one,
// drag a box or one of its handles to move or resize it; boxes are edited by a BoxEditor
// (lib/box_editor.js), in original image pixels. No DOM of its own: it is driven by the stage's
// pointer calls and paints on the stage's overlay, so it is tested with `node --test`.
import { paintBoxes } from "../box_paint.js";

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

  draw(ctx, st) {
    const { editor } = this;
    if (!editor) return;
    const vp = st.viewport;
    paintBoxes(ctx, vp, editor.boxes, this.labels, { selected: editor.selected });
    const pending = editor.pending;
    if (pending) paintBoxes(ctx, vp, [pending], this.labels, { dashed: true });
    const moving = editor.drag && editor.drag.kind !== "draw";
    if (st.pointer && !moving && !st.panning) crosshair(ctx, vp, vp.toScreen(st.pointer.x, st.pointer.y));
  }
}

/** Guides through screen point `s` while drawing or about to draw: white dashes over black. */
function crosshair(ctx, vp, s) {
  ctx.strokeStyle = "rgba(255,255,255,0.9)";
  ctx.lineWidth = 1;
  ctx.setLineDash([4, 4]);
  ctx.beginPath();
  ctx.moveTo(0, Math.round(s.y) + 0.5);
  ctx.lineTo(vp.viewWidth, Math.round(s.y) + 0.5);
  ctx.moveTo(Math.round(s.x) + 0.5, 0);
  ctx.lineTo(Math.round(s.x) + 0.5, vp.viewHeight);
  ctx.stroke();
  ctx.strokeStyle = "rgba(0,0,0,0.6)";
  ctx.lineDashOffset = 4;
  ctx.stroke();
  ctx.lineDashOffset = 0;
  ctx.setLineDash([]);
}
