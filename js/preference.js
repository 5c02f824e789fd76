// nblabel preference widget: a prompt and its responses, judged pairwise, ranked or rated.
//
// The prompt and the responses are one scrolling block (two responses side by side, more
// stacked), so long responses scroll together. Their Markdown is shown readably but built from
// text (lib/markdown.js): nothing from the data is parsed as HTML. The next item is laid out
// ahead in a spare block (TakingTurns, as the text classifier does), so answering swaps blocks.
// The answers being built and the keys are lib/preference.js; the session, channel, skip, undo
// and revisiting are lib/frame.js.
import { h, idleOnce, itemNotes, setNote, setPressed, setText, showNote, TakingTurns } from "./lib/dom.js";
import { Frame, itemActions } from "./lib/frame.js";
import { uid } from "./lib/ids.js";
import { renderMarkdown } from "./lib/markdown.js";
import { preferenceIntent, RankingDraft, RatingDraft } from "./lib/preference.js";

const LETTERS = "ABCDEFGHIJ";

/** The text of an answer or a proposal, for the suggestion line. */
function describe(kind, value) {
  if (!value) return "";
  if (kind === "pairwise") return value.choice === "tie" ? "tie" : `${value.choice} is better`;
  if (kind === "ranking") {
    return value.ordinalRankingDimensions.map((d) => `${d.name}: ${d.responseRankings.join(", ")}`).join(" · ");
  }
  return value.ratingDimensions.map((d) => `${d.name}: ${d.responseRatings.join(", ")}`).join(" · ");
}

