// nblabel review widget: a grid of auto-labels, least confident first, to accept, reject or
// relabel; or, in its disagreements mode, the items people disagree on, most disputed first,
// each with every annotator's answer, for a person's final decision.
//
// The kernel sends one page of proposals at a time (thumbnails as binary buffers), the counts
// per class, and the sorted confidences the slider counts from, so moving the slider shows how
// many items it would accept without a round trip. Every action is a custom message with a
// sequence number; the kernel stores it, acknowledges it, and re-sends the page. Tiles acted on
// leave the grid at once and stay hidden until a page that already reflects the action
// arrives, so fast `a a a` presses review successive items, never the same one twice.
// Decided tiles stay in the grid instead (marked as saving until the new page arrives), since
// the person may look again or change their mind; `z` takes the last decision back.
import { actionButton, classButton, h, setText } from "./lib/dom.js";
import {
  countAtLeast,
  formatConfidence,
  formatValue,
  GridSelection,
  items as nItems,
  reviewIntent,
  sameValue,
  sliderThreshold,
} from "./lib/grid.js";
import { uid } from "./lib/ids.js";

const EMPTY = new Float64Array(0);
const NO_REPLY_MS = 5000; // an action unacknowledged this long is reported as not saved

function bytes(view) {
  return view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength);
}

