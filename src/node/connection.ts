/**
 * A WebSocket connection over a Node socket: owns one `net.Socket` (or
 * `tls.TLSSocket`) and one sans-I/O {@link Protocol}, moves bytes between
 * them, and offers the application `send`, `recv`, `ping` and `close`.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import type { AddressInfo, Socket } from "node:net";
import { performance } from "node:perf_hooks";
import {
  ConcurrencyError,
  type ConnectionClosed,
  ConnectionClosedError,
  ConnectionClosedOK,
  InvalidState,
} from "../core/errors.js";
import type { MessageOptions } from "../core/extensions/base.js";
import { CloseCode, type Frame, Opcode } from "../core/frames.js";
import { type Event, type Protocol, State } from "../core/protocol.js";
import { Keepalive } from "./keepalive.js";
import type { Logger } from "./logger.js";
import { asBuffer, type Data, MessageAssembler } from "./messages.js";

export type { Data } from "./messages.js";

/** Options shared by client and server connections. All durations are in milliseconds. */
export interface ConnectionOptions {
  /**
   * Largest message accepted, in bytes (after decompression); `null` for no
   * limit. Default: 1 MiB. A larger message fails the connection with 1009.
   */
  maxMessageSize?: number | null;
  /**
   * Messages queued for `recv()` before reading from the socket pauses.
   * Default: 16. Reading resumes when the queue is down to a quarter of that.
   */
  maxQueue?: number;
  /**
   * Bytes buffered for writing above which `send()` waits for the socket to
   * drain, and reading pauses until it does. Default: 64 KiB.
   */
  writeHighWaterMark?: number;
  /** Time allowed for the opening handshake; `null` for none. Default: 10 s. */
  openTimeout?: number | null;
  /** Time allowed for the closing handshake and TCP close; `null` for none. Default: 10 s. */
  closeTimeout?: number | null;
  /** Interval between keepalive pings; `null` disables them. Default: 20 s. */
  pingInterval?: number | null;
  /** Time to wait for a keepalive pong before failing with 1011; `null` for no limit. Default: 20 s. */
  pingTimeout?: number | null;
  /** Where to log; `null` for nowhere. Default: errors and warnings to `console`. */
  logger?: Logger | null;
}

/** The options with their defaults applied. */
export interface ResolvedConnectionOptions {
  readonly maxMessageSize: number | null;
  readonly maxQueue: number;
  readonly writeHighWaterMark: number;
  readonly openTimeout: number | null;
  readonly closeTimeout: number | null;
  readonly pingInterval: number | null;
  readonly pingTimeout: number | null;
  readonly logger: Logger;
}

/** Default limits and timeouts, documented in docs/topics/security.md. */
export const DEFAULTS = {
  maxMessageSize: 1024 * 1024,
  maxQueue: 16,
  writeHighWaterMark: 64 * 1024,
  openTimeout: 10_000,
  closeTimeout: 10_000,
  pingInterval: 20_000,
  pingTimeout: 20_000,
} as const;

/** Applies defaults: `undefined` takes the default, `null` keeps "none". */
export function resolveConnectionOptions(
  options: ConnectionOptions,
  logger: Logger,
): ResolvedConnectionOptions {
  return {
    maxMessageSize:
      options.maxMessageSize === undefined ? DEFAULTS.maxMessageSize : options.maxMessageSize,
    maxQueue: options.maxQueue ?? DEFAULTS.maxQueue,
    writeHighWaterMark: options.writeHighWaterMark ?? DEFAULTS.writeHighWaterMark,
    openTimeout: options.openTimeout === undefined ? DEFAULTS.openTimeout : options.openTimeout,
    closeTimeout: options.closeTimeout === undefined ? DEFAULTS.closeTimeout : options.closeTimeout,
    pingInterval: options.pingInterval === undefined ? DEFAULTS.pingInterval : options.pingInterval,
    pingTimeout: options.pingTimeout === undefined ? DEFAULTS.pingTimeout : options.pingTimeout,
    logger,
  };
}

/** Options of one `recv()` call. */
export interface RecvOptions {
  /** Aborts the wait; the next message stays queued for a later call. */
  signal?: AbortSignal;
}

/** A message, or the fragments of one message, for `send()`. */
export type Sendable = Data | ArrayBuffer | Iterable<Data> | AsyncIterable<Data>;

