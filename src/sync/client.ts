/**
 * The blocking client: `connect(uri)` returns once the opening handshake is
 * done, `send()` once the message is handed over, `recv()` once a message
 * arrived, the way the seed's chapter 2 describes them.
 *
 * Node has no blocking sockets, so a worker thread owns the socket and runs
 * the async client; this thread sleeps with `Atomics.wait` until the worker
 * reports what it waits for. See docs/topics/sync.md.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import type { AddressInfo } from "node:net";
import { CloseCode } from "../core/close-codes.js";
import { kindOf } from "../core/describe-value.js";
import {
  ConnectionClosed,
  ConnectionClosedOK,
  InvalidState,
  TimeoutError,
} from "../core/errors.js";
import { Headers } from "../core/headers.js";
import { Request } from "../core/request.js";
import { Response } from "../core/response.js";
import { State } from "../core/state.js";
import { checkConnectArguments } from "../node/client.js";
import { type Data, decodeBinaryAsText, type ReceivedBuffer } from "../node/messages.js";
import {
  checkOptionNames,
  type ListsEveryKey,
  type OptionNames,
  optionNames,
} from "../node/option-names.js";
import { BYTES_TAKEN, bytesOf } from "../node/sendable-bytes.js";
import { reviveError } from "./errors.js";
import { deadlineAfter, Link } from "./link.js";
import {
  type ConnectOptions,
  checkBlockingOptionNames,
  toWorkerOptions,
  writeHighWaterMark,
} from "./options.js";
import { transferableBytes, unwireData, type WireData } from "./wire.js";

/** Options of a blocking call. */
export interface BlockingOptions {
  /**
   * Longest time to block, in milliseconds; `undefined` or `null` for no
   * limit. On expiry the call throws `TimeoutError` and the connection is
   * unaffected.
   */
  timeout?: number | null | undefined;
}

/** Options of {@link ClientConnection.recv}. */
export interface RecvOptions extends BlockingOptions {}

/** Options of {@link ClientConnection.send}. */
export interface SendOptions extends BlockingOptions {
  /**
   * `false` sends this message uncompressed even when compression was
   * negotiated, e.g. for data that is already compressed (images, archives).
   * Default: `true`; messages under the compression threshold are never compressed.
   */
  compress?: boolean | undefined;
}

/** Options of {@link ClientConnection.ping}. */
export interface PingOptions extends BlockingOptions {}

const RECV_OPTION_NAMES = ["timeout"] as const satisfies readonly (keyof RecvOptions)[];
true satisfies ListsEveryKey<RecvOptions, typeof RECV_OPTION_NAMES>;
const SEND_OPTION_NAMES = ["timeout", "compress"] as const satisfies readonly (keyof SendOptions)[];
true satisfies ListsEveryKey<SendOptions, typeof SEND_OPTION_NAMES>;
const PING_OPTION_NAMES = ["timeout"] as const satisfies readonly (keyof PingOptions)[];
true satisfies ListsEveryKey<PingOptions, typeof PING_OPTION_NAMES>;

// Checked on every call, unlike the async client's: a misspelled `timeout`
// would block for good, and the check (some 15 ns) is lost in the
// microseconds of a handover to the worker thread.
const RECV_OPTIONS: OptionNames = optionNames(RECV_OPTION_NAMES);
const SEND_OPTIONS: OptionNames = optionNames(SEND_OPTION_NAMES);
const PING_OPTIONS: OptionNames = optionNames(PING_OPTION_NAMES);

/**
 * A message for {@link ClientConnection.send}: a string (text), bytes
 * (binary), or an iterable of strings or of bytes sent as one fragmented
 * message, a frame per item. Bytes are an `ArrayBuffer` or any view of one:
 * a `Uint8Array` (a `Buffer`), another typed array, a `DataView`; a view
 * sends the bytes it covers. An iterable is typed with one kind of fragment,
 * as for the async client: one that mixes them fails at run time.
 */
