/**
 * The worker thread of a blocking connection: it owns the socket, runs the
 * async client, executes the caller's commands and reports back on the
 * message port, waking the caller after each report.
 *
 * It delivers received messages ahead of `recv()`, at most a window of them,
 * so a `recv()` usually finds its message already there; past the window it
 * stops reading, the async connection's queue fills and the socket pauses,
 * which is the async client's read backpressure.
 *
 * Once the connection is closed and reported, the worker closes its port and
 * has nothing left to do, so the thread ends by itself.
 *
 * @module
 */

import type { MessagePort } from "node:worker_threads";
import { workerData } from "node:worker_threads";
import { State } from "../core/state.js";
import { type ClientConnection, connect } from "../node/client.js";
import { observeClosing } from "../node/connection.js";
import type { Logger } from "../node/logger.js";
import type { Data } from "../node/messages.js";
import { SharedCounters } from "./counters.js";
import { encodeValue, serializeError } from "./errors.js";
import { deliveryWindow, type WorkerConnectOptions } from "./options.js";
import {
  type Command,
  type LogLevel,
  type Report,
  transferableBytes,
  unwireData,
  type WireData,
} from "./wire.js";

/** What `connect()` hands to the worker. */
export interface WorkerData {
  /** URL of this script, which the bootstrap imports. */
  readonly script: string;
  /** Interval of the bootstrap's heartbeat, in ms. */
  readonly heartbeat: number;
  readonly uri: string;
  readonly options: WorkerConnectOptions;
  readonly port: MessagePort;
  readonly memory: SharedArrayBuffer;
}

const { uri, options, port, memory } = workerData as WorkerData;
const counters = new SharedCounters(memory);

function report(message: Report, transfer: ArrayBuffer[] = []): void {
  try {
    port.postMessage(message, transfer);
  } catch {
    // An ArrayBuffer marked untransferable (Node's buffer pool) is copied instead.
    port.postMessage(message);
  }
  counters.wake();
}

// The bootstrap in link.ts marks the thread's exit; this reports why.
process.on("uncaughtException", (error) => {
  report({ type: "crashed", error: serializeError(error) });
  process.exit(1);
});

function forward(level: LogLevel): Logger[LogLevel] {
  return (message, ...details) =>
    report({ type: "log", level, message, details: details.map(encodeValue) });
}

const logger: Logger | null = options.forwardLogs
  ? {
      error: forward("error"),
      warn: forward("warn"),
      info: forward("info"),
      debug: forward("debug"),
    }
  : null;

function received(data: WireData): Data {
  return typeof data === "string" ? data : new Uint8Array(data);
}

/** Operations in progress, so the port stays open until their replies are posted. */
const operations = new Set<Promise<void>>();

function track(operation: Promise<void>): void {
  operations.add(operation);
  void operation.finally(() => operations.delete(operation));
}

/** Options of a message sent with `{ compress: false }`. */
const UNCOMPRESSED = { compress: false } as const;

/** Resolves the pump's wait for the application to take messages. */
let releaseStall: (() => void) | null = null;

function execute(ws: ClientConnection, command: Command): void {
  switch (command.type) {
    case "send": {
      // The caller's send() checked that the fragments are all strings or all bytes.
      const message = Array.isArray(command.message)
        ? ((command.message as readonly WireData[]).map(received) as string[] | Uint8Array[])
        : received(command.message as WireData);
      track(
        ws.send(message, command.compress ? undefined : UNCOMPRESSED).then(
          () => counters.addWritten(command.size),
          (error: unknown) => {
            // A send racing with the closing handshake fails like the async
            // client's would; the closed report tells the caller how it ended.
            counters.addWritten(command.size);
            logger?.debug("send failed", error);
          },
        ),
      );
      return;
    }
    case "ping":
      track(
        ws.ping(command.data === null ? undefined : unwireData(command.data)).then(
          (latency) => report({ type: "reply", id: command.id, value: latency }),
          (error: unknown) =>
            report({ type: "replyError", id: command.id, error: serializeError(error) }),
        ),
      );
      return;
    case "close":
      track(
        ws.close(command.code, command.reason).then(
          () => report({ type: "reply", id: command.id, value: null }),
          (error: unknown) =>
            report({ type: "replyError", id: command.id, error: serializeError(error) }),
        ),
      );
      return;
    case "credit": {
      const release = releaseStall;
      releaseStall = null;
      release?.();
      return;
    }
  }
}

/**
 * Moves received messages to the caller, at most `window` ahead of what the
 * application took; once the connection is closed, all that remain. Returns
 * what `recv()` threw at the end.
 */
async function deliver(ws: ClientConnection, window: number): Promise<unknown> {
  let delivered = 0;
  for (;;) {
    while (ws.state !== State.CLOSED && counters.unconsumed(delivered) >= window) {
      if (!counters.stall(delivered, window)) break;
      await new Promise<void>((resolve) => {
        releaseStall = resolve;
      });
    }
    let message: Data;
    try {
      message = await ws.recv();
    } catch (error) {
      return error;
    }
    delivered++;
    if (typeof message === "string") {
      report({ type: "message", data: message });
    } else {
      // The async client hands over buffers it no longer uses: moving them is safe.
      const buffer = transferableBytes(message, true);
      report({ type: "message", data: buffer }, [buffer]);
    }
  }
}

async function run(): Promise<void> {
  let ws: ClientConnection;
  try {
    const { forwardLogs: _, ...connectOptions } = options;
    ws = await connect(uri, { ...connectOptions, logger });
  } catch (error) {
    report({ type: "failed", error: serializeError(error) });
    port.close();
    return;
  }
  const { request, response } = ws;
  report({
    type: "open",
    subprotocol: ws.subprotocol,
    localAddress: ws.localAddress,
    remoteAddress: ws.remoteAddress,
    request: {
      path: request.path,
      headers: [...request.headers],
      method: request.method,
      version: request.version,
    },
    response: {
      status: response!.status,
      reason: response!.reason,
      headers: [...response!.headers],
      body: response!.body,
    },
  });
  // From the closing handshake on, the caller refuses sends, as the async
  // client does, instead of handing over messages that can't go out.
  if (ws.state === State.OPEN) observeClosing(ws, () => report({ type: "closing" }));
  else report({ type: "closing" });
  port.on("message", (command: Command) => execute(ws, command));
  // The caller's side of the port closes without a close command only when
  // the caller is gone: do not keep the connection open for nobody.
  port.once("close", () => void ws.close(1001).catch(() => {}));
  // A stalled delivery must not hold back the end of the connection.
  void ws.closed.then(() => {
    const release = releaseStall;
    releaseStall = null;
    release?.();
  });

  const window = deliveryWindow(options);
  const endError = await deliver(ws, window);
  await ws.closed;
  report({
    type: "closed",
    code: ws.closeCode ?? 1006,
    reason: ws.closeReason ?? "",
    error: serializeError(endError),
  });
  while (operations.size > 0) await Promise.allSettled([...operations]);
  port.close();
}

await run();
