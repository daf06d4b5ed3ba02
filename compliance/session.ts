/**
 * The fuzzer's end of one WebSocket connection: sends whatever a case asks,
 * byte-exact and chopped as asked; parses and checks what comes back; runs
 * the closing handshake the way the Autobahn fuzzer does; and records what
 * happened for the judge.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { setImmediate as afterIo } from "node:timers/promises";
import {
  type CloseExpectation,
  type Expected,
  type Observation,
  type Peer,
  type ReceivedMessage,
  type SendOptions,
  sameObservations,
} from "./case.js";
import { type Agreement, agreementHeader, MessageCodec, settingsFor } from "./deflate.js";
import type { OpenedSocket } from "./handshake.js";
import {
  closePayload,
  encodeFrame,
  FrameReader,
  type FrameSpec,
  randomMaskKey,
  WireError,
  type WireFrame,
  WireOpcode,
} from "./wire.js";

/** How one connection went, from the fuzzer's side. */
export interface SessionResult {
  readonly observations: readonly Observation[];
  /** The fuzzer sent the first close frame. */
  readonly closedByMe: boolean;
  /** The fuzzer closed the TCP connection (after a timeout, or as the server). */
  readonly droppedByMe: boolean;
  /** The fuzzer had to drop the connection because a timer ran out. */
  readonly timedOut: boolean;
  /** Close frames went both ways before the TCP connection closed. */
  readonly wasClean: boolean;
  /** Code of the close frame received; `null` for none or an empty one. */
  readonly remoteCloseCode: number | null;
  readonly remoteCloseReason: string | null;
  /** Code of the close frame the fuzzer sent; `null` for none or an empty one. */
  readonly localCloseCode: number | null;
  readonly socketError: string | null;
  readonly durationMs: number;
}

/** Timing and limits of a session. */
export interface SessionOptions {
  readonly role: "client" | "server";
  /** Multiplies every wait, so tests can run the cases faster. */
  readonly timeScale: number;
  /** Largest frame accepted from the implementation. */
  readonly maxPayload: number;
  readonly expected: Expected;
  readonly close: CloseExpectation;
  readonly suppressClose: boolean;
  /** The permessage-deflate agreement of the opening handshake, if any. */
  readonly deflate?: Agreement | null;
}

/**
 * Autobahn's `closeHandshakeTimeout` and `serverConnectionDropTimeout`: how
 * long the fuzzer waits for a close frame in reply, and for the server to
 * close the TCP connection after the closing handshake.
 */
const CLOSE_WAIT_MS = 1_000;

type State = "open" | "closing" | "closed";

/**
 * Yields a full turn of the event loop, poll phase included, so that a peer
 * in the same process reads what was just written before the next write:
 * Autobahn's `sync` and `chopsize` writes, which leave in separate TCP
 * segments. One `setImmediate` is not enough when the write happened in the
 * poll phase: the immediate runs before the next poll.
 */
async function nextLoopTurn(): Promise<void> {
  await afterIo();
  await afterIo();
}

/** One connection between the fuzzer and the implementation under test. */
export class Session implements Peer {
  readonly role: "client" | "server";
  /** Resolves once the TCP connection is closed. */
  readonly finished: Promise<void>;

  private readonly socket: OpenedSocket["socket"];
  private readonly options: SessionOptions;
  private readonly reader: FrameReader;
  private readonly startedAt = performance.now();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly observations: Observation[] = [];
  private state: State = "open";
  private closedByMe = false;
  private droppedByMe = false;
  private timedOut = false;
  private closeHandshakeDone = false;
  private remoteCloseCode: number | null = null;
  private remoteCloseReason: string | null = null;
  private localCloseCode: number | null = null;
  private socketError: string | null = null;
  private endedAt = 0;
  private corked = false;
  private fragments: Buffer[] | null = null;
  private fragmentsBinary = false;
  private fragmentsCompressed = false;
  private readonly codec: MessageCodec | null;
  /** Compressed messages being inflated; later messages wait for them, in order. */
  private inflating = 0;
  private inflated: Promise<void> = Promise.resolve();
  private readonly messages: ReceivedMessage[] = [];
  /** Called when the state changes or a message arrives. */
  private wakeWaiters: (() => void)[] = [];

