// The click-to-mask tools of the segmentation widget: drag a box around an object ("box") or click
// its 4 extreme points ("extreme"); the kernel's prompt model (GrabCut by default) answers with the
// object's mask, which paints the current class. Clicks after that correct it (Shift: not the
// object): the prompt grows and the kernel answers again; so do strokes dragged with Alt (Alt+Shift:
// not the object), which the kernel's GrabCut takes as sure pixels of a second run in its mask mode
// from the previous result. Each answer is one ordinary edit of the
// MaskEditor (lib/mask.js): pixels of the object take the class, the others of the touched
// rectangle go back to what they were before the object's first answer, so a correction replaces
// the previous answer and undo steps back through them. No DOM: the widget wires it to the stage
// and the channel, and it is tested with `node --test`.
import { unionRect } from "../mask.js";
import { pixelAt } from "./brush.js";

const CLICK_PX = 4; // a drag shorter than this (CSS pixels) is a click, not a box

/** The pixel box [x0, y0, x1, y1] (exclusive ends) spanned by two image points, clipped to the image. */
export function boxBetween(a, b, width, height) {
  const p = pixelAt(a);
  const q = pixelAt(b);
  const x0 = Math.max(0, Math.min(p.x, q.x));
  const y0 = Math.max(0, Math.min(p.y, q.y));
  const x1 = Math.min(width, Math.max(p.x, q.x) + 1);
  const y1 = Math.min(height, Math.max(p.y, q.y) + 1);
  return [x0, y0, x1, y1];
}

/**
 * Write an answer on `editor` as one edit: in `rect` ({x0, y0, x1, y1}), pixels whose byte in
 * `bits` (the rectangle's 0/1 bytes, row by row) is 1 take `value`; every other pixel of `rect`
 * and of `previous` (the rectangle of the answer it replaces, or null) takes its value in `base`
 * (the mask before the first answer). Returns true when a pixel changed.
 */
export function applyAnswer(editor, base, previous, rect, bits, value) {
  const area = unionRect(previous, rect);
  if (!area) return false;
  const { width } = editor;
  editor.begin();
  for (let y = area.y0; y < area.y1; y += 1) {
    let x = area.x0;
    while (x < area.x1) {
      const v = wanted(x, y);
      let end = x + 1;
      while (end < area.x1 && wanted(end, y) === v) end += 1;
      // Only the runs that differ are written, so undo saves only the tiles the answer changed.
      let differs = false;
      for (let i = y * width + x; i < y * width + end && !differs; i += 1) differs = editor.data[i] !== v;
      if (differs) editor.span(y, x, end, v);
      x = end;
    }
  }
  return editor.end();

  function wanted(x, y) {
    if (rect && x >= rect.x0 && x < rect.x1 && y >= rect.y0 && y < rect.y1) {
      if (bits[(y - rect.y0) * (rect.x1 - rect.x0) + (x - rect.x0)]) return value;
    }
    return base[y * width + x];
  }
}

export class PromptTool {
  constructor() {
    this.mode = "box"; // "box" or "extreme"
    this.drag = null; // the box or refining stroke being dragged: {from, to, stroke?} image points
    this.extreme = []; // extreme points clicked so far, [x, y] pixels
    this.object = null; // the object being answered: its prompt, class, base mask and last answer
    this.pending = null; // the request waiting for its answer: {id, sentAt}
    this.nextId = 1;
  }

  /** Forget the object (Escape, another tool, another image): the next gesture starts a new one. */
  finish() {
    this.drag = null;
    this.extreme = [];
    this.object = null;
    this.pending = null;
  }

  /**
   * Pointer down at image point `p`. With an object answered and Alt held (`event.altKey`), a
   * refining stroke `size` pixels wide starts (Shift: not the object); otherwise a box or a click
   * may be starting. Returns true: the tool follows the drag.
   */
  down(p, event = null, size = 1) {
    this.drag = { from: p, to: p };
    if (this.object && event?.altKey) {
      const q = pixelAt(p);
      this.drag.stroke = { points: [[q.x, q.y]], size, label: event.shiftKey ? 0 : 1 };
    }
    return true;
  }

  move(p) {
    if (!this.drag) return;
    this.drag.to = p;
    const line = this.drag.stroke?.points;
    if (!line) return;
    const q = pixelAt(p);
    const [lx, ly] = line[line.length - 1];
    if (q.x !== lx || q.y !== ly) line.push([q.x, q.y]);
  }

