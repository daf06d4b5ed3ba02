/** The WHATWG WebSocket class against the `ws` package's server, over loopback. */

import assert from "node:assert/strict";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { after, describe, it } from "node:test";
import { type ServerOptions, WebSocketServer } from "ws";
import { WebSocket } from "../../src/web/index.js";
import { deferred, unhandledRejections } from "../helpers/server.js";
import { closeAndWait, track } from "./track.js";

after(() => {
  assert.deepEqual(unhandledRejections(), []);
});

/**
 * A `ws` server that echoes, closes with 4002 on "close", and drops the TCP
 * connection on "drop".
 */
async function wsServer(options: ServerOptions = {}) {
  const server = new WebSocketServer({ host: "127.0.0.1", port: 0, ...options });
  server.on("connection", (socket) => {
    socket.on("message", (data, isBinary) => {
      const text = isBinary ? null : data.toString();
      if (text === "close") socket.close(4002, "ws bye");
      else if (text === "drop") socket.terminate();
      else socket.send(data, { binary: isBinary });
    });
  });
  await once(server, "listening");
  return {
    uri: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async [Symbol.asyncDispose]() {
      for (const client of server.clients) client.terminate();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe("WebSocket against ws's server", () => {
  it("exchanges text and binary in both binary types", async () => {
    await using peer = await wsServer();
    const ws = new WebSocket(peer.uri);
    const tracked = track(ws);
    await tracked.opened;
    ws.send("Hello, ws!");
    assert.equal((await tracked.nextMessage()).data, "Hello, ws!");
    ws.send(new Uint8Array([0, 1, 255]));
    const blob = (await tracked.nextMessage()).data as Blob;
    assert.deepEqual([...new Uint8Array(await blob.arrayBuffer())], [0, 1, 255]);
    ws.binaryType = "arraybuffer";
    const big = new Uint8Array(200_000).map((_, i) => i % 251);
    ws.send(new Blob([big]));
    const buffer = (await tracked.nextMessage()).data as ArrayBuffer;
    assert.deepEqual(new Uint8Array(buffer), big);
    const event = await closeAndWait(ws, tracked);
    assert.equal(event.wasClean, true);
  });

  it("negotiates compression and reports it in extensions", async () => {
    await using peer = await wsServer({ perMessageDeflate: true });
    const ws = new WebSocket(peer.uri);
    const tracked = track(ws);
    await tracked.opened;
    assert.match(ws.extensions, /^permessage-deflate/);
    ws.send("compressible ".repeat(100));
    assert.equal((await tracked.nextMessage()).data, "compressible ".repeat(100));
    await closeAndWait(ws, tracked);
  });

  it("reports no extensions when the server declines compression", async () => {
    await using peer = await wsServer({ perMessageDeflate: false });
    const ws = new WebSocket(peer.uri);
    const tracked = track(ws);
    await tracked.opened;
    assert.equal(ws.extensions, "");
    await closeAndWait(ws, tracked);
  });

  it("negotiates a subprotocol", async () => {
    const offered = deferred<string[]>();
    await using peer = await wsServer({
      handleProtocols: (protocols) => {
        offered.resolve([...protocols]);
        return protocols.has("b") ? "b" : false;
      },
    });
    const ws = new WebSocket(peer.uri, ["a", "b"]);
    const tracked = track(ws);
    await tracked.opened;
    assert.deepEqual(await offered.promise, ["a", "b"]);
    assert.equal(ws.protocol, "b");
    await closeAndWait(ws, tracked);
  });

  it("reports the server's close code and reason", async () => {
    await using peer = await wsServer();
    const ws = new WebSocket(peer.uri);
    const tracked = track(ws);
    await tracked.opened;
    ws.send("close");
    const event = await tracked.closed;
    assert.deepEqual([event.wasClean, event.code, event.reason], [true, 4002, "ws bye"]);
    assert.deepEqual(tracked.log, ["open", "close"]);
  });

  it("reports a terminated connection: error, then close with 1006", async () => {
    await using peer = await wsServer();
    const ws = new WebSocket(peer.uri);
    const tracked = track(ws);
    await tracked.opened;
    ws.send("drop");
    const event = await tracked.closed;
    assert.deepEqual([event.wasClean, event.code], [false, 1006]);
    assert.deepEqual(tracked.log, ["open", "error", "close"]);
  });

  it("closes with a code and reason that ws receives", async () => {
    const received = deferred<[number, string]>();
    const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    server.on("connection", (socket) => {
      socket.on("close", (code, reason) => received.resolve([code, reason.toString()]));
    });
    await once(server, "listening");
    try {
      const ws = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
      const tracked = track(ws);
      await tracked.opened;
      ws.close(3333, "from the web API");
      const event = await tracked.closed;
      assert.deepEqual(
        [event.wasClean, event.code, event.reason],
        [true, 3333, "from the web API"],
      );
      assert.deepEqual(await received.promise, [3333, "from the web API"]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
