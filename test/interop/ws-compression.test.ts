/**
 * permessage-deflate interop with the `ws` package over loopback: our client
 * against its server with `perMessageDeflate`, its client against our server,
 * with context takeover and without, and with limited windows.
 */

import assert from "node:assert/strict";
import { once } from "node:events";
import type { IncomingMessage } from "node:http";
import * as net from "node:net";
import { after, describe, it } from "node:test";
import WebSocket, { type PerMessageDeflateOptions, WebSocketServer } from "ws";
import { PerMessageDeflate } from "../../src/core/extensions/permessage-deflate.js";
import { connect } from "../../src/node/client.js";
import type { ServeOptions } from "../../src/node/server.js";
import { echo, startServer, unhandledRejections } from "../helpers/server.js";

after(() => {
  assert.deepEqual(unhandledRejections(), []);
});

const FOUR_MIB = 4 * 1024 * 1024;

/** Repetitive JSON, the kind of traffic compression is for. */
function chat(count: number, seed = 0): string {
  return JSON.stringify(
    Array.from({ length: count }, (_, i) => ({
      id: seed + i,
      user: `user${(seed + i) % 7}`,
      text: "hello there",
    })),
  );
}

function randomBytes(length: number): Buffer {
  const bytes = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i += 65536) {
    globalThis.crypto.getRandomValues(bytes.subarray(i, Math.min(length, i + 65536)));
  }
  return bytes;
}

/** Messages that exercise compression: small and repeated, large, incompressible, empty. */
function messages(): (string | Buffer)[] {
  return [
    "Hello",
    chat(3),
    chat(3),
    chat(3, 1),
    "",
    chat(20_000),
    "é".repeat(300_000),
    Buffer.alloc(0),
    Buffer.from(chat(50)),
    randomBytes(100_000),
    Buffer.alloc(FOUR_MIB - 1024),
  ];
}

