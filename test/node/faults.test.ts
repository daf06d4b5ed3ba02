/**
 * Faults over loopback: peers that vanish, half-close, keep talking after a
 * close, dribble their handshake, flood fragments or pings, come and go by
 * the thousand, or break the rules: compression abuse, malformed handshakes
 * and 101 responses, invalid close frames and lengths, closing handshakes
 * left unfinished. None may crash the process, leave an unhandled rejection,
 * grow memory past the documented limits, leak sockets, timers or
 * listeners, or close with another code than RFC 6455 §7.4.1 calls for.
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { once } from "node:events";
import * as net from "node:net";
import { after, describe, it } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import * as zlib from "node:zlib";
import {
  ConnectionClosedError,
  ConnectionClosedOK,
  InvalidHeader,
  InvalidUpgrade,
  NegotiationError,
  TimeoutError,
} from "../../src/core/errors.js";
import { acceptKey } from "../../src/core/handshake.js";
import { Opcode } from "../../src/core/opcodes.js";
import type { ConnectOptions } from "../../src/node/client.js";
import { connect } from "../../src/node/client.js";
import { DEFAULTS } from "../../src/node/connection.js";
import type { ServerConnection } from "../../src/node/server.js";
import { concat } from "../helpers/bytes.js";
import { fromPeer, MASK } from "../helpers/protocol.js";
import { acceptRaw, closePayload, RawPeer, rawServer, writeUntilStalled } from "../helpers/raw.js";
import { deferred, echo, startServer, unhandledRejections } from "../helpers/server.js";

after(() => {
  assert.deepEqual(unhandledRejections(), []);
});

setFlagsFromString("--expose-gc");
const collectGarbage = runInNewContext("gc") as () => void;

/** Live heap and buffer memory, after a full collection. */
function liveMemory(): number {
  collectGarbage();
  collectGarbage();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

const MiB = 1024 * 1024;

/** What a handler saw when its connection ended. */
interface Ending {
  error: unknown;
  closeCode: number | null;
  sentCode: number | null;
}

/**
 * A handler that reads (and, with `echo`, echoes) until the connection ends,
 * then reports how it ended.
 */
function recorder(ended: (ending: Ending) => void, echoes = false) {
  return async (ws: ServerConnection) => {
    let error: unknown = null;
    try {
      for (;;) {
        const message = await ws.recv();
        if (echoes) await ws.send(message);
      }
    } catch (caught) {
      error = caught;
    }
    await ws.closed;
    ended({ error, closeCode: ws.closeCode, sentCode: ws.protocol.closeSent?.code ?? null });
  };
}

/** Writes `data`, waiting for 'drain' when the socket asks for it. */
async function write(socket: net.Socket, data: Uint8Array): Promise<void> {
  if (!socket.write(data)) await once(socket, "drain");
}

describe("a peer that resets the TCP connection mid-frame", () => {
  it("ends the server's connection with 1006, and the server keeps serving", async () => {
    const ending = deferred<Ending>();
    const { server, port, uri } = await startServer(recorder(ending.resolve));
    await using _server = server;
    const peer = await RawPeer.connect(port);
    await peer.handshake();
    // The header announces 100 bytes; 10 arrive before the reset.
    peer.write(fromPeer("server", Opcode.BINARY, new Uint8Array(100)).subarray(0, 16));
    peer.socket.resetAndDestroy();
    const { error, closeCode } = await ending.promise;
    assert.ok(error instanceof ConnectionClosedError);
    assert.equal(closeCode, 1006);
    await using ws = await connect(uri, { logger: null });
    assert.equal(ws.state, 1);
  });

  it("ends the client's connection with 1006", async () => {
    await using raw = await rawServer(async (peer) => {
      await acceptRaw(peer);
      peer.write(fromPeer("client", Opcode.TEXT, "x".repeat(100)).subarray(0, 20));
      peer.socket.resetAndDestroy();
    });
    const ws = await connect(`ws://127.0.0.1:${raw.port}`, { logger: null });
    await assert.rejects(ws.recv(), ConnectionClosedError);
    await ws.closed;
    assert.equal(ws.closeCode, 1006);
  });
});

describe("a peer that half-closes without a close frame", () => {
  it("ends the server's connection with 1006 and closes the TCP connection", async () => {
    const ending = deferred<Ending>();
    const { server, port } = await startServer(recorder(ending.resolve));
    await using _server = server;
    const peer = await RawPeer.connect(port);
    await peer.handshake();
    peer.writeFrame(Opcode.TEXT, "last words");
    peer.socket.end();
    const { error, closeCode, sentCode } = await ending.promise;
    assert.ok(error instanceof ConnectionClosedError);
    assert.equal(closeCode, 1006);
    // RFC 6455 §7.1.7: nothing to answer; the server just closes its side.
    assert.equal(sentCode, null);
    assert.equal(await peer.readUntilClose(), null);
    await peer.closed;
  });

  it("ends the client's connection with 1006", async () => {
    await using raw = await rawServer(async (peer) => {
      await acceptRaw(peer);
      peer.writeFrame(Opcode.TEXT, "bye");
      peer.socket.end();
    });
    const ws = await connect(`ws://127.0.0.1:${raw.port}`, { logger: null });
    assert.equal(await ws.recv(), "bye");
    await assert.rejects(ws.recv(), ConnectionClosedError);
    await ws.closed;
    assert.equal(ws.closeCode, 1006);
  });
});

describe("a peer that keeps sending after its close frame", () => {
  it("gets the server's close, and nothing for the data that followed", async () => {
    const ending = deferred<Ending>();
    const { server, port } = await startServer(recorder(ending.resolve, true));
    await using _server = server;
    const peer = await RawPeer.connect(port);
    await peer.handshake();
    peer.write(
      concat([
        fromPeer("server", Opcode.CLOSE, closePayloadBytes(1000, "done")),
        fromPeer("server", Opcode.TEXT, "after the close"),
        Buffer.from("garbage that is not even a frame"),
      ]),
    );
    const frames = [];
    for (let frame = await peer.readFrame(); frame !== null; frame = await peer.readFrame()) {
      frames.push(frame);
    }
    assert.deepEqual(
      frames.map((f) => [f.opcode, closePayload(f)]),
      [[Opcode.CLOSE, [1000, "done"]]],
    );
    const { error, closeCode } = await ending.promise;
    assert.ok(error instanceof ConnectionClosedOK);
    assert.equal(closeCode, 1000);
  });

  it("closes the client's connection normally and drops the extra data", async () => {
    await using raw = await rawServer(async (peer) => {
      await acceptRaw(peer);
      peer.write(
        concat([
          fromPeer("client", Opcode.CLOSE, closePayloadBytes(1001, "")),
          fromPeer("client", Opcode.TEXT, "after the close"),
        ]),
      );
      const reply = await peer.readUntilClose();
      assert.deepEqual(closePayload(reply), [1001, ""]);
      peer.socket.end();
    });
    const ws = await connect(`ws://127.0.0.1:${raw.port}`, { logger: null });
    await assert.rejects(ws.recv(), ConnectionClosedOK);
    await ws.closed;
    assert.equal(ws.closeCode, 1001);
  });
});

function closePayloadBytes(code: number, reason: string): Uint8Array {
  return concat([Uint8Array.of(code >> 8, code & 0xff), Buffer.from(reason)]);
}

describe("a slowloris peer", () => {
  it("is cut off by the server's openTimeout", async () => {
    const { server, port } = await startServer(echo, { openTimeout: 200 });
    await using _server = server;
    const request = Buffer.from(
      "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    );
    const socket = net.connect({ host: "127.0.0.1", port });
    socket.on("error", () => {});
    let sent = 0;
    const dribble = setInterval(() => {
      if (sent < request.length && !socket.destroyed) socket.write(request.subarray(sent, ++sent));
      // A byte every 50 ms: the whole request would take 8 s, 40 times the timeout,
      // so the test holds on a loaded machine where timers fire late.
    }, 50);
    try {
      // Not `once()`: it rejects on 'error', and the server may reset the
      // connection (ECONNRESET) while a byte is on its way; either way it closes.
      await new Promise((resolve) => socket.once("close", resolve));
      assert.ok(sent < request.length, "the server waited for the whole request");
      assert.equal(server.connections.size, 0);
    } finally {
      clearInterval(dribble);
      socket.destroy();
    }
  });

  it("is cut off by the client's openTimeout", async () => {
    let dribble: NodeJS.Timeout | undefined;
    const raw = await rawServer(async (peer) => {
      await peer.readHead();
      const response = Buffer.from("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n");
      let sent = 0;
      dribble = setInterval(() => {
        if (sent < response.length && !peer.socket.destroyed) {
          peer.socket.write(response.subarray(sent, ++sent));
        }
      }, 10);
    });
    try {
      await assert.rejects(
        connect(`ws://127.0.0.1:${raw.port}`, { openTimeout: 200, logger: null }),
        TimeoutError,
      );
    } finally {
      clearInterval(dribble);
      await raw.close();
    }
  });
});

describe("floods", () => {
  it("a million 1-byte fragments stay within maxMessageSize and end with 1009", async () => {
    const ending = deferred<Ending>();
    const { server, port } = await startServer(recorder(ending.resolve));
    await using _server = server;
    const peer = await RawPeer.connect(port);
    await peer.handshake();
    const first = fromPeer("server", Opcode.BINARY, Uint8Array.of(0), false);
    const fragment = fromPeer("server", Opcode.CONT, Uint8Array.of(0), false);
    const batch = Buffer.concat(Array.from({ length: 16384 }, () => fragment));
    const baseline = liveMemory();

    // Up to just below the limit (1 MiB by default), then a ping: its pong
    // proves every fragment before it was parsed.
    const limit = DEFAULTS.maxMessageSize;
    await write(peer.socket, first);
    let sent = 1;
    while (sent + 16384 < limit) {
      await write(peer.socket, batch);
      sent += 16384;
    }
    peer.writeFrame(Opcode.PING, "counted");
    const pong = await peer.readFrame();
    assert.equal(pong?.opcode, Opcode.PONG);
    // ~1 million fragments are buffered as one 1 MiB message, not a million objects.
    const growth = liveMemory() - baseline;
    assert.ok(growth < 16 * MiB, `memory grew by ${(growth / MiB).toFixed(1)} MiB`);

    while (sent <= limit) {
      await write(peer.socket, batch);
      sent += 16384;
    }
    const close = await peer.readUntilClose();
    assert.deepEqual(closePayload(close), [
      1009,
      `fragmented message exceeds limit of ${limit} bytes`,
    ]);
    const { error, sentCode } = await ending.promise;
    assert.ok(error instanceof ConnectionClosedError);
    assert.equal(sentCode, 1009);
    peer.socket.destroy();
  });

  it("pings whose pongs are never read get one pong at most, then keepalive fails with 1011", async () => {
    const ending = deferred<Ending>();
    const { server, port } = await startServer(recorder(ending.resolve), {
      pingInterval: 1_000,
      pingTimeout: 1_000,
      closeTimeout: 500,
    });
    await using _server = server;
    const peer = await RawPeer.connect(port);
    // The server resets the connection in the end; RawPeer.closed then rejects.
    peer.closed.catch(() => {});
    await peer.handshake();
    // Stop reading: the pongs would pile up on the server's side of the connection.
    peer.socket.pause();
    const ping = fromPeer("server", Opcode.PING, new Uint8Array(125));
    const batch = Buffer.concat(Array.from({ length: 512 }, () => ping));
    const baseline = liveMemory();
    // The server reads on (RFC 6455 §5.5.3: once its writes back up, only the
    // latest ping gets a pong, later), until the keepalive gives up on us.
    const { written } = await writeUntilStalled(peer.socket, batch, 256 * MiB);
    const growth = liveMemory() - baseline;
    assert.ok(growth < 16 * MiB, `memory grew by ${(growth / MiB).toFixed(1)} MiB`);
    const { error, sentCode } = await ending.promise;
    assert.ok(error instanceof ConnectionClosedError);
    // DESIGN.md: the keepalive gives up on a peer that answers no ping.
    assert.equal(sentCode, 1011);
    assert.ok(written > 0);
    peer.socket.destroy();
  });
});

/** Bytes like random ones, which DEFLATE cannot shrink, the same on every run. */
function noise(length: number): Uint8Array {
  let seed = 7;
  return new Uint8Array(length).map(() => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed >>> 24;
  });
}

/** Raw DEFLATE of `data` as RFC 7692 §7.2.1 sends it: sync flush, without its last 4 octets. */
function deflateMessage(data: Uint8Array): Uint8Array {
  return zlib.deflateRawSync(data, { finishFlush: zlib.constants.Z_SYNC_FLUSH }).subarray(0, -4);
}

describe("a peer using compression against us", () => {
  it("a compressed message in a million 1-byte and empty fragments costs its bytes, not its fragments", async () => {
    const received = deferred<Uint8Array>();
    const { server, port } = await startServer(async (ws) => {
      received.resolve((await ws.recv()) as Uint8Array);
    });
    await using _server = server;
    const peer = await RawPeer.connect(port);
    assert.match(
      await peer.handshake("/", "Sec-WebSocket-Extensions: permessage-deflate\r\n"),
      /permessage-deflate/,
    );
    const message = noise(1_000_000);
    const compressed = deflateMessage(message);
    assert.ok(compressed.length > message.length, "incompressible: a million fragments");
    // Masked frames written by hand: FIN, RSV1 and opcode; MASK bit and length; key; payload.
    const frames = Buffer.alloc(compressed.length * 13);
    for (let i = 0; i < compressed.length; i++) {
      const at = i * 13;
      // A 1-byte fragment, RSV1 on the first (RFC 7692 §6), then an empty one.
      frames[at] = i === 0 ? 0x42 : 0x00;
      frames[at + 1] = 0x81;
      frames.set(MASK, at + 2);
      frames[at + 6] = compressed[i]! ^ MASK[0]!;
      frames[at + 7] = 0x00;
      frames[at + 8] = 0x80;
      frames.set(MASK, at + 9);
    }
    const baseline = liveMemory();
    for (let at = 0; at < frames.length; at += 1 << 20) {
      await write(peer.socket, frames.subarray(at, at + (1 << 20)));
    }
    peer.writeFrame(Opcode.PING, "counted");
    assert.equal((await peer.readFrame())?.opcode, Opcode.PONG);
    // Two million fragments are held as 1 MB of compressed bytes, not as two million objects.
    const growth = liveMemory() - baseline;
    assert.ok(growth < 16 * MiB, `memory grew by ${(growth / MiB).toFixed(1)} MiB`);
    peer.writeFrame(Opcode.CONT, new Uint8Array(0));
    assert.deepEqual(await received.promise, Buffer.from(message));
    peer.socket.destroy();
  });

  it("messages that each inflate to maxMessageSize are queued up to maxQueue, not a read's worth", async () => {
    const release = deferred();
    const received = deferred<number>();
    const opened = deferred<ServerConnection>();
    const maxQueue = 4;
    const { server, port } = await startServer(
      async (ws) => {
        opened.resolve(ws);
        await release.promise;
        let count = 0;
        for await (const message of ws) {
          if (typeof message === "string") break;
          if (message.length === MiB) count++;
        }
        received.resolve(count);
      },
      { maxQueue },
    );
    await using _server = server;
    const peer = await RawPeer.connect(port);
    // client_no_context_takeover: every message can be the same bytes.
    await peer.handshake(
      "/",
      "Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover\r\n",
    );
    // About 1 KiB each: 64 of them fit in one 64 KiB read.
    const bomb = fromPeer("server", Opcode.BINARY, deflateMessage(new Uint8Array(MiB)), true, [
      true,
      false,
      false,
    ]);
    const count = 200;
    const baseline = liveMemory();
    // Not waiting for 'drain': the server stops reading before it has taken them all.
    peer.write(Buffer.concat(Array.from({ length: count }, () => bomb)));
    peer.writeFrame(Opcode.TEXT, "end");
    // The server pauses its socket once its queue is full; a ping would wait behind the bombs.
    // biome-ignore lint/complexity/useLiteralKeys: element access reaches a protected member.
    const serverSocket = (await opened.promise)["socket"];
    if (!serverSocket.isPaused()) await once(serverSocket, "pause");
    const growth = liveMemory() - baseline;
    release.resolve();
    assert.equal(await received.promise, count);
    // maxQueue messages and the one being inflated, plus one read of compressed bytes held back.
    assert.ok(growth < (maxQueue + 4) * MiB, `memory grew by ${(growth / MiB).toFixed(1)} MiB`);
    peer.socket.destroy();
  });

  it("fails the server's connection with 1002 on RSV1 on a ping or on a continuation frame", async () => {
    const { server, port } = await startServer(echo);
    await using _server = server;
    const compressed = deflateMessage(new TextEncoder().encode("Hello"));
    const cases: [string, Uint8Array][] = [
      ["ping", fromPeer("server", Opcode.PING, compressed, true, [true, false, false])],
      [
        "continuation",
        concat([
          fromPeer("server", Opcode.TEXT, compressed.subarray(0, 2), false, [true, false, false]),
          fromPeer("server", Opcode.CONT, compressed.subarray(2), true, [true, false, false]),
        ]),
      ],
    ];
    for (const [name, bytes] of cases) {
      const peer = await RawPeer.connect(port);
      await peer.handshake("/", "Sec-WebSocket-Extensions: permessage-deflate\r\n");
      peer.write(bytes);
      // RFC 7692 §6.1: neither may have the "Per-Message Compressed" bit.
      assert.deepEqual(
        closePayload(await peer.readUntilClose()),
        [1002, "reserved bits must be 0"],
        name,
      );
      await peer.closed;
    }
  });

  for (const [name, payload, expected] of [
    [
      "a small frame that inflates past maxMessageSize",
      deflateMessage(new Uint8Array(16 * MiB)),
      [1009, "decompressed message exceeds limit of 1048576 bytes"],
    ],
    ["corrupt compressed data", Uint8Array.of(0xff, 0xff, 0xff), [1007, "invalid compressed data"]],
  ] as const) {
    it(`fails the client's connection on ${name}`, async () => {
      await using raw = await rawServer(async (peer) => {
        await answerRaw(peer, "Sec-WebSocket-Extensions: permessage-deflate\r\n");
        peer.write(fromPeer("client", Opcode.BINARY, payload, true, [true, false, false]));
        assert.deepEqual(closePayload(await peer.readUntilClose()), expected);
        peer.socket.end();
      });
      const ws = await connect(`ws://127.0.0.1:${raw.port}`, { logger: null });
      await assert.rejects(ws.recv(), ConnectionClosedError);
      await ws.closed;
      assert.equal(ws.protocol.closeSent?.code, expected[0]);
    });
  }
});

type ErrorClass = new (...args: never[]) => Error;

/** Answers a raw peer's handshake with a 101 carrying `extra` header lines. */
async function answerRaw(
  peer: RawPeer,
  extra = "",
  after: Uint8Array = new Uint8Array(0),
): Promise<void> {
  const head = await peer.readHead();
  const key = /sec-websocket-key: *(\S+)/i.exec(head)?.[1] ?? "";
  peer.write(
    concat([
      Buffer.from(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
          `Sec-WebSocket-Accept: ${acceptKey(key)}\r\n${extra}\r\n`,
      ),
      after,
    ]),
  );
}

describe("a hostile opening handshake", () => {
  const KEY = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
  const UPGRADE = "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n";
  /** A request with `extra` header lines: 5 header lines without them. */
  const request = (extra = "", line = "GET / HTTP/1.1") =>
    `${line}\r\nHost: 127.0.0.1\r\n${UPGRADE}${KEY}${extra}\r\n`;
  const headers = (count: number) =>
    Array.from({ length: count }, (_, i) => `X-${i}: ${i}\r\n`).join("");
  /** The request with padding lines of at most 8,000 bytes that make it `size` bytes long. */
  const requestOfSize = (size: number) => {
    let missing = size - request().length;
    let padding = "";
    while (missing > 0) {
      const line = Math.min(missing, 8000);
      padding += `X-Pad: ${"a".repeat(line - 9)}\r\n`;
      missing -= line;
    }
    return request(padding);
  };

  it("is read when it arrives one byte per TCP segment", async () => {
    const { server, port } = await startServer(echo);
    await using _server = server;
    const peer = await RawPeer.connect(port);
    peer.socket.setNoDelay(true);
    for (const byte of Buffer.from(request())) {
      await new Promise((resolve) => peer.socket.write(Uint8Array.of(byte), resolve));
    }
    assert.match(await peer.readHead(), /^HTTP\/1\.1 101 /);
    peer.writeFrame(Opcode.TEXT, "dribbled");
    assert.equal(new TextDecoder().decode((await peer.readFrame())?.data), "dribbled");
    peer.socket.destroy();
  });

  // DEFAULT_HTTP_LIMITS: lines of at most 8192 bytes, CRLF included; at most 128 header lines.
  const cases: [string, string, number][] = [
    ["a request line of 8192 bytes", request("", `GET /${"a".repeat(8176)} HTTP/1.1`), 101],
    ["a request line of 8193 bytes", request("", `GET /${"a".repeat(8177)} HTTP/1.1`), 414],
    ["a header line of 8192 bytes", request(`X-Long: ${"a".repeat(8182)}\r\n`), 101],
    ["a header line of 8193 bytes", request(`X-Long: ${"a".repeat(8183)}\r\n`), 431],
    ["128 header lines", request(headers(123)), 101],
    ["129 header lines", request(headers(124)), 431],
    // httpLimits.maxHeaderSize: a head of at most 32 KiB.
    ["a head of 32768 bytes", requestOfSize(32768), 101],
    ["a head of 32769 bytes", requestOfSize(32769), 431],
    ["a body", `${request("Content-Length: 5\r\n")}hello`, 400],
    ["a chunked body", `${request("Transfer-Encoding: chunked\r\n")}5\r\nhello\r\n0\r\n\r\n`, 400],
    ["HTTP/1.0", request("", "GET / HTTP/1.0"), 505],
    ["POST", request("", "POST / HTTP/1.1"), 405],
    ["two Sec-WebSocket-Key lines", request(KEY), 400],
    ["two keys in one line", request().replace(/(Key: \S+)/, "$1, $1"), 400],
  ];
  it("answers requests at and past the limits, with bodies, or not a GET of HTTP/1.1 with one key", async () => {
    const { server, port } = await startServer(echo);
    await using _server = server;
    for (const [name, bytes, status] of cases) {
      const peer = await RawPeer.connect(port);
      peer.write(bytes);
      const head = await peer.readHead();
      assert.equal(head.slice(9, 12), String(status), `${name}: ${head.slice(0, 40)}`);
      if (status === 101) peer.socket.destroy();
      else await peer.readToEnd();
    }
  });
});

describe("a hostile 101 response", () => {
  const valid = (accept: string) =>
    `Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n`;
  /** Name, the header lines given the right accept value, the error, the client's options. */
  const cases: [string, (accept: string) => string, ErrorClass, ConnectOptions?][] = [
    [
      "without Upgrade",
      (accept) => valid(accept).replace("Upgrade: websocket\r\n", ""),
      InvalidUpgrade,
    ],
    [
      "upgrading to another protocol",
      (accept) => valid(accept).replace("websocket", "h2c"),
      InvalidUpgrade,
    ],
    [
      "without Sec-WebSocket-Accept",
      (accept) => valid(accept).replace(/Sec.*\r\n/, ""),
      InvalidHeader,
    ],
    [
      "with an extension that was not offered",
      (accept) => `${valid(accept)}Sec-WebSocket-Extensions: permessage-deflate\r\n`,
      NegotiationError,
      { compression: null },
    ],
    [
      "with a parameter that was not offered",
      (accept) => `${valid(accept)}Sec-WebSocket-Extensions: permessage-deflate; x=1\r\n`,
      NegotiationError,
    ],
    [
      "with a subprotocol that was not offered",
      (accept) => `${valid(accept)}Sec-WebSocket-Protocol: chat\r\n`,
      NegotiationError,
    ],
  ];
  for (const [name, fields, type, options] of cases) {
    it(`fails connect() ${name}, and drops the TCP connection`, async () => {
      const dropped = deferred();
      await using raw = await rawServer(async (peer) => {
        const head = await peer.readHead();
        const key = /sec-websocket-key: *(\S+)/i.exec(head)?.[1] ?? "";
        peer.write(`HTTP/1.1 101 Switching Protocols\r\n${fields(acceptKey(key))}\r\n`);
        await peer.closed;
        dropped.resolve();
      });
      await assert.rejects(
        connect(`ws://127.0.0.1:${raw.port}`, { logger: null, ...options }),
        type,
      );
      await dropped.promise;
    });
  }

  it("fails connect() with a head over maxHeaderSize, which the connection would keep", async () => {
    await using raw = await rawServer(async (peer) => {
      const head = await peer.readHead();
      const key = /sec-websocket-key: *(\S+)/i.exec(head)?.[1] ?? "";
      const padding = `X-Pad: ${"a".repeat(7991)}\r\n`.repeat(5);
      peer.write(`HTTP/1.1 101 Switching Protocols\r\n${valid(acceptKey(key))}${padding}\r\n`);
      await peer.closed;
    });
    const error = await connect(`ws://127.0.0.1:${raw.port}`, { logger: null }).catch(
      (e: unknown) => e,
    );
    assert.ok(error instanceof Error && error.name === "InvalidMessage", String(error));
    assert.match(String(error.cause), /head larger than 32768 bytes/);
    // A limit of the application's own lets it through.
    const ws = await connect(`ws://127.0.0.1:${raw.port}`, {
      logger: null,
      httpLimits: { maxHeaderSize: 64 * 1024 },
    });
    assert.equal(ws.response?.headers.get("X-Pad")?.length, 5 * 7991 + 4 * 2);
    ws.terminate();
    await assert.rejects(
      connect(`ws://127.0.0.1:${raw.port}`, { logger: null, httpLimits: { maxHeaderSize: -1 } }),
      { name: "RangeError", message: /httpLimits\.maxHeaderSize must be a whole number from 0/ },
    );
  });

  it("delivers the frames that came in the same TCP segment as the 101", async () => {
    await using raw = await rawServer(async (peer) => {
      await answerRaw(
        peer,
        "",
        concat([
          fromPeer("client", Opcode.TEXT, "first"),
          fromPeer("client", Opcode.BINARY, "sec", false),
          fromPeer("client", Opcode.PING, "ping"),
          fromPeer("client", Opcode.CONT, "ond"),
        ]),
      );
      assert.equal(new TextDecoder().decode((await peer.readFrame())?.data), "ping");
      await peer.readUntilClose();
      peer.socket.end();
    });
    await using ws = await connect(`ws://127.0.0.1:${raw.port}`, { logger: null });
    assert.equal(await ws.recv(), "first");
    assert.deepEqual(await ws.recv(), Buffer.from("second"));
  });
});

describe("close frames and lengths that break the rules", () => {
  const closeCases: [string, Uint8Array, [number, string]][] = [
    ...[0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535].map(
      (code): [string, Uint8Array, [number, string]] => [
        `code ${code}`,
        Uint8Array.of(code >> 8, code & 0xff),
        [1002, `invalid close code: ${code}`],
      ],
    ),
    ["a 1-byte payload", Uint8Array.of(0x03), [1002, "close frame too short"]],
    [
      "a reason that is not UTF-8",
      Uint8Array.of(0x03, 0xe8, 0xc0, 0xaf),
      [1007, "invalid UTF-8 in close reason"],
    ],
  ];
  it("fails the server's connection on a close frame with a code that may not be sent or a bad reason", async () => {
    const { server, port } = await startServer(echo);
    await using _server = server;
    for (const [name, payload, expected] of closeCases) {
      const peer = await RawPeer.connect(port);
      await peer.handshake();
      peer.writeFrame(Opcode.CLOSE, payload);
      // RFC 6455 §7.4.1: 1002 for a protocol error; §8.1: 1007 for invalid UTF-8.
      assert.deepEqual(closePayload(await peer.readUntilClose()), expected, name);
      await peer.closed;
    }
  });

  it("fails the client's connection on a close frame with code 1006 or a bad reason", async () => {
    for (const [name, payload, expected] of [closeCases[4]!, closeCases.at(-1)!]) {
      await using raw = await rawServer(async (peer) => {
        await acceptRaw(peer);
        peer.write(fromPeer("client", Opcode.CLOSE, payload));
        assert.deepEqual(closePayload(await peer.readUntilClose()), expected, name);
        peer.socket.end();
      });
      const ws = await connect(`ws://127.0.0.1:${raw.port}`, { logger: null });
      await assert.rejects(ws.recv(), ConnectionClosedError);
      await ws.closed;
      assert.equal(ws.closeCode, 1006);
    }
  });

  // 2^63 - 1 bytes announced: refused from the header, before any payload, with nothing allocated.
  const huge = Uint8Array.of(0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
  // RFC 6455 §5.2: "the most significant bit MUST be 0".
  const topBit = Uint8Array.of(0x80, 0, 0, 0, 0, 0, 0, 0);
  const lengthCases: [string, Uint8Array, string, [number, string]][] = [
    ["2^63 - 1", huge, "", [1009, "message exceeds limit of 1048576 bytes"]],
    [
      "2^63 - 1 with compression",
      huge,
      "Sec-WebSocket-Extensions: permessage-deflate\r\n",
      // Checked against the allowance for compressed frames (maxMessageSize plus DEFLATE's
      // worst-case expansion), reported as the limit the application set.
      [1009, "message exceeds limit of 1048576 bytes"],
    ],
    ["the top bit set", topBit, "", [1002, "invalid payload length"]],
  ];
  for (const [name, length, extensions, expected] of lengthCases) {
    it(`fails the server's connection on a 64-bit length of ${name}`, async () => {
      const { server, port } = await startServer(echo);
      await using _server = server;
      const peer = await RawPeer.connect(port);
      await peer.handshake("/", extensions);
      peer.write(concat([Uint8Array.of(extensions ? 0xc2 : 0x82, 0xff), length, MASK]));
      assert.deepEqual(closePayload(await peer.readUntilClose()), expected);
      await peer.closed;
    });
  }

  it("fails the client's connection on a 64-bit length of 2^63 - 1", async () => {
    await using raw = await rawServer(async (peer) => {
      await acceptRaw(peer);
      peer.write(concat([Uint8Array.of(0x82, 0x7f), huge]));
      assert.deepEqual(closePayload(await peer.readUntilClose()), lengthCases[0]![3]);
      peer.socket.end();
    });
    const ws = await connect(`ws://127.0.0.1:${raw.port}`, { logger: null });
    await assert.rejects(ws.recv(), ConnectionClosedError);
    assert.equal(ws.protocol.closeSent?.code, 1009);
  });
});

describe("a closing handshake the peer does not complete", () => {
  it("ends the server's connection after closeTimeout when the peer never answers", async () => {
    const opened = deferred<ServerConnection>();
    const { server, port } = await startServer(async (ws) => opened.resolve(ws), {
      closeTimeout: 200,
    });
    await using _server = server;
    const peer = await RawPeer.connect(port);
    await peer.handshake();
    // The handler returned: the server sends 1000, and the peer neither answers nor closes.
    assert.deepEqual(closePayload(await peer.readFrame()), [1000, ""]);
    const ws = await opened.promise;
    await ws.closed;
    assert.equal(ws.closeCode, 1006);
    assert.equal(server.connections.size, 0);
    await peer.closed;
  });

  it("ends the client's connection after closeTimeout when the server never closes TCP", async () => {
    await using raw = await rawServer(async (peer) => {
      await acceptRaw(peer);
      peer.write(fromPeer("client", Opcode.CLOSE, closePayloadBytes(1001, "bye")));
      // The client answers, then waits for the server to close TCP (RFC 6455 §7.1.1), in vain.
      assert.deepEqual(closePayload(await peer.readFrame()), [1001, "bye"]);
    });
    const ws = await connect(`ws://127.0.0.1:${raw.port}`, { logger: null, closeTimeout: 200 });
    await assert.rejects(ws.recv(), ConnectionClosedOK);
    await ws.closed;
    assert.equal(ws.closeCode, 1001);
  });

  it("reports the server's closure as normal when the peer resets right after its close frame", async () => {
    const ending = deferred<Ending>();
    const { server, port } = await startServer(recorder(ending.resolve));
    await using _server = server;
    const peer = await RawPeer.connect(port);
    await peer.handshake();
    peer.writeFrame(Opcode.CLOSE, closePayloadBytes(1000, "gone"));
    peer.socket.resetAndDestroy();
    const { error, closeCode } = await ending.promise;
    assert.ok(error instanceof ConnectionClosedOK, String(error));
    assert.equal(closeCode, 1000);
  });

  it("reports the client's closure as normal when the server resets right after its close frame", async () => {
    await using raw = await rawServer(async (peer) => {
      await acceptRaw(peer);
      peer.write(fromPeer("client", Opcode.CLOSE, closePayloadBytes(1000, "gone")));
      peer.socket.resetAndDestroy();
    });
    const ws = await connect(`ws://127.0.0.1:${raw.port}`, { logger: null });
    await assert.rejects(ws.recv(), ConnectionClosedOK);
    await ws.closed;
    assert.equal(ws.closeCode, 1000);
  });
});

describe("1,000 concurrent connections, opened and closed in a loop", () => {
  it("leave no sockets, timers, listeners or heap behind", async () => {
    let handlersDone = 0;
    const { server, uri } = await startServer(
      async (ws) => {
        await echo(ws);
        handlersDone++;
      },
      { backlog: 2048 },
    );
    await using _server = server;
    const count = (kind: string) =>
      process.getActiveResourcesInfo().filter((resource) => resource === kind).length;
    const listeners = () =>
      process.eventNames().reduce((sum, name) => sum + process.listenerCount(name), 0);

    // Server-side connections close right after the clients' closing handshakes.
    const settled = async (handlers: number) => {
      while (handlersDone < handlers || server.connections.size > 0) {
        await new Promise((resolve) => setImmediate(resolve));
      }
    };
    const round = async () => {
      const clients = await Promise.all(
        Array.from({ length: 1000 }, () => connect(uri, { logger: null })),
      );
      await Promise.all(clients.map((ws) => ws.send("hi")));
      await Promise.all(clients.map((ws) => ws.recv()));
      await Promise.all(clients.map((ws) => ws.close()));
    };
    // One round first, so that lazily created pools and caches exist before the baseline.
    await round();
    await settled(1000);
    const sockets = count("TCPSocketWrap");
    const timers = count("Timeout");
    const processListeners = listeners();
    const heap = liveMemory();
    for (let i = 0; i < 2; i++) await round();
    await settled(3000);
    assert.equal(count("TCPSocketWrap"), sockets);
    assert.ok(count("Timeout") <= timers, `${count("Timeout")} timers, ${timers} before`);
    assert.equal(listeners(), processListeners);
    const growth = liveMemory() - heap;
    assert.ok(growth < 32 * MiB, `memory grew by ${(growth / MiB).toFixed(1)} MiB`);
  });
});
