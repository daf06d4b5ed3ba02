import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { StreamReader } from "../../src/core/streams.js";
import { hex, toHex } from "../helpers/bytes.js";

const key = hex("37 fa 21 3d");

/** `data` XORed with `key` from index 0 (RFC 6455 §5.3). */
function masked(data: Uint8Array): Uint8Array {
  return data.map((byte, i) => byte ^ key[i % 4]!);
}

/** A reader holding `data` cut into chunks of `size` bytes (the last one shorter). */
function readerOf(data: Uint8Array, size: number): StreamReader {
  const reader = new StreamReader();
  for (let i = 0; i < data.length; i += size) reader.feedData(data.slice(i, i + size));
  return reader;
}

describe("StreamReader.readInto", () => {
  it("copies what is buffered, up to the end asked for, and returns where it stopped", () => {
    const reader = readerOf(hex("01 02 03 04 05"), 2);
    const target = new Uint8Array(8);
    assert.equal(reader.readInto(target, 1, 4), 4);
    assert.equal(toHex(target), "0001020300000000");
    assert.equal(reader.length, 2);
    assert.equal(reader.readInto(target, 4, 8), 6);
    assert.equal(toHex(target), "0001020304050000");
    assert.equal(reader.length, 0);
    assert.equal(reader.readInto(target, 6, 8), 6, "nothing buffered, nothing copied");
    reader.feedData(hex("06 07 08"));
    assert.equal(reader.readInto(target, 6, 6), 6, "an empty range copies nothing");
    assert.equal(reader.length, 3);
  });

  it("unmasks with the key phase of each target index, at every chunking and split", () => {
    // 70 bytes: chunk boundaries fall at every key phase for the sizes below.
    const plain = new Uint8Array(70).map((_, i) => (i * 13 + 5) & 0xff);
    const wire = masked(plain);
    for (const size of [1, 2, 3, 4, 5, 7, 64, 70]) {
      for (let split = 0; split <= wire.length; split++) {
        const context = `chunks of ${size}, split at ${split}`;
        const reader = readerOf(wire, size);
        reader.feedData(hex("aa bb"));
        const target = new Uint8Array(wire.length);
        // Two calls, the way a frame parser fills a payload over two receives.
        assert.equal(reader.readInto(target, 0, split, key), split, context);
        assert.equal(reader.readInto(target, split, wire.length, key), wire.length, context);
        assert.equal(toHex(target), toHex(plain), context);
        assert.equal(toHex(reader.readAll()), "aabb", context);
      }
    }
  });

  it("fills a payload as its chunks arrive, ending exactly where the payload does", () => {
    const plain = new Uint8Array(70000).map((_, i) => (i * 7) & 0xff);
    const wire = masked(plain);
    for (const size of [4093, 4096, 4099, 65536]) {
      const reader = new StreamReader();
      const target = new Uint8Array(plain.length);
      let filled = 0;
      for (let i = 0; i < wire.length; i += size) {
        reader.feedData(wire.slice(i, i + size));
        filled = reader.readInto(target, filled, target.length, key);
        assert.equal(filled, Math.min(i + size, wire.length));
        assert.equal(reader.length, 0, "each chunk is used up as it arrives");
      }
      assert.equal(toHex(target), toHex(plain), `chunks of ${size}`);
    }
  });

  it("copies without a key as the bytes are", () => {
    const reader = readerOf(hex("01 02 03 04 05 06"), 4);
    const target = new Uint8Array(6);
    assert.equal(reader.readInto(target, 0, 6, null), 6);
    assert.equal(toHex(target), "010203040506");
  });

  it("copies a whole chunk and one cut on both sides alike", () => {
    const reader = new StreamReader();
    reader.feedData(hex("01 02 03"));
    reader.feedData(hex("04 05 06"));
    reader.feedData(hex("07 08 09"));
    reader.discard(1);
    const target = new Uint8Array(7);
    assert.equal(reader.readInto(target, 0, 7), 7);
    assert.equal(toHex(target), "02030405060708");
    assert.equal(toHex(reader.readAll()), "09");
  });
});

