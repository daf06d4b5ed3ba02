/**
 * Options of the blocking `connect()`: the async client's options that can be
 * sent to another thread. Functions and objects bound to the caller's thread
 * (`signal`, extension factories, a `secureContext`) cannot cross; a logger
 * can, because its calls are forwarded back to the caller's thread.
 *
 * @module
 */

import { isUrlObject } from "../core/brands.js";
import { Headers } from "../core/headers.js";
import type { ConnectOptions as AsyncConnectOptions } from "../node/client.js";
import { DEFAULTS, resolveConnectionOptions } from "../node/connection.js";
import { type Logger, silentLogger } from "../node/logger.js";
import {
  CONNECT_OPTION_NAMES,
  checkOptionNames,
  type ListsEveryKey,
  NESTED_OPTIONS,
  optionNames,
  without,
} from "../node/option-names.js";

/**
 * Options of the blocking {@link connect}: the async client's, except those
 * that cannot leave the caller's thread (`signal`, `extensions`, `socket`).
 * Values must be cloneable: strings, numbers, booleans, arrays, plain
 * objects, buffers; no callbacks (`tls.checkServerIdentity`, `tcp.lookup`)
 * and no `tls.secureContext`. All
 * durations are in milliseconds.
 */
export interface ConnectOptions
  extends Omit<AsyncConnectOptions, "signal" | "extensions" | "logger" | "socket"> {
  /**
   * Where to log; `null` for nowhere. Default: errors and warnings to
   * `console`. Records logged on the worker thread are delivered on the
   * caller's thread during the next call into the connection, or while one
   * blocks.
   */
  logger?: Logger | null | undefined;
}

/** The options as sent to the worker thread. */
export interface WorkerConnectOptions
  extends Omit<ConnectOptions, "additionalHeaders" | "logger" | "proxy"> {
  readonly additionalHeaders: [string, string][];
  readonly proxy?: string | boolean | null;
  /** Whether to forward log records to the caller's thread. */
  readonly forwardLogs: boolean;
}

/** Options of the async client that the blocking one refuses, and why. */
const REFUSED_OPTIONS = {
  signal: "an AbortSignal cannot fire while the caller's thread is blocked; use openTimeout",
  extensions: "extension factories are objects with methods, which cannot cross threads",
  socket: "a socket belongs to the event loop of the thread that opened it",
} as const;

/** The names of {@link ConnectOptions}. */
const CONNECT_OPTION_NAMES_SYNC = without(CONNECT_OPTION_NAMES, [
  "signal",
  "extensions",
  "socket",
]) satisfies (keyof ConnectOptions)[];
true satisfies ListsEveryKey<ConnectOptions, typeof CONNECT_OPTION_NAMES_SYNC>;

/**
 * The names known to the blocking `connect()`: its own, and the async
 * client's that it refuses, which get a message of their own.
 */
const KNOWN_OPTIONS = optionNames(
  [...CONNECT_OPTION_NAMES_SYNC, ...Object.keys(REFUSED_OPTIONS)],
  NESTED_OPTIONS,
);

/**
 * Checks the options and turns them into cloneable data for the worker.
 *
 * @throws TypeError for an unknown option, or one that cannot be sent to
 *   another thread.
 */
export function toWorkerOptions(options: ConnectOptions): WorkerConnectOptions {
  checkBlockingOptionNames(options);
  // Out-of-range durations and sizes throw here, before a thread is started
  // for a connection that the worker's connect() would refuse anyway.
  resolveConnectionOptions(options, silentLogger);
  const { additionalHeaders, logger, proxy, ...rest } = options;
  const workerOptions: WorkerConnectOptions = {
    ...rest,
    // A Headers object and a URL lose their contents when cloned: send them as data.
    additionalHeaders: [...new Headers(additionalHeaders)],
    ...(proxy === undefined ? {} : { proxy: isUrlObject(proxy) ? proxy.href : proxy }),
    forwardLogs: logger !== null,
  };
  try {
    structuredClone(workerOptions);
  } catch (error) {
    throw new TypeError(
      `an option cannot be sent to the worker thread: ${(error as Error).message}`,
      { cause: error },
    );
  }
  return workerOptions;
}

/**
 * @throws TypeError for an option unknown here (`pingIntervall`) or one the
 *   blocking client refuses (`signal`, `socket`, …), saying why.
 */
export function checkBlockingOptionNames(options: ConnectOptions): void {
  checkOptionNames(options, KNOWN_OPTIONS, "connect()");
  for (const [name, why] of Object.entries(REFUSED_OPTIONS)) {
    if ((options as Record<string, unknown>)[name] !== undefined) {
      throw new TypeError(`the blocking client does not take the ${name} option: ${why}`);
    }
  }
}

/** Messages the worker delivers ahead of `recv()`: the read queue's bound. */
export function deliveryWindow(options: { readonly maxQueue?: number | undefined }): number {
  return Math.max(1, options.maxQueue ?? DEFAULTS.maxQueue);
}

/** Bytes of sent messages in flight above which `send()` blocks. */
export function writeHighWaterMark(options: {
  readonly writeHighWaterMark?: number | undefined;
}): number {
  return options.writeHighWaterMark ?? DEFAULTS.writeHighWaterMark;
}
