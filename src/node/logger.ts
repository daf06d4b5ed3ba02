/**
 * Where connections and servers report what happens to them.
 *
 * @module
 */

import { describeValue } from "../core/describe-value.js";

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
 * The logger an option designates: `undefined` gives the default, `null` silence.
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
  return logger;
}
