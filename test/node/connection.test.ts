import assert from "node:assert/strict";
import { Buffer, constants } from "node:buffer";
import { once } from "node:events";
import type { Socket } from "node:net";
import { after, describe, it } from "node:test";
import { CloseCode } from "../../src/core/close-codes.js";
import {
  ConcurrencyError,
  ConnectionClosedError,
  ConnectionClosedOK,
  InvalidState,
} from "../../src/core/errors.js";
import { useNativeStreams } from "../../src/core/extensions/zlib-stream.js";
import type { Frame } from "../../src/core/frame.js";
import { Opcode } from "../../src/core/opcodes.js";
import { isPooled } from "../../src/core/outgoing.js";
import { State } from "../../src/core/state.js";
import { connect } from "../../src/node/client.js";
import {
  type Connection,
  type ConnectionOptions,
  DEFAULTS,
  resolveConnectionOptions,
} from "../../src/node/connection.js";
import { silentLogger } from "../../src/node/logger.js";
import { type ServerConnection, serve } from "../../src/node/server.js";
import { concat, coveredBytes, offsetViews } from "../helpers/bytes.js";
import { fromPeer } from "../helpers/protocol.js";
import { acceptRaw, closePayload, RawPeer, rawServer, writeUntilStalled } from "../helpers/raw.js";
import { deferred, echo, startServer, unhandledRejections, within } from "../helpers/server.js";

after(() => {
  assert.deepEqual(unhandledRejections(), []);
});

