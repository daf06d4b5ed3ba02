/**
 * The bytes a protocol has queued for the network, joined into as few chunks
 * as possible: one `write()` per turn of the event loop carries every frame
 * sent in it.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import type { Frame } from "./frame.js";
import { FRAME_SLOT_MAX, takeFrameSlot } from "./frame-slots.js";
import {
  COALESCE_LIMIT,
  firstByteOf,
  headerLength,
  writeHeader,
  writePayload,
} from "./frame-writer.js";
import { allocateFilled } from "./streams.js";

/** Size of the shared buffers that small frames are serialized into. */
const SLAB_SIZE = 65536;

/**
 * A slab's memory. Not zero-filled: only the bytes a frame was written into
 * are ever handed out. A `Buffer`, so that the chunks cut from it are too:
 * a Node socket turns every other `Uint8Array` it is given into one, an
 * object per write.
 */
function newSlab(): Uint8Array {
  const memory = Buffer.allocUnsafeSlow(SLAB_SIZE);
  slabMemory.add(memory.buffer);
  return memory;
}

/** The memory of every slab still referenced: see {@link isPooled}. */
const slabMemory = new WeakSet<ArrayBufferLike>();

/**
 * Whether `chunk`, taken from an {@link OutgoingBytes}, is a view of a shared
 * slab. Such a view keeps the whole 64 KiB slab alive for as long as it is
 * held: a socket that cannot write it at once should get a copy instead.
 */
export function isPooled(chunk: Uint8Array): boolean {
  return slabMemory.has(chunk.buffer);
}

/**
 * Where small frames are serialized, shared by every connection, as Node
 * shares its `Buffer` pool. Space is handed out front to back, and a full
 * slab is replaced: chunks returned earlier stay valid for as long as anyone
 * holds them. The one exception is {@link releaseChunk}: once every run of
 * bytes handed out from the current slab was given back, its space is
 * handed out again from the start.
 */
let slab = newSlab();
let slabUsed = 0;
/**
 * Runs of bytes opened in the current slab (by any queue) and not yet given
 * back with {@link releaseChunk}. While it is above zero, bytes that some
 * queue or some writer still holds sit in the slab, and nothing is reused.
 */
let slabRunsOut = 0;

/**
 * Tells that `chunk`, taken from an {@link OutgoingBytes}, was written and
 * that nothing holds it any longer: neither the caller nor the network
 * stack, which has copied its bytes. Call it at most once per chunk, and only
 * when that is certain (a socket that took the bytes synchronously); a chunk
 * never given back just stays valid, as every chunk did before.
 *
 * When the last run of the current slab comes back, the slab is rewound and
 * its memory, still in the CPU's caches, serializes the next frames: a
 * server echoing small messages then reuses one slab instead of filling a
 * fresh 64 KiB (page faults, cache misses, garbage) every few dozen frames.
 * Chunks of other slabs, and chunks that are not slab runs, are ignored.
 */
export function releaseChunk(chunk: Uint8Array): void {
  if (chunk.buffer !== slab.buffer || slabRunsOut === 0) return;
  slabRunsOut -= 1;
  if (slabRunsOut === 0) slabUsed = 0;
}

/**
 * Smallest buffer of a client's masked frame that is kept for reuse once
 * written. Smaller ones come from memory the allocator keeps warm anyway;
 * larger ones are fresh pages, which cost page faults and cache misses to
 * write: masking 1 MiB into a fresh buffer is several times slower than into
 * one written before (see `bench/mask.ts`).
 */
export const SPARE_FRAME_MIN = 65536;
/** Largest buffer of a masked frame kept for reuse, so that spares stay small. */
export const SPARE_FRAME_MAX = FRAME_SLOT_MAX;
/**
 * How many bytes of written frame buffers are kept for reuse, shared by every
 * connection: two of the largest, about 8 MiB.
 */
const SPARE_BYTES_LIMIT = 2 * SPARE_FRAME_MAX;

/** Written frame buffers, each over the whole of its memory, kept for reuse. */
const spareFrames: Uint8Array[] = [];
let spareBytes = 0;
/**
 * The buffers of masked frames handed out and not yet recycled, and what
 * recycles each one: see {@link recyclerOf}.
 */
const recyclers = new WeakMap<Uint8Array, () => void>();

/**
 * A buffer for a client's masked frame of `size` bytes, whose payload starts
 * at `payloadStart` and comes from `data`: a slot of WebAssembly memory if the
 * queue's writes are `recycled` and one is free (see `takeFrameSlot()`), else
 * a written buffer if a spare fits, else a new one. Large ones can come back
 * through {@link recyclerOf}.
 */
