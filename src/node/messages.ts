/**
 * Turns received data frames into messages and queues them for `recv()`,
 * pausing the socket when the application falls behind (read backpressure).
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { ConcurrencyError } from "../core/errors.js";
import { type Frame, Opcode } from "../core/frames.js";

/** A message: `string` for text, `Uint8Array` (a `Buffer` at run time) for binary. */
export type Data = string | Uint8Array;

/** Hooks the assembler calls to pause and resume reading from the network. */
export interface FlowControl {
  pause(): void;
  resume(): void;
}

interface Waiter {
  resolve(message: Data): void;
  reject(error: unknown): void;
}

/** Turns a received view into a `Buffer` without copying. */
export function asBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * Reassembles messages from frames and hands them to one reader at a time.
 *
 * Fragments are copied into one growing buffer rather than kept as a list, so
 * memory follows the message's bytes (bounded by the protocol's size limit)
 * and not the number of fragments: a million 1-byte fragments cost 1 MB, not a
 * million objects.
 */
export class MessageAssembler {
  private readonly queue: Data[] = [];
  private head = 0;
  private waiter: Waiter | null = null;
  private closedWith: unknown = null;
  private paused = false;
  private readonly highWater: number;
  private readonly lowWater: number;

  private fragments: Buffer | null = null;
  private fragmentsLength = 0;
  private fragmentsAreText = false;

  /**
   * @param maxQueue number of messages queued before the socket is paused; it
   *   resumes once the queue is down to a quarter of that.
   */
  constructor(
    maxQueue: number,
    private readonly flow: FlowControl,
  ) {
    this.highWater = Math.max(1, maxQueue);
    this.lowWater = Math.floor(this.highWater / 4);
  }

  /** Number of complete messages waiting to be read. */
  get size(): number {
    return this.queue.length - this.head;
  }

  /** Adds a TEXT, BINARY or CONT frame. The protocol has validated sequencing and UTF-8. */
  put(frame: Frame): void {
    if (frame.opcode !== Opcode.CONT) {
      if (frame.fin) {
        this.deliver(
          frame.opcode === Opcode.TEXT
            ? asBuffer(frame.data).toString("utf8")
            : asBuffer(frame.data),
        );
        return;
      }
      this.fragmentsAreText = frame.opcode === Opcode.TEXT;
      this.fragmentsLength = 0;
    }
    this.append(frame.data);
    if (frame.fin) {
      const bytes = this.fragments!.subarray(0, this.fragmentsLength);
      this.fragments = null;
      this.fragmentsLength = 0;
      this.deliver(this.fragmentsAreText ? bytes.toString("utf8") : bytes);
    }
  }

  /**
   * Resolves with the next message. Rejects with the close error once the
   * queue is empty and the connection is closed, or with the signal's reason
   * when aborted (no message is lost: it stays queued for the next call).
   *
   * @throws ConcurrencyError when another call is already waiting.
   */
  get(signal?: AbortSignal): Promise<Data> {
    if (this.head < this.queue.length) return Promise.resolve(this.shift());
    if (this.closedWith !== null) return Promise.reject(this.closedWith);
    if (this.waiter !== null) {
      return Promise.reject(
        new ConcurrencyError("cannot call recv() while another call is waiting"),
      );
    }
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<Data>((resolve, reject) => {
      if (signal === undefined) {
        this.waiter = { resolve, reject };
        return;
      }
      const onAbort = () => {
        this.waiter = null;
        reject(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.waiter = {
        resolve: (message) => {
          signal.removeEventListener("abort", onAbort);
          resolve(message);
        },
        reject: (error) => {
          signal.removeEventListener("abort", onAbort);
          reject(error);
        },
      };
    });
  }

  /**
   * Ends the stream of messages: messages already queued can still be read,
   * then `get()` rejects with `error`. A partly received message is dropped.
   */
  close(error: unknown): void {
    if (this.closedWith !== null) return;
    this.closedWith = error;
    this.fragments = null;
    if (this.waiter !== null) {
      const waiter = this.waiter;
      this.waiter = null;
      waiter.reject(error);
    }
  }

  private deliver(message: Data): void {
    if (this.waiter !== null) {
      const waiter = this.waiter;
      this.waiter = null;
      waiter.resolve(message);
      return;
    }
    this.queue.push(message);
    if (!this.paused && this.size >= this.highWater) {
      this.paused = true;
      this.flow.pause();
    }
  }

  private shift(): Data {
    const message = this.queue[this.head]!;
    this.queue[this.head] = "";
    this.head++;
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
    }
    if (this.paused && this.size <= this.lowWater) {
      this.paused = false;
      this.flow.resume();
    }
    return message;
  }

  private append(data: Uint8Array): void {
    const needed = this.fragmentsLength + data.length;
    if (this.fragments === null || needed > this.fragments.length) {
      // Double to keep appends amortized O(1); the protocol's size limit caps the total.
      const grown = Buffer.allocUnsafe(Math.max(needed, (this.fragments?.length ?? 0) * 2, 256));
      if (this.fragments !== null) this.fragments.copy(grown, 0, 0, this.fragmentsLength);
      this.fragments = grown;
    }
    this.fragments.set(data, this.fragmentsLength);
    this.fragmentsLength = needed;
  }
}
