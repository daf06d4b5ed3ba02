import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { after, before, describe, it } from "node:test";
import { Frame } from "../../src/core/frame.js";
import { serializeFrame } from "../../src/core/frame-writer.js";
import { useWasmMask } from "../../src/core/mask.js";
import { Opcode } from "../../src/core/opcodes.js";
import {
  isPooled,
  OutgoingBytes,
  recyclerOf,
  releaseChunk,
  SPARE_FRAME_MAX,
  SPARE_FRAME_MIN,
  spareFrameBytes,
} from "../../src/core/outgoing.js";
import { concat, hex, toHex } from "../helpers/bytes.js";

const MASK = hex("37 fa 21 3d");

const frame = (size: number, opcode: Opcode = Opcode.BINARY): Frame =>
  new Frame(
    opcode,
    new Uint8Array(size).map((_, i) => i & 0xff),
  );

const serialized = (frames: Frame[], mask: Uint8Array | null): string =>
  toHex(concat(frames.flatMap((f) => serializeFrame(f, mask))));

function queued(frames: Frame[], mask: Uint8Array | null, recycled = false): Uint8Array[] {
  const outgoing = new OutgoingBytes(recycled);
  for (const f of frames) outgoing.appendFrame(f, mask);
  return outgoing.take();
}

describe("OutgoingBytes", () => {
  it("writes small frames queued in a row into one chunk", () => {
    const frames = [frame(0), frame(5, Opcode.TEXT), frame(125), frame(126), frame(1024)];
    const chunks = queued(frames, null);
    assert.equal(chunks.length, 1);
    assert.equal(toHex(chunks[0]!), serialized(frames, null));
  });

  it("tells the views of its shared slab from chunks of their own", () => {
    const outgoing = new OutgoingBytes();
    const payload = new Uint8Array(4096);
    outgoing.appendFrame(frame(10), null);
    outgoing.appendFrame(new Frame(Opcode.BINARY, payload), null);
    outgoing.appendFrame(frame(2000), MASK);
    const [run, large, masked] = outgoing.take();
    assert.equal(isPooled(run!), true, "a small frame and the header of a large unmasked one");
    assert.equal(isPooled(large!), false, "the payload, sent as it is");
    assert.equal(large, payload);
    assert.equal(isPooled(masked!), false, "a large masked frame");
    assert.equal(isPooled(new Uint8Array(65536).subarray(1, 10)), false);
  });

  it("takes nothing when nothing was queued", () => {
    assert.deepEqual(new OutgoingBytes().take(), []);
  });

  it("keeps the chunks it handed out unchanged", () => {
    const first = queued([frame(10)], null);
    const before = toHex(first[0]!);
    const second = queued(Array(100).fill(frame(1000)), null);
    assert.equal(toHex(first[0]!), before);
    assert.equal(toHex(concat(second)), serialized(Array(100).fill(frame(1000)), null));
    // 100 frames of about 1 KiB fill more than one shared buffer.
    assert.ok(second.length > 1);
  });

  it("does not extend a run past a chunk pushed after it", () => {
    const outgoing = new OutgoingBytes();
    outgoing.appendFrame(frame(3), null);
    outgoing.push(new Uint8Array(0));
    outgoing.appendFrame(frame(3), null);
    assert.deepEqual(
      outgoing.take().map((chunk) => chunk.length),
      [5, 0, 5],
    );
  });

  it("starts a new run when another queue wrote to the shared buffer in between", () => {
    const outgoing = new OutgoingBytes();
    const other = new OutgoingBytes();
    outgoing.appendFrame(frame(3), null);
    outgoing.appendFrame(frame(3), null);
    other.appendFrame(frame(3), null);
    outgoing.appendFrame(frame(3), null);
    assert.deepEqual(
      outgoing.take().map((chunk) => chunk.length),
      [10, 5],
    );
    assert.deepEqual(
      other.take().map((chunk) => chunk.length),
      [5],
    );
  });

  it("sends a large unmasked payload as it is, after its header", () => {
    const large = frame(70000);
    const chunks = queued([frame(2), large, frame(2)], null);
    assert.equal(chunks.length, 3);
    assert.equal(chunks[1], large.data);
    assert.equal(toHex(concat(chunks)), serialized([frame(2), large, frame(2)], null));
  });

  it("masks frames of any size, joining small ones and giving large ones a chunk each", () => {
    const frames = [frame(0), frame(200), frame(1024), frame(1025), frame(70000), frame(3)];
    const chunks = queued(frames, MASK);
    // [0, 200, 1024] share the slab (unless it fills up between them); 1025 and
    // 70000 have buffers of their own; 3 starts a new run.
    assert.ok(chunks.length >= 4 && chunks.length < frames.length, `${chunks.length} chunks`);
    assert.equal(toHex(concat(chunks)), serialized(frames, MASK));
  });
});