describe("Connection", () => {
  it("echoes text and binary messages", async () => {
    const { server, uri } = await startServer(echo);
    await using _server = server;
    await using ws = await connect(uri);
    await ws.send("Hello!");
    assert.equal(await ws.recv(), "Hello!");
    await ws.send(new Uint8Array([1, 2, 3]));
    assert.deepEqual([...((await ws.recv()) as Uint8Array)], [1, 2, 3]);
    await ws.send(new Uint8Array([4, 5]).buffer);
    assert.deepEqual([...(await ws.recvBinary())], [4, 5]);
    await ws.sendText("café");
    assert.equal(await ws.recvText(), "café");
    await ws.sendBinary(Buffer.from("bytes"));
    assert.equal(await ws.recvText(), "bytes");
    await ws.send("as bytes");
    assert.equal(Buffer.from(await ws.recvBinary()).toString(), "as bytes");
    assert.equal(ws.state, State.OPEN);
    assert.equal(ws.remoteAddress?.address, "127.0.0.1");
    assert.equal(typeof ws.localAddress?.port, "number");
  });

  it("refuses to read a binary message that is not UTF-8 as text, and stays open", async () => {
    const { server, uri } = await startServer(echo);
    await using _server = server;
    await using ws = await connect(uri);
    await ws.send(new Uint8Array([0xff, 0xfe, 0x41]));
    await assert.rejects(ws.recvText(), {
      name: "TypeError",
      message: /recvText\(\) received a binary message of 3 bytes that is not valid UTF-8/,
    });
    // The message was consumed, as with Python's recv(decode=True); the next one reads.
    await ws.sendBinary(Buffer.from("après"));
    assert.equal(await ws.recvText(), "après");
    assert.equal(ws.state, State.OPEN);
  });

  it("reports the close code and reason on both sides when the client closes", async () => {
    const closedOnServer = deferred<[number | null, string | null, unknown]>();
    const { server, uri } = await startServer(async (ws) => {
      const error = await ws.recv().catch((e: unknown) => e);
      await ws.closed;
      closedOnServer.resolve([ws.closeCode, ws.closeReason, error]);
    });
    await using _server = server;
    const ws = await connect(uri);
    await ws.close(1000, "done");
    assert.equal(ws.state, State.CLOSED);
    assert.equal(ws.closeCode, 1000);
    assert.equal(ws.closeReason, "done");
    const [code, reason, error] = await closedOnServer.promise;
    assert.equal(code, 1000);
    assert.equal(reason, "done");
    assert.ok(error instanceof ConnectionClosedOK);
    assert.equal(error.message, "received 1000 (OK) done; then sent 1000 (OK) done");
  });

  it("reports the close code and reason on both sides when the server closes", async () => {
    const { server, uri } = await startServer(async (ws) => {
      await ws.close(4000, "custom");
      assert.equal(ws.closeCode, 4000);
    });
    await using _server = server;
    await using ws = await connect(uri);
    const error = await ws.recv().catch((e: unknown) => e);
    assert.ok(error instanceof ConnectionClosedError);
    assert.equal(
      error.message,
      "received 4000 (private use) custom; then sent 4000 (private use) custom",
    );
    assert.equal(ws.closeCode, 4000);
    assert.equal(ws.closeReason, "custom");
  });

  it("ends iteration quietly on a normal close and throws on an abnormal one", async () => {
    const { server, uri } = await startServer(async (ws) => {
      const mode: unknown = await ws.recv();
      await ws.send("one");
      await ws.close(mode === "ok" ? 1000 : 1011, "");
      void mode;
    });
    await using _server = server;
    const received: unknown[] = [];
    {
      await using ws = await connect(uri);
      await ws.send("ok");
      for await (const message of ws) received.push(message);
    }
    assert.deepEqual([...received], ["one"]);
    await using ws = await connect(uri);
    await ws.send("error");
    await assert.rejects(async () => {
      for await (const message of ws) received.push(message);
    }, ConnectionClosedError);
    assert.deepEqual(received, ["one", "one"]);
  });

  it("raises ConnectionClosed from send() and recv() once closed", async () => {
    const { server, uri } = await startServer(echo);
    await using _server = server;
    const ws = await connect(uri);
    await ws.close();
    await assert.rejects(ws.send("late"), ConnectionClosedOK);
    await assert.rejects(ws.recv(), ConnectionClosedOK);
    await assert.rejects(ws.ping(), ConnectionClosedOK);
    await assert.rejects(ws.pong(), ConnectionClosedOK);
    await ws.close();
  });

  it("sends an iterable or an async iterable as one fragmented message", async () => {
    const frames = deferred<unknown[]>();
    const { server, uri } = await startServer(async (ws) => {
      const messages = [await ws.recv(), await ws.recv(), await ws.recv()];
      // An empty iterable sends nothing: the third message is the string after it.
      frames.resolve(messages);
    });
    await using _server = server;
    await using ws = await connect(uri);
    await ws.send(["Hel", "lo"]);
    async function* chunks() {
      yield Buffer.from([1]);
      yield Buffer.from([2, 3]);
    }
    await ws.send(chunks());
    await ws.send([]);
    await ws.send("last");
    const [text, binary, last] = await frames.promise;
    assert.equal(text, "Hello");
    assert.deepEqual([...(binary as Uint8Array)], [1, 2, 3]);
    assert.equal(last, "last");
  });

  it("takes ArrayBuffers among the fragments of a binary message, as it takes one alone", async () => {
    const { server, uri } = await startServer(echo);
    await using _server = server;
    await using ws = await connect(uri);
    await ws.send([new Uint8Array([1, 2]).buffer]);
    assert.deepEqual([...(await ws.recvBinary())], [1, 2]);
    await ws.send([Buffer.from([3]), new Uint8Array([4, 5]).buffer, new Uint8Array([6])]);
    assert.deepEqual([...(await ws.recvBinary())], [3, 4, 5, 6]);
    async function* buffers() {
      yield new Uint8Array([7]).buffer;
      yield Buffer.from([8]);
    }
    await ws.send(buffers());
    assert.deepEqual([...(await ws.recvBinary())], [7, 8]);
  });

  it("makes a fragmented message that mixes strings and bytes a compile error", () => {
    // Checked by tsc (npm run typecheck), never run: a @ts-expect-error whose
    // line compiles fails the build.
    function typed(ws: Connection): void {
      // @ts-expect-error: text and bytes in one message
      void ws.send(["a", new Uint8Array(2)]);
      // @ts-expect-error: text and bytes in one message
      void ws.send(["a", new ArrayBuffer(2)]);
      async function* mixed() {
        yield "a";
        yield new Uint8Array(2);
      }
      // @ts-expect-error: text and bytes in one message
      void ws.send(mixed());
      // @ts-expect-error: a Set is iterable too, and typed the same way
      void ws.send(new Set<string | Uint8Array>());
      // What does compile: one kind of fragment per message.
      void ws.send(["a", "b"]);
      void ws.send([new Uint8Array(1), Buffer.from("b"), new ArrayBuffer(1)]);
      void ws.send(new Set(["a"]));
      async function* text() {
        yield "a";
      }
      void ws.send(text());
      async function* bytes() {
        yield Buffer.from("a");
        yield new ArrayBuffer(1);
      }
      void ws.send(bytes());
    }
    assert.equal(typeof typed, "function");
  });

  it("carries a high surrogate that ends a text fragment over to the next fragment", async () => {
    const emoji = [0xf0, 0x9f, 0x98, 0x80]; // U+1F600, "\ud83d\ude00" in UTF-16
    const replacement = [0xef, 0xbf, 0xbd]; // U+FFFD
    // The fragments sent, the payloads of the frames that carry them, the message received.
    const cases: [string[], number[][], string][] = [
      [["a\ud83d", "\ude00b"], [[0x61], [...emoji, 0x62], []], "a\u{1f600}b"],
      ["x\u{1f600}".split(""), [[0x78], [], emoji, []], "x\u{1f600}"],
      // As TextEncoderStream: a lone surrogate still becomes U+FFFD, at the
      // end of the message or before anything but a low surrogate.
      [["a\ud83d"], [[0x61], replacement], "a\ufffd"],
      [["a\ud83d", "b"], [[0x61], [...replacement, 0x62], []], "a\ufffdb"],
      [["\ud83d\ud83d", "\ude00"], [replacement, emoji, []], "\ufffd\u{1f600}"],
      [["\ude00", "a"], [replacement, [0x61], []], "\ufffda"],
    ];
    const { server, port } = await startServer(async (ws) => {
      for (const [fragments] of cases) await ws.send(fragments);
      await ws.closed;
    });
    await using _server = server;
    const peer = await RawPeer.connect(port);
    await peer.handshake();
    for (const [fragments, payloads] of cases) {
      const frames: number[][] = [];
      for (;;) {
        const frame = await within(peer.readFrame(), 10_000, "a frame");
        assert.ok(frame !== null);
        assert.equal(frame.opcode, frames.length === 0 ? Opcode.TEXT : Opcode.CONT);
        frames.push([...frame.data]);
        if (frame.fin) break;
      }
      assert.deepEqual(frames, payloads, JSON.stringify(fragments));
    }
    peer.socket.destroy();
    // And end to end, through this library's own reader.
    const echoing = await startServer(echo);
    await using _echoing = echoing.server;
    await using ws = await connect(echoing.uri);
    for (const [fragments, , message] of cases) {
      await ws.send(fragments);
      assert.equal(await ws.recv(), message, JSON.stringify(fragments));
    }
    async function* split() {
      yield "\u{1f600}".slice(0, 1);
      yield "\u{1f600}".slice(1);
    }
    await ws.send(split());
    assert.equal(await ws.recv(), "\u{1f600}");
  });

  it("awaits the promises a sync iterable yields, as for await does", async () => {
    const { server, uri } = await startServer(echo);
    await using _server = server;
    await using ws = await connect(uri);
    const items = [Promise.resolve("Hel"), "lo"] as unknown as Iterable<string>;
    await ws.send(items);
    assert.equal(await ws.recv(), "Hello");
  });

  it("stops the source of a fragmented message it refuses, without waiting for it", async () => {
    const { server, uri } = await startServer(echo);
    await using _server = server;
    const ws = await connect(uri);
    let stopped = false;
    function* mixed() {
      try {
        yield "text";
        yield Buffer.from("bytes");
      } finally {
        stopped = true;
      }
    }
    // A compile error (see above): this is what a caller without types gets.
    await assert.rejects(ws.send(mixed() as never), TypeError);
    assert.equal(stopped, true);
    await ws.closed;
    assert.equal(ws.protocol.closeSent?.code, 1011);
  });

  it("refuses a fragmented message that mixes text and bytes, and fails the connection", async () => {
    const { server, uri } = await startServer(echo);
    await using _server = server;
    for (const mixed of [
      ["text", Buffer.from("bytes")],
      [new Float32Array([1]), "text"],
    ]) {
      const ws = await connect(uri);
      await assert.rejects(ws.send(mixed as never), {
        name: "TypeError",
        message: "a fragmented message mixes strings and bytes",
      });
      await ws.closed;
      assert.equal(ws.protocol.closeSent?.code, 1011);
    }
  });

  it("refuses what it cannot send", async () => {
    const { server, uri } = await startServer(echo);
    await using _server = server;
    await using ws = await connect(uri);
    const bytes = "an ArrayBuffer, a typed array such as Uint8Array, or a DataView";
    await assert.rejects(ws.send(42 as never), {
      name: "TypeError",
      message: `send() takes a string, bytes (${bytes}), a Blob, or an iterable of strings or bytes; got a number`,
    });
    await assert.rejects(ws.send(null as never), /; got null$/);
    await assert.rejects(ws.send({} as never), /; got an Object$/);
    // An iterable of numbers is not one of fragments, as a typed array is not.
    await assert.rejects(ws.send([1, 2, 3] as never), {
      name: "TypeError",
      message: `fragments must be strings or bytes (${bytes}); got a number`,
    });
    await assert.rejects(ws.send([new Blob([])] as never), /^TypeError: fragments .*; got a Blob$/);
    await assert.rejects(ws.ping(new Blob(["a"]) as never), {
      name: "TypeError",
      message: `ping() takes a string or bytes (${bytes}); got a Blob`,
    });
    await assert.rejects(ws.pong(42 as never), /^TypeError: pong\(\) takes .*; got a number$/);
    // Callers without types: the method names the kind of message, whatever is passed.
    await assert.rejects(ws.sendBinary("abc" as never), {
      name: "TypeError",
      message: `sendBinary() takes bytes (${bytes}) or a Blob; got a string`,
    });
    await assert.rejects(ws.sendText(new Uint8Array([0x61]) as never), {
      name: "TypeError",
      message: "sendText() takes a string; got a Uint8Array",
    });
    await assert.rejects(
      ws.sendText(["a", "b"] as never),
      /^TypeError: sendText\(\) takes a string; got an Array$/,
    );
    assert.equal(ws.state, State.OPEN, "nothing was sent");
    await assert.rejects(ws.close(1006), InvalidState);
    await assert.rejects(ws.close(1005, "a reason needs a code"), InvalidState);
    // Callers without types: "1000" is not reported as an invalid close code.
    const untyped = ws as unknown as { close(code: unknown, reason?: unknown): Promise<void> };
    await assert.rejects(untyped.close("1000"), {
      name: "TypeError",
      message: 'close() takes a close code as a number; got "1000"',
    });
    await assert.rejects(untyped.close(1000, 42), {
      name: "TypeError",
      message: "close() takes a reason as a string; got 42",
    });
    assert.equal(ws.state, State.OPEN);
    // A close code is an integer: 3000.5 is refused, not sent as 3000.
    await assert.rejects(ws.close(3000.5), /invalid close code: 3000\.5/);
    await ws.send("still open");
    assert.equal(await ws.recv(), "still open");
  });

  it("sends a typed array or a DataView as the bytes it covers: a message, fragments, sendBinary(), ping(), pong()", async () => {
    const accepted = deferred<RawPeer>();
    await using raw = await rawServer((peer) => {
      void acceptRaw(peer).then(() => accepted.resolve(peer));
    });
    const ws = await connect(`ws://127.0.0.1:${raw.port}`);
    const peer = await accepted.promise;
    /** The frames of the next message, or the next control frame, as [opcode, payload]. */
    async function nextFrames(): Promise<[Opcode, number[]][]> {
      const frames: [Opcode, number[]][] = [];
      for (;;) {
        const frame = await within(peer.readFrame(), 10_000, "a frame");
        assert.ok(frame !== null);
        frames.push([frame.opcode, [...frame.data]]);
        if (frame.fin) return frames;
      }
    }
    const views = offsetViews();
    const covered = views.map(coveredBytes);
    for (const [i, view] of views.entries()) {
      const name = view.constructor.name;
      await ws.send(view);
      assert.deepEqual(await nextFrames(), [[Opcode.BINARY, covered[i]]], `send(${name})`);
      await ws.sendBinary(view);
      assert.deepEqual(await nextFrames(), [[Opcode.BINARY, covered[i]]], `sendBinary(${name})`);
      const pinging = ws.ping(view);
      assert.deepEqual(await nextFrames(), [[Opcode.PING, covered[i]]], `ping(${name})`);
      peer.writeFrame(Opcode.PONG, new Uint8Array(covered[i]!));
      assert.ok((await within(pinging, 10_000, "the pong")) >= 0);
      await ws.pong(view);
      assert.deepEqual(await nextFrames(), [[Opcode.PONG, covered[i]]], `pong(${name})`);
    }
    // A fragment may be any view, from a sync or an async iterable.
    const fragmented: [Opcode, number[]][] = [
      [Opcode.BINARY, covered[0]!],
      [Opcode.CONT, covered[1]!],
      [Opcode.CONT, covered[2]!],
      [Opcode.CONT, []],
    ];
    await ws.send(views);
    assert.deepEqual(await nextFrames(), fragmented, "an array of views");
    async function* generated() {
      yield* views;
    }
    await ws.send(generated());
    assert.deepEqual(await nextFrames(), fragmented, "an async generator of views");
    // A SharedArrayBuffer is taken as an ArrayBuffer is, as a view of one already was.
    const shared = new SharedArrayBuffer(8);
    new Uint8Array(shared).set([1, 2, 3, 4, 5, 6, 7, 8]);
    await ws.send(shared);
    assert.deepEqual(await nextFrames(), [[Opcode.BINARY, [1, 2, 3, 4, 5, 6, 7, 8]]]);
    await ws.send([new Int16Array(shared, 2, 1), shared]);
    assert.deepEqual(await nextFrames(), [
      [Opcode.BINARY, [3, 4]],
      [Opcode.CONT, [1, 2, 3, 4, 5, 6, 7, 8]],
      [Opcode.CONT, []],
    ]);
    await ws.pong(shared);
    assert.deepEqual(await nextFrames(), [[Opcode.PONG, [1, 2, 3, 4, 5, 6, 7, 8]]]);
    const closing = ws.close();
    assert.equal((await within(peer.readFrame(), 10_000, "the close frame"))?.opcode, Opcode.CLOSE);
    peer.socket.end(Buffer.from([0x88, 0x02, 0x03, 0xe8]));
    await closing;
    assert.equal(ws.closeCode, 1000);
  });

  it("sends the samples of a Float32Array over part of a larger buffer, compressed or not", async () => {
    const { server, uri } = await startServer(async (ws) => {
      // The server sends views too: its samples, back as it read them.
      for await (const message of ws) {
        const bytes = message as Uint8Array;
        const samples = new Float32Array(bytes.byteLength / 4 + 2);
        new Uint8Array(samples.buffer, 4, bytes.byteLength).set(bytes);
        await ws.send(samples.subarray(1, -1));
      }
    });
    await using _server = server;
    const buffer = new ArrayBuffer(4 * 1002);
    const samples = new Float32Array(buffer, 4, 1000);
    samples.forEach((_, i) => {
      samples[i] = Math.sin(i / 10);
    });
    for (const compression of [undefined, null]) {
      await using ws = await connect(uri, { compression });
      assert.equal(ws.response?.headers.has("Sec-WebSocket-Extensions"), compression === undefined);
      await ws.send(samples);
      const received = await ws.recvBinary();
      assert.equal(received.byteLength, 4000);
      // A copy of its own: the received bytes need not start at a multiple of 4.
      assert.deepEqual(new Float32Array(new Uint8Array(received).buffer), samples);
    }
  });

  it("sends an empty message for a view of a detached buffer, with a promise, not a throw", async () => {
    const { server, uri } = await startServer(echo);
    await using _server = server;
    await using ws = await connect(uri);
    const buffer = new ArrayBuffer(8);
    const views = [new DataView(buffer, 2), new Uint16Array(buffer, 2, 2)];
    // Transferring a buffer detaches it.
    structuredClone(buffer, { transfer: [buffer] });
    for (const sent of [ws.send(views[0]!), ws.sendBinary(views[1]!), ws.send(buffer)]) {
      assert.ok(sent instanceof Promise);
      await sent;
      assert.equal((await ws.recv()).length, 0);
    }
  });

  it("refuses a ping or a pong over 125 bytes from a view as from a Uint8Array", async () => {
    const { server, uri } = await startServer(echo);
    await using _server = server;
    await using ws = await connect(uri);
    const refusal = await outcome(ws.ping(new Uint8Array(126)));
    assert.ok(refusal instanceof InvalidState);
    // 128 bytes, and 126 of a larger buffer.
    for (const view of [new Float32Array(32), new DataView(new ArrayBuffer(200), 10, 126)]) {
      for (const control of [ws.ping(view), ws.pong(view)]) {
        const error = await outcome(control);
        assert.ok(error instanceof InvalidState);
        assert.equal(error.message, refusal.message);
      }
    }
    // 125 bytes of a larger buffer, which the limit is not about.
    assert.ok((await ws.ping(new DataView(new ArrayBuffer(200), 10, 125))) >= 0);
    await ws.send("still open");
    assert.equal(await ws.recv(), "still open");
  });

  it("sends a close frame without a code for close(1005)", async () => {
    const seen = deferred<[number | null, number | undefined]>();
    const { server, uri } = await startServer(async (ws) => {
      for await (const message of ws) await ws.send(message);
      await ws.closed;
      seen.resolve([ws.closeCode, ws.protocol.closeRcvd?.code]);
    });
    await using _server = server;
    const ws = await connect(uri);
    await ws.close(1005);
    // RFC 6455 §7.1.5: an empty close frame is reported as 1005, and the
    // server echoes the empty payload.
    assert.deepEqual(await seen.promise, [1005, 1005]);
    assert.equal(ws.closeCode, 1005);
    assert.equal(ws.closeReason, "");
  });

  it("queues sends behind a fragmented message in progress", async () => {
    const { server, uri } = await startServer(echo);
    await using _server = server;
    await using ws = await connect(uri);
    const gate = deferred();
    async function* slow() {
      yield "a";
      await gate.promise;
      yield "b";
    }
    const fragmented = ws.send(slow());
    const plain = ws.send("after");
    gate.resolve();
    await Promise.all([fragmented, plain]);
    assert.equal(await ws.recv(), "ab");
    assert.equal(await ws.recv(), "after");
  });

  it("rejects sends behind a stalled fragmented message once the connection closes", async () => {
    // The source of a fragmented message stalls (a slow upstream, a stream
    // cut off with the network): the message never completes.
    for (const [ending, ErrorClass] of [
      ["lost", ConnectionClosedError],
      ["closed", ConnectionClosedOK],
    ] as const) {
      const opened = deferred<ServerConnection>();
      const { server, uri } = await startServer(async (ws) => {
        opened.resolve(ws);
        await ws.closed;
      });
      await using _server = server;
      const ws = await connect(uri);
      const serverSide = await opened.promise;
      const resume = deferred();
      async function* stalling() {
        yield "first fragment";
        await resume.promise;
        yield "after the connection closed";
      }
      // Handled from the start: they reject while the test awaits other things.
      const fragmented = assert.rejects(ws.send(stalling()), ErrorClass, ending);
      const queued = assert.rejects(ws.send("queued behind it"), ErrorClass, ending);
      let closing: Promise<void> | null = null;
      if (ending === "lost") {
        serverSide.terminate();
      } else {
        // RFC 6455 §5.4: a close frame may come between the fragments of a message.
        closing = ws.close();
        await assert.rejects(ws.send("sent while closing"), ErrorClass, ending);
      }
      await ws.closed;
      await closing;
      await queued;
      await assert.rejects(ws.send("sent once closed"), ErrorClass, ending);
      await assert.rejects(ws.send(["fragmented, sent once closed"]), ErrorClass, ending);
      // The stalled message fails without waiting for its source to go on.
      await fragmented;
      resume.resolve();
    }
  });

  it("rejects a fragmented send() whose source stalls once the connection closes, and stops the source", async () => {
    for (const [ending, ErrorClass] of [
      ["the peer closes", ConnectionClosedOK],
      ["close() is called", ConnectionClosedOK],
      ["the connection is lost", ConnectionClosedError],
    ] as const) {
      const opened = deferred<ServerConnection>();
      // What each send() settled with: null, or its error.
      const sent = deferred<[Promise<unknown>, Promise<unknown>]>();
      // Never resolved while the connection lives: the source awaits it forever.
      const stall = deferred();
      const finalized = deferred();
      let pulled = 0;
      async function* stalling() {
        try {
          pulled++;
          yield "first fragment";
          pulled++;
          await stall.promise;
          yield "after the connection closed";
        } finally {
          finalized.resolve();
        }
      }
      const { server, port } = await startServer(async (ws) => {
        opened.resolve(ws);
        sent.resolve([outcome(ws.send(stalling())), outcome(ws.send("queued behind it"))]);
        await ws.closed;
      });
      await using _server = server;
      const peer = await RawPeer.connect(port);
      await peer.handshake();
      const ws = await opened.promise;
      const [fragmented, queued] = await sent.promise;
      const first = await peer.readFrame();
      assert.deepEqual([first?.opcode, first?.fin], [Opcode.TEXT, false], ending);
      if (ending === "the peer closes") {
        // RFC 6455 §5.4: a close frame may come between the fragments of a message.
        peer.writeFrame(Opcode.CLOSE, new Uint8Array([0x03, 0xe8])); // 1000
      } else if (ending === "close() is called") {
        void ws.close();
        const close = await peer.readUntilClose();
        peer.writeFrame(Opcode.CLOSE, close!.data);
      } else {
        peer.socket.destroy();
      }
      // Without waiting for the source to yield again (it never will).
      const error = await within(fragmented, 10_000, `${ending}: the fragmented send() settled`);
      assert.ok(error instanceof ErrorClass, `${ending}: ${error}`);
      const queuedError = await queued;
      assert.ok(queuedError instanceof ErrorClass, `${ending}: ${queuedError}`);
      await ws.closed;
      assert.equal(pulled, 2, `${ending}: nothing more was asked of the source`);
      // return() reaches a generator suspended at an await only once it
      // yields again: its finally block runs then, and the value it yields is dropped.
      stall.resolve();
      await within(finalized.promise, 10_000, `${ending}: the source's finally block ran`);
      peer.socket.destroy();
    }
  });

  it("neither waits for the source's return() nor reports its rejection when giving up on it", async () => {
    const { server, uri } = await startServer(async (ws) => {
      await ws.recv().catch(() => {});
    });
    await using _server = server;
    // Cleanup that never settles, then cleanup that fails.
    for (const cleanup of [
      () => new Promise<never>(() => {}),
      () => Promise.reject(new Error("cleanup")),
    ]) {
      let returned = 0;
      let pulled = 0;
      // A source that stalls after its first item, and whose return() is the cleanup.
      const source: AsyncIterableIterator<string> = {
        next: () =>
          ++pulled === 1
            ? Promise.resolve({ value: "first fragment", done: false })
            : new Promise<never>(() => {}),
        return: () => {
          returned++;
          return cleanup();
        },
        [Symbol.asyncIterator]() {
          return this;
        },
      };
      const ws = await connect(uri);
      const fragmented = ws.send(source);
      await ws.ping(); // the pong follows the first fragment
      ws.terminate();
      await within(
        assert.rejects(fragmented, ConnectionClosedError),
        10_000,
        "the fragmented send() rejected",
      );
      assert.deepEqual([pulled, returned], [2, 1]);
    }
    // A turn for a rejection nobody handled to be reported: after() checks there is none.
    await new Promise((resolve) => setImmediate(resolve));
  });

  it("measures latency with ping()", async () => {
    const { server, uri } = await startServer(echo);
    await using _server = server;
    await using ws = await connect(uri);
    const latency = await ws.ping();
    assert.ok(latency >= 0);
    assert.equal(ws.latency, latency);
    const [a, b, c] = await Promise.all([
      ws.ping("a"),
      ws.ping(Buffer.from("b")),
      ws.ping(new Uint8Array([99]).buffer),
    ]);
    assert.ok(a >= 0 && b >= 0 && c >= 0);
    const pending = ws.ping("same");
    await assert.rejects(ws.ping("same"), ConcurrencyError);
    await pending;
    await ws.pong("unsolicited");
    await ws.pong(new ArrayBuffer(1));
  });

  it("rejects pending pings when the connection closes", async () => {
    const { server, uri } = await startServer(async (ws) => {
      ws.protocol.sendClose(1000);
      await ws.closed;
    });
    await using _server = server;
    await using ws = await connect(uri);
    const results = await Promise.allSettled([ws.ping()]);
    assert.equal(results[0].status, "rejected");
  });

  it("lets recv() be aborted without losing the next message", async () => {
    const release = deferred();
    const { server, uri } = await startServer(async (ws) => {
      await release.promise;
      await ws.send("kept");
      await ws.recv().catch(() => {});
    });
    await using _server = server;
    await using ws = await connect(uri);
    const controller = new AbortController();
    const aborted = ws.recv({ signal: controller.signal });
    controller.abort(new Error("stop waiting"));
    await assert.rejects(aborted, /stop waiting/);
    await assert.rejects(ws.recv({ signal: AbortSignal.abort(new Error("already")) }), /already/);
    release.resolve();
    const withSignal = new AbortController();
    assert.equal(await ws.recv({ signal: withSignal.signal }), "kept");
  });

  it("takes null options or a null signal as no signal, and never throws synchronously", async () => {
    const { server, uri } = await startServer(echo);
    await using _server = server;
    await using ws = await connect(uri);
    // As in fetch()'s RequestInit, a signal may be null: `{ signal: options.signal ?? null }`.
    const receivers = [
      () => ws.recv(null),
      () => ws.recv({ signal: null }),
      () => ws.recvText(null),
      () => ws.recvText({ signal: null }),
      () => ws.recvBinary(null),
      () => ws.recvBinary({ signal: null }),
    ];
    for (const [i, receive] of receivers.entries()) {
      const received = receive();
      await ws.send(`message ${i}`);
      const message = await received;
      assert.equal(Buffer.from(message).toString(), `message ${i}`);
    }
  });

  it("refuses two concurrent recv() calls", async () => {
    const { server, uri } = await startServer(echo);
    await using _server = server;
    await using ws = await connect(uri);
    const first = ws.recv();
    await assert.rejects(ws.recv(), ConcurrencyError);
    await ws.send("x");
    assert.equal(await first, "x");
  });

  it("names both ways of reading when two for await loops read at once", async () => {
    const { server, uri } = await startServer(echo);
    await using _server = server;
    await using ws = await connect(uri);
    const first = ws[Symbol.asyncIterator]().next();
    // The application never called recv(): the message must not say it did.
    await assert.rejects(
      async () => {
        for await (const _ of ws) break;
      },
      {
        name: "ConcurrencyError",
        message: "cannot read a message (recv() or for await) while another read is waiting",
      },
    );
    await ws.send("x");
    assert.deepEqual(await first, { value: "x", done: false });
  });

  it("closes idempotently and through await using", async () => {
    let serverSide: ServerConnection | null = null;
    const { server, uri } = await startServer(async (ws) => {
      serverSide = ws;
      await ws.recv().catch(() => {});
    });
    await using _server = server;
    {
      await using ws = await connect(uri);
      await ws.send("x");
    }
    const ws = await connect(uri);
    await Promise.all([ws.close(), ws.close(1001)]);
    assert.equal(ws.closeCode, 1000);
    assert.notEqual(serverSide, null);
  });

  it("makes send() wait when the peer does not read, instead of buffering without bound", async () => {
    const release = deferred();
    const { server, uri } = await startServer(
      async (ws) => {
        await release.promise;
        for await (const _ of ws);
      },
      { maxQueue: 1, maxMessageSize: null },
    );
    await using _server = server;
    // Without compression: zeros would deflate to almost nothing and never fill the socket.
    await using ws = await connect(uri, { writeHighWaterMark: 256 * 1024, compression: null });
    const chunk = new Uint8Array(1024 * 1024);
    let sent = 0;
    let stalled = false;
    // Send until one send() does not complete while the peer holds back.
    while (!stalled && sent < 256) {
      const sending = ws.send(chunk);
      const outcome = await Promise.race([
        sending.then(() => "sent"),
        new Promise((resolve) => setTimeout(resolve, 500, "waiting")),
      ]);
      if (outcome === "waiting") {
        stalled = true;
        release.resolve();
        await sending;
      }
      sent++;
    }
    assert.ok(stalled, "send() waited for the peer");
    assert.ok(sent < 256, `sent ${sent} MiB before waiting`);
  });

  it("rejects a send() waiting for drain when the connection is lost, as its bytes were discarded", async () => {
    const mark = 1024;
    for (const fill of ["one large message", "a message per turn"] as const) {
      const opened = deferred<ServerConnection>();
      const { server, port } = await startServer(
        async (ws) => {
          opened.resolve(ws);
          await ws.closed;
        },
        { writeHighWaterMark: mark, compression: null },
      );
      await using _server = server;
      const peer = await RawPeer.connect(port);
      await peer.handshake();
      peer.socket.pause();
      const ws = await opened.promise;
      const socket = socketOf(ws);
      const payload = new Uint8Array(8000);
      if (fill === "one large message") {
        // More than the kernel's buffers hold: the socket's own buffer
        // passes its mark, and the connection waits for its 'drain'.
        void ws.send(new Uint8Array(32 * 1024 * 1024)).catch(() => {});
        assert.equal(socket.writableNeedDrain, true, fill);
      } else {
        // Until the kernel takes no more, then a little: the socket stays
        // under its own mark, and the callback of an empty write stands in
        // for 'drain'; a destroyed socket calls it back too.
        while (socket.writableLength <= mark) {
          void ws.send(payload).catch(() => {});
          await new Promise((resolve) => setImmediate(resolve));
        }
        assert.equal(socket.writableNeedDrain, false, fill);
      }
      const sends = [ws.send(payload), ws.send("after it")];
      assert.ok(ws.bufferedAmount > mark, fill);
      peer.socket.destroy();
      for (const sending of sends) await assert.rejects(sending, ConnectionClosedError, fill);
      assert.equal(ws.closeCode, 1006);
    }
  });

  it("resolves a send() waiting for drain once the socket wrote everything, closing or not", async () => {
    for (const ending of ["normal close", "failure"] as const) {
      const opened = deferred<ServerConnection>();
      const { server, port } = await startServer(
        async (ws) => {
          opened.resolve(ws);
          await ws.closed;
        },
        { writeHighWaterMark: 1024, compression: null },
      );
      await using _server = server;
      const peer = await RawPeer.connect(port);
      await peer.handshake();
      peer.socket.pause();
      const ws = await opened.promise;
      const big = new Uint8Array(16 * 1024 * 1024);
      const sending = ws.send(big);
      assert.ok(ws.bufferedAmount > 1024, ending);
      let closing: Promise<void> | null = null;
      if (ending === "normal close") {
        closing = ws.close();
      } else {
        // RFC 6455 §7.1.7: a server that fails the connection closes TCP
        // at once; an ending socket emits 'finish' once written, not 'drain'.
        ws.protocol.fail(CloseCode.INTERNAL_ERROR, "");
        // biome-ignore lint/complexity/useLiteralKeys: element access reaches a protected member.
        ws["afterProtocolStep"]();
      }
      peer.socket.resume();
      assert.equal((await peer.readFrame())?.data.length, big.length, ending);
      const close = await peer.readFrame();
      assert.equal(close?.opcode, Opcode.CLOSE, ending);
      peer.writeFrame(Opcode.CLOSE, close!.data);
      await sending;
      await closing;
      await ws.closed;
      if (ending === "normal close") assert.equal(ws.closeCode, 1000);
    }
  });

  it("refuses send(), pong() and close() in the tick of terminate(), before the socket reports its close", async () => {
    const serverGot: string[] = [];
    const serverDone = deferred();
    const { server, uri } = await startServer(async (ws) => {
      try {
        for await (const message of ws) serverGot.push(String(message));
      } catch {
        // The client's terminate().
      }
      serverDone.resolve();
    });
    await using _server = server;
    const client = await connect(uri);
    client.terminate();
    assert.equal(client.state, State.CLOSING, "closed once the socket says so");
    const outcomes = await Promise.allSettled([
      client.send("after terminate()"),
      client.send(["frag", "ments"]),
      client.pong("p"),
    ]);
    for (const outcome of outcomes) {
      assert.equal(outcome.status, "rejected");
      assert.ok((outcome as PromiseRejectedResult).reason instanceof ConnectionClosedError);
    }
    // close() sends nothing now: it waits for the end, which no close frame preceded.
    await client.close(1000);
    assert.equal(client.closeCode, 1006);
    const error = await client.recv().catch((e: unknown) => e);
    assert.ok(error instanceof ConnectionClosedError);
    assert.equal(error.sent, null, "no close frame was sent");
    await serverDone.promise;
    assert.deepEqual(serverGot, []);
  });

  it("terminate() drops the connection without a closing handshake, on either side", async () => {
    const serverSaw = deferred<unknown>();
    const { server, uri } = await startServer(async (ws) => {
      try {
        for await (const _ of ws);
        serverSaw.resolve("ended quietly");
      } catch (error) {
        serverSaw.resolve(error);
      }
    });
    await using _server = server;
    const client = await connect(uri);
    await client.send("before");
    client.terminate();
    client.terminate();
    await client.closed;
    assert.equal(client.closeCode, 1006);
    assert.equal(client.bufferedAmount, 0);
    await assert.rejects(client.recv(), ConnectionClosedError);
    const error = await serverSaw.promise;
    assert.ok(error instanceof ConnectionClosedError, `the server's handler got ${error}`);
    assert.equal(error.rcvd, null, "no close frame reached the server");

    // From the server's side, the client sees 1006 too.
    const terminated = deferred<number | null>();
    const { server: killer, uri: killerUri } = await startServer(async (ws) => {
      ws.terminate();
      await ws.closed;
      terminated.resolve(ws.closeCode);
    });
    await using _killer = killer;
    const victim = await connect(killerUri);
    await victim.closed;
    assert.equal(victim.closeCode, 1006);
    assert.equal(await terminated.promise, 1006);
  });

  it("terminate() after a clean close changes nothing", async () => {
    const { server, uri } = await startServer(echo);
    await using _server = server;
    const client = await connect(uri);
    await client.close();
    client.terminate();
    assert.equal(client.closeCode, 1000);
  });

  it("reports the bytes waiting to be written in bufferedAmount", async () => {
    const { server, uri, release } = await startStallingServer();
    await using _server = server;
    await using client = await connect(uri, { compression: null });
    assert.equal(client.bufferedAmount, 0);
    const sends = fillUntilBackedUp(client);
    assert.ok(client.bufferedAmount > 0, `nothing waiting after ${sends.length} MiB`);
    release.resolve();
    await Promise.all(sends);
    // The pong follows every byte sent before the ping: they were all written.
    await client.ping();
    assert.equal(client.bufferedAmount, 0);
  });

  it("writes copies, not views of the shared slab, to a socket that is backed up", async () => {
    const { server, uri, release } = await startStallingServer();
    await using _server = server;
    await using client = await connect(uri, { compression: null });
    const socket = socketOf(client);
    const written: Uint8Array[] = [];
    const write = socket.write;
    socket.write = function (this: Socket, chunk: Uint8Array, ...rest: unknown[]) {
      written.push(chunk);
      return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
    } as typeof socket.write;
    await client.send("small, while nothing waits");
    await client.ping();
    assert.equal(isPooled(written[0]!), true, "an idle socket gets the slab's bytes as they are");
    const sends = fillUntilBackedUp(client);
    assert.ok(socket.writableLength > 0);
    written.length = 0;
    sends.push(client.send("small, behind the backlog"));
    // The frame is written at the end of this turn.
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(written.length, 1);
    assert.equal(isPooled(written[0]!), false, "a backed-up socket gets a copy");
    assert.equal(written[0]!.length, 2 + 4 + 25, "the whole masked frame");
    release.resolve();
    await Promise.all(sends);
  });

  it("writes views of one shared slab at most, so a write the kernel defers pins one slab", async () => {
    // Two connections' small frames, interleaved in one turn as a broadcast
    // interleaves them, spread each connection's frames over several slabs.
    const received = [deferred<unknown[]>(), deferred<unknown[]>()];
    let accepted = 0;
    const { server, uri } = await startServer(async (ws) => {
      const mine = received[accepted++]!;
      const messages: unknown[] = [];
      for await (const message of ws) messages.push(message);
      mine.resolve(messages);
    });
    await using _server = server;
    const first = await connect(uri, { compression: null });
    const second = await connect(uri, { compression: null });
    // The chunks of each corked write, which leave in one writev() and which
    // the socket keeps together if the kernel does not take them all.
    const socket = socketOf(first);
    const corkedWrites: Uint8Array[][] = [];
    let corked: Uint8Array[] | null = null;
    const { cork, uncork, write } = socket;
    socket.cork = function (this: Socket) {
      corked = [];
      cork.call(this);
    };
    socket.uncork = function (this: Socket) {
      if (corked !== null) corkedWrites.push(corked);
      corked = null;
      uncork.call(this);
    };
    socket.write = function (this: Socket, chunk: Uint8Array, ...rest: unknown[]) {
      corked?.push(chunk);
      return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
    } as typeof socket.write;
    const sends: Promise<void>[] = [];
    const payloads: string[] = [];
    for (let i = 0; i < 200; i++) {
      const payload = `${String(i).padStart(3, "0")}${"x".repeat(997)}`;
      payloads.push(payload);
      sends.push(first.send(payload), second.send(payload));
    }
    await Promise.all(sends);
    assert.ok(corkedWrites.length > 0, "no corked write");
    let copies = 0;
    for (const chunks of corkedWrites) {
      const pooled = chunks.filter((chunk) => isPooled(chunk));
      const slabs = new Set(pooled.map((chunk) => chunk.buffer));
      assert.ok(slabs.size <= 1, `one write of ${pooled.length} views of ${slabs.size} slabs`);
      // Every frame here is small, so in a slab: what is not is a copy of
      // frames from other slabs, one per run of them.
      copies += chunks.length - pooled.length;
      assert.ok(chunks.length - pooled.length <= pooled.length + 1, "runs copied together");
    }
    assert.ok(copies > 0, "the frames came from one slab: nothing to test");
    await first.close();
    await second.close();
    // Copied or not, every frame arrived whole and in order, on both connections.
    assert.deepEqual(await received[0]!.promise, payloads);
    assert.deepEqual(await received[1]!.promise, payloads);
  });

  it("closes cleanly while its queue is full and the peer is still sending", async () => {
    // The peer's messages fill the queue, which pauses reading; the peer's
    // close frame then waits behind megabytes that close() must read past.
    const serverClosed = deferred<number | null>();
    const { server, uri } = await startServer(
      async (ws) => {
        const payload = new Uint8Array(64 * 1024);
        try {
          for (let i = 0; i < 200; i++) await ws.send(payload);
        } catch {
          // The client's close ends the loop.
        }
        await ws.closed;
        serverClosed.resolve(ws.closeCode);
      },
      { maxMessageSize: null, compression: null },
    );
    await using _server = server;
    const ws = await connect(uri, { compression: null, maxQueue: 4, closeTimeout: 5_000 });
    await once(socketOf(ws), "pause");
    await ws.close();
    assert.equal(ws.closeCode, 1000, "the closing handshake completed");
    assert.equal(await serverClosed.promise, 1000);
    // The messages queued before the close are still there to read.
    let read = 0;
    for await (const message of ws) {
      assert.equal((message as Uint8Array).length, 64 * 1024);
      read++;
    }
    assert.ok(read >= 4, `read ${read} queued messages`);
  });
});

