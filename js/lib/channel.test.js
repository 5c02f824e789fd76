import assert from "node:assert/strict";
import { test } from "node:test";
import { Channel } from "./channel.js";

/** An anywidget model with nothing behind it: records what the widget sends. */
class FakeModel {
  constructor() {
    this.values = { job_id: "job", window: 4, progress: {} };
    this.sent = [];
    this.handlers = new Map();
  }
  get(name) {
    return this.values[name];
  }
  set(name, value) {
    this.values[name] = value;
  }
  send(msg) {
    this.sent.push(msg);
  }
  on(event, fn) {
    this.handlers.set(event, fn);
  }
  off(event) {
    this.handlers.delete(event);
  }
  /** A message from the kernel, as the comm would deliver it. */
  async deliver(msg) {
    await this.handlers.get("msg:custom")(msg, []);
  }
}

function following() {
  const model = new FakeModel();
  const channel = new Channel(model);
  const flashed = [];
  channel.follow({ exhausted: false, ahead: 0 }, { show: () => {}, flash: (text) => flashed.push(text) });
  return { model, channel, flashed };
}

test("a rejected answer is dropped and its reason shown", async () => {
  const { model, channel, flashed } = following();
  channel.send({ type: "answer", uid: "u1", key: "k", value: "cow" });
  await model.deliver({ type: "rejected", uid: "u1", reason: "'cow' is not one of the labels" });
  assert.equal(channel.unsaved, 0);
  assert.deepEqual(flashed, ["Not saved: 'cow' is not one of the labels"]);
  channel.destroy();
});

test("an answer the kernel failed on is kept but no longer re-sent", async () => {
  const { model, channel, flashed } = following();
  channel.send({ type: "answer", uid: "u1", key: "k", value: "cat" });
  await model.deliver({ type: "error", uid: "u1", reason: "a bug" });
  assert.equal(channel.unsaved, 1);
  assert.deepEqual(channel.outbox.due(performance.now() + 60_000, 0), []);
  assert.match(flashed[0], /Could not save .*: a bug/);
  channel.destroy();
});

test("a refused request stops being waited for; a refused sharper view is quiet", async () => {
  const { model, channel, flashed } = following();
  channel._requesting = true;
  await model.deliver({ type: "rejected", request: "more", reason: "count must be a number" });
  assert.equal(channel._requesting, false);
  assert.deepEqual(flashed, ["The kernel could not answer (more): count must be a number"]);
  const warn = console.warn;
  console.warn = () => {};
  try {
    await model.deliver({ type: "rejected", request: "detail", reason: "no item" });
  } finally {
    console.warn = warn;
  }
  assert.equal(flashed.length, 1);
  channel.destroy();
});

test("a 'nothing left' computed before a new round came in does not stop the widget asking", async () => {
  // The race the portal met: the last answer's `more` is out when rows are added; the kernel's
  // watcher pushes the new round (its queue holds the added row) before the reply computed
  // without it, which says "nothing left".
  const { LabelSession } = await import("./session.js");
  const model = new FakeModel();
  const channel = new Channel(model, () => {}, { decode: async () => {} });
  const session = new LabelSession();
  channel.follow(session, { show: () => {}, flash: () => {} });
  channel.requestMore();
  assert.equal(model.sent.filter((m) => m.type === "more").length, 1);
  await model.deliver({ type: "proposals", proposals: {}, order: ["added"], auto: [] });
  await model.deliver({ type: "items", items: [], exhausted: true, reply: true });
  assert.equal(session.exhausted, false);
  const asked = model.sent.filter((m) => m.type === "more");
  assert.equal(asked.length, 2, "asked again after the out-of-date reply");
  await model.deliver({ type: "items", items: [{ key: "added" }], exhausted: true, reply: true });
  assert.deepEqual(session.queue.concat(session.trail), ["added"]);
  assert.equal(session.exhausted, true); // a reply asked for after the round is believed
  channel.destroy();
});