  constructor(opened: OpenedSocket, options: SessionOptions) {
    this.role = options.role;
    this.options = options;
    this.socket = opened.socket;
    this.reader = new FrameReader(options.maxPayload);
    this.codec = options.deflate ? new MessageCodec(settingsFor(options.deflate, this.role)) : null;
    this.finished = new Promise((resolve) => {
      this.socket.once("close", () => {
        this.state = "closed";
        this.endedAt = performance.now();
        for (const timer of this.timers) clearTimeout(timer);
        this.timers.clear();
        this.codec?.close();
        this.wake();
        resolve();
      });
    });
    this.socket.on("data", (chunk: Buffer) => this.receive(chunk));
    this.socket.on("end", () => this.onEnd());
    this.socket.on("error", (error: Error) => {
      this.socketError ??= (error as NodeJS.ErrnoException).code ?? error.message;
    });
    if (opened.leftover.length > 0) this.receive(opened.leftover);
    this.socket.resume();
  }

  get isOpen(): boolean {
    return this.state === "open";
  }

  get compression(): string | null {
    return this.options.deflate ? agreementHeader(this.options.deflate) : null;
  }

  /**
   * RFC 6455 §1.4: after the closing handshake, further data is discarded;
   * so is everything after the fuzzer dropped the connection.
   */
  private get stopped(): boolean {
    return this.closeHandshakeDone || this.droppedByMe || this.state === "closed";
  }

  /** What happened, once {@link finished} resolved. */
  result(): SessionResult {
    return {
      observations: this.observations,
      closedByMe: this.closedByMe,
      droppedByMe: this.droppedByMe,
      timedOut: this.timedOut,
      wasClean: this.closeHandshakeDone && !this.timedOut,
      remoteCloseCode: this.remoteCloseCode,
      remoteCloseReason: this.remoteCloseReason,
      localCloseCode: this.localCloseCode,
      socketError: this.socketError,
      durationMs: (this.endedAt || performance.now()) - this.startedAt,
    };
  }

  /** Drops the connection at once: the run's last resort against a hung case. */
  abort(): void {
    this.drop(true);
  }

  // --- Peer: sending -----------------------------------------------------

  encode(frame: FrameSpec): Buffer {
    // RFC 6455 §5.3: a client masks every frame with a fresh random key.
    return encodeFrame(frame, this.role === "client" ? randomMaskKey() : null);
  }

  send(frame: FrameSpec, options: SendOptions = {}): Promise<void> {
    return this.sendRaw(this.encode(frame), options);
  }

  async sendRaw(bytes: Uint8Array, options: SendOptions = {}): Promise<void> {
    const { chopSize, sync } = options;
    if (chopSize !== undefined && chopSize > 0) {
      for (let offset = 0; offset < bytes.length; offset += chopSize) {
        if (this.socket.destroyed) return;
        this.write(bytes.subarray(offset, offset + chopSize), true);
        await nextLoopTurn();
      }
    } else if (sync) {
      this.write(bytes, true);
      await nextLoopTurn();
    } else {
      this.write(bytes, false);
    }
  }

  async sendMessage(
    payload: Uint8Array | string,
    options: { binary?: boolean; fragmentSize?: number; compress?: boolean } & SendOptions = {},
  ): Promise<void> {
    let bytes: Buffer =
      typeof payload === "string" ? Buffer.from(payload, "utf8") : Buffer.from(payload);
    const opcode = options.binary ? WireOpcode.BINARY : WireOpcode.TEXT;
    // RFC 7692 §6: RSV1 on the first frame marks a compressed message, which
    // is then fragmented like any other.
    const compressed = options.compress === true && this.codec !== null;
    if (compressed) bytes = await this.codec!.compress(bytes);
    const rsv = compressed ? 4 : 0;
    const size = options.fragmentSize ?? bytes.length;
    if (size <= 0 || size >= bytes.length) {
      await this.send({ opcode, payload: bytes, rsv }, options);
      return;
    }
    for (let offset = 0; offset < bytes.length; offset += size) {
      const end = Math.min(bytes.length, offset + size);
      await this.send(
        {
          opcode: offset === 0 ? opcode : WireOpcode.CONT,
          payload: bytes.subarray(offset, end),
          fin: end === bytes.length,
          rsv: offset === 0 ? rsv : 0,
        },
        options,
      );
    }
  }

  close(code?: number, reason: Uint8Array | string = ""): Promise<void> {
    return this.closeWithPayload(closePayload(code, reason));
  }

