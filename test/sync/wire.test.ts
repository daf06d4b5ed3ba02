/** How message payloads cross between the caller's thread and the worker thread. */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { describe, it } from "node:test";
import { MessageChannel, receiveMessageOnPort } from "node:worker_threads";
import { transferableBytes, unwireData } from "../../src/sync/wire.js";

describe("transferableBytes()", () => {
  it("moves the buffer itself when the bytes own all of it", () => {
    const bytes = new Uint8Array([1, 2, 3]);
    assert.equal(transferableBytes(bytes, true), bytes.buffer);
  });

  it("never moves an empty buffer, which others may share", () => {
    const empty = new Uint8Array(0);
    const buffer = transferableBytes(empty, true);
    assert.notEqual(buffer, empty.buffer);
    assert.equal(buffer.byteLength, 0);
  });

  it("copies bytes that others may hold, or that are a view on a larger buffer", () => {
    const whole = new Uint8Array([1, 2, 3]);
    const shared = new Uint8Array([0, 1, 2, 3, 4]).subarray(1, 4);
    const offset = new Uint8Array(new ArrayBuffer(8), 4, 4);
    offset.set([9, 8, 7, 6]);
    for (const [bytes, owned] of [
      [whole, false],
      [shared, true],
      [offset, true],
    ] as const) {
      const buffer = transferableBytes(bytes, owned);
      assert.notEqual(buffer, bytes.buffer);
      assert.ok(buffer instanceof ArrayBuffer);
      assert.deepEqual(new Uint8Array(buffer), Uint8Array.from(bytes));
    }
  });

  it("copies Buffers from Node's pool, which share one ArrayBuffer, and SharedArrayBuffers", () => {
    const pooled = Buffer.from("pooled");
    assert.ok(pooled.buffer.byteLength > pooled.length, "a pooled Buffer");
    const copy = transferableBytes(pooled, true);
    assert.equal(copy.byteLength, 6);
    assert.equal(Buffer.from(copy).toString(), "pooled");

    const shared = new Uint8Array(new SharedArrayBuffer(2));
    shared.set([5, 6]);
    const fromShared = transferableBytes(shared, true);
    assert.ok(fromShared instanceof ArrayBuffer);
    assert.deepEqual([...new Uint8Array(fromShared)], [5, 6]);
  });

  it("gives a buffer that can be transferred, leaving the caller's bytes intact", () => {
    const mine = new Uint8Array([1, 2, 3, 4]);
    const buffer = transferableBytes(mine, false);
    const { port1, port2 } = new MessageChannel();
    try {
      port1.postMessage(buffer, [buffer]);
      assert.equal(buffer.byteLength, 0, "moved, not copied");
      const received = receiveMessageOnPort(port2)?.message as ArrayBuffer;
      assert.deepEqual([...new Uint8Array(received)], [1, 2, 3, 4]);
      assert.deepEqual([...mine], [1, 2, 3, 4]);
    } finally {
      port1.close();
    }
  });
});

describe("unwireData()", () => {
  it("gives text back as a string and binary as a Buffer over the same memory", () => {
    assert.equal(unwireData("text"), "text");
    assert.equal(unwireData(""), "");
    const buffer = new Uint8Array([104, 105]).buffer;
    const data = unwireData(buffer);
    assert.ok(Buffer.isBuffer(data));
    assert.equal(data.toString(), "hi");
    assert.equal(data.buffer, buffer);
    assert.equal(unwireData(new ArrayBuffer(0)).length, 0);
  });
});
