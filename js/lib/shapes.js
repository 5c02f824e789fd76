// Vector marks on the zoomable stage (lib/viewport.js): a tool describes what it shows as plain
// data, groups of shapes, and a `ShapeLayer` keeps one <svg> in step with the latest description,
// touching only the elements, attributes and texts that changed.
//
// Why not the marks canvas: without a GPU, Chromium spends 2-4 ms of the main thread in every
// frame in which a canvas changed (copying its pixels to the compositor), whatever was drawn on
// it, while SVG is recorded as paint operations and rasterized off the main thread; a drag among
// 200 boxes changes one box's attributes (its frame about 2 ms cheaper, BENCHMARKS.md). A new
// image's few dozen boxes cost about what the canvas did: the SVG's style, layout and layer update
// take the upload's place. Text goes in with `textContent` only, never parsed as markup.

export const SVG_NS = "http://www.w3.org/2000/svg";

/**
 * A shape: `{tag, attrs, text?, children?}`, an SVG element's tag name, its attributes (name ->
 * string or number), and either the text it holds (a `<text>`'s) or the shapes inside it (a
 * `<g>`'s). A description is an array of groups, each an array of shapes, painted in order (later
 * over earlier): a group keeps its place whatever the others hold, so a new image with more boxes
 * moves no name tag into an outline's element.
 * @typedef {{tag: string, attrs: Record<string, string | number>, text?: string, children?: Shape[]}} Shape
 */

export class ShapeLayer {
  /**
   * @param {Element} el the <svg> the shapes go in
   * @param {(tag: string) => Element} create makes an element (SVG, in the namespace, by default)
   */
  constructor(el, create = (tag) => document.createElementNS(SVG_NS, tag)) {
    this._create = create;
    this._root = { el, shape: null, kids: [] }; // what is shown: an element, its shape, its children's
  }

  /** Show `groups` (an array of arrays of shapes) in place of what was shown. */
  update(groups) {
    this._children(
      this._root,
      groups.map((children) => ({ tag: "g", attrs: {}, children })),
    );
  }

  // The elements under `node` made to show `shapes`: one reused where its tag is the same.
  _children(node, shapes) {
    shapes.forEach((shape, i) => {
      let kid = node.kids[i];
      if (!kid || kid.shape.tag !== shape.tag) {
        const el = this._create(shape.tag);
        if (kid) kid.el.replaceWith(el);
        else node.el.append(el);
        kid = node.kids[i] = { el, shape: { tag: shape.tag, attrs: {} }, kids: [] };
      }
      this._patch(kid, shape);
    });
    for (const kid of node.kids.splice(shapes.length)) kid.el.remove();
  }

  // Only what differs from the shape `node` shows is written: an unchanged attribute written
  // again would still cost the browser a style recalculation.
  _patch(node, shape) {
    const { el, shape: before } = node;
    for (const [name, value] of Object.entries(shape.attrs)) {
      if (before.attrs[name] !== value) el.setAttribute(name, String(value));
    }
    for (const name of Object.keys(before.attrs)) if (!(name in shape.attrs)) el.removeAttribute(name);
    if (shape.children) this._children(node, shape.children);
    else if ((shape.text ?? "") !== (before.text ?? "")) el.textContent = shape.text ?? "";
    node.shape = shape;
  }
}
