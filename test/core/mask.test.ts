import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  applyMask,
  maskKeyAt,
  randomMaskKey,
  SLOT_MEMORY_START,
  slotMemory,
  useWasmMask,
  WASM_MASK_THRESHOLD,
  wasmMaskAvailable,
} from "../../src/core/mask.js";
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

/** A deterministic generator, so that failures reproduce. */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state;
  };
}

/** Random lengths and offsets in and out of place against a byte loop; both paths. */
function checkRandomLayouts(random: () => number, lengths: number[]): void {
  for (const length of lengths) {
    const key = Uint8Array.of(random() & 0xff, random() & 0xff, random() & 0xff, random() & 0xff);
    const sourceOffset = random() % 16;
    const targetOffset = random() % 16;
    const source = new Uint8Array(length + 32).subarray(sourceOffset, sourceOffset + length);
    for (let i = 0; i < length; i++) source[i] = random() & 0xff;
    const expected = toHex(referenceMask(source, key));
    const backing = new Uint8Array(length + 32).fill(0xee);
    const target = backing.subarray(targetOffset, targetOffset + length);
    applyMask(source, key, target);
    const context = `length ${length}, offsets ${sourceOffset}/${targetOffset}`;
    assert.equal(toHex(target), expected, `copy, ${context}`);
    // Nothing written outside the target.
    assert.ok(
      backing.subarray(0, targetOffset).every((byte) => byte === 0xee),
      context,
    );
    assert.ok(
      backing.subarray(targetOffset + length).every((byte) => byte === 0xee),
      context,
    );
    applyMask(source, key);
    assert.equal(toHex(source), expected, `in place, ${context}`);
  }
}

describe("applyMask on random layouts", () => {
  const random = lcg(7);
  const lengths = Array.from({ length: 300 }, () => random() % 5001);
  // Around the switch to WebAssembly, and past its 64 KiB blocks.
  lengths.push(WASM_MASK_THRESHOLD - 1, WASM_MASK_THRESHOLD, WASM_MASK_THRESHOLD + 1);
  lengths.push(65535, 65536, 65537, 65536 * 2 + 63, 200_000);
  // The same size again, between others: the view copied out of is reused.
  lengths.push(1024, 1024, 4096, 1024, 65536, 1024);

  it("matches a byte loop with WebAssembly where available", () => {
    checkRandomLayouts(random, lengths);
  });

  it("matches a byte loop in JavaScript only", () => {
    const available = wasmMaskAvailable();
    try {
      assert.equal(useWasmMask(false), false);
      assert.equal(wasmMaskAvailable(), false);
      checkRandomLayouts(random, lengths);
    } finally {
      assert.equal(useWasmMask(true), available);
    }
  });

  it("is available on Node.js, which has WebAssembly SIMD", () => {
    assert.equal(wasmMaskAvailable(), true);
  });

  it("falls back to JavaScript without WebAssembly or when it fails to load", () => {
    const global = globalThis as { WebAssembly?: unknown };
    const saved = global.WebAssembly;
    try {
      useWasmMask(false);
      // As under `node --jitless`, which has no WebAssembly.
      global.WebAssembly = undefined;
      assert.equal(useWasmMask(true), false);
      global.WebAssembly = {
        validate: () => {
          throw new Error("out of memory");
        },
      };
      assert.equal(useWasmMask(true), false);
      checkRandomLayouts(lcg(3), [0, 1000, 70000]);
    } finally {
      global.WebAssembly = saved;
      assert.equal(useWasmMask(true), true);
    }
  });
});

describe("maskKeyAt", () => {
  it("masks a payload in pieces cut anywhere like it masks it whole", () => {
    const key = hex("a1 b2 c3 d4");
    const random = lcg(11);
    for (let run = 0; run < 200; run++) {
      const length = random() % 3000;
      const data = new Uint8Array(length).map(() => random() & 0xff);
      const expected = toHex(referenceMask(data, key));
      const cuts = [0, random() % (length + 1), random() % (length + 1), length].sort(
        (a, b) => a - b,
      );
      const target = new Uint8Array(length);
      for (let i = 0; i + 1 < cuts.length; i++) {
        const [start, end] = [cuts[i]!, cuts[i + 1]!];
        applyMask(data.subarray(start, end), maskKeyAt(key, start), target.subarray(start));
      }
      assert.equal(toHex(target), expected, `cuts ${cuts}`);
    }
  });

  it("returns the key itself at multiples of 4, else a rotated copy", () => {
    const key = hex("01 02 03 04");
    assert.equal(maskKeyAt(key, 8), key);
    assert.equal(toHex(maskKeyAt(key, 1)), "02030401");
    assert.equal(toHex(maskKeyAt(key, 6)), "03040102");
    assert.equal(toHex(maskKeyAt(key, 7)), "04010203");
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

describe("slotMemory", () => {
  it("grows the memory once, and lends it only to a caller it is large enough for", () => {
    try {
      // A fresh module, whose memory was never grown.
      useWasmMask(false);
      useWasmMask(true);
      const memory = slotMemory(1 << 20);
      assert.ok(memory !== null);
      assert.ok(memory.length >= SLOT_MEMORY_START + (1 << 20));
      assert.equal(slotMemory(1000), memory);
      // Grown once: a caller that needs more gets none rather than too little.
      assert.equal(slotMemory(memory.length), null);
    } finally {
      useWasmMask(false);
      useWasmMask(true);
    }
  });
});