/** What a promise settles with: `null` once fulfilled, its reason once rejected; never rejects. */
function outcome(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => null,
    (reason: unknown) => reason,
  );
}

/** A server whose handlers read nothing until `release` is resolved, with a queue of one message. */
async function startStallingServer() {
  const release = deferred();
  const started = await startServer(
    async (ws) => {
      await release.promise;
      for await (const _ of ws);
    },
    { maxMessageSize: null, maxQueue: 1 },
  );
  return { ...started, release };
}

/**
 * Sends 1 MiB messages to a peer that stopped reading until bytes wait in
 * the connection, once the kernel's buffers are full; returns the sends.
 */
function fillUntilBackedUp(client: Connection): Promise<void>[] {
  const payload = new Uint8Array(1024 * 1024);
  const sends: Promise<void>[] = [];
  while (client.bufferedAmount === 0 && sends.length < 64) sends.push(client.send(payload));
  return sends;
}

/** The socket a connection writes to; tests reach the protected member to watch its writes. */
function socketOf(connection: Connection): Socket {
  // biome-ignore lint/complexity/useLiteralKeys: element access reaches a protected member.
  return connection["socket"];
}

describe("Connection, close() during a fragmented send", () => {
  /** A server that reads every message, then reports them and the close code it received. */
  async function startCollectingServer(options?: Parameters<typeof startServer>[1]) {
    const received = deferred<[unknown[], number | null, string | null]>();
    const started = await startServer(async (ws) => {
      const messages: unknown[] = [];
      for await (const message of ws) messages.push(message);
      received.resolve([messages, ws.closeCode, ws.closeReason]);
    }, options);
    return { ...started, received: received.promise };
  }

  it("sends the messages sent before close() whole, fragments of arrays and sync iterables included", async () => {
    const { server, uri, received } = await startCollectingServer();
    await using _server = server;
    const ws = await connect(uri);
    function* generated() {
      yield Buffer.from([1]);
      yield Buffer.from([2]);
    }
    // Not awaited: close() comes in the same turn, after the first fragment went out.
    const sent = [
      ws.send(["hel", "lo"]),
      // Sends nothing, and ends as soon as it starts: the rest still go before the close frame.
      ws.send([]),
      ws.send("queued behind it"),
      ws.send(generated()),
      ws.send(new Set(["a", "b"])),
    ];
    // A code that may not be sent is refused, as it is without a message in progress.
    const refused = ws.close(1006);
    assert.equal(ws.state, State.OPEN);
    const closing = ws.close(1000, "bye");
    // Closing, though its close frame waits for those messages.
    assert.equal(ws.state, State.CLOSING);
    const late = [ws.send("after close()"), ws.send(["after", "close()"]), ws.ping(), ws.pong()];
    await assert.rejects(refused, InvalidState);
    await within(closing, 10_000, "close()");
    await Promise.all(sent);
    for (const sending of late) await assert.rejects(sending, ConnectionClosedOK);
    const [messages, code, reason] = await received;
    assert.deepEqual(messages, ["hello", "queued behind it", Buffer.from([1, 2]), "ab"]);
    assert.deepEqual([code, reason], [1000, "bye"]);
    assert.deepEqual([ws.closeCode, ws.closeReason], [1000, "bye"]);
  });

  it("waits for drain between the fragments meanwhile, then sends the close frame", async () => {
    const { server, uri, received } = await startCollectingServer({ maxMessageSize: null });
    await using _server = server;
    const mark = 16 * 1024;
    const ws = await connect(uri, { compression: null, writeHighWaterMark: mark });
    const chunk = new Uint8Array(64 * 1024).fill(7);
    let mostBuffered = 0;
    function* chunks() {
      for (let i = 0; i < 64; i++) {
        mostBuffered = Math.max(mostBuffered, ws.bufferedAmount);
        yield chunk;
      }
    }
    const sending = ws.send(chunks());
    // The close frame held back is the one asked for, here the one without a code.
    await within(ws.close(1005), 10_000, "close()");
    await sending;
    const [messages, code] = await received;
    assert.equal(messages.length, 1);
    assert.equal((messages[0] as Uint8Array).length, 64 * chunk.length);
    assert.equal(code, 1005);
    assert.ok(mostBuffered <= mark, `${mostBuffered} bytes buffered`);
  });

  it("gives up at closeTimeout on a message the peer does not read, having buffered little of it", async () => {
    const paused = deferred<RawPeer>();
    await using raw = await rawServer((peer) => {
      void acceptRaw(peer).then(() => {
        // Reads nothing more: the client's writes back up.
        peer.socket.pause();
        paused.resolve(peer);
      });
    });
    const mark = DEFAULTS.writeHighWaterMark;
    const ws = await connect(`ws://127.0.0.1:${raw.port}`, { closeTimeout: 500, logger: null });
    await paused.promise;
    // 625 MiB: far more than the socket buffers hold.
    const chunk = new Uint8Array(64 * 1024);
    let pulled = 0;
    let mostBuffered = 0;
    function* huge() {
      for (let i = 0; i < 10_000; i++) {
        pulled++;
        mostBuffered = Math.max(mostBuffered, ws.bufferedAmount);
        yield chunk;
      }
    }
    const sending = outcome(ws.send(huge()));
    await within(ws.close(), 10_000, "close(), bounded by closeTimeout");
    const error = await sending;
    assert.ok(error instanceof ConnectionClosedError, String(error));
    assert.equal(ws.closeCode, 1006);
    assert.ok(mostBuffered <= mark, `${mostBuffered} bytes buffered`);
    assert.ok(pulled < 1024, `${pulled} chunks of 64 KiB pulled`);
  });

  it("does not wait for an async source, nor for a promise a sync iterable yields", async () => {
    let pulled = 0;
    async function* generated() {
      pulled++;
      yield "a";
      pulled++;
      yield "b";
    }
    // What is sent before close(), and the messages the peer gets.
    const cases: [string, (ws: Connection) => Promise<unknown>[], unknown[]][] = [
      ["an async generator", (ws) => [ws.send(generated())], []],
      [
        "a promise in an array",
        (ws) => [ws.send(["a", Promise.resolve("b")] as unknown as Iterable<string>)],
        [],
      ],
      [
        "an async generator queued behind an array",
        (ws) => [ws.send(["a", "b"]), ws.send(generated())],
        ["ab"],
      ],
    ];
    for (const [name, sendAll, expected] of cases) {
      pulled = 0;
      const { server, uri, received } = await startCollectingServer();
      await using _server = server;
      const ws = await connect(uri);
      const sent = sendAll(ws).map(outcome);
      await within(ws.close(), 10_000, `${name}: close()`);
      const last = await sent.pop();
      assert.ok(last instanceof ConnectionClosedOK, `${name}: ${last}`);
      for (const before of sent) assert.equal(await before, null, name);
      const [messages, code] = await received;
      assert.deepEqual(messages, expected, name);
      assert.equal(code, 1000, name);
      if (name === "an async generator queued behind an array") {
        assert.equal(pulled, 0, "nothing was asked of the source queued behind");
      }
    }
  });

  it("closes with the code asked for when the source throws while the close frame waits", async () => {
    const { server, uri, received } = await startCollectingServer();
    await using _server = server;
    const ws = await connect(uri);
    function* failing() {
      yield "a";
      yield "b";
      throw new Error("source failed");
    }
    const sending = outcome(ws.send(failing()));
    const queued = outcome(ws.send("queued behind it"));
    await within(ws.close(1000, "bye"), 10_000, "close()");
    assert.match(String(await sending), /source failed/);
    assert.ok((await queued) instanceof ConnectionClosedOK, "the queued send rejects");
    // The close frame abandons the message (RFC 6455 §5.4 leaves no other
    // way), as the application asked: no failure of the message's making.
    const [messages, code, reason] = await received;
    assert.deepEqual([messages, code, reason], [[], 1000, "bye"]);
    assert.deepEqual([ws.closeCode, ws.closeReason], [1000, "bye"]);
  });

  it("reads on while the close frame waits, so a peer blocked on its writes can't hold it", async () => {
    // The peer sends more than this side's queue takes (maxQueue 4) and
    // waits for it to be read before reading anything itself; this side's
    // close frame waits behind a message the peer reads only afterwards,
    // once its own queue, filled by the small messages, has room.
    const handlerDone = deferred();
    const { server, uri } = await startServer(
      async (ws) => {
        for (let i = 0; i < 40; i++) void ws.send(`small ${i}`);
        const chunk = new Uint8Array(64 * 1024);
        function* big() {
          for (let i = 0; i < 1024; i++) yield chunk;
        }
        void ws.send(big()).catch(() => {});
        await ws.close(1000);
        handlerDone.resolve();
      },
      // Uncompressed: the peer's messages must fill the TCP buffers.
      { maxQueue: 4, closeTimeout: 10_000, compression: null },
    );
    await using _server = server;
    const ws = await connect(uri, {
      maxQueue: 4,
      closeTimeout: 10_000,
      maxMessageSize: null,
      compression: null,
    });
    const message = new Uint8Array(16 * 1024);
    try {
      for (let i = 0; i < 2000; i++) await ws.send(message);
    } catch (error) {
      // The server's close frame may come before all of them are sent.
      assert.ok(error instanceof ConnectionClosedOK, String(error));
    }
    for await (const _ of ws) {
      // The small messages, the 64 MiB one, then the close.
    }
    await within(handlerDone.promise, 8_000, "the server's close(), well before closeTimeout");
    assert.equal(ws.closeCode, 1000);
  });
});

