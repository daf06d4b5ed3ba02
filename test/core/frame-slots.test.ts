import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as v8 from "node:v8";
import * as vm from "node:vm";
import { FRAME_SLOT_MAX, type FrameSlot, takeFrameSlot } from "../../src/core/frame-slots.js";
import { applyMask, useWasmMask } from "../../src/core/mask.js";
import { hex, toHex } from "../helpers/bytes.js";

function referenceMask(data: Uint8Array, key: Uint8Array): Uint8Array {
  return data.map((byte, i) => byte ^ key[i % 4]!);
}

// Full collections on demand, as `node --expose-gc` would allow.
v8.setFlagsFromString("--expose-gc");
const collectGarbage = vm.runInNewContext("gc") as () => void;

describe("takeFrameSlot", () => {
  const KEY = hex("a1 b2 c3 d4");
  const patterned = (length: number, offset = 0): Uint8Array => {
    const backing = new Uint8Array(length + offset);
    for (let i = 0; i < backing.length; i++) backing[i] = (i * 7 + 3) & 0xff;
    return backing.subarray(offset);
  };

  /** Takes slots until none is free, whatever earlier tests left taken; returns them. */
  function takeAll(): FrameSlot[] {
    const slots: FrameSlot[] = [];
    for (let slot = takeFrameSlot(70000, 14, patterned(1)); slot !== null; ) {
      slots.push(slot);
      slot = takeFrameSlot(70000, 14, patterned(1));
    }
    return slots;
  }

  function releaseAll(slots: FrameSlot[]): void {
    for (const slot of slots) slot.release();
  }

  it("hands out two buffers of the size asked for, in WebAssembly memory, then none", () => {
    releaseAll(takeAll());
    const first = takeFrameSlot(100_014, 14, patterned(100_000))!;
    const second = takeFrameSlot(FRAME_SLOT_MAX, 14, patterned(100_000))!;
    assert.equal(first.buffer.length, 100_014);
    assert.equal(second.buffer.length, FRAME_SLOT_MAX);
    assert.equal(second.buffer.buffer, first.buffer.buffer);
    assert.equal(takeFrameSlot(70000, 14, patterned(1)), null);
    // Growing the memory for the slots kept the block that other payloads go through.
    const source = patterned(70000, 3);
    const target = new Uint8Array(70000);
    applyMask(source, KEY, target);
    assert.equal(toHex(target), toHex(referenceMask(source, KEY)));
    first.release();
    const third = takeFrameSlot(70000, 14, patterned(1))!;
    assert.equal(third.buffer.buffer, first.buffer.buffer);
    releaseAll([second, third]);
  });

  it("refuses frames larger than a slot, and hands out none without WebAssembly", () => {
    assert.equal(takeFrameSlot(FRAME_SLOT_MAX + 1, 14, patterned(1)), null);
    try {
      useWasmMask(false);
      assert.equal(takeFrameSlot(70000, 14, patterned(1)), null);
    } finally {
      useWasmMask(true);
    }
  });

  it("masks a payload into a slot like a byte loop, leaving the header and the other slot alone", () => {
    releaseAll(takeAll());
    for (const length of [65536, 65537, 65536 + 63, 100_001, 1 << 20]) {
      const source = patterned(length, 5);
      const expected = referenceMask(source, KEY);
      const first = takeFrameSlot(length + 14, 14, source)!;
      const second = takeFrameSlot(length + 14, 14, source)!;
      second.buffer.fill(0x5a);
      first.buffer.fill(0xa5, 0, 14);
      applyMask(source, KEY, first.buffer.subarray(14));
      assert.equal(toHex(first.buffer.subarray(14)), toHex(expected), `length ${length}`);
      assert.ok(first.buffer.subarray(0, 14).every((byte) => byte === 0xa5));
      // The mask runs to the next multiple of 64 bytes: not into the next slot.
      assert.ok(
        second.buffer.every((byte) => byte === 0x5a),
        `length ${length}`,
      );
      applyMask(source, KEY, second.buffer.subarray(14));
      assert.equal(toHex(second.buffer.subarray(14)), toHex(expected));
      // A view of a slot that isn't a payload's exact tail: nothing written past the source.
      second.buffer.fill(0x5a);
      applyMask(source.subarray(0, length - 100), KEY, second.buffer.subarray(14));
      assert.equal(second.buffer[14 + length - 100], 0x5a);
      assert.equal(
        toHex(second.buffer.subarray(14, 14 + length - 100)),
        toHex(expected.subarray(0, length - 100)),
      );
      assert.equal(toHex(first.buffer.subarray(14)), toHex(expected));
      releaseAll([first, second]);
    }
  });

  it("has room in a slot for its largest frame, wherever in its first page the frame starts", () => {
    releaseAll(takeAll());
    // 4 MiB + 5 bytes of payload behind 8 header bytes: the mask runs 59 bytes past its end.
    const length = FRAME_SLOT_MAX - 9;
    for (const offset of [0, 2040, 2047, 4095]) {
      const source = patterned(length, offset);
      const first = takeFrameSlot(FRAME_SLOT_MAX - 1, 8, source)!;
      const second = takeFrameSlot(FRAME_SLOT_MAX - 1, 8, source)!;
      const [lower, upper] =
        first.buffer.byteOffset < second.buffer.byteOffset ? [first, second] : [second, first];
      upper.buffer.fill(0x5a);
      applyMask(source, KEY, lower.buffer.subarray(8));
      assert.ok(
        upper.buffer.every((byte) => byte === 0x5a),
        `offset ${offset}`,
      );
      assert.equal(lower.buffer[8 + length - 1], source[length - 1]! ^ KEY[(length - 1) % 4]!);
      releaseAll([first, second]);
    }
  });

  it("puts the payload half a page from the source's position in its page, at its 16-byte phase", () => {
    releaseAll(takeAll());
    for (const offset of [0, 1, 16, 100, 4000, 4095, 4096, 10_000]) {
      for (const payloadStart of [8, 14]) {
        const source = patterned(70000, offset);
        const slot = takeFrameSlot(70000 + payloadStart, payloadStart, source)!;
        // Large buffers sit 16 bytes into a page, after malloc()'s header.
        const sourceInPage = (16 + offset) & 4095;
        const payloadInPage = (slot.buffer.byteOffset + payloadStart) & 4095;
        assert.equal((payloadInPage - sourceInPage) & 4095, 2048, `offset ${offset}`);
        slot.release();
      }
    }
  });

  it("frees a slot once however often it is released, never a later turn of it", () => {
    releaseAll(takeAll());
    const first = takeFrameSlot(70000, 14, patterned(1))!;
    const other = takeFrameSlot(70000, 14, patterned(1))!;
    first.release();
    first.release();
    const again = takeFrameSlot(70000, 14, patterned(1))!;
    assert.equal(again.buffer.byteOffset, first.buffer.byteOffset);
    // The slot is taken again: a late release of its first turn must not free it.
    first.release();
    assert.equal(takeFrameSlot(70000, 14, patterned(1)), null);
    releaseAll([other, again]);
  });

  it("takes a slot back when its buffer is collected without being released", async () => {
    releaseAll(takeAll());
    // Taken in a function of its own, so that nothing here keeps the buffers.
    const taken = (() => takeAll().length)();
    assert.equal(taken, 2);
    let freed: FrameSlot | null = null;
    for (let attempt = 0; attempt < 50 && freed === null; attempt++) {
      collectGarbage();
      // Finalizers run in a task of their own, after the collection.
      await new Promise((resolve) => setImmediate(resolve));
      freed = takeFrameSlot(70000, 14, patterned(1));
    }
    assert.ok(freed !== null);
    freed.release();
  });

  it("keeps a slot taken while its release function can be reached, whatever became of its buffer", async () => {
    releaseAll(takeAll());
    // As a socket holds a write's callback, having wrapped the buffer in one of its own.
    const releases = (() => takeAll().map((slot) => slot.release))();
    assert.equal(releases.length, 2);
    for (let attempt = 0; attempt < 5; attempt++) {
      collectGarbage();
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(takeFrameSlot(70000, 14, patterned(1)), null);
    }
    for (const release of releases) release();
    const slot = takeFrameSlot(70000, 14, patterned(1));
    assert.ok(slot !== null);
    slot.release();
  });

  it("starts with every slot free in the memory of a module loaded again", () => {
    releaseAll(takeAll());
    const old = takeFrameSlot(70000, 14, patterned(1))!;
    try {
      useWasmMask(false);
      useWasmMask(true);
      const fresh = takeAll();
      assert.equal(fresh.length, 2);
      assert.notEqual(fresh[0]!.buffer.buffer, old.buffer.buffer);
      releaseAll(fresh);
    } finally {
      old.release();
    }
  });

  it("masks through the block as before when the memory cannot grow", () => {
    const memoryPrototype = (
      globalThis as unknown as { WebAssembly: { Memory: { prototype: { grow: unknown } } } }
    ).WebAssembly.Memory.prototype;
    const grow = memoryPrototype.grow;
    try {
      // A fresh module, whose memory was never grown.
      useWasmMask(false);
      useWasmMask(true);
      memoryPrototype.grow = () => {
        throw new RangeError("WebAssembly.Memory.grow(): Maximum memory size exceeded");
      };
      assert.equal(takeFrameSlot(70000, 14, patterned(1)), null);
      // Once: it does not try again for every frame.
      memoryPrototype.grow = grow;
      assert.equal(takeFrameSlot(70000, 14, patterned(1)), null);
      const source = patterned(70000);
      const target = new Uint8Array(70000);
      applyMask(source, KEY, target);
      assert.equal(toHex(target), toHex(referenceMask(source, KEY)));
    } finally {
      memoryPrototype.grow = grow;
      useWasmMask(false);
      useWasmMask(true);
    }
    const slot = takeFrameSlot(70000, 14, patterned(1));
    assert.ok(slot !== null);
    slot.release();
  });
});
