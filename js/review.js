// nblabel review widget: a grid of auto-labels, least confident first, to accept, reject or
// relabel; or, in its disagreements mode, the items people disagree on, most disputed first,
// each with every annotator's answer, for a person's final decision.
//
// The kernel sends one page of proposals at a time (thumbnails as binary buffers), the counts
// per class, and the sorted confidences the slider counts from, so moving the slider shows how
// many items it would accept without a round trip. Every action is a custom message with a
// sequence number; the kernel stores it, acknowledges it, and re-sends the page
// (lib/review_requests.js). Tiles acted on leave the grid at once and stay hidden until a page
// that already reflects the action arrives. Decided tiles stay in the grid instead (marked as
// saving until the new page arrives), since the person may look again or change their mind; `z`
// takes the last decision back.
//
// The grid shares the item widgets' shell (lib/frame.js: root, header, keys → intents, buttons)
// and their link to the kernel (lib/channel.js `Link`). It has no LabelSession nor outbox: it
// shows pages of many items, not one item after another, and the kernel re-sends the page after
// every action, so nothing is kept to re-send; a selection (lib/grid.js) takes the cursor's place.
import { classButton, h, setPressed, setText } from "./lib/dom.js";
import { Shell } from "./lib/frame.js";
import { countAtLeast, GridSelection, items as nItems, reviewHelp, reviewIntent, sliderThreshold } from "./lib/grid.js";
import { uid } from "./lib/ids.js";
import { ReviewLink } from "./lib/review_requests.js";
import { makeTile, readConfidences } from "./lib/review_tiles.js";

const EMPTY = new Float64Array(0);

/**
 * The grid's elements but the shell's: the toolbar, the relabel panel, the slider, the grid.
 * `onFilter(filter)`: another class filter was chosen; `onSlider()`: the slider moved. Buttons
 * act through `shell` (their intents are the grid's).
 */