describe("Connection, closing with a full receive queue", () => {
  // A closing handshake that waited for closeTimeout would end with 1006.
  const options = { maxQueue: 4, closeTimeout: 5_000 };

  it("completes when a handler returns without reading, before or after the peer's close", async () => {
    for (const clientCloses of [false, true]) {
      const gate = deferred();
      const opened = deferred<ServerConnection>();
      const { server, uri } = await startServer(async (ws) => {
        opened.resolve(ws);
        await gate.promise;
      }, options);
      await using _server = server;
      const ws = await connect(uri);
      for (let i = 0; i < 20; i++) void ws.send(`m${i}`);
      // In one write with the messages the queue has no room for, or after them.
      const closing = clientCloses ? ws.close() : ws.closed;
      const serverWs = await opened.promise;
      // The queue is full once the server stops reading.
      const serverSocket = socketOf(serverWs);
      if (!serverSocket.isPaused()) await once(serverSocket, "pause");
      gate.resolve();
      await closing;
      await serverWs.closed;
      assert.deepEqual(
        [ws.closeCode, serverWs.closeCode],
        [1000, 1000],
        `client closes: ${clientCloses}`,
      );
    }
  });

  it("completes when the client closes without reading, and keeps what was queued", async () => {
    const { server, uri } = await startServer(async (ws) => {
      for (let i = 0; i < 20; i++) await ws.send(`m${i}`);
      for await (const _ of ws);
    });
    await using _server = server;
    const ws = await connect(uri, options);
    const socket = socketOf(ws);
    if (!socket.isPaused()) await once(socket, "pause");
    await ws.close();
    assert.equal(ws.closeCode, 1000);
    // At least the 4 the queue holds, and then none missing: whatever came
    // after the queue overflowed while closing was dropped, to the end.
    const messages = [];
    for await (const message of ws) messages.push(message);
    assert.ok(messages.length >= 4, `${messages.length} messages kept`);
    assert.deepEqual(
      messages,
      messages.map((_, i) => `m${i}`),
    );
  });
});

