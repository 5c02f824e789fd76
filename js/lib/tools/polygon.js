// The polygon tool of the segmentation widget: click corners; a click near the first corner,
// Enter or a double click fills the polygon on a MaskEditor (lib/mask.js: the raster rule).
// No DOM of its own: the widget calls it from the stage's pointer calls and it paints the corners
// on the stage's overlay, so it is tested with `node --test`.
import { pixelAt } from "./brush.js";

const CLOSE_PX = 8; // a click this close (CSS pixels) to the first corner closes the polygon

export class Polygon {
  constructor() {
    this.corners = null; // corner pixels [{x, y}] of the polygon being drawn, null when none
  }

  get drawing() {
    return this.corners !== null;
  }

  /**
   * A click at image point `p`, the view at `scale` CSS pixels per image pixel: a new corner, or
   * "close" when it lands on the first corner of a polygon that has three corners or more.
   */
  click(p, scale) {
    const q = pixelAt(p);
    const first = this.corners?.[0];
    if (first && this.corners.length >= 3 && Math.hypot(first.x - q.x, first.y - q.y) * scale <= CLOSE_PX) return "close";
    (this.corners ??= []).push(q);
    return "corner";
  }

  /**
   * Fill the polygon with class `value` on `editor` (one undo step) and end it. Returns what was
   * filled, `{value, points: [[x, y], ...]}`, or null when it had fewer than three corners.
   */
  close(editor, value) {
    const corners = this.corners;
    this.corners = null;
    if (!corners || corners.length < 3) return null;
    editor.begin();
    editor.polygon(corners, value);
    editor.end();
    return { value, points: corners.map((p) => [p.x, p.y]) };
  }

  /** Take back the last corner; false when no polygon is being drawn. */
  pop() {
    if (!this.corners) return false;
    this.corners.pop();
    if (!this.corners.length) this.corners = null;
    return true;
  }

  cancel() {
    this.corners = null;
  }

  /** The corners and the edge to the pointer (image point `pointer`, or null), with viewport `vp`. */
  draw(ctx, vp, pointer, color) {
    if (!this.corners) return;
    ctx.strokeStyle = color;
    ctx.lineWidth = 2;
    ctx.beginPath();
    this.corners.forEach((q, i) => {
      const s = vp.toScreen(q.x + 0.5, q.y + 0.5);
      if (i === 0) ctx.moveTo(s.x, s.y);
      else ctx.lineTo(s.x, s.y);
    });
    if (pointer) {
      const s = vp.toScreen(pointer.x, pointer.y);
      ctx.lineTo(s.x, s.y);
    }
    ctx.stroke();
    ctx.fillStyle = "#fff";
    for (const q of this.corners) {
      const s = vp.toScreen(q.x + 0.5, q.y + 0.5);
      ctx.fillRect(s.x - 3, s.y - 3, 6, 6);
      ctx.strokeRect(s.x - 3, s.y - 3, 6, 6);
    }
  }
}