export type Sendable =
  | string
  | ArrayBufferView
  | ArrayBufferLike
  | Iterable<string>
  | Iterable<ArrayBufferView | ArrayBufferLike>;

/** Payload, transfer list and size of a message about to be posted. */
interface Outgoing {
  readonly message: WireData | WireData[];
  readonly transfer: ArrayBuffer[];
  readonly size: number;
}

/**
 * `data` as it crosses to the worker thread, and its size in bytes; `null`
 * when `data` is neither a string nor bytes.
 */
function wireOne(data: unknown, transfer: ArrayBuffer[]): [WireData, number] | null {
  if (typeof data === "string") return [data, Buffer.byteLength(data)];
  const bytes = bytesOf(data);
  return bytes === null ? null : [wireBytes(bytes, transfer), bytes.byteLength];
}

/** `bytes` as they cross to the worker thread, in a buffer added to `transfer`. */
function wireBytes(bytes: Uint8Array, transfer: ArrayBuffer[]): ArrayBuffer {
  // The application keeps its buffer: copy the bytes the view covers once
  // (those only, not the rest of a larger buffer), then move the copy.
  const buffer = transferableBytes(bytes, false);
  transfer.push(buffer);
  return buffer;
}

function toOutgoing(message: Sendable): Outgoing {
  const transfer: ArrayBuffer[] = [];
  // Before the iterables: a Float32Array, … is an iterable too, of numbers,
  // but it is sent as the bytes it covers, as by the async client.
  const one = wireOne(message, transfer);
  if (one !== null) return { message: one[0], transfer, size: one[1] };
  if (typeof message !== "object" || message === null || !(Symbol.iterator in message)) {
    throw new TypeError(
      `send() takes a string, bytes (${BYTES_TAKEN}), or an iterable of them; got ${kindOf(message)}`,
    );
  }
  const fragments: WireData[] = [];
  let total = 0;
  let isText: boolean | null = null;
  for (const fragment of message as Iterable<unknown>) {
    const wired = wireOne(fragment, transfer);
    if (wired === null) {
      throw new TypeError(
        `fragments must be strings or bytes (${BYTES_TAKEN}); got ${kindOf(fragment)}`,
      );
    }
    const fragmentIsText = typeof fragment === "string";
    if (isText !== null && isText !== fragmentIsText) {
      throw new TypeError("a fragmented message mixes strings and bytes");
    }
    isText = fragmentIsText;
    fragments.push(wired[0]);
    total += wired[1];
  }
  return { message: fragments, transfer, size: total };
}

/**
 * A connection the application dropped without closing it is closed with
 * 1001 (going away) once garbage-collected, so its thread does not linger.
 */
const abandoned = new FinalizationRegistry<Link>((link) => link.abandon());

// The constructor of ClientConnection is private, so that the published
// typings offer applications no `new` (they get connections from connect());
// its static block, which may call it, sets this for connect().
let constructClientConnection: (link: Link, highWaterMark: number) => ClientConnection;

/**
 * A WebSocket connection whose calls block the calling thread. Open one with
 * {@link connect}; `using` closes it at the end of the block.
 */
export class ClientConnection implements Iterable<Data>, Disposable {
  /** The handshake request sent. */
  readonly request: Request;
  /** The handshake response received. */
  readonly response: Response;
  /** The subprotocol the server selected, or `null`. */
  readonly subprotocol: string | null;
  /** Local address of the socket; `null` for a Unix socket. */
  readonly localAddress: AddressInfo | null;
  /** Remote address of the socket; `null` for a Unix socket. */
  readonly remoteAddress: AddressInfo | null;
  /** Round-trip time of the last {@link ping} answered, in milliseconds; 0 before the first. */
  latency = 0;

  private readonly link: Link;
  private readonly highWaterMark: number;
  private closing = false;

