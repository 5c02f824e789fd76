// Boxes on the stage (lib/viewport.js) as vector shapes (lib/shapes.js), shared by the box and
// verification widgets: outlines in their class colour (proposals dashed), name tags, the
// selected box's tint and handles. Pure functions of the view and the boxes, so what is drawn
// where is tested with `node --test`.
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
const TAG_HEIGHT = 14; // CSS pixels of a name tag, above its box (inside it at the stage's top)
const TAG_FONT = { size: 11, family: "sans-serif" };
const HANDLE = 8; // CSS pixels of a resize handle's side

export function colorOf(classId) {
  return COLORS[classId % COLORS.length];
}

/**
 * The shapes of `boxes` (original pixels) at view `vp`, in CSS pixels of the stage: three groups
 * (outlines, name tags, the selected box's tint and handles) for a `ShapeLayer`. `names` maps
 * class ids to the names shown on the boxes (array or object); proposed boxes (`proposed: true`)
 * or all of them (`dashed`) are dashed; `measure(text, font)` gives a text's width (CSS pixels).
 */
export function boxShapes(vp, boxes, names, { selected = -1, dashed = false, measure = textWidth } = {}) {
  const screen = boxes.map((b) => ({
    x: vp.x + b.left * vp.scale,
    y: vp.y + b.top * vp.scale,
    width: b.width * vp.scale,
    height: b.height * vp.scale,
    color: colorOf(b.class_id),
  }));
  const outlines = screen.map((s, i) => ({
    tag: "rect",
    attrs: {
      "data-box": i,
      x: s.x,
      y: s.y,
      width: s.width,
      height: s.height,
      fill: "none",
      stroke: s.color,
      "stroke-width": 2,
      "stroke-dasharray": dashed || boxes[i].proposed ? "6 4" : "none",
    },
  }));
  const tags = [];
  if (boxes.length <= LABELLED_UP_TO) {
    boxes.forEach((b, i) => {
      const { x, y, color } = screen[i];
      const name = String(names[b.class_id] ?? b.class_id);
      const top = y - TAG_HEIGHT < 0 ? y : y - TAG_HEIGHT;
      // A group moved by a transform: a new position lays out no text again.
      tags.push({
        tag: "g",
        attrs: { transform: `translate(${x} ${top})` },
        children: [
          { tag: "rect", attrs: { width: measure(name, `${TAG_FONT.size}px ${TAG_FONT.family}`) + 6, height: TAG_HEIGHT, fill: color } },
          {
            tag: "text",
            attrs: { x: 3, y: 1, fill: "#fff", "font-size": TAG_FONT.size, "font-family": TAG_FONT.family, "dominant-baseline": "text-before-edge" },
            text: name,
          },
        ],
      });
    });
  }
  const selection = [];
  const s = screen[selected];
  if (s) {
    selection.push({ tag: "rect", attrs: { x: s.x, y: s.y, width: s.width, height: s.height, fill: s.color, "fill-opacity": 0.2 } });
    for (const [x, y] of handlePoints(boxes[selected], (ix, iy) => vp.toScreen(ix, iy))) {
      const at = { x: x - HANDLE / 2, y: y - HANDLE / 2, width: HANDLE, height: HANDLE };
      selection.push({ tag: "rect", attrs: { "data-handle": "", ...at, fill: "#fff", stroke: s.color, "stroke-width": 1.5 } });
    }
  }
  return [outlines, tags, selection];
}

const widths = new Map(); // `${font}|${text}` -> CSS pixels
let measurer = null; // a 2D context no one sees: measuring draws nothing

/** The width (CSS pixels) of `text` in `font`, as the browser lays it out. */
export function textWidth(text, font) {
  const key = `${font}|${text}`;
  if (!widths.has(key)) {
    measurer ??= document.createElement("canvas").getContext("2d");
    measurer.font = font;
    widths.set(key, measurer.measureText(text).width);
  }
  return widths.get(key);
}