/**
 * Fills the shared slab until a new one starts, and returns the one run out
 * of it: with that run given back, the new slab has nothing out.
 */
function runOfFreshSlab(): Uint8Array {
  const before = queued([frame(1000)], null)[0]!.buffer;
  for (;;) {
    const [run] = queued([frame(1000)], null);
    if (run!.buffer !== before) return run!;
  }
}

describe("OutgoingBytes: giving the shared slab's runs back", () => {
  it("reuses the slab from its start once every run handed out came back", () => {
    releaseChunk(runOfFreshSlab());
    const [a] = queued([frame(10)], null);
    const [b] = queued([frame(20, Opcode.TEXT)], null);
    assert.equal(a!.byteOffset, 0, "the slab was rewound");
    releaseChunk(a!);
    const [c] = queued([frame(5)], null);
    assert.equal(c!.byteOffset, b!.byteOffset + b!.length, "b is still out: no rewind");
    assert.equal(toHex(b!), serialized([frame(20, Opcode.TEXT)], null));
    releaseChunk(b!);
    releaseChunk(c!);
    const [d] = queued([frame(7)], null);
    assert.equal(d!.buffer, a!.buffer);
    assert.equal(d!.byteOffset, 0);
    assert.equal(toHex(d!), serialized([frame(7)], null));
  });

  it("never rewinds over a run that a queue has not handed out yet", () => {
    releaseChunk(runOfFreshSlab());
    const open = new OutgoingBytes();
    open.appendFrame(frame(10), null);
    const [given] = queued([frame(3)], null);
    releaseChunk(given!);
    const [after] = queued([frame(3)], null);
    assert.ok(after!.byteOffset > 0, "the open run keeps the slab from rewinding");
    open.appendFrame(frame(4), null);
    assert.equal(toHex(concat(open.take())), serialized([frame(10), frame(4)], null));
  });

  it("ignores chunks that are not runs of the current slab, and extra releases", () => {
    const old = runOfFreshSlab();
    const fresh = runOfFreshSlab();
    releaseChunk(fresh);
    const [a] = queued([frame(3)], null);
    releaseChunk(old);
    releaseChunk(new Uint8Array(10));
    releaseChunk(new Frame(Opcode.BINARY, new Uint8Array(70000)).data);
    const [b] = queued([frame(3)], null);
    assert.equal(b!.byteOffset, a!.byteOffset + a!.length, "a is still out");
    releaseChunk(a!);
    releaseChunk(b!);
    // A second release of a chunk already given back does not count for another run.
    releaseChunk(b!);
    const [c] = queued([frame(3)], null);
    const [d] = queued([frame(3)], null);
    releaseChunk(c!);
    const [e] = queued([frame(3)], null);
    assert.equal(c!.byteOffset, 0);
    assert.equal(e!.byteOffset, d!.byteOffset + d!.length, "d is still out");
    assert.equal(toHex(d!), serialized([frame(3)], null));
  });
});

