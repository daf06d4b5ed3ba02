/**
 * The caller's end of a blocking connection: deadlines, and a Link driven
 * directly against a server on another thread (see peer.ts), below the
 * ClientConnection that client.test.ts exercises.
 */

import assert from "node:assert/strict";
import { performance } from "node:perf_hooks";
import { after, describe, it } from "node:test";
import { silentLogger } from "../../src/node/logger.js";
import type { SharedCounters } from "../../src/sync/counters.js";
import { deadlineAfter, Link } from "../../src/sync/link.js";
import { toWorkerOptions } from "../../src/sync/options.js";
import { unhandledRejections } from "../helpers/server.js";
import { Peer } from "./peer.js";

after(() => {
  assert.deepEqual(unhandledRejections(), []);
});

describe("deadlineAfter()", () => {
  it("gives no deadline for undefined, null and Infinity", () => {
    assert.equal(deadlineAfter(undefined), Number.POSITIVE_INFINITY);
    assert.equal(deadlineAfter(null), Number.POSITIVE_INFINITY);
    assert.equal(deadlineAfter(Number.POSITIVE_INFINITY), Number.POSITIVE_INFINITY);
  });

  it("counts a timeout from now, on performance.now()'s clock", () => {
    for (const timeout of [0, 1.5, 1_500]) {
      const before = performance.now();
      const deadline = deadlineAfter(timeout);
      const afterwards = performance.now();
      assert.ok(deadline >= before + timeout && deadline <= afterwards + timeout, `${timeout}`);
    }
  });

  it("throws RangeError for a negative or NaN timeout, TypeError for one that isn't a number", () => {
    assert.throws(() => deadlineAfter(-1), {
      name: "RangeError",
      message: "timeout must be a number ≥ 0, got -1",
    });
    assert.throws(() => deadlineAfter(Number.NaN), { name: "RangeError", message: /got NaN$/ });
    assert.throws(() => deadlineAfter(Number.NEGATIVE_INFINITY), RangeError);
    assert.throws(() => deadlineAfter("5000" as never), {
      name: "TypeError",
      message: "timeout must be a number, got string",
    });
    assert.throws(() => deadlineAfter(5n as never), { name: "TypeError", message: /got bigint$/ });
  });
});

/**
 * A deadline for blocking waits: a blocked thread runs no timer, not even the
 * test runner's timeout, so every wait here is bounded.
 */
function soon(): number {
  return deadlineAfter(10_000);
}

/** The Link's private state that the window bounds. */
interface LinkInternals {
  readonly inbox: unknown[];
  readonly head: number;
  readonly counters: SharedCounters;
}

describe("Link", () => {
  it("never holds more than maxQueue received messages ahead of take(), and delivers them in order", async () => {
    await using peer = await Peer.start("ours");
    const link = new Link(peer.uri("/window"), toWorkerOptions({ maxQueue: 4 }), silentLogger);
    const internals = link as unknown as LinkInternals;
    assert.ok(link.waitUntil(() => link.opened !== null || link.failure !== null, soon()));
    assert.equal(link.failure, null);
    assert.equal(link.take(), undefined);
    const command = "stream 50";
    assert.ok(link.send(command, command.length, true, [], 1 << 20, soon()));
    let maxAhead = 0;
    for (let i = 0; i < 50; i++) {
      assert.ok(link.waitUntil(() => link.hasMessage || link.closed !== null, soon()));
      maxAhead = Math.max(maxAhead, internals.inbox.length - internals.head);
      assert.ok(maxAhead <= 4, `${maxAhead} messages ahead`);
      assert.equal(link.take(), `message ${i}`);
    }
    assert.equal(link.hasMessage, false);
    // Every byte posted was written by the worker's socket.
    assert.ok(link.waitUntil(() => link.bytesInFlight === 0, soon()));

    const outcome = link.call((id) => ({ type: "close", id, code: 1000, reason: "" }), soon());
    assert.deepEqual(outcome, { ok: true, value: null });
    assert.ok(link.waitUntil(() => link.closed !== null, soon()));
    assert.equal(link.closed!.code, 1000);
    assert.equal(link.closed!.error.name, "ConnectionClosedOK");
    link.shutdown();
    assert.equal(internals.counters.exited, true);
    // Again: nothing to do.
    link.shutdown();
    assert.equal((await peer.next("closed", "/window")).code, 1000);
  });

  it("reports the handshake's failure, then the worker's exit", async () => {
    await using peer = await Peer.start("ours");
    const link = new Link(peer.uri("/forbidden"), toWorkerOptions({}), silentLogger);
    assert.ok(link.waitUntil(() => link.opened !== null || link.failure !== null, soon()));
    assert.equal(link.opened, null);
    assert.equal(link.failure!.name, "InvalidStatus");
    link.shutdown();
    assert.equal((link as unknown as LinkInternals).counters.exited, true);
  });
});
