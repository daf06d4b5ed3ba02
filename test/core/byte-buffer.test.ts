import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { ByteBuffer } from "../../src/core/byte-buffer.js";
import { StreamReader } from "../../src/core/streams.js";
import { concat, hex, toHex } from "../helpers/bytes.js";

/** A reader holding `chunks`, fed one by one. */
function readerOf(...chunks: Uint8Array[]): StreamReader {
  const reader = new StreamReader();
  for (const chunk of chunks) reader.feedData(chunk);
  return reader;
}

/** `n` bytes counting up from `from`, wrapping at 256. */
function counting(n: number, from = 0): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (from + i) & 0xff);
}

describe("ByteBuffer", () => {
  it("starts empty, and takeAll() of nothing is an empty array", () => {
    const buffer = new ByteBuffer();
    assert.equal(buffer.size, 0);
    const taken = buffer.takeAll();
    assert.ok(taken instanceof Uint8Array);
    assert.equal(taken.length, 0);
    assert.equal(buffer.size, 0);
  });

  it("appends bytes in order and counts them", () => {
    const buffer = new ByteBuffer();
    buffer.append(hex("01 02"), 16);
    assert.equal(buffer.size, 2);
    buffer.append(hex("03"), 16);
    buffer.append(hex(""), 16);
    buffer.append(hex("04 05 06"), 16);
    assert.equal(buffer.size, 6);
    assert.equal(toHex(buffer.takeAll()), "010203040506");
  });

  it("takeAll() empties the buffer, which then starts over", () => {
    const buffer = new ByteBuffer();
    buffer.append(hex("aa bb"), 16);
    assert.equal(toHex(buffer.takeAll()), "aabb");
    assert.equal(buffer.size, 0);
    assert.equal(buffer.takeAll().length, 0);
    buffer.append(hex("cc"), 16);
    assert.equal(toHex(buffer.takeAll()), "cc");
  });

  it("copies what it appends: changing the source afterwards changes nothing", () => {
    const buffer = new ByteBuffer();
    const source = hex("10 20 30");
    buffer.append(source, 16);
    source.fill(0xff);
    assert.equal(toHex(buffer.takeAll()), "102030");
  });

  it("hands over arrays that later appends don't write into", () => {
    const buffer = new ByteBuffer();
    buffer.append(hex("01 02 03"), 8);
    const first = buffer.takeAll();
    buffer.append(hex("f1 f2 f3 f4 f5 f6 f7 f8"), 8);
    assert.equal(toHex(first), "010203");
    assert.equal(toHex(buffer.takeAll()), "f1f2f3f4f5f6f7f8");
  });

  it("returns arrays of their exact length, over a buffer of that length", () => {
    // Under the initial 256-byte allocation, within a cap that allows it.
    const small = new ByteBuffer();
    small.append(hex("01 02 03"), 1024);
    const taken = small.takeAll();
    assert.equal(taken.length, 3);
    assert.equal(taken.byteOffset, 0);
    assert.equal(taken.buffer.byteLength, 3);
    // Past a doubling: 257 bytes in an allocation of 512.
    const grown = new ByteBuffer();
    grown.append(counting(256), 1 << 20);
    grown.append(hex("ff"), 1 << 20);
    const all = grown.takeAll();
    assert.equal(all.length, 257);
    assert.equal(all.buffer.byteLength, 257);
    assert.equal(toHex(all), toHex(concat([counting(256), hex("ff")])));
  });

  it("keeps every byte when it grows, appended a few at a time past several doublings", () => {
    const buffer = new ByteBuffer();
    const expected: Uint8Array[] = [];
    for (let i = 0; i < 300; i++) {
      const piece = counting(7, i);
      expected.push(piece);
      buffer.append(piece, 4096);
    }
    assert.equal(buffer.size, 2100);
    assert.equal(toHex(buffer.takeAll()), toHex(concat(expected)));
  });

  it("fills up exactly to a cap below its first allocation", () => {
    const buffer = new ByteBuffer();
    buffer.append(hex("01 02 03 04 05"), 8);
    buffer.append(hex("06 07 08"), 8);
    assert.equal(buffer.size, 8);
    const taken = buffer.takeAll();
    assert.equal(toHex(taken), "0102030405060708");
    assert.equal(taken.buffer.byteLength, 8);
  });

  it("fills up exactly to a cap between two doublings", () => {
    const buffer = new ByteBuffer();
    buffer.append(counting(200), 300);
    buffer.append(counting(100, 200), 300);
    assert.equal(buffer.size, 300);
    assert.equal(toHex(buffer.takeAll()), toHex(counting(300)));
  });

  it("readFrom() moves bytes out of a reader, across its chunks", () => {
    const reader = readerOf(hex("01 02"), hex("03 04 05"));
    const buffer = new ByteBuffer();
    buffer.readFrom(reader, 4, 16);
    assert.equal(buffer.size, 4);
    assert.equal(reader.length, 1);
    assert.equal(toHex(reader.readAll()), "05");
    assert.equal(toHex(buffer.takeAll()), "01020304");
  });

  it("readFrom() of 0 bytes leaves both sides as they are", () => {
    const reader = readerOf(hex("01"));
    const buffer = new ByteBuffer();
    buffer.readFrom(reader, 0, 16);
    assert.equal(buffer.size, 0);
    assert.equal(reader.length, 1);
  });

  it("readFrom() copies: the chunk fed to the reader may be reused afterwards", () => {
    const chunk = hex("0a 0b 0c");
    const reader = readerOf(chunk);
    const buffer = new ByteBuffer();
    buffer.readFrom(reader, 3, 3);
    chunk.fill(0);
    assert.equal(reader.length, 0);
    assert.equal(toHex(buffer.takeAll()), "0a0b0c");
  });

  it("mixes readFrom() and append(), in the order they came", () => {
    const buffer = new ByteBuffer();
    buffer.append(hex("47 45"), 64);
    buffer.readFrom(readerOf(hex("54 20 2f")), 3, 64);
    buffer.append(hex("0d 0a"), 64);
    assert.equal(buffer.size, 7);
    assert.equal(toHex(buffer.takeAll()), "474554202f0d0a");
  });

  it("readFrom() past its first allocation keeps what it held", () => {
    const buffer = new ByteBuffer();
    buffer.append(counting(250), 1000);
    buffer.readFrom(readerOf(counting(400, 250)), 400, 1000);
    assert.equal(buffer.size, 650);
    assert.equal(toHex(buffer.takeAll()), toHex(counting(650)));
  });
});
