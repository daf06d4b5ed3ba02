/**
 * A WebSocket connection over a Node socket: owns one `net.Socket` (or
 * `tls.TLSSocket`) and one sans-I/O {@link Protocol}, moves bytes between
 * them, and offers the application `send`, `recv`, `ping` and `close`.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import type { AddressInfo, NetConnectOpts, Socket } from "node:net";
import { performance } from "node:perf_hooks";
import { Close } from "../core/close.js";
import { CloseCode } from "../core/close-codes.js";
import { describeValue, kindOf, numberOptionError } from "../core/describe-value.js";
import {
  ConcurrencyError,
  type ConnectionClosed,
  ConnectionClosedError,
  ConnectionClosedOK,
  InvalidState,
} from "../core/errors.js";
import type { MessageOptions } from "../core/extensions/base.js";
import { PerMessageDeflate } from "../core/extensions/permessage-deflate.js";
import type { Frame } from "../core/frame.js";
import { resolveMaxMessageSize } from "../core/message-size.js";
import { Opcode } from "../core/opcodes.js";
import { isPooled, recyclerOf, releaseChunk } from "../core/outgoing.js";
import type { Event, Protocol } from "../core/protocol.js";
import { State } from "../core/state.js";
import { setDeadline } from "./deadline.js";
import {
  connectReadingDirectly as connectDirectly,
  copyOfRead,
  isSharedReadBuffer,
  readDirectly,
  type TargetOf,
} from "./direct-reads.js";
import { listenForEnd } from "./end-listener.js";
import { Keepalive, type KeepaliveTarget } from "./keepalive.js";
import type { Logger } from "./logger.js";
import {
  asBuffer,
  type Data,
  decodeBinaryAsText,
  MessageAssembler,
  type ReceivedBytes,
  Rejection,
} from "./messages.js";
import { BYTES_TAKEN, bytesOf, isBlob } from "./sendable-bytes.js";
import { isThenable } from "./thenable.js";

export type { Data, ReceivedBytes } from "./messages.js";

/** Options shared by client and server connections. All durations are in milliseconds. */
export interface ConnectionOptions {
  /**
   * Largest message accepted, in bytes (after decompression); `null` for no
   * limit. Default: 1 MiB. A larger message fails the connection with 1009.
   */
  maxMessageSize?: number | null | undefined;
  /**
   * Messages queued for `recv()` before reading from the socket pauses: a
   * whole number from 1, or `Infinity` never to pause. Default: 16. Reading
   * resumes when the queue is down to a quarter of that.
   */
  maxQueue?: number | undefined;
  /**
   * Bytes buffered for writing above which `send()` waits for the socket to
   * drain; meanwhile the peer's pings get one pong, for the latest, once it
   * does (RFC 6455 §5.5.3). Default: 64 KiB.
   */
  writeHighWaterMark?: number | undefined;
  /**
   * Time allowed for the opening handshake; `null` or `Infinity` for none.
   * Default: 10 s. At most 2147483647 ms (about 24.8 days), as for every
   * duration here: a larger one throws a `RangeError`.
   */
  openTimeout?: number | null | undefined;
  /** Time allowed for the closing handshake and TCP close; `null` or `Infinity` for none. Default: 10 s. */
  closeTimeout?: number | null | undefined;
  /** Interval between keepalive pings; `null` or `Infinity` disables them. Default: 20 s. */
  pingInterval?: number | null | undefined;
  /**
   * Time to wait for a keepalive pong before failing with 1011; `null` or
   * `Infinity` for no limit. Default: 20 s.
   */
  pingTimeout?: number | null | undefined;
  /** Where to log; `null` for nowhere. Default: errors and warnings to `console`. */
  logger?: Logger | null | undefined;
}

/** The options with their defaults applied. */
export interface ResolvedConnectionOptions {
  /** Largest message accepted, in bytes; `null` for no limit. */
  readonly maxMessageSize: number | null;
  /** Messages queued for `recv()` before reading from the socket pauses. */
  readonly maxQueue: number;
  /** Bytes buffered for writing above which `send()` waits for the socket to drain. */
  readonly writeHighWaterMark: number;
  /** Time allowed for the opening handshake, in ms; `null` for none. */
  readonly openTimeout: number | null;
  /** Time allowed for the closing handshake and TCP close, in ms; `null` for none. */
  readonly closeTimeout: number | null;
  /** Interval between keepalive pings, in ms; `null` when they are disabled. */
  readonly pingInterval: number | null;
  /** Time to wait for a keepalive pong, in ms; `null` for no limit. */
  readonly pingTimeout: number | null;
  /** Where to log: one that drops everything when the option was `null`. */
  readonly logger: Logger;
}

/** Default limits and timeouts, documented in docs/topics/security.md. */
export const DEFAULTS = {
  /** 1 MiB: the largest message accepted, in bytes. */
  maxMessageSize: 1024 * 1024,
  /** 16 messages queued for `recv()` before reading pauses. */
  maxQueue: 16,
  /** 64 KiB buffered for writing before `send()` waits. */
  writeHighWaterMark: 64 * 1024,
  /** 10 s for the opening handshake, in milliseconds. */
  openTimeout: 10_000,
  /** 10 s for the closing handshake and TCP close, in milliseconds. */
  closeTimeout: 10_000,
  /** 20 s between keepalive pings, in milliseconds. */
  pingInterval: 20_000,
  /** 20 s to wait for a keepalive pong, in milliseconds. */
  pingTimeout: 20_000,
} as const;

/**
 * The longest delay Node's timers take, in ms: `setTimeout()` fires a larger
 * one (`Infinity` included) after 1 ms instead, with a TimeoutOverflowWarning.
 */
export const MAX_TIMER_DELAY = 2 ** 31 - 1;

/** The durations of {@link ConnectionOptions}: `null` or `Infinity` for no limit. */
export type DurationOption = "openTimeout" | "closeTimeout" | "pingInterval" | "pingTimeout";

/**
 * A duration option with its default applied: `undefined` takes the default;
 * `null` and `Infinity` mean none.
 *
 * @throws TypeError for a value that is not a number, such as `"100"`.
 * @throws RangeError for a negative or NaN value, or a finite one larger than
 *   {@link MAX_TIMER_DELAY}, which a timer can't wait for.
 */
export function resolveDuration(
  name: DurationOption,
  value: number | null | undefined,
): number | null {
  if (value === undefined) return DEFAULTS[name];
  if (value === null || value === Number.POSITIVE_INFINITY) return null;
  // Not what coerces to a number: `"100"` works by accident, `true` is 1 ms.
  if (typeof value !== "number") {
    throw new TypeError(
      `${name} must be a number of milliseconds, or null for no limit; got ${describeValue(value)}`,
    );
  }
  if (!(value >= 0 && value <= MAX_TIMER_DELAY)) {
    throw new RangeError(
      `${name} must be from 0 to ${MAX_TIMER_DELAY} ms, or Infinity or null for no limit; got ${value}`,
    );
  }
  return value;
}

/** `maxMessageSize` with its default applied: `null` for no limit. See `resolveMaxMessageSize()`. */
function maxMessageSizeOption(value: number | null | undefined): number | null {
  const size = resolveMaxMessageSize(value, DEFAULTS.maxMessageSize);
  return size === Number.POSITIVE_INFINITY ? null : size;
}

/**
 * `maxQueue` with its default applied; `Infinity` never pauses reading.
 *
 * @throws RangeError unless a whole number from 1, or `Infinity`: `0` is
 *   ambiguous (`ws` users read 0 as "no limit").
 */
function resolveMaxQueue(value: number | undefined): number {
  if (value === undefined) return DEFAULTS.maxQueue;
  if (!(value === Number.POSITIVE_INFINITY || (Number.isSafeInteger(value) && value >= 1))) {
    throw numberOptionError(
      value,
      `maxQueue must be a whole number of messages from 1, or Infinity for no limit; got ${describeValue(value)}`,
    );
  }
  return value;
}

/**
 * `writeHighWaterMark` with its default applied: `0` makes every `send()`
 * wait until the socket took everything, `Infinity` makes none wait.
 *
 * @throws RangeError for a negative number, NaN, or what isn't a number.
 */
function resolveWriteHighWaterMark(value: number | undefined): number {
  if (value === undefined) return DEFAULTS.writeHighWaterMark;
  if (!(typeof value === "number" && value >= 0)) {
    throw numberOptionError(
      value,
      `writeHighWaterMark must be a number of bytes from 0; got ${describeValue(value)}`,
    );
  }
  return value;
}

/**
 * Applies defaults: `undefined` takes the default, `null` keeps "none"
 * (`Infinity` too, for durations and `maxMessageSize`).
 *
 * @throws RangeError for a duration a timer can't wait for (see
 *   {@link resolveDuration}), or a size or count out of its range.
 */
export function resolveConnectionOptions(
  options: ConnectionOptions,
  logger: Logger,
): ResolvedConnectionOptions {
  return {
    maxMessageSize: maxMessageSizeOption(options.maxMessageSize),
    maxQueue: resolveMaxQueue(options.maxQueue),
    writeHighWaterMark: resolveWriteHighWaterMark(options.writeHighWaterMark),
    openTimeout: resolveDuration("openTimeout", options.openTimeout),
    closeTimeout: resolveDuration("closeTimeout", options.closeTimeout),
    pingInterval: resolveDuration("pingInterval", options.pingInterval),
    pingTimeout: resolveDuration("pingTimeout", options.pingTimeout),
    logger,
  };
}

/** Options of one `recv()` call. */
export interface RecvOptions {
  /**
   * Aborts the wait; the next message stays queued for a later call. A
   * signal already aborted rejects at once, even with messages queued, as
   * `fetch()` does. `null` is no signal, as in `fetch()`'s `RequestInit`.
   */
  signal?: AbortSignal | null | undefined;
}

/**
 * A message for `send()`: a string (text), bytes (binary), or the fragments
 * of one message, from an iterable or an async iterable of strings or of
 * bytes. Bytes are an `ArrayBuffer` or any view of one: a `Uint8Array` (a
 * `Buffer`), another typed array, a `DataView`; a view sends the bytes it
 * covers. A `Blob` (or a `File`) is binary too, sent once read. An iterable
 * is typed with one kind of fragment: a message is text or binary (RFC 6455
 * §5.4), and one that mixes them fails at run time.
 */
export type Sendable =
  | string
  | ArrayBufferView
  | ArrayBufferLike
  | Blob
  | Iterable<string>
  | Iterable<ArrayBufferView | ArrayBufferLike>
  | AsyncIterable<string>
  | AsyncIterable<ArrayBufferView | ArrayBufferLike>;