/** Options of one `send()` call. */
export interface SendOptions extends MessageOptions {
  /**
   * `false` sends this message uncompressed even when compression was
   * negotiated, e.g. for data that is already compressed (images, archives).
   * Default: `true`; messages under the compression threshold are never compressed.
   */
  readonly compress?: boolean;
}

/** Close codes that make {@link ConnectionClosedOK} rather than an error. */
const OK_CLOSE_CODES = new Set<number>([
  CloseCode.NORMAL_CLOSURE,
  CloseCode.GOING_AWAY,
  CloseCode.NO_STATUS_RCVD,
]);

interface PendingPing {
  readonly sentAt: number;
  resolve(latency: number): void;
  reject(error: unknown): void;
}

/** Converts `ArrayBuffer` and views to the `Uint8Array` the protocol takes. */
function toBytes(data: Uint8Array | ArrayBuffer): Uint8Array {
  return data instanceof ArrayBuffer ? new Uint8Array(data) : data;
}

function isIterable(value: unknown): value is Iterable<Data> | AsyncIterable<Data> {
  return (
    typeof value === "object" &&
    value !== null &&
    (Symbol.iterator in value || Symbol.asyncIterator in value)
  );
}

/** Captures a socket's address while it is connected; after closing Node forgets it. */
function addressOf(
  address: string | undefined,
  family: string | undefined,
  port: number | undefined,
): AddressInfo | null {
  if (address === undefined) return null;
  return { address, family: family ?? "", port: port ?? 0 };
}

/**
 * The part of client and server connections that does not depend on the side.
 * Create them with `connect()` and `serve()`.
 */
export abstract class Connection implements AsyncIterable<Data>, AsyncDisposable {
  /** The sans-I/O protocol this connection drives. */
  readonly protocol: Protocol;
  /** Resolves once the TCP connection is closed. Never rejects. */
  readonly closed: Promise<void>;
  /** Round-trip time of the last ping answered, in milliseconds; 0 before the first. */
  latency = 0;
  private local: AddressInfo | null = null;
  private remote: AddressInfo | null = null;

  protected readonly socket: Socket;
  protected readonly options: ResolvedConnectionOptions;
  protected readonly logger: Logger;
  protected readonly messages: MessageAssembler;

  private resolveClosed!: () => void;
  private isLost = false;
  /** The first socket error (ECONNREFUSED, ECONNRESET, …), if any. */
  protected socketError: Error | null = null;
  private closeTimer: NodeJS.Timeout | null = null;
  private readonly pings = new Map<string, PendingPing>();
  private keepalive: Keepalive | null = null;
  private drainWaiter: Promise<void> | null = null;
  private resolveDrain: (() => void) | null = null;
  private pausedForQueue = false;
  private pausedForWrites = false;
  /** Set while a fragmented message is being sent; other sends wait for it. */
  private fragmentedSend: Promise<void> | null = null;

  constructor(socket: Socket, protocol: Protocol, options: ResolvedConnectionOptions) {
    this.socket = socket;
    this.protocol = protocol;
    this.options = options;
    this.logger = options.logger;
    if (socket.connecting) socket.once("connect", () => this.captureAddresses());
    else this.captureAddresses();
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
    this.messages = new MessageAssembler(options.maxQueue, {
      pause: () => {
        this.pausedForQueue = true;
        this.socket.pause();
      },
      resume: () => {
        this.pausedForQueue = false;
        if (!this.pausedForWrites) this.socket.resume();
      },
    });
    // Small frames go out at once: Nagle's algorithm would hold them back for
    // up to 40 ms waiting for an ACK.
    socket.setNoDelay(true);
    socket.on("data", this.onData);
    socket.on("end", this.onEnd);
    socket.on("error", this.onError);
    socket.on("close", this.onClose);
    socket.on("drain", this.onDrain);
  }

  /** The connection's state: CONNECTING, OPEN, CLOSING or CLOSED. */
  get state(): State {
    return this.protocol.state;
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
    return this.local;
  }

  /** Remote address of the socket; `null` for a Unix socket or before connecting. */
  get remoteAddress(): AddressInfo | null {
    return this.remote;
  }

  /** The subprotocol negotiated during the handshake, or `null`. */
  abstract get subprotocol(): string | null;

  // --- Receiving ---------------------------------------------------------

  /**
   * Resolves with the next message: a `string` for text, a `Uint8Array` (a
   * `Buffer`) for binary.
   *
   * @throws ConnectionClosedOK once the connection closed normally and every
   *   message was read; ConnectionClosedError when it closed otherwise.
   * @throws ConcurrencyError if another `recv()` is already waiting.
   */
  recv(options: RecvOptions = {}): Promise<Data> {
    return this.messages.get(options.signal);
  }

