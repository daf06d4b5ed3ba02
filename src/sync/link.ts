/**
 * The caller's end of a blocking connection: starts the worker thread, posts
 * commands to it, and blocks on the shared wake-up word until the reports it
 * needs have arrived, taking them with `receiveMessageOnPort`, which reads a
 * port without an event loop.
 *
 * @module
 */

import { performance } from "node:perf_hooks";
import {
  MessageChannel,
  type MessagePort,
  receiveMessageOnPort,
  Worker,
} from "node:worker_threads";
import { ConnectionClosedError, WebSocketError } from "../core/errors.js";
import type { Logger } from "../node/logger.js";
import { allocateSharedMemory, SharedCounters, WORDS, Word } from "./counters.js";
import { decodeValue, serializeError, type WireError } from "./errors.js";
import { deliveryWindow, type WorkerConnectOptions } from "./options.js";
import type { Command, Report, WireData } from "./wire.js";
import type { WorkerData } from "./worker.js";

/**
 * The worker script, next to this module both in `dist/` (the published
 * package) and in `.build/` (the tests).
 */
const WORKER_URL = new URL("./worker.js", import.meta.url);

/**
 * How the caller notices a worker thread that stopped without a word:
 * terminated by the runtime (out of memory), or stuck. The worker's event
 * loop beats every `beat` ms; a blocked caller looks at least every `slice`
 * ms and gives up on a worker that has not beaten for `limit` ms.
 *
 * @internal Mutable for the tests.
 */
export const LIVENESS = { beat: 1_000, slice: 2_000, limit: 30_000 };

/**
 * What the worker thread runs first. It marks the thread's exit in shared
 * memory before any module loads, so the caller, which has no event loop to
 * hear a worker's `exit` event, learns of it even when the worker script
 * itself cannot be loaded; it starts the heartbeat; then it loads the worker
 * script.
 *
 * Valid as a CommonJS script and as a module alike: workers inherit the
 * parent's `execArgv`, and under `node --input-type=module -e …` their eval
 * code is a module, where `require` is not defined. Dynamic `import()` is
 * in both.
 */
const BOOTSTRAP = `"use strict";
import("node:worker_threads").then(({ workerData }) => {
  const words = new Int32Array(workerData.memory, 0, ${WORDS});
  const wake = () => {
    Atomics.add(words, ${Word.WAKE}, 1);
    Atomics.notify(words, ${Word.WAKE});
  };
  process.on("exit", () => {
    Atomics.store(words, ${Word.EXITED}, 1);
    wake();
  });
  setInterval(() => Atomics.add(words, ${Word.HEARTBEAT}, 1), workerData.heartbeat).unref();
  return import(workerData.script).catch((error) => {
    const message = "cannot load the worker script: " + (error && error.message);
    workerData.port.postMessage({ type: "crashed", error: { name: "Error", message, fields: {} } });
    wake();
    process.exit(1);
  });
});
`;

/** How long closing waits for the worker thread to end before stopping it. */
const JOIN_LIMIT = 5_000;

/** The report of a successful opening handshake. */
export type OpenReport = Extract<Report, { type: "open" }>;
/** The report of the connection's end. */
export type ClosedReport = Extract<Report, { type: "closed" }>;
/** The outcome of a command that gets a reply. */
export type Outcome =
  | { readonly ok: true; readonly value: number | null }
  | { readonly ok: false; readonly error: WireError };

/** A point in time from `performance.now()`, or `Infinity` for no deadline. */
export type Deadline = number;

/**
 * The deadline `timeout` milliseconds from now.
 *
 * @throws TypeError for a timeout that is not a number, e.g. a string.
 * @throws RangeError for a negative or NaN timeout.
 */
export function deadlineAfter(timeout: number | null | undefined): Deadline {
  if (timeout === undefined || timeout === null) return Number.POSITIVE_INFINITY;
  // "5000" from an environment variable would pass the range check, then
  // concatenate below into a deadline already past; a bigint can't be added.
  if (typeof timeout !== "number") {
    throw new TypeError(`timeout must be a number, got ${typeof timeout}`);
  }
  if (!(timeout >= 0)) throw new RangeError(`timeout must be a number ≥ 0, got ${timeout}`);
  return performance.now() + timeout;
}

