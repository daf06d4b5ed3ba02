/**
 * Binary messages arrive in an `ArrayBuffer`, never in a `SharedArrayBuffer`,
 * as their type, `ReceivedBytes` (`Uint8Array<ArrayBuffer>` from TypeScript
 * 5.7 on), promises: on the client and on the server, compressed or not,
 * whole, large or fragmented, read with `recv()`, `recvBinary()` or
 * `for await`, and even when an extension of the application's own hands
 * over shared memory.
 */

import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import type {
  ClientExtensionFactory,
  Extension,
  ServerExtensionFactory,
} from "../../src/core/extensions/base.js";
import { Frame } from "../../src/core/frame.js";
import { Opcode } from "../../src/core/opcodes.js";
import { type ClientConnection, connect } from "../../src/node/client.js";
import type { ServerConnection } from "../../src/node/server.js";
import { memoryOf, repetitive } from "../helpers/received-bytes.js";
import { startServer, unhandledRejections } from "../helpers/server.js";

after(() => {
  assert.deepEqual(unhandledRejections(), []);
});

/**
 * The messages each test sends from the client, each echoed by the server:
 * below the compression threshold, above it, larger than a socket read, and
 * fragmented.
 */
const SENT: readonly (Uint8Array | Uint8Array[])[] = [
  repetitive(10, 1),
  repetitive(5_000, 2),
  repetitive(300_000, 3),
  [repetitive(3, 4), repetitive(5_000, 5)],
];

function joined(message: Uint8Array | Uint8Array[]): Uint8Array {
  return Array.isArray(message) ? new Uint8Array(Buffer.concat(message)) : message;
}

/** A handler that echoes each message, noting in `onServer` what memory it arrived in. */
function echoNotingMemory(onServer: string[]): (ws: ServerConnection) => Promise<void> {
  return async (ws) => {
    for await (const message of ws) {
      onServer.push(memoryOf(message));
      await ws.send(message);
    }
  };
}

/** Sends each of {@link SENT} and checks its echo; returns what memory each echo arrived in. */
async function echoEach(ws: ClientConnection): Promise<string[]> {
  const onClient: string[] = [];
  for (const message of SENT) {
    await ws.send(message);
    const received = await ws.recv();
    assert.deepEqual(received, Buffer.from(joined(message)));
    onClient.push(memoryOf(received));
  }
  return onClient;
}

describe("received binary messages", () => {
  for (const compression of [null, "deflate"] as const) {
    it(`are each in a buffer of their own when empty (compression: ${compression})`, async () => {
      const onServer: string[] = [];
      const { server, uri } = await startServer(echoNotingMemory(onServer), { compression });
      await using _server = server;
      await using ws = await connect(uri, { compression });
      const received: Uint8Array[] = [];
      // (An empty iterable sends nothing: a fragmented message needs one fragment.)
      for (const message of [new Uint8Array(0), new Uint8Array(0), [new Uint8Array(0)]]) {
        await ws.send(message);
        received.push(await ws.recvBinary());
      }
      assert.deepEqual(
        received.map((message) => message.length),
        [0, 0, 0],
      );
      assert.equal(new Set(received.map((message) => message.buffer)).size, received.length);
      // Moving one to another thread detaches its buffer, and no other message's.
      structuredClone(received[0]!, { transfer: [received[0]!.buffer as ArrayBuffer] });
      await ws.send(new Uint8Array(0));
      assert.equal((await ws.recvBinary()).length, 0);
      await ws.send("");
      assert.equal(await ws.recv(), "");
    });

    it(`are in an ArrayBuffer on the client and on the server (compression: ${compression})`, async () => {
      const onServer: string[] = [];
      const { server, uri } = await startServer(echoNotingMemory(onServer), { compression });
      await using _server = server;
      await using ws = await connect(uri, { compression });
      assert.equal(
        ws.response?.headers.get("Sec-WebSocket-Extensions")?.startsWith("permessage-deflate"),
        compression === null ? undefined : true,
      );
      const onClient = await echoEach(ws);
      // recvBinary(): a binary message, and a text one it encodes.
      await ws.send(repetitive(5_000, 6));
      onClient.push(memoryOf(await ws.recvBinary()));
      await ws.send("text");
      onClient.push(memoryOf(await ws.recvBinary()));
      // Bytes sent from shared memory arrive in an ArrayBuffer all the same.
      const shared = new Uint8Array(new SharedArrayBuffer(1_000)).fill(7);
      await ws.send(shared);
      onClient.push(memoryOf(await ws.recv()));
      await ws.send(repetitive(5_000, 8));
      for await (const message of ws) {
        onClient.push(memoryOf(message));
        break;
      }
      assert.deepEqual(onClient, Array(8).fill("ArrayBuffer"));
      // The server read every message but the text one as bytes.
      assert.deepEqual(onServer, [
        ...Array(5).fill("ArrayBuffer"),
        "text",
        "ArrayBuffer",
        "ArrayBuffer",
      ]);
    });
  }

  // An extension that decodes each binary frame into a SharedArrayBuffer.
  const sharing: Extension = {
    name: "x-shared-memory",
    decode(frame) {
      if (frame.opcode !== Opcode.BINARY && frame.opcode !== Opcode.CONT) return frame;
      const data = new Uint8Array(new SharedArrayBuffer(frame.data.length));
      data.set(frame.data);
      return new Frame(frame.opcode, data, frame.fin, frame.rsv1, frame.rsv2, frame.rsv3);
    },
    encode: (frame) => frame,
  };
  const clientFactory: ClientExtensionFactory = {
    name: sharing.name,
    getRequestParams: () => [],
    processResponseParams: () => sharing,
  };
  const serverFactory: ServerExtensionFactory = {
    name: sharing.name,
    processRequestParams: () => [[], sharing],
  };

  it("are copied into an ArrayBuffer when an extension decodes them into shared memory", async () => {
    const onServer: string[] = [];
    const { server, uri } = await startServer(echoNotingMemory(onServer), {
      compression: null,
      extensions: [serverFactory],
    });
    await using _server = server;
    await using ws = await connect(uri, { compression: null, extensions: [clientFactory] });
    assert.equal(ws.response?.headers.get("Sec-WebSocket-Extensions"), sharing.name);
    const onClient = await echoEach(ws);
    assert.deepEqual(onClient, Array(4).fill("ArrayBuffer"));
    assert.deepEqual(onServer, Array(4).fill("ArrayBuffer"));
  });
});