describe("Connection, while the peer does not read", () => {
  // More than writeHighWaterMark bytes wait to be written: pongs are deferred,
  // reading goes on. A closure begun meanwhile must complete once the peer
  // reads again, without waiting for closeTimeout (20 s; the tests allow 10).
  const options = { writeHighWaterMark: 1024, compression: null, closeTimeout: 20_000 };
  const big = 16 * 1024 * 1024;

  it("completes a closure begun while writes back up once the peer reads, without waiting for closeTimeout", async () => {
    for (const failure of ["handler throws", "keepalive fails"] as const) {
      for (const peerEnds of [
        "after reading",
        "with a message and a half-close, before reading",
      ] as const) {
        const label = `${failure}, peer ends ${peerEnds}`;
        const opened = deferred<ServerConnection>();
        const fail = deferred();
        // Both are logged just before the connection starts closing.
        const closing = deferred();
        const logger = {
          ...silentLogger,
          warn: () => closing.resolve(),
          error: () => closing.resolve(),
        };
        const { server, port } = await startServer(
          async (ws) => {
            opened.resolve(ws);
            void ws.send(new Uint8Array(big)).catch(() => {});
            if (failure === "handler throws") {
              await fail.promise;
              throw new Error("the handler failed");
            }
            await ws.closed;
          },
          failure === "keepalive fails"
            ? { ...options, logger, pingInterval: 100, pingTimeout: 100 }
            : { ...options, logger },
        );
        await using _server = server;
        const peer = await RawPeer.connect(port);
        await peer.handshake();
        peer.socket.pause();
        const ws = await opened.promise;
        try {
          assert.ok(ws.bufferedAmount > 1024, label);
          assert.equal(ws.protocol.pongsDeferred, true, label);
          // The keepalive's ping waits behind the message: its pong never comes.
          fail.resolve();
          await closing.promise;
          assert.equal(ws.state, State.CLOSING, label);
          if (peerEnds !== "after reading") {
            // Behind bytes the server has not read, its end of the stream is not seen either.
            peer.writeFrame(Opcode.TEXT, "last words");
            peer.socket.end();
          }
          peer.socket.resume();
          assert.equal((await peer.readFrame())?.data.length, big, label);
          // RFC 6455 §7.1.7: the server sends a close frame, then closes TCP.
          const close = await peer.readUntilClose();
          const reason = failure === "keepalive fails" ? "keepalive ping timeout" : "";
          assert.deepEqual(closePayload(close), [1011, reason], label);
          if (!peer.socket.writableEnded) peer.writeFrame(Opcode.CLOSE, close!.data);
          await within(ws.closed, 10_000, `${label}: the server's connection closed`);
          assert.equal(await peer.readFrame(), null, `${label}: the server closed TCP`);
          assert.equal(ws.protocol.closeSent?.code, 1011, label);
          // §7.1.7: a connection that failed processes no close frame from the
          // peer, and none came before a half-close: §7.1.5 makes either 1006.
          const answered = failure === "handler throws" && peerEnds === "after reading";
          assert.equal(ws.closeCode, answered ? 1011 : 1006, label);
        } finally {
          ws.terminate();
          peer.socket.destroy();
        }
      }
    }
  });

  it("exchanges large messages both ways at once, each side reading while its writes back up", async () => {
    // Both sides send more than the kernels' buffers hold while reading what
    // the other sends. A side that stopped reading while its own writes backed
    // up would wait for the other to read, which would wait for it: for good.
    const { server, uri } = await startServer(
      async (ws) => {
        const reading = (async () => {
          let count = 0;
          for await (const message of ws) if (++count === 4) return message.length;
          return count;
        })();
        for (let i = 0; i < 4; i++) await ws.send(new Uint8Array(big));
        await ws.send(String(await reading));
      },
      { ...options, maxMessageSize: null },
    );
    await using _server = server;
    await using ws = await connect(uri, { ...options, maxMessageSize: null });
    const reading = (async () => {
      const lengths: number[] = [];
      for (let i = 0; i < 4; i++) lengths.push((await ws.recvBinary()).length);
      return lengths;
    })();
    for (let i = 0; i < 4; i++) await ws.send(new Uint8Array(big));
    const lengths = await within(reading, 10_000, "the client received the server's messages");
    assert.deepEqual(lengths, [big, big, big, big]);
    assert.equal(await within(ws.recvText(), 10_000, "the server's count"), String(big));
  });

  it("completes a close begun while both sides' writes back up", async () => {
    // When both send more than the kernels' buffers hold at once, a close
    // frame queued behind that must still get through.
    const opened = deferred<ServerConnection>();
    const fail = deferred();
    const { server, uri } = await startServer(
      async (ws) => {
        void ws.send(new Uint8Array(big)).catch(() => {});
        opened.resolve(ws);
        await fail.promise;
        throw new Error("the handler failed");
      },
      { ...options, maxMessageSize: null },
    );
    await using _server = server;
    const ws = await connect(uri, { ...options, maxMessageSize: null });
    const received: number[] = [];
    const reading = (async (): Promise<unknown> => {
      try {
        for await (const message of ws) received.push(message.length);
        return null;
      } catch (error) {
        return error;
      }
    })();
    void ws.send(new Uint8Array(big)).catch(() => {});
    const serverSide = await opened.promise;
    try {
      // RFC 6455 §7.1.7 via the handler's failure: the server closes with 1011.
      fail.resolve();
      const error = await within(reading, 10_000, "the client's connection closed");
      assert.ok(error instanceof ConnectionClosedError, `${error}`);
      assert.deepEqual(received, [big], "the server's message came whole, before its close frame");
      await within(serverSide.closed, 10_000, "the server's connection closed");
      assert.deepEqual([ws.closeCode, serverSide.closeCode], [1011, 1011]);
    } finally {
      ws.terminate();
    }
  });

  it("answers the pings it reads meanwhile with one pong, for the latest, once the peer reads", async () => {
    for (const closing of [false, true]) {
      const label = closing ? "closing" : "open";
      const opened = deferred<ServerConnection>();
      const marker = deferred<unknown>();
      const { server, port } = await startServer(async (ws) => {
        void ws.send(new Uint8Array(big)).catch(() => {});
        opened.resolve(ws);
        const reading = ws.recv().then(marker.resolve, marker.resolve);
        if (closing) await ws.close();
        await reading;
        await ws.closed;
      }, options);
      await using _server = server;
      const peer = await RawPeer.connect(port);
      await peer.handshake();
      peer.socket.pause();
      const ws = await opened.promise;
      try {
        assert.equal(ws.state, closing ? State.CLOSING : State.OPEN, label);
        const backlog = ws.bufferedAmount;
        // 8 MiB of pings whose pongs the peer does not read, then one more to
        // tell which ping the pong answers: the server reads them all.
        const ping = fromPeer("server", Opcode.PING, new Uint8Array(125));
        const batch = Buffer.concat(Array.from({ length: 512 }, () => ping));
        // Patience for a loaded machine: the server reads half of what fills
        // the loopback buffers before the peer's socket drains, and a false
        // "stalled" would fail the test.
        const { written, stalled } = await writeUntilStalled(
          peer.socket,
          batch,
          8 * 1024 * 1024,
          10_000,
        );
        assert.equal(stalled, false, `${label}: the server stopped reading after ${written} bytes`);
        peer.writeFrame(Opcode.PING, "latest");
        // A message after the pings: once the handler has it, the server read them all.
        peer.writeFrame(Opcode.TEXT, "after the pings");
        const message = await within(marker.promise, 10_000, `${label}: the server read the pings`);
        assert.equal(message, "after the pings", label);
        assert.equal(ws.protocol.pongsDeferred, true, label);
        // RFC 6455 §5.5.3: no pong was added to the backlog meanwhile.
        assert.ok(
          ws.bufferedAmount - backlog <= 0,
          `${label}: ${ws.bufferedAmount - backlog} bytes of pongs`,
        );
        peer.socket.resume();
        assert.equal((await peer.readFrame())?.data.length, big, label);
        if (closing) {
          const close = await peer.readFrame();
          assert.equal(close?.opcode, Opcode.CLOSE, label);
          const pong = await peer.readFrame();
          assert.deepEqual(
            [pong?.opcode, Buffer.from(pong!.data).toString()],
            [Opcode.PONG, "latest"],
            label,
          );
          peer.writeFrame(Opcode.CLOSE, close!.data);
          await within(ws.closed, 10_000, `${label}: the server's connection closed`);
          assert.equal(ws.closeCode, 1000, label);
        } else {
          const pong = await peer.readFrame();
          assert.deepEqual(
            [pong?.opcode, Buffer.from(pong!.data).toString()],
            [Opcode.PONG, "latest"],
            label,
          );
        }
      } finally {
        ws.terminate();
        peer.socket.destroy();
      }
    }
  });
});