function controls(shell, { labels, decide, multi, relabel }, { onFilter, onSlider }) {
  const button = (name, label, hint, intent) => shell.button(`review-${name}`, label, hint, intent);
  const filterSelect = h(
    "select",
    {
      class: "nbl-review-filter",
      "data-testid": "nbl-review-filter",
      "aria-label": decide ? "Show the items where someone gave one class" : "Show the proposals of one class",
      onchange: () => {
        onFilter(filterSelect.value);
        shell.root.focus({ preventScroll: true });
      },
    },
    [h("option", { value: "", text: "All classes" }), ...labels.map((l) => h("option", { value: l, text: l }))],
  );
  const acceptButton = button("accept", "✓ Accept", "Accept the selected proposals (a or Enter)", { type: "accept" });
  const rejectButton = button("reject", "✗ Reject", "Reject the selected proposals: the items go back to the people's queue (r or Delete)", { type: "reject" });
  const relabelButton = decide
    ? button("decide", "Decide…", "Decide the classes of the selected items (1–9, 0)", { type: "panel" })
    : button("relabel", "Relabel…", "Give the selected items other classes (1–9, 0)", { type: "panel" });
  const undoButton = button("undo", "↶ Undo", "Take back the last decision (z)", { type: "undo" });
  const selectedText = h("span", { class: "nbl-review-selected", "data-testid": "nbl-review-selected" });
  const prevButton = button("prev", "‹ Prev", "Previous page (PageUp)", { type: "page", delta: -1 });
  const nextButton = button("next", "Next ›", "Next page (PageDown)", { type: "page", delta: 1 });
  const pagesText = h("span", { class: "nbl-review-pages", "data-testid": "nbl-review-pages" });
  const toolbar = h("div", { class: "nbl-review-toolbar" }, [
    filterSelect,
    ...(decide ? [relabelButton, undoButton] : [acceptButton, rejectButton, ...(relabel ? [relabelButton] : [])]),
    selectedText,
    h("span", { class: "nbl-review-spacer" }),
    prevButton,
    pagesText,
    nextButton,
  ]);
  const panelTitle = h("span", { class: "nbl-review-panel-title", "data-testid": "nbl-review-panel-title" });
  const classButtons = labels.map((label, index) =>
    classButton(label, index, { testid: `nbl-review-class-${index}`, onclick: shell.clicked({ type: "class", index }) }),
  );
  const panel = h("div", { class: "nbl-review-panel", "data-testid": "nbl-review-panel", hidden: true }, [
    panelTitle,
    h("div", { class: "nbl-classes" }, classButtons),
    h("div", { class: "nbl-actions" }, [
      multi ? button("save", "Save ⏎", "Save these classes (Enter)", { type: "save" }) : null,
      button("cancel", "Cancel", `Close without ${decide ? "deciding" : "relabeling"} (Escape)`, { type: "cancel" }),
    ]),
  ]);
  const slider = h("input", {
    type: "range",
    min: "0",
    max: "1",
    step: "0.01",
    value: "0.95",
    class: "nbl-review-slider",
    "data-testid": "nbl-review-slider",
    "aria-label": "Confidence threshold",
    oninput: () => onSlider(),
  });
  const threshold = h("output", { class: "nbl-review-threshold", "data-testid": "nbl-review-threshold" });
  const count = h("span", { class: "nbl-review-count", "data-testid": "nbl-review-count" });
  const acceptAbove = button("accept-above", "", "Accept every proposal counted here, on every page", { type: "accept-above" });
  const sliderRow = h("div", { class: "nbl-review-slider-row" }, [h("span", { text: "Confidence ≥" }), slider, threshold, count, acceptAbove]);
  const notice = h("div", { class: "nbl-review-notice", "data-testid": "nbl-review-notice", role: "status" });
  const grid = h("div", {
    class: "nbl-review-grid",
    "data-testid": "nbl-review-grid",
    role: "listbox",
    "aria-multiselectable": "true",
    "aria-label": decide ? "Items people disagree on, most disputed first" : "Proposals, least confident first",
  });
  const empty = h("div", { class: "nbl-message nbl-review-empty", "data-testid": "nbl-review-empty", hidden: true });
  const body = [toolbar, panel, decide ? null : sliderRow, notice, grid, empty];
  return { filterSelect, acceptButton, rejectButton, relabelButton, selectedText, prevButton, nextButton, pagesText, panelTitle, classButtons, panel, slider, threshold, count, acceptAbove, notice, grid, empty, body };
}

/** What the empty grid says: loading, nothing of the class `filter`, or nothing at all. */
function emptyText(decide, loading, filter) {
  if (decide) {
    if (loading) return "Loading disagreements…";
    if (filter) return `No disagreements where someone answered “${filter}”.`;
    return "No disagreements: the answers agree on every item with two or more answers.";
  }
  if (loading) return "Loading proposals…";
  if (filter) return `No proposals of class “${filter}” to review.`;
  return "No auto-labels to review: every proposal has been reviewed, or none was made yet.";
}

/** The counts per class in the filter's options, and the summary in the header. */
function showClassCounts(ui, summary, stats, { labels, decide, filter }) {
  const { counts, progress } = stats;
  const options = ui.filterSelect.options;
  options[0].textContent = `All classes (${decide ? stats.total : stats.auto})`;
  labels.forEach((label, i) => {
    options[i + 1].textContent = `${label} (${counts[label] ?? 0})`;
  });
  ui.filterSelect.value = filter;
  if (decide) {
    setText(summary, `${nItems(stats.total)} people disagree on · ${stats.decided} decided`);
    return;
  }
  setText(
    summary,
    `${nItems(stats.auto)} to review · ${progress.labeled - progress.auto} labeled by people · ` +
      `${progress.remaining} left for people`,
  );
}

/** The slider's threshold `t` and how many proposals of class `filter` ("": all) reach it. */
function countAbove(ui, confidences, filter) {
  const t = sliderThreshold(ui.slider.value);
  const sorted = filter ? (confidences.byClass[filter] ?? EMPTY) : confidences.all;
  return { t, n: countAtLeast(sorted, t) };
}

