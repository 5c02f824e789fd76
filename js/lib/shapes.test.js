import assert from "node:assert/strict";
import { test } from "node:test";
import { ShapeLayer } from "./shapes.js";

/** A stand-in for the DOM: elements with attributes, text and children, counting the writes. */
function fakeDom() {
  const writes = { created: 0, attrs: 0, texts: 0 };
  function element(tag) {
    const el = {
      tag,
      attrs: new Map(),
      children: [],
      parent: null,
      _text: "",
      setAttribute(name, value) {
        assert.equal(typeof value, "string");
        writes.attrs += 1;
        el.attrs.set(name, value);
      },
      removeAttribute(name) {
        writes.attrs += 1;
        el.attrs.delete(name);
      },
      get textContent() {
        return el._text;
      },
      set textContent(text) {
        writes.texts += 1;
        el._text = text;
      },
      append(child) {
        child.parent = el;
        el.children.push(child);
      },
      replaceWith(other) {
        other.parent = el.parent;
        el.parent.children[el.parent.children.indexOf(el)] = other;
      },
      remove() {
        el.parent.children.splice(el.parent.children.indexOf(el), 1);
      },
    };
    return el;
  }
  const create = (tag) => {
    writes.created += 1;
    return element(tag);
  };
  return { root: element("svg"), create, writes };
}

/** What the fake DOM shows, as the shapes it would have been given. */
function shown(el) {
  const out = { tag: el.tag, attrs: Object.fromEntries(el.attrs) };
  if (el.children.length) out.children = el.children.map(shown);
  if (el._text) out.text = el._text;
  return out;
}

const rect = (x, y) => ({ tag: "rect", attrs: { x, y, width: 10, height: 5, stroke: "#e6194b" } });
const tag = (x, name) => ({ tag: "g", attrs: { transform: `translate(${x} 0)` }, children: [{ tag: "text", attrs: { x: 3 }, text: name }] });

test("shape layer: the SVG shows exactly the groups of shapes given, in order", () => {
  const { root, create } = fakeDom();
  const layer = new ShapeLayer(root, create);
  const groups = [[rect(1, 2), rect(3, 4)], [tag(1, "car")], []];
  layer.update(groups);
  const svg = shown(root);
  assert.equal(svg.children.length, 3);
  assert.deepEqual(svg.children[0].children, groups[0].map((s) => ({ tag: s.tag, attrs: Object.fromEntries(Object.entries(s.attrs).map(([k, v]) => [k, String(v)])) })));
  assert.deepEqual(svg.children[1].children[0].children[0], { tag: "text", attrs: { x: "3" }, text: "car" });
  assert.equal(svg.children[2].children, undefined);
});

test("shape layer: an update writes only what changed and reuses elements of the same tag", () => {
  const { root, create, writes } = fakeDom();
  const layer = new ShapeLayer(root, create);
  layer.update([[rect(1, 2), rect(3, 4)], [tag(1, "car")]]);
  const first = root.children[0].children[0];
  const before = { ...writes };
  layer.update([[rect(1, 2), rect(3, 4)], [tag(1, "car")]]);
  assert.deepEqual(writes, before, "the same shapes again: nothing written");
  layer.update([[rect(1, 9), rect(3, 4)], [tag(7, "car")]]);
  assert.equal(writes.created, before.created, "no element made");
  assert.equal(writes.attrs, before.attrs + 2, "the one changed y and the tag's transform");
  assert.equal(writes.texts, before.texts, "the tag's text untouched: it only moved");
  assert.equal(root.children[0].children[0], first);
  assert.equal(first.attrs.get("y"), "9");
});

test("shape layer: fewer shapes remove elements, another tag replaces one, attributes left out go", () => {
  const { root, create } = fakeDom();
  const layer = new ShapeLayer(root, create);
  layer.update([[rect(1, 2), rect(3, 4), rect(5, 6)], [tag(1, "car")]]);
  const dashed = { tag: "rect", attrs: { x: 1, y: 2, "stroke-dasharray": "6 4" } };
  layer.update([[dashed, { tag: "path", attrs: { d: "M0 0H5" } }]]);
  assert.deepEqual(shown(root), {
    tag: "svg",
    attrs: {},
    children: [{ tag: "g", attrs: {}, children: [{ tag: "rect", attrs: { x: "1", y: "2", "stroke-dasharray": "6 4" } }, { tag: "path", attrs: { d: "M0 0H5" } }] }],
  });
  layer.update([[rect(1, 2)], [tag(2, "<b>bus</b>")]]);
  const text = root.children[1].children[0].children[0];
  assert.equal(text.textContent, "<b>bus</b>", "text stays text");
  layer.update([]);
  assert.equal(root.children.length, 0);
});
