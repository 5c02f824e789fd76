import assert from "node:assert/strict";
import { test } from "node:test";
import { ReviewRequests } from "./review_requests.js";

test("requests are numbered in order, pages and actions alike, on the page last asked for", () => {
  const r = new ReviewRequests();
  assert.deepEqual(r.page(0, ""), { type: "page", seq: 1, offset: 0, filter: "" });
  assert.deepEqual(r.page(40, "cat"), { type: "page", seq: 2, offset: 40, filter: "cat" });
  const sent = r.action({ type: "accept", items: [{ key: "a", uid: "u" }] }, ["a"], 0);
  assert.deepEqual(sent, { type: "accept", items: [{ key: "a", uid: "u" }], seq: 3, offset: 40, filter: "cat" });
});

test("tiles acted on stay hidden until a page of their request or a later one arrives", () => {
  const r = new ReviewRequests();
  r.page(0, "");
  assert.deepEqual(r.received({ seq: 1, offset: 0, filter: "" }), { reset: true });
  r.action({ type: "accept" }, ["a"], 0);
  r.action({ type: "reject" }, ["b"], 0);
  assert.deepEqual([...r.hiddenKeys()].sort(), ["a", "b"]);
  assert.deepEqual(r.received({ seq: 2, offset: 0, filter: "" }), { reset: false }); // reflects "a" only
  assert.deepEqual([...r.hiddenKeys()], ["b"]);
  assert.equal(r.received({ seq: 2, offset: 0, filter: "" }), null); // not newer than the one shown
  r.received({ seq: 3, offset: 0, filter: "" });
  assert.equal(r.hiddenKeys().size, 0);
});

test("another page or filter resets the selection; the kernel may move past an emptied last page", () => {
  const r = new ReviewRequests();
  r.page(0, "");
  r.received({ seq: 1, offset: 0, filter: "" });
  r.page(40, "");
  assert.deepEqual(r.received({ seq: 2, offset: 20, filter: "" }), { reset: true });
  assert.equal(r.offset, 20); // the next request asks for the page the kernel showed
  r.page(20, "dog");
  assert.deepEqual(r.received({ seq: 3, offset: 20, filter: "dog" }), { reset: true });
});

test("the status says saving while an action waits, and not saved once it is late", () => {
  const r = new ReviewRequests();
  assert.equal(r.status(0), "saved");
  const { seq } = r.action({ type: "undo" }, [], 1000);
  assert.equal(r.status(2000), "saving…");
  assert.equal(r.status(6001), "not saved: no reply from the kernel");
  r.answered(seq);
  assert.equal(r.status(6001), "saved");
});