  /** Like {@link recv}, but always a string: binary messages are decoded as UTF-8. */
  async recvText(options: RecvOptions = {}): Promise<string> {
    const message = await this.messages.get(options.signal);
    return typeof message === "string" ? message : asBuffer(message).toString("utf8");
  }

  /** Like {@link recv}, but always bytes: text messages are encoded as UTF-8. */
  async recvBinary(options: RecvOptions = {}): Promise<Uint8Array> {
    const message = await this.messages.get(options.signal);
    return typeof message === "string" ? Buffer.from(message, "utf8") : message;
  }

  /**
   * Iterates over incoming messages until the connection closes: the loop
   * ends quietly after a normal closure and throws ConnectionClosedError
   * after an abnormal one.
   */
  async *[Symbol.asyncIterator](): AsyncIterator<Data> {
    for (;;) {
      let message: Data;
      try {
        message = await this.messages.get();
      } catch (error) {
        if (error instanceof ConnectionClosedOK) return;
        throw error;
      }
      yield message;
    }
  }

  // --- Sending -----------------------------------------------------------

  /**
   * Sends a message: a string as text, bytes (`Uint8Array`, `Buffer`,
   * `ArrayBuffer`) as binary, or an iterable / async iterable of strings or of
   * bytes as one fragmented message, a frame per item.
   *
   * Resolves once the socket has taken the bytes; when more than
   * `writeHighWaterMark` bytes are waiting to be written, it waits for them to
   * drain first, so a fast sender cannot outrun a slow peer.
   *
   * `{ compress: false }` skips compression for this message.
   *
   * @throws ConnectionClosed when the connection is closing or closed.
   */
  async send(message: Sendable, options?: SendOptions): Promise<void> {
    while (this.fragmentedSend !== null) await this.fragmentedSend;
    let bytes: Uint8Array;
    let isText: boolean;
    if (typeof message === "string") {
      bytes = Buffer.from(message, "utf8");
      isText = true;
    } else if (message instanceof Uint8Array || message instanceof ArrayBuffer) {
      bytes = toBytes(message);
      isText = false;
    } else if (isIterable(message)) {
      return this.sendFragmented(message, options);
    } else {
      throw new TypeError("send() takes a string, bytes, or an iterable of them");
    }
    if (this.protocol.state !== State.OPEN) await this.throwNotOpen();
    if (isText) this.protocol.sendText(bytes, true, options);
    else this.protocol.sendBinary(bytes, true, options);
    this.flush();
    return this.waitForDrain();
  }

  /** Sends a text message. */
  sendText(text: string, options?: SendOptions): Promise<void> {
    return this.send(text, options);
  }

  /** Sends a binary message. */
  sendBinary(data: Uint8Array | ArrayBuffer, options?: SendOptions): Promise<void> {
    return this.send(toBytes(data), options);
  }

  private async sendFragmented(
    fragments: Iterable<Data> | AsyncIterable<Data>,
    options: SendOptions | undefined,
  ): Promise<void> {
    let release!: () => void;
    this.fragmentedSend = new Promise((resolve) => {
      release = resolve;
    });
    let kind: "text" | "binary" | null = null;
    try {
      for await (const fragment of fragments) {
        const isText = typeof fragment === "string";
        if (kind !== null && (kind === "text") !== isText) {
          throw new TypeError("a fragmented message mixes strings and bytes");
        }
        if (!isText && !(fragment instanceof Uint8Array)) {
          throw new TypeError("fragments must be strings or bytes");
        }
        const bytes = isText ? Buffer.from(fragment, "utf8") : fragment;
        if (this.protocol.state !== State.OPEN) await this.throwNotOpen();
        if (kind === null) {
          kind = isText ? "text" : "binary";
          if (isText) this.protocol.sendText(bytes, false, options);
          else this.protocol.sendBinary(bytes, false, options);
        } else {
          this.protocol.sendContinuation(bytes, false);
        }
        this.flush();
        await this.waitForDrain();
      }
      if (kind !== null) {
        if (this.protocol.state !== State.OPEN) await this.throwNotOpen();
        this.protocol.sendContinuation(new Uint8Array(0), true);
        this.flush();
      }
    } catch (error) {
      // A message cut short cannot be finished: RFC 6455 §5.4 leaves no way
      // to abandon it but closing the connection.
      if (kind !== null && this.protocol.state === State.OPEN) {
        this.protocol.fail(CloseCode.INTERNAL_ERROR, "");
        this.afterProtocolStep();
      }
      throw error;
    } finally {
      this.fragmentedSend = null;
      release();
    }
    return this.waitForDrain();
  }