/** The slider's live count and its "accept all these" button. */
function showSliderCount(ui, stats, { t, n }, filter) {
  const of = filter ? `${stats.counts[filter] ?? 0} “${filter}”` : String(stats.auto);
  setText(ui.threshold, t.toFixed(2));
  setText(ui.count, `${n} of ${of} proposals have confidence ≥ ${t.toFixed(2)}`);
  setText(ui.acceptAbove, `Accept ${nItems(n)} ≥ ${t.toFixed(2)}`);
  ui.acceptAbove.disabled = n === 0;
}


/**
 * The relabel panel (decide, in the disagreements mode): the classes to give the selected tiles.
 * Single-label, a class key gives its class at once; multi-label, keys toggle classes and Enter
 * saves. `setClasses(keys, value)` sends the change.
 */
class RelabelPanel {
  constructor(shell, ui, { labels, multi, decide }, setClasses) {
    Object.assign(this, { shell, ui, labels, multi, decide, setClasses });
    this.editing = null; // {keys, chosen: Set of class names} while open
  }

  /** Open for the tiles selected, starting from the class of the tile under the cursor. */
  open(selection, page) {
    const keys = selection.selectedKeys();
    if (!keys.length) return;
    const current = page.find((item) => item.key === selection.cursorKey)?.value;
    this.editing = { keys, chosen: new Set(Array.isArray(current) ? current : [current]) };
    this.paint();
  }

  close() {
    this.editing = null;
    this.paint();
  }

  /** A class key or button. */
  choose(index, selection, page) {
    const label = this.labels[index];
    if (!this.multi) {
      this.setClasses(this.editing ? this.editing.keys : selection.selectedKeys(), label);
      this.close();
      return;
    }
    if (!this.editing) this.open(selection, page);
    if (!this.editing) return;
    const { chosen } = this.editing;
    if (chosen.has(label)) chosen.delete(label);
    else chosen.add(label);
    this.paint();
  }

  /** Enter (multi-label): give the classes chosen. */
  save() {
    if (!this.editing) return;
    const { keys, chosen } = this.editing;
    this.setClasses(keys, this.labels.filter((l) => chosen.has(l)));
    this.close();
  }

  paint() {
    const { ui, editing, labels } = this;
    ui.panel.hidden = !editing;
    this.shell.root.dataset.editing = editing ? "true" : "false";
    if (!editing) return;
    const what = nItems(editing.keys.length);
    setText(ui.panelTitle, this.multi ? `Classes for ${what} (keys toggle, Enter saves, Esc closes):` : `${this.decide ? "Decide" : "Relabel"} ${what} as:`);
    ui.classButtons.forEach((b, i) => {
      const on = editing.chosen.has(labels[i]);
      setPressed(b, on);
    });
  }
}