function frameBuffer(
  size: number,
  payloadStart: number,
  data: Uint8Array,
  recycled: boolean,
): Uint8Array {
  if (size < SPARE_FRAME_MIN || size > SPARE_FRAME_MAX) return allocateFilled(size);
  const slot = recycled ? takeFrameSlot(size, payloadStart, data) : null;
  if (slot !== null) {
    recyclers.set(slot.buffer, slot.release);
    return slot.buffer;
  }
  // Best fit: the smallest spare that holds the frame.
  let best = -1;
  for (let i = 0; i < spareFrames.length; i++) {
    const capacity = spareFrames[i]!.length;
    if (capacity >= size && (best < 0 || capacity < spareFrames[best]!.length)) best = i;
  }
  let memory: Uint8Array;
  if (best < 0) {
    memory = allocateFilled(size);
  } else {
    memory = spareFrames[best]!;
    spareFrames[best] = spareFrames[spareFrames.length - 1]!;
    spareFrames.pop();
    spareBytes -= memory.length;
  }
  // A new view each time the memory is handed out: the recycler of an earlier
  // turn, called late, then finds nothing to take back.
  const buffer = memory.subarray(0, size);
  recyclers.set(buffer, () => recycle(buffer, memory));
  return buffer;
}

/** Takes back the memory of a frame that was written; see {@link recyclerOf}. */
function recycle(buffer: Uint8Array, memory: Uint8Array): void {
  // Once only: a second call would take back memory handed out again since.
  if (!recyclers.delete(buffer)) return;
  if (spareBytes + memory.length > SPARE_BYTES_LIMIT) return;
  spareFrames.push(memory);
  spareBytes += memory.length;
}

/**
 * What to call once `chunk`, taken from an {@link OutgoingBytes}, has been
 * written and nothing reads it any longer, or `undefined` for a chunk that
 * needs no such call. It lets the buffer of a client's large masked frame be
 * reused for a later frame instead of allocating fresh memory for each one,
 * as a socket's write callback does: Node has let go of the bytes when it
 * runs, whether the write succeeded or not. Without the call, the buffer is
 * simply left to the garbage collector.
 */
export function recyclerOf(chunk: Uint8Array): (() => void) | undefined {
  return chunk.length < SPARE_FRAME_MIN ? undefined : recyclers.get(chunk);
}

/** How many bytes of written frame buffers are kept for reuse; for tests. */
export function spareFrameBytes(): number {
  return spareBytes;
}

/**
 * A queue of chunks to write in order. Frames of up to 1 KiB, and the headers
 * of larger unmasked ones, are written into the shared slab; frames queued one
 * after the other extend the same run of slab bytes, which becomes one chunk
 * when the queue is taken. A view is made per run, not per frame.
 */
export class OutgoingBytes {
  /**
   * An empty queue, one per connection.
   *
   * @param recycled Whether whoever takes the chunks calls {@link recyclerOf}'s
   *   function for each once it is written: only then may a client's large
   *   frame sit in a frame slot, which is handed out again once written.
   */
  constructor(private readonly recycled = false) {}

  private readonly chunks: Uint8Array[] = [];
  /** The slab holding the open run, which follows the last of `chunks`. */
  private runSlab: Uint8Array | null = null;
  private runStart = 0;
  private runEnd = 0;

  /** Queues `chunk` as it is, after everything queued before it. */
  push(chunk: Uint8Array): void {
    this.closeRun();
    this.chunks.push(chunk);
  }

  /**
   * Serializes `frame` (RFC 6455 §5.2) and queues it: masked with `maskKey`
   * by a client (RFC 6455 §5.3), as it is by a server.
   */
  appendFrame(frame: Frame, maskKey: Uint8Array | null): void {
    this.append(firstByteOf(frame), frame.data, maskKey);
  }

  /**
   * Like {@link appendFrame}, for the frame whose first header byte is
   * `firstByte` and whose payload is `data`: the sender of a data message
   * needs no `Frame` when no extension transforms it.
   */
  append(firstByte: number, data: Uint8Array, maskKey: Uint8Array | null): void {
    const length = data.length;
    const headerSize = headerLength(length, maskKey !== null);
    if (length > COALESCE_LIMIT && maskKey !== null) {
      // A client's large frame: masked straight into a buffer of its own,
      // reused from a frame already written when the connection says so.
      const buffer = frameBuffer(headerSize + length, headerSize, data, this.recycled);
      writePayload(buffer, writeHeader(buffer, 0, firstByte, length, maskKey), data, maskKey);
      this.push(buffer);
      return;
    }
    const inline = length <= COALESCE_LIMIT;
    const size = inline ? headerSize + length : headerSize;
    if (slabUsed + size > SLAB_SIZE) {
      slab = newSlab();
      slabUsed = 0;
      slabRunsOut = 0;
    }
    const start = slabUsed;
    const payloadStart = writeHeader(slab, start, firstByte, length, maskKey);
    if (inline) writePayload(slab, payloadStart, data, maskKey);
    slabUsed = start + size;
    if (this.runSlab === slab && this.runEnd === start) {
      // Nothing was written to the slab since this queue's last frame.
      this.runEnd = slabUsed;
    } else {
      this.closeRun();
      slabRunsOut += 1;
      this.runSlab = slab;
      this.runStart = start;
      this.runEnd = slabUsed;
    }
    // A large unmasked payload is sent as it is, without copying.
    if (!inline) this.push(data);
  }

  /** The queued chunks, in order; the queue is not to be used afterwards. */
  take(): Uint8Array[] {
    this.closeRun();
    return this.chunks;
  }

  private closeRun(): void {
    const runSlab = this.runSlab;
    if (runSlab === null) return;
    this.chunks.push(runSlab.subarray(this.runStart, this.runEnd));
    this.runSlab = null;
  }
}
