/**
 * Turns received data frames into messages and queues them for `recv()`,
 * pausing the socket when the application falls behind (read backpressure).
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { ConcurrencyError, ConnectionClosedOK } from "../core/errors.js";
import { type Frame, Opcode } from "../core/frames.js";

/** A message: `string` for text, `Uint8Array` (a `Buffer` at run time) for binary. */
export type Data = string | Uint8Array;

/** Hooks the assembler calls to pause and resume reading from the network. */
export interface FlowControl {
  pause(): void;
  resume(): void;
}

/** What an iterator's `next()` resolves with once the connection closed normally. */
const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

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
 *
 * Everything a connection may never need (the queue, the waiting reader's
 * callbacks, the close error) is created on first use: an idle connection
 * holds one assembler and nothing else here.
 */
export class MessageAssembler {
  private queue: Data[] | null = null;
  private head = 0;
  /** The waiting reader, if any: resolves with a message, or with an iterator result. */
  private waiterResolve: ((value: Data | IteratorResult<Data, undefined>) => void) | null = null;
  private waiterReject: ((error: unknown) => void) | null = null;
  /** Whether the waiting reader is an iterator, which wants `{ value, done }`. */
  private waiterIterates = false;
  private isClosed = false;
  /** Whether iterators end quietly after the close (a normal closure), rather than throw. */
  private endsQuietly = false;
  private closeErrorValue: unknown = null;
  private makeCloseError: (() => unknown) | null = null;
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
    return this.queue === null ? 0 : this.queue.length - this.head;
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
    if (this.size > 0) return Promise.resolve(this.shift());
    if (this.isClosed) return Promise.reject(this.closeError());
    if (this.waiterResolve !== null) return this.rejectConcurrent();
    if (signal === undefined) return this.wait(false) as Promise<Data>;
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise<Data>((resolve, reject) => {
      const onAbort = () => {
        this.waiterResolve = null;
        this.waiterReject = null;
        reject(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.waiterIterates = false;
      this.waiterResolve = (message) => {
        signal.removeEventListener("abort", onAbort);
        resolve(message as Data);
      };
      this.waiterReject = (error) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      };
    });
  }

  /**
   * Like {@link get}, shaped for an async iterator: resolves with
   * `{ value, done: false }` for a message, with `{ done: true }` once the
   * queue is empty after a normal closure, and rejects after another one.
   */
  next(): Promise<IteratorResult<Data, undefined>> {
    if (this.size > 0) return Promise.resolve({ value: this.shift(), done: false });
    if (this.isClosed) {
      return this.endsQuietly ? Promise.resolve(DONE) : Promise.reject(this.closeError());
    }
    if (this.waiterResolve !== null) return this.rejectConcurrent();
    return this.wait(true) as Promise<IteratorResult<Data, undefined>>;
  }

  /** An async iterator over the messages; see {@link next}. */
  iterator(): AsyncIterableIterator<Data> {
    return new MessageIterator(this);
  }

  /**
   * Ends the stream of messages: messages already queued can still be read,
   * then `get()` rejects with `error`, and iterators end quietly if it is a
   * {@link ConnectionClosedOK}, else reject with it. A partly received
   * message is dropped.
   */
  close(error: unknown): void {
    this.closeLazily(() => error, error instanceof ConnectionClosedOK);
  }

  /**
   * Like {@link close}, but the error is only built if a reader asks for it:
   * building an `Error` captures a stack trace, which most closures never
   * need. With `endsQuietly`, iterators end without an error.
   */
  closeLazily(makeError: () => unknown, endsQuietly: boolean): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.endsQuietly = endsQuietly;
    this.makeCloseError = makeError;
    this.fragments = null;
    const reject = this.waiterReject;
    const resolve = this.waiterResolve;
    if (resolve === null || reject === null) return;
    this.waiterResolve = null;
    this.waiterReject = null;
    if (this.waiterIterates && endsQuietly) resolve(DONE);
    else reject(this.closeError());
  }

  private closeError(): unknown {
    if (this.makeCloseError !== null) {
      this.closeErrorValue = this.makeCloseError();
      this.makeCloseError = null;
    }
    return this.closeErrorValue;
  }

  private rejectConcurrent(): Promise<never> {
    return Promise.reject(new ConcurrencyError("cannot call recv() while another call is waiting"));
  }

  private wait(iterates: boolean): Promise<Data | IteratorResult<Data, undefined>> {
    return new Promise((resolve, reject) => {
      this.waiterIterates = iterates;
      this.waiterResolve = resolve;
      this.waiterReject = reject;
    });
  }

  private deliver(message: Data): void {
    const resolve = this.waiterResolve;
    if (resolve !== null) {
      this.waiterResolve = null;
      this.waiterReject = null;
      resolve(this.waiterIterates ? { value: message, done: false } : message);
      return;
    }
    this.queue ??= [];
    this.queue.push(message);
    if (!this.paused && this.size >= this.highWater) {
      this.paused = true;
      this.flow.pause();
    }
  }

  private shift(): Data {
    const queue = this.queue!;
    const message = queue[this.head]!;
    this.head++;
    if (this.head === queue.length) {
      // Drained: drop the array rather than keep its backing store for an idle connection.
      this.queue = null;
      this.head = 0;
    } else {
      queue[this.head - 1] = "";
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

/**
 * The iterator of `for await (const message of ws)`: a plain object over the
 * assembler, rather than an async generator, whose resumptions cost extra
 * promises and microtask turns on every message.
 */
class MessageIterator implements AsyncIterableIterator<Data> {
  private finished = false;

  constructor(private readonly messages: MessageAssembler) {}

  next(): Promise<IteratorResult<Data, undefined>> {
    if (this.finished) return Promise.resolve(DONE);
    return this.messages.next();
  }

  /** Called when a loop exits early (`break`, `return`, a throw): later calls are done. */
  return(): Promise<IteratorResult<Data, undefined>> {
    this.finished = true;
    return Promise.resolve(DONE);
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Data> {
    return this;
  }
}
