// A task's instructions, as Ground Truth's worker pages have them: a short text beside the item
// and a full panel (the i key, or the button) with good and bad example images.
//
// The instructions are Markdown written by the user, rendered by lib/markdown.js as DOM built
// from the text, never as HTML: a `<script>` or `<img onerror>` in the text is shown as text.
// Example images keep only http(s) and data:image URLs (the kernel embeds local files as data
// URLs).

import { h } from "./dom.js";
import { renderMarkdown } from "./markdown.js";

const IMAGE_SOURCES = /^(https?:|data:image\/)/i;

/** An element of class `className` showing Markdown `text`. */
function markdown(className, text) {
  const el = h("div", { class: className });
  renderMarkdown(el, text);
  return el;
}

/** The widget's instructions (the model's `instructions` trait), or null when it has none. */
export function instructionsOf(model) {
  const spec = model.get("instructions");
  if (!spec || !(spec.short || spec.full || spec.good?.length || spec.bad?.length)) return null;
  return spec;
}

function examples(kind, title, list) {
  const shown = (list ?? []).filter((e) => IMAGE_SOURCES.test(e.src ?? ""));
  if (!shown.length) return null;
  return h("section", { class: `nbl-examples nbl-${kind}`, "data-testid": `nbl-examples-${kind}` }, [
    h("h4", { text: title }),
    h(
      "div",
      { class: "nbl-example-row" },
      shown.map((e) =>
        h("figure", { class: "nbl-example" }, [
          h("img", { src: e.src, alt: e.caption || title, loading: "lazy" }),
          e.caption ? h("figcaption", { text: e.caption }) : null,
        ]),
      ),
    ),
  ]);
}

/**
 * The short text (beside the item) and the full panel of a widget's instructions; `onClose` gives
 * the keys back to the widget.
 */
export class InstructionsView {
  constructor(spec, { onToggle = () => {} } = {}) {
    this.onToggle = onToggle;
    const open = h("button", {
      type: "button",
      class: "nbl-instructions-open",
      "data-testid": "nbl-instructions-open",
      title: "Full instructions (i)",
      text: "Instructions (i)",
      onclick: () => this.toggle(),
    });
    this.short = h("div", { class: "nbl-instructions-short", "data-testid": "nbl-instructions-short" }, [
      markdown("nbl-instructions-text", spec.short || ""),
      open,
    ]);
    const close = h("button", { type: "button", class: "nbl-instructions-close", text: "Close (i or Esc)", onclick: () => this.toggle(false) });
    this.panel = h(
      "section",
      { class: "nbl-instructions", "data-testid": "nbl-instructions", role: "dialog", "aria-label": "Instructions", hidden: true },
      [
        markdown("nbl-instructions-body", spec.full || spec.short || ""),
        examples("good", "Good examples", spec.good),
        examples("bad", "Bad examples", spec.bad),
        close,
      ],
    );
  }

  get isOpen() {
    return !this.panel.hidden;
  }

  /** Open or close the full panel (`open` omitted: the other way round). */
  toggle(open = !this.isOpen) {
    if (open === this.isOpen) return;
    this.panel.hidden = !open;
    this.onToggle(open);
  }
}
