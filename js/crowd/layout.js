// Layout elements without output: crowd-instructions, crowd-alert, crowd-card, crowd-tabs and
// crowd-tab, crowd-modal, crowd-toast, crowd-badge, crowd-fab and crowd-icon-button. Their content
// stays in the element (a hidden tab or a closed modal is only hidden), so the fields inside them
// are part of the form output as in GT.
import { CrowdElement, define, h, moveChildren, takeRegions } from "./base.js";

/**
 * A dialog opened by a link or button (the element's `link-text` and `link-type`), as GT's
 * instructions and modal have: `bar` gets a Close button, `body` follows; `onOpen` runs on opening.
 */
function linkedDialog(el, { className, bar, body, testid, text, onOpen = () => {} }) {
  bar.append(h("button", { type: "button", class: "crowd-close", text: "Close", onclick: () => (dialog.hidden = true) }));
  const dialog = h("div", { class: className, role: "dialog", hidden: true }, [bar, body]);
  const type = el.getAttribute("link-type") === "button" ? "crowd-button crowd-button-normal" : "crowd-link";
  const opener = h("button", {
    type: "button",
    class: type,
    "data-testid": testid,
    text: el.getAttribute("link-text") || text,
    onclick: () => {
      dialog.hidden = !dialog.hidden;
      if (!dialog.hidden) onOpen();
    },
  });
  return { opener, dialog };
}

class CrowdInstructions extends CrowdElement {
  build() {
    const regions = takeRegions(this, ["short-summary", "detailed-instructions", "positive-example", "negative-example"]);
    const pages = [];
    if (regions["short-summary"]) pages.push(["Summary", [moveChildren(regions["short-summary"], h("div"))]]);
    if (regions["detailed-instructions"]) {
      pages.push(["Detailed Instructions", [moveChildren(regions["detailed-instructions"], h("div"))]]);
    }
    const examples = [];
    for (const [region, title] of [
      ["positive-example", "Good example"],
      ["negative-example", "Bad example"],
    ]) {
      if (regions[region]) {
        examples.push(h("h4", { class: `crowd-${region}`, text: title }), moveChildren(regions[region], h("div")));
      }
    }
    if (examples.length) pages.push(["Examples", examples]);
    const body = h("div", { class: "crowd-instructions-body" });
    const tabs = pages.map(([title, content], index) =>
      h("button", {
        type: "button",
        role: "tab",
        class: "crowd-tab",
        text: title,
        onclick: () => show(index),
      }),
    );
    const show = (index) => {
      tabs.forEach((t, i) => t.setAttribute("aria-selected", i === index ? "true" : "false"));
      body.replaceChildren(...pages[index][1]);
    };
    const { opener, dialog } = linkedDialog(this, {
      className: "crowd-instructions-dialog",
      bar: h("div", { class: "crowd-tabs", role: "tablist" }, tabs),
      body,
      testid: "crowd-instructions-open",
      text: "Click for instructions",
      onOpen: () => pages.length && show(0),
    });
    this.append(opener, dialog);
  }
}

class CrowdAlert extends CrowdElement {
  build() {
    const type = ["success", "info", "warning", "error"].includes(this.getAttribute("type"))
      ? this.getAttribute("type")
      : "info";
    const box = h("div", { class: `crowd-alert crowd-alert-${type}`, role: type === "error" ? "alert" : "status" });
    moveChildren(this, box);
    if (this.hasAttribute("dismissible")) {
      box.append(
        h("button", { type: "button", class: "crowd-close", "aria-label": "Dismiss", text: "×", onclick: () => box.remove() }),
      );
    }
    this.append(box);
  }
}

class CrowdCard extends CrowdElement {
  build() {
    const content = moveChildren(this, h("div", { class: "crowd-card-content" }));
    const image = this.getAttribute("image");
    const heading = this.getAttribute("heading");
    this.append(
      h("div", { class: "crowd-card" }, [
        image ? h("img", { class: "crowd-card-image", src: image, alt: heading || "" }) : null,
        heading ? h("div", { class: "crowd-card-heading", text: heading }) : null,
        content,
      ]),
    );
  }
}

/** GT's tabs: one `crowd-tab` (its `header` on the tab) shown at a time. */
class CrowdTabs extends CrowdElement {
  build() {
    const tabs = [...this.children].filter((c) => c.localName === "crowd-tab");
    const buttons = tabs.map((tab, index) =>
      h("button", {
        type: "button",
        role: "tab",
        class: "crowd-tab",
        "data-testid": `crowd-tab-${index}`,
        text: tab.getAttribute("header") || `Tab ${index + 1}`,
        onclick: () => show(index),
      }),
    );
    const show = (index) => {
      tabs.forEach((tab, i) => (tab.hidden = i !== index));
      buttons.forEach((b, i) => b.setAttribute("aria-selected", i === index ? "true" : "false"));
    };
    this.prepend(h("div", { class: "crowd-tabs", role: "tablist" }, buttons));
    if (tabs.length) show(0);
  }
}

class CrowdTab extends CrowdElement {
  build() {
    this.setAttribute("role", "tabpanel");
  }
}

/** GT's modal: a link or button (`link-text`, `link-type`) opens the content in a dialog. */
class CrowdModal extends CrowdElement {
  build() {
    const body = moveChildren(this, h("div", { class: "crowd-modal-body" }));
    const { opener, dialog } = linkedDialog(this, {
      className: "crowd-modal-dialog",
      bar: h("div", { class: "crowd-tabs" }),
      body,
      testid: "crowd-modal-open",
      text: "Open",
    });
    this.append(opener, dialog);
  }
}

/** GT's toast: `text` shown for `duration` milliseconds (default 6000) when the item appears. */
class CrowdToast extends CrowdElement {
  build() {
    const note = h("div", { class: "crowd-toast", role: "status", text: this.getAttribute("text") || this.textContent.trim() });
    this.replaceChildren(note);
    const duration = Number(this.getAttribute("duration") || 6000);
    // The toast goes away by itself, as GT's does; nothing waits for it.
    setTimeout(() => note.remove(), Number.isFinite(duration) ? duration : 6000);
  }
}

/** GT's badge (`label`), floating action button and icon button: shown, no output. */
class CrowdBadge extends CrowdElement {
  build() {
    this.append(h("span", { class: "crowd-badge", text: this.getAttribute("label") || "" }));
  }
}

class CrowdIconButton extends CrowdElement {
  build() {
    const text = this.getAttribute("label") || this.getAttribute("icon") || this.textContent.trim() || this.localName;
    const button = h("button", { type: "button", class: "crowd-button crowd-button-normal", "aria-label": text, text });
    button.disabled = this.hasAttribute("disabled");
    this.replaceChildren(button);
  }
}

define("crowd-instructions", CrowdInstructions);
define("crowd-alert", CrowdAlert);
define("crowd-card", CrowdCard);
define("crowd-tabs", CrowdTabs);
define("crowd-tab", CrowdTab);
define("crowd-modal", CrowdModal);
define("crowd-toast", CrowdToast);
define("crowd-badge", CrowdBadge);
define("crowd-fab", class extends CrowdIconButton {});
define("crowd-icon-button", CrowdIconButton);
