/**
 * The Outbox on its own, sending to a stand-in for the Node connection that
 * records what it is asked and settles each send() when the test says: the
 * order of messages, Blobs and the close frame, what is dropped once closing
 * started, the close frame close() asks for, and bufferedAmount.
 * test/web/websocket.test.ts checks the same through WebSocket over loopback.
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { after, describe, it } from "node:test";
import { State } from "../../src/core/state.js";
import type { ClientConnection } from "../../src/node/client.js";
import { Outbox } from "../../src/web/outbox.js";
import { deferred, unhandledRejections } from "../helpers/server.js";

after(() => {
  assert.deepEqual(unhandledRejections(), []);
});

/** What the stand-in connection was asked to do, in order. */
type Call = ["send", string | Uint8Array] | ["close", ...unknown[]];

/** A stand-in for the Node layer's ClientConnection: state, send() and close(). */
function fakeConnection() {
  const calls: Call[] = [];
  const sends: ReturnType<typeof deferred<void>>[] = [];
  const closed = deferred();
  const connection = {
    state: State.OPEN as number,
    send(data: string | Uint8Array): Promise<void> {
      calls.push(["send", typeof data === "string" ? data : Uint8Array.from(data)]);
      const sent = deferred();
      sends.push(sent);
      return sent.promise;
    },
    close(...args: unknown[]): Promise<void> {
      calls.push(["close", ...args]);
      closed.resolve();
      return Promise.resolve();
    },
  };
  return {
    connection,
    calls,
    /** Settles the `i`th send(), as the connection does once the socket took the bytes. */
    sends,
    /** Resolves once close() was called. */
    closed: closed.promise,
  };
}

/** An Outbox attached to a stand-in connection; `failures` records what it reported. */
function setup() {
  const fake = fakeConnection();
  const failures: unknown[] = [];
  const failed = deferred();
  const outbox = new Outbox((error) => {
    failures.push(error);
    failed.resolve();
  });
  outbox.attach(fake.connection as unknown as ClientConnection);
  return { ...fake, outbox, failures, failed: failed.promise };
}