/** A ws echo server with permessage-deflate; the sockets it accepted, to count bytes. */
async function wsServer(perMessageDeflate: PerMessageDeflateOptions | boolean) {
  const server = new WebSocketServer({
    host: "127.0.0.1",
    port: 0,
    perMessageDeflate,
    maxPayload: 2 * FOUR_MIB,
  });
  const sockets: net.Socket[] = [];
  const accepted: string[] = [];
  server.on("connection", (socket: WebSocket, request: IncomingMessage) => {
    sockets.push(request.socket as net.Socket);
    accepted.push(socket.extensions);
    socket.on("message", (data, isBinary) => socket.send(data, { binary: isBinary }));
  });
  await once(server, "listening");
  return {
    uri: `ws://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    sockets,
    accepted,
    async [Symbol.asyncDispose]() {
      for (const client of server.clients) client.terminate();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function same(actual: unknown, expected: string | Buffer): void {
  if (typeof expected === "string") assert.equal(actual, expected);
  else assert.ok(Buffer.from(actual as Uint8Array).equals(expected), "binary message differs");
}

describe("our client against a ws server with perMessageDeflate", () => {
  it("negotiates permessage-deflate and exchanges messages compressed both ways", async () => {
    await using peer = await wsServer({ threshold: 0 });
    await using ws = await connect(peer.uri, { maxMessageSize: 2 * FOUR_MIB });
    assert.equal(ws.response?.headers.get("Sec-WebSocket-Extensions"), "permessage-deflate");
    assert.deepEqual(peer.accepted, ["permessage-deflate"]);
    assert.ok(ws.protocol.extensions[0] instanceof PerMessageDeflate);
    for (const message of messages()) {
      await ws.send(message);
      same(await ws.recv(), message);
    }
    await ws.send(["frag", "mented ", chat(100)]);
    same(await ws.recv(), `fragmented ${chat(100)}`);
    // Both directions carried ~4.5 MiB of zeros and JSON: compressed, far less.
    const [socket] = peer.sockets;
    assert.ok(socket!.bytesRead < 500_000, `ws read ${socket!.bytesRead} bytes`);
    assert.ok(socket!.bytesWritten < 500_000, `ws wrote ${socket!.bytesWritten} bytes`);
  });

  const variants: [string, PerMessageDeflateOptions, ServeOptions["deflate"], string][] = [
    [
      "without context takeover, as the server requires",
      { serverNoContextTakeover: true, clientNoContextTakeover: true },
      {},
      "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
    ],
    [
      "with windows the server limits",
      { serverMaxWindowBits: 9, clientMaxWindowBits: 10 },
      {},
      // ws's order of the parameters.
      "permessage-deflate; client_max_window_bits=10; server_max_window_bits=9",
    ],
    [
      "with the limits and context takeover our client asks for",
      {},
      { windowBits: 11, peerWindowBits: 10, noContextTakeover: true, peerNoContextTakeover: true },
      "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=11",
    ],
  ];
  for (const [title, wsOptions, ourOptions, header] of variants) {
    it(`exchanges messages ${title}`, async () => {
      await using peer = await wsServer({ threshold: 0, ...wsOptions });
      await using ws = await connect(peer.uri, {
        maxMessageSize: 2 * FOUR_MIB,
        deflate: ourOptions ?? {},
      });
      assert.equal(ws.response?.headers.get("Sec-WebSocket-Extensions"), header);
      for (const message of messages()) {
        await ws.send(message);
        same(await ws.recv(), message);
      }
    });
  }

  // ws answers 400 when it can accept none of the offers: one asking for a
  // server window below its serverMaxWindowBits, or committing the client to
  // a window below its clientMaxWindowBits. RFC 7692 §5 lets a bare offer follow.
  const refused: {
    title: string;
    wsOptions: PerMessageDeflateOptions;
    ourOptions: ServeOptions["deflate"];
    offer: string;
    answer: string;
    /** localNoContextTakeover, localMaxWindowBits, remoteMaxWindowBits. */
    negotiated: [boolean, number, number];
  }[] = [
    {
      title: "a server window smaller than it uses",
      wsOptions: { serverMaxWindowBits: 12 },
      ourOptions: { peerWindowBits: 10 },
      offer: "permessage-deflate; server_max_window_bits=10; client_max_window_bits",
      answer: "permessage-deflate; server_max_window_bits=12",
      negotiated: [false, 15, 12],
    },
    {
      title: "a client window smaller than it asks for",
      wsOptions: { clientMaxWindowBits: 12 },
      ourOptions: { windowBits: 10, noContextTakeover: true },
      offer: "permessage-deflate; client_no_context_takeover; client_max_window_bits=10",
      answer: "permessage-deflate; client_max_window_bits=12",
      // Our client keeps to the window and the takeover it chose for itself.
      negotiated: [true, 10, 15],
    },
  ];
  for (const { title, wsOptions, ourOptions, offer, answer, negotiated } of refused) {
    it(`falls back to a bare offer when a ws server refuses ${title}`, async () => {
      await using peer = await wsServer({ threshold: 0, ...wsOptions });
      await using ws = await connect(peer.uri, {
        maxMessageSize: 2 * FOUR_MIB,
        deflate: ourOptions ?? {},
      });
      assert.equal(
        ws.request.headers.get("Sec-WebSocket-Extensions"),
        `${offer}, permessage-deflate; client_max_window_bits`,
      );
      assert.equal(ws.response?.headers.get("Sec-WebSocket-Extensions"), answer);
      assert.deepEqual(peer.accepted, ["permessage-deflate"]);
      const extension = ws.protocol.extensions[0] as PerMessageDeflate;
      assert.deepEqual(
        [
          extension.localNoContextTakeover,
          extension.localMaxWindowBits,
          extension.remoteMaxWindowBits,
        ],
        negotiated,
      );
      for (const message of messages()) {
        await ws.send(message);
        same(await ws.recv(), message);
      }
    });
  }

  it("does without compression against a ws server without it", async () => {
    await using peer = await wsServer(false);
    await using ws = await connect(peer.uri);
    assert.equal(ws.response?.headers.has("Sec-WebSocket-Extensions"), false);
    await ws.send(chat(10));
    same(await ws.recv(), chat(10));
  });

  it("offers nothing to a ws server with perMessageDeflate when compression is off", async () => {
    await using peer = await wsServer({ threshold: 0 });
    await using ws = await connect(peer.uri, { compression: null });
    assert.equal(ws.request.headers.has("Sec-WebSocket-Extensions"), false);
    assert.equal(ws.response?.headers.has("Sec-WebSocket-Extensions"), false);
    assert.deepEqual(peer.accepted, [""]);
    await ws.send(chat(100));
    same(await ws.recv(), chat(100));
    // Uncompressed both ways: the message, its frame header and the handshake.
    const [socket] = peer.sockets;
    assert.ok(socket!.bytesRead > chat(100).length);
    assert.ok(socket!.bytesWritten > chat(100).length);
  });
});

describe("a ws client against our server", () => {
  /** A ws client and the socket under it, to count bytes. */
  async function wsClient(uri: string, perMessageDeflate: PerMessageDeflateOptions | boolean) {
    let socket: net.Socket | null = null;
    const client = new WebSocket(uri, {
      perMessageDeflate,
      maxPayload: 2 * FOUR_MIB,
      createConnection: ((options: net.NetConnectOpts) => {
        socket = net.connect(options);
        return socket;
      }) as typeof net.createConnection,
    });
    await once(client, "open");
    return { client, socket: socket! as net.Socket };
  }

  function exchange(client: WebSocket, message: string | Buffer): Promise<[Buffer, boolean]> {
    const received = once(client, "message") as Promise<[Buffer, boolean]>;
    client.send(message, { binary: typeof message !== "string" });
    return received;
  }

  const variants: [string, PerMessageDeflateOptions, ServeOptions["deflate"], string][] = [
    [
      "with the defaults",
      { threshold: 0 },
      undefined,
      "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12",
    ],
    [
      "with the limits the ws client asks for",
      {
        threshold: 0,
        serverMaxWindowBits: 9,
        clientMaxWindowBits: 11,
        serverNoContextTakeover: true,
      },
      undefined,
      "permessage-deflate; server_no_context_takeover; server_max_window_bits=9; client_max_window_bits=11",
    ],
    [
      "without context takeover, as our server requires",
      { threshold: 0 },
      {
        windowBits: null,
        peerWindowBits: null,
        noContextTakeover: true,
        peerNoContextTakeover: true,
      },
      "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
    ],
  ];
  for (const [title, wsOptions, ourOptions, header] of variants) {
    it(`negotiates permessage-deflate and exchanges compressed messages ${title}`, async () => {
      const { server, uri } = await startServer(echo, {
        maxMessageSize: 2 * FOUR_MIB,
        ...(ourOptions ? { deflate: ourOptions } : {}),
      });
      await using _server = server;
      const { client, socket } = await wsClient(uri, wsOptions);
      try {
        assert.equal(client.extensions, "permessage-deflate");
        const [connection] = [...server.connections];
        assert.equal(connection!.response?.headers.get("Sec-WebSocket-Extensions"), header);
        assert.ok(connection!.protocol.extensions[0] instanceof PerMessageDeflate);
        for (const message of messages()) {
          const [echoed, isBinary] = await exchange(client, message);
          assert.equal(isBinary, typeof message !== "string");
          same(typeof message === "string" ? echoed.toString() : echoed, message);
        }
        assert.ok(socket.bytesRead < 500_000, `ws read ${socket.bytesRead} bytes`);
        assert.ok(socket.bytesWritten < 500_000, `ws wrote ${socket.bytesWritten} bytes`);
      } finally {
        client.close();
        await once(client, "close");
      }
    });
  }

  it("receives a ws client's fragmented compressed messages", async () => {
    const { server, uri } = await startServer(echo, { maxMessageSize: 2 * FOUR_MIB });
    await using _server = server;
    const { client, socket } = await wsClient(uri, { threshold: 0 });
    try {
      assert.equal(client.extensions, "permessage-deflate");
      // RFC 7692 §6.1: the first frame of a compressed message has RSV1 set, and its
      // continuation frames carry the rest of one compressed stream. Twice, for the
      // context that the second message takes over from the first.
      /** Sends `parts` as the fragments of one compressed message; resolves with its echo. */
      const echoFragments = (parts: (string | Buffer)[], binary: boolean) => {
        const received = once(client, "message") as Promise<[Buffer, boolean]>;
        parts.forEach((part, i) => {
          client.send(part, { binary, compress: true, fin: i === parts.length - 1 });
        });
        return received;
      };
      for (const seed of [0, 1]) {
        const parts = [chat(200, seed), chat(2_000, seed), "", chat(10, seed)];
        const [echoed, isBinary] = await echoFragments(parts, false);
        assert.equal(isBinary, false);
        assert.equal(echoed.toString(), parts.join(""));
      }
      const binary = [Buffer.from(chat(500)), randomBytes(70_000), Buffer.alloc(300_000)];
      const [echoed, isBinary] = await echoFragments(binary, true);
      assert.equal(isBinary, true);
      assert.ok(echoed.equals(Buffer.concat(binary)), "binary message differs");
      // The zeros and the JSON went compressed: far fewer bytes than the 600 KB sent.
      assert.ok(socket.bytesWritten < 200_000, `ws wrote ${socket.bytesWritten} bytes`);
    } finally {
      client.close();
      await once(client, "close");
    }
  });

  it("does without compression with a ws client that doesn't offer it", async () => {
    const { server, uri } = await startServer(echo);
    await using _server = server;
    const { client, socket } = await wsClient(uri, false);
    try {
      assert.equal(client.extensions, "");
      const [connection] = [...server.connections];
      assert.equal(connection!.request.headers.has("Sec-WebSocket-Extensions"), false);
      assert.equal(connection!.response?.headers.has("Sec-WebSocket-Extensions"), false);
      assert.deepEqual(connection!.protocol.extensions, []);
      const [echoed] = await exchange(client, chat(100));
      same(echoed.toString(), chat(100));
      assert.ok(socket.bytesRead > chat(100).length);
      assert.ok(socket.bytesWritten > chat(100).length);
    } finally {
      client.close();
      await once(client, "close");
    }
  });

  it("fails a ws client's decompression bomb with 1009", async () => {
    const { server, uri } = await startServer(echo, { maxMessageSize: 64 * 1024 });
    await using _server = server;
    const { client } = await wsClient(uri, { threshold: 0 });
    const closed = once(client, "close") as Promise<[number, Buffer]>;
    client.send(Buffer.alloc(FOUR_MIB));
    const [code] = await closed;
    assert.equal(code, 1009);
  });
});
