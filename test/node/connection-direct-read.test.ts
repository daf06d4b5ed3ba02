/**
 * A client's TCP and Unix sockets read the rest of a large payload straight
 * into the payload's memory (`connectReadingDirectly()`), and every other
 * read into one buffer that all of them share and copy out of at once. These
 * tests check that messages arrive whole and in order through both kinds of
 * read: large and small, text and binary, fragmented, compressed, with
 * reading paused by a full queue, on several connections at once.
 */

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { CloseCode } from "../../src/core/close-codes.js";
import { ConnectionClosedError } from "../../src/core/errors.js";
import type { Frame } from "../../src/core/frame.js";
import { Opcode } from "../../src/core/opcodes.js";
import { type ClientConnection, connect } from "../../src/node/client.js";
import { type Handler, serve } from "../../src/node/server.js";
import { fromPeer } from "../helpers/protocol.js";
import { acceptRaw, closePayload, rawServer } from "../helpers/raw.js";
import { deferred, startServer, unhandledRejections } from "../helpers/server.js";

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

/** What {@link recordDirectReads} saw. */
interface DirectReads {
  /** The memory the protocol handed out for reads straight into a payload. */
  readonly regions: Uint8Array[];
  /** How many bytes the socket fed the protocol where it had read them: in one of `regions`. */
  bytesInPlace: number;
  /** Called at each such feed. */
  onRead?: () => void;
}

/** Watches what `ws`'s protocol hands out for reads, and what the socket feeds it. */
function recordDirectReads(ws: ClientConnection): DirectReads {
  const reads: DirectReads = { regions: [], bytesInPlace: 0 };
  const protocol = ws.protocol;
  let last: Uint8Array | null = null;
  const receiveBuffer = protocol.receiveBuffer.bind(protocol);
  protocol.receiveBuffer = () => {
    last = receiveBuffer();
    if (last !== null) reads.regions.push(last);
    return last;
  };
  const receiveData = protocol.receiveData.bind(protocol);
  protocol.receiveData = (data) => {
    if (last !== null && data.buffer === last.buffer && data.byteOffset === last.byteOffset) {
      reads.bytesInPlace += data.length;
      reads.onRead?.();
    }
    receiveData(data);
  };
  return reads;
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
