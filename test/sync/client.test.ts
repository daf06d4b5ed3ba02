/**
 * The blocking client against this library's server and against a `ws`
 * server, each on its own thread (see peer.ts): the same suite runs on both.
 */

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import {
  ConnectionClosedError,
  ConnectionClosedOK,
  InvalidState,
  InvalidStatus,
  TimeoutError,
} from "../../src/core/errors.js";
import { State } from "../../src/core/state.js";
import { ClientConnection, connect } from "../../src/sync/index.js";
import { coveredBytes, offsetViews } from "../helpers/bytes.js";
import { unhandledRejections } from "../helpers/server.js";
import { Peer, type PeerKind } from "./peer.js";

after(() => {
  assert.deepEqual(unhandledRejections(), []);
});

const ONE_MIB = 1024 * 1024;

let paths = 0;
/** A path of its own for each connection, so the server's reports can be told apart. */
function uniquePath(): string {
  return `/t${++paths}`;
}

function closeError(fn: () => unknown): ConnectionClosedError | ConnectionClosedOK {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConnectionClosedError || error instanceof ConnectionClosedOK) return error;
    throw error;
  }
  assert.fail("expected the connection to be closed");
}

for (const kind of ["ours", "ws"] satisfies PeerKind[]) {
  describe(`sync connect() against ${kind === "ours" ? "our" : "a ws"} server`, () => {
    let peer: Peer;
    before(async () => {
      peer = await Peer.start(kind);
    });
    after(async () => {
      await peer[Symbol.asyncDispose]();
    });

    it("passes tcp options to the connection it opens on its thread", () => {
      // All of 127.0.0.0/8 is loopback on Linux; elsewhere only 127.0.0.1 may be.
      const local = process.platform === "linux" ? "127.0.0.2" : "127.0.0.1";
      using client = connect(peer.uri(uniquePath()), { tcp: { localAddress: local, family: 4 } });
      assert.equal(client.localAddress?.address, local);
      client.send("from a chosen address");
      assert.equal(client.recv(), "from a chosen address");
    });

    it("exchanges text and binary messages", () => {
      using client = connect(peer.uri(uniquePath()));
      assert.ok(client instanceof ClientConnection);
      assert.equal(client.state, State.OPEN);
      client.send("Hello!");
      assert.equal(client.recv(), "Hello!");
      client.sendText("café ☕");
      assert.equal(client.recvText(), "café ☕");
      client.send(new Uint8Array([0, 1, 255]));
      const received = client.recv();
      assert.ok(Buffer.isBuffer(received));
      assert.deepEqual([...received], [0, 1, 255]);
      client.send(new Uint8Array([4, 5]).buffer);
      assert.deepEqual([...client.recvBinary()], [4, 5]);
      // A view on a larger buffer (here Node's buffer pool) sends only its bytes.
      client.sendBinary(Buffer.from("bytes"));
      assert.equal(client.recvText(), "bytes");
      client.send(new Uint8Array([0x41, 0xc3]));
      assert.throws(() => client.recvText(), {
        name: "TypeError",
        message: /recvText\(\) received a binary message of 2 bytes that is not valid UTF-8/,
      });
      client.send("as bytes");
      assert.equal(client.recvBinary().toString(), "as bytes");
      client.send("");
      assert.equal(client.recv(), "");
      assert.equal(client.remoteAddress?.address, "127.0.0.1");
      assert.equal(client.response.status, 101);
    });

    it("leaves the caller's buffers usable after sending them", () => {
      using client = connect(peer.uri(uniquePath()));
      const bytes = new Uint8Array([1, 2, 3]);
      client.send(bytes);
      client.send(bytes.buffer);
      assert.equal(bytes.byteLength, 3);
      assert.deepEqual([...client.recvBinary()], [1, 2, 3]);
      assert.deepEqual([...client.recvBinary()], [1, 2, 3]);
    });

    it("exchanges 1 MiB messages", () => {
      using client = connect(peer.uri(uniquePath()), { maxMessageSize: 2 * ONE_MIB });
      const binary = randomBytes(ONE_MIB);
      client.send(binary);
      assert.ok(binary.equals(client.recvBinary()));
      const text = "é".repeat(ONE_MIB / 2);
      client.send(text);
      assert.equal(client.recv(), text);
    });

    it("sends an iterable as one fragmented message", () => {
      using client = connect(peer.uri(uniquePath()));
      client.send(["frag", "ment", "ed"]);
      assert.equal(client.recv(), "fragmented");
      // Split between the halves of a surrogate pair: the worker's send() joins them.
      client.send("x\u{1f600}".split(""));
      assert.equal(client.recv(), "x\u{1f600}");
      client.send([Buffer.from([1]), new Uint8Array([2, 3])]);
      assert.deepEqual([...client.recvBinary()], [1, 2, 3]);
      // ArrayBuffers too, as a single message takes one.
      client.send([new Uint8Array([4]).buffer, Buffer.from([5])]);
      assert.deepEqual([...client.recvBinary()], [4, 5]);
      // A compile error, as for the async client: this is what a caller without types gets.
      assert.throws(() => client.send(["text", Buffer.from("bytes")] as never), TypeError);
      client.send("still open");
      assert.equal(client.recv(), "still open");
    });

    it("makes a fragmented message that mixes strings and bytes a compile error", () => {
      // Checked by tsc (npm run typecheck), never run: a @ts-expect-error
      // whose line compiles fails the build.
      function typed(client: ClientConnection): void {
        // @ts-expect-error: text and bytes in one message
        client.send(["a", new Uint8Array(2)]);
        // @ts-expect-error: text and bytes in one message
        client.send(new Set<string | ArrayBuffer>());
        client.send(["a", "b"]);
        client.send([new Uint8Array(1), Buffer.from("b"), new ArrayBuffer(1)]);
      }
      assert.equal(typeof typed, "function");
    });

    it("sends messages with { compress: false }", () => {
      // Our server negotiates permessage-deflate, ws's does not by default:
      // either way the message arrives whole (the RSV1 bit is checked in
      // compression.test.ts).
      using client = connect(peer.uri(uniquePath()));
      const text = "compressible ".repeat(100);
      client.send(text, { compress: false });
      assert.equal(client.recv(), text);
      client.sendBinary(Buffer.from(text), { compress: false });
      assert.equal(client.recvBinary().toString(), text);
      client.send([text, text], { compress: false });
      assert.equal(client.recv(), text + text);
      client.send(text);
      assert.equal(client.recv(), text);
    });

    it("refuses what it cannot send, and sends nothing for an empty iterable", () => {
      using client = connect(peer.uri(uniquePath()));
      const bytes = "an ArrayBuffer, a typed array such as Uint8Array, or a DataView";
      for (const [value, kind] of [
        [42, "a number"],
        [null, "null"],
        [{}, "an Object"],
        // Not bytes, though it holds some: a Blob is read asynchronously.
        [new Blob(["abc"]), "a Blob"],
      ] as const) {
        assert.throws(() => client.send(value as never), {
          name: "TypeError",
          message: `send() takes a string, bytes (${bytes}), or an iterable of them; got ${kind}`,
        });
      }
      // An iterable of numbers is not one of fragments, as a typed array is not.
      assert.throws(() => client.send([1, 2, 3] as never), {
        name: "TypeError",
        message: `fragments must be strings or bytes (${bytes}); got a number`,
      });
      assert.throws(() => client.send([new Blob([])] as never), /; got a Blob$/);
      for (const mixed of [
        ["text", Buffer.from("bytes")],
        [new Float32Array([1]), "text"],
      ]) {
        assert.throws(() => client.send(mixed as never), {
          name: "TypeError",
          message: "a fragmented message mixes strings and bytes",
        });
      }
      assert.throws(() => client.sendBinary("x" as never), {
        name: "TypeError",
        message: `sendBinary() takes bytes (${bytes}); got a string`,
      });
      assert.throws(() => client.sendText(Buffer.from("x") as never), TypeError);
      client.send([]);
      client.send("next");
      assert.equal(client.recv(), "next");
    });

    it("sends a typed array or a DataView as the bytes it covers: a message, fragments, sendBinary()", () => {
      using client = connect(peer.uri(uniquePath()));
      const views = offsetViews();
      const covered = views.map(coveredBytes);
      for (const [i, view] of views.entries()) {
        client.send(view);
        assert.deepEqual([...client.recvBinary()], covered[i], `send(${view.constructor.name})`);
        client.sendBinary(view);
        assert.deepEqual(
          [...client.recvBinary()],
          covered[i],
          `sendBinary(${view.constructor.name})`,
        );
      }
      // A fragment may be any view.
      client.send(views);
      assert.deepEqual([...client.recvBinary()], covered.flat(), "an array of views");
      function* generated() {
        yield* views;
      }
      client.send(generated());
      assert.deepEqual([...client.recvBinary()], covered.flat(), "a generator of views");
      // Copied to cross to the worker thread, not moved: the caller's buffer is intact.
      assert.deepEqual(
        coveredBytes(views[0].buffer),
        Array.from({ length: 64 }, (_, i) => i),
      );
      // A SharedArrayBuffer is taken as an ArrayBuffer is, as a view of one already was.
      const shared = new SharedArrayBuffer(8);
      new Uint8Array(shared).set([1, 2, 3, 4, 5, 6, 7, 8]);
      client.send(shared);
      assert.deepEqual([...client.recvBinary()], [1, 2, 3, 4, 5, 6, 7, 8]);
      client.send([new Int16Array(shared, 2, 1), shared]);
      assert.deepEqual([...client.recvBinary()], [3, 4, 1, 2, 3, 4, 5, 6, 7, 8]);
    });

    it("times out in recv() without losing the message that comes later", () => {
      using client = connect(peer.uri(uniquePath()));
      client.send("hold later");
      assert.throws(() => client.recv({ timeout: 50 }), TimeoutError);
      assert.throws(() => client.recv({ timeout: 0 }), TimeoutError);
      client.send("release");
      assert.equal(client.recv({ timeout: 10_000 }), "later");
      client.send("after the timeouts");
      assert.equal(client.recv(), "after the timeouts");
      assert.throws(() => client.recv({ timeout: -1 }), RangeError);
    });

    it("refuses a timeout that is not a number instead of not waiting at all", () => {
      using client = connect(peer.uri(uniquePath()));
      client.send("hold later");
      // "5000" used to make a deadline in the past: an immediate TimeoutError.
      assert.throws(() => client.recv({ timeout: "5000" as never }), {
        name: "TypeError",
        message: "timeout must be a number, got string",
      });
      assert.throws(() => client.recv({ timeout: 10n as never }), /got bigint/);
      assert.throws(() => client.send("x", { timeout: "5000" as never }), TypeError);
      assert.throws(() => client.ping("x", { timeout: "5000" as never }), TypeError);
      client.send("release");
      assert.equal(client.recv({ timeout: 10_000 }), "later");
    });

    it("refuses an unknown option, where a misspelled timeout would block for good", () => {
      using client = connect(peer.uri(uniquePath()));
      client.send("hold later");
      // With the check missing, the timeout bounds the wait: a TimeoutError.
      // @ts-expect-error: TypeScript rejects it at compile time.
      assert.throws(() => client.recv({ timout: 50, timeout: 2_000 }), {
        name: "TypeError",
        message: 'unknown option "timout" for recv(); did you mean "timeout"?',
      });
      assert.throws(() => client.recvText({ Timeout: 50, timeout: 2_000 } as never), {
        message: 'unknown option "Timeout" for recv(); did you mean "timeout"?',
      });
      // @ts-expect-error: TypeScript rejects it at compile time.
      assert.throws(() => client.send("x", { compres: false }), {
        name: "TypeError",
        message: 'unknown option "compres" for send(); did you mean "compress"?',
      });
      assert.throws(() => client.ping("x", { timeot: 50 } as never), {
        name: "TypeError",
        message: 'unknown option "timeot" for ping(); did you mean "timeout"?',
      });
      client.send("release");
      assert.equal(client.recv({ timeout: 10_000 }), "later");
    });

    it("receives many messages in order through a small window", () => {
      using client = connect(peer.uri(uniquePath()), { maxQueue: 2 });
      client.send("stream 200");
      for (let i = 0; i < 200; i++) assert.equal(client.recv(), `message ${i}`);
    });

    it("returns the latency of a ping", () => {
      using client = connect(peer.uri(uniquePath()));
      const latency = client.ping();
      assert.ok(latency >= 0);
      assert.equal(client.latency, latency);
      assert.ok(client.ping("custom", { timeout: 10_000 }) >= 0);
    });

    it("refuses ping data that is not a string or bytes, or over 125 bytes", () => {
      using client = connect(peer.uri(uniquePath()));
      // A number used to send that many zero bytes, 5e8 of them included.
      for (const [data, kind] of [
        [5, "a number"],
        [5e8, "a number"],
        [{}, "an Object"],
        [null, "null"],
        [[1, 2], "an Array"],
        [new Blob(["a"]), "a Blob"],
      ] as const) {
        assert.throws(() => client.ping(data as never), {
          name: "TypeError",
          message: `ping() takes a string or bytes (an ArrayBuffer, a typed array such as Uint8Array, or a DataView); got ${kind}`,
        });
      }
      assert.throws(() => client.ping("é".repeat(63)), /control frame payload exceeds 125 bytes/);
      assert.throws(() => client.ping(new Uint8Array(126)), InvalidState);
      assert.throws(() => client.ping(new ArrayBuffer(126)), InvalidState);
      // 128 bytes, and 126 of a larger buffer: refused as 126 bytes of a Uint8Array are.
      for (const view of [new Float32Array(32), new DataView(new ArrayBuffer(200), 10, 126)]) {
        assert.throws(() => client.ping(view), {
          name: "InvalidState",
          message: "control frame payload exceeds 125 bytes",
        });
      }
      assert.ok(client.ping(new DataView(new ArrayBuffer(200), 10, 125)) >= 0);
      assert.ok(client.ping("é".repeat(62)) >= 0);
      assert.ok(client.ping(new Uint8Array(125)) >= 0);
      assert.ok(client.ping(Uint8Array.of(1, 2, 3).buffer) >= 0);
      client.send("still open");
      assert.equal(client.recv(), "still open");
    });

    it("reports the closure when a ping fails on it, in state and closeCode too", () => {
      // The worker fails the ping, then reports the end of the connection: the
      // error must not be seen before the state it describes.
      let failed = 0;
      for (let i = 0; i < 10; i++) {
        const client = connect(peer.uri(uniquePath()));
        client.send("drop");
        try {
          client.ping(undefined, { timeout: 10_000 });
        } catch (error) {
          assert.ok(error instanceof ConnectionClosedError, String(error));
          assert.equal(client.state, State.CLOSED);
          assert.equal(client.closeCode, 1006);
          failed++;
        }
        client.close();
      }
      assert.ok(failed > 0, "the server dropped the connection before the pong at least once");
    });

    it("closes with the client's code and reason", async () => {
      const path = uniquePath();
      const client = connect(peer.uri(path));
      client.close(4000, "bye");
      assert.equal(client.state, State.CLOSED);
      assert.equal(client.closeCode, 4000);
      assert.equal(client.closeReason, "bye");
      const error = closeError(() => client.recv());
      assert.ok(error instanceof ConnectionClosedError);
      assert.equal(error.sent?.code, 4000);
      assert.throws(() => client.send("too late"), ConnectionClosedError);
      assert.throws(() => client.ping(), ConnectionClosedError);
      client.close(); // a second close does nothing
      assert.deepEqual(
        { ...(await peer.next("closed", path)) },
        { type: "closed", path, code: 4000, reason: "bye" },
      );
    });

    it("sends a close frame without a code for close(1005)", async () => {
      const path = uniquePath();
      const client = connect(peer.uri(path));
      client.close(1005);
      assert.equal(client.state, State.CLOSED);
      // RFC 6455 §7.1.5: an empty close frame is reported as 1005, both ways.
      assert.equal(client.closeCode, 1005);
      assert.throws(() => client.recv(), ConnectionClosedOK);
      assert.deepEqual(
        { ...(await peer.next("closed", path)) },
        { type: "closed", path, code: 1005, reason: "" },
      );
    });

    it("reports the server's close code and reason", async () => {
      const path = uniquePath();
      using client = connect(peer.uri(path));
      client.send("close 4001 server says no");
      const error = closeError(() => client.recv());
      assert.ok(error instanceof ConnectionClosedError);
      assert.equal(error.code, "ERR_CONNECTION_CLOSED_ERROR");
      assert.equal(error.rcvd?.code, 4001);
      assert.equal(error.rcvd?.reason, "server says no");
      assert.equal(error.closeCode, 4001);
      assert.match(error.message, /^received 4001 \(private use\) server says no; then sent 4001/);
      assert.equal(client.closeCode, 4001);
      assert.equal(client.closeReason, "server says no");
      assert.equal(client.state, State.CLOSED);
      assert.equal((await peer.next("closed", path)).code, 4001);
    });

    it("iterates until a normal closure, delivering the messages sent before it", () => {
      using client = connect(peer.uri(uniquePath()), { maxQueue: 1 });
      client.send("stream 3");
      client.send("close 1000 done");
      const received: unknown[] = [];
      for (const message of client) received.push(message);
      assert.deepEqual(received, ["message 0", "message 1", "message 2"]);
      assert.equal(client.closeCode, 1000);
      assert.throws(() => client.recv(), ConnectionClosedOK);
    });

    it("throws from the iterator after an abnormal closure", () => {
      using client = connect(peer.uri(uniquePath()));
      client.send("one");
      client.send("close 4002 abnormal");
      const received: unknown[] = [];
      assert.throws(() => {
        for (const message of client) received.push(message);
      }, ConnectionClosedError);
      assert.deepEqual(received, ["one"]);
    });

    it("closes with 1000 when a using block ends", async () => {
      const path = uniquePath();
      let escaped: ClientConnection;
      {
        using client = connect(peer.uri(path));
        escaped = client;
        client.send("inside");
        assert.equal(client.recv(), "inside");
      }
      assert.equal(escaped.state, State.CLOSED);
      assert.equal(escaped.closeCode, 1000);
      assert.equal((await peer.next("closed", path)).code, 1000);
    });

    it("reports a dropped TCP connection as 1006", () => {
      using client = connect(peer.uri(uniquePath()));
      client.send("drop");
      const error = closeError(() => client.recv({ timeout: 10_000 }));
      assert.ok(error instanceof ConnectionClosedError);
      assert.equal(error.rcvd, null);
      assert.equal(client.closeCode, 1006);
    });

    it("rejects an invalid close code and stays open", () => {
      using client = connect(peer.uri(uniquePath()));
      assert.throws(() => client.close(1006), InvalidState);
      // 3000.7 used to go out as 3000.
      assert.throws(() => client.close(3000.7), /invalid close code: 3000\.7/);
      assert.throws(() => client.close(1000.5), InvalidState);
      assert.throws(() => client.close(1005, "a reason needs a code"), InvalidState);
      assert.equal(client.state, State.OPEN);
      client.send("still open");
      assert.equal(client.recv(), "still open");
    });

    it("fails the connection with 1009 on a message over maxMessageSize", () => {
      using client = connect(peer.uri(uniquePath()), { maxMessageSize: 1024 });
      client.send("x".repeat(2048));
      const error = closeError(() => client.recv());
      assert.ok(error instanceof ConnectionClosedError);
      assert.equal(error.sent?.code, 1009);
    });

    it("sends the handshake options and negotiates a subprotocol", async () => {
      const path = uniquePath();
      using client = connect(new URL(peer.uri(path)), {
        subprotocols: ["chat"],
        origin: "https://app.example",
        additionalHeaders: { "X-Token": "abc" },
        userAgent: "sync-test/1",
      });
      assert.equal(client.subprotocol, "chat");
      assert.equal(client.response.headers.get("Sec-WebSocket-Protocol"), "chat");
      assert.equal(client.request.headers.get("X-Token"), "abc");
      const headers = new Map(
        (await peer.next("request", path)).headers.map(([name, value]) => [
          name.toLowerCase(),
          value,
        ]),
      );
      assert.equal(headers.get("origin"), "https://app.example");
      assert.equal(headers.get("x-token"), "abc");
      assert.equal(headers.get("user-agent"), "sync-test/1");
    });

    it("throws InvalidStatus when the server refuses the handshake", () => {
      let error: unknown;
      try {
        connect(peer.uri("/forbidden"));
      } catch (caught) {
        error = caught;
      }
      assert.ok(error instanceof InvalidStatus, String(error));
      assert.equal(error.code, "ERR_INVALID_STATUS");
      assert.equal(error.response.status, kind === "ours" ? 403 : 401);
      assert.match(error.message, /^server rejected WebSocket connection: HTTP 40[13]$/);
      assert.match(String(error.stack), /client\.test\.js/);
    });
  });
}