function render({ model, el }) {
  const kind = model.get("kind");
  const dimensions = model.get("dimensions");
  const scale = model.get("scale");
  const choices = model.get("labels"); // pairwise: A, B (, tie)
  const freeText = model.get("free_text"); // "reason", "comment" or ""
  const offersCorrection = model.get("correction"); // a corrected response: its own box, key e
  const frame = new Frame(model, { pace: true });
  const { session } = frame;
  let shownKey;
  let draft = null; // RankingDraft / RatingDraft of the item on screen
  let chosen = null; // pairwise choice on screen, before Enter (with a reason box)
  let picked = false; // a pairwise choice was keyed on the item on screen
  const prepareSoon = idleOnce(prepareNext);
  let scrolled = false; // the block on screen is scrolled (its scroll listener says so, off the key path)

  const blocks = new TakingTurns(() => h("div", { class: "nbl-pref-item", hidden: true }), "nbl-pref-item");
  const { problem, message } = itemNotes();
  const criteria = h("div", { class: "nbl-criteria", "data-testid": "nbl-criteria", text: model.get("criteria"), hidden: !model.get("criteria") });
  const suggestion = h("div", { class: "nbl-proposal", "data-testid": "nbl-proposal", hidden: true });
  const dimLine = h("div", { class: "nbl-dimensions", "data-testid": "nbl-dimensions", hidden: kind === "pairwise" });
  const text = h("textarea", {
    class: "nbl-comment",
    "data-testid": "nbl-comment",
    rows: "2",
    maxlength: "10000",
    placeholder: freeText === "reason" ? "Optional reason (r to type, Esc to leave)" : "Optional comment (c to type, Esc to leave)",
    "aria-label": freeText || "comment",
    hidden: !freeText,
  });
  // The corrected response: typed as plain text (a textarea's value, never parsed as HTML).
  const correction = h("textarea", {
    class: "nbl-comment nbl-correction",
    "data-testid": "nbl-correction",
    rows: "4",
    maxlength: "100000",
    placeholder: "Optional corrected response (e to edit, Esc to leave)",
    "aria-label": "corrected response",
    hidden: !offersCorrection,
  });
  let correctionBase = ""; // the response text the box was opened on: unchanged means no correction
  const choiceButtons = choices.map((choice) =>
    h("button", {
      class: "nbl-class",
      type: "button",
      "data-testid": `nbl-choice-${choice}`,
      title: `${choice} (key ${choice[0].toLowerCase()})`,
      onclick: () => frame.act({ type: "choose", choice }),
      text: choice === "tie" ? "Tie (t)" : `${choice} is better (${choice.toLowerCase()})`,
    }),
  );

  /** Build an item's prompt and responses into `block` (text-derived DOM only). */
  function fill(block, item) {
    const prompt = h("div", { class: "nbl-prompt", "data-testid": "nbl-prompt" });
    renderMarkdown(prompt, item.text ?? "");
    const responses = (item.responses ?? []).map((response, i) => {
      const body = h("div", { class: "nbl-response-body" });
      renderMarkdown(body, response);
      return h("div", { class: "nbl-response", "data-testid": `nbl-response-${i}`, dataset: { index: String(i) } }, [
        h("div", { class: "nbl-response-head" }, [h("span", { class: "nbl-response-name", text: `Response ${LETTERS[i] ?? i + 1}` }), h("span", { class: "nbl-mark" })]),
        body,
      ]);
    });
    block.replaceChildren(prompt, h("div", { class: "nbl-responses", dataset: { count: String(responses.length) } }, responses));
    block.dataset.key = item.key;
  }

  /** The block shown for `item` (null: none): the prepared spare when it holds it. A new item
   * starts at its top; the item on screen keeps its scroll while keys rank or rate it. */
  function showBlock(item) {
    if (item && blocks.spareKey === item.key) {
      blocks.swap();
      scrolled = false; // the prepared block starts at its top
    } else if (item && blocks.shown.dataset.key !== item.key) {
      fill(blocks.shown, item);
      // Resetting scrollTop forces a layout inside the key handler: only when it was scrolled.
      if (scrolled) {
        blocks.shown.scrollTop = 0;
        scrolled = false;
      }
    }
    blocks.shown.hidden = !item;
  }

  function prepareNext() {
    const key = session.upcoming;
    const item = key === null ? null : session.items.get(key);
    if (!item || item.error || blocks.spareKey === key) return;
    fill(blocks.spare, item);
    blocks.prepared(key);
  }

  /** A new item on screen: a fresh draft from its earlier answer, its free text. */
  function open(item, value) {
    chosen = kind === "pairwise" ? value?.choice ?? null : null;
    picked = false;
    const k = item?.responses?.length ?? 0;
    if (kind === "ranking") draft = new RankingDraft(dimensions, k, value);
    else if (kind === "rating") draft = new RatingDraft(dimensions.map((d) => d.name), k, scale, value);
    text.value = value?.reason ?? value?.comment ?? "";
    correction.value = value?.correction ?? "";
    correctionBase = "";
  }

  /** Focus the correction box, opened on the response being corrected when it is empty: the
   * chosen one (pairwise), the only one (rating). */
  function editCorrection(item) {
    if (!correction.value.trim()) {
      const responses = item.responses ?? [];
      const index = kind === "pairwise" ? LETTERS.indexOf(chosen ?? "") : responses.length === 1 ? 0 : -1;
      correctionBase = index >= 0 ? responses[index] ?? "" : "";
      correction.value = correctionBase;
    }
    correction.focus();
  }

  /** Each response's mark: its rank or score on the current dimension, or the pairwise choice. */
  function showMarks() {
    blocks.shown.querySelectorAll(".nbl-response").forEach((el) => {
      const i = Number(el.dataset.index);
      let mark = "";
      let current = false;
      if (kind === "pairwise") mark = chosen === "tie" ? "tie" : chosen === LETTERS[i] ? "better" : "";
      else if (kind === "ranking") {
        const rank = draft.rankOf(draft.dim, i);
        mark = rank === null ? "" : `rank ${rank}`;
      } else {
        const score = draft.scores[draft.dim][i];
        mark = score === null ? "" : `${score} / ${scale[1]}`;
        current = draft.response === i;
      }
      setText(el.querySelector(".nbl-mark"), mark);
      el.classList.toggle("nbl-marked", mark !== "");
      el.classList.toggle("nbl-current", current);
    });
  }

  function showDimensions() {
    if (kind === "pairwise") return;
    const parts = dimensions.map((d, i) => {
      const full = kind === "ranking" ? draft.full(i) : draft.scores[i].every((s) => s !== null);
      return `${i === draft.dim ? "▸ " : ""}${d.name}${full ? " ✓" : ""}`;
    });
    const tie = kind === "ranking" && draft.tieNext ? " · next shares the last rank" : "";
    setText(dimLine, parts.join("   ") + tie);
    frame.root.dataset.dimension = dimensions[draft.dim].name;
  }

  function show() {
    const key = session.current;
    const item = session.currentItem;
    const value = key === null ? null : session.values.get(key) ?? null;
    if (key !== shownKey) {
      shownKey = key;
      open(item, value);
    }
    const usable = item && !item.error;
    showBlock(usable ? item : null);
    setNote(problem, item?.error ? `Cannot show this item: ${item.error}. Press s to skip it.` : null);
    setNote(message, item ? null : session.exhausted ? frame.doneText() : "Loading the next items…");
    const proposal = usable && value === null ? item.proposal : null;
    setNote(suggestion, proposal ? `Judge suggests: ${describe(kind, proposal.value)} (${Math.round(proposal.confidence * 100)}%) · Enter accepts` : null);
    choiceButtons.forEach((b, i) => {
      setPressed(b, chosen === choices[i]);
      b.disabled = !usable;
    });
    if (usable) {
      showMarks();
      showDimensions();
    }
    frame.showState(item?.error ? "error" : usable ? "item" : session.exhausted ? "done" : "loading", item ? item.key : "");
    frame.showHeader(item);
    prepareSoon();
  }

  function submit(value) {
    frame.record(session.answer(value, uid()));
  }

  /** The answer with the free text typed: the reason or comment, and a correction that says
   * something other than the response it was opened on. */
  function withText(value) {
    const typed = text.value.trim();
    const out = typed && freeText ? { ...value, [freeText]: typed } : { ...value };
    const corrected = correction.value.trim();
    if (offersCorrection && corrected && corrected !== correctionBase.trim()) out.correction = corrected;
    return out;
  }

  /** Whether anything was typed in a text box of the item on screen. */
  function typed() {
    return Boolean(text.value.trim() || (correction.value.trim() && correction.value.trim() !== correctionBase.trim()));
  }

  /** Enter: the answer built, else accept the judge's proposal, else keep a revisited answer. */
  function onSubmit(item) {
    const untouched = kind === "pairwise" ? !picked : !draft.touched;
    if (untouched && session.revisiting && !typed()) {
      if (session.forward()) show();
      return;
    }
    if (kind === "pairwise" && picked) return submit(withText({ choice: chosen }));
    if (kind !== "pairwise" && draft.touched) {
      if (!draft.complete) return frame.flash(`Give every response a ${kind === "ranking" ? "rank" : "score"} on every dimension first.`);
      return submit(kind === "ranking" ? draft.value() : withText(draft.value()));
    }
    if (item.proposal) submit(item.proposal.value);
  }

  function onIntent(intent) {
    const item = session.currentItem;
    const usable = item && !item.error;
    const own = ["choose", "digit", "tie", "next-dimension", "prev-dimension", "submit", "comment", "correct"];
    if (intent.type === "undo" && usable && draft?.undo()) {
      show();
      return true; // a placement on this item is taken back before any stored answer
    }
    if (!own.includes(intent.type)) return false;
    if (!usable) return true;
    problem.hidden = true;
    switch (intent.type) {
      case "choose":
        if (!choices.includes(intent.choice)) return true;
        chosen = intent.choice;
        picked = true;
        if (freeText || offersCorrection) show(); // with a text box, Enter records the choice
        else submit({ choice: chosen });
        return true;
      case "digit":
        if (kind === "ranking") draft.place(intent.digit - 1);
        else draft.rate(intent.digit);
        show();
        return true;
      case "tie":
        if (draft.tie()) show();
        else frame.flash(`${draft.dimension.name} takes no tie here.`);
        return true;
      case "next-dimension":
      case "prev-dimension":
        draft.move(intent.type === "next-dimension" ? 1 : -1);
        show();
        return true;
      case "comment":
        if (freeText) text.focus();
        return true;
      case "correct":
        if (offersCorrection) editCorrection(item);
        return true;
      default:
        onSubmit(item);
        return true;
    }
  }

  function keys(event) {
    if (event.target === text || event.target === correction) {
      // Typing: every key is the box's; Escape hands the keys back, Enter (no Shift) submits.
      event.stopPropagation();
      if (event.key === "Escape") {
        frame.root.focus({ preventScroll: true });
        return true;
      }
      if (event.key === "Enter" && !event.shiftKey) {
        frame.root.focus({ preventScroll: true });
        return { type: "submit" };
      }
      return null;
    }
    if (event.target !== frame.root && (event.key === "Enter" || event.key === " ")) return null;
    return preferenceIntent(event, kind);
  }

  for (const block of [blocks.shown, blocks.spare]) {
    frame.listen(block, "scroll", () => (scrolled = block === blocks.shown && block.scrollTop > 0), { passive: true });
  }
  const help = {
    pairwise: `Keys: a / b better${choices.includes("tie") ? " · t tie" : ""}${freeText ? " · r reason" : ""}${offersCorrection ? " · e correct" : ""}${freeText || offersCorrection ? " · Enter submit" : ""} · s skip · z undo · ← → revisit · Esc leave`,
    ranking: "Keys: 1–9 give that response the next rank · = tie with the last · Tab / Shift+Tab dimension · Enter submit · z undo · s skip · Esc leave",
    rating: `Keys: ${scale[0]}–${scale[1]} score the marked response · Tab / Shift+Tab dimension${freeText ? " · c comment" : ""}${offersCorrection ? " · e correct" : ""} · Enter submit · z undo · s skip · Esc leave`,
  }[kind];
  frame.mount(el, {
    className: "nbl-preference",
    dataset: { kind },
    body: [
      criteria,
      dimLine,
      h("div", { class: "nbl-stage" }, [blocks.shown, blocks.spare, problem, message]),
      suggestion,
      text,
      correction,
      kind === "pairwise" ? h("div", { class: "nbl-classes" }, choiceButtons) : null,
    ],
    actions: [...itemActions("item"), kind === "pairwise" && !freeText && !offersCorrection ? null : ["submit", "Submit ⏎", "Submit the answer (Enter)"]],
    help,
    keys,
    onIntent,
    show,
    flash: (note) => showNote(problem, note),
  });

  return () => frame.destroy();
}

export default { render };
