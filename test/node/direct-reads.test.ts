/**
 * Direct reads (`direct-reads.ts`): a client's TCP and Unix sockets, and the
 * ones `serve()` accepts on its own TCP or Unix socket server, read the rest
 * of a large payload straight into the payload's memory, and every other
 * read into one buffer that all of them share and copy out of at once. These
 * tests check that messages arrive whole and in order through both kinds of
 * read: large and small, text and binary, fragmented, compressed, with
 * reading paused by a full queue, on several connections at once; and that
 * the sockets direct reads can't or mustn't take read as Node has them read.
 */

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { CloseCode } from "../../src/core/close-codes.js";
import { ConnectionClosedError } from "../../src/core/errors.js";
import type { Frame } from "../../src/core/frame.js";
import { Opcode } from "../../src/core/opcodes.js";
import { type ClientConnection, connect } from "../../src/node/client.js";
import { connectReadingDirectly } from "../../src/node/connection.js";
import { readDirectly } from "../../src/node/direct-reads.js";
import { type Handler, serve } from "../../src/node/server.js";
import { type DirectReads, recordDirectReads } from "../helpers/direct-reads.js";
import { fromPeer } from "../helpers/protocol.js";
import { acceptRaw, closePayload, RawPeer, rawServer, writeUntilStalled } from "../helpers/raw.js";
import { deferred, echo, startServer, unhandledRejections } from "../helpers/server.js";

const directory = mkdtempSync(join(tmpdir(), "websockets-ts-"));

after(() => {
  rmSync(directory, { recursive: true, force: true });
  assert.deepEqual(unhandledRejections(), []);
});

type Message = string | Uint8Array | Uint8Array[];

/** Text of `n` UTF-8 bytes with code points of 1 to 4 bytes, split across reads. */
function text(n: number): string {
  return "aé€😀".repeat(Math.ceil(n / 10)).slice(0, n);
}

/** What the client receives for `message`: fragments come out joined. */
function received(message: Message): string | Buffer {
  if (typeof message === "string") return message;
  return Buffer.concat(Array.isArray(message) ? message : [message]);
}

/** A handler that sends `messages` in order, then waits for the client to close. */
function sending(messages: readonly Message[]): Handler {
  return async (ws) => {
    for (const message of messages) await ws.send(message);
    await ws.closed;
  };
}

/** Receives `messages` in order on `ws`, checking each. */
async function receiveAll(ws: ClientConnection, messages: readonly Message[]): Promise<unknown[]> {
  const got: unknown[] = [];
  for (const [index, message] of messages.entries()) {
    const data = await ws.recv();
    assert.deepEqual(data, received(message), `message ${index}`);
    got.push(data);
  }
  return got;
}

const MESSAGES: readonly Message[] = [
  randomBytes(1 << 20),
  "small",
  text(300_000),
  [randomBytes(100_000), randomBytes(3), randomBytes(200_000)],
  randomBytes(70_000),
  randomBytes(10),
];