describe("sync connect() once the server sent its close frame", () => {
  let peer: Peer;
  before(async () => {
    peer = await Peer.start("lingering");
  });
  after(async () => {
    await peer[Symbol.asyncDispose]();
  });

  /** Blocks until the worker reported the closing handshake: the server's close frame arrived. */
  function untilClosing(client: ClientConnection): void {
    const pause = new Int32Array(new SharedArrayBuffer(4));
    const deadline = performance.now() + 5_000;
    while (client.state === State.OPEN && performance.now() < deadline)
      Atomics.wait(pause, 0, 0, 5);
  }

  it("says CLOSING, and send() waits for the end to throw how it closed", () => {
    // The server never closes the TCP connection: closeTimeout ends it.
    const client = connect(peer.uri(), { closeTimeout: 200 });
    untilClosing(client);
    assert.equal(client.state, State.CLOSING);
    assert.equal(client.closeCode, null, "known once closed");
    const error = closeError(() => client.send("too late"));
    assert.ok(error instanceof ConnectionClosedOK, String(error));
    assert.equal(error.rcvd?.code, 1000);
    assert.equal(error.rcvd?.reason, "bye");
    assert.equal(client.state, State.CLOSED);
    // The message sent before the close frame is still there.
    assert.equal(client.recv(), "last");
    client.close();
  });

  it("throws TimeoutError from send() when the closing connection outlasts the timeout", () => {
    const client = connect(peer.uri(), { closeTimeout: 1_000 });
    untilClosing(client);
    assert.throws(() => client.send("too late", { timeout: 20 }), TimeoutError);
    assert.equal(client.state, State.CLOSING);
    assert.throws(() => client.sendText("still too late", { timeout: 0 }), TimeoutError);
    client.close();
    assert.equal(client.state, State.CLOSED);
    assert.equal(client.closeCode, 1000);
  });
});

describe("sync connect(): pings with bytes from a view", () => {
  // The ws server reports the payload of each ping it receives; a ping's
  // latency alone would not tell, since the pong echoes whatever was sent.
  let peer: Peer;
  before(async () => {
    peer = await Peer.start("ws");
  });
  after(async () => {
    await peer[Symbol.asyncDispose]();
  });

  it("sends the bytes a typed array, a DataView or a SharedArrayBuffer covers", async () => {
    const path = uniquePath();
    const shared = new SharedArrayBuffer(3);
    new Uint8Array(shared).set([7, 8, 9]);
    const payloads = [...offsetViews(), shared];
    {
      using client = connect(peer.uri(path));
      for (const payload of payloads) assert.ok(client.ping(payload) >= 0);
    }
    for (const payload of payloads) {
      assert.deepEqual((await peer.next("ping", path)).data, coveredBytes(payload));
    }
  });
});
