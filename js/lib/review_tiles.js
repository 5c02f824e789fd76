// The tiles of the review grid: an item's media (a thumbnail, a text snippet or its problem),
// its current label and confidence; in the disagreements mode, every annotator's answer too.
// Data is set as text, never HTML.
import { colorOf } from "./box_paint.js";
import { bytesOf } from "./channel.js";
import { h } from "./dom.js";
import { formatConfidence, formatValue, sameValue } from "./grid.js";

/** The tile's media: `{body, url}`, `url` the thumbnail's object URL to revoke with the tile. */
function media(item, buffers) {
  if (item.error) return { body: h("div", { class: "nbl-review-problem", text: `Cannot show: ${item.error}` }), url: null };
  if (item.kind === "text") return { body: h("div", { class: "nbl-review-snippet", text: item.text }), url: null };
  const url = URL.createObjectURL(new Blob([bytesOf(buffers[item.buffer])], { type: item.mime }));
  const size = item.value?.image_size?.[0];
  if (Array.isArray(item.value?.annotations) && size) return { body: boxedImage(url, size, item.value.annotations, item.position), url };
  return { body: h("img", { src: url, alt: `row ${item.position}`, draggable: "false" }), url };
}

const SVG = "http://www.w3.org/2000/svg";

/** A box label's thumbnail: the image with its boxes, in one SVG in original pixels (so the
 * boxes land where they belong whatever size the tile shows it at). */
function boxedImage(url, size, boxes, position) {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${size.width} ${size.height}`);
  svg.setAttribute("class", "nbl-review-boxes");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", `row ${position}`);
  const image = document.createElementNS(SVG, "image");
  image.setAttribute("href", url);
  image.setAttribute("width", String(size.width));
  image.setAttribute("height", String(size.height));
  svg.append(image);
  const stroke = String(Math.max(size.width, size.height) / 160);
  for (const b of boxes) {
    const rect = document.createElementNS(SVG, "rect");
    for (const [name, value] of [["x", b.left], ["y", b.top], ["width", b.width], ["height", b.height]]) rect.setAttribute(name, String(value));
    rect.setAttribute("fill", "none");
    rect.setAttribute("stroke", colorOf(b.class_id));
    rect.setAttribute("stroke-width", stroke);
    rect.setAttribute("data-testid", "nbl-review-box");
    svg.append(rect);
  }
  return svg;
}

/** One tile element: `extra` comes between the media and the caption. */
function tile(item, body, { title, conf, bar, decided = null, extra = null, onClick }) {
  return h(
    "div",
    {
      class: `nbl-review-tile${decided ? " nbl-decided" : ""}`,
      role: "option",
      "aria-selected": "false",
      "data-testid": "nbl-review-tile",
      "data-key": item.key,
      "data-decided": decided === null ? null : decided ? "true" : "false",
      "data-confidence": item.confidence === null ? "" : String(item.confidence),
      title,
      onclick: (event) => onClick(event, item.key),
    },
    [
      h("div", { class: "nbl-review-media" }, [body]),
      extra,
      h("div", { class: "nbl-review-caption" }, [
        h("span", { class: "nbl-review-value", "data-testid": "nbl-review-value", text: formatValue(item.value) }),
        h("span", { class: "nbl-review-confidence", text: conf }),
      ]),
      h("div", { class: "nbl-review-bar" }, [h("span", { style: { width: `${bar * 100}%` } })]),
    ],
  );
}

/**
 * The tile of an item of a page: `{uid, el, url}`.
 * @param {object} item the page's item
 * @param {DataView[]} buffers the page's binary buffers (thumbnails)
 * @param {{decide: boolean, onClick: (event, key) => void, onAnswer: (key, value) => void}} options
 *   `decide`: a disputed item, with its answers as buttons that call `onAnswer`
 */
export function makeTile(item, buffers, { decide, onClick, onAnswer }) {
  const { body, url } = media(item, buffers);
  const value = formatValue(item.value);
  if (!decide) {
    const conf = formatConfidence(item.confidence);
    const title = `Row ${item.position}: ${value} (confidence ${conf})`;
    return { uid: item.uid, el: tile(item, body, { title, conf, bar: item.confidence ?? 0, onClick }), url };
  }
  // A disputed item: every annotator's answer (a button that decides it), and the current label,
  // which is a person's decision or the consolidation with its confidence.
  const decided = item.decided_by !== null;
  const answers = item.answers.map(({ annotator, value: answer }) =>
    h(
      "button",
      {
        class: `nbl-review-answer${sameValue(answer, item.value) ? " nbl-chosen" : ""}`,
        type: "button",
        "data-testid": "nbl-review-answer",
        "data-annotator": annotator,
        title: `Decide “${formatValue(answer)}”, ${annotator}'s answer`,
        onclick: (event) => {
          event.stopPropagation(); // a decision, not a selection change
          onAnswer(item.key, answer);
        },
      },
      [
        h("span", { class: "nbl-review-annotator", text: annotator }),
        h("span", { class: "nbl-review-answer-value", text: formatValue(answer) }),
      ],
    ),
  );
  const conf = decided ? "decided" : formatConfidence(item.confidence);
  const title = decided
    ? `Row ${item.position}: decided “${value}” by ${item.decided_by}`
    : `Row ${item.position}: consolidated “${value}” (confidence ${conf})`;
  const extra = h("div", { class: "nbl-review-answers", "data-testid": "nbl-review-answers" }, answers);
  const el = tile(item, body, { title, conf, bar: decided ? 1 : item.confidence ?? 0, decided, extra, onClick });
  return { uid: item.uid, el, url };
}

/** The confidences a page carries (sorted, as binary buffers) as Float64Arrays. */
export function readConfidences(version, { all, by_class: byClass }, buffers) {
  return {
    version,
    all: new Float64Array(bytesOf(buffers[all])),
    byClass: Object.fromEntries(Object.entries(byClass).map(([l, i]) => [l, new Float64Array(bytesOf(buffers[i]))])),
  };
}
