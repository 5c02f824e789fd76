// crowd-bounding-box, crowd-keypoint, crowd-polygon, crowd-polyline and crowd-line on the shared
// image stage. Outputs as GT documents them, in the image's natural pixels:
//   bounding box  {"<name>": {"boundingBoxes": [{"height","label","left","top","width"}],
//                             "inputImageProperties": {"height","width"}}}
//   keypoint      {"<name>": {"inputImageProperties": {...}, "keypoints": [{"label","x","y"}]}}
//   polygon       {"<name>": {"inputImageProperties": {...}, "polygons": [{"label","vertices":[{"x","y"}]}]}}
//   polyline      {"<name>": {"inputImageProperties": {...}, "polylines": [{"label","vertices":[{"x","y"}, ...]}]}}
//   line          {"<name>": {"inputImageProperties": {...}, "lines": [{"label","vertices":[{"x","y"}, {"x","y"}]}]}}
import { define } from "./base.js";
import { boxFrom, near, roundPoint } from "./geometry.js";
import { ImageTool, s } from "./image-tool.js";

const MIN_BOX = 2; // natural pixels: a smaller drag is a click

class CrowdBoundingBox extends ImageTool {
  get hint() {
    return "Drag on the image to draw a box. Click a box to select it; Delete removes it; 1–9 pick the label.";
  }

  fromValue(list) {
    return list
      .filter((b) => b && typeof b === "object")
      .map((b) => ({ label: String(b.label ?? ""), left: +b.left, top: +b.top, width: +b.width, height: +b.height }));
  }

  valueShapes(value) {
    return value?.boundingBoxes;
  }

  output() {
    return { boundingBoxes: this.shapes.map((b) => ({ height: b.height, label: b.label, left: b.left, top: b.top, width: b.width })) };
  }

  onDown(p, index) {
    if (index >= 0) {
      this.select(index);
      this.start = null;
      return;
    }
    this.start = p;
    this.preview = null;
  }

  onMove(p) {
    if (!this.start) return;
    this.preview = boxFrom(this.start, p);
    this.draw();
  }

  onUp(p) {
    if (!this.start) return;
    const box = boxFrom(this.start, p);
    this.start = null;
    this.preview = null;
    if (box.width < MIN_BOX || box.height < MIN_BOX) {
      this.select(-1);
      return;
    }
    this.shapes.push({ label: this.label, ...box });
    this.selected = this.shapes.length - 1;
    this.changed();
  }

  render(scale) {
    const out = this.shapes.map((b, index) =>
      s("rect", {
        x: b.left,
        y: b.top,
        width: b.width,
        height: b.height,
        "data-index": index,
        class: `crowd-shape${index === this.selected ? " crowd-selected" : ""}`,
        stroke: this.color(b.label),
        "stroke-width": 2 * scale,
      }),
    );
    if (this.preview) {
      const b = this.preview;
      out.push(s("rect", { x: b.left, y: b.top, width: b.width, height: b.height, class: "crowd-preview", "stroke-width": 2 * scale }));
    }
    return out;
  }
}

class CrowdKeypoint extends ImageTool {
  get hint() {
    return "Click the image to place a point. Click a point to select it; Delete removes it; 1–9 pick the label.";
  }

  fromValue(list) {
    return list.filter((k) => k && typeof k === "object").map((k) => ({ label: String(k.label ?? ""), x: +k.x, y: +k.y }));
  }

  valueShapes(value) {
    return value?.keypoints;
  }

  output() {
    return { keypoints: this.shapes.map((k) => ({ label: k.label, x: k.x, y: k.y })) };
  }

  onDown(p, index) {
    if (index >= 0) {
      this.select(index);
      return;
    }
    this.shapes.push({ label: this.label, ...roundPoint(p) });
    this.selected = this.shapes.length - 1;
    this.changed();
  }

  render(scale) {
    return this.shapes.map((k, index) =>
      s("circle", {
        cx: k.x,
        cy: k.y,
        r: 5 * scale,
        "data-index": index,
        class: `crowd-point${index === this.selected ? " crowd-selected" : ""}`,
        fill: this.color(k.label),
        "stroke-width": 1.5 * scale,
      }),
    );
  }
}