describe("Connection, writes batched per event-loop turn", () => {
  it("sends what was sent in one turn in one socket write, in order", async () => {
    const { server, uri } = await startServer(echo);
    await using _server = server;
    await using ws = await connect(uri, { compression: null });
    const socket = socketOf(ws);
    const write = socket.write;
    let writes = 0;
    socket.write = function (this: Socket, ...args: Parameters<Socket["write"]>) {
      writes++;
      return write.apply(this, args);
    } as Socket["write"];
    const sending = [];
    for (let i = 0; i < 200; i++) sending.push(ws.send(`message ${i}`));
    await Promise.all(sending);
    await new Promise<void>((resolve) => setImmediate(resolve));
    socket.write = write;
    assert.equal(writes, 1);
    for (let i = 0; i < 200; i++) assert.equal(await ws.recv(), `message ${i}`);
  });

  it("keeps large and small messages of one turn in order", async () => {
    const { server, uri } = await startServer(echo, { maxMessageSize: null });
    await using _server = server;
    await using ws = await connect(uri, { compression: null, maxMessageSize: null });
    const large = new Uint8Array(200_000).fill(7);
    const sending = [ws.send("first"), ws.send(large), ws.send("last")];
    await Promise.all(sending);
    assert.equal(await ws.recv(), "first");
    assert.deepEqual(await ws.recv(), Buffer.from(large));
    assert.equal(await ws.recv(), "last");
  });

  it("delivers the messages sent before close(), then closes normally", async () => {
    const received = deferred<[string[], number | null]>();
    const { server, uri } = await startServer(async (ws) => {
      const messages: string[] = [];
      for await (const message of ws) messages.push(message as string);
      received.resolve([messages, ws.closeCode]);
    });
    await using _server = server;
    const ws = await connect(uri);
    const expected: string[] = [];
    for (let i = 0; i < 100; i++) {
      expected.push(`m${i}`);
      void ws.send(`m${i}`);
    }
    await ws.close(1000, "bye");
    const [messages, code] = await received.promise;
    assert.deepEqual(messages, expected);
    assert.equal(code, 1000);
  });

  it("counts bytes not yet handed to the socket against writeHighWaterMark", async () => {
    const { server, uri } = await startServer(echo);
    await using _server = server;
    await using ws = await connect(uri, { compression: null, writeHighWaterMark: 4096 });
    const socket = socketOf(ws);
    // Corked, the socket keeps everything: what it holds is exactly what was written.
    socket.cork();
    const chunk = new Uint8Array(1500);
    const first = ws.send(chunk);
    const second = ws.send(chunk);
    let settled = false;
    const third = ws.send(chunk).then(() => {
      settled = true;
    });
    await Promise.all([first, second]);
    // Over the mark, the batch went to the socket at once and send() waits for it.
    assert.ok(socket.writableLength > 4096);
    await new Promise<void>((resolve) => setImmediate(resolve));
    assert.equal(settled, false);
    // Less than the socket's own 16 KiB limit: no 'drain' event, yet send() resolves.
    socket.uncork();
    await third;
    for (let i = 0; i < 3; i++) assert.equal((await ws.recvBinary()).length, 1500);
  });

  it("lets the event loop run during a loop of await send() the socket keeps up with", async () => {
    // Compressible messages: 100 kB each, a few hundred bytes on the wire, so
    // the kernel takes every write and send() never waits for 'drain'.
    const { server, uri } = await startServer(async (ws) => {
      for await (const _ of ws);
    });
    await using _server = server;
    await using ws = await connect(uri);
    const message = "x".repeat(100_000);
    let timerFired = false;
    setTimeout(() => {
      timerFired = true;
    }, 0);
    let sends = 0;
    // Without a turn of the event loop per writeHighWaterMark bytes, the loop
    // would run all its sends on microtasks alone, before the timer.
    while (!timerFired && sends < 2_000) {
      await ws.send(message);
      sends++;
    }
    assert.equal(timerFired, true);
    assert.ok(sends < 100, `${sends} sends before the timer fired`);
  });

  it("reuses the shared slab only for bytes no socket still holds", async () => {
    // One connection's socket is corked, so the echoes written to it stay in
    // the socket (the first one as a view of the shared slab); two others
    // echo enough small messages meanwhile to reuse the slab many times
    // over. Bytes reused too early would show in the held echoes.
    const uncork = deferred();
    const { server, uri } = await startServer(async (ws) => {
      for await (const message of ws) {
        if (message === "cork") socketOf(ws).cork();
        else if (message === "uncork") await uncork.promise.then(() => socketOf(ws).uncork());
        else await ws.send(message);
      }
    });
    await using _server = server;
    const tag = (who: string, i: number) =>
      `${who} ${i} `.padEnd(900, String.fromCharCode(65 + (i % 26)));
    await using held = await connect(uri, { compression: null });
    await held.send("cork");
    for (let i = 0; i < 10; i++) await held.send(tag("held", i));
    await held.send("uncork");
    await Promise.all(
      ["a", "b"].map(async (who) => {
        await using ws = await connect(uri, { compression: null });
        for (let round = 0; round < 20; round++) {
          const sends = [];
          for (let i = 0; i < 64; i++) sends.push(ws.send(tag(who, round * 64 + i)));
          await Promise.all(sends);
          for (let i = 0; i < 64; i++) assert.equal(await ws.recv(), tag(who, round * 64 + i));
        }
      }),
    );
    uncork.resolve();
    for (let i = 0; i < 10; i++) assert.equal(await held.recv(), tag("held", i));
  });

  it("answers pings and echoes in the order the frames arrived", async () => {
    const { server, port } = await startServer(echo);
    await using _server = server;
    const peer = await RawPeer.connect(port);
    try {
      await peer.handshake();
      peer.write(
        concat([
          fromPeer("server", Opcode.TEXT, "a"),
          fromPeer("server", Opcode.PING, "p"),
          fromPeer("server", Opcode.TEXT, "b"),
        ]),
      );
      const answers: [Opcode, string][] = [];
      for (let i = 0; i < 3; i++) {
        const frame = await peer.readFrame();
        answers.push([frame!.opcode, Buffer.from(frame!.data).toString()]);
      }
      // The pong is written while the chunk is processed, the echoes after the handler ran.
      assert.deepEqual(answers, [
        [Opcode.PONG, "p"],
        [Opcode.TEXT, "a"],
        [Opcode.TEXT, "b"],
      ]);
    } finally {
      peer.socket.destroy();
    }
  });
});

describe("Connection, state created on demand", () => {
  it("keeps the addresses after close, though nobody asked before", async () => {
    const serverSide = deferred<ServerConnection>();
    const { server, uri } = await startServer(async (ws) => {
      serverSide.resolve(ws);
      await ws.closed;
    });
    await using _server = server;
    const ws = await connect(uri);
    const local = ws.localAddress;
    const connection = await serverSide.promise;
    await ws.close();
    await connection.closed;
    assert.equal(connection.remoteAddress?.address, "127.0.0.1");
    assert.equal(connection.remoteAddress?.port, local?.port);
    assert.equal(typeof connection.localAddress?.port, "number");
  });

  it("resolves closed when read after the connection closed", async () => {
    const { server, uri } = await startServer(echo);
    await using _server = server;
    const ws = await connect(uri);
    await ws.close();
    await ws.closed;
    await ws.closed;
    assert.equal(ws.state, State.CLOSED);
  });

  it("builds one close error and hands it to every reader", async () => {
    const { server, uri } = await startServer(echo);
    await using _server = server;
    const ws = await connect(uri);
    await ws.close(1000);
    const first = await ws.recv().catch((error: unknown) => error);
    const second = await ws.send("late").catch((error: unknown) => error);
    assert.ok(first instanceof ConnectionClosedOK);
    assert.equal(second, first);
  });

  it("keeps the messages after a loop's break for a new loop", async () => {
    const { server, uri } = await startServer(async (ws) => {
      for (const word of ["one", "two", "three"]) await ws.send(word);
      await ws.recv().catch(() => {});
    });
    await using _server = server;
    await using ws = await connect(uri);
    const iterator = ws[Symbol.asyncIterator]();
    assert.deepEqual(await iterator.next(), { value: "one", done: false });
    assert.deepEqual(await iterator.return?.(), { value: undefined, done: true });
    const rest: unknown[] = [];
    for await (const message of ws) {
      rest.push(message);
      if (rest.length === 2) break;
    }
    assert.deepEqual(rest, ["two", "three"]);
  });
});

describe("Connection, recvStreaming()", () => {
  /**
   * A source of fragments that yields each one only once the reader has
   * yielded the one before: a reader that waited for the whole message
   * would never get it.
   */
  function lockstep<T>(fragments: readonly T[], taken: Array<Promise<void>>) {
    return (async function* () {
      for (const [i, fragment] of fragments.entries()) {
        if (i > 0) await taken[i - 1];
        yield fragment;
      }
    })();
  }

  /** One promise per fragment, resolved as the reader yields it; and what it yielded. */
  function reader(count: number) {
    const yielded = Array.from({ length: count }, () => deferred());
    const fragments: unknown[] = [];
    return {
      taken: yielded.map((step) => step.promise),
      fragments,
      async read(stream: AsyncIterable<unknown>): Promise<unknown[]> {
        for await (const fragment of stream) {
          fragments.push(fragment);
          yielded[fragments.length - 1]?.resolve();
        }
        return fragments;
      },
    };
  }

  for (const compression of [null, "deflate"] as const) {
    it(`streams the fragments of a message a client sends to a server, each as it arrives (compression: ${compression})`, async () => {
      const parts = ["first ", "second ", "third"];
      const server = reader(parts.length);
      const read = deferred<unknown>();
      const next = deferred<unknown>();
      const { server: wss, uri } = await startServer(
        async (ws) => {
          read.resolve(await server.read(ws.recvStreaming()).catch((error: unknown) => error));
          next.resolve(await ws.recv());
        },
        { compression },
      );
      await using _server = wss;
      await using ws = await connect(uri, { compression });
      assert.equal(ws.response?.headers.has("Sec-WebSocket-Extensions"), compression !== null);
      // Compressed with deflate: each frame is inflated as it arrives, so the
      // sender produces no fragment before the reader took the one before.
      await within(ws.send(lockstep(parts, server.taken)), 10_000, "the fragmented send");
      assert.deepEqual(await within(read.promise, 10_000, "the fragments"), parts);
      await ws.send("after");
      assert.equal(await within(next.promise, 10_000, "the next message"), "after");
    });
  }

  it("hands over a compressed fragmented message once it is complete, as one fragment, with zlib's fallback", async () => {
    // The one-shot fallback (Node's internal zlib handle not as expected)
    // can't continue a DEFLATE stream from frame to frame.
    useNativeStreams(false);
    try {
      const read = deferred<unknown[]>();
      const { server, uri } = await startServer(async (ws) => {
        const fragments: unknown[] = [];
        for await (const fragment of ws.recvStreaming()) fragments.push(fragment);
        read.resolve(fragments);
      });
      await using _server = server;
      await using ws = await connect(uri);
      const parts = ["compressed ".repeat(20), "fragments ".repeat(20)];
      await ws.send(parts);
      assert.deepEqual(await within(read.promise, 10_000, "the message"), [parts.join("")]);
    } finally {
      useNativeStreams(true);
    }
  });

  for (const compression of [null, "deflate"] as const) {
    it(`streams the fragments of a binary message a server sends to a client (compression: ${compression})`, async () => {
      // Compressible, so that with deflate each frame is compressed.
      const parts = [Buffer.alloc(300, 1), Buffer.alloc(1, 2), Buffer.alloc(200, 3)];
      const client = reader(parts.length);
      const sent = deferred<unknown>();
      const { server, uri } = await startServer(
        async (ws) => {
          // Once the client is reading: recvStreaming() is what makes a
          // connection inflate compressed fragments as they arrive.
          assert.equal(await ws.recv(), "ready");
          sent.resolve(
            await ws.send(lockstep(parts, client.taken)).catch((error: unknown) => error),
          );
          await ws.recv().catch(() => {});
        },
        { compression },
      );
      await using _server = server;
      await using ws = await connect(uri, { compression });
      assert.equal(ws.response?.headers.has("Sec-WebSocket-Extensions"), compression !== null);
      const stream = ws.recvStreaming();
      await ws.send("ready");
      const fragments = await within(client.read(stream), 10_000, "the fragments");
      assert.deepEqual(
        fragments.map((fragment) => Buffer.from(fragment as Uint8Array).toString("hex")),
        parts.map((part) => part.toString("hex")),
      );
      assert.equal(await sent.promise, undefined);
    });
  }

  it("keeps maxMessageSize on the message as a whole: the fragments before the limit, then the close error", async () => {
    const read = deferred<{ fragments: unknown[]; error: unknown }>();
    const { server, uri } = await startServer(
      async (ws) => {
        const fragments: unknown[] = [];
        try {
          for await (const fragment of ws.recvStreaming()) fragments.push(fragment);
        } catch (error) {
          read.resolve({ fragments, error });
        }
      },
      { maxMessageSize: 10 },
    );
    await using _server = server;
    await using ws = await connect(uri, { compression: null });
    const sending = ws.send(["12345", "67890", "too much"]).catch(() => {});
    const { fragments, error } = await within(read.promise, 10_000, "the close error");
    assert.deepEqual(fragments, ["12345", "67890"]);
    assert.ok(error instanceof ConnectionClosedError);
    assert.equal(error.sent?.code, CloseCode.MESSAGE_TOO_BIG);
    await sending;
  });
});

