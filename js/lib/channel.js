// The browser half of the labeling widgets' protocol, shared by every task's widget.
//
// The kernel sends items ahead of the cursor; an answer is recorded at once in the session and
// sent as a custom message (not a trait: ipywidgets merges quick trait changes). The kernel
// stores it and acknowledges; unacknowledged answers are shown as unsaved and re-sent, across
// reconnects and kernel restarts (see outbox.js). A widget supplies how to draw (`show`,
// `showStatus`, `flash`) and, for images, how to decode payloads (`decode`).
import { Outbox } from "./outbox.js";

const RESEND_AFTER_MS = 4000;
const KEEP_AHEAD = 3; // prefetched items kept in place when a new round reorders the queue

function storage() {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}

/**
 * Connect a widget's session to the kernel.
 * @param {object} o
 * @param {object} o.model          the anywidget model
 * @param {import("./session.js").LabelSession} o.session
 * @param {() => void} o.show        redraw the item on screen (and status, progress)
 * @param {() => void} o.showStatus  redraw the unsaved count
 * @param {(text: string) => void} o.flash   show a problem to the person
 * @param {(items: object[], buffers: DataView[]) => Promise<void>} [o.decode]  prepare payloads
 * @param {(items: object[]) => void} [o.received]  items arrived (after decode)
 * @param {() => {width: number, height: number}} [o.size]  display size sent with hello
 */
export function connect({ model, session, show, showStatus, flash, decode, received, size }) {
  const windowSize = model.get("window");
  const outbox = new Outbox(model.get("job_id"), storage());
  let requesting = true; // the hello below asks for the first items

  // A dead kernel's comm may refuse messages; they stay in the outbox and go out again later.
  function trySend(msg) {
    try {
      model.send(msg);
    } catch (err) {
      console.warn("nblabel: could not send, will retry", err);
    }
  }

  /** Send an answer, skip or undo: kept until the kernel acknowledges it. */
  function send(msg) {
    outbox.add(msg, performance.now());
    trySend(msg);
    showStatus();
  }

  function requestMore() {
    if (requesting || session.exhausted || session.ahead >= windowSize) return;
    requesting = true;
    trySend({ type: "more", count: windowSize - session.ahead, exclude: session.exclude(outbox.keys()) });
  }

  async function receive(msg, buffers) {
    if (msg.type === "items") {
      if (decode) await decode(msg.items, buffers);
      received?.(msg.items);
      if (msg.reply) requesting = false;
      session.add(msg.items, { exhausted: Boolean(msg.exhausted) });
      if (msg.progress) model.set("progress", msg.progress);
      show();
      requestMore();
    } else if (msg.type === "ack") {
      outbox.ack(msg.uids);
      if (msg.progress) model.set("progress", msg.progress);
      showStatus();
    } else if (msg.type === "proposals") {
      // A new auto-labeling round: fresh proposals, and items the model may now label itself.
      for (const [key, proposal] of Object.entries(msg.proposals)) {
        const item = session.items.get(key);
        if (item) item.proposal = proposal;
      }
      // The loop reordered the people's queue. The next few prefetched items stay (they are
      // ready: the next keypresses must not wait); behind them come the held items that are
      // among the new first ones, in the new order; the rest is fetched in the new order.
      const next = session.queue.slice(0, KEEP_AHEAD);
      const held = new Set(session.queue);
      const auto = new Set(msg.auto);
      session.queue = [
        ...next.filter((key) => !auto.has(key)),
        ...msg.order.filter((key) => held.has(key) && !next.includes(key)),
      ];
      session.exhausted = false;
      if (msg.progress) model.set("progress", msg.progress);
      show();
      requestMore();
    } else if (msg.type === "store-error") {
      // The kernel could not write the answer (disk full, read-only store): it stays unsaved
      // here and is re-sent until it is stored.
      flash(`Could not save answers yet: ${msg.reason}. They are kept and retried.`);
    } else if (msg.type === "rejected") {
      outbox.ack([msg.uid]);
      flash(`Not saved: ${msg.reason}`);
      showStatus();
    } else if (msg.type === "goto") {
      // The kernel undid an answer from an earlier session: show that item again.
      if (decode) await decode(msg.items, buffers);
      received?.(msg.items);
      session.add(msg.items);
      const index = session.trail.indexOf(msg.key);
      if (index === -1) {
        session.queue = session.queue.filter((k) => k !== msg.key);
        session.trail.splice(Math.min(session.pos, session.trail.length), 0, msg.key);
      } else {
        session.pos = index;
      }
      session.values.set(msg.key, null);
      show();
    }
  }

  const onMsg = (msg, buffers) => {
    receive(msg, buffers);
  };
  model.on("msg:custom", onMsg);
  const timer = setInterval(() => {
    for (const msg of outbox.due(performance.now(), RESEND_AFTER_MS)) trySend(msg);
  }, 1000);

  // Answers left unsaved by an earlier widget of this job (kernel died, page reloaded) go first.
  // The display size is read once the widget is laid out (the next frame), not at render.
  const leftover = outbox.due(performance.now(), -1);
  let helloSent = false;
  const hello = () => {
    if (helloSent) return;
    helloSent = true;
    const { width, height } = size ? size() : { width: 1024, height: 768 };
    trySend({ type: "hello", width, height, resend: leftover });
  };
  requestAnimationFrame(hello);
  setTimeout(hello, 200); // a hidden tab runs no animation frames

  return {
    outbox,
    send,
    trySend,
    requestMore,
    dispose() {
      clearInterval(timer);
      model.off("msg:custom", onMsg);
    },
  };
}