  /** Not for applications: use {@link connect}. */
  private constructor(link: Link, highWaterMark: number) {
    this.link = link;
    this.highWaterMark = highWaterMark;
    const opened = link.opened!;
    this.subprotocol = opened.subprotocol;
    this.localAddress = opened.localAddress;
    this.remoteAddress = opened.remoteAddress;
    const { request, response } = opened;
    this.request = new Request(
      request.path,
      new Headers(request.headers),
      request.method,
      request.version,
    );
    this.response = new Response(
      response.status,
      response.reason,
      new Headers(response.headers),
      response.body,
    );
    abandoned.register(this, link, link);
  }

  /**
   * OPEN; CLOSING from the closing handshake on (a close frame received or
   * sent, {@link close} running, or the connection failing); CLOSED once the
   * TCP connection is closed.
   */
  get state(): State {
    const link = this.link;
    link.poll();
    if (link.closed !== null) return State.CLOSED;
    return this.closing || link.closing ? State.CLOSING : State.OPEN;
  }

  /** The close code received (1006 when the connection was lost), or `null` until closed. */
  get closeCode(): number | null {
    this.link.poll();
    return this.link.closed?.code ?? null;
  }

  /** The close reason received, or `null` until closed. */
  get closeReason(): string | null {
    this.link.poll();
    return this.link.closed?.reason ?? null;
  }

  // --- Receiving ---------------------------------------------------------

  /**
   * Blocks until the next message arrives and returns it: a `string` for
   * text, a `Buffer` for binary. Messages received before the connection
   * closed are still returned after it closed.
   *
   * @throws TimeoutError after `timeout` ms; the next message is not lost.
   * @throws ConnectionClosedOK once the connection closed normally and every
   *   message was read; ConnectionClosedError when it closed otherwise.
   * @throws TypeError for an unknown option (`timout`).
   */
  recv(options: RecvOptions = {}): Data {
    checkOptionNames(options, RECV_OPTIONS, "recv()");
    const deadline = deadlineAfter(options.timeout);
    const link = this.link;
    const ready = () => link.hasMessage || link.closed !== null;
    if (!link.waitUntil(ready, deadline)) {
      throw new TimeoutError("timed out waiting for a message");
    }
    const message = link.take();
    if (message !== undefined) return unwireData(message);
    throw reviveError(link.closed!.error, this.recv);
  }

  /**
   * Like {@link recv}, but always a string: binary messages are decoded as UTF-8.
   *
   * @throws TypeError if a binary message is not valid UTF-8; the message is
   *   consumed.
   */
  recvText(options: RecvOptions = {}): string {
    const message = this.recv(options);
    return typeof message === "string" ? message : decodeBinaryAsText(message, "recvText()");
  }

  /** Like {@link recv}, but always bytes: text messages are encoded as UTF-8. */
  recvBinary(options: RecvOptions = {}): ReceivedBuffer {
    const message = this.recv(options);
    return typeof message === "string" ? Buffer.from(message, "utf8") : (message as ReceivedBuffer);
  }

  /**
   * Iterates over incoming messages until the connection closes: the loop
   * ends quietly after a normal closure and throws ConnectionClosedError
   * after an abnormal one.
   */
  *[Symbol.iterator](): Iterator<Data> {
    for (;;) {
      let message: Data;
      try {
        message = this.recv();
      } catch (error) {
        if (error instanceof ConnectionClosedOK) return;
        throw error;
      }
      yield message;
    }
  }

  // --- Sending -----------------------------------------------------------