describe("durations", () => {
  const NAMES = ["openTimeout", "closeTimeout", "pingInterval", "pingTimeout"] as const;

  /** Collects Node's TimeoutOverflowWarnings: a timer given more than 2^31−1 ms fires after 1 ms. */
  function overflowWarnings(): { warnings: Error[]; [Symbol.dispose](): void } {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => {
      if (warning.name === "TimeoutOverflowWarning") warnings.push(warning);
    };
    process.on("warning", onWarning);
    return { warnings, [Symbol.dispose]: () => process.off("warning", onWarning) };
  }

  it("reads Infinity as no limit, like null", () => {
    const options = Object.fromEntries(NAMES.map((name) => [name, Number.POSITIVE_INFINITY]));
    const resolved = resolveConnectionOptions(options, silentLogger);
    for (const name of NAMES) assert.equal(resolved[name], null, name);
    assert.equal(resolveConnectionOptions({}, silentLogger).openTimeout, DEFAULTS.openTimeout);
    assert.equal(resolveConnectionOptions({ pingTimeout: null }, silentLogger).pingTimeout, null);
  });

  it("refuses a duration a timer can't wait for with a RangeError naming it", () => {
    for (const name of NAMES) {
      for (const value of [2 ** 31, 30 * 24 * 3600 * 1000, -1, Number.NaN]) {
        assert.throws(
          () => resolveConnectionOptions({ [name]: value }, silentLogger),
          (error: unknown) =>
            error instanceof RangeError &&
            error.message.startsWith(`${name} must be from 0 to 2147483647 ms`) &&
            error.message.endsWith(`got ${value}`),
        );
      }
      assert.equal(
        resolveConnectionOptions({ [name]: 2 ** 31 - 1 }, silentLogger)[name],
        2 ** 31 - 1,
      );
    }
  });

  it("refuses a duration that is not a number, even one that would coerce to it", () => {
    // JavaScript callers may pass anything: "100" would work by accident,
    // true as 1 ms, which for pingInterval floods the peer with pings.
    for (const name of NAMES) {
      for (const [value, shown] of [
        ["100", '"100"'],
        [true, "a boolean"],
        [{}, "an Object"],
        [10n, "a bigint"],
      ] as const) {
        assert.throws(
          () => resolveConnectionOptions({ [name]: value as never }, silentLogger),
          {
            name: "TypeError",
            message: `${name} must be a number of milliseconds, or null for no limit; got ${shown}`,
          },
          `${name}: ${shown}`,
        );
      }
    }
  });

  it("waits without limit with Infinity, on both sides", async () => {
    using overflows = overflowWarnings();
    const unlimited = {
      openTimeout: Number.POSITIVE_INFINITY,
      closeTimeout: Number.POSITIVE_INFINITY,
      pingInterval: Number.POSITIVE_INFINITY,
      pingTimeout: Number.POSITIVE_INFINITY,
    };
    const { server, uri } = await startServer(echo, unlimited);
    await using _server = server;
    // A peer slow to answer the close frame: a timer that fired at once would drop it first.
    const slow = await rawServer(async (peer) => {
      await acceptRaw(peer);
      await peer.readFrame();
      setTimeout(() => peer.socket.end(Buffer.from([0x88, 0x02, 0x03, 0xe8])), 20);
    });
    try {
      const ws = await connect(`ws://127.0.0.1:${slow.port}`, unlimited);
      await ws.close();
      assert.equal(ws.closeCode, 1000);
      await using echoing = await connect(uri, unlimited);
      await echoing.send("no limit");
      assert.equal(await echoing.recv(), "no limit");
    } finally {
      await slow.close();
    }
    assert.deepEqual(overflows.warnings, []);
  });

  it("refuses a size or count out of range with a RangeError naming it and the value, a TypeError when not a number", () => {
    const refused: [string, unknown, string][] = [
      // ws reads maxPayload: 0 as no limit; here it would refuse every message but empty ones.
      ["maxMessageSize", 0, "got 0"],
      ["maxMessageSize", -1, "got -1"],
      ["maxMessageSize", 1.5, "got 1.5"],
      ["maxMessageSize", Number.NaN, "got NaN"],
      ["maxMessageSize", "100", 'got "100"'],
      ["maxQueue", 0, "got 0"],
      ["maxQueue", -1, "got -1"],
      ["maxQueue", 1.5, "got 1.5"],
      ["maxQueue", Number.NaN, "got NaN"],
      ["writeHighWaterMark", -1, "got -1"],
      ["writeHighWaterMark", Number.NaN, "got NaN"],
      ["writeHighWaterMark", "1", 'got "1"'],
    ];
    for (const [name, value, got] of refused) {
      assert.throws(
        () => resolveConnectionOptions({ [name]: value }, silentLogger),
        (error: unknown) =>
          error instanceof (typeof value === "number" ? RangeError : TypeError) &&
          (error as Error).name === (typeof value === "number" ? "RangeError" : "TypeError") &&
          (error as Error).message.startsWith(`${name} must be`) &&
          (error as Error).message.endsWith(got),
        `${name}: ${String(value)}`,
      );
    }
    const accepted = (options: ConnectionOptions) =>
      resolveConnectionOptions(options, silentLogger);
    assert.equal(accepted({ maxMessageSize: 1 }).maxMessageSize, 1);
    assert.equal(accepted({ maxMessageSize: null }).maxMessageSize, null);
    assert.equal(accepted({ maxMessageSize: Number.POSITIVE_INFINITY }).maxMessageSize, null);
    assert.equal(accepted({}).maxMessageSize, DEFAULTS.maxMessageSize);
    assert.equal(accepted({ maxQueue: 1 }).maxQueue, 1);
    assert.equal(
      accepted({ maxQueue: Number.POSITIVE_INFINITY }).maxQueue,
      Number.POSITIVE_INFINITY,
    );
    assert.equal(accepted({}).maxQueue, DEFAULTS.maxQueue);
    assert.equal(accepted({ writeHighWaterMark: 0 }).writeHighWaterMark, 0);
    assert.equal(
      accepted({ writeHighWaterMark: Number.POSITIVE_INFINITY }).writeHighWaterMark,
      Number.POSITIVE_INFINITY,
    );
    assert.equal(accepted({}).writeHighWaterMark, DEFAULTS.writeHighWaterMark);
  });

  it("makes connect() and serve() reject a duration too long, before any I/O", async () => {
    await assert.rejects(connect("ws://127.0.0.1:1/", { closeTimeout: 2 ** 31 }), {
      name: "RangeError",
      message: /^closeTimeout must be/,
    });
    await assert.rejects(serve(echo, { host: "127.0.0.1", port: 0, pingInterval: 2 ** 31 }), {
      name: "RangeError",
      message: /^pingInterval must be/,
    });
    await assert.rejects(connect("ws://127.0.0.1:1/", { maxMessageSize: 0 }), {
      name: "RangeError",
      message: /^maxMessageSize must be/,
    });
    await assert.rejects(serve(echo, { host: "127.0.0.1", port: 0, maxQueue: 0 }), {
      name: "RangeError",
      message: /^maxQueue must be/,
    });
  });
});

describe("Connection, a message followed by a large frame in one read", () => {
  const LARGE = 200 * 1024;
  const large = new Uint8Array(LARGE).map((_, i) => i & 0xff);

  it("a server answers the message, then assembles the large frame and the rest", async () => {
    const { server, port } = await startServer(echo, { maxMessageSize: null });
    await using _server = server;
    const peer = await RawPeer.connect(port);
    try {
      await peer.handshake();
      const largeFrame = fromPeer("server", Opcode.BINARY, large);
      const half = largeFrame.length >> 1;
      // One write: the message, then half of the large frame.
      peer.write(concat([fromPeer("server", Opcode.TEXT, "first"), largeFrame.subarray(0, half)]));
      const first = await within(peer.readFrame(), 5000, "an echo");
      assert.equal(new TextDecoder().decode(first!.data), "first");
      peer.write(concat([largeFrame.subarray(half), fromPeer("server", Opcode.TEXT, "last")]));
      const echoed = await within(peer.readFrame(), 5000, "an echo");
      assert.equal(echoed!.opcode, Opcode.BINARY);
      assert.deepEqual(echoed!.data, large);
      const last = await within(peer.readFrame(), 5000, "an echo");
      assert.equal(new TextDecoder().decode(last!.data), "last");
    } finally {
      peer.socket.destroy();
    }
  });

  it("answers the message before failing for a large frame over maxMessageSize behind it", async () => {
    // The handler answers after an extra microtask hop: the error in the
    // frame behind the message must wait for it, as any protocol error does.
    const { server, port } = await startServer(async (ws) => {
      for await (const message of ws) {
        await Promise.resolve();
        await ws.send(`echo:${message}`);
      }
    });
    await using _server = server;
    const peer = await RawPeer.connect(port);
    try {
      await peer.handshake();
      // RFC 6455 §5.2: the header of a masked binary frame of 2 MiB, over the 1 MiB default.
      const tooBig = Buffer.from("82ff0000000000200000" + "37fa213d", "hex");
      peer.write(concat([fromPeer("server", Opcode.TEXT, "first"), tooBig]));
      const answer = await within(peer.readFrame(), 5000, "the answer");
      assert.equal(new TextDecoder().decode(answer!.data), "echo:first");
      const close = await within(peer.readFrame(), 5000, "the close frame");
      assert.equal(closePayload(close)?.[0], CloseCode.MESSAGE_TOO_BIG);
    } finally {
      peer.socket.destroy();
    }
  });

  it("a client receives the message, the large frame and the one after, in order", async () => {
    const frames = concat([
      fromPeer("client", Opcode.TEXT, "first"),
      fromPeer("client", Opcode.BINARY, large),
      fromPeer("client", Opcode.TEXT, "last"),
    ]);
    await using raw = await rawServer(async (peer) => {
      await acceptRaw(peer);
      peer.write(frames);
    });
    await using ws = await connect(`ws://127.0.0.1:${raw.port}`, { maxMessageSize: null });
    assert.equal(await within(ws.recv(), 5000, "a message"), "first");
    assert.deepEqual(
      new Uint8Array(await within(ws.recvBinary(), 5000, "the large message")),
      large,
    );
    assert.equal(await within(ws.recv(), 5000, "a message"), "last");
  });
});

