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
import { type ClientConnection, connect } from "../../src/node/client.js";
import { type Handler, serve } from "../../src/node/server.js";
import { startServer, unhandledRejections } from "../helpers/server.js";

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

/** Records the memory the connection's protocol hands out for reads straight into a payload. */
function recordDirectReads(ws: ClientConnection): Uint8Array[] {
  const regions: Uint8Array[] = [];
  const protocol = ws.protocol;
  const receiveBuffer = protocol.receiveBuffer.bind(protocol);
  protocol.receiveBuffer = () => {
    const region = receiveBuffer();
    if (region !== null) regions.push(region);
    return region;
  };
  return regions;
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
      const regions = recordDirectReads(ws);
      const got = await receiveAll(ws, MESSAGES);
      const large = got[0] as Buffer;
      assert.ok(
        regions.some((region) => region.buffer === large.buffer),
        "the 1 MiB message is the memory its reads went into",
      );
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
    const regions = recordDirectReads(ws);
    for (const [index, message] of messages.entries()) {
      // A turn of the event loop between messages: the queue fills and reading stops.
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(await ws.recv(), message, `message ${index}`);
    }
    assert.ok(regions.length > 0);
  });

  it("deliver a large compressed message whole", async () => {
    // Random bytes don't compress: the frame is as large as the message.
    const messages = [randomBytes(1 << 20), text(200_000)];
    const { server, uri } = await startServer(sending(messages), { compression: "deflate" });
    await using _server = server;
    await using ws = await connect(uri, { compression: "deflate" });
    assert.match(ws.response?.headers.get("Sec-WebSocket-Extensions") ?? "", /permessage-deflate/);
    const regions = recordDirectReads(ws);
    await receiveAll(ws, messages);
    assert.ok(regions.length > 0, "the compressed frame was read into");
  });
});
