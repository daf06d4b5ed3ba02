/**
 * `send(message, { compress })` on the blocking client, checked on the wire:
 * a raw server that negotiated permessage-deflate reports the RSV1 bit of
 * every frame it reads (see peer.ts, `deflate`), and echoes each message back
 * uncompressed so the test can check it arrived whole.
 */

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Opcode } from "../../src/core/opcodes.js";
import { connect } from "../../src/sync/index.js";
import { unhandledRejections } from "../helpers/server.js";
import { Peer } from "./peer.js";

after(() => {
  assert.deepEqual(unhandledRejections(), []);
});

/** Repetitive JSON, the kind of traffic compression is for. */
function chat(count: number): string {
  return JSON.stringify(
    Array.from({ length: count }, (_, i) => ({ id: i, user: `user${i % 7}`, text: "hello there" })),
  );
}

/** How a frame arrived: opcode, RSV1, FIN, and whether its payload went as it is. */
type Seen = [Opcode, boolean, boolean, "as is" | "smaller"];

describe("sync send() with compression negotiated", () => {
  let peer: Peer;
  before(async () => {
    peer = await Peer.start("deflate");
  });
  after(async () => {
    await peer[Symbol.asyncDispose]();
  });

  /** The next `count` data frames the server read on `path`, given the sizes sent. */
  async function frames(path: string, sizes: readonly number[]): Promise<Seen[]> {
    const seen: Seen[] = [];
    for (const size of sizes) {
      const frame = await peer.next("frame", path);
      seen.push([frame.opcode, frame.rsv1, frame.fin, frame.size === size ? "as is" : "smaller"]);
    }
    return seen;
  }

  it("compresses a large message by default and sends it as it is with { compress: false }", async () => {
    const path = "/single";
    const large = chat(50);
    const bytes = Buffer.from(large);
    {
      using client = connect(peer.uri(path));
      assert.equal(client.response.headers.get("Sec-WebSocket-Extensions"), "permessage-deflate");
      client.send(large);
      client.send(large, { compress: false });
      client.send(large, { compress: true, timeout: 5_000 });
      client.sendText(large, { compress: false });
      client.sendBinary(bytes, { compress: false });
      client.sendBinary(new Uint8Array(bytes).buffer, { compress: false });
      client.sendBinary(bytes);
      client.send("under the threshold");
      for (let i = 0; i < 4; i++) assert.equal(client.recv(), large);
      for (let i = 0; i < 3; i++) assert.ok(bytes.equals(client.recvBinary()));
      assert.equal(client.recv(), "under the threshold");
    }
    const size = bytes.length;
    assert.deepEqual(await frames(path, [size, size, size, size, size, size, size, 19]), [
      [Opcode.TEXT, true, true, "smaller"],
      [Opcode.TEXT, false, true, "as is"],
      [Opcode.TEXT, true, true, "smaller"],
      [Opcode.TEXT, false, true, "as is"],
      [Opcode.BINARY, false, true, "as is"],
      [Opcode.BINARY, false, true, "as is"],
      [Opcode.BINARY, true, true, "smaller"],
      [Opcode.TEXT, false, true, "as is"],
    ]);
  });

  it("sends every fragment of a message as it is with { compress: false }", async () => {
    const path = "/fragmented";
    const large = chat(50);
    const bytes = Buffer.from(large);
    {
      using client = connect(peer.uri(path));
      client.send([large, large]);
      client.send([large, large], { compress: false });
      client.send([bytes, bytes], { compress: false });
      assert.equal(client.recv(), large + large);
      assert.equal(client.recv(), large + large);
      assert.ok(Buffer.concat([bytes, bytes]).equals(client.recvBinary()));
    }
    const size = bytes.length;
    const seen = await frames(path, [size, size, 0, size, size, 0, size, size, 0]);
    // A compressed message has RSV1 on its first frame only (RFC 7692 §6.1);
    // the async client ends a fragmented message with an empty last frame.
    assert.deepEqual(
      seen.map(([opcode, rsv1, fin]) => [opcode, rsv1, fin]),
      [
        [Opcode.TEXT, true, false],
        [Opcode.CONT, false, false],
        [Opcode.CONT, false, true],
        [Opcode.TEXT, false, false],
        [Opcode.CONT, false, false],
        [Opcode.CONT, false, true],
        [Opcode.BINARY, false, false],
        [Opcode.CONT, false, false],
        [Opcode.CONT, false, true],
      ],
    );
    assert.deepEqual(
      seen.slice(3).map(([, , , payload]) => payload),
      Array(6).fill("as is"),
    );
    assert.equal(seen[0]![3], "smaller");
  });
});