describe("a client's reads straight into large payloads", () => {
  for (const over of ["TCP", "a Unix socket"] as const) {
    it(`deliver messages whole over ${over}, large ones read into their own memory`, async () => {
      let uri: string;
      let options = {};
      const server =
        over === "TCP"
          ? await startServer(sending(MESSAGES)).then((started) => {
              uri = started.uri;
              return started.server;
            })
          : await serve(sending(MESSAGES), { path: join(directory, "direct.sock"), logger: null });
      await using _server = server;
      if (over !== "TCP") {
        uri = "ws://localhost/";
        options = { path: join(directory, "direct.sock") };
      }
      await using ws = await connect(uri!, options);
      const reads = recordDirectReads(ws);
      const got = await receiveAll(ws, MESSAGES);
      const large = got[0] as Buffer;
      assert.ok(
        reads.regions.some((region) => region.buffer === large.buffer),
        "the 1 MiB message is the memory its reads went into",
      );
      // All of the 1 MiB but what arrived before its assembly started: a
      // sixteenth, in reads of up to 64 KiB.
      assert.ok(reads.bytesInPlace >= (1 << 20) - (1 << 16) - 2 * 65536, `${reads.bytesInPlace}`);
    });
  }

  it("deliver what several connections receive at once, in reads of any size", async () => {
    // Each connection gets its own sequence of small and large messages, so
    // that reads of the shared buffer interleave with reads into payloads.
    const sizes = [1, 125, 126, 5_000, 65_535, 65_536, 70_000, 300_000, 17];
    const sequences = [0, 1, 2, 3].map((seed) =>
      Array.from({ length: 24 }, (_, i) => randomBytes(sizes[(i * 5 + seed) % sizes.length]!)),
    );
    let next = 0;
    const { server, uri } = await startServer(async (ws) => {
      const messages = sequences[next++]!;
      for (const message of messages) await ws.send(message);
      await ws.closed;
    });
    await using _server = server;
    const clients = await Promise.all(sequences.map(() => connect(uri)));
    try {
      // The server takes the sequences in the order it accepts the connections.
      await Promise.all(
        clients.map(async (ws) => {
          const first = (await ws.recv()) as Buffer;
          const index = sequences.findIndex((messages) => messages[0]!.equals(first));
          assert.notEqual(index, -1, "the first message is one of the sequences'");
          await receiveAll(ws, sequences[index]!.slice(1));
        }),
      );
    } finally {
      await Promise.all(clients.map((ws) => ws.close()));
    }
  });

  it("deliver large messages whole when a full queue pauses reading", async () => {
    const messages = Array.from({ length: 6 }, () => randomBytes(300_000));
    const { server, uri } = await startServer(sending(messages));
    await using _server = server;
    await using ws = await connect(uri, { maxQueue: 1 });
    const reads = recordDirectReads(ws);
    for (const [index, message] of messages.entries()) {
      // A turn of the event loop between messages: the queue fills and reading stops.
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(await ws.recv(), message, `message ${index}`);
    }
    assert.ok(reads.bytesInPlace > 0);
  });

  it("deliver a large compressed message whole", async () => {
    // Random bytes don't compress: the frame is as large as the message.
    const messages = [randomBytes(1 << 20), text(200_000)];
    const { server, uri } = await startServer(sending(messages), { compression: "deflate" });
    await using _server = server;
    await using ws = await connect(uri, { compression: "deflate" });
    assert.match(ws.response?.headers.get("Sec-WebSocket-Extensions") ?? "", /permessage-deflate/);
    const reads = recordDirectReads(ws);
    await receiveAll(ws, messages);
    assert.ok(reads.bytesInPlace > 0, "the compressed frame was read into");
  });

  it("fail with 1007 on invalid UTF-8 in text read straight into its payload", async () => {
    const text = new Uint8Array(300_000).fill(0x61);
    text[250_000] = 0xff;
    const frame = fromPeer("client", Opcode.TEXT, text);
    const closeFrame = deferred<Frame | null>();
    const watching = deferred();
    const pieceSent = deferred();
    await using raw = await rawServer(async (peer) => {
      await acceptRaw(peer);
      await watching.promise;
      peer.write(frame.subarray(0, 100_000));
      // The rest once the client's reads land in the payload.
      await pieceSent.promise;
      peer.write(frame.subarray(100_000));
      closeFrame.resolve(await peer.readUntilClose());
      peer.socket.end();
    });
    await using ws = await connect(`ws://127.0.0.1:${raw.port}`, { logger: null });
    const reads = recordDirectReads(ws);
    reads.onRead = () => pieceSent.resolve();
    watching.resolve();
    const error = await ws.recv().then(
      () => assert.fail("the message is invalid"),
      (error: unknown) => error,
    );
    assert.ok(error instanceof ConnectionClosedError, String(error));
    assert.equal(error.sent?.code, CloseCode.INVALID_DATA);
    assert.equal(closePayload(await closeFrame.promise)?.[0], 1007);
    assert.ok(reads.bytesInPlace > 0);
  });

  it("report a connection lost in the middle of a payload read straight into", async () => {
    const frame = fromPeer("client", Opcode.BINARY, randomBytes(1 << 20));
    const watching = deferred();
    const readInto = deferred();
    await using raw = await rawServer(async (peer) => {
      await acceptRaw(peer);
      await watching.promise;
      peer.write(frame.subarray(0, 300_000));
      await readInto.promise;
      peer.socket.resetAndDestroy();
    });
    await using ws = await connect(`ws://127.0.0.1:${raw.port}`, { logger: null });
    const reads = recordDirectReads(ws);
    reads.onRead = () => readInto.resolve();
    watching.resolve();
    const error = await ws.recv().then(
      () => assert.fail("the message never completes"),
      (error: unknown) => error,
    );
    assert.ok(error instanceof ConnectionClosedError, String(error));
    assert.equal(ws.closeCode, CloseCode.ABNORMAL_CLOSURE);
  });
});