/** Options of one `send()` call. */
export interface SendOptions extends MessageOptions {
  /**
   * `false` sends this message uncompressed even when compression was
   * negotiated, e.g. for data that is already compressed (images, archives).
   * Default: `true`; messages under the compression threshold are never compressed.
   */
  readonly compress?: boolean | undefined;
}

/** Close codes that make {@link ConnectionClosedOK} rather than an error. */
const OK_CLOSE_CODES = new Set<number>([
  CloseCode.NORMAL_CLOSURE,
  CloseCode.GOING_AWAY,
  CloseCode.NO_STATUS_RCVD,
]);

/** Where a socket's module-level listeners find their connection; see {@link Connection}. */
const CONNECTION = Symbol("websockets-ts.connection");

/** Whether a connection drives `socket` already: a socket is upgraded once. */
export function isOwnedSocket(socket: Socket): boolean {
  return CONNECTION in socket;
}

/** A socket driven by a connection. */
interface OwnedSocket extends Socket {
  [CONNECTION]: Connection;
  _destroy(error: Error | null, callback: (error?: Error | null) => void): void;
}

// Set by the static block of Connection; see there.
let onSocketData: (this: Socket, chunk: Buffer) => void;
let onDirectRead: (this: Socket, bytesRead: number, buffer: Uint8Array) => boolean;
let onSocketConnect: (this: Socket) => void;
let onSocketEnd: (this: Socket) => void;
let onSocketError: (this: Socket, error: Error) => void;
let onSocketClose: (this: Socket) => void;
let onSocketDrain: (this: Socket) => void;
let onSocketResume: (this: Socket) => void;
let destroyKeepingAddresses: OwnedSocket["_destroy"];
let flushConnection: (connection: Connection) => void;
let failPending: (connection: Connection) => void;
let resumeHeldParsing: (connection: Connection) => void;
let closeTimedOut: (connection: Connection) => void;
let keepaliveTimedOut: (connection: Connection) => void;

/** What every connection's keepalive calls when a pong is late: its target is the connection. */
const onPongTimeout = (target: KeepaliveTarget): void => keepaliveTimedOut(target as Connection);

const EMPTY = Buffer.alloc(0);

/**
 * Who wants to know when a connection's closing handshake starts: the
 * blocking client's worker, whose caller refuses sends from then on. Kept
 * here rather than on each connection, which would cost every one a field.
 */
const closingObservers = new WeakMap<Connection, () => void>();

/**
 * Calls `observer` once, when the closing handshake of `connection` starts
 * (a close frame received or sent, or the connection failed). Not part of
 * the public API.
 */
export function observeClosing(connection: Connection, observer: () => void): void {
  closingObservers.set(connection, observer);
}

/**
 * Batches of held-back compressed messages that all connections together may
 * parse in one turn of the event loop. 'resume' follows the application's
 * reads within the turn, so a read full of tiny compressed messages (some
 * 7,000 in 64 KiB, each a synchronous zlib call) would otherwise be inflated
 * batch after batch (a batch fills the queue) without the event loop running
 * in between, holding every other connection for 0.13–0.18 s. With at most
 * 32 batches of up to `maxQueue` messages per turn, such a read held it for
 * 46–63 ms, and the usual read (a hundred messages or so) still takes one
 * turn: fewer batches cost throughput when many connections are busy.
 */
const HELD_BATCHES_PER_TURN = 32;
let heldBatchesThisTurn = 0;
let heldBatchCountResetScheduled = false;

function resetHeldBatchCount(): void {
  heldBatchesThisTurn = 0;
  heldBatchCountResetScheduled = false;
}

/** Counts a batch about to be parsed; whether this turn still has room for it. */
function mayParseHeldBatch(): boolean {
  if (!heldBatchCountResetScheduled) {
    heldBatchCountResetScheduled = true;
    setImmediate(resetHeldBatchCount);
  }
  return ++heldBatchesThisTurn <= HELD_BATCHES_PER_TURN;
}

/** Resolves in the next turn of the event loop, after its I/O and timers. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** One settled promise shared by every `send()` that had no reason to wait. */
const RESOLVED: Promise<void> = Promise.resolve();

/**
 * Output chunks at most this large in all are copied into one buffer and
 * written with one `write()`; larger batches go to `writev()` uncopied.
 */
const COALESCE_LIMIT = 16 * 1024;

interface PendingPing {
  readonly sentAt: number;
  resolve(latency: number): void;
  reject(error: unknown): void;
}

/**
 * Gives back the frame slots of chunks that will never be written (their
 * socket was destroyed or ended first): nothing reads them, and the slots
 * serve the next frames at once instead of after a garbage collection.
 */
function giveBackUnwritten(chunks: Uint8Array[], from: number, to: number): void {
  for (let i = from; i < to; i++) recyclerOf(chunks[i]!)?.();
}

/**
 * Writes `chunks[from..to)`, views of shared slabs, as one copy in memory of
 * its own, and gives them back to the slab (see `releaseChunk()`): nothing
 * holds them afterwards.
 */
function writeCopies(socket: Socket, chunks: Uint8Array[], from: number, to: number): void {
  if (to - from === 1) {
    socket.write(copyOf(chunks[from]!));
  } else {
    let size = 0;
    for (let i = from; i < to; i++) size += chunks[i]!.length;
    // Not from Node's pool (Buffer.concat()), which a stalled socket would pin instead.
    const copy = Buffer.allocUnsafeSlow(size);
    let offset = 0;
    for (let i = from; i < to; i++) {
      copy.set(chunks[i]!, offset);
      offset += chunks[i]!.length;
    }
    socket.write(copy);
  }
  for (let i = from; i < to; i++) releaseChunk(chunks[i]!);
}

/**
 * Stands for "no slab may be written as a view" in `Connection.write()`: no
 * chunk's buffer is this one, so every pooled chunk is copied.
 */
const COPY_EVERY_SLAB: ArrayBufferLike = new ArrayBuffer(0);

/** A copy of `chunk` in memory of its own, sized to it (not from Node's shared pool). */
function copyOf(chunk: Uint8Array): Uint8Array {
  return new Uint8Array(chunk);
}

/** The payload of a ping or a pong: a string as UTF-8, or bytes. */
function controlPayload(
  method: "ping" | "pong",
  data: string | ArrayBufferView | ArrayBufferLike,
): Uint8Array {
  if (typeof data === "string") return Buffer.from(data, "utf8");
  const bytes = bytesOf(data);
  if (bytes !== null) return bytes;
  throw new TypeError(`${method}() takes a string or bytes (${BYTES_TAKEN}); got ${kindOf(data)}`);
}

/** The bytes `message` will take, as far as is known before it is sent: 0 for an iterable. */
function byteSize(message: Sendable): number {
  if (typeof message === "string") return Buffer.byteLength(message, "utf8");
  if (isBlob(message)) return message.size;
  return bytesOf(message)?.byteLength ?? 0;
}

function isIterable(value: unknown): value is Iterable<unknown> | AsyncIterable<unknown> {
  return (
    typeof value === "object" &&
    value !== null &&
    (Symbol.iterator in value || Symbol.asyncIterator in value)
  );
}

/** Copies a socket's address while it is connected; after closing Node forgets it. */
function addressOf(
  address: string | undefined,
  family: string | undefined,
  port: number | undefined,
): AddressInfo | null {
  if (address === undefined) return null;
  return { address, family: family ?? "", port: port ?? 0 };
}

/** The iterator of a fragmented message's source, sync or async, as `send()` drives it. */
interface FragmentSource {
  next(): IteratorResult<unknown> | PromiseLike<IteratorResult<unknown>>;
  return?(): unknown;
}

/** What the wait for a source's next item resolves with once the connection stopped waiting. */
const STOPPED: unique symbol = Symbol("stopped");

function ignore(): void {}

/**
 * For callers without types: `"1000"` would otherwise be reported as an
 * invalid close code, which reads as if 1000 were one.
 */
function checkCloseArgumentTypes(code: unknown, reason: unknown): void {
  if (typeof code !== "number") {
    throw new TypeError(`close() takes a close code as a number; got ${describeValue(code)}`);
  }
  if (typeof reason !== "string") {
    throw new TypeError(`close() takes a reason as a string; got ${describeValue(reason)}`);
  }
}

/**
 * Throws what {@link Connection.close} would for a code and reason it can't
 * send, without a connection: `server.close()` checks them before it stops
 * anything, rather than finding out from each connection.
 */
export function checkCloseArguments(code: unknown, reason: unknown): void {
  checkCloseArgumentTypes(code, reason);
  const checkedCode = code as number;
  const checkedReason = reason as string;
  // As in close(): 1005 is the empty close frame, which has no room for a reason.
  if (checkedCode === CloseCode.NO_STATUS_RCVD) {
    if (checkedReason !== "") throw new InvalidState("cannot send a reason without a code");
    return;
  }
  new Close(checkedCode, checkedReason).serialize();
}

/**
 * Tells the source of a message given up on to stop: calls its iterator's
 * `return()`, as a `for await` loop would, but does not wait for it (an
 * async generator suspended at an `await` handles it only once it yields
 * again, which may be never) and drops its failure, which nobody could
 * handle: the message is given up on all the same.
 */
function stopSource(source: FragmentSource): void {
  try {
    const returned = source.return?.();
    if (isThenable(returned)) returned.then(undefined, ignore);
  } catch {
    // See above: a return() that throws changes nothing.
  }
}

/** A `send()` waiting for a fragmented message to be over; see {@link FragmentedSend.queue}. */
interface QueuedSend {
  readonly message: Sendable;
  readonly options: SendOptions | undefined;
  /** Its payload's bytes, counted in `bufferedAmount` meanwhile. */
  readonly size: number;
  /** Settles the queued `send()` as the send made once it is its turn settles. */
  readonly resolve: (sent: Promise<void>) => void;
}

/** A `close()` whose close frame waits for the messages sent before it; see `Connection.close()`. */
interface PendingClose {
  /** 1005 for a close frame without a code. */
  readonly code: number;
  readonly reason: string;
}

/**
 * A fragmented message being sent, which other sends wait for: RFC 6455
 * §5.4, "the fragments of one message MUST NOT be interleaved between the
 * fragments of another message".
 */
class FragmentedSend {
  /**
   * The sends made meanwhile, in order: sent once the message is over
   * (complete, or given up on), at once rather than a turn later, so that
   * no `send()` made in between can overtake them.
   */
  queue: QueuedSend[] = [];
  /** Bytes of the messages waiting for it: bytes waiting to be written, see `bufferedAmount`. */
  queuedBytes = 0;
  /** Whether it waits for its source: for a promise from `next()`, or for an item that is one. */
  waitingForSource = false;
  /** Settles the current {@link wait}; `null` before the first. */
  private settleWait: ((stopped: typeof STOPPED) => void) | null = null;

