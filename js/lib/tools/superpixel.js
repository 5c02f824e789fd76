// The superpixel brush of the segmentation widget: a stroke fills every superpixel it passes over,
// whole, so one stroke paints whole regions. The superpixels (SLIC, computed once per image in the
// kernel) arrive as a label image, one label per original pixel; `Superpixels` indexes each
// label's pixels as row runs once, so filling one is a few `span` calls. One undo step per stroke
// (lib/mask.js). No DOM: tested with `node --test`.
import { bresenham } from "../mask.js";
import { pixelAt } from "./brush.js";

export class Superpixels {
  /**
   * @param {number} width, height  the image's original size
   * @param {Uint16Array} labels  one superpixel label (0..count-1) per pixel, row by row
   */
  constructor(width, height, labels) {
    if (labels.length !== width * height) throw new Error(`${width} x ${height} superpixels need ${width * height} labels, got ${labels.length}`);
    this.width = width;
    this.height = height;
    this.labels = labels;
    let count = 0;
    for (let i = 0; i < labels.length; i += 1) if (labels[i] >= count) count = labels[i] + 1;
    this.count = count;
    // Row runs (y, x0, x1) of every label, grouped by label: runs of label l are
    // runs[3 * start[l] .. 3 * start[l + 1]).
    const perLabel = new Uint32Array(count + 1);
    forRuns(this, (l) => {
      perLabel[l + 1] += 1;
    });
    for (let l = 0; l < count; l += 1) perLabel[l + 1] += perLabel[l];
    this.start = perLabel.slice();
    this.runs = new Int32Array(3 * perLabel[count]);
    const next = perLabel.slice(0, count);
    forRuns(this, (l, y, x0, x1) => {
      const at = 3 * next[l];
      next[l] += 1;
      this.runs[at] = y;
      this.runs[at + 1] = x0;
      this.runs[at + 2] = x1;
    });
  }

  /** The label of pixel (x, y), or -1 outside the image. */
  at(x, y) {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return -1;
    return this.labels[y * this.width + x];
  }

  /** Paint every pixel of superpixel `label` with `value` on `editor`. */
  fill(editor, label, value) {
    for (let i = 3 * this.start[label]; i < 3 * this.start[label + 1]; i += 3) editor.span(this.runs[i], this.runs[i + 1], this.runs[i + 2], value);
  }
}

function forRuns(sp, fn) {
  const { width, height, labels } = sp;
  for (let y = 0; y < height; y += 1) {
    const row = y * width;
    let x = 0;
    while (x < width) {
      const l = labels[row + x];
      let end = x + 1;
      while (end < width && labels[row + end] === l) end += 1;
      fn(l, y, x, end);
      x = end;
    }
  }
}

export class SuperpixelBrush {
  constructor() {
    this.stroke = null; // {value, points: [[x, y], ...], filled: Set of labels}
    this.last = null;
  }

  /** Start a stroke of class `value` at image point `p`. */
  begin(editor, superpixels, p, value) {
    this.stroke = { value, points: [], filled: new Set() };
    this.last = null;
    editor.begin();
    this.to(editor, superpixels, p);
  }

  /** Continue to `p`: every superpixel on the line from the last pointer pixel is filled. */
  to(editor, superpixels, p) {
    const q = pixelAt(p);
    const { stroke } = this;
    stroke.points.push([q.x, q.y]);
    const from = this.last ?? q;
    bresenham(from.x, from.y, q.x, q.y, (x, y) => {
      const label = superpixels.at(x, y);
      if (label < 0 || stroke.filled.has(label)) return;
      stroke.filled.add(label);
      superpixels.fill(editor, label, stroke.value);
    });
    this.last = q;
  }

  /** Finish the stroke: one undo step. Returns {value, points, superpixels filled}. */
  end(editor, superpixels, p) {
    this.to(editor, superpixels, p);
    editor.end();
    const { value, points, filled } = this.stroke;
    this.stroke = null;
    return { value, points, superpixels: filled.size };
  }

  cancel() {
    this.stroke = null;
  }
}