  /**
   * Sends a message: a string as text, bytes (an `ArrayBuffer`, or any view
   * of one: `Uint8Array`, `Buffer`, another typed array, `DataView`) as
   * binary, or an iterable of strings or of bytes as one fragmented message,
   * a frame per item. A view sends the bytes it covers (`byteOffset` to
   * `byteOffset + byteLength`), whatever its element type.
   *
   * Returns once the message is handed over to the worker thread, which
   * writes it in order; when more than `writeHighWaterMark` bytes are
   * waiting to be written, it blocks until they are, so a fast sender cannot
   * outrun a slow peer. The bytes are copied once: the caller may reuse its
   * buffer as soon as `send()` returns.
   *
   * `{ compress: false }` skips compression for this message, all its
   * fragments included.
   *
   * @throws ConnectionClosed when the connection is closed, or closing: then
   *   once it closed, to say how.
   * @throws TimeoutError when the bytes waiting to be written did not drain
   *   within `timeout` ms; the message was handed over and is still sent. Or
   *   when the connection was closing and did not close within `timeout` ms.
   * @throws TypeError for an unknown option (`compres`).
   */
  send(message: Sendable, options: SendOptions = {}): void {
    checkOptionNames(options, SEND_OPTIONS, "send()");
    const deadline = deadlineAfter(options.timeout);
    const outgoing = toOutgoing(message);
    const link = this.link;
    link.poll();
    if (link.closing && link.closed === null) {
      // RFC 6455 §5.5.1: "The application MUST NOT send any more data frames
      // after sending a Close frame." As Python's client does, wait for the
      // end (the worker bounds it by closeTimeout) to say how it closed.
      if (!link.waitUntil(() => link.closed !== null, deadline)) {
        throw new TimeoutError("timed out waiting for the closing connection to close");
      }
    }
    if (link.closed !== null) throw reviveError(link.closed.error, this.send);
    if (outgoing.size === 0 && Array.isArray(outgoing.message) && outgoing.message.length === 0) {
      return; // An empty iterable sends nothing, as with the async client.
    }
    const { message: wire, size, transfer } = outgoing;
    // As with the async client, only `false` turns compression off.
    const compress = options.compress !== false;
    if (!link.send(wire, size, compress, transfer, this.highWaterMark, deadline)) {
      throw new TimeoutError("timed out waiting for sent messages to be written");
    }
  }

  /** Sends a text message. */
  sendText(text: string, options: SendOptions = {}): void {
    if (typeof text !== "string") throw new TypeError("sendText() takes a string");
    this.send(text, options);
  }

  /**
   * Sends a binary message: the bytes of an `ArrayBuffer`, or those a view
   * of one covers (a typed array of any element type, a `DataView`).
   *
   * @throws TypeError unless `data` is bytes: for callers without types, a
   *   string would otherwise go out as a text message.
   */
  sendBinary(data: ArrayBufferView | ArrayBufferLike, options: SendOptions = {}): void {
    if (bytesOf(data) === null) {
      throw new TypeError(`sendBinary() takes bytes (${BYTES_TAKEN}); got ${kindOf(data)}`);
    }
    this.send(data, options);
  }

  /**
   * Sends a ping and blocks until the matching pong arrives; returns the
   * round-trip time in milliseconds, as measured by the worker on the wire.
   * Without `data`, 4 random bytes identify the ping; `data` may be a string
   * (sent as UTF-8) or bytes (an `ArrayBuffer`, a typed array, a `DataView`:
   * the bytes it covers), at most 125 bytes.
   *
   * @throws TypeError for `data` that is neither a string nor bytes.
   * @throws InvalidState for `data` over 125 bytes.
   * @throws TimeoutError after `timeout` ms without a pong.
   * @throws ConcurrencyError if a ping with the same data is awaiting its pong.
   * @throws ConnectionClosed when the connection is closed.
   * @throws TypeError for an unknown option.
   */
  ping(data?: string | ArrayBufferView | ArrayBufferLike, options: PingOptions = {}): number {
    checkOptionNames(options, PING_OPTIONS, "ping()");
    const deadline = deadlineAfter(options.timeout);
    // TypeError, as from the async client, before anything is copied.
    const bytes = data === undefined || typeof data === "string" ? null : bytesOf(data);
    if (data !== undefined && typeof data !== "string" && bytes === null) {
      throw new TypeError(`ping() takes a string or bytes (${BYTES_TAKEN}); got ${kindOf(data)}`);
    }
    const link = this.link;
    link.poll();
    if (link.closed !== null) throw reviveError(link.closed.error, this.ping);
    const size = typeof data === "string" ? Buffer.byteLength(data) : (bytes?.byteLength ?? 0);
    // RFC 6455 §5.5: "All control frames MUST have a payload length of 125
    // bytes or less"; the worker's protocol would say so too, after the copy.
    if (size > 125) throw new InvalidState("control frame payload exceeds 125 bytes");
    const transfer: ArrayBuffer[] = [];
    const wire =
      typeof data === "string" ? data : bytes === null ? null : wireBytes(bytes, transfer);
    const outcome = link.call((id) => ({ type: "ping", id, data: wire }), deadline);
    if (outcome === null) throw new TimeoutError("timed out waiting for a pong");
    if (!outcome.ok) {
      const error = reviveError(outcome.error, this.ping);
      // The worker reports the end of the connection after failing the ping:
      // wait for that report, so that `state` and `closeCode` agree with the error.
      if (error instanceof ConnectionClosed) link.waitUntil(() => link.closed !== null, deadline);
      throw error;
    }
    this.latency = outcome.value!;
    return this.latency;
  }