function render({ model, el }) {
  const labels = model.get("labels");
  const multi = model.get("multi_label");
  const pageSize = model.get("page_size");
  const decide = model.get("mode") === "disagreements"; // decide disputed items, not auto-labels
  const relabel = decide || model.get("relabel"); // false on box jobs: no class key makes boxes
  const link = new ReviewLink(model, uid());
  const { requests } = link;
  let total = 0; // proposals matching the filter on screen
  let page = []; // the proposals of the page on screen
  let tiles = new Map(); // key -> {uid, el, url}
  let stats = { version: "", auto: 0, total: 0, decided: 0, counts: {}, progress: null };
  let confidences = { version: "", all: EMPTY, byClass: {} };
  const selection = new GridSelection();

  const summary = h("span", { class: "nbl-progress", "data-testid": "nbl-review-summary" });
  const status = h("span", { class: "nbl-status", "data-testid": "nbl-review-status", role: "status" });
  const shell = new Shell(model, [summary, status]);
  const ui = controls(shell, { labels, decide, multi, relabel }, {
    onFilter: (filter) => link.page(0, filter),
    onSlider: () => showSlider(),
  });

  const panel = new RelabelPanel(shell, ui, { labels, multi, decide }, (keys, value) => setClasses(keys, value));

  // -- talking to the kernel ------------------------------------------------------------------
  function sendAction(message, keys) {
    link.action(message, keys);
    if (keys.length) drawGrid(null, { reset: false });
    showStatus();
  }

  function answered(message) {
    showNotice(message.type === "ack" ? message.notice : `Not saved: ${message.reason}`, message.type === "error");
    showStatus();
  }

  function showPage(message, buffers, reset) {
    page = message.items;
    total = message.total;
    stats = message.stats;
    if (message.confidences) {
      confidences = readConfidences(stats.version, message.confidences, buffers);
      link.have = confidences.version;
    }
    shell.root.dataset.state = "ready";
    drawGrid(buffers, { reset });
    showCounts();
    showSlider();
  }

  // -- drawing --------------------------------------------------------------------------------
  function visible() {
    if (decide) return page; // decided tiles stay, marked as saving (paintSelection)
    const gone = requests.hiddenKeys();
    return page.filter((item) => !gone.has(item.key));
  }

  /** Draw the visible tiles, reusing those already drawn (no image is decoded twice). */
  function drawGrid(buffers, { reset }) {
    const shown = visible();
    const next = new Map();
    const options = { decide, onClick: onTileClick, onAnswer: decideAnswer };
    for (const item of shown) {
      const old = tiles.get(item.key);
      next.set(item.key, old && old.uid === item.uid ? old : makeTile(item, buffers, options));
    }
    for (const [key, tile] of tiles) if (next.get(key) !== tile && tile.url) URL.revokeObjectURL(tile.url);
    tiles = next;
    ui.grid.replaceChildren(...[...next.values()].map((tile) => tile.el));
    selection.setKeys([...next.keys()], { reset });
    ui.grid.hidden = shown.length === 0;
    ui.empty.hidden = shown.length > 0;
    setText(ui.empty, emptyText(decide, shell.root?.dataset.state !== "ready", requests.shownFilter));
    const gone = page.length - shown.length;
    const from = requests.shownOffset;
    setText(ui.pagesText, shown.length ? `${from + 1}–${from + shown.length} of ${total - gone}` : "");
    ui.prevButton.disabled = from === 0;
    ui.nextButton.disabled = from + page.length >= total;
    paintSelection();
  }

  function paintSelection() {
    const cursorKey = selection.cursorKey;
    const saving = decide ? requests.hiddenKeys() : null;
    for (const [key, tile] of tiles) {
      if (saving) tile.el.classList.toggle("nbl-saving", saving.has(key));
      const chosen = selection.selected.has(key);
      tile.el.classList.toggle("nbl-selected", chosen);
      tile.el.setAttribute("aria-selected", chosen ? "true" : "false");
      tile.el.classList.toggle("nbl-cursor", key === cursorKey);
    }
    const n = selection.selected.size;
    for (const b of [ui.acceptButton, ui.rejectButton, ui.relabelButton]) b.disabled = n === 0;
    setText(ui.selectedText, n > 1 ? `${n} selected` : "");
    if (shell.root) shell.root.dataset.selected = String(n);
  }

  function showCounts() {
    showClassCounts(ui, summary, stats, { labels, decide, filter: requests.shownFilter });
  }

  function sliderCount() {
    return countAbove(ui, confidences, requests.shownFilter);
  }

  function showSlider() {
    if (!decide) showSliderCount(ui, stats, sliderCount(), requests.shownFilter);
  }

  function showStatus() {
    setText(status, requests.status(performance.now()));
    status.classList.toggle("nbl-unsaved", requests.unacked.size > 0);
    shell.root.dataset.pending = String(requests.unacked.size);
  }

  function showNotice(text, isError) {
    setText(ui.notice, text);
    ui.notice.classList.toggle("nbl-error", isError);
  }

  // -- acting ---------------------------------------------------------------------------------
  /** Relabel the items (auto-labels), or decide them (disagreements: on the answers shown). */
  function setClasses(keys, value) {
    if (!keys.length) return;
    if (!decide) {
      sendAction({ type: "relabel", keys, value }, keys);
      return;
    }
    const chosen = new Set(keys);
    const items = page.filter((item) => chosen.has(item.key)).map(({ key, version }) => ({ key, version }));
    sendAction({ type: "decide", items, value }, keys);
  }

  /** An annotator's answer clicked on a disputed tile: that item is decided so. */
  function decideAnswer(key, answer) {
    selection.click(selection.keys.indexOf(key));
    paintSelection();
    setClasses([key], answer);
    shell.root.focus({ preventScroll: true });
  }

  function acceptAboveThreshold() {
    const { t, n } = sliderCount();
    if (!n) return;
    const keys = visible()
      .filter((item) => item.confidence !== null && item.confidence >= t)
      .map((item) => item.key);
    sendAction({ type: "accept_above", confidence: t, scope: requests.shownFilter, expected: n }, keys);
  }

  /** Every intent of the grid (it shares none with the item widgets). */
  function onIntent(intent) {
    switch (intent.type) {
      case "move":
        selection.move(intent, columns());
        paintSelection();
        tiles.get(selection.cursorKey)?.el.scrollIntoView({ block: "nearest", inline: "nearest" });
        break;
      case "selectAll":
        selection.selectAll();
        paintSelection();
        break;
      case "page": {
        const next = requests.shownOffset + intent.delta * pageSize;
        if (next >= 0 && next < total) link.page(next, requests.shownFilter);
        break;
      }
      case "accept":
      case "reject": {
        const chosen = selection.selected;
        const items = page.filter((item) => chosen.has(item.key)).map(({ key, uid: proposal }) => ({ key, uid: proposal }));
        if (items.length) sendAction({ type: intent.type, items }, items.map((item) => item.key));
        break;
      }
      case "accept-above":
        acceptAboveThreshold();
        break;
      case "panel":
        panel.open(selection, page);
        break;
      case "class":
        panel.choose(intent.index, selection, page);
        break;
      case "save":
        panel.save();
        break;
      case "undo":
        if (decide) sendAction({ type: "undo" }, []);
        break;
      case "cancel":
        if (panel.editing) panel.close();
        else {
          selection.collapse();
          paintSelection();
        }
        break;
      default:
    }
    return true;
  }

  /** How many tiles a row of the grid holds, as laid out now. */
  function columns() {
    const tracks = getComputedStyle(ui.grid).gridTemplateColumns;
    return Math.max(1, tracks.split(" ").filter((t) => t && t !== "none").length);
  }

  function onTileClick(event, key) {
    if (panel.editing) panel.close();
    selection.click(selection.keys.indexOf(key), { shift: event.shiftKey, toggle: event.ctrlKey || event.metaKey });
    paintSelection();
  }

  const root = shell.mount(el, {
    className: "nbl-review",
    testid: "nbl-review-root",
    dataset: { media: model.get("media"), mode: model.get("mode"), state: "loading", pending: "0" },
    body: ui.body,
    actions: [],
    help: reviewHelp({ decide, multi, relabel }),
    // The filter, slider and buttons keep their own keys.
    keys: (event) => (event.target === shell.root ? reviewIntent(event, { nClasses: relabel ? labels.length : 0, editing: Boolean(panel.editing), decide }) : null),
    onIntent,
  });
  root.style.setProperty("--nbl-thumb", `${model.get("thumb")}px`);
  link.follow({ answered, page: showPage });
  const timer = setInterval(showStatus, 1000);

  showSlider();
  drawGrid(null, { reset: true });
  link.page(0, "");

  return () => {
    clearInterval(timer);
    link.destroy();
    shell.destroy();
    for (const tile of tiles.values()) if (tile.url) URL.revokeObjectURL(tile.url);
  };
}

export default { render };
