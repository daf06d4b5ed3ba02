/**
 * Turns received data frames into messages and queues them for `recv()`,
 * pausing the socket when the application falls behind (read backpressure).
 *
 * @module
 */

import { Buffer, isUtf8 } from "node:buffer";
import { TextDecoder } from "node:util";
import { ConcurrencyError, ConnectionClosedOK } from "../core/errors.js";
import type { Frame } from "../core/frame.js";
import { Opcode } from "../core/opcodes.js";

/**
 * The bytes of a binary message received: a `Uint8Array` over an
 * `ArrayBuffer`, never over shared memory (a `Buffer` at run time). On
 * TypeScript 5.7 and later this is `Uint8Array<ArrayBuffer>`, which web APIs
 * such as `new Blob([bytes])` and `crypto.subtle.digest()` take as it is;
 * before 5.7, where `Uint8Array` is not generic, it is `Uint8Array`.
 *
 * Spelled as what `slice()` returns, a copy in an `ArrayBuffer` of its own,
 * which lib declares as `Uint8Array<ArrayBuffer>` from 5.7 on: writing
 * `Uint8Array<ArrayBuffer>` would not compile before.
 */
export type ReceivedBytes = ReturnType<Uint8Array["slice"]>;

/**
 * {@link ReceivedBytes} as the `Buffer` it is at run time: `Buffer<ArrayBuffer>`
 * with TypeScript 5.7 and later and an `@types/node` whose `Buffer` is
 * generic, else `Buffer`. Spelled as what `Buffer.alloc()` returns, for the
 * same reason.
 */
export type ReceivedBuffer = ReturnType<typeof Buffer.alloc>;

/** A message received: `string` for text, {@link ReceivedBytes} for binary. */
export type Data = string | ReceivedBytes;

/** Hooks the assembler calls to pause and resume reading from the network. */
export interface FlowControl {
  /** Stops reading from the network: the queue of messages is full. */
  pause(): void;
  /** Reads from the network again: the queue has room, or the connection is closing. */
  resume(): void;
}

/** What an iterator's `next()` resolves with once the connection closed normally. */
const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/**
 * What a waiting reader's promise is resolved with to reject it: a thenable
 * that rejects, so that only the resolving function need be kept. Unlike a
 * rejected promise, it is never reported as an unhandled rejection in the
 * moment before the reader's promise adopts it. Connection settles the
 * sends waiting for 'drain' the same way.
 */
export class Rejection implements PromiseLike<never> {
  constructor(private readonly error: unknown) {}

  // biome-ignore lint/suspicious/noThenProperty: a thenable is the point: the reader's promise adopts it.
  then<TResult1 = never, TResult2 = never>(
    _onFulfilled?: ((value: never) => TResult1 | PromiseLike<TResult1>) | null,
    onRejected?: ((reason: unknown) => TResult2 | PromiseLike<TResult2>) | null,
  ): PromiseLike<TResult1 | TResult2> {
    onRejected?.(this.error);
    return this as PromiseLike<TResult1 | TResult2>;
  }
}

/**
 * A binary message read as text, for `recvText()`: strictly, as Python's
 * `recv(decode=True)` does. Replacing invalid bytes with U+FFFD would hand
 * the application text that the peer never sent, with nothing to tell it so.
 *
 * @throws TypeError if `data` is not valid UTF-8 (RFC 3629).
 */
export function decodeBinaryAsText(data: Uint8Array, method: string): string {
  const bytes = asBuffer(data);
  if (!isUtf8(bytes)) {
    throw new TypeError(
      `${method} received a binary message of ${bytes.length} bytes that is not valid UTF-8; ` +
        "recv() or recvBinary() reads it as bytes",
    );
  }
  return bytes.toString("utf8");
}

/** Turns a received view into a `Buffer` without copying. */
export function asBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * The payload of a binary message as the application gets it: a `Buffer`
 * over an `ArrayBuffer`, as {@link ReceivedBytes} says, without copying.
 * Socket reads, the protocol's buffers and zlib's output are all
 * `ArrayBuffer`s, and the protocol copies what an extension of the
 * application's own decodes into shared memory (`receiveFrame()`). A socket
 * of the application's own (`connect()`'s `socket`) that pushed chunks of
 * shared memory would be the one way around that; Node's sockets never do.
 */
