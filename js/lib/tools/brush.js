// The brush (and eraser) of the segmentation widget: a stroke paints a disc along the pointer's
// path on a MaskEditor (lib/mask.js: the raster rules), one undo step per stroke. No DOM of its
// own: the widget calls it from the stage's pointer calls and it paints its outline on the
// stage's overlay, so it is tested with `node --test`.
import { MAX_BRUSH } from "../mask.js";

/** The pixel under image point `p` (pixel (x, y) is the square [x, x+1) x [y, y+1)). */
export function pixelAt(p) {
  return { x: Math.floor(p.x), y: Math.floor(p.y) };
}

export class Brush {
  /** @param {number} size the disc's diameter in original pixels */
  constructor(size = 20) {
    this.size = size;
    this.stroke = null; // the stroke in progress: {size, value, points: [[x, y], ...]}
  }

  /**
   * Grow (`step` 1) or shrink (-1) the brush: by one pixel below 10, by a quarter above, within
   * 1..MAX_BRUSH.
   */
  resize(step) {
    const by = this.size < 10 ? 1 : Math.max(1, Math.round(this.size * 0.25));
    this.size = Math.max(1, Math.min(MAX_BRUSH, this.size + step * by));
  }

  /** Start a stroke of class `value` (0 erases) at image point `p` on `editor`. */
  begin(editor, p, value) {
    this.stroke = { size: this.size, value, points: [] };
    editor.begin();
    this.to(editor, p);
  }

  /** Paint on to image point `p`. */
  to(editor, p) {
    const q = pixelAt(p);
    this.stroke.points.push([q.x, q.y]);
    editor.brushTo(q.x, q.y, this.stroke.size, this.stroke.value);
  }

  /** Finish the stroke at `p`: one undo step. Returns the stroke (its size, class and pixels). */
  end(editor, p) {
    this.to(editor, p);
    editor.end();
    const stroke = this.stroke;
    this.stroke = null;
    return stroke;
  }

  /** Drop a stroke in progress (a new image came on screen). */
  cancel() {
    this.stroke = null;
  }

  /** The disc's outline around the pixel under image point `p`, with viewport `vp`. */
  drawOutline(ctx, vp, p, color) {
    const q = pixelAt(p);
    const s = vp.toScreen(q.x + 0.5, q.y + 0.5);
    const radius = Math.max(1.5, (this.size / 2) * vp.scale);
    ctx.lineWidth = 1;
    ctx.strokeStyle = "rgba(0,0,0,0.7)";
    ctx.beginPath();
    ctx.arc(s.x, s.y, radius + 1, 0, 2 * Math.PI);
    ctx.stroke();
    ctx.strokeStyle = color;
    ctx.beginPath();
    ctx.arc(s.x, s.y, radius, 0, 2 * Math.PI);
    ctx.stroke();
  }
}
