/**
 * The memory the caller's thread and the worker thread share: a wake-up word
 * the caller sleeps on with `Atomics.wait`, and the counters that let both
 * sides agree on flow control without exchanging a message for it.
 *
 * The caller cannot run an event loop while it blocks, so every report the
 * worker posts on the message port is followed by {@link SharedCounters.wake};
 * the caller reads the wake-up word before looking at the port and sleeps only
 * if the word has not moved since, so a report can never slip in unnoticed
 * between the look and the sleep.
 *
 * @module
 */

/** Int32 slots. */
export const Word = {
  /** Bumped after every report the worker posts; the caller waits on it. */
  WAKE: 0,
  /** Messages the application took with `recv()`; wraps around, only differences count. */
  CONSUMED: 1,
  /** 1 while the worker waits for the application to take messages. */
  STALLED: 2,
  /** 1 once the worker thread is exiting; set by the bootstrap in link.ts. */
  EXITED: 3,
  /** 1 while the caller waits for written bytes: only then do writes wake it. */
  WRITE_WAITER: 4,
  /** Bumped every second by the worker's event loop, set up by the bootstrap in link.ts. */
  HEARTBEAT: 5,
} as const;

/** Number of Int32 slots. */
export const WORDS = 6;
/**
 * Byte offset of the BigInt64 slot counting the bytes of sent messages the
 * socket took, after the words and aligned on 8 bytes.
 */
const WRITTEN_OFFSET = Math.ceil((WORDS * Int32Array.BYTES_PER_ELEMENT) / 8) * 8;

/** Allocates the shared memory of one connection. */
export function allocateSharedMemory(): SharedArrayBuffer {
  return new SharedArrayBuffer(WRITTEN_OFFSET + BigInt64Array.BYTES_PER_ELEMENT);
}

/** Views of the shared memory, with the operations each side performs on it. */
export class SharedCounters {
  private readonly words: Int32Array;
  private readonly written: BigInt64Array;

  constructor(memory: SharedArrayBuffer) {
    this.words = new Int32Array(memory, 0, WORDS);
    this.written = new BigInt64Array(memory, WRITTEN_OFFSET, 1);
  }

  // --- Worker side -------------------------------------------------------

  /** Wakes the caller after a report was posted. */
  wake(): void {
    Atomics.add(this.words, Word.WAKE, 1);
    Atomics.notify(this.words, Word.WAKE);
  }

  /**
   * Records that the socket took `bytes` more bytes of sent messages, and
   * wakes the caller if it waits for that. Waking it otherwise would cost a
   * context switch per message sent while it waits in `recv()`.
   */
  addWritten(bytes: number): void {
    Atomics.add(this.written, 0, BigInt(bytes));
    // Sequentially consistent: either the caller sees the new count before
    // sleeping, or this sees its flag and wakes it.
    if (Atomics.load(this.words, Word.WRITE_WAITER) === 1) this.wake();
  }

  /** Messages delivered to the caller and not yet taken by the application. */
  unconsumed(delivered: number): number {
    return (delivered - Atomics.load(this.words, Word.CONSUMED)) | 0;
  }

  /**
   * Declares that the worker is about to wait for the application to take
   * messages. Returns `false` when a message was taken in the meantime, and
   * the worker should not wait; `true` when it must wait for a `credit`
   * command, which the caller then posts (exactly once).
   */
  stall(delivered: number, window: number): boolean {
    Atomics.store(this.words, Word.STALLED, 1);
    if (this.unconsumed(delivered) < window) {
      // The caller took a message between our check and the flag: undo the
      // flag, unless the caller already saw it and posted a credit.
      return Atomics.compareExchange(this.words, Word.STALLED, 1, 0) !== 1;
    }
    return true;
  }

  // --- Caller side -------------------------------------------------------

  /** The wake-up word's current value, to pass to {@link sleep}. */
  get wakeCount(): number {
    return Atomics.load(this.words, Word.WAKE);
  }

  /** Blocks the thread until the wake-up word differs from `seen` or `timeout` ms passed. */
  sleep(seen: number, timeout: number): void {
    Atomics.wait(this.words, Word.WAKE, seen, timeout);
  }

  /** Total bytes of sent messages the worker's socket took. */
  get bytesWritten(): number {
    return Number(Atomics.load(this.written, 0));
  }

  /** Declares whether the caller is about to wait for written bytes (see {@link addWritten}). */
  set waitingForWrites(waiting: boolean) {
    Atomics.store(this.words, Word.WRITE_WAITER, waiting ? 1 : 0);
  }

  /** The heartbeat count: it stops moving when the worker's event loop does. */
  get heartbeat(): number {
    return Atomics.load(this.words, Word.HEARTBEAT);
  }

  /** Whether the worker thread is exiting or gone. */
  get exited(): boolean {
    return Atomics.load(this.words, Word.EXITED) === 1;
  }

  /** Records that the application took a message. */
  consume(): void {
    Atomics.add(this.words, Word.CONSUMED, 1);
  }

  /**
   * Returns `true` when the worker was waiting for the application to take
   * messages, and clears that: the caller must then post a `credit` command.
   */
  claimStall(): boolean {
    return (
      Atomics.load(this.words, Word.STALLED) === 1 &&
      Atomics.compareExchange(this.words, Word.STALLED, 1, 0) === 1
    );
  }
}
