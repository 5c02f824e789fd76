// Layout elements without output: crowd-instructions, crowd-alert, crowd-card.
import { CrowdElement, define, h, moveChildren, takeRegions } from "./base.js";

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
    const dialog = h("div", { class: "crowd-instructions-dialog", role: "dialog", hidden: true }, [
      h("div", { class: "crowd-tabs", role: "tablist" }, [
        ...tabs,
        h("button", { type: "button", class: "crowd-close", text: "Close", onclick: () => (dialog.hidden = true) }),
      ]),
      body,
    ]);
    const type = this.getAttribute("link-type") === "button" ? "crowd-button crowd-button-normal" : "crowd-link";
    const opener = h("button", {
      type: "button",
      class: type,
      "data-testid": "crowd-instructions-open",
      text: this.getAttribute("link-text") || "Click for instructions",
      onclick: () => {
        dialog.hidden = !dialog.hidden;
        if (!dialog.hidden && pages.length) show(0);
      },
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

define("crowd-instructions", CrowdInstructions);
define("crowd-alert", CrowdAlert);
define("crowd-card", CrowdCard);
