// crowd-text-ranking and crowd-question-answer-generation, GT's generative-AI elements
// (gen-ai/text-ranking and gen-ai/question-and-answer-pair samples). Outputs:
//   text ranking  {"ordinalRankingDimensions": [{"name", "responseRankings": [rank of response 1, ...]}]}
//     ranks 1-based, ties only in a dimension with "allowTie": true. This is what GT's worker
//     response carries as answerContent (SageMaker-GroundTruth-Generative-AI-Text-Ranking.ipynb in
//     aws-samples/amazon-sagemaker-groundtruth-immersionday reads
//     answer["answerContent"]["ordinalRankingDimensions"][i]["responseRankings"]); a `name`d
//     element nests it under its name, as every other element.
//   QA generation {"<name>": {"questionAnswerPairs": [{"question", "answer", "questionTag"}]}}
//     GT publishes no output example for this element: the list keeps the element's own words
//     (question, answer, question-tags). Its limits are checked: min/max-questions and
//     question/answer-min/max-words.
import { CrowdElement, define, h, instructionsPanel, jsonAttr, takeRegions } from "./base.js";
import { qaProblem, rankingProblem } from "./genai.js";

let tagLists = 0; // ids of the tag suggestion lists

function textOf(value) {
  if (typeof value === "string") return value;
  if (value && typeof value === "object" && typeof value.text === "string") return value.text;
  return JSON.stringify(value);
}

class CrowdTextRanking extends CrowdElement {
  build() {
    const regions = takeRegions(this, ["short-instructions", "full-instructions"]);
    this.responses = jsonAttr(this, "responses", []);
    if (!Array.isArray(this.responses)) this.responses = [];
    this.dimensions = jsonAttr(this, "ordinal-ranking-dimensions", [])
      .filter((d) => d && typeof d === "object")
      .map((d) => ({ name: String(d.name ?? ""), allowTie: d.allowTie === true }));
    const n = this.responses.length;
    this.selects = this.dimensions.map((dimension) =>
      this.responses.map((_, i) => {
        const select = h("select", { class: "crowd-rank", "aria-label": `${dimension.name}: rank of response ${i + 1}` }, [
          h("option", { value: "", text: "–" }),
          ...Array.from({ length: n }, (_, r) => h("option", { value: String(r + 1), text: String(r + 1) })),
        ]);
        return select;
      }),
    );
    const table = h("table", { class: "crowd-ranking" }, [
      h("thead", {}, [
        h("tr", {}, [
          h("th", { text: "Response" }),
          ...this.dimensions.map((d) => h("th", { text: d.allowTie ? `${d.name} (ties allowed)` : d.name })),
        ]),
      ]),
      h(
        "tbody",
        {},
        this.responses.map((response, i) =>
          h("tr", {}, [
            h("td", { class: "crowd-response" }, [h("strong", { text: `${i + 1}. ` }), h("span", { text: textOf(response) })]),
            ...this.selects.map((column) => h("td", {}, [column[i]])),
          ]),
        ),
      ),
    ]);
    const prompt = this.getAttribute("text");
    const instructions = this.getAttribute("instructions");
    this.append(
      h("div", { class: "crowd-task" }, [
        h("div", { class: "crowd-task-main" }, [
          instructions ? h("div", { class: "crowd-header", text: instructions }) : null,
          prompt ? h("div", { class: "crowd-prompt", "data-testid": "crowd-prompt", text: prompt }) : null,
          table,
        ]),
        instructionsPanel(regions),
      ]),
    );
  }

  rankings() {
    return this.selects.map((column) => column.map((select) => (select.value === "" ? 0 : Number(select.value))));
  }

  crowdCheck() {
    const n = this.responses.length;
    const ranks = this.rankings();
    for (const [i, d] of this.dimensions.entries()) {
      const problem = rankingProblem(d.name, ranks[i], n, d.allowTie);
      if (problem) return problem;
    }
    return "";
  }

  crowdEntry() {
    const ranks = this.rankings();
    const dims = this.dimensions.map((d, i) => ({ name: d.name, responseRankings: ranks[i] }));
    // Unnamed, as in GT's samples, the dimensions are the answer itself.
    const name = this.getAttribute("name");
    return name ? [name, { ordinalRankingDimensions: dims }] : ["ordinalRankingDimensions", dims];
  }

  crowdRestore(value) {
    const dims = Array.isArray(value) ? value : value?.ordinalRankingDimensions;
    if (!Array.isArray(dims)) return;
    this.dimensions.forEach((d, i) => {
      const saved = dims.find((x) => x?.name === d.name)?.responseRankings ?? [];
      this.selects[i].forEach((select, j) => (select.value = saved[j] ? String(saved[j]) : ""));
    });
  }