  /**
   * Sends a ping and resolves with the round-trip time in milliseconds once
   * the matching pong arrives. Without `data`, 4 random bytes identify it.
   *
   * @throws ConcurrencyError if a ping with the same data is awaiting its pong.
   * @throws ConnectionClosed when the connection is closing or closed.
   */
  async ping(data?: Data): Promise<number> {
    const payload =
      data === undefined
        ? globalThis.crypto.getRandomValues(new Uint8Array(4))
        : typeof data === "string"
          ? Buffer.from(data, "utf8")
          : data;
    const key = asBuffer(payload).toString("latin1");
    if (this.pings.has(key)) {
      throw new ConcurrencyError("already waiting for a pong with the same data");
    }
    if (this.protocol.state !== State.OPEN) await this.throwNotOpen();
    this.protocol.sendPing(payload);
    this.flush();
    return new Promise<number>((resolve, reject) => {
      this.pings.set(key, { sentAt: performance.now(), resolve, reject });
    });
  }

  /** Sends an unsolicited pong (RFC 6455 §5.5.3: a unidirectional heartbeat). */
  async pong(data: Data = new Uint8Array(0)): Promise<void> {
    if (this.protocol.state !== State.OPEN) await this.throwNotOpen();
    this.protocol.sendPong(typeof data === "string" ? Buffer.from(data, "utf8") : data);
    this.flush();
  }

  // --- Closing -----------------------------------------------------------

  /**
   * Performs the closing handshake with `code` and `reason` and resolves once
   * the TCP connection is closed, waiting at most `closeTimeout` for the peer.
   * Closing a connection that is already closing or closed just waits.
   *
   * @throws InvalidState for a code that may not be sent (1005, 1006, 1015,
   *   outside 1000–4999) or a reason longer than 123 bytes in UTF-8.
   */
  async close(code: number = CloseCode.NORMAL_CLOSURE, reason = ""): Promise<void> {
    if (this.protocol.state === State.OPEN && !this.isLost) {
      this.protocol.sendClose(code, reason);
      this.afterProtocolStep();
    } else if (this.protocol.state === State.CONNECTING && !this.isLost) {
      this.socket.destroy();
    }
    await this.closed;
  }

  /** `await using` support: closes with 1000. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** The error describing how the connection closed, for `recv()` and `send()`. */
  protected closeError(): ConnectionClosed {
    const { closeRcvd, closeSent, closeRcvdThenSent } = this.protocol;
    const ok =
      closeRcvd !== null &&
      closeSent !== null &&
      OK_CLOSE_CODES.has(closeRcvd.code) &&
      OK_CLOSE_CODES.has(closeSent.code);
    const cause = this.protocol.parserExc ?? this.socketError ?? undefined;
    const ErrorClass = ok ? ConnectionClosedOK : ConnectionClosedError;
    return new ErrorClass(closeRcvd, closeSent, closeRcvdThenSent, cause ? { cause } : undefined);
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
    this.keepalive = new Keepalive(pingInterval, pingTimeout, {
      ping: () => this.ping(),
      timeout: () => {
        if (this.protocol.state !== State.OPEN) return;
        this.logger.warn("keepalive ping timeout; failing the connection");
        this.protocol.fail(CloseCode.INTERNAL_ERROR, "keepalive ping timeout");
        this.afterProtocolStep();
      },
    });
  }

  /** Whether the TCP connection is closed. */
  protected get lost(): boolean {
    return this.isLost;
  }

  /** Writes what the protocol produced and arms the close timer if a close is expected. */
  protected afterProtocolStep(): void {
    this.flush();
    if (this.closeTimer === null && this.protocol.closeExpected()) this.armCloseTimer();
  }