  // --- Closing -----------------------------------------------------------

  /**
   * Performs the closing handshake with `code` and `reason` and blocks until
   * the TCP connection is closed, at most `closeTimeout` ms for the peer;
   * then the worker thread ends. Closing a closed connection does nothing.
   *
   * Only 1000–1003, 1007–1014 and 3000–4999 may be sent, as integers.
   * `close(1005)` sends a close frame without a code, which the peer reports
   * as 1005 ("no status received"); it takes no reason.
   *
   * @throws InvalidState for a code that may not be sent (1006, 1015, a
   *   fraction, outside 1000–4999), a reason with 1005, or a reason longer
   *   than 123 bytes in UTF-8; the connection stays open.
   */
  close(code: number = CloseCode.NORMAL_CLOSURE, reason = ""): void {
    const link = this.link;
    link.poll();
    if (link.closed === null) {
      this.closing = true;
      try {
        const outcome = link.call(
          (id) => ({ type: "close", id, code, reason }),
          Number.POSITIVE_INFINITY,
        );
        if (outcome !== null && !outcome.ok && link.closed === null) {
          throw reviveError(outcome.error, this.close);
        }
        link.waitUntil(() => link.closed !== null);
      } finally {
        this.closing = false;
      }
    }
    abandoned.unregister(link);
    link.shutdown();
  }

  /** `using` support: closes with 1000. */
  [Symbol.dispose](): void {
    this.close();
  }

  static {
    constructClientConnection = (link, highWaterMark) => new ClientConnection(link, highWaterMark);
  }
}

/**
 * Connects to a WebSocket server and performs the opening handshake, blocking
 * the calling thread until it is done.
 *
 * ```ts
 * using client = connect("ws://127.0.0.1:8001");
 * client.sendText("Hello!");
 * console.log(client.recvText({ timeout: 5_000 }));
 * ```
 *
 * @throws InvalidUri for a URI that is not `ws://` or `wss://`, before any
 *   thread starts.
 * @throws TypeError for an unknown option (`pingIntervall`), naming the one
 *   meant when it is close, or an option that cannot be sent to another thread.
 * @throws InvalidHandshake (InvalidStatus, InvalidHeader, NegotiationError, …)
 *   when the server refuses or answers wrongly.
 * @throws TimeoutError after `openTimeout`; the socket's error (an `Error`
 *   whose `code` is e.g. `ECONNREFUSED`) when the TCP connection fails.
 */
export function connect(uri: string | URL, options: ConnectOptions = {}): ClientConnection {
  checkBlockingOptionNames(options);
  // The async client's checks, on this thread: before a thread is started,
  // and with the caller's stack.
  const { logger } = checkConnectArguments(uri, options);
  const link = new Link(String(uri), toWorkerOptions(options), logger);
  link.waitUntil(() => link.opened !== null || link.failure !== null);
  if (link.opened === null) {
    link.shutdown();
    throw reviveError(link.failure!, connect);
  }
  return constructClientConnection(link, writeHighWaterMark(options));
}
