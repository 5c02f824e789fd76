import assert from "node:assert/strict";
import { test } from "node:test";
import { Outbox } from "./outbox.js";

class MemoryStorage {
  constructor() {
    this.map = new Map();
  }
  getItem(k) {
    return this.map.has(k) ? this.map.get(k) : null;
  }
  setItem(k, v) {
    this.map.set(k, String(v));
  }
  removeItem(k) {
    this.map.delete(k);
  }
}

test("unacked messages survive a new outbox of the same job", () => {
  const storage = new MemoryStorage();
  const a = new Outbox("job1", storage);
  a.add({ type: "answer", uid: "u1", key: "k1", value: "cat" }, 0);
  a.add({ type: "answer", uid: "u2", key: "k2", value: "dog" }, 0);
  a.ack(["u1"]);
  const b = new Outbox("job1", storage);
  assert.equal(b.size, 1);
  assert.deepEqual(b.due(10, -1).map((m) => m.uid), ["u2"]);
  assert.equal(new Outbox("job2", storage).size, 0);
});

test("storage is cleared when everything is acked", () => {
  const storage = new MemoryStorage();
  const a = new Outbox("j", storage);
  a.add({ type: "skip", uid: "u1", key: "k" }, 0);
  a.ack(["u1", "unknown"]);
  assert.equal(storage.getItem("nblabel:outbox:j"), null);
});

test("due returns only messages older than the limit and marks them re-sent", () => {
  const a = new Outbox("j", null);
  a.add({ type: "answer", uid: "u1", key: "k1" }, 0);
  a.add({ type: "answer", uid: "u2", key: "k2" }, 900);
  assert.deepEqual(a.due(1000, 500).map((m) => m.uid), ["u1"]);
  assert.deepEqual(a.due(1100, 500), []);
  assert.deepEqual(a.keys().sort(), ["k1", "k2"]);
});

test("corrupt storage is ignored", () => {
  const storage = new MemoryStorage();
  storage.setItem("nblabel:outbox:j", "{not json");
  assert.equal(new Outbox("j", storage).size, 0);
});

test("messages with binary buffers are re-sent from memory but never put in storage", () => {
  const storage = new MemoryStorage();
  const box = new Outbox("job", storage);
  const pixels = new Uint8Array([1, 2, 3]);
  box.add({ uid: "m", key: "a", type: "answer" }, 0, [pixels]);
  box.add({ uid: "t", key: "b", type: "answer" }, 0);
  assert.deepEqual(box.buffersOf("m"), [pixels]);
  assert.equal(box.buffersOf("t"), null);
  assert.deepEqual(box.due(10_000, 1000).map((m) => m.uid), ["m", "t"]);
  const again = new Outbox("job", storage);
  assert.deepEqual([...again.messages.keys()], ["t"]);
});

test("a held message is no longer re-sent here but stays unsaved for the next widget", () => {
  const storage = new MemoryStorage();
  const box = new Outbox("job", storage);
  box.add({ type: "answer", uid: "bad", key: "a" }, 0);
  box.add({ type: "answer", uid: "ok", key: "b" }, 0);
  box.hold("bad");
  box.hold("unknown");
  assert.deepEqual(box.due(10_000, 1000).map((m) => m.uid), ["ok"]);
  assert.deepEqual(box.due(20_000, 1000).map((m) => m.uid), ["ok"]);
  assert.equal(box.size, 2);
  assert.deepEqual(new Outbox("job", storage).due(0, -1).map((m) => m.uid), ["bad", "ok"]);
});