/** The caller's end of the channel to one worker thread. */
export class Link {
  /** The handshake's result, once reported. */
  opened: OpenReport | null = null;
  /** Why the handshake failed, once reported. */
  failure: WireError | null = null;
  /** Whether the closing handshake started, as reported. */
  closing = false;
  /** The connection's end, once reported; every message was reported before. */
  closed: ClosedReport | null = null;

  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly counters: SharedCounters;
  private readonly inbox: (WireData | undefined)[] = [];
  private head = 0;
  private readonly replies = new Map<number, Outcome>();
  private readonly awaited = new Set<number>();
  private nextId = 1;
  /** Bytes of messages posted for sending; compared with the bytes the socket took. */
  private bytesPosted = 0;
  /** Messages left in the inbox at or below which a stalled worker is told to go on. */
  private readonly lowWater: number;
  private crash: WireError | null = null;
  private shutDown = false;
  /** The last heartbeat count seen, and when it was first seen. */
  private lastBeat = 0;
  private lastBeatSeenAt = performance.now();

  /**
   * Starts the worker thread, which starts connecting at once.
   *
   * @throws TypeError if the options cannot be cloned (checked beforehand).
   */
  constructor(
    uri: string,
    options: WorkerConnectOptions,
    private readonly logger: Logger,
  ) {
    this.lowWater = Math.floor(deliveryWindow(options) / 4);
    const memory = allocateSharedMemory();
    this.counters = new SharedCounters(memory);
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    const workerData: WorkerData = {
      script: WORKER_URL.href,
      heartbeat: LIVENESS.beat,
      uri,
      options,
      port: port2,
      memory,
    };
    this.worker = new Worker(BOOTSTRAP, { eval: true, workerData, transferList: [port2] });
    // The connection must not keep the process alive: a script that ends
    // without closing exits, and the worker ends with it.
    this.worker.unref();
    this.port.unref();
    // The worker reports its own failures on the port; without a listener a
    // crash would also be rethrown on this thread's event loop.
    this.worker.on("error", () => {});
  }

  /** Whether a received message is waiting. */
  get hasMessage(): boolean {
    return this.head < this.inbox.length;
  }

  /** Bytes posted for sending that the worker's socket has not taken yet. */
  get bytesInFlight(): number {
    return this.bytesPosted - this.counters.bytesWritten;
  }

  /** Takes every report that arrived, without blocking. */
  poll(): void {
    for (;;) {
      const received = receiveMessageOnPort(this.port);
      if (received === undefined) return;
      this.dispatch(received.message as Report);
    }
  }

  /**
   * Blocks until `done()` holds or the deadline passes; returns whether
   * `done()` holds. When the worker thread ended without reporting the end
   * of the connection, the connection is reported lost (1006).
   */
  waitUntil(done: () => boolean, deadline: Deadline = Number.POSITIVE_INFINITY): boolean {
    for (;;) {
      this.poll();
      if (done()) return true;
      const seen = this.counters.wakeCount;
      // A report posted between the first poll and reading the word is
      // either taken here or has moved the word, and sleep() returns at once.
      this.poll();
      if (done()) return true;
      if (this.counters.exited || this.unresponsive()) {
        this.poll();
        this.noticeExit();
        return done();
      }
      const remaining = deadline - performance.now();
      if (remaining <= 0) return false;
      this.counters.sleep(seen, Math.min(remaining, LIVENESS.slice));
    }
  }

  /**
   * Whether the worker has not beaten for longer than the limit. Its `exit`
   * handler does not run when the runtime terminates it: only the silence of
   * its heartbeat tells.
   */
  private unresponsive(): boolean {
    const beat = this.counters.heartbeat;
    const now = performance.now();
    if (beat !== this.lastBeat) {
      this.lastBeat = beat;
      this.lastBeatSeenAt = now;
      return false;
    }
    if (now - this.lastBeatSeenAt <= LIVENESS.limit) return false;
    this.crash ??= serializeError(new WebSocketError("the worker thread stopped responding"));
    void this.worker.terminate();
    return true;
  }