/** A Blob whose contents are read only when the test calls `release()` (or fail with `fail()`). */
class HeldBlob extends Blob {
  readonly #read = deferred<ArrayBuffer>();
  release(): void {
    void super.arrayBuffer().then(this.#read.resolve);
  }
  fail(error: unknown): void {
    this.#read.reject(error);
  }
  override arrayBuffer(): Promise<ArrayBuffer> {
    return this.#read.promise;
  }
}

/** Runs the microtasks queued so far, and those they queue: all within the current task. */
async function drainMicrotasks(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

/** Resolves at the turn of the event loop after the next one. */
function laterTask(): Promise<void> {
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
}

const bytes = (text: string) => new Uint8Array(Buffer.from(text));

describe("Outbox: sending", () => {
  it("hands text and bytes to the connection at once, in order", () => {
    const { outbox, calls } = setup();
    outbox.send("héllo", 6);
    outbox.send(bytes("abc"), 3);
    outbox.send("", 0);
    assert.deepEqual(calls, [
      ["send", "héllo"],
      ["send", bytes("abc")],
      ["send", ""],
    ]);
  });

  it("keeps what follows a Blob until the Blob was read and sent, close included", async () => {
    const { outbox, calls, closed } = setup();
    const first = new HeldBlob(["blob one"]);
    const second = new HeldBlob(["blob two"]);
    outbox.send("before", 6);
    outbox.send(first, 8);
    outbox.send("between", 7);
    outbox.send(second, 8);
    outbox.send(bytes("after"), 5);
    outbox.close({ code: 3000, reason: "done" });
    // Blobs are sent in the order of send(), whichever is read first.
    second.release();
    await laterTask();
    assert.deepEqual(calls, [["send", "before"]]);
    first.release();
    await closed;
    assert.deepEqual(calls, [
      ["send", "before"],
      ["send", bytes("blob one")],
      ["send", "between"],
      ["send", bytes("blob two")],
      ["send", bytes("after")],
      ["close", 3000, "done"],
    ]);
  });

  it("drops data and close once the connection is no longer open, even behind a Blob", async () => {
    const { outbox, calls, connection } = setup();
    const blob = new HeldBlob(["late"]);
    outbox.send(blob, 4);
    outbox.send("after", 5);
    outbox.close({ code: null, reason: "" });
    connection.state = State.CLOSING;
    blob.release();
    await laterTask();
    outbox.send("closing", 7);
    assert.deepEqual(calls, []);
    // WHATWG WebSockets: data that is not sent still counts.
    assert.equal(outbox.bufferedAmount, 16);
  });

  it("reports a Blob that cannot be read, and drops what waited behind it", async () => {
    const { outbox, calls, failures, failed } = setup();
    const blob = new HeldBlob(["unreadable"]);
    outbox.send("before", 6);
    outbox.send(blob, 10);
    outbox.send("after", 5);
    outbox.close({ code: 1000, reason: "" });
    const error = new DOMException("file changed", "NotReadableError");
    blob.fail(error);
    await failed;
    assert.deepEqual(failures, [error]);
    await laterTask();
    assert.deepEqual(calls, [["send", "before"]]);
    // Nothing waits any more: what comes next goes at once.
    outbox.send("next", 4);
    assert.deepEqual(calls.at(-1), ["send", "next"]);
  });
});

describe("Outbox: closing", () => {
  it("asks for a close frame without a body when close() had no code and no reason", () => {
    const cases = [
      [{ code: null, reason: "" }, ["close", 1005]],
      // WHATWG WebSockets: a reason without a code goes with 1000.
      [{ code: null, reason: "bye" }, ["close", 1000, "bye"]],
      [{ code: 1000, reason: "" }, ["close", 1000, ""]],
      [{ code: 4999, reason: "custom" }, ["close", 4999, "custom"]],
    ] as const;
    for (const [request, call] of cases) {
      const { outbox, calls } = setup();
      outbox.close(request);
      assert.deepEqual(calls, [call], JSON.stringify(request));
    }
  });

  it("ignores a failing close()", async () => {
    const { outbox, connection } = setup();
    const closing = deferred();
    connection.close = () => {
      closing.resolve();
      return Promise.reject(new Error("already closed"));
    };
    outbox.close({ code: null, reason: "" });
    await closing.promise;
    await laterTask();
    // The after() hook checks that the rejection was handled.
  });
});

describe("Outbox: bufferedAmount", () => {
  it("counts bytes until the connection took them, and changes only between tasks", async () => {
    const { outbox, sends } = setup();
    outbox.send("héllo", 6);
    outbox.send(bytes("abc"), 3);
    assert.equal(outbox.bufferedAmount, 9);
    sends[0]!.resolve();
    await drainMicrotasks();
    assert.equal(outbox.bufferedAmount, 9);
    await laterTask();
    assert.equal(outbox.bufferedAmount, 3);
    sends[1]!.resolve();
    await laterTask();
    assert.equal(outbox.bufferedAmount, 0);
  });

  it("deducts the sends settled in one task together", async () => {
    const { outbox, sends } = setup();
    for (let i = 0; i < 3; i++) outbox.send("abcd", 4);
    for (const sent of sends) sent.resolve();
    await drainMicrotasks();
    assert.equal(outbox.bufferedAmount, 12);
    await laterTask();
    assert.equal(outbox.bufferedAmount, 0);
  });

  it("counts discarded data and data whose send failed, for good", async () => {
    const { outbox, sends } = setup();
    outbox.discard(10);
    assert.equal(outbox.bufferedAmount, 10);
    outbox.send("lost", 4);
    sends[0]!.reject(new Error("connection closed"));
    await laterTask();
    assert.equal(outbox.bufferedAmount, 14);
  });

  it("counts a Blob from send() on, and deducts it once sent", async () => {
    const { outbox, sends, calls } = setup();
    const blob = new HeldBlob(["1234567"]);
    outbox.send(blob, 7);
    assert.equal(outbox.bufferedAmount, 7);
    blob.release();
    await laterTask();
    assert.deepEqual(calls, [["send", bytes("1234567")]]);
    assert.equal(outbox.bufferedAmount, 7);
    sends[0]!.resolve();
    await laterTask();
    assert.equal(outbox.bufferedAmount, 0);
  });
});