export function receivedBytes(data: Uint8Array): ReceivedBuffer {
  return asBuffer(data) as ReceivedBuffer;
}

/** Bits of {@link MessageAssembler}'s `flags`: one field for several booleans. */
const WAITER_ITERATES = 1;
const CLOSED = 2;
const ENDS_QUIETLY = 4;
const PAUSED_FOR_QUEUE = 8;
/** A streaming read ({@link MessageStream}) is in progress: no other read may start. */
const STREAMING = 16;
const FRAGMENTS_ARE_TEXT = 32;
/** The close error was built: `closeErrorSource` holds it rather than its maker. */
const CLOSE_ERROR_BUILT = 64;
/** Closing: reading no longer pauses for the queue; see `drainForClose()`. */
const DRAINING_FOR_CLOSE = 128;
/** Closing, a message found the queue full: it and every later one are dropped. */
const DROPPING = 256;
/**
 * The frames of the message being received go to a streaming read, which
 * `fragments` holds meanwhile instead of bytes.
 */
const STREAMS_INCOMING = 512;
/** The rest of the message being received is dropped: the streaming read for it was left. */
const DISCARDS_INCOMING = 1024;

/**
 * Reassembles messages from frames and hands them to one reader at a time.
 *
 * Fragments are copied into one growing buffer rather than kept as a list, so
 * memory follows the message's bytes (bounded by the protocol's size limit)
 * and not the number of fragments: a million 1-byte fragments cost 1 MB, not a
 * million objects.
 *
 * Everything a connection may never need (the queue, the close error) is
 * created on first use, booleans share one field, and a waiting reader keeps
 * one callback: an idle connection, whose handler waits for a message, holds
 * one small assembler, one promise and its resolving function.
 *
 * It is also the iterator of `for await (const message of ws)`: a plain
 * object rather than an async generator, whose resumptions cost extra
 * promises and microtask turns on every message, and this object rather than
 * one of its own, which every idle connection would keep in its handler's
 * frame.
 */
export class MessageAssembler implements AsyncIterableIterator<Data> {
  private queue: Data[] | null = null;
  private head = 0;
  /**
   * Settles the waiting reader, if any: with a message, an iterator result,
   * or a {@link Rejection}. Its `reject` is not kept: resolving with a
   * thenable that rejects rejects as well, and one function costs less than two.
   */
  private settleWaiter:
    | ((value: Data | IteratorResult<Data, undefined> | Rejection) => void)
    | null = null;
  private flags = 0;
  /** The function that builds the close error, then the error once built. */
  private closeErrorSource: unknown = null;
  private readonly highWater: number;
  /**
   * The bytes of the fragmented message being assembled; or, while its
   * frames go to a streaming read (STREAMS_INCOMING), that read: the field
   * is free then, and a field of its own would cost every connection.
   */
  private fragments: ReceivedBuffer | MessageStream | null = null;
  private fragmentsLength = 0;

  /**
   * An empty assembler, one per connection, with nothing allocated but itself
   * until a message arrives or a reader waits.
   *
   * @param maxQueue number of messages queued before the socket is paused; it
   *   resumes once the queue is down to a quarter of that.
   * @param flow what to pause and resume: the socket.
   */
  constructor(
    maxQueue: number,
    private readonly flow: FlowControl,
  ) {
    this.highWater = Math.max(1, maxQueue);
  }

  /**
   * Number of messages waiting to be read, counting each fragment that a
   * streaming read has yet to take as one.
   */
  get size(): number {
    return this.queue === null ? 0 : this.queue.length - this.head;
  }

  /**
   * How many more messages can arrive before the queue is full: one for a
   * reader waiting, and the room left in the queue; -1 for no limit once
   * {@link drainForClose} was called.
   */
  get room(): number {
    if ((this.flags & DRAINING_FOR_CLOSE) !== 0) return -1;
    return Math.max(0, this.highWater - this.size + (this.settleWaiter === null ? 0 : 1));
  }

  /**
   * Resumes reading that the caller paused for a moment of its own, unless
   * the queue holds it.
   */
  resumeReading(): void {
    if ((this.flags & PAUSED_FOR_QUEUE) === 0) this.flow.resume();
  }