describe("a close frame that arrives with messages", () => {
  // RFC 6455 §5.5.1: the close frame is answered "as soon as practical", and no
  // data frame may follow the answer: it waits for the application's turn.
  const NORMAL = new Uint8Array([0x03, 0xe8]);
  const GOING_AWAY = new Uint8Array([0x03, 0xe9]);

  it("lets a server's handler answer the messages before the close frame", async () => {
    const { server, port } = await startServer(echo);
    await using _server = server;
    const peer = await RawPeer.connect(port);
    await peer.handshake();
    // One write, so one read on the server: the last message and the close frame.
    peer.write(
      concat([fromPeer("server", Opcode.TEXT, "bye"), fromPeer("server", Opcode.CLOSE, NORMAL)]),
    );
    const echoed = await peer.readFrame();
    assert.equal(echoed?.opcode, Opcode.TEXT);
    assert.equal(Buffer.from(echoed!.data).toString(), "bye");
    assert.deepEqual(closePayload(await peer.readFrame()), [1000, ""]);
    // The server closes the TCP connection after its answer (RFC 6455 §7.1.1).
    assert.equal(await peer.readFrame(), null);
  });

  it("echoes the peer's close code when the handler returns meanwhile", async () => {
    // The handler's return closes with 1000, and so would server.close() with
    // 1001: the peer spoke first, and its close frame gets the echo it would
    // have had at once (RFC 6455 §5.5.1).
    const { server, port } = await startServer(echo);
    await using _server = server;
    const peer = await RawPeer.connect(port);
    await peer.handshake();
    const goingAway = concat([GOING_AWAY, new TextEncoder().encode("bye now")]);
    peer.write(
      concat([fromPeer("server", Opcode.TEXT, "bye"), fromPeer("server", Opcode.CLOSE, goingAway)]),
    );
    const echoed = await peer.readFrame();
    assert.equal(Buffer.from(echoed!.data).toString(), "bye");
    assert.deepEqual(closePayload(await peer.readFrame()), [1001, "bye now"]);
    assert.equal(await peer.readFrame(), null);
  });

  it("lets a client answer the messages before the close frame", async () => {
    const answers = deferred<[string, [number, string] | null]>();
    await using raw = await rawServer((peer) => {
      void (async () => {
        await acceptRaw(peer);
        // The client says when it waits in recv(); then a message and a close frame in one write.
        await peer.readFrame();
        peer.write(
          concat([
            fromPeer("client", Opcode.TEXT, "last"),
            fromPeer("client", Opcode.CLOSE, GOING_AWAY),
          ]),
        );
        const reply = await peer.readFrame();
        const close = await peer.readFrame();
        answers.resolve([Buffer.from(reply?.data ?? []).toString(), closePayload(close)]);
        peer.socket.end();
      })();
    });
    await using ws = await connect(`ws://127.0.0.1:${raw.port}/`);
    const received = ws.recv();
    await ws.send("ready");
    assert.equal(await received, "last");
    await ws.send("reply to last");
    assert.deepEqual(await within(answers.promise, 5000, "the frames of the raw server"), [
      "reply to last",
      [1001, ""],
    ]);
    await ws.closed;
    assert.equal(ws.closeCode, 1001);
  });
});

describe("Connection, a text message longer than a string can be", () => {
  it("fails the connection with 1009 instead of throwing from the socket's callback", async () => {
    // Only `maxMessageSize: null` lets such a message in: V8's strings stop
    // at 2^29 - 24 characters, and each byte of ASCII text is one of them.
    const length = constants.MAX_STRING_LENGTH + 1;
    const closeFrame = deferred<Frame | null>();
    await using raw = await rawServer(async (peer) => {
      await acceptRaw(peer);
      const header = new Uint8Array(10);
      header[0] = 0x81; // FIN, TEXT
      header[1] = 127; // RFC 6455 §5.2: the length in the next 8 bytes
      new DataView(header.buffer).setBigUint64(2, BigInt(length));
      peer.write(header);
      const chunk = new Uint8Array(1 << 20).fill(0x61);
      for (let left = length; left > 0 && !peer.ended; left -= chunk.length) {
        if (!peer.socket.write(chunk.subarray(0, Math.min(left, chunk.length)))) {
          await once(peer.socket, "drain");
        }
      }
      closeFrame.resolve(await peer.readUntilClose());
      peer.socket.end();
    });
    await using ws = await connect(`ws://127.0.0.1:${raw.port}`, {
      maxMessageSize: null,
      logger: silentLogger,
    });
    const error = await ws.recv().then(
      () => assert.fail("no message can be delivered"),
      (error: unknown) => error,
    );
    assert.ok(error instanceof ConnectionClosedError, String(error));
    assert.equal(error.sent?.code, CloseCode.MESSAGE_TOO_BIG);
    assert.deepEqual(closePayload(await closeFrame.promise), [1009, "message too big to deliver"]);
  });

  it("fails the connection with 1011 when delivering a message throws anything else", async () => {
    const logged: string[] = [];
    const logger = { ...silentLogger, error: (message: string) => logged.push(message) };
    const { server, uri } = await startServer(
      async (ws) => {
        // biome-ignore lint/complexity/useLiteralKeys: element access reaches a private member.
        ws["messages"].put = () => {
          throw new TypeError("a bug");
        };
        await ws.closed;
      },
      { logger },
    );
    await using _server = server;
    await using ws = await connect(uri);
    await ws.send("first");
    await ws.send("second");
    const error = await ws.recv().then(
      () => assert.fail("no message comes back"),
      (error: unknown) => error,
    );
    assert.ok(error instanceof ConnectionClosedError, String(error));
    assert.equal(error.rcvd?.code, CloseCode.INTERNAL_ERROR);
    assert.equal(logged.length, 1, "one error, not one per message");
    assert.match(logged[0]!, /unexpected error while delivering a message/);
  });
});

describe("Connection, sending a Blob", () => {
  /** A Blob whose bytes come when the test says, or never. */
  class SlowBlob extends Blob {
    readonly read = deferred<ArrayBuffer>();
    override arrayBuffer(): Promise<ArrayBuffer> {
      return this.read.promise;
    }
  }

  /** A server that collects what each connection receives until it closes. */
  async function collectingServer(options: Parameters<typeof startServer>[1] = {}) {
    const received = deferred<unknown[]>();
    const started = await startServer(async (ws) => {
      const messages: unknown[] = [];
      try {
        for await (const message of ws) {
          messages.push(typeof message === "string" ? message : [...message]);
        }
      } finally {
        received.resolve(messages);
      }
    }, options);
    return { ...started, received: received.promise };
  }

  it("sends a Blob or a File as one binary frame, from either side", async () => {
    const accepted = deferred<RawPeer>();
    await using raw = await rawServer((peer) => {
      void acceptRaw(peer).then(() => accepted.resolve(peer));
    });
    const ws = await connect(`ws://127.0.0.1:${raw.port}`);
    const peer = await accepted.promise;
    const nextFrame = async (): Promise<[Opcode, boolean, string]> => {
      const frame = await within(peer.readFrame(), 10_000, "a frame");
      assert.ok(frame !== null);
      return [frame.opcode, frame.fin, Buffer.from(frame.data).toString()];
    };
    await ws.send(new Blob(["a ", "blob"]));
    assert.deepEqual(await nextFrame(), [Opcode.BINARY, true, "a blob"]);
    await ws.send(new File(["a file"], "file.txt", { type: "text/plain" }));
    assert.deepEqual(
      await nextFrame(),
      [Opcode.BINARY, true, "a file"],
      "binary, whatever its type",
    );
    await ws.sendBinary(new Blob(["with sendBinary()"]));
    assert.deepEqual(await nextFrame(), [Opcode.BINARY, true, "with sendBinary()"]);
    await ws.send(new Blob([]));
    assert.deepEqual(await nextFrame(), [Opcode.BINARY, true, ""], "an empty message");
    const closing = ws.close();
    assert.equal((await within(peer.readFrame(), 10_000, "the close frame"))?.opcode, Opcode.CLOSE);
    peer.socket.end(Buffer.from([0x88, 0x02, 0x03, 0xe8]));
    await closing;

    // The server's side, compressed: a Blob is bytes like any other.
    const big = new Uint8Array(200_000).map((_, i) => i % 251);
    const { server, uri } = await startServer(async (ws) => {
      await ws.send(new Blob([big]));
      await ws.closed;
    });
    await using _server = server;
    await using client = await connect(uri);
    assert.match(
      client.response?.headers.get("Sec-WebSocket-Extensions") ?? "",
      /permessage-deflate/,
    );
    assert.deepEqual(await client.recvBinary(), Buffer.from(big));
  });

  it("keeps the order of the calls, counting the Blob in bufferedAmount while it is read", async () => {
    const { server, uri } = await startServer(echo);
    await using _server = server;
    await using ws = await connect(uri);
    const slow = new SlowBlob(["0123456789"]);
    const sent = [ws.send(slow), ws.send("after"), ws.send(new Blob(["another blob"]))];
    assert.equal(ws.bufferedAmount, 10 + 5 + 12);
    // Messages sent while it is read wait for it, however long that takes.
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(ws.bufferedAmount, 10 + 5 + 12);
    slow.read.resolve(await new Blob(["0123456789"]).arrayBuffer());
    await Promise.all(sent);
    assert.equal(Buffer.from(await ws.recvBinary()).toString(), "0123456789");
    assert.equal(await ws.recv(), "after");
    assert.equal(Buffer.from(await ws.recvBinary()).toString(), "another blob");
  });

  it("lets close() wait for a Blob being read and the sends behind it, then closes normally", async () => {
    const { server, uri, received } = await collectingServer();
    await using _server = server;
    const ws = await connect(uri);
    const slow = new SlowBlob(["abc"]);
    const sent = [ws.send(slow), ws.send("behind it")];
    const closing = ws.close(1000, "done");
    assert.equal(ws.state, State.CLOSING);
    // Refused, once the connection is closed: it came after close().
    const refused = assert.rejects(ws.send("after close()"), ConnectionClosedOK);
    slow.read.resolve(new Uint8Array([1, 2, 3]).buffer);
    await Promise.all(sent);
    await closing;
    await refused;
    assert.deepEqual(await received, [[1, 2, 3], "behind it"]);
    assert.equal(ws.closeCode, 1000);
    assert.equal(ws.closeReason, "done");
  });

  it("rejects with the reader's error a Blob that can't be read, sends nothing, and stays open", async () => {
    const { server, uri, received } = await collectingServer();
    await using _server = server;
    const ws = await connect(uri);
    const unreadable = new Error("the file changed");
    class UnreadableBlob extends Blob {
      override arrayBuffer(): Promise<ArrayBuffer> {
        return Promise.reject(unreadable);
      }
    }
    class ThrowingBlob extends Blob {
      override arrayBuffer(): Promise<ArrayBuffer> {
        throw unreadable;
      }
    }
    class NotBytesBlob extends Blob {
      override arrayBuffer(): Promise<ArrayBuffer> {
        return Promise.resolve("not bytes" as never);
      }
    }
    const failing = ws.send(new UnreadableBlob(["x"]));
    const behind = ws.send("sent behind it");
    await assert.rejects(failing, (error) => error === unreadable);
    await behind;
    await assert.rejects(ws.send(new ThrowingBlob(["x"])), (error) => error === unreadable);
    await assert.rejects(ws.send(new NotBytesBlob(["x"])), {
      name: "TypeError",
      message: "Blob.arrayBuffer() gave a string",
    });
    assert.equal(ws.state, State.OPEN);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(ws.bufferedAmount, 0, "nothing waits to be written");
    await ws.send("still open");
    await ws.close();
    assert.deepEqual(await received, ["sent behind it", "still open"]);
    assert.equal(ws.closeCode, 1000);
  });

  it("rejects a send() whose Blob is still being read when the peer closes, and the sends behind it", async () => {
    const opened = deferred<ServerConnection>();
    const { server, uri } = await startServer(async (ws) => {
      opened.resolve(ws);
      await ws.closed;
    });
    await using _server = server;
    const ws = await connect(uri);
    const serverSide = await opened.promise;
    const slow = new SlowBlob(["abc"]);
    const reading = assert.rejects(ws.send(slow), ConnectionClosedOK);
    const behind = assert.rejects(ws.send("behind it"), ConnectionClosedOK);
    await serverSide.close();
    await reading;
    await behind;
    // Read at last, too late: nothing more happens.
    slow.read.resolve(new ArrayBuffer(3));
    await ws.closed;
    assert.equal(ws.closeCode, 1000);
  });

  it("gives up on a Blob never read at closeTimeout", async () => {
    const { server, uri } = await startServer(async (ws) => {
      await ws.closed;
    });
    await using _server = server;
    const ws = await connect(uri, { closeTimeout: 100 });
    const never = new SlowBlob(["abc"]);
    const reading = assert.rejects(ws.send(never), ConnectionClosedError);
    await within(ws.close(), 10_000, "close() at closeTimeout");
    await reading;
    assert.equal(ws.closeCode, 1006);
  });
});