  /**
   * @param synchronous Whether the source is a sync iterable, whose items
   *   need no waiting: `close()` lets such a message finish.
   * @param endsByItself Whether its one wait ends without the application's
   *   help: a `Blob` being read. `close()` lets such a message finish too.
   */
  constructor(
    private readonly synchronous: boolean,
    private readonly endsByItself = false,
  ) {}

  /**
   * Whether a `close()` called now lets the message finish before its close
   * frame: one whose fragments are at hand (a sync iterable not waiting for
   * a promise), or a `Blob` being read, which ends by itself (`closeTimeout`
   * bounds both); not one that waits for an async source or a promise, which
   * may never settle.
   */
  get finishesBeforeClose(): boolean {
    return this.endsByItself || (this.synchronous && !this.waitingForSource);
  }

  /**
   * Waits for `pending` (the source's next item), unless {@link stop} is
   * called first: then resolves with {@link STOPPED}. A source that stalls
   * would otherwise hold the send until it yields again, whenever that is.
   */
  wait<T>(pending: PromiseLike<T>): Promise<T | typeof STOPPED> {
    this.waitingForSource = true;
    return new Promise((resolve, reject) => {
      const settle = (value: T | typeof STOPPED) => {
        this.waitingForSource = false;
        resolve(value);
      };
      this.settleWait = settle;
      // Settling later, after stop(), does nothing, and a rejection then is handled here.
      pending.then(settle, (error: unknown) => {
        this.waitingForSource = false;
        reject(error);
      });
    });
  }

  /** The message can no longer be completed (the connection is closing): ends the wait, if any. */
  stop(): void {
    const settle = this.settleWait;
    this.settleWait = null;
    settle?.(STOPPED);
  }
}

/**
 * The state of a connection that an idle one never needs: created on first
 * use (a close, a ping, a wait for drain, a fragmented send, a question
 * about the addresses), so that one field stands for a dozen until then.
 * A keepalive's ping needs it until its pong only: the connection lets go
 * of it then, if nothing else is in it (see {@link RareState.isUnused}).
 */
class RareState {
  /** Created by the first reader of {@link Connection.closed}; see there. */
  closedPromise: Promise<void> | null = null;
  resolveClosed: (() => void) | null = null;
  /** The first socket error (ECONNRESET, …), if any. */
  socketError: Error | null = null;
  closeTimer: NodeJS.Timeout | null = null;
  closeErrorCache: ConnectionClosed | null = null;
  /** Pings awaiting their pong, oldest first. */
  pings: Map<string, PendingPing> | null = null;
  drainWaiter: Promise<void> | null = null;
  /** Settles {@link drainWaiter}: resolves it, or rejects it with a {@link Rejection}. */
  settleDrain: ((outcome: undefined | Rejection) => void) | null = null;
  /** Set while a fragmented message is being sent; other sends wait for it. */
  fragmentedSend: FragmentedSend | null = null;
  /** Set while the close frame of a `close()` waits for the messages sent before it. */
  pendingClose: PendingClose | null = null;
  /** The sends being handed over, while `handOver()` runs; see there. */
  handingOver: QueuedSend[] | null = null;
  /** The local address, copied on first use or before the socket closes; `undefined` until then. */
  local: AddressInfo | null | undefined = undefined;
  /** The remote address, copied on first use; `undefined` until then. */
  remote: AddressInfo | null | undefined = undefined;

  /**
   * Whether every field is back to its initial value, so that the
   * connection can let go of this object. Lists every field above.
   */
  isUnused(): boolean {
    return (
      this.closedPromise === null &&
      this.resolveClosed === null &&
      this.socketError === null &&
      this.closeTimer === null &&
      this.closeErrorCache === null &&
      this.pings === null &&
      this.drainWaiter === null &&
      this.settleDrain === null &&
      this.fragmentedSend === null &&
      this.pendingClose === null &&
      this.handingOver === null &&
      this.local === undefined &&
      this.remote === undefined
    );
  }
}

/** Bits of {@link Connection}'s `flags`: one field for several booleans. */
const LOST = 1;
const FLUSH_SCHEDULED = 2;
const FAILURE_SCHEDULED = 4;
/** An empty write stands in for 'drain'; see `expectDrain()`. */
const PROBING_DRAIN = 8;
/** Bytes held back by the protocol wait for the socket's 'resume'; see `processEvents()`. */
const RESUME_AWAITED = 16;
/** Parsing yielded before a large frame and resumes in a microtask; see `resumeAfterReplies()`. */
const PARSING_RESUMES = 32;
/** The closing handshake began, and `startClosing()` ran. */
const CLOSING_STARTED = 64;
/** The socket is to read directly once a large payload arrives; see `readDirectlyWhenLarge()`. */
const DIRECT_READS_AWAITED = 128;

/**
 * The part of client and server connections that does not depend on the side.
 * Create them with `connect()` and `serve()`.
 */
export abstract class Connection implements AsyncIterable<Data>, AsyncDisposable {
  /** The sans-I/O protocol this connection drives. */
  readonly protocol: Protocol;

  /** The socket this connection owns: TCP, TLS or Unix domain. */
  protected readonly socket: Socket;
  /** The connection options, with their defaults applied. */
  protected readonly options: ResolvedConnectionOptions;
  /**
   * Received messages, waiting for the application. Reading from the socket
   * pauses while they pile up (the application reads too slowly), and
   * resumes when they no longer do. It never waits for written bytes to
   * drain: two peers that both did, each sending more than the other reads
   * at once, would wait for each other for good.
   */
  protected readonly messages: MessageAssembler;
  /**
   * Payload bytes sent in this turn of the event loop, which the protocol
   * holds until {@link flush} takes them: every write of one turn leaves in
   * one `write()` (one system call), not one per frame.
   */
  private pendingBytes = 0;
  /** LOST, FLUSH_SCHEDULED, FAILURE_SCHEDULED and PROBING_DRAIN bits. */
  private flags = 0;
  /** See {@link RareState}; `null` until first needed. */
  private rareState: RareState | null = null;
  /**
   * Sends the keepalive pings, when `pingInterval` asks for them: a field of
   * its own rather than in {@link RareState}, since keepalive is the default
   * and a connection with it would otherwise carry all of that state.
   */
  private keepalive: Keepalive | null = null;
  /** See {@link latency}: here, not in {@link RareState}, which keepalive pings would keep alive. */
  private lastLatency = 0;

  /** For the subclasses, which `connect()` and `serve()` create. */
  protected constructor(socket: Socket, protocol: Protocol, options: ResolvedConnectionOptions) {
    this.socket = socket;
    this.protocol = protocol;
    this.options = options;
    // write() hands each chunk's recycler to the socket as its callback.
    protocol.writesRecycled = true;
    // The socket itself is paused and resumed: no object stands between them.
    // The protocol inflates no more compressed messages than the queue has
    // room for (see onData()), and the rest once reading resumes (onResume()).
    this.messages = new MessageAssembler(options.maxQueue, socket);
    // Small frames go out at once: Nagle's algorithm would hold them back for
    // up to 40 ms waiting for an ACK.
    socket.setNoDelay(true);
    // The listeners are shared by every connection (per-connection closures
    // cost memory on idle connections): they find theirs on the socket.
    const owned = socket as OwnedSocket;
    owned[CONNECTION] = this;
    owned._destroy = destroyKeepingAddresses;
    if (socket.connecting) socket.once("connect", onSocketConnect);
    else this.captureRemoteAddress();
    socket.on("data", onSocketData);
    listenForEnd(socket, onSocketEnd);
    socket.on("error", onSocketError);
    socket.on("drain", onSocketDrain);
    // A socket handed over late (from an application's 'upgrade' listener
    // that awaited something, or one emitted as 'connection' by hand) may
    // have ended or closed already, with nobody listening: its events won't
    // come again. The connection learns of them a tick later, once the
    // subclass is built and its owner holds it.
    if (socket.destroyed) {
      // Lost now: no handshake completes and no handler runs on it.
      this.flags |= LOST;
      process.nextTick(() => this.onClose());
      return;
    }
    socket.on("close", onSocketClose);
    if (socket.readableEnded) process.nextTick(() => this.onEnd());
  }

  /** Resolves once the TCP connection is closed. Never rejects. */
  get closed(): Promise<void> {
    const rare = this.rare();
    if (rare.closedPromise === null) {
      rare.closedPromise = this.isLost
        ? RESOLVED
        : new Promise((resolve) => {
            rare.resolveClosed = resolve;
          });
    }
    return rare.closedPromise;
  }

  /** Round-trip time of the last ping answered, in milliseconds; 0 before the first. */
  get latency(): number {
    return this.lastLatency;
  }

  /**
   * The connection's state: CONNECTING, OPEN, CLOSING or CLOSED. CLOSING
   * from the call to `close()` on, also while its close frame waits for the
   * messages sent before it.
   */
  get state(): State {
    const state = this.protocol.state;
    return state === State.OPEN && this.rareState?.pendingClose ? State.CLOSING : state;
  }

  /** The close code received (1006 when the connection was lost), or `null` until closed. */
  get closeCode(): number | null {
    return this.protocol.closeCode;
  }

  /** The close reason received, or `null` until closed. */
  get closeReason(): string | null {
    return this.protocol.closeReason;
  }

  /** Local address of the socket; `null` for a Unix socket or before connecting. */
  get localAddress(): AddressInfo | null {
    this.captureLocalAddress();
    return this.rareState?.local ?? null;
  }

  /** Remote address of the socket; `null` for a Unix socket or before connecting. */
  get remoteAddress(): AddressInfo | null {
    const known = this.rareState?.remote;
    if (known !== undefined) return known;
    const socket = this.socket;
    if (socket.connecting) return null;
    // Node keeps what it read at connect time (see captureRemoteAddress()) after the close.
    const remote = addressOf(socket.remoteAddress, socket.remoteFamily, socket.remotePort);
    this.rare().remote = remote;
    return remote;
  }

  /** The subprotocol negotiated during the handshake, or `null`. */
  abstract get subprotocol(): string | null;