  async closeWithPayload(payload: Uint8Array): Promise<void> {
    if (this.state !== "open") return;
    this.state = "closing";
    this.closedByMe = true;
    this.localCloseCode = payload.length >= 2 ? (payload[0]! << 8) | payload[1]! : null;
    this.wake();
    await this.send({ opcode: WireOpcode.CLOSE, payload });
    // Without a close frame in reply, the closing handshake times out.
    this.after(
      CLOSE_WAIT_MS,
      () => {
        if (!this.closeHandshakeDone) this.drop(true);
      },
      true,
    );
  }

  // --- Peer: timing ------------------------------------------------------

  async wait(ms: number, marker?: string): Promise<boolean> {
    let elapsed = false;
    const timer = this.after(ms, () => {
      elapsed = true;
      this.wake();
    });
    while (!elapsed && this.state === "open") {
      await new Promise<void>((resolve) => this.wakeWaiters.push(resolve));
    }
    clearTimeout(timer);
    this.timers.delete(timer);
    if (this.state !== "open") return false;
    if (marker !== undefined) this.observations.push({ kind: "timeout", marker });
    return true;
  }

  killAfter(ms: number): void {
    this.after(ms, () => this.drop(true), true);
  }

  closeAfter(ms: number): void {
    this.after(ms, () => void this.close(1000), true);
  }

  async nextMessage(): Promise<ReceivedMessage | null> {
    while (this.messages.length === 0) {
      if (this.state !== "open" && this.inflating === 0) return null;
      await new Promise<void>((resolve) => this.wakeWaiters.push(resolve));
    }
    return this.messages.shift()!;
  }

  // --- Receiving ---------------------------------------------------------

  private receive(chunk: Buffer): void {
    if (this.stopped) return;
    this.reader.push(chunk);
    try {
      for (;;) {
        const frame = this.reader.next();
        if (frame === null) return;
        this.handleFrame(frame);
        if (this.stopped) return;
      }
    } catch (error) {
      if (!(error instanceof WireError)) throw error;
      this.violation(error.message);
    }
  }

  private handleFrame(frame: WireFrame): void {
    // RFC 6455 §5.1: a server never masks; a client always does.
    const mustMask = this.role === "server";
    if (frame.masked !== mustMask) {
      this.violation(frame.masked ? "server sent a masked frame" : "client sent an unmasked frame");
      return;
    }
    const { opcode, payload } = frame;
    // RFC 7692 §6: with permessage-deflate, RSV1 marks the first frame of a
    // compressed message; RFC 6455 §5.2: every other RSV bit must be 0.
    const compressedStart =
      this.codec !== null &&
      frame.rsv === 4 &&
      (opcode === WireOpcode.TEXT || opcode === WireOpcode.BINARY);
    if (frame.rsv !== 0 && !compressedStart) {
      this.violation(`frame with RSV bits ${frame.rsv}`);
      return;
    }
    if (opcode >= 0x8) {
      // RFC 6455 §5.5: control frames are short and never fragmented.
      if (payload.length > 125) {
        this.violation("control frame longer than 125 bytes");
        return;
      }
      if (!frame.fin) {
        this.violation("fragmented control frame");
        return;
      }
    }
    switch (opcode) {
      case WireOpcode.TEXT:
      case WireOpcode.BINARY:
        if (this.fragments !== null) {
          this.violation("new message inside a fragmented one");
          return;
        }
        this.fragments = [payload];
        this.fragmentsBinary = opcode === WireOpcode.BINARY;
        this.fragmentsCompressed = compressedStart;
        break;
      case WireOpcode.CONT:
        if (this.fragments === null) {
          this.violation("continuation frame out of a message");
          return;
        }
        this.fragments.push(payload);
        break;
      case WireOpcode.PING:
        this.record({ kind: "ping", data: payload });
        // RFC 6455 §5.5.2: answer with a pong carrying the same data.
        if (this.state === "open") void this.send({ opcode: WireOpcode.PONG, payload });
        return;
      case WireOpcode.PONG:
        this.record({ kind: "pong", data: payload });
        return;
      case WireOpcode.CLOSE:
        this.receiveClose(payload);
        return;
      default:
        this.violation(`reserved opcode ${opcode}`);
        return;
    }
    if (!frame.fin) return;
    const data = this.fragments.length === 1 ? this.fragments[0]! : Buffer.concat(this.fragments);
    const binary = this.fragmentsBinary;
    this.fragments = null;
    if (!this.fragmentsCompressed && this.inflating === 0) {
      this.deliver(binary, data);
      return;
    }
    const compressed = this.fragmentsCompressed;
    this.inflating++;
    this.inflated = this.inflated.then(async () => {
      try {
        this.deliver(binary, compressed ? await this.codec!.decompress(data) : data);
      } catch (error) {
        this.violation(`a compressed message does not inflate: ${String(error)}`);
      } finally {
        this.inflating--;
        this.wake();
      }
    });
  }