function render({ model, el }) {
  const labels = model.get("labels");
  const multi = model.get("multi_label");
  const pageSize = model.get("page_size");
  const decide = model.get("mode") === "disagreements"; // decide disputed items, not auto-labels
  const viewId = uid(); // one widget may be displayed twice: each view pages on its own

  let seq = 0; // the latest request sent
  let shownSeq = 0; // the request whose page is on screen
  let offset = 0; // the page and filter last asked for
  let filter = "";
  let shownOffset = 0; // the page and filter on screen
  let shownFilter = "";
  let total = 0; // proposals matching the filter on screen
  let page = []; // the proposals of the page on screen
  let tiles = new Map(); // key -> {uid, el, url}
  const hidden = new Map(); // seq -> keys acted on, hidden (decided: marked) until a page of that seq arrives
  const unacked = new Map(); // seq -> time sent
  let stats = { version: "", auto: 0, total: 0, decided: 0, counts: {}, progress: null };
  let confidences = { version: "", all: EMPTY, byClass: {} };
  let editing = null; // the relabel panel: {keys, chosen: Set of class names}
  const selection = new GridSelection();

  // -- DOM ------------------------------------------------------------------------------------
  const summary = h("span", { class: "nbl-progress", "data-testid": "nbl-review-summary" });
  const status = h("span", { class: "nbl-status", "data-testid": "nbl-review-status", role: "status" });
  const header = h("div", { class: "nbl-header" }, [
    h("span", { class: "nbl-title", text: model.get("title") }),
    summary,
    status,
  ]);

  const button = (name, label, hint, onclick) =>
    actionButton(`review-${name}`, label, hint, () => {
      onclick();
      root.focus({ preventScroll: true }); // keys go to the grid again, not to the button
    });

  const filterSelect = h(
    "select",
    {
      class: "nbl-review-filter",
      "data-testid": "nbl-review-filter",
      "aria-label": decide ? "Show the items where someone gave one class" : "Show the proposals of one class",
      onchange: () => {
        requestPage(0, filterSelect.value);
        root.focus({ preventScroll: true });
      },
    },
    [h("option", { value: "", text: "All classes" }), ...labels.map((l) => h("option", { value: l, text: l }))],
  );
  const acceptButton = button("accept", "✓ Accept", "Accept the selected proposals (a or Enter)", () =>
    act({ type: "accept" }),
  );
  const rejectButton = button(
    "reject",
    "✗ Reject",
    "Reject the selected proposals: the items go back to the people's queue (r or Delete)",
    () => act({ type: "reject" }),
  );
  const relabelButton = decide
    ? button("decide", "Decide…", "Decide the classes of the selected items (1–9, 0)", () => openPanel())
    : button("relabel", "Relabel…", "Give the selected items other classes (1–9, 0)", () => openPanel());
  const undoButton = button("undo", "↶ Undo", "Take back the last decision (z)", () => act({ type: "undo" }));
  const selectedText = h("span", { class: "nbl-review-selected", "data-testid": "nbl-review-selected" });
  const prevButton = button("prev", "‹ Prev", "Previous page (PageUp)", () => act({ type: "page", delta: -1 }));
  const nextButton = button("next", "Next ›", "Next page (PageDown)", () => act({ type: "page", delta: 1 }));
  const pagesText = h("span", { class: "nbl-review-pages", "data-testid": "nbl-review-pages" });
  const toolbar = h("div", { class: "nbl-review-toolbar" }, [
    filterSelect,
    ...(decide ? [relabelButton, undoButton] : [acceptButton, rejectButton, relabelButton]),
    selectedText,
    h("span", { class: "nbl-review-spacer" }),
    prevButton,
    pagesText,
    nextButton,
  ]);

  const panelTitle = h("span", { class: "nbl-review-panel-title", "data-testid": "nbl-review-panel-title" });
  const classButtons = labels.map((label, index) =>
    classButton(label, index, {
      testid: `nbl-review-class-${index}`,
      onclick: () => {
        act({ type: "class", index });
        root.focus({ preventScroll: true });
      },
    }),
  );
  const panel = h("div", { class: "nbl-review-panel", "data-testid": "nbl-review-panel", hidden: true }, [
    panelTitle,
    h("div", { class: "nbl-classes" }, classButtons),
    h("div", { class: "nbl-actions" }, [
      multi ? button("save", "Save ⏎", "Save these classes (Enter)", () => act({ type: "save" })) : null,
      button("cancel", "Cancel", `Close without ${decide ? "deciding" : "relabeling"} (Escape)`, () =>
        act({ type: "cancel" }),
      ),
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
    oninput: () => showSlider(),
  });
  const threshold = h("output", { class: "nbl-review-threshold", "data-testid": "nbl-review-threshold" });
  const count = h("span", { class: "nbl-review-count", "data-testid": "nbl-review-count" });
  const acceptAbove = button("accept-above", "", "Accept every proposal counted here, on every page", () =>
    acceptAboveThreshold(),
  );
  const sliderRow = h("div", { class: "nbl-review-slider-row" }, [
    h("span", { text: "Confidence ≥" }),
    slider,
    threshold,
    count,
    acceptAbove,
  ]);

  const notice = h("div", { class: "nbl-review-notice", "data-testid": "nbl-review-notice", role: "status" });
  const grid = h("div", {
    class: "nbl-review-grid",
    "data-testid": "nbl-review-grid",
    role: "listbox",
    "aria-multiselectable": "true",
    "aria-label": decide ? "Items people disagree on, most disputed first" : "Proposals, least confident first",
  });
  const empty = h("div", { class: "nbl-message nbl-review-empty", "data-testid": "nbl-review-empty", hidden: true });
  const help = h("div", {
    class: "nbl-help",
    text:
      "Keys: arrows move (Shift extends, Ctrl/Cmd-click toggles, Ctrl+A selects the page) · " +
      (decide
        ? `click an answer or press 1–9, 0 to ${multi ? "choose classes" : "decide"} · z undo · `
        : `a or Enter accept · r or Delete reject · 1–9, 0 ${multi ? "choose classes" : "relabel"} · `) +
      "PageUp/PageDown pages · Esc",
  });
  const root = h(
    "div",
    {
      class: "nblabel nbl-review",
      tabindex: "0",
      "data-testid": "nbl-review-root",
      "data-lm-suppress-shortcuts": "true",
      "data-media": model.get("media"),
      "data-mode": model.get("mode"),
      "data-state": "loading",
      "data-pending": "0",
    },
    [header, toolbar, panel, decide ? null : sliderRow, notice, grid, empty, help],
  );
  root.style.setProperty("--nbl-thumb", `${model.get("thumb")}px`);
  el.append(root);

  // -- talking to the kernel ------------------------------------------------------------------
  function trySend(message) {
    try {
      model.send({ ...message, view: viewId, have: confidences.version });
    } catch (err) {
      console.warn("nblabel: could not send to the kernel", err);
    }
  }

  function requestPage(newOffset, newFilter) {
    seq += 1;
    offset = newOffset;
    filter = newFilter;
    trySend({ type: "page", seq, offset, filter });
  }

  function sendAction(message, keys) {
    seq += 1;
    unacked.set(seq, performance.now());
    if (keys.length) {
      hidden.set(seq, new Set(keys));
      drawGrid(null, { reset: false });
    }
    trySend({ ...message, seq, offset, filter });
    showStatus();
  }

  function receive(message, buffers) {
    if (message.type === "stale" || (message.type === "ack" && message.view !== viewId)) {
      // The auto-labeler finished a round, or another view of this widget changed the
      // proposals: fetch this view's page again.
      requestPage(offset, filter);
      return;
    }
    if (message.view !== viewId) return;
    if (message.type === "ack" || message.type === "error") {
      unacked.delete(message.seq);
      showNotice(message.type === "ack" ? message.notice : `Not saved: ${message.reason}`, message.type === "error");
      showStatus();
    } else if (message.type === "page" && message.seq > shownSeq) {
      showPage(message, buffers);
    }
  }

  function showPage(message, buffers) {
    const reset = message.offset !== shownOffset || message.filter !== shownFilter || shownSeq === 0;
    shownSeq = message.seq;
    shownOffset = message.offset;
    shownFilter = message.filter;
    if (message.seq === seq) offset = message.offset; // the kernel moved past an emptied last page
    for (const s of hidden.keys()) if (s <= message.seq) hidden.delete(s);
    page = message.items;
    total = message.total;
    stats = message.stats;
    if (message.confidences) {
      const { all, by_class: byClass } = message.confidences;
      confidences = {
        version: stats.version,
        all: new Float64Array(bytes(buffers[all])),
        byClass: Object.fromEntries(Object.entries(byClass).map(([l, i]) => [l, new Float64Array(bytes(buffers[i]))])),
      };
    }
    root.dataset.state = "ready";
    drawGrid(buffers, { reset });
    showCounts();
    showSlider();
  }

  // -- drawing --------------------------------------------------------------------------------
  function hiddenKeys() {
    const keys = new Set();
    for (const set of hidden.values()) for (const key of set) keys.add(key);
    return keys;
  }

  function visible() {
    if (decide) return page; // decided tiles stay, marked as saving (paintSelection)
    const gone = hiddenKeys();
    return page.filter((item) => !gone.has(item.key));
  }

  function makeTile(item, buffers) {
    let body;
    let url = null;
    if (item.error) {
      body = h("div", { class: "nbl-review-problem", text: `Cannot show: ${item.error}` });
    } else if (item.kind === "text") {
      body = h("div", { class: "nbl-review-snippet", text: item.text });
    } else {
      url = URL.createObjectURL(new Blob([bytes(buffers[item.buffer])], { type: item.mime }));
      body = h("img", { src: url, alt: `row ${item.position}`, draggable: "false" });
    }
    if (decide) return makeDisputeTile(item, body, url);
    const value = formatValue(item.value);
    const conf = formatConfidence(item.confidence);
    const el = h(
      "div",
      {
        class: "nbl-review-tile",
        role: "option",
        "aria-selected": "false",
        "data-testid": "nbl-review-tile",
        "data-key": item.key,
        "data-confidence": item.confidence === null ? "" : String(item.confidence),
        title: `Row ${item.position}: ${value} (confidence ${conf})`,
        onclick: (event) => onTileClick(event, item.key),
      },
      [
        h("div", { class: "nbl-review-media" }, [body]),
        h("div", { class: "nbl-review-caption" }, [
          h("span", { class: "nbl-review-value", "data-testid": "nbl-review-value", text: value }),
          h("span", { class: "nbl-review-confidence", text: conf }),
        ]),
        h("div", { class: "nbl-review-bar" }, [h("span", { style: { width: `${(item.confidence ?? 0) * 100}%` } })]),
      ],
    );
    return { uid: item.uid, el, url };
  }

  /** A disputed item: its media, every annotator's answer (a button that decides it), and the
   * current label, which is a person's decision or the consolidation with its confidence. */
  function makeDisputeTile(item, body, url) {
    const value = formatValue(item.value);
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
            selection.click(selection.keys.indexOf(item.key));
            paintSelection();
            setClasses([item.key], answer);
            root.focus({ preventScroll: true });
          },
        },
        [
          h("span", { class: "nbl-review-annotator", text: annotator }),
          h("span", { class: "nbl-review-answer-value", text: formatValue(answer) }),
        ],
      ),
    );
    const conf = decided ? "decided" : formatConfidence(item.confidence);
    const el = h(
      "div",
      {
        class: `nbl-review-tile${decided ? " nbl-decided" : ""}`,
        role: "option",
        "aria-selected": "false",
        "data-testid": "nbl-review-tile",
        "data-key": item.key,
        "data-decided": decided ? "true" : "false",
        "data-confidence": item.confidence === null ? "" : String(item.confidence),
        title: decided
          ? `Row ${item.position}: decided “${value}” by ${item.decided_by}`
          : `Row ${item.position}: consolidated “${value}” (confidence ${conf})`,
        onclick: (event) => onTileClick(event, item.key),
      },
      [
        h("div", { class: "nbl-review-media" }, [body]),
        h("div", { class: "nbl-review-answers", "data-testid": "nbl-review-answers" }, answers),
        h("div", { class: "nbl-review-caption" }, [
          h("span", { class: "nbl-review-value", "data-testid": "nbl-review-value", text: value }),
          h("span", { class: "nbl-review-confidence", text: conf }),
        ]),
        h("div", { class: "nbl-review-bar" }, [
          h("span", { style: { width: `${decided ? 100 : (item.confidence ?? 0) * 100}%` } }),
        ]),
      ],
    );
    return { uid: item.uid, el, url };
  }

  /** Draw the visible tiles, reusing those already drawn (no image is decoded twice). */
  function drawGrid(buffers, { reset }) {
    const shown = visible();
    const next = new Map();
    for (const item of shown) {
      const old = tiles.get(item.key);
      next.set(item.key, old && old.uid === item.uid ? old : makeTile(item, buffers));
    }
    for (const [key, tile] of tiles) if (next.get(key) !== tile && tile.url) URL.revokeObjectURL(tile.url);
    tiles = next;
    grid.replaceChildren(...[...next.values()].map((tile) => tile.el));
    selection.setKeys([...next.keys()], { reset });
    grid.hidden = shown.length === 0;
    empty.hidden = shown.length > 0;
    setText(empty, emptyText());
    const gone = page.length - shown.length;
    setText(
      pagesText,
      shown.length ? `${shownOffset + 1}–${shownOffset + shown.length} of ${total - gone}` : "",
    );
    prevButton.disabled = shownOffset === 0;
    nextButton.disabled = shownOffset + page.length >= total;
    paintSelection();
  }

  function emptyText() {
    if (decide) {
      if (root.dataset.state === "loading") return "Loading disagreements…";
      if (shownFilter) return `No disagreements where someone answered “${shownFilter}”.`;
      return "No disagreements: the answers agree on every item with two or more answers.";
    }
    if (root.dataset.state === "loading") return "Loading proposals…";
    if (shownFilter) return `No proposals of class “${shownFilter}” to review.`;
    return "No auto-labels to review: every proposal has been reviewed, or none was made yet.";
  }

  function paintSelection() {
    const cursorKey = selection.cursorKey;
    const saving = decide ? hiddenKeys() : null;
    for (const [key, tile] of tiles) {
      if (saving) tile.el.classList.toggle("nbl-saving", saving.has(key));
      const chosen = selection.selected.has(key);
      tile.el.classList.toggle("nbl-selected", chosen);
      tile.el.setAttribute("aria-selected", chosen ? "true" : "false");
      tile.el.classList.toggle("nbl-cursor", key === cursorKey);
    }
    const n = selection.selected.size;
    for (const b of [acceptButton, rejectButton, relabelButton]) b.disabled = n === 0;
    setText(selectedText, n > 1 ? `${n} selected` : "");
    root.dataset.selected = String(n);
  }

  function showCounts() {
    const { counts, progress } = stats;
    filterSelect.options[0].textContent = `All classes (${decide ? stats.total : stats.auto})`;
    labels.forEach((label, i) => {
      filterSelect.options[i + 1].textContent = `${label} (${counts[label] ?? 0})`;
    });
    filterSelect.value = shownFilter;
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

  /** The slider's live count, over the class filter on screen. */
  function sliderCount() {
    const t = sliderThreshold(slider.value);
    const sorted = shownFilter ? (confidences.byClass[shownFilter] ?? EMPTY) : confidences.all;
    return { t, n: countAtLeast(sorted, t) };
  }

  function showSlider() {
    if (decide) return;
    const { t, n } = sliderCount();
    const of = shownFilter ? `${stats.counts[shownFilter] ?? 0} “${shownFilter}”` : String(stats.auto);
    setText(threshold, t.toFixed(2));
    setText(count, `${n} of ${of} proposals have confidence ≥ ${t.toFixed(2)}`);
    setText(acceptAbove, `Accept ${nItems(n)} ≥ ${t.toFixed(2)}`);
    acceptAbove.disabled = n === 0;
  }

  function showStatus() {
    const now = performance.now();
    const late = [...unacked.values()].some((sent) => now - sent > NO_REPLY_MS);
    setText(status, late ? "not saved: no reply from the kernel" : unacked.size ? "saving…" : "saved");
    status.classList.toggle("nbl-unsaved", unacked.size > 0);
    root.dataset.pending = String(unacked.size);
  }

  function showNotice(text, isError) {
    setText(notice, text);
    notice.classList.toggle("nbl-error", isError);
  }

  // -- the relabel panel ----------------------------------------------------------------------
  function openPanel() {
    const keys = selection.selectedKeys();
    if (!keys.length) return;
    const current = page.find((item) => item.key === selection.cursorKey)?.value;
    editing = { keys, chosen: new Set(Array.isArray(current) ? current : [current]) };
    paintPanel();
  }

  function closePanel() {
    editing = null;
    paintPanel();
  }

  function paintPanel() {
    panel.hidden = !editing;
    root.dataset.editing = editing ? "true" : "false";
    if (!editing) return;
    const what = nItems(editing.keys.length);
    setText(
      panelTitle,
      multi
        ? `Classes for ${what} (keys toggle, Enter saves, Esc closes):`
        : `${decide ? "Decide" : "Relabel"} ${what} as:`,
    );
    classButtons.forEach((b, i) => {
      const on = editing.chosen.has(labels[i]);
      b.classList.toggle("nbl-chosen", on);
      b.setAttribute("aria-pressed", on ? "true" : "false");
    });
  }

  // -- acting ---------------------------------------------------------------------------------
  function selectedItems() {
    const chosen = selection.selected;
    return page.filter((item) => chosen.has(item.key));
  }

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

  function acceptAboveThreshold() {
    const { t, n } = sliderCount();
    if (!n) return;
    const keys = visible()
      .filter((item) => item.confidence !== null && item.confidence >= t)
      .map((item) => item.key);
    sendAction({ type: "accept_above", confidence: t, scope: shownFilter, expected: n }, keys);
  }

  function act(intent) {
    switch (intent.type) {
      case "move":
        selection.move(intent, columns());
        paintSelection();
        tiles.get(selection.cursorKey)?.el.scrollIntoView({ block: "nearest", inline: "nearest" });
        return;
      case "selectAll":
        selection.selectAll();
        paintSelection();
        return;
      case "page": {
        const next = shownOffset + intent.delta * pageSize;
        if (next >= 0 && next < total) requestPage(next, shownFilter);
        return;
      }
      case "accept":
      case "reject": {
        const chosen = selectedItems();
        if (chosen.length) {
          const items = chosen.map(({ key, uid: proposal }) => ({ key, uid: proposal }));
          sendAction({ type: intent.type, items }, items.map((item) => item.key));
        }
        return;
      }
      case "class": {
        const label = labels[intent.index];
        if (!multi) {
          setClasses(editing ? editing.keys : selection.selectedKeys(), label);
          closePanel();
          return;
        }
        if (!editing) openPanel();
        if (!editing) return;
        if (editing.chosen.has(label)) editing.chosen.delete(label);
        else editing.chosen.add(label);
        paintPanel();
        return;
      }
      case "save":
        if (editing) {
          const { keys, chosen } = editing;
          setClasses(
            keys,
            labels.filter((l) => chosen.has(l)),
          );
          closePanel();
        }
        return;
      case "undo":
        if (decide) sendAction({ type: "undo" }, []);
        return;
      case "cancel":
        if (editing) closePanel();
        else {
          selection.collapse();
          paintSelection();
        }
        return;
      default:
    }
  }

  /** How many tiles a row of the grid holds, as laid out now. */
  function columns() {
    const tracks = getComputedStyle(grid).gridTemplateColumns;
    return Math.max(1, tracks.split(" ").filter((t) => t && t !== "none").length);
  }

  function onTileClick(event, key) {
    if (editing) closePanel();
    selection.click(selection.keys.indexOf(key), {
      shift: event.shiftKey,
      toggle: event.ctrlKey || event.metaKey,
    });
    paintSelection();
  }

  function onKeydown(event) {
    if (event.target !== root) return; // the filter, slider and buttons keep their own keys
    const intent = reviewIntent(event, { nClasses: labels.length, editing: Boolean(editing), decide });
    if (!intent) return;
    event.preventDefault();
    event.stopPropagation();
    act(intent);
  }

  function onPointerDown(event) {
    if (!event.target.closest("button, select, input")) root.focus({ preventScroll: true });
  }

  root.addEventListener("keydown", onKeydown);
  root.addEventListener("pointerdown", onPointerDown);
  const onMessage = (message, buffers) => receive(message, buffers);
  model.on("msg:custom", onMessage);
  const timer = setInterval(showStatus, 1000);

  showSlider();
  drawGrid(null, { reset: true });
  requestPage(0, "");

  return () => {
    clearInterval(timer);
    model.off("msg:custom", onMessage);
    for (const tile of tiles.values()) if (tile.url) URL.revokeObjectURL(tile.url);
  };
}

export default { render };