  /**
   * Bytes waiting to be written: messages sent during this turn of the event
   * loop and messages waiting for a fragmented message being sent, counted
   * by their payloads, plus what the socket still buffers, as frames. Above
   * `writeHighWaterMark`, `await send()` waits; an application that would
   * rather skip a message for a slow peer (a newer one is coming, as in a
   * live feed) can look here first, as `broadcast()` does.
   */
  get bufferedAmount(): number {
    if (this.isLost) return 0;
    const queuedBytes = this.rareState?.fragmentedSend?.queuedBytes ?? 0;
    return this.pendingBytes + this.socket.writableLength + queuedBytes;
  }

  // --- Receiving ---------------------------------------------------------

  /**
   * Resolves with the next message: a `string` for text, a `Uint8Array` (a
   * `Buffer`) over an `ArrayBuffer` for binary; see {@link ReceivedBytes}.
   *
   * @throws ConnectionClosedOK once the connection closed normally and every
   *   message was read; ConnectionClosedError when it closed otherwise.
   * @throws ConcurrencyError if another `recv()` is already waiting.
   */
  recv(options?: RecvOptions | null): Promise<Data> {
    return this.messages.get(options?.signal);
  }

  /**
   * Like {@link recv}, but always a string: binary messages are decoded as UTF-8.
   *
   * @throws TypeError if a binary message is not valid UTF-8; the message is
   *   consumed, as with Python's `recv(decode=True)`.
   */
  async recvText(options?: RecvOptions | null): Promise<string> {
    const message = await this.messages.get(options?.signal);
    return typeof message === "string" ? message : decodeBinaryAsText(message, "recvText()");
  }

  /** Like {@link recv}, but always bytes: text messages are encoded as UTF-8. */
  async recvBinary(options?: RecvOptions | null): Promise<ReceivedBytes> {
    const message = await this.messages.get(options?.signal);
    return typeof message === "string" ? Buffer.from(message, "utf8") : message;
  }

  /**
   * Reads the next message fragment by fragment, each as soon as its frame
   * arrives, as Python's `recv_streaming()` does: for a message too large to
   * hold at once, or to process while it arrives.
   *
   * ```ts
   * for await (const fragment of ws.recvStreaming()) file.write(fragment);
   * ```
   *
   * Text fragments are strings, a UTF-8 sequence split across frames coming
   * out whole in the later one; binary fragments are `Buffer`s over an
   * `ArrayBuffer` (see {@link ReceivedBytes}). A message already complete
   * comes out as one fragment, and the part of one assembled before the
   * call as one fragment, before the frames that follow. Empty fragments
   * are skipped, except that an empty message yields one empty fragment.
   *
   * The read starts with the first `next()` and lasts until the last
   * fragment was handed over: meanwhile other reads are refused. Leaving
   * the loop early (`break`, a throw) drops the rest of the message; later
   * messages are read as usual. Fragments waiting to be taken count against
   * `maxQueue`, like messages; `maxMessageSize` still limits the message as
   * a whole (`null` to stream messages of any size).
   *
   * With permessage-deflate, the first call switches the connection, for
   * good, to inflating each frame of a compressed message as it arrives
   * (rather than at its last frame), so compressed messages stream too; the
   * connection then keeps a decompressor through each compressed message.
   * Call it before the message starts arriving: frames held before come out
   * with the next one. Only zlib's fallback (where Node's internal zlib
   * handle isn't the one checked, outside Node 20 to 24) can't resume a
   * DEFLATE stream cut at a frame boundary: a compressed message then comes
   * out once complete, as one fragment.
   *
   * @param options `signal` aborts the wait for a fragment: with none of the
   *   message handed over yet, nothing is taken, and the next read gets the
   *   whole message; otherwise the rest of the message is dropped.
   * @throws ConnectionClosedOK, ConnectionClosedError as {@link recv} does,
   *   once the fragments received were handed over, also when the message
   *   was cut off by the closure.
   * @throws ConcurrencyError if another read is waiting, or from `recv()`,
   *   `recvText()`, `recvBinary()`, iteration and another `recvStreaming()`
   *   while this read lasts.
   */
  recvStreaming(options?: RecvOptions | null): AsyncIterableIterator<Data> {
    // From now on, compressed fragments are inflated as they arrive: this
    // connection's decompressor then stays open through each message (see
    // PerMessageDeflate.inflatesFragments), a cost only streaming needs.
    const extensions = this.protocol.extensions;
    for (let i = 0; i < extensions.length; i++) {
      const extension = extensions[i];
      if (extension instanceof PerMessageDeflate) extension.inflatesFragments = true;
    }
    return this.messages.stream(options?.signal);
  }

  /**
   * Iterates over incoming messages until the connection closes: the loop
   * ends quietly after a normal closure and throws ConnectionClosedError
   * after an abnormal one.
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<Data> {
    return this.messages.iterator();
  }

  // --- Sending -----------------------------------------------------------

  /**
   * Sends a message: a string as text, bytes (an `ArrayBuffer`, or any view
   * of one: `Uint8Array`, `Buffer`, another typed array, `DataView`) as
   * binary, or an iterable / async iterable of strings or of bytes as one
   * fragmented message, a frame per item. A view sends the bytes it covers
   * (`byteOffset` to `byteOffset + byteLength`), whatever its element type.
   *
   * A `Blob` (a `File` too) is sent as one binary message once its bytes are
   * read, in the order of the calls: the messages sent after it wait for it,
   * and so does a `close()`. If it can't be read (a file-backed `Blob` whose
   * file changed), the promise rejects with the reader's error, nothing is
   * sent, and the connection stays open.
   *
   * Resolves once the message is queued for writing: everything sent in one
   * turn of the event loop is written together at the end of that turn, in
   * order. When more than `writeHighWaterMark` bytes are waiting to be
   * written, it waits for them to drain first, so a fast sender cannot
   * outrun a slow peer.
   *
   * `{ compress: false }` skips compression for this message.
   *
   * Bytes are not copied, as with `socket.write()`: a buffer or view handed
   * to `send()` must not be modified afterwards, since it may still be
   * waiting to be written when the promise resolves.
   *
   * A fragmented message holds back the messages sent after it until it is
   * complete. A `close()` called meanwhile lets it finish, and the messages
   * held back, when its fragments are at hand (an array or another sync
   * iterable): its close frame waits for them, within `closeTimeout`. In
   * every other case the message can't be completed once the connection
   * starts closing (the peer closes, `close()` is called while the message
   * waits for an async source or a promise, the connection fails or is
   * lost): the send stops waiting for its source, even one that stalls, and
   * rejects once the connection is closed, as do the sends held back. The
   * source is told to stop: its iterator's `return()` is called, and
   * neither awaited nor reported if it fails. When it takes effect is up
   * to the source: an async generator suspended at an `await` handles it
   * only once it yields again (the value it yields is dropped), so its
   * `finally` blocks run then, or never if it never does. A source that
   * should stop at once must watch for the closure itself, e.g. through
   * {@link closed}.
   *
   * @throws ConnectionClosed when the connection is closing or closed.
   * @throws TypeError for a message that is neither a string, bytes, a
   *   `Blob` nor an iterable of strings or bytes, or a fragmented message
   *   whose items are not all strings or all bytes; the connection fails
   *   with 1011 if a fragment went out before.
   */
  send(message: Sendable, options?: SendOptions): Promise<void> {
    if (this.rareState?.fragmentedSend) return this.sendAfterFragmented(message, options);
    if (typeof message === "string")
      return this.sendEncoded(Buffer.from(message, "utf8"), true, options);
    // Before the iterables: a Float32Array, … is an iterable too, of
    // numbers, but it is sent as the bytes it covers.
    const bytes = bytesOf(message);
    if (bytes !== null) return this.sendEncoded(bytes, false, options);
    if (isBlob(message)) return this.sendBlob(message, options);
    if (isIterable(message)) return this.sendFragmented(message, options);
    return Promise.reject(
      new TypeError(
        `send() takes a string, bytes (${BYTES_TAKEN}), a Blob, or an iterable of strings or bytes; got ${kindOf(message)}`,
      ),
    );
  }

  /**
   * @internal Sends one message whose payload is `bytes`: the UTF-8 of a
   * text message (`isText`), or a binary one. What `send()` does once it
   * has the bytes; `broadcast()` calls it to encode a text message once for
   * every connection.
   */
  sendEncoded(bytes: Uint8Array, isText: boolean, options?: SendOptions): Promise<void> {
    if (this.rareState?.fragmentedSend) {
      // Queued as the message it was: a text message's bytes would go out as binary.
      const message = isText ? Buffer.prototype.toString.call(bytes, "utf8") : bytes;
      return this.sendAfterFragmented(message, options);
    }
    if (this.protocol.state !== State.OPEN) return this.throwNotOpen();
    // No async frame, no await: a send that needs no drain settles with a
    // shared promise, which is most of them.
    try {
      if (isText) this.protocol.sendText(bytes, true, options);
      else this.protocol.sendBinary(bytes, true, options);
    } catch (error) {
      return Promise.reject(error);
    }
    this.pendingBytes += bytes.length;
    this.scheduleFlush();
    return this.waitForDrain();
  }

  /**
   * Sends the bytes of `blob` as one binary message, once read, as `ws` and
   * the browser's `WebSocket` do. The sends made meanwhile wait for it, as
   * they do for a fragmented message, and so does a `close()`: reading a
   * `Blob` ends by itself, and `closeTimeout` bounds the wait. A `Blob` that
   * can't be read (one backed by a file that changed) rejects with the
   * reader's error: nothing went out, so the connection stays open and the
   * sends that waited go on.
   */
  private async sendBlob(blob: Blob, options: SendOptions | undefined): Promise<void> {
    if (this.protocol.state !== State.OPEN) return this.throwNotOpen();
    const rare = this.rare();
    const reading = new FragmentedSend(false, true);
    // Counted in bufferedAmount while it is read, as the bytes it will be.
    reading.queuedBytes = blob.size;
    rare.fragmentedSend = reading;
    let read: unknown;
    try {
      read = await reading.wait(Promise.resolve(blob.arrayBuffer()));
    } catch (error) {
      rare.fragmentedSend = null;
      this.handOver(reading);
      throw error;
    }
    rare.fragmentedSend = null;
    let sent: Promise<void>;
    if (read === STOPPED) {
      // The connection is closing: the message can't go out any more.
      sent = this.throwNotOpen();
    } else {
      const bytes = bytesOf(read);
      sent =
        bytes === null
          ? Promise.reject(new TypeError(`Blob.arrayBuffer() gave ${kindOf(read)}`))
          : this.sendEncoded(bytes, false, options);
    }
    // After this message, as they were sent after it.
    this.handOver(reading);
    return sent;
  }