  private deliver(binary: boolean, data: Buffer): void {
    this.messages.push({ binary, data });
    this.record({ kind: "message", binary, data });
  }

  private receiveClose(payload: Buffer): void {
    if (payload.length === 1) {
      this.violation("close frame with a 1-byte payload");
      return;
    }
    if (payload.length >= 2) {
      this.remoteCloseCode = payload.readUInt16BE(0);
      this.remoteCloseReason = payload.subarray(2).toString("utf8");
    }
    if (this.state === "open") {
      // RFC 6455 §5.5.1: answer a close frame, echoing its status code.
      this.state = "closing";
      const reply =
        this.remoteCloseCode === null ? Buffer.alloc(0) : closePayload(this.remoteCloseCode);
      void this.send({ opcode: WireOpcode.CLOSE, payload: reply });
    }
    this.closeHandshakeDone = true;
    this.wake();
    if (this.role === "server") {
      // RFC 6455 §7.1.1: the server closes the TCP connection first.
      this.drop(false);
    } else {
      // The client waits for the server to close the TCP connection.
      this.after(CLOSE_WAIT_MS, () => this.drop(true), true);
    }
  }

  private onEnd(): void {
    // The peer closed its side: close ours, which lets 'close' fire.
    this.flushCork();
    this.socket.end();
  }

  // --- Helpers -----------------------------------------------------------

  /** Records an observation, then, like Autobahn, closes once it matches the expected outcome. */
  private record(observation: Observation): void {
    this.observations.push(observation);
    this.wake();
    const outcomes = Object.values(this.options.expected);
    if (outcomes.length === 0) return;
    for (const outcome of outcomes) {
      if (!sameObservations(this.observations, outcome)) return;
    }
    if (this.options.close.closedByMe && !this.options.suppressClose) {
      void this.close(this.options.close.codes[0]);
    }
  }

  /** The implementation broke the protocol: record it and fail the connection. */
  private violation(detail: string): void {
    this.observations.push({ kind: "violation", detail });
    if (this.state === "open") {
      this.state = "closing";
      this.closedByMe = true;
      this.localCloseCode = 1002;
      void this.send({ opcode: WireOpcode.CLOSE, payload: closePayload(1002) });
    }
    this.drop(false);
  }

  private write(bytes: Uint8Array, alone: boolean): void {
    const socket = this.socket;
    if (socket.destroyed || socket.writableEnded) return;
    if (alone) {
      this.flushCork();
    } else if (!this.corked) {
      // Frames sent in the same tick leave in one write, as Autobahn's
      // frames sent without `sync` leave in one TCP segment.
      this.corked = true;
      socket.cork();
      process.nextTick(() => this.flushCork());
    }
    socket.write(bytes);
  }

  private flushCork(): void {
    if (!this.corked) return;
    this.corked = false;
    this.socket.uncork();
  }

  /** Closes the TCP connection from this side; `timedOut` when a timer forced it. */
  private drop(timedOut: boolean): void {
    if (this.state === "closed" || this.socket.destroyed) return;
    this.droppedByMe = true;
    if (timedOut) this.timedOut = true;
    this.state = this.state === "open" ? "closed" : this.state;
    this.flushCork();
    if (timedOut) this.socket.destroy();
    else this.socket.end(() => this.socket.destroy());
    this.wake();
  }

  /**
   * Runs `callback` after `ms` times the time scale. Timers that give up on
   * the implementation (`giveUp`) are never scaled below 1 s, or below `ms`
   * if that is shorter: a fast run must not fail a slow but correct peer.
   */
  private after(ms: number, callback: () => void, giveUp = false): NodeJS.Timeout {
    let delay = ms * this.options.timeScale;
    if (giveUp) delay = Math.max(delay, Math.min(ms, 1_000));
    const timer = setTimeout(
      () => {
        this.timers.delete(timer);
        callback();
      },
      Math.max(1, delay),
    );
    this.timers.add(timer);
    return timer;
  }

  private wake(): void {
    const waiters = this.wakeWaiters;
    this.wakeWaiters = [];
    for (const waiter of waiters) waiter();
  }
}
