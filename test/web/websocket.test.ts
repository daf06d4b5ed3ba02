/**
 * The WHATWG WebSocket class against our server over loopback: opening,
 * messages both ways, bufferedAmount, closing, event handler attributes.
 */

import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { Close } from "../../src/core/close.js";
import { Frame } from "../../src/core/frame.js";
import { serializeFrame } from "../../src/core/frame-writer.js";
import { Opcode } from "../../src/core/opcodes.js";
import type { Data } from "../../src/node/messages.js";
import type { ServeOptions, ServerConnection } from "../../src/node/server.js";
import { CloseEvent, WebSocket } from "../../src/web/index.js";
import { concat, utf8 } from "../helpers/bytes.js";
import { acceptRaw, closePayload, type RawPeer, rawServer } from "../helpers/raw.js";
import { deferred, echo, startServer, unhandledRejections } from "../helpers/server.js";
import { closeAndWait, track } from "./track.js";

after(() => {
  assert.deepEqual(unhandledRejections(), []);
});

/** A server that records what each connection received and how it was closed. */
async function recordingServer(
  onOpen: (ws: ServerConnection) => unknown = () => {},
  options: ServeOptions = {},
) {
  const received: Data[] = [];
  const closedWith = deferred<[number | null, string | null]>();
  const { server, uri, port } = await startServer(async (ws) => {
    await onOpen(ws);
    try {
      for await (const message of ws) received.push(message);
    } catch {
      // An abnormal closure; the test reads the close code.
    }
    await ws.closed;
    closedWith.resolve([ws.closeCode, ws.closeReason]);
  }, options);
  return { server, uri, port, received, closedWith: closedWith.promise };
}

/** Asserts that `fn` throws a DOMException named `name`. */
function throwsDom(fn: () => unknown, name: string): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof DOMException, String(error));
    assert.equal(error.name, name);
    return true;
  });
}