  /**
   * Queues `message` until the fragmented message being sent is over,
   * counting its bytes in {@link bufferedAmount} meanwhile, so that
   * `broadcast()` stops queueing behind a fragmented message at
   * `writeHighWaterMark`. A fragmented message whose source stalls may
   * never complete: it is given up on when the connection closes, and the
   * queued sends then reject. See {@link handOver}.
   */
  private sendAfterFragmented(message: Sendable, options?: SendOptions): Promise<void> {
    const rare = this.rareState!;
    // After close(), also while its close frame waits for the messages sent before it.
    if (this.protocol.state !== State.OPEN || rare.pendingClose !== null) {
      return this.throwNotOpen();
    }
    const fragmented = rare.fragmentedSend!;
    const size = byteSize(message);
    fragmented.queuedBytes += size;
    return new Promise((resolve) => {
      fragmented.queue.push({ message, options, size, resolve });
    });
  }

  /**
   * Sends, in order, what waited for a fragmented message that is over
   * (complete, or given up on), then the close frame of a `close()` that
   * waited for them. Synchronously: a send made meanwhile can't overtake
   * them. A queued fragmented message that starts holds back the rest.
   */
  private handOver(fragmented: FragmentedSend): void {
    const rare = this.rareState!;
    const queue = fragmented.queue;
    fragmented.queue = [];
    fragmented.queuedBytes = 0;
    const outer = rare.handingOver;
    if (outer !== null) {
      // A fragmented message handed over below ended as it started (an empty
      // iterable, a first item refused): what was queued behind it meanwhile
      // goes after the rest, and the close frame after all of them.
      for (const queued of queue) outer.push(queued);
      return;
    }
    rare.handingOver = queue;
    try {
      for (let i = 0; i < queue.length; i++) {
        const next = rare.fragmentedSend;
        if (next !== null) {
          const rest = queue.slice(i);
          for (const queued of rest) next.queuedBytes += queued.size;
          next.queue = next.queue.length === 0 ? rest : rest.concat(next.queue);
          return;
        }
        const queued = queue[i]!;
        queued.resolve(this.send(queued.message, queued.options));
      }
    } finally {
      rare.handingOver = null;
    }
    if (rare.pendingClose !== null && rare.fragmentedSend === null) this.sendPendingClose();
  }

  /**
   * Sends a text message.
   *
   * @throws TypeError (the promise rejects) unless `text` is a string: for
   *   callers without types, bytes would otherwise go out as a binary message.
   */
  sendText(text: string, options?: SendOptions): Promise<void> {
    if (typeof text !== "string") {
      return Promise.reject(new TypeError(`sendText() takes a string; got ${kindOf(text)}`));
    }
    return this.send(text, options);
  }

  /**
   * Sends a binary message: the bytes of an `ArrayBuffer`, those a view
   * of one covers (a typed array of any element type, a `DataView`), or
   * those of a `Blob`, as with {@link send}.
   *
   * @throws TypeError (the promise rejects) unless `data` is bytes or a
   *   `Blob`: for callers without types, a string would otherwise go out as
   *   a text message.
   */
  sendBinary(data: ArrayBufferView | ArrayBufferLike | Blob, options?: SendOptions): Promise<void> {
    if (isBlob(data)) return this.send(data, options);
    const bytes = bytesOf(data);
    if (bytes === null) {
      return Promise.reject(
        new TypeError(`sendBinary() takes bytes (${BYTES_TAKEN}) or a Blob; got ${kindOf(data)}`),
      );
    }
    return this.send(bytes, options);
  }

  private async sendFragmented(
    fragments: Iterable<unknown> | AsyncIterable<unknown>,
    options: SendOptions | undefined,
  ): Promise<void> {
    const rare = this.rare();
    const isAsync = Symbol.asyncIterator in fragments;
    const fragmented = new FragmentedSend(!isAsync);
    rare.fragmentedSend = fragmented;
    // The source's iterator while `return()` is owed to it should the message
    // be given up on; not while its next() runs, as one that throws is done.
    let owed: FragmentSource | null = null;
    let kind: "text" | "binary" | null = null;
    // A high surrogate that ended the last string, waiting for its low one; see below.
    let highSurrogate = "";
    try {
      const source: FragmentSource = isAsync
        ? (fragments as AsyncIterable<unknown>)[Symbol.asyncIterator]()
        : (fragments as Iterable<unknown>)[Symbol.iterator]();
      for (;;) {
        owed = source;
        // A close() waits for the messages sent before it, but not for an
        // async source (see close()): its close frame goes out first.
        if (isAsync && rare.pendingClose !== null) this.sendPendingClose();
        // Closing: nothing more is asked of the source.
        if (this.protocol.state !== State.OPEN) break;
        owed = null;
        const next = source.next();
        let step: IteratorResult<unknown> | typeof STOPPED;
        if (isThenable(next)) {
          // Only a sync iterator that breaks its protocol gets here with a close waiting.
          if (this.sendPendingCloseRatherThanWait()) {
            owed = source;
            break;
          }
          step = await fragmented.wait(next);
        } else {
          step = next;
        }
        owed = source;
        if (step === STOPPED) break;
        if (step.done) {
          owed = null;
          break;
        }
        // As with `for await`, the items of a sync iterable may be promises;
        // a close() waiting for this message does not wait for them.
        let item = step.value;
        if (!isAsync && isThenable(item)) {
          if (this.sendPendingCloseRatherThanWait()) break;
          item = await fragmented.wait(item);
        }
        if (item === STOPPED) break;
        // Typed by send()'s signature, checked below for callers without types.
        const isText = typeof item === "string";
        let bytes: Uint8Array | null;
        if (typeof item === "string") {
          if (kind === "binary")
            throw new TypeError("a fragmented message mixes strings and bytes");
          // RFC 6455 §5.6: the message is UTF-8 as a whole, not each frame. A
          // string may end between the two halves of a surrogate pair (one
          // split by code units, `"x😀".split("")`): encoded on its own, each
          // half would become U+FFFD. The high one waits for the next string,
          // as in WHATWG's TextEncoderStream.
          let text = highSurrogate === "" ? item : highSurrogate + item;
          const last = text.charCodeAt(text.length - 1);
          if (last >= 0xd800 && last <= 0xdbff) {
            highSurrogate = text.slice(-1);
            text = text.slice(0, -1);
          } else {
            highSurrogate = "";
          }
          bytes = Buffer.from(text, "utf8");
        } else {
          bytes = bytesOf(item);
          if (bytes === null) {
            throw new TypeError(
              `fragments must be strings or bytes (${BYTES_TAKEN}); got ${kindOf(item)}`,
            );
          }
          if (kind === "text") throw new TypeError("a fragmented message mixes strings and bytes");
        }
        if (this.protocol.state !== State.OPEN) break;
        if (kind === null) {
          kind = isText ? "text" : "binary";
          if (isText) this.protocol.sendText(bytes, false, options);
          else this.protocol.sendBinary(bytes, false, options);
        } else {
          this.protocol.sendContinuation(bytes, false);
        }
        this.pendingBytes += bytes.length;
        this.scheduleFlush();
        await this.waitForDrain();
      }
      if (owed !== null || this.protocol.state !== State.OPEN) {
        // The connection is closing, the message can't be completed: the
        // source is told to stop at once, the error waits for the closure.
        if (owed !== null) stopSource(owed);
        owed = null;
        await this.throwNotOpen();
      }
      if (kind !== null) {
        // A high surrogate that ends the message has no low one: U+FFFD, as
        // any lone surrogate becomes in UTF-8.
        const last = highSurrogate === "" ? new Uint8Array(0) : Buffer.from(highSurrogate, "utf8");
        this.protocol.sendContinuation(last, true);
        this.pendingBytes += last.length;
        this.scheduleFlush();
      }
    } catch (error) {
      if (owed !== null) stopSource(owed);
      // A message cut short cannot be finished: RFC 6455 §5.4 leaves no way
      // to abandon it but closing the connection. With the application's
      // close() waiting for it, by that close frame, as the application
      // asked, rather than a failure (1011) of the message's making.
      if (kind !== null && this.protocol.state === State.OPEN) {
        if (rare.pendingClose !== null) {
          this.sendPendingClose();
        } else {
          this.protocol.fail(CloseCode.INTERNAL_ERROR, "");
          this.afterProtocolStep();
        }
      }
      throw error;
    } finally {
      rare.fragmentedSend = null;
      this.handOver(fragmented);
    }
    return this.waitForDrain();
  }

  /**
   * Sends the close frame of a `close()` that waits for the messages sent
   * before it, if any, as the current one is about to wait for its source;
   * whether it did.
   */
  private sendPendingCloseRatherThanWait(): boolean {
    if (this.rareState?.pendingClose == null) return false;
    this.sendPendingClose();
    return true;
  }

  /**
   * Sends the close frame a `close()` held back: the messages sent before it
   * are out, or one of them waits for its source. Nothing, if the connection
   * started closing otherwise meanwhile (the peer closed, it failed, it was lost).
   */
  private sendPendingClose(): void {
    const rare = this.rareState!;
    const { code, reason } = rare.pendingClose!;
    rare.pendingClose = null;
    if (this.protocol.state !== State.OPEN || this.isLost) return;
    this.sendClose(code, reason);
  }

  /** Sends a close frame and starts the closing handshake; see {@link close}. */
  private sendClose(code: number, reason: string): void {
    if (code === CloseCode.NO_STATUS_RCVD) {
      // The core's sendClose() without a code sends the empty close frame,
      // and refuses a reason, which has no place without a code.
      this.protocol.sendClose(undefined, reason);
    } else {
      this.protocol.sendClose(code, reason);
    }
    this.afterProtocolStep();
  }

  /**
   * Sends a ping and resolves with the round-trip time in milliseconds once
   * the matching pong arrives. `data` is a string (sent as UTF-8) or bytes
   * (an `ArrayBuffer`, a typed array, a `DataView`: the bytes it covers);
   * without it, 4 random bytes identify the ping.
   *
   * @throws ConcurrencyError if a ping with the same data is awaiting its pong.
   * @throws ConnectionClosed when the connection is closing or closed.
   * @throws TypeError for `data` that is neither a string nor bytes.
   * @throws InvalidState for `data` over 125 bytes (RFC 6455 §5.5).
   */
  async ping(data?: string | ArrayBufferView | ArrayBufferLike): Promise<number> {
    const payload =
      data === undefined
        ? globalThis.crypto.getRandomValues(new Uint8Array(4))
        : controlPayload("ping", data);
    const key = asBuffer(payload).toString("latin1");
    if (this.rareState?.pings?.has(key)) {
      throw new ConcurrencyError("already waiting for a pong with the same data");
    }
    if (this.state !== State.OPEN) await this.throwNotOpen();
    this.protocol.sendPing(payload);
    this.scheduleFlush();
    const rare = this.rare();
    let pings = rare.pings;
    if (pings === null) {
      pings = new Map();
      rare.pings = pings;
    }
    return new Promise<number>((resolve, reject) => {
      pings.set(key, { sentAt: performance.now(), resolve, reject });
    });
  }