  get crowdName() {
    return this.getAttribute("name") || "ordinalRankingDimensions";
  }
}

class CrowdQuestionAnswerGeneration extends CrowdElement {
  build() {
    const regions = takeRegions(this, ["short-instructions", "full-instructions"]);
    const number = (attr, fallback) => {
      const v = Number(this.getAttribute(attr));
      return this.hasAttribute(attr) && Number.isFinite(v) ? v : fallback;
    };
    this.limits = {
      minQuestions: number("min-questions", 1),
      maxQuestions: number("max-questions", Infinity),
      questionMinWords: number("question-min-words", 1),
      questionMaxWords: number("question-max-words", Infinity),
      answerMinWords: number("answer-min-words", 1),
      answerMaxWords: number("answer-max-words", Infinity),
    };
    this.tags = jsonAttr(this, "question-tags", []).map(String);
    this.customTags = ["true", ""].includes(this.getAttribute("allow-custom-question-tags"));
    this.list = h("ol", { class: "crowd-qa-list" });
    this.addButton = h("button", {
      type: "button",
      class: "crowd-button crowd-button-normal",
      "data-testid": "crowd-qa-add",
      text: "Add a question",
      onclick: () => this.addPair().question.focus(),
    });
    this.status = h("div", { class: "crowd-tool-hint" });
    const text = this.getAttribute("text");
    // AWS's Q&A notebook gives the worker's instructions as an attribute, as for text ranking.
    const instructions = this.getAttribute("instructions");
    this.append(
      h("div", { class: "crowd-task" }, [
        h("div", { class: "crowd-task-main" }, [
          instructions ? h("div", { class: "crowd-header", text: instructions }) : null,
          text ? h("div", { class: "crowd-prompt", "data-testid": "crowd-prompt", text }) : null,
          this.list,
          this.addButton,
          this.status,
        ]),
        instructionsPanel(regions),
      ]),
    );
    for (let i = 0; i < this.limits.minQuestions; i += 1) this.addPair();
  }

  addPair(pair = {}) {
    if (this.list.children.length >= this.limits.maxQuestions) return this.pairs().at(-1);
    const n = this.list.children.length + 1;
    const question = h("input", { type: "text", class: "crowd-field-control", "aria-label": `Question ${n}` });
    const answer = h("textarea", { rows: "2", class: "crowd-field-control", "aria-label": `Answer ${n}` });
    question.value = pair.question ?? "";
    answer.value = pair.answer ?? "";
    // The question's tag: one of question-tags, or any text when allow-custom-question-tags.
    let tag = null;
    let suggestions = null;
    if (this.tags.length || this.customTags) {
      if (this.customTags) {
        const listId = `crowd-qa-tags-${(tagLists += 1)}`;
        tag = h("input", { type: "text", class: "crowd-qa-tag", list: listId, "aria-label": `Question ${n} tag` });
        suggestions = h("datalist", { id: listId }, this.tags.map((t) => h("option", { value: t })));
      } else {
        tag = h("select", { class: "crowd-qa-tag", "aria-label": `Question ${n} tag` }, ["", ...this.tags].map((t) => h("option", { value: t, text: t || "–" })));
      }
      tag.value = pair.questionTag ?? "";
    }
    const remove = h("button", { type: "button", class: "crowd-close", "aria-label": `Remove question ${n}`, text: "×" });
    const row = h("li", { class: "crowd-qa-pair" }, [tag, suggestions, question, answer, remove]);
    row.fields = { tag, question, answer };
    remove.addEventListener("click", () => {
      row.remove();
      this.addButton.disabled = false;
    });
    this.list.append(row);
    this.addButton.disabled = this.list.children.length >= this.limits.maxQuestions;
    return row.fields;
  }

  pairs() {
    return [...this.list.children].map((row) => row.fields);
  }

  value() {
    return this.pairs().map(({ tag, question, answer }) => {
      const pair = { question: question.value.trim(), answer: answer.value.trim() };
      if (tag) pair.questionTag = tag.value;
      return pair;
    });
  }

  crowdCheck() {
    const problem = qaProblem(this.value(), this.limits);
    this.status.textContent = problem;
    return problem;
  }

  crowdEntry() {
    return [this.crowdName, { questionAnswerPairs: this.value() }];
  }

  crowdRestore(value) {
    if (!Array.isArray(value?.questionAnswerPairs)) return;
    this.list.replaceChildren();
    for (const pair of value.questionAnswerPairs) this.addPair(pair);
  }
}

define("crowd-text-ranking", CrowdTextRanking);
define("crowd-question-answer-generation", CrowdQuestionAnswerGeneration);
