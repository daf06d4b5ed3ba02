/**
 * The blocking client's binary messages arrive in an `ArrayBuffer`, never in
 * a `SharedArrayBuffer`, as their types, `ReceivedBytes` and
 * `ReceivedBuffer`, promise: the worker thread moves each message's own
 * `ArrayBuffer` to the caller, compressed or not, whole, large or fragmented,
 * read with `recv()`, `recvBinary()` or `for … of`.
 */

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { connect } from "../../src/sync/index.js";
import { memoryOf, repetitive } from "../helpers/received-bytes.js";
import { unhandledRejections } from "../helpers/server.js";
import { Peer } from "./peer.js";

after(() => {
  assert.deepEqual(unhandledRejections(), []);
});

describe("sync: received binary messages", () => {
  let peer: Peer;
  before(async () => {
    peer = await Peer.start("ours");
  });
  after(async () => {
    await peer[Symbol.asyncDispose]();
  });

  for (const compression of [null, "deflate"] as const) {
    it(`may be empty, one after another (compression: ${compression})`, () => {
      // The worker moves each message's buffer to this thread: an empty one
      // shared between messages would be detached for the next.
      using client = connect(peer.uri(`/empty-${compression}`), { compression });
      for (let i = 0; i < 3; i++) {
        client.send(new Uint8Array(0));
        assert.deepEqual(client.recvBinary(), Buffer.alloc(0));
      }
      client.send("");
      assert.equal(client.recv(), "");
      client.send("after");
      assert.equal(client.recv(), "after");
      assert.equal(client.state, 1);
    });

    it(`are in an ArrayBuffer (compression: ${compression})`, () => {
      using client = connect(peer.uri(`/bytes-${compression}`), { compression });
      assert.equal(
        client.response.headers.get("Sec-WebSocket-Extensions")?.startsWith("permessage-deflate"),
        compression === null ? undefined : true,
      );
      const seen: string[] = [];
      for (const size of [10, 5_000, 300_000]) {
        const sent = repetitive(size, size);
        client.send(sent);
        const received = client.recv();
        assert.deepEqual(received, Buffer.from(sent));
        seen.push(memoryOf(received));
      }
      client.send([repetitive(3, 1), repetitive(5_000, 2)]);
      seen.push(memoryOf(client.recv()));
      client.send(repetitive(5_000, 3));
      seen.push(memoryOf(client.recvBinary()));
      client.send("text");
      seen.push(memoryOf(client.recvBinary()));
      // Bytes sent from shared memory arrive in an ArrayBuffer all the same.
      client.send(new Uint8Array(new SharedArrayBuffer(1_000)).fill(7));
      seen.push(memoryOf(client.recv()));
      client.send(repetitive(5_000, 4));
      for (const message of client) {
        seen.push(memoryOf(message));
        break;
      }
      assert.deepEqual(seen, Array(8).fill("ArrayBuffer"));
    });
  }
});