/**
 * Runs `body` while counting the calls of `Uint8Array.prototype.set` that
 * copy memory onto itself: readInto() on bytes already where they go.
 */
function countingCopiesInPlace(body: () => void): number {
  const set = Uint8Array.prototype.set;
  let inPlace = 0;
  Uint8Array.prototype.set = function (
    this: Uint8Array,
    source: ArrayLike<number>,
    offset = 0,
  ): void {
    const view = source as Uint8Array;
    if (view.buffer === this.buffer && view.byteOffset === this.byteOffset + offset) inPlace++;
    set.call(this, source, offset);
  };
  try {
    body();
  } finally {
    Uint8Array.prototype.set = set;
  }
  return inPlace;
}

describe("StreamReader.readInto with bytes read straight into the target", () => {
  it("finds them where they go and copies nothing", () => {
    const target = new Uint8Array(10);
    const reader = new StreamReader();
    const copies = countingCopiesInPlace(() => {
      // What an I/O layer does: it reads into the target past what is filled,
      // then feeds the view of the part its read wrote.
      target.set(hex("01 02 03"), 0);
      reader.feedData(target.subarray(0, 3));
      assert.equal(reader.readInto(target, 0, 10), 3);
      target.set(hex("04 05 06 07"), 3);
      reader.feedData(target.subarray(3, 7));
      assert.equal(reader.readInto(target, 3, 10), 7);
    });
    assert.equal(copies, 0);
    assert.equal(toHex(target), "01020304050607000000");
    assert.equal(reader.length, 0);
  });

  it("copies bytes of the target's memory that are not where they go", () => {
    const memory = new Uint8Array(12);
    const target = memory.subarray(2);
    const reader = new StreamReader();
    memory.set(hex("0a 0b 0c"), 0);
    // Same memory, 2 bytes before their place in the target: they move.
    reader.feedData(memory.subarray(0, 3));
    assert.equal(reader.readInto(target, 0, 10), 3);
    assert.equal(toHex(target.subarray(0, 3)), "0a0b0c");
    // The same bytes as a chunk fed after others: they go past what was filled.
    reader.feedData(target.subarray(0, 3));
    assert.equal(reader.readInto(target, 3, 10), 6);
    assert.equal(toHex(target.subarray(0, 6)), "0a0b0c0a0b0c");
  });

  it("unmasks in place, with the key phase of their index in the target", () => {
    const plain = new Uint8Array(1000).map((_, i) => (i * 7 + 1) & 0xff);
    const wire = masked(plain);
    const target = new Uint8Array(plain.length);
    const reader = new StreamReader();
    let filled = 0;
    for (const size of [3, 400, 1, 596]) {
      target.set(wire.subarray(filled, filled + size), filled);
      reader.feedData(target.subarray(filled, filled + size));
      filled = reader.readInto(target, filled, target.length, key);
    }
    assert.equal(filled, plain.length);
    assert.equal(toHex(target), toHex(plain));
  });
});

describe("StreamReader when emptied", () => {
  it("keeps working after every way of emptying it", () => {
    const reader = new StreamReader();
    for (let round = 0; round < 3; round++) {
      reader.feedData(hex("01 02"));
      reader.feedData(hex("03"));
      assert.equal(toHex(reader.readExact(3)!), "010203");
      assert.equal(reader.length, 0);
      assert.equal(reader.firstChunk().length, 0);
      reader.feedData(hex("04 05"));
      reader.discard(2);
      reader.feedData(hex("06"));
      assert.equal(reader.readInto(new Uint8Array(1), 0, 1), 1);
      assert.equal(reader.length, 0);
      assert.equal(reader.readExact(1), null);
    }
  });
});