/** Resolves after the current task and its microtasks. */
function nextTask(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

describe("WebSocket: the interface", () => {
  it("has the readyState constants on the class and on instances, read-only", () => {
    assert.deepEqual(
      [WebSocket.CONNECTING, WebSocket.OPEN, WebSocket.CLOSING, WebSocket.CLOSED],
      [0, 1, 2, 3],
    );
    const descriptor = Object.getOwnPropertyDescriptor(WebSocket.prototype, "OPEN");
    assert.deepEqual(descriptor, {
      value: 1,
      enumerable: true,
      writable: false,
      configurable: false,
    });
    assert.equal(Object.getOwnPropertyDescriptor(WebSocket, "CLOSED")?.writable, false);
  });

  it("is an EventTarget named WebSocket", () => {
    assert.ok(WebSocket.prototype instanceof EventTarget);
    assert.equal(Object.prototype.toString.call(WebSocket.prototype), "[object WebSocket]");
  });

  it("has enumerable attributes and operations, as WebIDL and browsers have them", () => {
    const names = new Set<string>();
    for (const name in WebSocket.prototype) names.add(name);
    for (const name of [
      "url",
      "readyState",
      "bufferedAmount",
      "extensions",
      "protocol",
      "binaryType",
      "onopen",
      "onmessage",
      "onerror",
      "onclose",
      "send",
      "close",
      "CONNECTING",
      "CLOSED",
      "addEventListener",
      "dispatchEvent",
    ]) {
      assert.ok(names.has(name), `${name} is enumerable`);
    }
    assert.ok(!names.has("constructor"));
    const url = Object.getOwnPropertyDescriptor(WebSocket.prototype, "url");
    assert.equal(url?.enumerable, true);
    assert.equal(url?.configurable, true);
    assert.equal(url?.set, undefined);
    assert.equal(
      typeof Object.getOwnPropertyDescriptor(WebSocket.prototype, "binaryType")?.set,
      "function",
    );
    assert.deepEqual(Object.getOwnPropertyDescriptor(WebSocket.prototype, Symbol.toStringTag), {
      value: "WebSocket",
      writable: false,
      enumerable: false,
      configurable: true,
    });
  });

  it("throws TypeError without arguments, SyntaxError for bad URLs and subprotocols", () => {
    assert.throws(() => Reflect.construct(WebSocket, []), TypeError);
    throwsDom(() => new WebSocket("ftp://127.0.0.1/"), "SyntaxError");
    throwsDom(() => new WebSocket("ws://127.0.0.1/#top"), "SyntaxError");
    throwsDom(() => new WebSocket("relative/path"), "SyntaxError");
    throwsDom(() => new WebSocket("ws://127.0.0.1/", ["a", "A"]), "SyntaxError");
    throwsDom(() => new WebSocket("ws://127.0.0.1/", "a b"), "SyntaxError");
    throwsDom(() => new WebSocket("ws://127.0.0.1/", [""]), "SyntaxError");
  });

  it("converts every argument before checking any, and counts required ones, as WebIDL does", () => {
    // A bad URL, but protocols that can't be converted: their TypeError comes first.
    const symbols = [Symbol("p")] as unknown as string[];
    assert.throws(() => new WebSocket("not a url", symbols), TypeError);
    assert.equal(WebSocket.length, 1);
    assert.equal(WebSocket.prototype.close.length, 0);
  });

  it("throws TypeError for an unknown option, and for those the standard's arguments replace", () => {
    // @ts-expect-error: TypeScript rejects it at compile time.
    assert.throws(() => new WebSocket("ws://127.0.0.1:1/", [], { pingIntervall: 5 }), {
      name: "TypeError",
      message: 'unknown option "pingIntervall" for new WebSocket(); did you mean "pingInterval"?',
    });
    assert.throws(() => new WebSocket("ws://127.0.0.1:1/", [], { deflate: { levl: 1 } } as never), {
      message: 'unknown option "deflate.levl" for new WebSocket(); did you mean "deflate.level"?',
    });
    assert.throws(() => new WebSocket("ws://127.0.0.1:1/", [], 5 as never), {
      message: "new WebSocket() takes an options object; got a number",
    });
    const replaced: [string, unknown, RegExp][] = [
      ["subprotocols", ["chat"], /subprotocols option: give them as the second argument$/],
      ["signal", AbortSignal.abort(), /signal option: close\(\) aborts connecting$/],
      ["requireSubprotocol", false, /requireSubprotocol option: the server must select one/],
    ];
    for (const [name, value, message] of replaced) {
      assert.throws(() => new WebSocket("ws://127.0.0.1:1/", [], { [name]: value } as never), {
        name: "TypeError",
        message,
      });
    }
  });
});

describe("WebSocket: opening", () => {
  it("starts CONNECTING, fires open, and exposes url, protocol and extensions", async () => {
    const { server, uri } = await startServer(echo);
    await using _server = server;
    const ws = new WebSocket(`${uri}/chat?room=1`);
    const tracked = track(ws);
    assert.equal(ws.readyState, WebSocket.CONNECTING);
    assert.equal(ws.url, `${uri}/chat?room=1`);
    assert.equal(ws.protocol, "");
    assert.equal(ws.extensions, "");
    assert.equal(ws.binaryType, "blob");
    assert.equal(ws.bufferedAmount, 0);
    await tracked.opened;
    assert.equal(ws.readyState, WebSocket.OPEN);
    // Compression is on by default, as in browsers.
    assert.match(ws.extensions, /^permessage-deflate/);
    assert.equal(ws.protocol, "");
    await closeAndWait(ws, tracked);
    assert.deepEqual(tracked.log, ["open", "close"]);
  });

  it("takes undefined or null options as none, as WebIDL does a dictionary", async () => {
    const { server, uri } = await startServer(echo);
    await using _server = server;
    for (const options of [undefined, null]) {
      const ws = new WebSocket(uri, [], options as never);
      const tracked = track(ws);
      await tracked.opened;
      await closeAndWait(ws, tracked);
    }
  });

  it("maps an http URL to ws", async () => {
    const { server, port } = await startServer(echo);
    await using _server = server;
    const ws = new WebSocket(`http://127.0.0.1:${port}`);
    const tracked = track(ws);
    assert.equal(ws.url, `ws://127.0.0.1:${port}/`);
    await tracked.opened;
    await closeAndWait(ws, tracked);
  });

  it("negotiates a subprotocol from a list or a string", async () => {
    const { server, uri } = await startServer(echo, { subprotocols: ["chat.v1", "chat.v2"] });
    await using _server = server;
    const ws = new WebSocket(uri, ["chat.v3", "chat.v2"]);
    const tracked = track(ws);
    await tracked.opened;
    assert.equal(ws.protocol, "chat.v2");
    await closeAndWait(ws, tracked);

    const single = new WebSocket(uri, "chat.v1");
    const trackedSingle = track(single);
    await trackedSingle.opened;
    assert.equal(single.protocol, "chat.v1");
    await closeAndWait(single, trackedSingle);

    // WHATWG "establish a WebSocket connection": offered subprotocols, a
    // response that selects none fails the connection, before any `open`.
    const { server: plain, uri: plainUri } = await startServer(echo);
    await using _plain = plain;
    const none = new WebSocket(plainUri, ["chat.v1"]);
    const trackedNone = track(none);
    await assert.rejects(trackedNone.opened, /closed before opening: 1006/);
    const closed = await trackedNone.closed;
    assert.deepEqual(trackedNone.log, ["error", "close"]);
    assert.equal(closed.wasClean, false);
    assert.match(trackedNone.errors[0]!.message, /none of the subprotocols offered/);
    assert.equal(none.protocol, "");
  });

  it("takes the Node client's options as a third argument", async () => {
    const token = deferred<string | undefined>();
    const { server, uri } = await startServer(echo, {
      processRequest: (_connection, request) => {
        token.resolve(request.headers.get("X-Token"));
        return null;
      },
    });
    await using _server = server;
    const ws = new WebSocket(uri, [], {
      additionalHeaders: { "X-Token": "abc" },
      compression: null,
    });
    const tracked = track(ws);
    await tracked.opened;
    assert.equal(await token.promise, "abc");
    assert.equal(ws.extensions, "");
    await closeAndWait(ws, tracked);
  });
});

describe("WebSocket: receiving", () => {
  it("delivers text as strings and binary as Blobs by default", async () => {
    const { server, uri } = await startServer(echo);
    await using _server = server;
    const ws = new WebSocket(uri);
    const tracked = track(ws);
    await tracked.opened;
    ws.send("Hello, é!");
    ws.send(new Uint8Array([0, 1, 255]));
    const text = await tracked.nextMessage();
    assert.equal(text.data, "Hello, é!");
    assert.equal(text.origin, uri);
    assert.ok(text instanceof MessageEvent);
    const binary = await tracked.nextMessage();
    assert.ok(binary.data instanceof Blob);
    assert.equal(binary.data.size, 3);
    assert.equal(binary.data.type, "");
    assert.deepEqual([...new Uint8Array(await binary.data.arrayBuffer())], [0, 1, 255]);
    await closeAndWait(ws, tracked);
  });

  it("delivers binary as ArrayBuffers with binaryType arraybuffer, switchable per message", async () => {
    const { server, uri } = await startServer(echo);
    await using _server = server;
    const ws = new WebSocket(uri);
    const tracked = track(ws);
    ws.binaryType = "arraybuffer";
    await tracked.opened;
    ws.send(new Uint8Array([1, 2, 3]));
    const first = await tracked.nextMessage();
    assert.ok(first.data instanceof ArrayBuffer);
    assert.deepEqual([...new Uint8Array(first.data)], [1, 2, 3]);
    ws.binaryType = "blob";
    ws.send(new Uint8Array([4]));
    assert.ok((await tracked.nextMessage()).data instanceof Blob);
    await closeAndWait(ws, tracked);
  });

  it("ignores binaryType values other than blob and arraybuffer", async () => {
    const { server, uri } = await startServer(echo);
    await using _server = server;
    const ws = new WebSocket(uri);
    const tracked = track(ws);
    ws.binaryType = "arraybuffer";
    ws.binaryType = "text" as "blob";
    ws.binaryType = "Blob" as "blob";
    assert.equal(ws.binaryType, "arraybuffer");
    await closeAndWait(ws, tracked);
  });

  it("delivers messages in order, each in a task of its own", async () => {
    const { server, uri } = await startServer(async (ws) => {
      for (let i = 0; i < 5; i++) void ws.send(`m${i}`);
      for await (const _ of ws);
    });
    await using _server = server;
    const ws = new WebSocket(uri);
    const tracked = track(ws);
    const seen: string[] = [];
    ws.addEventListener("message", (event) => {
      seen.push(event.data);
      // A chain of microtasks: it completes before the next message, as
      // between two tasks in a browser.
      void Promise.resolve()
        .then(() => Promise.resolve())
        .then(() => seen.push(`after ${event.data}`));
    });
    for (let i = 0; i < 5; i++) await tracked.nextMessage();
    await nextTask();
    assert.deepEqual(seen, [
      ...["m0", "after m0", "m1", "after m1", "m2", "after m2", "m3", "after m3"],
      ...["m4", "after m4"],
    ]);
    await closeAndWait(ws, tracked);
  });

  it("copies each binary message into an ArrayBuffer of its own", async () => {
    const { server, uri } = await startServer(echo);
    await using _server = server;
    const ws = new WebSocket(uri, [], { compression: null });
    ws.binaryType = "arraybuffer";
    const tracked = track(ws);
    await tracked.opened;
    ws.send(new Uint8Array([1, 1]));
    ws.send(new Uint8Array([2, 2, 2]));
    const first = (await tracked.nextMessage()).data as ArrayBuffer;
    const second = (await tracked.nextMessage()).data as ArrayBuffer;
    assert.equal(first.byteLength, 2);
    assert.equal(second.byteLength, 3);
    assert.notEqual(first, second);
    await closeAndWait(ws, tracked);
  });
});

describe("WebSocket: sending", () => {
  it("sends strings, buffers, views, Blobs and other values, in order", async () => {
    const { server, uri, received, closedWith } = await recordingServer();
    await using _server = server;
    const ws = new WebSocket(uri);
    const tracked = track(ws);
    await tracked.opened;
    const words = new Uint16Array([0x0102, 0x0304, 0x0506]);
    ws.send("text");
    ws.send(new Uint8Array([1, 2, 3]).buffer);
    ws.send(new Uint8Array([4, 5]));
    ws.send(words.subarray(1, 2));
    ws.send(new DataView(new Uint8Array([9, 8, 7, 6]).buffer, 1, 2));
    ws.send(new Blob(["blob ", new Uint8Array([0x21])]));
    ws.send(42 as unknown as string);
    ws.send(new Blob([]));
    ws.send("last");
    ws.close(1000);
    await tracked.closed;
    await closedWith;
    const asBytes = (message: Data | undefined) => [...(message as Uint8Array)];
    assert.equal(received.length, 9);
    assert.equal(received[0], "text");
    assert.deepEqual(asBytes(received[1]), [1, 2, 3]);
    assert.deepEqual(asBytes(received[2]), [4, 5]);
    assert.deepEqual(asBytes(received[3]), [...new Uint8Array(words.buffer, 2, 2)]);
    assert.deepEqual(asBytes(received[4]), [8, 7]);
    assert.equal(Buffer.from(received[5] as Uint8Array).toString(), "blob !");
    assert.equal(received[6], "42");
    assert.deepEqual(asBytes(received[7]), []);
    assert.equal(received[8], "last");
  });

  it("keeps Blobs and what follows them in order, and sends close after them", async () => {
    const { server, uri, received, closedWith } = await recordingServer();
    await using _server = server;
    const ws = new WebSocket(uri);
    const tracked = track(ws);
    await tracked.opened;
    const big = new Uint8Array(300_000).fill(7);
    ws.send(new Blob([big]));
    ws.send("after big");
    ws.send(new Blob(["small"]));
    ws.send(new Uint8Array([1]));
    ws.close(4000, "after all");
    assert.deepEqual(await closedWith, [4000, "after all"]);
    assert.equal(received.length, 4);
    assert.equal((received[0] as Uint8Array).length, big.length);
    assert.equal(received[1], "after big");
    assert.equal(Buffer.from(received[2] as Uint8Array).toString(), "small");
    assert.deepEqual([...(received[3] as Uint8Array)], [1]);
    await tracked.closed;
  });

  it("sends an empty binary message for a detached buffer or a view of one", async () => {
    const { server, uri, received, closedWith } = await recordingServer();
    await using _server = server;
    const ws = new WebSocket(uri);
    const tracked = track(ws);
    await tracked.opened;
    const transferred = new Uint8Array([1, 2, 3]);
    const view = new Uint16Array(transferred.buffer, 0, 1);
    // structuredClone with a transfer list detaches the original, as postMessage() does.
    structuredClone(transferred.buffer, { transfer: [transferred.buffer] });
    assert.equal(transferred.buffer.byteLength, 0);
    ws.send(transferred.buffer);
    ws.send(view);
    assert.equal(ws.bufferedAmount, 0);
    ws.send(new ArrayBuffer(0));
    ws.send("after");
    ws.close();
    await closedWith;
    assert.deepEqual(
      received.map((message) => (typeof message === "string" ? message : [...message])),
      [[], [], [], "after"],
    );
    await tracked.closed;
  });

  it("copies buffers: changing one after send() changes nothing", async () => {
    const { server, uri, received, closedWith } = await recordingServer();
    await using _server = server;
    const ws = new WebSocket(uri);
    const tracked = track(ws);
    await tracked.opened;
    const bytes = new Uint8Array([1, 2, 3]);
    ws.send(bytes);
    ws.send(bytes.buffer);
    bytes.fill(0);
    ws.close();
    await closedWith;
    assert.deepEqual(
      received.map((message) => [...(message as Uint8Array)]),
      [
        [1, 2, 3],
        [1, 2, 3],
      ],
    );
    await tracked.closed;
  });

  it("counts bufferedAmount in bytes of UTF-8 and data, constant during a task", async () => {
    const { server, uri } = await startServer(echo);
    await using _server = server;
    const ws = new WebSocket(uri);
    const tracked = track(ws);
    await tracked.opened;
    ws.send("é"); // 2 bytes
    ws.send("\ud800"); // a lone surrogate: U+FFFD, 3 bytes
    ws.send(new ArrayBuffer(10));
    ws.send(new Uint32Array(2)); // 8 bytes
    ws.send(new Blob(["12345"]));
    assert.equal(ws.bufferedAmount, 2 + 3 + 10 + 8 + 5);
    await Promise.resolve();
    assert.equal(ws.bufferedAmount, 28);
    for (let i = 0; i < 5; i++) await tracked.nextMessage();
    assert.equal(ws.bufferedAmount, 0);
    await closeAndWait(ws, tracked);
  });

  it("throws InvalidStateError while connecting, TypeError without data or with shared memory", async () => {
    const { server, uri } = await startServer(echo);
    await using _server = server;
    const ws = new WebSocket(uri);
    const tracked = track(ws);
    throwsDom(() => ws.send("too early"), "InvalidStateError");
    assert.throws(() => Reflect.apply(ws.send, ws, []), TypeError);
    assert.throws(() => ws.send(new SharedArrayBuffer(4)), TypeError);
    assert.throws(() => ws.send(new Uint8Array(new SharedArrayBuffer(4))), TypeError);
    await tracked.opened;
    assert.throws(() => ws.send(new SharedArrayBuffer(4)), TypeError);
    assert.equal(ws.bufferedAmount, 0);
    await closeAndWait(ws, tracked);
  });

  it("after close(), drops data but still counts it in bufferedAmount", async () => {
    const { server, uri, received, closedWith } = await recordingServer();
    await using _server = server;
    const ws = new WebSocket(uri);
    const tracked = track(ws);
    await tracked.opened;
    ws.send("before");
    ws.close();
    ws.send("dropped");
    ws.send(new Blob(["dropped too"]));
    assert.equal(ws.bufferedAmount, 6 + 7 + 11);
    await tracked.closed;
    ws.send("after close");
    assert.equal(ws.bufferedAmount, 6 + 7 + 11 + 11 - 6);
    await closedWith;
    assert.deepEqual(received, ["before"]);
  });
});

describe("WebSocket: closing", () => {
  it("close(code, reason) performs the closing handshake", async () => {
    const { server, uri, closedWith } = await recordingServer();
    await using _server = server;
    const ws = new WebSocket(uri);
    const tracked = track(ws);
    await tracked.opened;
    let stateInHandler = -1;
    ws.onclose = () => {
      stateInHandler = ws.readyState;
    };
    ws.close(4000, "bye é");
    assert.equal(ws.readyState, WebSocket.CLOSING);
    const event = await tracked.closed;
    assert.ok(event instanceof CloseEvent);
    assert.deepEqual([event.wasClean, event.code, event.reason], [true, 4000, "bye é"]);
    assert.equal(stateInHandler, WebSocket.CLOSED);
    assert.equal(ws.readyState, WebSocket.CLOSED);
    assert.deepEqual(await closedWith, [4000, "bye é"]);
    assert.deepEqual(tracked.log, ["open", "close"]);
  });

  it("close() rounds a fractional code as WebIDL [Clamp] does, where the Node layer refuses it", async () => {
    const { server, uri, closedWith } = await recordingServer();
    await using _server = server;
    const ws = new WebSocket(uri);
    const tracked = track(ws);
    await tracked.opened;
    // The core now refuses 3000.7; the conversion comes first, so 3001 goes out.
    ws.close(3000.7, "rounded");
    assert.deepEqual(await closedWith, [3001, "rounded"]);
    assert.equal((await tracked.closed).code, 3001);
  });

  it("close() with a reason and no code sends 1000", async () => {
    const { server, uri, closedWith } = await recordingServer();
    await using _server = server;
    const ws = new WebSocket(uri);
    const tracked = track(ws);
    await tracked.opened;
    ws.close(undefined, "done");
    assert.deepEqual(await closedWith, [1000, "done"]);
    const event = await tracked.closed;
    assert.deepEqual([event.wasClean, event.code, event.reason], [true, 1000, "done"]);
  });

  it("close() without arguments sends a close frame without a code where the Node layer can", async () => {
    const frames = deferred<number | null>();
    const raw = await rawServer((peer: RawPeer) => {
      void (async () => {
        await acceptRaw(peer);
        const close = await peer.readUntilClose();
        frames.resolve(close === null ? null : close.data.length);
        if (close !== null) peer.writeFrame(close.opcode, close.data);
        peer.socket.end();
      })();
    });
    try {
      const ws = new WebSocket(`ws://127.0.0.1:${raw.port}`, [], { compression: null });
      const tracked = track(ws);
      await tracked.opened;
      ws.close();
      // WHATWG: "the WebSocket Close frame must not have a body".
      assert.equal(await frames.promise, 0, "an empty close frame");
      const event = await tracked.closed;
      assert.equal(event.wasClean, true);
      assert.equal(event.code, 1005, "the echoed empty frame reports 1005");
    } finally {
      await raw.close();
    }
  });

  it("throws for invalid codes and long reasons, and stays open", async () => {
    const { server, uri } = await startServer(echo);
    await using _server = server;
    const ws = new WebSocket(uri);
    const tracked = track(ws);
    await tracked.opened;
    for (const code of [999, 1001, 1005, 1006, 1011, 2999, 5000]) {
      throwsDom(() => ws.close(code), "InvalidAccessError");
    }
    throwsDom(() => ws.close(1000, "x".repeat(124)), "SyntaxError");
    throwsDom(() => ws.close(3000, "é".repeat(62)), "SyntaxError");
    assert.equal(ws.readyState, WebSocket.OPEN);
    ws.send("still open");
    assert.equal((await tracked.nextMessage()).data, "still open");
    ws.close(1000, "x".repeat(123));
    const event = await tracked.closed;
    assert.equal(event.reason, "x".repeat(123));
  });

  it("does nothing when called again while closing or once closed", async () => {
    const { server, uri, closedWith } = await recordingServer();
    await using _server = server;
    const ws = new WebSocket(uri);
    const tracked = track(ws);
    await tracked.opened;
    ws.close(3001);
    ws.close(3002);
    await tracked.closed;
    ws.close(3003);
    assert.deepEqual(await closedWith, [3001, ""]);
    assert.deepEqual(tracked.log, ["open", "close"]);
  });

  it("does not dispatch messages that arrive once closing started", async () => {
    const { server, uri } = await startServer(async (ws) => {
      for await (const message of ws) {
        if (message === "flood") for (let i = 0; i < 3; i++) await ws.send(`late ${i}`);
      }
    });
    await using _server = server;
    const ws = new WebSocket(uri);
    const tracked = track(ws);
    await tracked.opened;
    ws.send("flood");
    ws.close(1000);
    const event = await tracked.closed;
    assert.equal(event.wasClean, true);
    assert.deepEqual(tracked.log, ["open", "close"]);
  });

  it("reports a close started by the server: code, reason, wasClean, after its messages", async () => {
    const { server, uri } = await startServer(async (ws) => {
      await ws.send("one");
      await ws.send("two");
      await ws.close(4001, "done");
    });
    await using _server = server;
    const ws = new WebSocket(uri);
    const tracked = track(ws);
    const event = await tracked.closed;
    assert.deepEqual([event.wasClean, event.code, event.reason], [true, 4001, "done"]);
    assert.deepEqual(tracked.log, ["open", "message", "message", "close"]);
    assert.equal((await tracked.nextMessage()).data, "one");
    assert.equal((await tracked.nextMessage()).data, "two");
    assert.equal(ws.readyState, WebSocket.CLOSED);
  });

  it("reports 1005 when the server's close frame has no code", async () => {
    const raw = await rawServer((peer: RawPeer) => {
      void (async () => {
        await acceptRaw(peer);
        peer.writeFrame(Opcode.CLOSE, new Uint8Array(0));
        await peer.readUntilClose();
        peer.socket.end();
      })();
    });
    try {
      const ws = new WebSocket(`ws://127.0.0.1:${raw.port}`, [], { compression: null });
      const tracked = track(ws);
      const event = await tracked.closed;
      assert.deepEqual([event.wasClean, event.code, event.reason], [true, 1005, ""]);
      assert.deepEqual(tracked.log, ["open", "close"]);
    } finally {
      await raw.close();
    }
  });

  it("dispatches the messages sent before the server's close frame with readyState OPEN", async () => {
    const received = deferred<string[]>();
    const release = deferred();
    const raw = await rawServer((peer: RawPeer) => {
      void (async () => {
        await acceptRaw(peer);
        // Three messages and the close frame in one write: one read for the client.
        peer.socket.write(
          concat([
            ...serializeFrame(new Frame(Opcode.TEXT, utf8("a")), null),
            ...serializeFrame(new Frame(Opcode.TEXT, utf8("b")), null),
            ...serializeFrame(new Frame(Opcode.TEXT, utf8("c")), null),
            ...serializeFrame(new Frame(Opcode.CLOSE, new Close(1000, "").serialize()), null),
          ]),
        );
        const texts: string[] = [];
        for (;;) {
          const frame = await peer.readFrame();
          if (frame === null || frame.opcode === Opcode.CLOSE) break;
          texts.push(new TextDecoder().decode(frame.data));
        }
        received.resolve(texts);
        await release.promise;
        peer.socket.end();
      })();
    });
    try {
      const ws = new WebSocket(`ws://127.0.0.1:${raw.port}`, [], { compression: null });
      const tracked = track(ws);
      const states: number[] = [];
      const dispatched = deferred();
      const later: Promise<number>[] = [];
      ws.onmessage = (event) => {
        states.push(ws.readyState);
        // A task the listener queues comes after the one that makes it CLOSING.
        later.push(new Promise((resolve) => setImmediate(() => resolve(ws.readyState))));
        // Answering while OPEN, as applications do.
        if (ws.readyState === WebSocket.OPEN) ws.send(`ack:${event.data}`);
        if (states.length === 3) dispatched.resolve();
      };
      await tracked.opened;
      await dispatched.promise;
      // The answers that reach the server before the close frame's reply vary; Chromium's reply
      // to the close frame goes before any of them.
      const answers = await received.promise;
      assert.deepEqual(answers, ["ack:a", "ack:b", "ack:c"].slice(0, answers.length));
      // WebSockets standard: the task that makes it CLOSING is queued after those of the messages.
      assert.deepEqual(states, [WebSocket.OPEN, WebSocket.OPEN, WebSocket.OPEN]);
      assert.deepEqual(await Promise.all(later), [
        WebSocket.CLOSING,
        WebSocket.CLOSING,
        WebSocket.CLOSING,
      ]);
      // Outside of those events it is CLOSING, the close frame having arrived; the server has not
      // closed TCP yet.
      assert.equal(ws.readyState, WebSocket.CLOSING);
      release.resolve();
      const event = await tracked.closed;
      assert.deepEqual([event.wasClean, event.code], [true, 1000]);
    } finally {
      await raw.close();
    }
  });

  it("reports CLOSING once the server started the closing handshake", async () => {
    const echoed = deferred<[number, string] | null>();
    const release = deferred();
    const raw = await rawServer((peer: RawPeer) => {
      void (async () => {
        await acceptRaw(peer);
        peer.writeFrame(Opcode.CLOSE, new Uint8Array([0x0f, 0xa0, 0x68, 0x69])); // 4000 "hi"
        echoed.resolve(closePayload(await peer.readUntilClose()));
        await release.promise;
        peer.socket.end();
      })();
    });
    try {
      const ws = new WebSocket(`ws://127.0.0.1:${raw.port}`, [], { compression: null });
      const tracked = track(ws);
      await tracked.opened;
      assert.deepEqual(await echoed.promise, [4000, "hi"]);
      // The client answered and waits for the server to close TCP.
      assert.equal(ws.readyState, WebSocket.CLOSING);
      ws.send("dropped");
      assert.equal(ws.bufferedAmount, 7);
      release.resolve();
      const event = await tracked.closed;
      assert.deepEqual([event.wasClean, event.code, event.reason], [true, 4000, "hi"]);
      assert.equal(ws.readyState, WebSocket.CLOSED);
    } finally {
      await raw.close();
    }
  });
});

describe("WebSocket: event handler attributes", () => {
  it("calls onopen, onmessage and onclose with the socket as this", async () => {
    const { server, uri } = await startServer(echo);
    await using _server = server;
    const ws = new WebSocket(uri);
    const tracked = track(ws);
    const calls: string[] = [];
    ws.onopen = function (event) {
      assert.equal(this, ws);
      calls.push(event.type);
      ws.send("ping");
    };
    ws.onmessage = function (event) {
      assert.equal(this, ws);
      calls.push(`${event.type} ${event.data}`);
      ws.close();
    };
    ws.onerror = () => calls.push("error");
    ws.onclose = function (event) {
      assert.equal(this, ws);
      calls.push(event.type);
    };
    await tracked.closed;
    assert.deepEqual(calls, ["open", "message ping", "close"]);
    assert.equal(typeof ws.onopen, "function");
  });

  it("keeps a handler's place among listeners when replaced, and loses it when nulled", async () => {
    const { server, uri } = await startServer(async (ws) => {
      for await (const message of ws) await ws.send(message);
    });
    await using _server = server;
    const ws = new WebSocket(uri);
    const tracked = track(ws);
    await tracked.opened;
    const order: string[] = [];
    ws.addEventListener("message", () => order.push("first"));
    ws.onmessage = () => order.push("handler");
    ws.addEventListener("message", () => order.push("last"));
    ws.send("1");
    await tracked.nextMessage();
    ws.onmessage = () => order.push("replaced");
    ws.send("2");
    await tracked.nextMessage();
    ws.onmessage = null;
    assert.equal(ws.onmessage, null);
    ws.onmessage = () => order.push("re-added");
    ws.send("3");
    await tracked.nextMessage();
    assert.deepEqual(order, [
      ...["first", "handler", "last"],
      ...["first", "replaced", "last"],
      ...["first", "last", "re-added"],
    ]);
    await closeAndWait(ws, tracked);
  });

  it("treats values that are not functions as null", async () => {
    const { server, uri } = await startServer(echo);
    await using _server = server;
    const ws = new WebSocket(uri);
    const tracked = track(ws);
    ws.onopen = () => {};
    ws.onopen = "alert(1)" as unknown as null;
    assert.equal(ws.onopen, null);
    ws.onclose = 42 as unknown as null;
    assert.equal(ws.onclose, null);
    await closeAndWait(ws, tracked);
  });

  it("types addEventListener's listeners by event", async () => {
    const { server, uri } = await startServer(async (ws) => {
      await ws.close(3000, "typed");
    });
    await using _server = server;
    const ws = new WebSocket(uri);
    const closed = deferred<[number, string]>();
    const listener = (event: CloseEvent) => closed.resolve([event.code, event.reason]);
    ws.addEventListener("close", listener);
    assert.deepEqual(await closed.promise, [3000, "typed"]);
    ws.removeEventListener("close", listener);
  });
});
