/** What the clients take as bytes to send; over sockets in connection.test.ts and sync/client.test.ts. */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { describe, it } from "node:test";
import { runInNewContext } from "node:vm";
import { bytesOf, isBlob } from "../../src/node/sendable-bytes.js";
import { coveredBytes, offsetViews } from "../helpers/bytes.js";

describe("bytesOf()", () => {
  it("gives a Uint8Array, a Buffer included, as it is", () => {
    const bytes = new Uint8Array([1, 2, 3]);
    assert.equal(bytesOf(bytes), bytes);
    const buffer = Buffer.from("abc");
    assert.equal(bytesOf(buffer), buffer);
  });

  it("gives the bytes a view covers over the same memory, not a copy", () => {
    for (const view of offsetViews()) {
      const bytes = bytesOf(view);
      assert.ok(bytes instanceof Uint8Array, view.constructor.name);
      assert.equal(bytes.buffer, view.buffer);
      assert.equal(bytes.byteOffset, view.byteOffset);
      assert.equal(bytes.byteLength, view.byteLength);
      assert.deepEqual([...bytes], coveredBytes(view));
    }
  });

  it("gives all of an ArrayBuffer or a SharedArrayBuffer, over the same memory", () => {
    for (const buffer of [new ArrayBuffer(3), new SharedArrayBuffer(3)]) {
      const bytes = bytesOf(buffer);
      assert.ok(bytes !== null);
      assert.equal(bytes.buffer, buffer);
      assert.equal(bytes.byteLength, 3);
    }
  });

  it("knows views and buffers of another realm", () => {
    const [view, buffer] = runInNewContext(
      "[new Float32Array(new ArrayBuffer(16), 4, 2), new ArrayBuffer(5)]",
    ) as [Float32Array, ArrayBuffer];
    assert.equal(bytesOf(view)?.byteLength, 8);
    assert.equal(bytesOf(view)?.byteOffset, 4);
    assert.equal(bytesOf(buffer)?.byteLength, 5);
  });

  it("gives no bytes for a detached buffer or a view of one, as a Uint8Array over one has", () => {
    /** What `make` gives for a buffer, once that buffer is detached. */
    const detached = <T>(make: (buffer: ArrayBuffer) => T): T => {
      const buffer = new ArrayBuffer(8);
      const made = make(buffer);
      // Transferring a buffer detaches it.
      structuredClone(buffer, { transfer: [buffer] });
      return made;
    };
    const cases: [string, unknown][] = [
      ["ArrayBuffer", detached((buffer) => buffer)],
      ["Uint16Array", detached((buffer) => new Uint16Array(buffer, 2, 2))],
      ["DataView", detached((buffer) => new DataView(buffer, 1))],
      ["Uint8Array", detached((buffer) => new Uint8Array(buffer))],
    ];
    for (const [name, value] of cases) {
      assert.equal(bytesOf(value)?.byteLength, 0, name);
    }
  });

  it("copies a resizable ArrayBuffer, which could shrink before it is written", () => {
    // ES2024, which the project's lib (ES2022) doesn't type.
    const Resizable = ArrayBuffer as unknown as new (
      length: number,
      options: { maxByteLength: number },
    ) => ArrayBuffer & { resize(length: number): void };
    const buffer = new Resizable(4, { maxByteLength: 8 });
    new Uint8Array(buffer).set([1, 2, 3, 4]);
    const bytes = bytesOf(buffer)!;
    assert.notEqual(bytes.buffer, buffer);
    buffer.resize(2);
    assert.deepEqual([...bytes], [1, 2, 3, 4]);
  });

  it("takes a growable SharedArrayBuffer at its length when sent", () => {
    const Growable = SharedArrayBuffer as unknown as new (
      length: number,
      options: { maxByteLength: number },
    ) => SharedArrayBuffer & { grow(length: number): void };
    const buffer = new Growable(4, { maxByteLength: 8 });
    const bytes = bytesOf(buffer)!;
    assert.equal(bytes.buffer, buffer);
    buffer.grow(8);
    assert.equal(bytes.byteLength, 4);
  });

  it("is null for what is not bytes", () => {
    for (const value of [null, undefined, 3, "abc", [1, 2, 3], {}, new Blob(["abc"])]) {
      assert.equal(bytesOf(value), null, String(value));
    }
  });
});

describe("isBlob()", () => {
  it("knows a Blob and a File", () => {
    assert.equal(isBlob(new Blob(["abc"])), true);
    assert.equal(isBlob(new File(["abc"], "a.txt")), true);
    class Subclass extends Blob {}
    assert.equal(isBlob(new Subclass([])), true);
  });

  it("knows a Blob of another class by its tag and its arrayBuffer()", () => {
    const foreign = {
      [Symbol.toStringTag]: "Blob",
      size: 1,
      arrayBuffer: () => Promise.resolve(new ArrayBuffer(1)),
    };
    assert.equal(isBlob(foreign), true);
    assert.equal(isBlob({ ...foreign, [Symbol.toStringTag]: "File" }), true);
    // A tag alone is not enough: send() reads the bytes with arrayBuffer().
    assert.equal(isBlob({ [Symbol.toStringTag]: "Blob" }), false);
    assert.equal(isBlob({ arrayBuffer: foreign.arrayBuffer }), false);
    // Nor without its size, which bufferedAmount counts while it is read.
    assert.equal(isBlob({ [Symbol.toStringTag]: "Blob", arrayBuffer: foreign.arrayBuffer }), false);
    // A vm context has no Blob of its own; an object of another realm is known by its tag.
    const other = runInNewContext(
      "({ [Symbol.toStringTag]: 'Blob', size: 0, arrayBuffer() { return Promise.resolve(new ArrayBuffer(0)); } })",
    );
    assert.equal(isBlob(other), true);
  });

  it("is false for bytes, strings, iterables and the rest", () => {
    const values = [
      null,
      undefined,
      3,
      "abc",
      [1, 2, 3],
      {},
      new Uint8Array(2),
      new ArrayBuffer(2),
    ];
    for (const value of values) assert.equal(isBlob(value), false, String(value));
  });
});
