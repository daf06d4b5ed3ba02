import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { describe, it } from "node:test";
import { PayloadTooBig } from "../../src/core/errors.js";
import { StreamReader } from "../../src/core/streams.js";
import { hex, toHex, utf8 } from "../helpers/bytes.js";

describe("StreamReader", () => {
  it("reads exact lengths within and across chunks", () => {
    const reader = new StreamReader();
    reader.feedData(hex("01 02 03"));
    reader.feedData(new Uint8Array(0));
    reader.feedData(hex("04 05"));
    assert.equal(reader.length, 5);
    assert.equal(reader.readExact(6), null);
    assert.equal(toHex(reader.readExact(0)!), "");
    assert.notEqual(reader.readExact(0)!.buffer, reader.readExact(0)!.buffer, "each its own");
    assert.equal(toHex(reader.readExact(2)!), "0102");
    assert.equal(toHex(reader.readExact(2)!), "0304");
    assert.equal(reader.peekByte(0), 5);
    assert.throws(() => reader.peekByte(1), RangeError);
    assert.equal(toHex(reader.readAll()), "05");
  });

  it("copies what it buffers into memory of its own", () => {
    const borrowed = hex("01 02 03 04 05 06");
    const reader = new StreamReader();
    reader.copyBuffered();
    assert.equal(reader.length, 0);
    reader.feedData(borrowed.subarray(0, 3));
    reader.feedData(borrowed.subarray(3));
    reader.readExact(1);
    reader.copyBuffered();
    borrowed.fill(0);
    assert.equal(reader.length, 5);
    assert.equal(toHex(reader.readAll()), "0203040506");
  });

  it("returns views into a chunk instead of copies", () => {
    const chunk = hex("01 02 03 04");
    const reader = new StreamReader();
    reader.feedData(chunk);
    const view = reader.readExact(2)!;
    assert.equal(view.buffer, chunk.buffer);
  });

  it("peeks and discards across chunks", () => {
    const reader = new StreamReader();
    reader.feedData(hex("01"));
    reader.feedData(hex("02 03"));
    assert.equal(reader.peekByte(2), 3);
    reader.discard(2);
    assert.equal(toHex(reader.readAll()), "03");
  });

  it("reads lines split across chunks, CRLF included", () => {
    const reader = new StreamReader();
    reader.feedData(utf8("GET / HT"));
    assert.equal(reader.readLine(100), null);
    reader.feedData(utf8("TP/1.1\r"));
    assert.equal(reader.readLine(100), null);
    reader.feedData(utf8("\nHost"));
    assert.equal(new TextDecoder().decode(reader.readLine(100)!), "GET / HTTP/1.1\r\n");
    assert.equal(reader.length, 4);
  });

  it("refuses lines over the limit, ended or not", () => {
    const reader = new StreamReader();
    reader.feedData(utf8("abcdef\r\n"));
    assert.throws(() => reader.readLine(7), PayloadTooBig);
    assert.equal(reader.readLine(8)!.length, 8);
    reader.feedData(utf8("abc"));
    reader.feedData(utf8("def"));
    assert.throws(() => reader.readLine(5), PayloadTooBig);
  });

  it("reads to the end of the stream once it ended", () => {
    const reader = new StreamReader();
    reader.feedData(utf8("body"));
    assert.equal(reader.readToEof(10), null);
    assert.equal(reader.atEof, false);
    reader.feedEof();
    assert.equal(reader.atEof, true);
    assert.equal(new TextDecoder().decode(reader.readToEof(10)!), "body");
    assert.throws(() => reader.feedData(utf8("more")), /stream ended/);
  });

  it("refuses bodies over the limit", () => {
    const reader = new StreamReader();
    reader.feedData(utf8("too long"));
    assert.throws(() => reader.readToEof(4), PayloadTooBig);
  });

  describe("readExact with a masking key", () => {
    const key = hex("37 fa 21 3d");

    /** `data` with the bytes from `from` on XORed with `key` (RFC 6455 §5.3). */
    function unmasked(data: Uint8Array, from: number): string {
      return toHex(data.map((byte, i) => (i < from ? byte : byte ^ key[i % 4]!)));
    }

    it("unmasks from maskFrom on, whatever the chunking, leaving what follows", () => {
      for (const length of [1, 5, 300, 5000, 70000]) {
        const data = new Uint8Array(length).map((_, i) => (i * 7) & 0xff);
        for (const from of [0, 1, 3, 4, length - 1, length]) {
          for (const size of [1, 7, 64, 4096, length]) {
            if (size === 1 && length > 5000) continue;
            const reader = new StreamReader();
            for (let i = 0; i < length; i += size) reader.feedData(data.slice(i, i + size));
            reader.feedData(hex("aa bb"));
            const read = reader.readExact(length, key, from)!;
            assert.equal(read.length, length);
            const context = `length ${length}, from ${from}, chunks of ${size}`;
            assert.equal(toHex(read), unmasked(data, from), context);
            assert.equal(toHex(reader.readAll()), "aabb", context);
          }
        }
      }
    });

    it("returns a plain Uint8Array of its own for a large read across chunks", () => {
      const reader = new StreamReader();
      reader.feedData(new Uint8Array(5000).fill(1));
      reader.feedData(new Uint8Array(5000).fill(2));
      const read = reader.readExact(10000, key, 0)!;
      assert.equal(Object.getPrototypeOf(read), Uint8Array.prototype);
      assert.equal(read.byteOffset, 0);
      assert.equal(read.buffer.byteLength, 10000);
      const around = hex("01 01 02 02").map((byte, i) => byte ^ key[(4998 + i) % 4]!);
      assert.equal(toHex(read.subarray(4998, 5002)), toHex(around));
    });

    it("unmasks a single-chunk read in place", () => {
      const chunk = hex("00 00 00 00 00 00");
      const reader = new StreamReader();
      reader.feedData(chunk);
      const read = reader.readExact(6, key, 2)!;
      assert.equal(read.buffer, chunk.buffer);
      assert.equal(toHex(chunk), "0000213d37fa");
    });
  });

  it("copies small reads that arrive behind buffered bytes into a few blocks of its own", () => {
    // A frame sent a byte per TCP segment: one chunk per byte would cost
    // memory per byte and a queue as long as the frame.
    const reader = new StreamReader();
    const first = hex("00");
    reader.feedData(first);
    for (let i = 1; i < 10_000; i++) reader.feedData(Uint8Array.of(i & 0xff));
    assert.equal(reader.length, 10_000);
    const chunks = reader.views(0, reader.length);
    // The first read as it came, then blocks of 1, 2, 4 and 8 KiB (each one full but the last).
    assert.deepEqual(
      chunks.map((chunk) => chunk.length),
      [1, 1024, 2048, 4096, 10_000 - 1 - 1024 - 2048 - 4096],
    );
    assert.equal(chunks[0]!.buffer, first.buffer);
    const all = reader.readAll();
    assert.deepEqual(
      [...all],
      Array.from({ length: 10_000 }, (_, i) => i & 0xff),
    );
  });

  it("never changes bytes it already handed out when it appends to a block", () => {
    const reader = new StreamReader();
    reader.feedData(hex("01"));
    reader.feedData(hex("02 03"));
    reader.feedData(hex("04"));
    const read = reader.readExact(3)!;
    assert.equal(toHex(read), "010203");
    reader.feedData(hex("05 06"));
    reader.feedData(hex("07"));
    assert.equal(toHex(read), "010203");
    assert.equal(toHex(reader.readAll()), "04050607");
  });

  it("keeps reads of 4 KiB and more as they came, and never writes into a caller's buffer", () => {
    const reader = new StreamReader();
    // Small buffers from Node's shared pool sit next to other buffers in one ArrayBuffer.
    const pooled = Buffer.from([1, 2, 3]);
    const neighbour = Buffer.from([9, 9, 9]);
    reader.feedData(pooled);
    reader.feedData(hex("04"));
    const large = new Uint8Array(4096).fill(5);
    reader.feedData(large);
    assert.deepEqual([...neighbour], [9, 9, 9]);
    const chunks = reader.views(0, reader.length);
    assert.equal(chunks.length, 3);
    assert.equal(chunks[2]!.buffer, large.buffer);
    assert.equal(toHex(reader.readExact(4)!), "01020304");
    assert.equal(reader.readExact(4096)!.buffer, large.buffer);
  });

  it("shows the unread part of the first chunk without consuming it", () => {
    const reader = new StreamReader();
    assert.equal(reader.firstChunk().length, 0);
    reader.feedData(hex("01 02 03"));
    reader.feedData(hex("04"));
    reader.readExact(1);
    assert.equal(toHex(reader.firstChunk()), "0203");
    assert.equal(reader.length, 3);
  });
});
