/**
 * Frame slots: memory in the mask module's WebAssembly memory for a client's
 * large masked frames, so that each is masked where it lies instead of being
 * copied through the mask's block and out again (RFC 6455 §5.3: "the client
 * MUST mask all frames that it sends to the server"). Two slots, handed out
 * and given back as frames are written.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { SLOT_MEMORY_START, slotMemory } from "./mask.js";

/** Largest frame a frame slot holds: 4 MiB of payload behind a client's 14-byte header. */
export const FRAME_SLOT_MAX = 4 * 1024 * 1024 + 14;
/** How many frames can sit in slots at once, like the two spare frames kept otherwise. */
const SLOT_COUNT = 2;
/**
 * Bytes of memory per slot: a frame of {@link FRAME_SLOT_MAX}, plus up to
 * 4 KiB before it (see {@link takeFrameSlot}) and the 63 bytes past its end
 * that the mask rounds up to (see `slotMemory()`), in whole 64 KiB pages.
 */
const SLOT_SIZE = Math.ceil((FRAME_SLOT_MAX + 4096 + 64) / 65536) * 65536;
/** The size of the header malloc() puts before a large buffer's bytes, on Linux. */
const ALLOCATOR_HEADER = 16;

/** A frame slot handed out by {@link takeFrameSlot}. */
export interface FrameSlot {
  /** Memory for the frame: exactly the size asked for. */
  readonly buffer: Uint8Array;
  /** Gives the slot back once nothing reads `buffer` any longer; later calls do nothing. */
  readonly release: () => void;
}

/** The memory the slots are in; a new one when the mask module is loaded again. */
let slotsMemory: Uint8Array | null = null;
/** Per slot of `slotsMemory`, the number of the turn it was handed out for, or 0 while free. */
let slotTurns: number[] = [];
/** Numbers the turns of the slots, so that a late release cannot free a later turn. */
let lastTurn = 0;

/**
 * Frees a slot whose buffer was collected without being given back (a frame
 * dropped unwritten on a path that doesn't give it back): otherwise the slot
 * would stay taken for the life of the process. It only decides which memory
 * later frames use: a slot whose buffer or `release` can still be reached is
 * never freed by it.
 */
const slotReclaimer = new FinalizationRegistry<() => void>((free) => free());

/**
 * A buffer in WebAssembly memory for a client's masked frame of `size` bytes,
 * whose payload starts at `payloadStart` and comes from `source`: masking into
 * it with `applyMask()` copies the payload in once and XORs it where it lies,
 * instead of copying it through the block and out again. `null` when
 * WebAssembly is off, the frame is larger than {@link FRAME_SLOT_MAX}, or
 * both slots are taken: the caller then allocates as usual.
 *
 * The slot is handed out again once `release` was called, or once neither
 * the buffer nor `release` can be reached: the caller must call `release`
 * only when nothing reads the buffer's memory any longer (a socket's write
 * callback), and hold `buffer` or `release` for as long as anything may.
 *
 * The first call grows the module's memory by about 8 MiB of address space,
 * once; pages are only backed by memory as frames are written into them.
 */
export function takeFrameSlot(
  size: number,
  payloadStart: number,
  source: Uint8Array,
): FrameSlot | null {
  if (size > FRAME_SLOT_MAX) return null;
  const memory = slotMemory(SLOT_COUNT * SLOT_SIZE);
  if (memory === null) return null;
  if (memory !== slotsMemory) {
    slotsMemory = memory;
    slotTurns = new Array<number>(SLOT_COUNT).fill(0);
  }
  const slot = slotTurns.indexOf(0);
  if (slot < 0) return null;
  // The payload half a page away from the source's position within its page,
  // as for the mask's block, and at the same 16-byte phase: the copy in runs
  // fastest so (25 GB/s against 23 at other phases, on 1 MiB).
  const lead = (ALLOCATOR_HEADER + source.byteOffset + 2048 - payloadStart) & 4095;
  const at = SLOT_MEMORY_START + slot * SLOT_SIZE + lead;
  // A Buffer, which a Node socket writes as it is: it would wrap any other
  // Uint8Array in a Buffer of its own, an object per write.
  const buffer: Uint8Array = Buffer.from(memory.buffer, at, size);
  return new TakenSlot(buffer, slotTurns, slot, ++lastTurn);
}

/** A frame slot handed out. */
class TakenSlot implements FrameSlot {
  /**
   * Frees the slot and stops watching its buffer. Reaching it reaches the
   * buffer: a socket holding it as a write callback keeps the slot taken,
   * whatever it does with the buffer itself (Node wraps a Uint8Array that
   * isn't a Buffer in one of its own and may drop ours).
   */
  readonly release = (): void => {
    this.free();
    slotReclaimer.unregister(this);
  };
  private readonly free: () => void;

  constructor(
    readonly buffer: Uint8Array,
    turns: number[],
    slot: number,
    turn: number,
  ) {
    turns[slot] = turn;
    this.free = slotFreer(turns, slot, turn);
    slotReclaimer.register(buffer, this.free, this);
  }
}

/**
 * What frees turn `turn` of slot `slot`, and no later one. Made here, out of
 * the scope of any buffer: the registry holds it until the buffer is
 * collected, so it must not keep the buffer alive.
 */
function slotFreer(turns: number[], slot: number, turn: number): () => void {
  return () => {
    if (turns[slot] === turn) turns[slot] = 0;
  };
}
