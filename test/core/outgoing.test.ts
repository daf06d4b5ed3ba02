import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Frame, Opcode, serializeFrame } from "../../src/core/frames.js";
import { OutgoingBytes } from "../../src/core/outgoing.js";
import { concat, hex, toHex } from "../helpers/bytes.js";

const MASK = hex("37 fa 21 3d");

const frame = (size: number, opcode: Opcode = Opcode.BINARY): Frame =>
  new Frame(
    opcode,
    new Uint8Array(size).map((_, i) => i & 0xff),
  );

const serialized = (frames: Frame[], mask: Uint8Array | null): string =>
  toHex(concat(frames.flatMap((f) => serializeFrame(f, mask))));

function queued(frames: Frame[], mask: Uint8Array | null): Uint8Array[] {
  const outgoing = new OutgoingBytes();
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
