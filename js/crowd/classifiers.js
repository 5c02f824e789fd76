// crowd-classifier, crowd-classifier-multi-select, crowd-image-classifier and
// crowd-image-classifier-multi-select. Outputs as GT documents them:
//   single  {"<name>": {"label": "<category>"}}  (+ "workerComment" on the image classifier)
//   multi   {"<name>": {"labels": ["<category>", ...]}}
// Keys: 1-9, 0 pick (single) or toggle (multi) a category.
import {
  classKey,
  CrowdElement,
  define,
  digitIndex,
  h,
  instructionsPanel,
  jsonAttr,
  moveChildren,
  takeRegions,
} from "./base.js";

const REGIONS = ["classification-target", "short-instructions", "full-instructions", "worker-comment"];

class Classifier extends CrowdElement {
  get multi() {
    return this.localName.endsWith("-multi-select");
  }

  get image() {
    return this.localName.startsWith("crowd-image-");
  }

  build() {
    const regions = takeRegions(this, REGIONS);
    const categories = jsonAttr(this, "categories", []).map(String);
    const exclusion = this.multi ? jsonAttr(this, "exclusion-category", null) : null;
    this.exclusion = exclusion && typeof exclusion === "object" ? String(exclusion.text ?? "") : exclusion ? String(exclusion) : "";
    this.categories = this.exclusion ? [...categories, this.exclusion] : categories;
    this.chosen = new Set();
    const header = this.getAttribute("header");
    let target = null;
    if (this.image) {
      target = h("img", {
        class: "crowd-target-image",
        src: this.getAttribute("src") || "",
        alt: header || "image to classify",
        draggable: "false",
      });
    } else if (regions["classification-target"]) {
      target = moveChildren(regions["classification-target"], h("div", { class: "crowd-target" }));
    }
    this.buttons = this.categories.map((category, index) =>
      h(
        "button",
        {
          type: "button",
          class: "crowd-category",
          "data-testid": `crowd-category-${index}`,
          "aria-pressed": "false",
          title: classKey(index) ? `${category} (key ${classKey(index)})` : category,
          onclick: () => this.pick(index),
        },
        [h("kbd", { text: classKey(index) || "·" }), h("span", { text: category })],
      ),
    );
    const comment = regions["worker-comment"];
    let commentPart = null;
    if (comment) {
      this.comment = h("textarea", {
        class: "crowd-worker-comment",
        rows: "2",
        placeholder: comment.getAttribute("placeholder") || "",
        "aria-label": comment.getAttribute("header") || "Add a comment",
      });
      const help = moveChildren(comment, h("div", { class: "crowd-comment-help" }));
      const box = h("div", { class: "crowd-comment-box", hidden: true }, [
        h("div", { class: "crowd-comment-header", text: comment.getAttribute("header") || "Add a comment" }),
        help,
        this.comment,
      ]);
      const link = h("button", {
        type: "button",
        class: "crowd-link",
        text: comment.getAttribute("link-text") || "Add a comment",
        onclick: () => {
          box.hidden = !box.hidden;
          if (!box.hidden) this.comment.focus();
        },
      });
      commentPart = h("div", { class: "crowd-comment" }, [link, box]);
    }
    this.append(
      h("div", { class: "crowd-task" }, [
        h("div", { class: "crowd-task-main" }, [
          header ? h("div", { class: "crowd-header", text: header }) : null,
          target,
          h("div", { class: "crowd-categories", role: this.multi ? "group" : "radiogroup" }, this.buttons),
          commentPart,
        ]),
        instructionsPanel(regions),
      ]),
    );
  }

  pick(index) {
    const category = this.categories[index];
    if (category === undefined) return;
    if (!this.multi) this.chosen = new Set([category]);
    else if (this.chosen.has(category)) this.chosen.delete(category);
    else if (category === this.exclusion) this.chosen = new Set([category]); // "none of the above" stands alone
    else {
      this.chosen.delete(this.exclusion);
      this.chosen.add(category);
    }
    this.buttons.forEach((b, i) => b.setAttribute("aria-pressed", this.chosen.has(this.categories[i]) ? "true" : "false"));
  }

  crowdKey(event) {
    const index = digitIndex(event);
    if (index < 0 || index >= this.categories.length) return false;
    this.pick(index);
    return true;
  }

  crowdEntry() {
    if (this.multi) return [this.crowdName, { labels: this.categories.filter((c) => this.chosen.has(c)) }];
    if (!this.chosen.size) return null;
    const value = { label: [...this.chosen][0] };
    const comment = this.comment?.value.trim();
    if (comment) value.workerComment = comment;
    return [this.crowdName, value];
  }

  crowdCheck() {
    if (this.chosen.size) return "";
    const what = this.getAttribute("header") || this.crowdName;
    return this.multi ? `Choose at least one category for “${what}”.` : `Choose a category for “${what}”.`;
  }

  crowdRestore(value) {
    const wanted = this.multi ? value?.labels ?? [] : [value?.label];
    this.chosen = new Set();
    for (const name of wanted) {
      const index = this.categories.indexOf(name);
      if (index >= 0) this.pick(index);
    }
    if (this.comment && typeof value?.workerComment === "string") this.comment.value = value.workerComment;
  }
}

define("crowd-classifier", class extends Classifier {});
define("crowd-classifier-multi-select", class extends Classifier {});
define("crowd-image-classifier", class extends Classifier {});
define("crowd-image-classifier-multi-select", class extends Classifier {});