  /** Processes the events the protocol parsed, then writes its output. */
  protected processEvents(): void {
    const events = this.protocol.eventsReceived();
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      if (event instanceof Object && "opcode" in event) this.handleFrame(event as Frame);
      else this.handleHandshakeEvent(event);
    }
    this.afterProtocolStep();
    if (this.protocol.failurePending && !this.failureScheduled) {
      // Let the application answer the messages that preceded the protocol
      // error (its handlers run in the microtasks before setImmediate), then fail.
      this.failureScheduled = true;
      setImmediate(this.failPending);
    }
  }

  private failureScheduled = false;

  private readonly failPending = (): void => {
    this.failureScheduled = false;
    if (this.isLost) return;
    this.protocol.failPending();
    this.processEvents();
  };

  private handleFrame(frame: Frame): void {
    const opcode = frame.opcode;
    if (opcode <= Opcode.BINARY) {
      this.messages.put(frame);
    } else if (opcode === Opcode.PONG) {
      this.acknowledgePings(frame.data);
    }
  }

  /** RFC 6455 §5.5.3: a pong answers its ping; it also settles every earlier ping. */
  private acknowledgePings(data: Uint8Array): void {
    const key = asBuffer(data).toString("latin1");
    const matched = this.pings.get(key);
    if (matched === undefined) return;
    const now = performance.now();
    for (const [pendingKey, ping] of this.pings) {
      this.pings.delete(pendingKey);
      ping.resolve(now - ping.sentAt);
      if (pendingKey === key) break;
    }
    this.latency = now - matched.sentAt;
  }

  private flush(): void {
    const chunks = this.protocol.dataToSend();
    const count = chunks.length;
    if (count === 0) return;
    const socket = this.socket;
    if (socket.destroyed) return;
    if (count > 1) socket.cork();
    for (let i = 0; i < count; i++) {
      const chunk = chunks[i]!;
      // An empty chunk is the protocol's request to half-close.
      if (chunk.length === 0) socket.end();
      else if (!socket.writableEnded) socket.write(chunk);
    }
    if (count > 1) socket.uncork();
    if (!this.pausedForWrites && socket.writableLength > this.options.writeHighWaterMark) {
      // The peer is not reading what we write (our pongs, echoes, …): stop
      // reading from it until it does, so its input cannot grow our buffers.
      this.pausedForWrites = true;
      socket.pause();
    }
  }

  private waitForDrain(): Promise<void> {
    if (this.socket.writableLength <= this.options.writeHighWaterMark || this.isLost) {
      return Promise.resolve();
    }
    if (this.drainWaiter === null) {
      this.drainWaiter = new Promise((resolve) => {
        this.resolveDrain = resolve;
      });
    }
    return this.drainWaiter;
  }

  private readonly onDrain = (): void => {
    if (this.pausedForWrites) {
      this.pausedForWrites = false;
      if (!this.pausedForQueue) this.socket.resume();
    }
    this.releaseDrainWaiters();
  };

  private releaseDrainWaiters(): void {
    const resolve = this.resolveDrain;
    this.drainWaiter = null;
    this.resolveDrain = null;
    resolve?.();
  }

  private readonly onData = (chunk: Buffer): void => {
    try {
      this.protocol.receiveData(chunk);
    } catch (error) {
      // Only possible after the end of the stream, which Node does not do.
      this.logger.error("unexpected error while receiving data", error);
      this.socket.destroy();
      return;
    }
    this.processEvents();
  };

  private readonly onEnd = (): void => {
    this.protocol.receiveEof();
    this.processEvents();
  };

  private readonly onError = (error: Error): void => {
    // ECONNRESET, EPIPE and the like: 'close' follows and reports the closure.
    this.socketError ??= error;
  };

  private readonly onClose = (): void => {
    this.isLost = true;
    if (this.closeTimer !== null) clearTimeout(this.closeTimer);
    this.keepalive?.stop();
    this.protocol.state = State.CLOSED;
    const error = this.closeError();
    this.messages.close(error);
    for (const ping of this.pings.values()) ping.reject(error);
    this.pings.clear();
    this.releaseDrainWaiters();
    this.onConnectionLost();
    this.resolveClosed();
  };

  /** Node forgets a socket's addresses once it closes: keep them for the connection's lifetime. */
  private captureAddresses(): void {
    const socket = this.socket;
    this.local = addressOf(socket.localAddress, socket.localFamily, socket.localPort);
    this.remote = addressOf(socket.remoteAddress, socket.remoteFamily, socket.remotePort);
  }

  private armCloseTimer(): void {
    const timeout = this.options.closeTimeout;
    if (timeout === null || this.isLost) return;
    this.closeTimer = setTimeout(() => {
      this.logger.debug("close timeout; dropping the TCP connection");
      this.socket.destroy();
    }, timeout);
    this.closeTimer.unref();
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
}