  /**
   * Sends an unsolicited pong (RFC 6455 §5.5.3: a unidirectional heartbeat)
   * carrying `data`, a string or bytes as for {@link ping}.
   *
   * @throws ConnectionClosed when the connection is closing or closed.
   * @throws TypeError for `data` that is neither a string nor bytes.
   * @throws InvalidState for `data` over 125 bytes (RFC 6455 §5.5).
   */
  async pong(data: string | ArrayBufferView | ArrayBufferLike = new Uint8Array(0)): Promise<void> {
    const payload = controlPayload("pong", data);
    if (this.state !== State.OPEN) await this.throwNotOpen();
    this.protocol.sendPong(payload);
    this.scheduleFlush();
  }

  // --- Closing -----------------------------------------------------------

  /**
   * Performs the closing handshake with `code` and `reason` and resolves once
   * the TCP connection is closed, waiting at most `closeTimeout` for the peer.
   * Closing a connection that is already closing or closed just waits.
   *
   * A fragmented message from an array or another sync iterable being sent
   * is finished first, and so is a `Blob` being read, and so are the
   * messages queued behind them: the close frame waits for them (RFC 6455
   * §5.5.1: "An endpoint MAY delay sending a Close frame until its current
   * message is sent"), the connection's {@link state} is CLOSING meanwhile,
   * and `closeTimeout` runs from now.
   * One that waits for an async source or a promise is left unfinished.
   *
   * `close(1005)` sends a close frame without a code, which the peer reports
   * as 1005 ("no status received"): RFC 6455 §7.4.1 reserves 1005 for that
   * report, so it never appears on the wire.
   *
   * Messages already received can still be read. Once the closing handshake
   * has started, the connection reads on until the peer's close frame even
   * if they are not: messages that arrive while `maxQueue` messages wait to
   * be read are dropped, and so is every message after them.
   *
   * @throws TypeError for a code that isn't a number (`"1000"`) or a reason
   *   that isn't a string.
   * @throws InvalidState for a code that may not be sent (only 1000–1003,
   *   1007–1014 and 3000–4999 may, and 1005 without a reason), a reason
   *   longer than 123 bytes in UTF-8, or a reason with 1005.
   */
  async close(code: number = CloseCode.NORMAL_CLOSURE, reason = ""): Promise<void> {
    checkCloseArgumentTypes(code, reason);
    const rare = this.rareState;
    if (this.protocol.state === State.OPEN && !this.isLost && !rare?.pendingClose) {
      const fragmented = rare?.fragmentedSend;
      if (rare && fragmented?.finishesBeforeClose) {
        // Its fragments are at hand, or it is a Blob being read: the close
        // frame waits for it and the sends queued behind it (see above).
        // handOver() sends it after them, or sendFragmented() when a
        // message would wait for its source. A bad code is refused now, as
        // it would be at once. The close timer bounds the wait: a peer that
        // doesn't read could hold the message forever.
        checkCloseArguments(code, reason);
        rare.pendingClose = { code, reason };
        this.armCloseTimer();
        this.readOnToClose();
      } else {
        this.sendClose(code, reason);
      }
    } else if (this.protocol.state === State.CONNECTING && !this.isLost) {
      this.socket.destroy();
    }
    await this.closed;
  }

  /**
   * Drops the TCP connection at once, without the closing handshake: for a
   * peer that misbehaves or does not answer, when waiting up to
   * `closeTimeout` for its close frame is not wanted. What was not written
   * yet is discarded. The connection ends as abnormally closed (1006) on
   * both sides, unless it had already closed; readers get a
   * `ConnectionClosedError`. {@link state} is CLOSING at once, so sends
   * reject, and {@link closed} resolves once the socket is closed. Does
   * nothing on a connection that is closed.
   *
   * RFC 6455 §7.1.1: "To _Close the WebSocket Connection_, an endpoint
   * closes the underlying TCP connection"; without a close frame received,
   * the close code is 1006 (§7.1.5). Prefer {@link close}, which tells the
   * peer why.
   */
  terminate(): void {
    if (this.isLost) return;
    this.socket.destroy();
    // The socket reports its close a tick later. Meanwhile nothing can be
    // written: a send(), pong() or close() in this tick must not look done.
    if (this.protocol.state === State.OPEN) this.protocol.state = State.CLOSING;
  }

  /** `await using` support: closes with 1000. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /**
   * The error describing how the connection closed, for `recv()` and
   * `send()`. Built on demand, once the connection is closed: an `Error`
   * captures a stack trace, which a connection that closes normally while
   * its handler iterates never needs.
   */
  protected closeError(): ConnectionClosed {
    const cached = this.rareState?.closeErrorCache;
    if (cached) return cached;
    const { closeRcvd, closeSent, closeRcvdThenSent } = this.protocol;
    const cause = this.protocol.parserExc ?? this.socketError ?? undefined;
    const ErrorClass = this.closedOK() ? ConnectionClosedOK : ConnectionClosedError;
    const error = new ErrorClass(
      closeRcvd,
      closeSent,
      closeRcvdThenSent,
      cause ? { cause } : undefined,
    );
    if (this.isLost) this.rare().closeErrorCache = error;
    return error;
  }

  /** Whether both close frames carried a normal code: iteration then ends quietly. */
  private closedOK(): boolean {
    const { closeRcvd, closeSent } = this.protocol;
    return (
      closeRcvd !== null &&
      closeSent !== null &&
      OK_CLOSE_CODES.has(closeRcvd.code) &&
      OK_CLOSE_CODES.has(closeSent.code)
    );
  }

  // --- Plumbing ----------------------------------------------------------

  /** Handles a handshake event (Request or Response); frames are handled here. */
  protected abstract handleHandshakeEvent(event: Event): void;

  /** Called once the TCP connection closed, after the connection cleaned up. */
  protected onConnectionLost(): void {}

  /** Starts keepalive pings; called when the connection opens. */
  protected startKeepalive(): void {
    const { pingInterval, pingTimeout } = this.options;
    if (pingInterval === null || this.isLost) return;
    this.keepalive = new Keepalive(pingInterval, pingTimeout, this, onPongTimeout);
  }

  /** Whether the TCP connection is closed. */
  protected get lost(): boolean {
    return this.isLost;
  }

  private get isLost(): boolean {
    return (this.flags & LOST) !== 0;
  }

  /** Where the logs go. */
  protected get logger(): Logger {
    return this.options.logger;
  }

  /**
   * @internal `message`, followed by which connection it is about, for logs
   * that many connections share: "keepalive ping timeout (203.0.113.7:51234)".
   */
  logMessage(message: string): string {
    const about = this.logContext();
    return about === "" ? message : `${message} (${about})`;
  }

  /** Which connection this is, in a log: the peer's address and port; "" when unknown. */
  protected logContext(): string {
    const remote = this.remoteAddress;
    if (remote === null) return "";
    return remote.address.includes(":")
      ? `[${remote.address}]:${remote.port}`
      : `${remote.address}:${remote.port}`;
  }

  /** The first socket error (ECONNRESET, …), if any. */
  protected get socketError(): Error | null {
    return this.rareState?.socketError ?? null;
  }

  /** The state an idle connection doesn't need, created now if it wasn't. */
  private rare(): RareState {
    this.rareState ??= new RareState();
    return this.rareState;
  }

  /**
   * Writes what the protocol produced (pongs, close frames, a handshake
   * response, and any sends of this turn before them) and arms the close
   * timer if a close is expected. Written now rather than at the end of the
   * turn: a tick scheduled here would run before the handlers that answer
   * the messages just received, and take a write of its own anyway.
   */
  protected afterProtocolStep(): void {
    this.flush();
    if ((this.flags & CLOSING_STARTED) === 0 && this.protocol.closeExpected()) this.startClosing();
  }

  /**
   * Once the closing handshake has begun: reads on to the peer's close frame
   * whatever the queue holds (RFC 6455 §5.5.1 has each side wait for the
   * other's), and bounds the wait. An application that stopped reading (a
   * handler that returned, a client closing) must not leave that frame unread
   * behind a full queue until closeTimeout.
   */
  private startClosing(): void {
    this.flags |= CLOSING_STARTED;
    const observer = closingObservers.get(this);
    if (observer !== undefined) {
      closingObservers.delete(this);
      observer();
    }
    // A fragmented message can't be completed any more: its send() stops
    // waiting for a source that may never yield again.
    this.rareState?.fragmentedSend?.stop();
    this.armCloseTimer();
    this.readOnToClose();
  }

  /**
   * Reads on to the peer's close frame whatever the queue holds, from the
   * moment this side means to close: messages past `maxQueue` are dropped
   * rather than paused for. A peer blocked on its own writes, waiting for us
   * to read, and us waiting for it to read what precedes our close frame,
   * would otherwise wait for each other until closeTimeout.
   */
  private readOnToClose(): void {
    this.messages.drainForClose();
    const protocol = this.protocol;
    // Bytes held back unparsed while the queue was full may hold the close frame.
    const held = protocol.decodedMessageBudget === 0;
    protocol.decodedMessageBudget = -1;
    if (held) {
      protocol.resumeParsing();
      this.processEvents();
    }
  }