  /**
   * For the closing handshake: reading resumes if the queue had paused it,
   * and never pauses for the queue again. The peer's close frame, or its TCP
   * close, may be waiting behind messages that the application, which is
   * closing, will not read; a paused socket would never get to it, and the
   * close would end with 1006 at `closeTimeout`.
   *
   * Memory stays bounded: messages that find `maxQueue` messages waiting are
   * dropped, and so is every message after them, so what can still be read is
   * the messages received up to that point, in order and without gaps.
   */
  drainForClose(): void {
    if ((this.flags & DRAINING_FOR_CLOSE) !== 0) return;
    this.flags |= DRAINING_FOR_CLOSE;
    if ((this.flags & PAUSED_FOR_QUEUE) !== 0) {
      this.flags &= ~PAUSED_FOR_QUEUE;
      this.flow.resume();
    }
  }

  /** Adds a TEXT, BINARY or CONT frame. The protocol has validated sequencing and UTF-8. */
  put(frame: Frame): void {
    if ((this.flags & (STREAMS_INCOMING | DISCARDS_INCOMING)) !== 0) {
      this.putAside(frame);
      return;
    }
    if (frame.opcode !== Opcode.CONT) {
      if (frame.fin) {
        this.deliver(
          frame.opcode === Opcode.TEXT
            ? asBuffer(frame.data).toString("utf8")
            : receivedBytes(frame.data),
        );
        return;
      }
      if (frame.opcode === Opcode.TEXT) this.flags |= FRAGMENTS_ARE_TEXT;
      else this.flags &= ~FRAGMENTS_ARE_TEXT;
      this.fragmentsLength = 0;
    }
    const isText = (this.flags & FRAGMENTS_ARE_TEXT) !== 0;
    if (frame.fin && !isText) {
      this.deliver(this.binaryMessage(frame.data));
      return;
    }
    this.append(frame.data);
    if (frame.fin) {
      const fragments = this.fragments as ReceivedBuffer;
      const length = this.fragmentsLength;
      this.fragments = null;
      this.fragmentsLength = 0;
      this.deliver(fragments.toString("utf8", 0, length));
    }
  }

  /**
   * The fragments so far and the last one, `data`, in a buffer of the
   * message's exact size and of its own: not a slice of Node's pool, whose
   * ArrayBuffer other buffers of the process share, and without the room
   * doubling leaves, which was never written.
   */
  private binaryMessage(data: Uint8Array): ReceivedBuffer {
    const length = this.fragmentsLength;
    const message = Buffer.allocUnsafeSlow(length + data.length);
    if (length > 0) (this.fragments as ReceivedBuffer).copy(message, 0, 0, length);
    message.set(data, length);
    this.fragments = null;
    this.fragmentsLength = 0;
    return message;
  }