/** What a server's handler saw: the messages it received, and its connection's reads. */
interface Received {
  messages: unknown[];
  reads: DirectReads;
  /** 'data' events of the server's socket: Node emits none while it reads directly. */
  dataEvents: number;
  /** {@link dataEvents} when the first message had arrived. */
  dataEventsAfterFirst: number;
}

/**
 * A handler that records `ws`'s reads, receives `count` messages and
 * resolves `done` with them, then waits for the client to close.
 */
function receiving(count: number, done: (received: Received) => void): Handler {
  return async (ws) => {
    const received: Received = {
      messages: [],
      reads: recordDirectReads(ws),
      dataEvents: 0,
      dataEventsAfterFirst: 0,
    };
    const socket = (ws as unknown as { socket: net.Socket }).socket;
    socket.on("data", () => received.dataEvents++);
    for (let i = 0; i < count; i++) {
      received.messages.push(await ws.recv());
      if (i === 0) received.dataEventsAfterFirst = received.dataEvents;
    }
    done(received);
    await ws.closed;
  };
}

describe("a server's reads straight into large payloads", () => {
  for (const over of ["TCP", "a Unix socket"] as const) {
    it(`deliver messages whole over ${over}, large ones read into their own memory`, async () => {
      const got = deferred<Received>();
      const handler = receiving(MESSAGES.length, got.resolve);
      const path = join(directory, "server-direct.sock");
      await using server =
        over === "TCP"
          ? (await startServer(handler)).server
          : await serve(handler, { path, logger: null });
      const uri =
        over === "TCP"
          ? `ws://127.0.0.1:${(server.address() as net.AddressInfo).port}`
          : "ws://localhost/";
      await using ws = await connect(uri, over === "TCP" ? {} : { path });
      for (const message of MESSAGES) await ws.send(message);
      const { messages, reads, dataEvents, dataEventsAfterFirst } = await got.promise;
      for (const [index, message] of MESSAGES.entries()) {
        assert.deepEqual(messages[index], received(message), `message ${index}`);
      }
      const large = messages[0] as Buffer;
      assert.ok(
        reads.regions.some((region) => region.buffer === large.buffer),
        "the 1 MiB message is the memory its reads went into",
      );
      // All of the 1 MiB but what arrived before its assembly started, as on a client.
      assert.ok(reads.bytesInPlace >= (1 << 20) - (1 << 16) - 2 * 65536, `${reads.bytesInPlace}`);
      // Node's reads until the first large payload, direct reads from then on.
      assert.ok(dataEventsAfterFirst > 0);
      assert.equal(dataEvents, dataEventsAfterFirst, "the socket reads directly: no 'data'");
    });
  }

  it("leave a connection that receives small messages only to Node's reads", async () => {
    let reads: DirectReads | undefined;
    let dataEvents = 0;
    const { server, uri } = await startServer(async (ws) => {
      reads = recordDirectReads(ws);
      (ws as unknown as { socket: net.Socket }).socket.on("data", () => dataEvents++);
      for await (const message of ws) await ws.send(message);
    });
    await using _server = server;
    await using ws = await connect(uri);
    for (let i = 0; i < 10; i++) {
      const message = randomBytes(i * 6_000);
      await ws.send(message);
      assert.deepEqual(await ws.recv(), message);
    }
    assert.deepEqual(reads?.regions, []);
    assert.ok(dataEvents >= 10, `${dataEvents}`);
  });

  it("deliver what several connections send at once, in reads of any size", async () => {
    const sizes = [1, 125, 126, 5_000, 65_535, 65_536, 70_000, 300_000, 17];
    const sequences = [0, 1, 2, 3].map((seed) =>
      Array.from({ length: 24 }, (_, i) => randomBytes(sizes[(i * 5 + seed) % sizes.length]!)),
    );
    // Each connection echoes what it receives: the client checks its own sequence.
    const serverReads: DirectReads[] = [];
    const { server, uri } = await startServer(async (ws) => {
      serverReads.push(recordDirectReads(ws));
      for await (const message of ws) await ws.send(message);
    });
    await using _server = server;
    const clients = await Promise.all(sequences.map(() => connect(uri)));
    try {
      await Promise.all(
        clients.map(async (ws, index) => {
          const messages = sequences[index]!;
          const sent = Promise.all(messages.map((message) => ws.send(message)));
          await receiveAll(ws, messages);
          await sent;
        }),
      );
      // Every sequence has payloads of 300,000 bytes: every socket switched.
      assert.equal(serverReads.length, clients.length);
      for (const [index, reads] of serverReads.entries()) {
        assert.ok(reads.bytesInPlace > 0, `server connection ${index} read in place`);
      }
    } finally {
      await Promise.all(clients.map((ws) => ws.close()));
    }
  });

  it("deliver large messages whole when a full queue pauses reading", async () => {
    const messages = Array.from({ length: 6 }, () => randomBytes(300_000));
    const got = deferred<Received>();
    const read = deferred();
    const { server, uri } = await startServer(
      async (ws) => {
        const reads = recordDirectReads(ws);
        const received: unknown[] = [];
        for (const _ of messages) {
          // A turn of the event loop between messages: the queue fills and reading stops.
          await new Promise((resolve) => setImmediate(resolve));
          received.push(await ws.recv());
        }
        got.resolve({ messages: received, reads, dataEvents: 0, dataEventsAfterFirst: 0 });
        read.resolve();
        await ws.closed;
      },
      { maxQueue: 1 },
    );
    await using _server = server;
    await using ws = await connect(uri);
    await Promise.all(messages.map((message) => ws.send(message)));
    const { messages: receivedMessages, reads } = await got.promise;
    assert.deepEqual(receivedMessages, messages);
    assert.ok(reads.bytesInPlace > 0);
    await read.promise;
  });

  it("stop reading when a full queue pauses a socket that reads directly", async () => {
    const gate = deferred();
    let reads: DirectReads | undefined;
    let serverSocket: net.Socket | undefined;
    const { server, port } = await startServer(
      async (ws) => {
        reads = recordDirectReads(ws);
        serverSocket = (ws as unknown as { socket: net.Socket }).socket;
        await gate.promise;
        for await (const _ of ws);
      },
      { maxQueue: 2 },
    );
    await using _server = server;
    const peer = await RawPeer.connect(port);
    try {
      await peer.handshake();
      // Frames of 512 KiB until the client's writes stall: the server read a few, then stopped.
      const frame = fromPeer("server", Opcode.BINARY, randomBytes(1 << 19));
      const { written, stalled } = await writeUntilStalled(peer.socket, frame, 256 << 20);
      assert.ok(stalled, `the server read all ${written} bytes`);
      assert.ok(reads !== undefined && reads.bytesInPlace > 0, "the socket reads directly");
      assert.ok(serverSocket!.bytesRead < 16 << 20, `${serverSocket!.bytesRead} bytes read`);
    } finally {
      gate.resolve();
      peer.socket.destroy();
    }
  });

  it("deliver a large compressed message whole", async () => {
    const messages = [randomBytes(1 << 20), text(200_000)];
    const got = deferred<Received>();
    const { server, uri } = await startServer(receiving(messages.length, got.resolve), {
      compression: "deflate",
    });
    await using _server = server;
    await using ws = await connect(uri, { compression: "deflate" });
    assert.match(ws.response?.headers.get("Sec-WebSocket-Extensions") ?? "", /permessage-deflate/);
    for (const message of messages) await ws.send(message);
    const { messages: receivedMessages, reads } = await got.promise;
    assert.deepEqual(receivedMessages, messages.map(received));
    assert.ok(reads.bytesInPlace > 0, "the compressed frame was read into");
  });

  it("fail with 1007 on invalid UTF-8 in text read straight into its payload", async () => {
    const payload = new Uint8Array(300_000).fill(0x61);
    payload[250_000] = 0xff;
    const frame = fromPeer("server", Opcode.TEXT, payload);
    const failed = deferred<unknown>();
    const pieceRead = deferred();
    const watching = deferred();
    const { server, port } = await startServer(async (ws) => {
      const reads = recordDirectReads(ws);
      reads.onRead = () => pieceRead.resolve();
      watching.resolve();
      failed.resolve(await ws.recv().catch((error: unknown) => error));
    });
    await using _server = server;
    const peer = await RawPeer.connect(port);
    try {
      await peer.handshake();
      await watching.promise;
      peer.write(frame.subarray(0, 100_000));
      // The rest once the server's reads land in the payload.
      await pieceRead.promise;
      peer.write(frame.subarray(100_000));
      assert.equal(closePayload(await peer.readUntilClose())?.[0], 1007);
      const error = await failed.promise;
      assert.ok(error instanceof ConnectionClosedError, String(error));
      assert.equal(error.sent?.code, CloseCode.INVALID_DATA);
    } finally {
      peer.socket.destroy();
    }
  });

  it("give a connection accepted meanwhile reads of its own, not the payload's", async () => {
    const message = randomBytes(1 << 20);
    const frame = fromPeer("server", Opcode.BINARY, message);
    const got = deferred<unknown>();
    const pieceRead = deferred();
    const watching = deferred();
    let connections = 0;
    const { server, port, uri } = await startServer(async (ws) => {
      if (connections++ > 0) {
        await echo(ws);
        return;
      }
      const reads = recordDirectReads(ws);
      reads.onRead = () => pieceRead.resolve();
      watching.resolve();
      got.resolve(await ws.recv());
      await ws.closed;
    });
    await using _server = server;
    const peer = await RawPeer.connect(port);
    try {
      await peer.handshake();
      await watching.promise;
      peer.write(frame.subarray(0, 300_000));
      await pieceRead.promise;
      // The first connection's next read goes into its payload; the second's must not.
      await using other = await connect(uri);
      await other.send("between");
      assert.equal(await other.recv(), "between");
      peer.write(frame.subarray(300_000));
      assert.deepEqual(await got.promise, message);
    } finally {
      peer.socket.destroy();
    }
  });

  it("report a connection lost in the middle of a payload read straight into", async () => {
    const frame = fromPeer("server", Opcode.BINARY, randomBytes(1 << 20));
    const failed = deferred<unknown>();
    const pieceRead = deferred();
    const watching = deferred();
    let closeCode: number | null = null;
    const { server, port } = await startServer(async (ws) => {
      const reads = recordDirectReads(ws);
      reads.onRead = () => pieceRead.resolve();
      watching.resolve();
      failed.resolve(await ws.recv().catch((error: unknown) => error));
      closeCode = ws.closeCode;
    });
    await using _server = server;
    const peer = await RawPeer.connect(port);
    await peer.handshake();
    await watching.promise;
    peer.write(frame.subarray(0, 300_000));
    await pieceRead.promise;
    peer.socket.resetAndDestroy();
    const error = await failed.promise;
    assert.ok(error instanceof ConnectionClosedError, String(error));
    assert.equal(closeCode, CloseCode.ABNORMAL_CLOSURE);
  });
});