  /** Processes the events the protocol parsed, then writes its output. */
  protected processEvents(): void {
    const events = this.protocol.eventsReceived();
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      if (event instanceof Object && "opcode" in event) {
        // The rest would follow a message lost: the connection failed.
        if (!this.handleFrame(event as Frame)) break;
      } else {
        this.handleHandshakeEvent(event);
      }
    }
    this.afterProtocolStep();
    if (this.protocol.parsingYielded) this.resumeAfterReplies();
    if (this.protocol.decodedMessageBudget === 0 && (this.flags & RESUME_AWAITED) === 0) {
      if (this.messages.room > 0) {
        // The budget went to messages that took no room in the queue (the
        // rest of one a streaming read left, dropped; a streamed message's
        // last frame that inflated to nothing): nothing paused the socket, so
        // no 'resume' would come. The bytes held back are parsed on now.
        this.onResume();
      } else {
        // The queue is full, so the socket is paused: once it resumes, the
        // bytes held back are parsed before anything read after them. Listened
        // to only then, as an idle connection's socket keeps no listener for it.
        this.flags |= RESUME_AWAITED;
        this.socket.once("resume", onSocketResume);
      }
    }
    const protocol = this.protocol;
    if (
      (protocol.failurePending || protocol.closeReplyPending) &&
      (this.flags & FAILURE_SCHEDULED) === 0
    ) {
      // Let the application answer the messages that preceded the protocol
      // error or the peer's close frame (its handlers run in the microtasks
      // before setImmediate), then fail, or answer the close frame.
      this.flags |= FAILURE_SCHEDULED;
      setImmediate(failPending, this);
    }
  }

  /** Hands `frame` on; `false` when its message can't be delivered, which fails the connection. */
  private handleFrame(frame: Frame): boolean {
    const opcode = frame.opcode;
    if (opcode <= Opcode.BINARY) {
      try {
        this.messages.put(frame);
      } catch (error) {
        // Thrown from here, it would end the process.
        if ((error as { code?: unknown } | null)?.code === "ERR_STRING_TOO_LONG") {
          // A text message longer than the longest string V8 makes (2^29 - 24
          // characters), which only `maxMessageSize: null` lets in.
          this.logger.warn(this.logMessage("received a message too big to deliver"), error);
          // RFC 6455 §7.4.1: 1009 "a message that is too big for it to process".
          this.protocol.fail(CloseCode.MESSAGE_TOO_BIG, "message too big to deliver");
        } else {
          this.logger.error(this.logMessage("unexpected error while delivering a message"), error);
          this.protocol.fail(CloseCode.INTERNAL_ERROR, "");
        }
        return false;
      }
    } else if (opcode === Opcode.PONG) {
      this.acknowledgePings(frame.data);
    }
    return true;
  }

  /** RFC 6455 §5.5.3: a pong answers its ping; it also settles every earlier ping. */
  private acknowledgePings(data: Uint8Array): void {
    const pings = this.rareState?.pings;
    if (!pings) return;
    const key = asBuffer(data).toString("latin1");
    const matched = pings.get(key);
    if (matched === undefined) return;
    const now = performance.now();
    for (const [pendingKey, ping] of pings) {
      pings.delete(pendingKey);
      ping.resolve(now - ping.sentAt);
      if (pendingKey === key) break;
    }
    this.lastLatency = now - matched.sentAt;
    // A map kept empty between keepalive pings, and the rare state holding
    // it, would cost an idle connection more than making them for each ping.
    if (pings.size === 0) {
      const rare = this.rareState!;
      rare.pings = null;
      if (rare.isUnused()) this.rareState = null;
    }
  }

  /**
   * Writes what the protocol produced at the end of the current turn of the
   * event loop: an echo of 64 messages that arrived in one read leaves in
   * one write, and the protocol joins their small frames into one chunk.
   * A tick runs after the microtasks in which handlers answer the messages
   * of one read, so their sends share the write; `setImmediate()` batches as
   * well (the CPU per message measured the same) but writes later, after
   * every other socket's callbacks.
   */
  private scheduleFlush(): void {
    if ((this.flags & FLUSH_SCHEDULED) !== 0) return;
    this.flags |= FLUSH_SCHEDULED;
    process.nextTick(flushConnection, this);
  }

  /**
   * Hands the protocol's output to the socket, in order. An empty chunk is
   * the protocol's request to half-close: what precedes it is written first.
   */
  private flush(): void {
    const chunks = this.protocol.dataToSend();
    this.pendingBytes = 0;
    const count = chunks.length;
    const socket = this.socket;
    if (count === 0) return;
    if (socket.destroyed) {
      giveBackUnwritten(chunks, 0, count);
      return;
    }
    let start = 0;
    for (let i = 0; i < count; i++) {
      if (chunks[i]!.length !== 0) continue;
      this.write(chunks, start, i);
      socket.end();
      start = i + 1;
    }
    this.write(chunks, start, count);
    const protocol = this.protocol;
    if (!protocol.pongsDeferred && socket.writableLength > this.options.writeHighWaterMark) {
      // The peer is not reading what we write. Its pings must not add a pong
      // each to the backlog: until it drains, only the latest gets one. The
      // application's own sends wait in `await send()`, and what is read
      // waits in the queue, bounded by maxQueue, so reading goes on: a peer
      // that reads only once its own writes drained gets to read ours.
      protocol.pongsDeferred = true;
      this.expectDrain();
    }
  }

  /**
   * Makes sure {@link onDrain} runs once the socket's buffer is written. The
   * socket emits 'drain' only after its own limit was reached (16 KiB by
   * default); under a lower writeHighWaterMark, the callback of an empty
   * write says when the bytes before it are out.
   */
  private expectDrain(): void {
    const socket = this.socket;
    if ((this.flags & PROBING_DRAIN) !== 0 || socket.writableNeedDrain || socket.writableEnded) {
      return;
    }
    this.flags |= PROBING_DRAIN;
    socket.write(EMPTY, () => {
      this.flags &= ~PROBING_DRAIN;
      // A destroyed socket calls back the writes it discarded: not a drain.
      if (!socket.destroyed) this.onDrain();
    });
  }

  /**
   * Writes `chunks[from..to)` with one system call, and gives back to the
   * protocol's shared slab the chunks that nothing holds afterwards (see
   * `releaseChunk()`): those that were copied, and all of them when the
   * socket took every byte at once. Each chunk is given back once, here.
   */
  private write(chunks: Uint8Array[], from: number, to: number): void {
    const socket = this.socket;
    const count = to - from;
    if (count === 0) return;
    if (socket.writableEnded) {
      giveBackUnwritten(chunks, from, to);
      return;
    }
    // Bytes already waiting in the socket: these will wait too, and a view of
    // a shared slab would keep all 64 KiB of it alive meanwhile, for frames
    // of other connections as well. A peer that stopped reading could then
    // pin one slab per small frame queued for it, far beyond writeHighWaterMark.
    const backedUp = socket.writableLength > 0;
    if (count === 1) {
      const chunk = chunks[from]!;
      const copied = backedUp && isPooled(chunk);
      socket.write(copied ? copyOf(chunk) : chunk, recyclerOf(chunk));
      // Written at once (the bytes are in the kernel) or copied: nothing holds it.
      if (copied || socket.writableLength === 0) releaseChunk(chunk);
      return;
    }
    let bytes = 0;
    for (let i = from; i < to; i++) bytes += chunks[i]!.length;
    if (bytes <= COALESCE_LIMIT) {
      // Copying a few KiB costs less than a write request per chunk.
      socket.write(
        Buffer.concat(from === 0 && to === chunks.length ? chunks : chunks.slice(from, to)),
      );
      for (let i = from; i < to; i++) releaseChunk(chunks[i]!);
      return;
    }
    // Corked writes leave in one writev(), without copying large payloads.
    // Views of one slab at most: if the kernel does not take every byte, the
    // socket keeps what it holds, and small frames interleaved with other
    // connections' (a broadcast) would otherwise keep one 64 KiB slab alive
    // per frame. Frames in any other slab are copied, each run of them into
    // one buffer: a broadcast's frames for one connection sit in as many slabs.
    let viewedSlab: ArrayBufferLike | null = backedUp ? COPY_EVERY_SLAB : null;
    let copiesFrom = -1;
    socket.cork();
    for (let i = from; i < to; i++) {
      const chunk = chunks[i]!;
      if (chunk.buffer !== viewedSlab && isPooled(chunk)) {
        if (viewedSlab !== null) {
          if (copiesFrom < 0) copiesFrom = i;
          continue;
        }
        viewedSlab = chunk.buffer;
      }
      if (copiesFrom >= 0) {
        writeCopies(socket, chunks, copiesFrom, i);
        copiesFrom = -1;
      }
      socket.write(chunk, recyclerOf(chunk));
    }
    if (copiesFrom >= 0) writeCopies(socket, chunks, copiesFrom, to);
    socket.uncork();
    if (viewedSlab !== null && viewedSlab !== COPY_EVERY_SLAB && socket.writableLength === 0) {
      // The socket took every byte: the views are free too (the copies were given back above).
      for (let i = from; i < to; i++) {
        const chunk = chunks[i]!;
        if (chunk.buffer === viewedSlab) releaseChunk(chunk);
      }
    }
  }

  private waitForDrain(): Promise<void> {
    const highWaterMark = this.options.writeHighWaterMark;
    if (this.isLost || this.pendingBytes + this.socket.writableLength <= highWaterMark) {
      return RESOLVED;
    }
    // Over the mark: hand the pending bytes to the socket now, so that what we wait
    // for is the socket's buffer alone, and 'drain' reports it.
    this.flush();
    // The socket took it all: no 'drain' to wait for, but not a settled
    // promise either. A loop of `await send()` resumes through microtasks
    // alone, and while the kernel keeps taking its bytes (a fast peer, or
    // compressible messages) it would never let the event loop run timers,
    // I/O or other connections. Waiting for the next turn once per
    // writeHighWaterMark bytes keeps the loop fair, at no cost below it.
    if (this.socket.writableLength <= highWaterMark) return nextTurn();
    const rare = this.rare();
    if (rare.drainWaiter === null) {
      rare.drainWaiter = new Promise((resolve) => {
        rare.settleDrain = resolve;
      });
      this.expectDrain();
    }
    return rare.drainWaiter;
  }

  /**
   * Settles the sends waiting for 'drain': they resolve once the socket
   * drained, or closed after writing everything (a socket that is ending
   * emits 'finish', not 'drain'). A socket that closed before writing
   * everything discarded the rest: they reject with the close error.
   */
  private releaseDrainWaiters(): void {
    const rare = this.rareState;
    if (rare === null || rare.settleDrain === null) return;
    const settle = rare.settleDrain;
    rare.drainWaiter = null;
    rare.settleDrain = null;
    const discarded = this.isLost && !this.socket.writableFinished;
    settle(discarded ? new Rejection(this.closeError()) : undefined);
  }

  /**
   * @param borrowed whether `chunk` lies in the read buffer that sockets
   *   reading directly share (see `direct-reads.ts`): parsed there when it
   *   starts a large frame, copied first otherwise.
   */
  private onData(chunk: Uint8Array, borrowed = false): void {
    try {
      const protocol = this.protocol;
      protocol.decodedMessageBudget = this.messages.room;
      if (!borrowed) protocol.receiveData(chunk);
      else if (!protocol.receiveBorrowedData(chunk)) protocol.receiveData(copyOfRead(chunk));
    } catch (error) {
      // Only possible after the end of the stream, which Node does not do.
      this.logger.error(this.logMessage("unexpected error while receiving data"), error);
      this.socket.destroy();
      return;
    }
    this.processEvents();
  }

  /**
   * @internal Has the socket, which a `net.Server` accepted, read the rest
   * of a large payload straight into its memory from the first one on, as
   * a client's socket does (see `direct-reads.ts`). Until then it reads as
   * Node has it read: a read that doesn't go into a payload is copied out of
   * the buffer shared by such sockets, which costs more than Node's own read
   * once reads are a few KiB (1 KiB messages pipelined on 256 connections
   * went 5-10% slower).
   */
  readDirectlyWhenLarge(): void {
    this.flags |= DIRECT_READS_AWAITED;
  }

  /**
   * Switches the socket to direct reads if the protocol is assembling a
   * large payload now, and the socket can (it isn't paused, …): otherwise
   * at a later read.
   */
  private readDirectlyIfLarge(): void {
    const region = this.protocol.receiveBuffer();
    if (region !== null && readDirectly(this.socket, onDirectRead, protocolOf, region)) {
      this.flags &= ~DIRECT_READS_AWAITED;
    }
  }

  /** Writes what was queued this turn, unless it was written since the flush was scheduled. */
  private flushIfScheduled(): void {
    if ((this.flags & FLUSH_SCHEDULED) === 0) return;
    this.flags &= ~FLUSH_SCHEDULED;
    this.flush();
  }

  /**
   * Parsing stopped after a message, before a large frame (see
   * `yieldBeforeLargeFrames`): it resumes in a microtask queued after the
   * application's, which were queued as the message was delivered. What the
   * application sent by then is written first, so that its answer to a
   * message leaves before the large frame behind it is unmasked and copied.
   */
  private resumeAfterReplies(): void {
    if ((this.flags & PARSING_RESUMES) !== 0) return;
    this.flags |= PARSING_RESUMES;
    queueMicrotask(() => {
      this.flags &= ~PARSING_RESUMES;
      if (this.isLost) return;
      this.flushIfScheduled();
      const protocol = this.protocol;
      protocol.decodedMessageBudget = this.messages.room;
      protocol.resumeParsing();
      this.processEvents();
    });
  }

  /** The peer half-closed the connection: the protocol learns of it. */
  protected onEnd(): void {
    this.protocol.decodedMessageBudget = this.messages.room;
    this.protocol.receiveEof();
    this.processEvents();
  }

  /**
   * Reading resumed: the bytes the protocol held back when the queue had no
   * room for more inflated messages are parsed first, before the socket
   * delivers what followed them.
   */
  private onResume(): void {
    this.flags &= ~RESUME_AWAITED;
    if (this.protocol.decodedMessageBudget !== 0) return;
    if (mayParseHeldBatch()) {
      this.parseHeldBatch();
      return;
    }
    // Enough for this turn: the rest waits for the next one, and so does the
    // socket, so that no read lands behind the held bytes meanwhile.
    this.socket.pause();
    setImmediate(resumeHeldParsing, this);
  }

  /** Parses the bytes held back for the queue, within the room it has now. */
  private parseHeldBatch(): void {
    const protocol = this.protocol;
    protocol.decodedMessageBudget = this.messages.room;
    protocol.resumeParsing();
    this.processEvents();
  }

  /**
   * Parses the bytes held back for the queue, within the room it has now,
   * then lets the socket read again once they are all parsed.
   */
  private resumeHeldParsing(): void {
    if (this.isLost) return;
    if (this.protocol.decodedMessageBudget === 0) {
      mayParseHeldBatch();
      this.parseHeldBatch();
    }
    // Out of room again, the queue paused reading, and its 'resume' comes back here.
    if (this.protocol.decodedMessageBudget !== 0) this.messages.resumeReading();
  }

  private onDrain(): void {
    const protocol = this.protocol;
    if (protocol.pongsDeferred) {
      // RFC 6455 §5.5.2: the pong of the latest ping received meanwhile, if any.
      protocol.pongsDeferred = false;
      this.flush();
    }
    this.releaseDrainWaiters();
  }

  private onClose(): void {
    this.flags |= LOST;
    this.pendingBytes = 0;
    const rare = this.rareState;
    if (rare?.closeTimer) {
      clearTimeout(rare.closeTimer);
      rare.closeTimer = null;
    }
    if (this.keepalive !== null) {
      this.keepalive.stop();
      this.keepalive = null;
    }
    this.protocol.state = State.CLOSED;
    this.messages.closeLazily(() => this.closeError(), this.closedOK());
    const pings = rare?.pings;
    if (pings && pings.size > 0) {
      const error = this.closeError();
      for (const ping of pings.values()) ping.reject(error);
      pings.clear();
    }
    this.releaseDrainWaiters();
    // A fragmented message whose source stalled: it stops waiting for the
    // source, and once it gave up, the sends queued behind it reject.
    rare?.fragmentedSend?.stop();
    if (rare) rare.pendingClose = null;
    this.onConnectionLost();
    if (rare?.resolveClosed) {
      rare.resolveClosed();
      rare.resolveClosed = null;
    }
  }

  /**
   * Copies the socket's local address: on first use, or just before the
   * socket closes, since Node forgets it then. Asking the kernel costs a
   * system call, which most connections never need.
   */
  private captureLocalAddress(): void {
    const socket = this.socket;
    if (socket.connecting || this.rareState?.local !== undefined) return;
    this.rare().local =
      this.knownLocalAddress() ??
      addressOf(socket.localAddress, socket.localFamily, socket.localPort);
  }

  /**
   * The socket's local address when it is known without asking the kernel,
   * else `null`: see `ServerConnection`.
   */
  protected knownLocalAddress(): AddressInfo | null {
    return null;
  }

  /**
   * Has Node read the remote address while the peer is surely connected: the
   * kernel forgets it once the peer resets the connection. Node keeps it on
   * the socket, and answers from there after the close; the connection
   * copies it only when asked, see {@link remoteAddress}.
   */
  private captureRemoteAddress(): void {
    void this.socket.remoteAddress;
  }

  /** Arms the close timer, unless it runs already (since `close()` held back its close frame). */
  private armCloseTimer(): void {
    const timeout = this.options.closeTimeout;
    if (timeout === null || this.isLost || this.rareState?.closeTimer) return;
    // A deadline: a close frame and a FIN that came in time but sit unread after a stall count.
    const timer = setDeadline(closeTimedOut, timeout, this);
    timer.unref();
    this.rare().closeTimer = timer;
  }

  /**
   * Throws because the connection is not open. While it is closing, waits for
   * the closing handshake to finish first, so the error says how it ended.
   */
  private async throwNotOpen(): Promise<never> {
    if (this.protocol.state === State.CONNECTING) {
      throw new InvalidState("connection is not open yet");
    }
    await this.closed;
    throw this.closeError();
  }

  // Shared listeners and callbacks: defined in the class, so they reach
  // private members, and shared by every connection, so an idle one holds no
  // closures. The socket's listeners find their connection on the socket.
  static {
    onSocketData = function (this: Socket, chunk: Buffer): void {
      const connection = (this as OwnedSocket)[CONNECTION];
      connection.onData(chunk);
      // Last: the switch must come after anything that may pause the socket (see readDirectly()).
      if ((connection.flags & DIRECT_READS_AWAITED) !== 0) connection.readDirectlyIfLarge();
    };
    onDirectRead = function (this: Socket, bytesRead: number, buffer: Uint8Array): boolean {
      const connection = (this as OwnedSocket)[CONNECTION];
      try {
        const bytes = bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead);
        connection.onData(bytes, isSharedReadBuffer(buffer));
      } catch (error) {
        // Node asks for the next buffer only after a callback that returned:
        // no read may land in this one again.
        this.destroy();
        throw error;
      }
      return true;
    };
    onSocketConnect = function (this: Socket): void {
      (this as OwnedSocket)[CONNECTION].captureRemoteAddress();
    };
    onSocketEnd = function (this: Socket): void {
      (this as OwnedSocket)[CONNECTION].onEnd();
    };
    onSocketError = function (this: Socket, error: Error): void {
      // ECONNRESET, EPIPE and the like: 'close' follows and reports the closure.
      (this as OwnedSocket)[CONNECTION].rare().socketError ??= error;
    };
    onSocketClose = function (this: Socket): void {
      (this as OwnedSocket)[CONNECTION].onClose();
    };
    onSocketDrain = function (this: Socket): void {
      (this as OwnedSocket)[CONNECTION].onDrain();
    };
    onSocketResume = function (this: Socket): void {
      (this as OwnedSocket)[CONNECTION].onResume();
    };
    destroyKeepingAddresses = function (this: Socket, error, callback): void {
      (this as OwnedSocket)[CONNECTION].captureLocalAddress();
      Object.getPrototypeOf(this)._destroy.call(this, error, callback);
    };
    flushConnection = (connection) => {
      connection.flushIfScheduled();
    };
    resumeHeldParsing = (connection) => {
      connection.resumeHeldParsing();
    };
    failPending = (connection) => {
      connection.flags &= ~FAILURE_SCHEDULED;
      if (connection.isLost) return;
      connection.protocol.failPending();
      connection.protocol.replyToClose();
      connection.processEvents();
    };
    keepaliveTimedOut = (connection) => {
      // Closing, or about to be (close() waits for a message to go out).
      if (connection.state !== State.OPEN) return;
      connection.logger.warn(
        connection.logMessage("keepalive ping timeout; failing the connection"),
      );
      connection.protocol.fail(CloseCode.INTERNAL_ERROR, "keepalive ping timeout");
      connection.afterProtocolStep();
    };
    closeTimedOut = (connection) => {
      // Closing on its own since the timer fired, by what the peer had sent
      // in time: its FIN read, ours handed to the kernel ('close' comes later).
      // Mostly destroyed by now; the rest is for a half-close still queued.
      const socket = connection.socket;
      if (
        socket.destroyed ||
        (socket.readableEnded && socket.writableEnded && socket.writableLength === 0)
      ) {
        return;
      }
      connection.logger.debug(connection.logMessage("close timeout; dropping the TCP connection"));
      connection.socket.destroy();
    };
  }
}

/**
 * `net.connect(options)`, for a socket that a connection will own, whose
 * reads land straight in the large payload being assembled while there is
 * one: see `direct-reads.ts`.
 */
export function connectReadingDirectly(options: NetConnectOpts): Socket {
  return connectDirectly(options, onDirectRead, protocolOf);
}

/** Where a socket that reads directly reads: as its connection's protocol says. */
const protocolOf: TargetOf = (socket) => (socket as Partial<OwnedSocket>)[CONNECTION]?.protocol;
