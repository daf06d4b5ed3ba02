import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { applyMask, randomMaskKey } from "../../src/core/mask.js";
import { hex, toHex } from "../helpers/bytes.js";

function referenceMask(data: Uint8Array, key: Uint8Array): Uint8Array {
  return data.map((byte, i) => byte ^ key[i % 4]!);
}

describe("applyMask", () => {
  it("masks the RFC 6455 §5.7 example", () => {
    const data = new TextEncoder().encode("Hello");
    applyMask(data, hex("37 fa 21 3d"));
    assert.equal(toHex(data), "7f9f4d5158");
  });

  it("matches a byte-by-byte XOR at every length and alignment", () => {
    const key = hex("a1 b2 c3 d4");
    const backing = new Uint8Array(300);
    for (let i = 0; i < backing.length; i++) backing[i] = (i * 31) & 0xff;
    for (const offset of [0, 1, 2, 3, 4]) {
      for (const length of [0, 1, 3, 4, 5, 63, 64, 65, 66, 67, 128, 255]) {
        const source = backing.slice().subarray(offset, offset + length);
        const expected = referenceMask(source, key);
        const target = new Uint8Array(new ArrayBuffer(length + 8), 4, length);
        applyMask(source, key, target);
        assert.equal(toHex(target), toHex(expected), `copy offset ${offset} length ${length}`);
        applyMask(source, key);
        assert.equal(toHex(source), toHex(expected), `in place offset ${offset} length ${length}`);
      }
    }
  });

  it("is its own inverse", () => {
    const data = new Uint8Array(1000).map((_, i) => i);
    const key = randomMaskKey();
    applyMask(data, key);
    applyMask(data, key);
    assert.deepEqual(
      data,
      new Uint8Array(1000).map((_, i) => i),
    );
  });
});

describe("randomMaskKey", () => {
  it("returns 4-byte keys that differ from one another", () => {
    const keys = new Set<string>();
    for (let i = 0; i < 3000; i++) {
      const key = randomMaskKey();
      assert.equal(key.length, 4);
      keys.add(toHex(key));
    }
    // 3000 draws of 32 bits: a handful of collisions at most.
    assert.ok(keys.size > 2990);
  });
});