  /**
   * Pointer up: the request to send to the kernel (without `key`), or null. A refining stroke
   * joins the object's prompt; a drag in box mode is a new object's box; a click corrects the
   * object (`remove`: not the object), or in extreme mode adds an extreme point (the 4th sends the
   * prompt). `scale` is the view's, to tell clicks from drags.
   */
  up(p, editor, value, scale, remove) {
    const drag = this.drag;
    this.drag = null;
    if (!drag) return null;
    if (drag.stroke && this.object) {
      this.drag = drag; // move() adds the last point, with the same checks
      this.move(p);
      this.drag = null;
      this.object.strokes.push(drag.stroke);
      return this._request();
    }
    const moved = Math.hypot(p.x - drag.from.x, p.y - drag.from.y) * scale;
    if (this.mode === "box" && moved >= CLICK_PX) {
      const box = boxBetween(drag.from, p, editor.width, editor.height);
      if (box[2] - box[0] < 2 || box[3] - box[1] < 2) return null;
      this._start(editor, value, { box, extreme: null });
      return this._request();
    }
    const q = pixelAt(p);
    if (q.x < 0 || q.y < 0 || q.x >= editor.width || q.y >= editor.height) return null;
    if (this.object) {
      this.object.points.push([q.x, q.y]);
      this.object.labels.push(remove ? 0 : 1);
      return this._request();
    }
    if (this.mode !== "extreme") return null;
    this.extreme.push([q.x, q.y]);
    if (this.extreme.length < 4) return null;
    const extreme = this.extreme;
    this.extreme = [];
    this._start(editor, value, { box: null, extreme });
    return this._request();
  }

  _start(editor, value, prompt) {
    this.object = { ...prompt, points: [], labels: [], strokes: [], value, base: editor.data.slice(), rect: null, answered: 0 };
  }

  _request() {
    const o = this.object;
    const id = this.nextId;
    this.nextId += 1;
    this.pending = { id, sentAt: performance.now() };
    const strokes = o.strokes.map((s) => ({ ...s, points: s.points.slice() }));
    return { type: "prompt", id, box: o.box, extreme: o.extreme, points: o.points.slice(), labels: o.labels.slice(), strokes };
  }

  /**
   * The kernel's answer `msg` ({id, rect: [x0, y0, x1, y1] or null, error}) with its 0/1 bytes
   * `bits`: painted on `editor` as one edit. Returns "stale" (an answer to an older request, or
   * to another object), "error", or "painted" / "unchanged".
   */
  answer(msg, bits, editor) {
    if (!this.object || !this.pending || msg.id !== this.pending.id) return "stale";
    this.pending = null;
    if (msg.error) return "error";
    const o = this.object;
    const rect = msg.rect ? { x0: msg.rect[0], y0: msg.rect[1], x1: msg.rect[2], y1: msg.rect[3] } : null;
    const changed = applyAnswer(editor, o.base, o.rect, rect, bits, o.value);
    o.rect = unionRect(o.rect, rect);
    o.answered += 1;
    // No answer for this object has had a rectangle: the model has found nothing yet (a correction
    // that empties a found object is the person's doing). The mask is back to what it was before.
    if (!o.rect) return "empty";
    return changed ? "painted" : "unchanged";
  }

  /** Draw the box being dragged, the extreme points, the object's clicks and strokes (drawn at once). */
  draw(ctx, vp, color) {
    ctx.save();
    const strokes = [...(this.object?.strokes ?? []), ...(this.drag?.stroke ? [this.drag.stroke] : [])];
    ctx.globalAlpha = 0.6;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    for (const { points, size, label } of strokes) {
      ctx.beginPath();
      points.forEach(([x, y], i) => {
        const s = vp.toScreen(x + 0.5, y + 0.5);
        if (i === 0) ctx.moveTo(s.x, s.y);
        ctx.lineTo(s.x, s.y); // a one-point stroke still draws its round cap
      });
      ctx.lineWidth = Math.max(2, size * vp.scale);
      ctx.strokeStyle = label ? color : "#fff";
      ctx.stroke();
    }
    ctx.globalAlpha = 1;
    ctx.lineWidth = 2;
    if (this.drag && this.mode === "box" && !this.object) {
      const a = vp.toScreen(this.drag.from.x, this.drag.from.y);
      const b = vp.toScreen(this.drag.to.x, this.drag.to.y);
      ctx.setLineDash([6, 4]);
      ctx.strokeStyle = color;
      ctx.strokeRect(Math.min(a.x, b.x), Math.min(a.y, b.y), Math.abs(b.x - a.x), Math.abs(b.y - a.y));
      ctx.setLineDash([]);
    }
    const dots = this.extreme.map(([x, y]) => [x, y, 1]);
    if (this.object) {
      if (this.object.box && this.pending) {
        const [x0, y0, x1, y1] = this.object.box;
        const a = vp.toScreen(x0, y0);
        const b = vp.toScreen(x1, y1);
        ctx.setLineDash([6, 4]);
        ctx.strokeStyle = color;
        ctx.strokeRect(a.x, a.y, b.x - a.x, b.y - a.y);
        ctx.setLineDash([]);
      }
      for (const [x, y] of this.object.extreme ?? []) dots.push([x, y, 1]);
      this.object.points.forEach(([x, y], i) => dots.push([x, y, this.object.labels[i]]));
    }
    for (const [x, y, on] of dots) {
      const s = vp.toScreen(x + 0.5, y + 0.5);
      ctx.beginPath();
      ctx.arc(s.x, s.y, 5, 0, 2 * Math.PI);
      ctx.fillStyle = on ? color : "#fff";
      ctx.fill();
      ctx.strokeStyle = on ? "#fff" : "#d00";
      ctx.stroke();
    }
    ctx.restore();
  }
}