  /**
   * Resolves with the next message. Rejects with the close error once the
   * queue is empty and the connection is closed, or with the signal's reason
   * when aborted, even with messages queued (no message is lost: it stays
   * queued for the next call).
   *
   * @throws ConcurrencyError when another call is already waiting.
   */
  get(signal?: AbortSignal | null): Promise<Data> {
    // An aborted signal wins over queued messages, as in fetch() and
    // events.once(): a loop that reads with it stops, and nothing is lost.
    if (signal?.aborted) return Promise.reject(signal.reason);
    if ((this.flags & STREAMING) !== 0) return this.rejectWhileStreaming();
    if (this.size > 0) return Promise.resolve(this.shift());
    if ((this.flags & CLOSED) !== 0) return Promise.reject(this.closeError());
    if (this.settleWaiter !== null) return this.rejectConcurrent();
    if (signal == null) return this.wait(false) as Promise<Data>;
    return new Promise<Data>((resolve, reject) => {
      const onAbort = () => {
        this.settleWaiter = null;
        reject(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.flags &= ~WAITER_ITERATES;
      this.settleWaiter = (message) => {
        signal.removeEventListener("abort", onAbort);
        resolve(message as Data | Rejection);
      };
    });
  }

  /**
   * Like {@link get}, shaped for an async iterator: resolves with
   * `{ value, done: false }` for a message, with `{ done: true }` once the
   * queue is empty after a normal closure, and rejects after another one.
   */
  next(): Promise<IteratorResult<Data, undefined>> {
    if ((this.flags & STREAMING) !== 0) return this.rejectWhileStreaming();
    if (this.size > 0) return Promise.resolve({ value: this.shift(), done: false });
    if ((this.flags & CLOSED) !== 0) {
      return (this.flags & ENDS_QUIETLY) !== 0
        ? Promise.resolve(DONE)
        : Promise.reject(this.closeError());
    }
    if (this.settleWaiter !== null) return this.rejectConcurrent();
    return this.wait(true) as Promise<IteratorResult<Data, undefined>>;
  }

  /**
   * An async iterator over the messages; see {@link next}. There is one per
   * assembler, shared by every loop: an object per loop would cost each
   * connection's suspended handler 32 B.
   */
  iterator(): AsyncIterableIterator<Data> {
    return this;
  }

  /**
   * Called when a loop exits early (`break`, `return`, a throw). It changes
   * nothing: the loop calls no `next()` after it, and another loop over the
   * same connection (one it is nested in, or a later one) must go on
   * reading. Messages stay queued for those loops or for {@link get}.
   */
  return(): Promise<IteratorResult<Data, undefined>> {
    return Promise.resolve(DONE);
  }

  /** This assembler itself: `for await` loops read from the queue every other reader shares. */
  [Symbol.asyncIterator](): AsyncIterableIterator<Data> {
    return this;
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
    if ((this.flags & CLOSED) !== 0) return;
    this.flags |= endsQuietly ? CLOSED | ENDS_QUIETLY : CLOSED;
    this.closeErrorSource = makeError;
    this.fragments = null;
    // No frame comes after the close: a streaming read still reading finds
    // CLOSED once it has taken what it was given.
    this.flags &= ~(STREAMS_INCOMING | DISCARDS_INCOMING);
    const settle = this.settleWaiter;
    if (settle === null) return;
    this.settleWaiter = null;
    if ((this.flags & WAITER_ITERATES) !== 0 && endsQuietly) settle(DONE);
    else settle(new Rejection(this.closeError()));
  }

  // --- Streaming reads: recvStreaming() --------------------------------

  /**
   * A streaming read of the next message: an iterator over its fragments,
   * each handed over as its frame arrives. Nothing is taken, and no other
   * read refused, until its first `next()`.
   */
  stream(signal?: AbortSignal | null): AsyncIterableIterator<Data> {
    return new MessageStream(this, signal ?? null);
  }

  /** @internal {@link MessageStream.next}: the next fragment of the stream's message. */
  nextFragment(stream: MessageStream): Promise<IteratorResult<Data, undefined>> {
    if ((stream.bits & FINISHED) !== 0) return Promise.resolve(DONE);
    if ((stream.bits & STARTED) === 0) {
      const refused = this.startStream(stream);
      if (refused !== null) return refused;
    } else if (this.settleWaiter !== null) {
      // This stream's own next() waits: a second one would orphan it.
      return Promise.reject(
        new ConcurrencyError(
          "cannot read the next fragment (recvStreaming()) while another next() is waiting",
        ),
      );
    } else if (stream.signal?.aborted) {
      // As in get(): an aborted signal wins over fragments waiting.
      this.leaveStream(stream);
      return Promise.reject(stream.signal.reason);
    }
    if (stream.pending > 0) {
      stream.pending--;
      const fragment = this.shift();
      // The last fragment ends the read now rather than at the next call:
      // other reads need not wait for a `next()` that only says done.
      if (stream.pending === 0 && (stream.bits & COMPLETE) !== 0) this.endStream(stream);
      return Promise.resolve({ value: fragment, done: false });
    }
    if ((stream.bits & COMPLETE) !== 0) {
      this.endStream(stream);
      return Promise.resolve(DONE);
    }
    if ((this.flags & CLOSED) !== 0) {
      // Even after a normal closure, as recv() does: the message was cut off.
      this.endStream(stream);
      return Promise.reject(this.closeError());
    }
    return this.waitForFragment(stream);
  }

  /**
   * @internal {@link MessageStream.return}, and an abort: leaves the
   * stream's message. With nothing of it handed over, nothing is taken: the
   * next read gets the whole message. Otherwise the rest of it is dropped,
   * the fragments waiting now and the frames still to come.
   */
  leaveStream(stream: MessageStream): void {
    if ((stream.bits & (STARTED | FINISHED)) !== STARTED) return;
    const settle = this.settleWaiter;
    if (settle !== null) {
      // return() called by hand while a next() waits: that one ends too.
      this.settleWaiter = null;
      settle(DONE);
    }
    // A fragment produced is handed over at once to the first next(), which
    // waits for it, so "produced" is "handed over" here.
    if ((stream.bits & OUTPUT) === 0) {
      this.restoreStreamed(stream);
    } else {
      for (; stream.pending > 0; stream.pending--) this.shift();
      if ((this.flags & STREAMS_INCOMING) !== 0) {
        this.flags = (this.flags & ~STREAMS_INCOMING) | DISCARDS_INCOMING;
        this.fragments = null;
      }
    }
    this.endStream(stream);
  }

  /**
   * Starts `stream` on the next message, or settles its first `next()` at
   * once: a refusal, or a message already complete, as one fragment.
   */
  private startStream(stream: MessageStream): Promise<IteratorResult<Data, undefined>> | null {
    const signal = stream.signal;
    // Whatever happens, this is the read's one start: a refused read stays refused.
    stream.bits |= STARTED | FINISHED;
    if (signal?.aborted) return Promise.reject(signal.reason);
    if ((this.flags & STREAMING) !== 0) {
      return Promise.reject(
        new ConcurrencyError(
          "cannot stream a message (recvStreaming()) while another recvStreaming() is reading one",
        ),
      );
    }
    if (this.settleWaiter !== null) {
      return Promise.reject(
        new ConcurrencyError(
          "cannot stream a message (recvStreaming()) while another read (recv() or for await) is waiting",
        ),
      );
    }
    if (this.size > 0) return Promise.resolve({ value: this.shift(), done: false });
    if ((this.flags & CLOSED) !== 0) return Promise.reject(this.closeError());
    stream.bits &= ~FINISHED;
    this.flags |= STREAMING | STREAMS_INCOMING;
    const partial = this.fragments as ReceivedBuffer | null;
    this.fragments = stream;
    if (partial !== null) {
      const length = this.fragmentsLength;
      this.fragmentsLength = 0;
      stream.begin((this.flags & FRAGMENTS_ARE_TEXT) !== 0);
      // Copied if binary: the assembly buffer may lie in Node's pool.
      this.offerFragment(stream, stream.decode(partial.subarray(0, length), false, false), false);
    }
    return null;
  }

  /** A frame while STREAMS_INCOMING or DISCARDS_INCOMING: not for the queue of messages. */
  private putAside(frame: Frame): void {
    // First: a streaming read started while the previous one's message is
    // still being dropped waits for the message after it.
    if ((this.flags & DISCARDS_INCOMING) !== 0) {
      if (frame.fin) this.flags &= ~DISCARDS_INCOMING;
      return;
    }
    const stream = this.fragments as MessageStream;
    if (frame.opcode !== Opcode.CONT) stream.begin(frame.opcode === Opcode.TEXT);
    const fin = frame.fin;
    if (fin) {
      this.flags &= ~STREAMS_INCOMING;
      this.fragments = null;
    }
    this.offerFragment(stream, stream.decode(frame.data, fin, true), fin);
  }

  /**
   * Hands a fragment (`null`: none, the frame decoded to nothing) to the
   * waiting stream, or queues it, where it counts against `maxQueue` like a
   * message.
   */
  private offerFragment(stream: MessageStream, fragment: Data | null, fin: boolean): void {
    const flags = this.flags;
    if (
      (flags & DRAINING_FOR_CLOSE) !== 0 &&
      (fragment === null ? (flags & DROPPING) !== 0 : this.dropsWhileClosing())
    ) {
      // Cut off, like a message dropped while closing: the stream hands
      // over what it has, then the close error.
      return;
    }
    if (fin) stream.bits |= COMPLETE;
    const settle = this.settleWaiter;
    if (settle !== null) {
      if (fragment === null && !fin) return;
      this.settleWaiter = null;
      if (fin) this.endStream(stream);
      settle(fragment ?? DONE);
      return;
    }
    if (fragment === null) return;
    stream.pending++;
    this.enqueue(fragment);
  }

  private waitForFragment(stream: MessageStream): Promise<IteratorResult<Data, undefined>> {
    // A close rejects it even when normal (see closeLazily()).
    this.flags &= ~WAITER_ITERATES;
    const signal = stream.signal;
    return new Promise((resolve) => {
      let onAbort: (() => void) | null = null;
      if (signal !== null) {
        onAbort = () => {
          this.settleWaiter = null;
          this.leaveStream(stream);
          resolve(new Rejection(signal.reason));
        };
        signal.addEventListener("abort", onAbort, { once: true });
      }
      this.settleWaiter = (value) => {
        if (onAbort !== null) signal!.removeEventListener("abort", onAbort);
        if (value instanceof Rejection) {
          this.endStream(stream);
          resolve(value);
        } else if (value === DONE) {
          resolve(DONE);
        } else {
          resolve({ value: value as Data, done: false });
        }
      };
    });
  }

  /**
   * Gives the message the stream left with nothing handed over back to the
   * assembler, as if no streaming read had started.
   */
  private restoreStreamed(stream: MessageStream): void {
    this.flags &= ~STREAMS_INCOMING;
    this.fragments = null;
    this.fragmentsLength = 0;
    if ((stream.bits & BEGUN) === 0) return;
    if (stream.decoder !== null) this.flags |= FRAGMENTS_ARE_TEXT;
    else this.flags &= ~FRAGMENTS_ARE_TEXT;
    // Even empty: `fragments` set is what says that a message is under way.
    this.append(stream.held ?? NO_BYTES);
  }

  private endStream(stream: MessageStream): void {
    stream.bits |= FINISHED;
    stream.decoder = null;
    stream.held = null;
    this.flags &= ~STREAMING;
  }

  private rejectWhileStreaming(): Promise<never> {
    return Promise.reject(
      new ConcurrencyError(
        "cannot read a message (recv() or for await) while recvStreaming() is reading one",
      ),
    );
  }

  private closeError(): unknown {
    if ((this.flags & CLOSE_ERROR_BUILT) === 0) {
      this.closeErrorSource = (this.closeErrorSource as () => unknown)();
      this.flags |= CLOSE_ERROR_BUILT;
    }
    return this.closeErrorSource;
  }

  private rejectConcurrent(): Promise<never> {
    // Said of both ways in: an application with two `for await` loops on one
    // connection never called recv().
    return Promise.reject(
      new ConcurrencyError(
        "cannot read a message (recv() or for await) while another read is waiting",
      ),
    );
  }

  private wait(iterates: boolean): Promise<Data | IteratorResult<Data, undefined>> {
    if (iterates) this.flags |= WAITER_ITERATES;
    else this.flags &= ~WAITER_ITERATES;
    return new Promise((resolve) => {
      this.settleWaiter = resolve;
    });
  }

  private deliver(message: Data): void {
    const flags = this.flags;
    // Before the waiting reader: once a message was dropped, a later one
    // handed to a reader who emptied the queue would follow it with a gap.
    if ((flags & DRAINING_FOR_CLOSE) !== 0 && this.dropsWhileClosing()) return;
    const settle = this.settleWaiter;
    if (settle !== null) {
      this.settleWaiter = null;
      settle((flags & WAITER_ITERATES) !== 0 ? { value: message, done: false } : message);
      return;
    }
    this.enqueue(message);
  }

  /** Queues a message, or a streamed fragment, pausing reading once the queue is full. */
  private enqueue(item: Data): void {
    this.queue ??= [];
    this.queue.push(item);
    if (
      (this.flags & (PAUSED_FOR_QUEUE | DRAINING_FOR_CLOSE)) === 0 &&
      this.size >= this.highWater
    ) {
      this.flags |= PAUSED_FOR_QUEUE;
      this.flow.pause();
    }
  }

  /**
   * While closing, whether a message is dropped: the first one that finds
   * the queue full is, and every one after it, whether a reader waits or not.
   */
  private dropsWhileClosing(): boolean {
    if ((this.flags & DROPPING) === 0 && this.size >= this.highWater) this.flags |= DROPPING;
    return (this.flags & DROPPING) !== 0;
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
    if ((this.flags & PAUSED_FOR_QUEUE) !== 0 && this.size <= Math.floor(this.highWater / 4)) {
      this.flags &= ~PAUSED_FOR_QUEUE;
      this.flow.resume();
    }
    return message;
  }

  /** Appends a fragment's bytes to the message being assembled. */
  private append(data: Uint8Array): void {
    const needed = this.fragmentsLength + data.length;
    let fragments = this.fragments as ReceivedBuffer | null;
    if (fragments === null || needed > fragments.length) {
      // Double to keep appends amortized O(1); the protocol's size limit caps
      // the total. Node's pool serves the small ones: this buffer is never
      // handed over (see binaryMessage()).
      const grown = Buffer.allocUnsafe(Math.max(needed, (fragments?.length ?? 0) * 2, 256));
      if (fragments !== null) fragments.copy(grown, 0, 0, this.fragmentsLength);
      this.fragments = fragments = grown;
    }
    fragments.set(data, this.fragmentsLength);
    this.fragmentsLength = needed;
  }
}

/** Bits of {@link MessageStream}'s `bits`. */
/** Its first `next()` was called: it started on a message, or was refused. */
const STARTED = 1;
/** Ended: done, left, refused or rejected; `next()` says done from then on. */
const FINISHED = 2;
/** The first frame of its message arrived (or had, before it started). */
const BEGUN = 4;
/** A fragment of its message, not empty, was produced. */
const OUTPUT = 8;
/** The last frame of its message arrived: what is pending is all that is left. */
const COMPLETE = 16;

/** Decoding options of every fragment but a message's last. */
const DECODE_STREAM = { stream: true } as const;
const NO_BYTES = new Uint8Array(0);

/**
 * A streaming read (`recvStreaming()`): the iterator over one message's
 * fragments. Its state is here, not in the assembler, so that connections
 * that never stream pay nothing for it; the assembler does the work, as it
 * owns the queue the fragments wait in.
 *
 * @internal
 */
export class MessageStream implements AsyncIterableIterator<Data> {
  /** STARTED, FINISHED, BEGUN, OUTPUT and COMPLETE. */
  bits = 0;
  /** Fragments of the message queued in the assembler, at the head of its queue. */
  pending = 0;
  /** Decodes a text message's fragments, holding a UTF-8 sequence split across frames; `null` for binary. */
  decoder: TextDecoder | null = null;
  /**
   * The bytes received before any fragment was produced (at most an
   * incomplete UTF-8 sequence), to give them back if the read is left.
   */
  held: Buffer | null = null;

  constructor(
    private readonly assembler: MessageAssembler,
    readonly signal: AbortSignal | null,
  ) {}

  /** The first frame of the message: text or binary. */
  begin(isText: boolean): void {
    this.bits |= BEGUN;
    // ignoreBOM keeps a leading U+FEFF, as recv() does: it is the peer's text.
    if (isText) this.decoder = new TextDecoder("utf-8", { ignoreBOM: true });
  }

  /**
   * A frame's payload as a fragment to hand over, or `null` for none: empty
   * fragments are not, but for a message empty altogether, whose last frame
   * gives one, so that the reader sees it arrive.
   *
   * @param owned whether `data` may be handed over as it is, as `recv()`
   *   hands over a single frame's payload; else binary is copied.
   */
  decode(data: Uint8Array, fin: boolean, owned: boolean): Data | null {
    const decoder = this.decoder;
    let fragment: Data | null = null;
    if (decoder !== null) {
      // The protocol validated the UTF-8: nothing is replaced.
      const text = fin ? decoder.decode(data) : decoder.decode(data, DECODE_STREAM);
      if (text.length > 0) fragment = text;
    } else if (data.length > 0) {
      fragment = owned ? receivedBytes(data) : copyOf(data);
    }
    if (fragment !== null) {
      this.bits |= OUTPUT;
      this.held = null;
      return fragment;
    }
    if ((this.bits & OUTPUT) !== 0) return null;
    if (fin) return decoder !== null ? "" : (Buffer.allocUnsafeSlow(0) as ReceivedBuffer);
    if (data.length > 0) {
      this.held = this.held === null ? Buffer.from(data) : Buffer.concat([this.held, data]);
    }
    return null;
  }

  /** The next fragment; `{ done: true }` after the last. */
  next(): Promise<IteratorResult<Data, undefined>> {
    return this.assembler.nextFragment(this);
  }

  /** Leaves the message (`break`, a throw in the loop): see `MessageAssembler.leaveStream()`. */
  return(): Promise<IteratorResult<Data, undefined>> {
    this.assembler.leaveStream(this);
    return Promise.resolve(DONE);
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Data> {
    return this;
  }
}

/** `data` in an `ArrayBuffer` of its own and of its exact size. */
function copyOf(data: Uint8Array): ReceivedBuffer {
  const copy = Buffer.allocUnsafeSlow(data.length);
  copy.set(data);
  return copy as ReceivedBuffer;
}
