// Painting boxes on a stage overlay (lib/viewport.js), shared by the box and verification widgets.
import { handlePoints } from "./box_editor.js";

export const COLORS = [
  "#e6194b",
  "#3cb44b",
  "#4363d8",
  "#f58231",
  "#911eb4",
  "#42d4f4",
  "#f032e6",
  "#bfef45",
  "#9a6324",
  "#469990",
];
const LABELLED_UP_TO = 60; // class names are drawn on boxes up to this many boxes

export function colorOf(classId) {
  return COLORS[classId % COLORS.length];
}

/**
 * Paint boxes (original pixels) with viewport `vp`, one path per class colour so hundreds of boxes
 * fit in a frame. `names` maps class ids to the names drawn on the boxes (array or object).
 */
export function paintBoxes(ctx, vp, boxes, names, { selected = -1, dashed = false } = {}) {
  // One path per colour and line style: proposed boxes (`proposed: true`) are dashed.
  const byColor = new Map();
  boxes.forEach((b, i) => {
    const key = `${colorOf(b.class_id)}|${dashed || b.proposed ? "dashed" : "solid"}`;
    if (!byColor.has(key)) byColor.set(key, []);
    byColor.get(key).push(i);
  });
  ctx.lineWidth = 2;
  for (const [key, indices] of byColor) {
    const [color, style] = key.split("|");
    ctx.setLineDash(style === "dashed" ? [6, 4] : []);
    ctx.strokeStyle = color;
    ctx.beginPath();
    for (const i of indices) {
      const b = boxes[i];
      ctx.rect(vp.x + b.left * vp.scale, vp.y + b.top * vp.scale, b.width * vp.scale, b.height * vp.scale);
    }
    ctx.stroke();
  }
  ctx.setLineDash([]);
  if (boxes.length <= LABELLED_UP_TO) {
    ctx.font = "11px sans-serif";
    ctx.textBaseline = "top";
    for (const b of boxes) {
      const name = names[b.class_id] ?? String(b.class_id);
      const x = vp.x + b.left * vp.scale;
      const y = vp.y + b.top * vp.scale;
      const w = ctx.measureText(name).width + 6;
      ctx.fillStyle = colorOf(b.class_id);
      ctx.fillRect(x, y - 14 < 0 ? y : y - 14, w, 14);
      ctx.fillStyle = "#fff";
      ctx.fillText(name, x + 3, (y - 14 < 0 ? y : y - 14) + 1);
    }
  }
  const s = boxes[selected];
  if (s) {
    const toScreen = (ix, iy) => vp.toScreen(ix, iy);
    ctx.fillStyle = `${colorOf(s.class_id)}33`;
    ctx.fillRect(vp.x + s.left * vp.scale, vp.y + s.top * vp.scale, s.width * vp.scale, s.height * vp.scale);
    ctx.fillStyle = "#fff";
    ctx.strokeStyle = colorOf(s.class_id);
    ctx.lineWidth = 1.5;
    for (const [x, y] of handlePoints(s, toScreen)) {
      ctx.fillRect(x - 4, y - 4, 8, 8);
      ctx.strokeRect(x - 4, y - 4, 8, 8);
    }
  }
}
