/**
 * Interop with the `ws` package, the incumbent Node implementation: our client
 * against its server, its client against our server.
 */

import assert from "node:assert/strict";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { after, describe, it } from "node:test";
import WebSocket, { WebSocketServer } from "ws";
import { ConnectionClosedError } from "../../src/core/errors.js";
import { connect } from "../../src/node/client.js";
import { deferred, echo, startServer, unhandledRejections } from "../helpers/server.js";

after(() => {
  assert.deepEqual(unhandledRejections(), []);
});

const SIXTEEN_MIB = 16 * 1024 * 1024;

async function wsEchoServer(): Promise<{
  uri: string;
  server: WebSocketServer;
  [Symbol.asyncDispose](): Promise<void>;
}> {
  const server = new WebSocketServer({ host: "127.0.0.1", port: 0, maxPayload: 2 * SIXTEEN_MIB });
  server.on("connection", (socket) => {
    socket.on("message", (data, isBinary) => {
      const text = !isBinary && data.toString();
      if (text === "close-4001") socket.close(4001, "from ws");
      else socket.send(data, { binary: isBinary });
    });
  });
  await once(server, "listening");
  return {
    server,
    uri: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async [Symbol.asyncDispose]() {
      for (const client of server.clients) client.terminate();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function randomBytes(length: number): Buffer {
  const bytes = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i += 65536)
    globalThis.crypto.getRandomValues(bytes.subarray(i, Math.min(length, i + 65536)));
  return bytes;
}

describe("our client against a ws server", () => {
  it("exchanges text, binary and 16 MiB messages", async () => {
    await using peer = await wsEchoServer();
    await using ws = await connect(peer.uri, { maxMessageSize: 2 * SIXTEEN_MIB });
    await ws.send("Hello, ws!");
    assert.equal(await ws.recv(), "Hello, ws!");
    await ws.send(Buffer.from([0, 1, 255]));
    assert.deepEqual([...((await ws.recv()) as Uint8Array)], [0, 1, 255]);
    const big = randomBytes(SIXTEEN_MIB);
    await ws.send(big);
    assert.ok(Buffer.from((await ws.recv()) as Uint8Array).equals(big));
    const bigText = "é".repeat(SIXTEEN_MIB / 2);
    await ws.send(bigText);
    assert.equal(await ws.recv(), bigText);
  });

  it("sends fragmented messages that ws reassembles", async () => {
    await using peer = await wsEchoServer();
    await using ws = await connect(peer.uri);
    await ws.send(["frag", "mented", " ", "text"]);
    assert.equal(await ws.recv(), "fragmented text");
    await ws.send([Buffer.from([1, 2]), Buffer.from([3])]);
    assert.deepEqual([...((await ws.recv()) as Uint8Array)], [1, 2, 3]);
  });

  it("pings ws and gets its pong", async () => {
    await using peer = await wsEchoServer();
    await using ws = await connect(peer.uri);
    assert.ok((await ws.ping("probe")) >= 0);
  });

  it("closes with a code and reason that ws reports, and reports ws's", async () => {
    await using peer = await wsEchoServer();
    const closedOnWs = deferred<[number, string]>();
    peer.server.once("connection", (socket) => {
      socket.once("close", (code, reason) => closedOnWs.resolve([code, reason.toString()]));
    });
    const ws = await connect(peer.uri);
    await ws.close(4000, "from us");
    assert.deepEqual(await closedOnWs.promise, [4000, "from us"]);
    assert.equal(ws.closeCode, 4000);

    const other = await connect(peer.uri);
    await other.send("close-4001");
    await assert.rejects(other.recv(), ConnectionClosedError);
    assert.equal(other.closeCode, 4001);
    assert.equal(other.closeReason, "from ws");
  });
});

describe("a ws client against our server", () => {
  async function wsClient(uri: string, options: WebSocket.ClientOptions = {}): Promise<WebSocket> {
    const client = new WebSocket(uri, { maxPayload: 2 * SIXTEEN_MIB, ...options });
    await once(client, "open");
    return client;
  }

  function nextMessage(client: WebSocket): Promise<[Buffer, boolean]> {
    return once(client, "message") as Promise<[Buffer, boolean]>;
  }

  it("exchanges text, binary and 16 MiB messages", async () => {
    const { server, uri } = await startServer(echo, { maxMessageSize: 2 * SIXTEEN_MIB });
    await using _server = server;
    const client = await wsClient(uri);
    client.send("Hello from ws");
    const [text, textIsBinary] = await nextMessage(client);
    assert.equal(text.toString(), "Hello from ws");
    assert.equal(textIsBinary, false);
    const big = randomBytes(SIXTEEN_MIB);
    client.send(big);
    const [echoed, isBinary] = await nextMessage(client);
    assert.equal(isBinary, true);
    assert.ok(echoed.equals(big));
    client.close(1000);
    await once(client, "close");
  });

  it("reassembles fragmented messages from ws", async () => {
    const { server, uri } = await startServer(echo);
    await using _server = server;
    const client = await wsClient(uri);
    client.send("Hel", { fin: false });
    client.send("lo", { fin: true });
    const [message] = await nextMessage(client);
    assert.equal(message.toString(), "Hello");
    client.close();
    await once(client, "close");
  });

  it("answers ws's pings and sends pings ws answers", async () => {
    const { server, uri } = await startServer(
      async (ws) => {
        await ws.ping();
        for await (const message of ws) await ws.send(message);
      },
      { pingInterval: null },
    );
    await using _server = server;
    // Listen for the server's ping before the handshake completes: it may
    // arrive in the same TCP segment as the 101 response.
    const client = new WebSocket(uri);
    const pinged = once(client, "ping");
    await once(client, "open");
    client.ping(Buffer.from("probe"));
    const [pong] = (await once(client, "pong")) as [Buffer];
    assert.equal(pong.toString(), "probe");
    await pinged;
    client.close();
    await once(client, "close");
  });

  it("reports close codes and reasons both ways", async () => {
    const closedOnServer = deferred<[number | null, string | null]>();
    const { server, uri } = await startServer(async (ws) => {
      const first = await ws.recv().catch(() => null);
      if (first === "please close") {
        await ws.close(4002, "as asked");
        return;
      }
      await ws.closed;
      closedOnServer.resolve([ws.closeCode, ws.closeReason]);
    });
    await using _server = server;
    const client = await wsClient(uri);
    client.close(4003, "bye from ws");
    await once(client, "close");
    assert.deepEqual(await closedOnServer.promise, [4003, "bye from ws"]);

    const other = await wsClient(uri);
    other.send("please close");
    const [code, reason] = (await once(other, "close")) as [number, Buffer];
    assert.equal(code, 4002);
    assert.equal(reason.toString(), "as asked");
  });
});