  /** Takes the next received message, if any, and lets the worker deliver another. */
  take(): WireData | undefined {
    if (this.head >= this.inbox.length) return undefined;
    const message = this.inbox[this.head];
    this.inbox[this.head++] = undefined;
    if (this.head === this.inbox.length) {
      this.inbox.length = 0;
      this.head = 0;
    }
    this.counters.consume();
    // Like the async client's read queue, resume at a quarter of the window,
    // not at the first message taken: one credit then lets the worker deliver
    // many messages instead of one, saving a thread handoff per message.
    if (this.inbox.length - this.head <= this.lowWater && this.counters.claimStall()) {
      this.port.postMessage({ type: "credit" } satisfies Command);
    }
    return message;
  }

  /**
   * Posts a message for sending, then blocks while more than `highWaterMark`
   * bytes posted are not written yet; returns `false` if they were still not
   * when the deadline passed. `size` is what the worker acknowledges once the
   * socket took the message; `compress: false` sends it uncompressed.
   */
  send(
    message: WireData | readonly WireData[],
    size: number,
    compress: boolean,
    transfer: ArrayBuffer[],
    highWaterMark: number,
    deadline: Deadline,
  ): boolean {
    this.bytesPosted += size;
    this.port.postMessage({ type: "send", message, size, compress } satisfies Command, transfer);
    if (this.bytesInFlight <= highWaterMark) return true;
    this.counters.waitingForWrites = true;
    try {
      return this.waitUntil(
        () => this.bytesInFlight <= highWaterMark || this.closed !== null,
        deadline,
      );
    } finally {
      this.counters.waitingForWrites = false;
    }
  }

  /**
   * Posts a command that gets a reply and blocks until the reply, the end of
   * the connection (which fails it), or the deadline (`null`).
   */
  call(
    command: (id: number) => Extract<Command, { id: number }>,
    deadline: Deadline,
  ): Outcome | null {
    const id = this.nextId++;
    this.awaited.add(id);
    this.port.postMessage(command(id));
    const done = () => this.replies.has(id) || this.closed !== null;
    const arrived = this.waitUntil(done, deadline);
    this.awaited.delete(id);
    const outcome = this.replies.get(id);
    this.replies.delete(id);
    if (outcome !== undefined) return outcome;
    if (!arrived) return null;
    return { ok: false, error: this.closed!.error };
  }

  /**
   * Releases the thread once the connection is closed: closes the port and
   * waits for the worker to end, stopping it if it does not.
   */
  shutdown(): void {
    if (this.shutDown) return;
    this.shutDown = true;
    const ended = this.waitUntil(() => this.counters.exited, performance.now() + JOIN_LIMIT);
    this.port.close();
    if (!ended) void this.worker.terminate();
  }

  /** Asks a connection nobody holds any more to close, from a finalizer. */
  abandon(): void {
    if (this.shutDown || this.closed !== null) return;
    this.port.postMessage({ type: "close", id: 0, code: 1001, reason: "" } satisfies Command);
  }

  private dispatch(report: Report): void {
    switch (report.type) {
      case "message":
        this.inbox.push(report.data);
        return;
      case "reply":
        if (this.awaited.has(report.id))
          this.replies.set(report.id, { ok: true, value: report.value });
        return;
      case "replyError":
        if (this.awaited.has(report.id))
          this.replies.set(report.id, { ok: false, error: report.error });
        return;
      case "open":
        this.opened = report;
        return;
      case "failed":
        this.failure = report.error;
        return;
      case "closing":
        this.closing = true;
        return;
      case "closed":
        this.closed = report;
        return;
      case "log":
        this.log(report);
        return;
      case "crashed":
        this.crash = report.error;
        return;
    }
  }

  private log(record: Extract<Report, { type: "log" }>): void {
    try {
      this.logger[record.level](record.message, ...record.details.map(decodeValue));
    } catch {
      // A failing logger must not break the connection it reports on.
    }
  }

  /** The worker thread ended: whatever it did not report is lost. */
  private noticeExit(): void {
    const cause = this.crash ?? serializeError(new WebSocketError("the worker thread exited"));
    if (this.opened === null && this.failure === null) {
      this.failure = cause;
    } else if (this.closed === null) {
      const error = serializeError(new ConnectionClosedError(null, null));
      this.closed = {
        type: "closed",
        code: 1006,
        reason: "",
        error: { ...error, cause: { $wire: "error", error: cause } },
      };
    }
  }
}
