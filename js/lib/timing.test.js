import assert from "node:assert/strict";
import { test } from "node:test";
import { ActiveClock, PAUSE_MS } from "./timing.js";

const WALL = Date.UTC(2026, 11, 6, 21, 0, 0);

test("active time counts inputs' gaps, not pauses over 30 s nor hidden time", () => {
  const clock = new ActiveClock();
  clock.showing("a", 1000, WALL);
  clock.input(3000); // 2 s
  clock.input(3000 + PAUSE_MS + 1); // a pause: nothing
  clock.input(3000 + PAUSE_MS + 5001); // 5 s
  const t0 = 3000 + PAUSE_MS + 5001;
  clock.visibility(true, t0 + 1000); // 1 s, then hidden
  clock.visibility(false, t0 + 600_000); // ten minutes hidden: nothing
  const timing = clock.timing("a", t0 + 602_000, WALL + 700_000); // 2 s more
  assert.deepEqual(timing, {
    acceptanceTime: "2026-12-06T21:00:00.000Z",
    submissionTime: "2026-12-06T21:11:40.000Z",
    timeSpentInSeconds: 10,
  });
  assert.equal(clock.timing("b", t0, WALL), null); // an answer to another item
  clock.showing("a", 0, WALL); // the same item again: the clock goes on
  assert.equal(clock.timing("a", t0 + 603_000, WALL + 701_000).timeSpentInSeconds, 11);
  clock.showing("b", 5, WALL + 2);
  assert.equal(clock.timing("b", 5, WALL + 2).timeSpentInSeconds, 0);
});
