/**
 * The bytes a protocol has queued for the network, joined into as few chunks
 * as possible: one `write()` per turn of the event loop carries every frame
 * sent in it.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { COALESCE_LIMIT, type Frame, headerLength, writeHeader, writePayload } from "./frames.js";
import { allocateFilled } from "./streams.js";

/** Size of the shared buffers that small frames are serialized into. */
const SLAB_SIZE = 65536;

/**
 * A slab's memory. Not zero-filled: only the bytes a frame was written into
 * are ever handed out.
 */
function newSlab(): Uint8Array {
  const memory = Buffer.allocUnsafeSlow(SLAB_SIZE);
  return new Uint8Array(memory.buffer, memory.byteOffset, SLAB_SIZE);
}

/**
 * Where small frames are serialized, shared by every connection, as Node
 * shares its `Buffer` pool. Space is handed out once, front to back, and a
 * full slab is replaced, never reused: chunks returned earlier stay valid for
 * as long as anyone holds them.
 */
let slab = newSlab();
let slabUsed = 0;

/**
 * A queue of chunks to write in order. Frames of up to 1 KiB, and the headers
 * of larger unmasked ones, are written into the shared slab; frames queued one
 * after the other extend the same run of slab bytes, which becomes one chunk
 * when the queue is taken. A view is made per run, not per frame.
 */
export class OutgoingBytes {
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
    const data = frame.data;
    const length = data.length;
    const headerSize = headerLength(length, maskKey !== null);
    if (length > COALESCE_LIMIT && maskKey !== null) {
      // A client's large frame: masked straight into a buffer of its own.
      const buffer = allocateFilled(headerSize + length);
      writePayload(buffer, writeHeader(buffer, 0, frame, maskKey), data, maskKey);
      this.push(buffer);
      return;
    }
    const inline = length <= COALESCE_LIMIT;
    const size = inline ? headerSize + length : headerSize;
    if (slabUsed + size > SLAB_SIZE) {
      slab = newSlab();
      slabUsed = 0;
    }
    const start = slabUsed;
    const payloadStart = writeHeader(slab, start, frame, maskKey);
    if (inline) writePayload(slab, payloadStart, data, maskKey);
    slabUsed = start + size;
    if (this.runSlab === slab && this.runEnd === start) {
      // Nothing was written to the slab since this queue's last frame.
      this.runEnd = slabUsed;
    } else {
      this.closeRun();
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