/** Shapes drawn vertex by vertex: polygons (closed), polylines and lines (open). */
class CrowdPolygon extends ImageTool {
  get hint() {
    return "Click to add corners; click the first corner, double-click or press Enter to close. Escape drops an open polygon.";
  }

  /** The output's list name; the shortest and the longest shape (corners). */
  get kind() {
    return { key: "polygons", min: 3, max: Infinity, closed: true };
  }

  build() {
    this.current = [];
    super.build();
  }

  fromValue(list) {
    return list
      .filter((p) => p && Array.isArray(p.vertices))
      .map((p) => ({ label: String(p.label ?? ""), vertices: p.vertices.map((v) => ({ x: +v.x, y: +v.y })) }));
  }

  valueShapes(value) {
    return value?.[this.kind.key];
  }

  output() {
    return { [this.kind.key]: this.shapes.map((p) => ({ label: p.label, vertices: p.vertices.map((v) => ({ x: v.x, y: v.y })) })) };
  }

  onDown(p, index) {
    const { closed, min } = this.kind;
    if (closed && this.current.length >= min && near(p, this.current[0], 8 * this.scale)) {
      this.close();
      return;
    }
    if (!this.current.length && index >= 0) {
      this.select(index);
      return;
    }
    this.selected = -1;
    this.current.push(roundPoint(p));
    if (this.current.length >= this.kind.max) this.close();
    else this.draw();
  }

  onDoubleClick() {
    // A double click also delivered two clicks: drop the repeated corner, then close.
    const n = this.current.length;
    if (n >= 2 && near(this.current[n - 1], this.current[n - 2], 3 * this.scale)) this.current.pop();
    this.close();
  }

  close() {
    if (this.current.length < this.kind.min) return false;
    this.shapes.push({ label: this.label, vertices: this.current });
    this.current = [];
    this.selected = this.shapes.length - 1;
    this.changed();
    return true;
  }

  onKey(event) {
    if (event.key === "Enter" && !event.ctrlKey && !event.metaKey) return this.close() || this.current.length > 0;
    if (event.key === "Escape" && this.current.length) {
      this.current = [];
      this.draw();
      return true;
    }
    if (event.key === "Backspace" && this.current.length) {
      this.current.pop();
      this.draw();
      return true;
    }
    return false;
  }

  crowdCheck() {
    if (this.current?.length) return `Finish the open ${this.kind.key.slice(0, -1)} (Enter) or drop it (Escape) first.`;
    return super.crowdCheck();
  }

  render(scale) {
    const points = (vs) => vs.map((v) => `${v.x},${v.y}`).join(" ");
    const out = this.shapes.map((p, index) =>
      s(this.kind.closed ? "polygon" : "polyline", {
        points: points(p.vertices),
        "data-index": index,
        class: `crowd-shape${index === this.selected ? " crowd-selected" : ""}`,
        stroke: this.color(p.label),
        "stroke-width": 2 * scale,
      }),
    );
    if (this.current.length) {
      out.push(s("polyline", { points: points(this.current), class: "crowd-preview", "stroke-width": 2 * scale }));
      for (const v of this.current) out.push(s("circle", { cx: v.x, cy: v.y, r: 3.5 * scale, class: "crowd-vertex" }));
    }
    return out;
  }
}

define("crowd-bounding-box", CrowdBoundingBox);
define("crowd-keypoint", CrowdKeypoint);
define("crowd-polygon", CrowdPolygon);
define(
  "crowd-polyline",
  class extends CrowdPolygon {
    get hint() {
      return "Click to add points; double-click or press Enter to finish the line. Escape drops an open line.";
    }

    get kind() {
      return { key: "polylines", min: 2, max: Infinity, closed: false };
    }
  },
);
define(
  "crowd-line",
  class extends CrowdPolygon {
    get hint() {
      return "Click the line's start, then its end. Click a line to select it; Delete removes it; 1–9 pick the label.";
    }

    get kind() {
      return { key: "lines", min: 2, max: 2, closed: false };
    }
  },
);
