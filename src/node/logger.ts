/**
 * Where connections and servers report what happens to them.
 *
 * @module
 */

import { describeValue } from "../core/describe-value.js";
import { isThenable } from "./thenable.js";

/** The subset of `console` the library logs through; pass `console` itself for verbose logs. */
export interface Logger {
  /** An unexpected failure, e.g. a connection handler that threw; `details` hold the error. */
  error(message: string, ...details: unknown[]): void;
  /** Something went wrong on a connection, e.g. a keepalive ping timed out. */
  warn(message: string, ...details: unknown[]): void;
  /** Routine events: a handshake rejected, a reconnection scheduled. */
  info(message: string, ...details: unknown[]): void;
  /** Detail for debugging: redirects, proxies, timeouts, failed TLS handshakes. */
  debug(message: string, ...details: unknown[]): void;
}

const ignore = (): void => {};

/** The default: errors and warnings to `console`, nothing else. */
export const defaultLogger: Logger = {
  error: (message, ...details) => console.error(message, ...details),
  warn: (message, ...details) => console.warn(message, ...details),
  info: ignore,
  debug: ignore,
};

/** A logger that drops everything, for `logger: null`. */
export const silentLogger: Logger = { error: ignore, warn: ignore, info: ignore, debug: ignore };

const LEVELS = ["error", "warn", "info", "debug"] as const;

/**
 * The logger an option designates: `undefined` gives the default, `null`
 * silence, and any other logger is called through a wrapper that keeps its
 * exceptions from the library (see {@link ContainedLogger}).
 *
 * @throws TypeError for anything without the four methods: a logger missing
 *   one would fail later, inside a timer or a handler's error path, where
 *   nobody catches it.
 */
export function resolveLogger(logger: Logger | null | undefined): Logger {
  if (logger === undefined) return defaultLogger;
  if (logger === null) return silentLogger;
  if (typeof logger !== "object" && typeof logger !== "function") {
    throw new TypeError(
      `logger must be an object with error, warn, info and debug methods, or null; got ${describeValue(logger)}`,
    );
  }
  const missing = LEVELS.filter((level) => typeof logger[level] !== "function");
  if (missing.length > 0) {
    throw new TypeError(
      `logger must have error, warn, info and debug methods; ${missing.join(", ")} ${missing.length === 1 ? "is" : "are"} missing`,
    );
  }
  let contained = containedLoggers.get(logger);
  if (contained === undefined) {
    contained = new ContainedLogger(logger);
    containedLoggers.set(logger, contained);
  }
  return contained;
}

/**
 * One wrapper per application logger, however many servers, connections and
 * reconnections share it: its first failure is reported once.
 */
const containedLoggers = new WeakMap<Logger, ContainedLogger>();

/**
 * An application's logger, called so that its failures stay its own: a
 * logger that throws (a closed destination, a bug in a formatter) is called
 * from event listeners, timers and the server's handling of a failed handler,
 * where its exception would crash the process or leave a connection open and
 * `server.close()` waiting for good. Its first failure is reported once, as a
 * process warning; the record it failed on is dropped.
 */
class ContainedLogger implements Logger {
  private failed = false;

  constructor(private readonly logger: Logger) {}

  error(message: string, ...details: unknown[]): void {
    this.call("error", message, details);
  }

  warn(message: string, ...details: unknown[]): void {
    this.call("warn", message, details);
  }

  info(message: string, ...details: unknown[]): void {
    this.call("info", message, details);
  }

  debug(message: string, ...details: unknown[]): void {
    this.call("debug", message, details);
  }

  private call(level: (typeof LEVELS)[number], message: string, details: unknown[]): void {
    try {
      // As a method of the application's logger: some loggers need `this`.
      const result: unknown = this.logger[level](message, ...details);
      // An async method (typed as returning nothing, accepted all the same)
      // fails with a rejection, which would otherwise go unhandled.
      if (isThenable(result)) result.then(undefined, (error) => this.report(level, error));
    } catch (error) {
      this.report(level, error);
    }
  }

  private report(level: (typeof LEVELS)[number], error: unknown): void {
    if (this.failed) return;
    this.failed = true;
    process.emitWarning(
      `the logger's ${level}() threw (${describeError(error)}); websockets-ts drops the records it fails on and reports only this first failure`,
      { code: "WEBSOCKETS_TS_LOGGER_FAILED" },
    );
  }
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : describeValue(error);
}