describe("sockets that read as Node has them read", () => {
  it("those of a server given to serve(): their 'data' events may have other listeners", async () => {
    const netServer = net.createServer({ allowHalfOpen: true });
    netServer.listen(0, "127.0.0.1");
    await once(netServer, "listening");
    const got = deferred<Received>();
    await using server = await serve(receiving(1, got.resolve), {
      server: netServer,
      logger: null,
    });
    const port = (netServer.address() as net.AddressInfo).port;
    try {
      await using ws = await connect(`ws://127.0.0.1:${port}`);
      const message = randomBytes(300_000);
      await ws.send(message);
      const { messages, reads, dataEvents } = await got.promise;
      assert.deepEqual(messages, [message]);
      // Never asked where a read should go, so every read went where Node put it.
      assert.deepEqual(reads.regions, []);
      assert.equal(reads.bytesInPlace, 0);
      assert.ok(dataEvents > 0);
    } finally {
      await server.close();
      netServer.close();
    }
  });

  it("a socket that already reads directly, has read into Node's buffers, or is paused", async () => {
    const peers = new Set<net.Socket>();
    const netServer = net.createServer((socket) => {
      peers.add(socket);
      socket.on("error", () => {});
      socket.write("early bytes");
    });
    netServer.listen(0, "127.0.0.1");
    await once(netServer, "listening");
    const port = (netServer.address() as net.AddressInfo).port;
    try {
      // A client's socket has onread already: it is left as it is.
      const direct = connectReadingDirectly({ host: "127.0.0.1", port });
      direct.on("error", () => {});
      await once(direct, "connect");
      assert.equal(
        readDirectly(
          direct,
          () => true,
          () => null,
          new Uint8Array(16),
        ),
        false,
      );
      direct.destroy();
      // Bytes waiting in the readable buffer would come after later reads.
      const plain = net.connect({ host: "127.0.0.1", port });
      plain.on("error", () => {});
      await once(plain, "readable");
      plain.removeAllListeners("readable");
      const early = once(plain, "data");
      // Flowing again: the bytes waiting are emitted in a later tick.
      plain.resume();
      assert.equal(plain.isPaused(), false);
      assert.ok(plain.readableLength > 0);
      assert.equal(
        readDirectly(
          plain,
          () => true,
          () => null,
          new Uint8Array(16),
        ),
        false,
      );
      assert.equal(String((await early)[0]), "early bytes");
      // Paused: Node reads on until its readable buffer is full, but it
      // would read on into a buffer of ours.
      plain.pause();
      assert.equal(plain.readableLength, 0);
      assert.equal(
        readDirectly(
          plain,
          () => true,
          () => null,
          new Uint8Array(16),
        ),
        false,
      );
      plain.destroy();
      // No handle: not connected.
      assert.equal(
        readDirectly(
          new net.Socket(),
          () => true,
          () => null,
          new Uint8Array(16),
        ),
        false,
      );
    } finally {
      for (const socket of peers) socket.destroy();
      netServer.close();
      await once(netServer, "close");
    }
  });

  it("every socket, when Node keeps the state of onread under other names", async () => {
    // A module instance of its own: the one the other tests use has found
    // the state already, and keeps what it found for the process.
    const fresh = new URL("../../src/node/direct-reads.js?other-node", import.meta.url).href;
    const module = (await import(fresh)) as typeof import("../../src/node/direct-reads.js");
    const accepted: net.Socket[] = [];
    const netServer = net.createServer((socket) => {
      socket.on("error", () => {});
      accepted.push(socket);
    });
    netServer.listen(0, "127.0.0.1");
    await once(netServer, "listening");
    const port = (netServer.address() as net.AddressInfo).port;
    const clients: net.Socket[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        const client = net.connect({ host: "127.0.0.1", port });
        client.on("error", () => {});
        clients.push(client);
        await once(client, "connect");
      }
      while (accepted.length < 2) await once(netServer, "connection");
      const [renamed, intact] = accepted as [net.Socket, net.Socket];
      const state = renamed as unknown as Record<symbol, unknown>;
      for (const symbol of Object.getOwnPropertySymbols(renamed)) {
        if (["kBuffer", "kBufferCb", "kBufferGen"].includes(symbol.description ?? "")) {
          delete state[symbol];
        }
      }
      let calls = 0;
      const count = () => {
        calls++;
        return true;
      };
      assert.equal(
        module.readDirectly(renamed, count, () => null, new Uint8Array(16)),
        false,
      );
      // What it found is kept: the process runs one Node.
      assert.equal(
        module.readDirectly(intact, count, () => null, new Uint8Array(16)),
        false,
      );
      // Both sockets still read as Node has them read.
      for (const [index, socket] of [renamed, intact].entries()) {
        const data = once(socket, "data");
        clients[index]!.write(`bytes ${index}`);
        assert.equal(String((await data)[0]), `bytes ${index}`);
      }
      assert.equal(calls, 0);
    } finally {
      for (const socket of [...clients, ...accepted]) socket.destroy();
      netServer.close();
      await once(netServer, "close");
    }
  });

  it("a TLS server's sockets: the TLS layer feeds them", async () => {
    const fixtures = new URL("../../../test/fixtures/tls/", import.meta.url);
    const tlsOptions = {
      key: readFileSync(new URL("localhost-key.pem", fixtures)),
      cert: readFileSync(new URL("localhost.pem", fixtures)),
    };
    const got = deferred<Received>();
    await using server = await serve(receiving(1, got.resolve), {
      host: "127.0.0.1",
      port: 0,
      tls: tlsOptions,
      logger: null,
    });
    const port = (server.address() as net.AddressInfo).port;
    const ca = readFileSync(new URL("ca.pem", fixtures));
    await using ws = await connect(`wss://localhost:${port}`, { tls: { ca } });
    const message = randomBytes(300_000);
    await ws.send(message);
    const { messages, reads, dataEvents } = await got.promise;
    assert.deepEqual(messages, [message]);
    assert.equal(reads.bytesInPlace, 0);
    assert.ok(dataEvents > 0);
    // Refused, were it asked: the TLS layer, not the socket's own reads, feeds it.
    const [connection] = [...server.connections];
    const tlsSocket = (connection as unknown as { socket: net.Socket }).socket;
    assert.equal(tlsSocket.isPaused(), false);
    assert.equal(
      readDirectly(
        tlsSocket,
        () => true,
        () => null,
        new Uint8Array(16),
      ),
      false,
    );
  });
});