describe("OutgoingBytes: buffers of large masked frames", () => {
  // The spares serve when no frame slot of WebAssembly memory is free, and
  // without WebAssembly: tested here without, the slots below.
  before(() => useWasmMask(false));
  after(() => useWasmMask(true));

  /** The one chunk a client's large frame is queued as. */
  function masked(f: Frame, mask: Uint8Array = MASK): Uint8Array {
    const chunks = queued([f], mask);
    assert.equal(chunks.length, 1);
    assert.equal(toHex(chunks[0]!), serialized([f], mask));
    return chunks[0]!;
  }

  /** Takes every spare, so that a test starts from none, whatever ran before. */
  function takeSpares(): void {
    while (spareFrameBytes() > 0) masked(frame(SPARE_FRAME_MIN));
  }

  it("reuses the buffer of a frame once it is reported written", () => {
    takeSpares();
    const first = masked(frame(100000));
    const recycle = recyclerOf(first);
    assert.ok(recycle !== undefined);
    recycle();
    assert.equal(spareFrameBytes(), first.length);
    // Same size, another key and other bytes: the same memory, rewritten entirely.
    const next = frame(100000, Opcode.TEXT);
    next.data.fill(0x61);
    const second = masked(next, hex("01 02 03 04"));
    assert.equal(second.buffer, first.buffer);
    assert.equal(spareFrameBytes(), 0);
    recyclerOf(second)!();
  });

  it("takes the smallest spare that holds a frame, and hands out a view of its size", () => {
    takeSpares();
    const large = masked(frame(300000));
    const small = masked(frame(100000));
    recyclerOf(large)!();
    recyclerOf(small)!();
    const middle = masked(frame(90000));
    assert.equal(middle.buffer, small.buffer);
    assert.equal(middle.length, 90014);
    const big = masked(frame(200000));
    assert.equal(big.buffer, large.buffer);
    // No spare left that holds it: fresh memory.
    const other = masked(frame(70000));
    assert.notEqual(other.buffer, small.buffer);
    assert.notEqual(other.buffer, large.buffer);
    // Recycled, a view returns the whole memory it came from.
    recyclerOf(middle)!();
    assert.equal(spareFrameBytes(), 100014);
    takeSpares();
  });

  it("leaves buffers that are never reported written to the garbage collector", () => {
    takeSpares();
    const first = masked(frame(80000));
    const second = masked(frame(80000));
    assert.notEqual(second.buffer, first.buffer);
    assert.equal(spareFrameBytes(), 0);
  });

  it("takes a buffer back once, however often its write is reported", () => {
    takeSpares();
    const chunk = masked(frame(80000));
    const recycle = recyclerOf(chunk)!;
    recycle();
    recycle();
    assert.equal(spareFrameBytes(), chunk.length);
    const reused = masked(frame(80000));
    assert.equal(reused.buffer, chunk.buffer);
    // The first buffer is in use again: a late report must not free it.
    recycle();
    assert.equal(spareFrameBytes(), 0);
    assert.equal(recyclerOf(chunk), undefined);
  });

  it("keeps at most two of the largest spares, about 8 MiB", () => {
    takeSpares();
    const chunks = Array.from({ length: 3 }, () => masked(frame(SPARE_FRAME_MAX - 14)));
    for (const chunk of chunks) recyclerOf(chunk)!();
    assert.equal(spareFrameBytes(), 2 * SPARE_FRAME_MAX);
    takeSpares();
  });

  it("has nothing to recycle for small, huge or unmasked frames", () => {
    takeSpares();
    for (const size of [0, 1024, 1025, SPARE_FRAME_MIN - 15, SPARE_FRAME_MAX - 13]) {
      for (const chunk of queued([frame(size)], MASK)) assert.equal(recyclerOf(chunk), undefined);
    }
    for (const chunk of queued([frame(100000)], null)) assert.equal(recyclerOf(chunk), undefined);
    assert.equal(spareFrameBytes(), 0);
  });
});

describe("OutgoingBytes: large masked frames in WebAssembly memory", () => {
  function masked(f: Frame, mask: Uint8Array = MASK, recycled = true): Uint8Array {
    const chunks = queued([f], mask, recycled);
    assert.equal(chunks.length, 1);
    assert.equal(toHex(chunks[0]!), serialized([f], mask));
    return chunks[0]!;
  }

  /** Frames until one lands outside the slots: every slot is then taken. */
  function takeSlots(): Uint8Array[] {
    const taken: Uint8Array[] = [];
    for (;;) {
      const chunk = masked(frame(SPARE_FRAME_MIN));
      if (taken.length > 0 && chunk.buffer !== taken[0]!.buffer) return taken;
      taken.push(chunk);
    }
  }

  it("masks a frame into a slot, which its recycler gives to the next frame", () => {
    for (const chunk of takeSlots()) recyclerOf(chunk)!();
    const spares = spareFrameBytes();
    const first = masked(frame(100_000));
    const second = masked(frame(SPARE_FRAME_MAX - 14, Opcode.TEXT), hex("01 02 03 04"));
    assert.equal(second.buffer, first.buffer);
    // Both slots are taken: the next frame is masked into memory of its own.
    const third = masked(frame(100_000));
    assert.notEqual(third.buffer, first.buffer);
    recyclerOf(first)!();
    const fourth = masked(frame(90_000), hex("05 06 07 08"));
    assert.equal(fourth.buffer, first.buffer);
    for (const chunk of [second, fourth]) recyclerOf(chunk)!();
    // Slots are not spares.
    assert.equal(spareFrameBytes(), spares);
  });

  it("keeps smaller and larger frames out of the slots", () => {
    const slotted = takeSlots();
    for (const chunk of slotted) recyclerOf(chunk)!();
    const small = masked(frame(SPARE_FRAME_MIN - 15));
    const large = masked(frame(SPARE_FRAME_MAX - 13));
    assert.notEqual(small.buffer, slotted[0]!.buffer);
    assert.notEqual(large.buffer, slotted[0]!.buffer);
  });

  it("keeps frames out of the slots unless the queue's writes are recycled", () => {
    for (const chunk of takeSlots()) recyclerOf(chunk)!();
    const unrecycled = masked(frame(100_000), MASK, false);
    const recycled = masked(frame(100_000));
    assert.notEqual(unrecycled.buffer, recycled.buffer);
    recyclerOf(recycled)!();
  });

  it("hands out slots as Buffers, which a Node socket writes without wrapping them", () => {
    for (const chunk of takeSlots()) recyclerOf(chunk)!();
    const chunk = masked(frame(100_000));
    assert.ok(Buffer.isBuffer(chunk));
    recyclerOf(chunk)!();
  });
});
