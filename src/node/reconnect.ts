/**
 * Automatic reconnection: `for await (const ws of reconnect(uri))` connects,
 * runs the loop body with the connection, and when the body is done with it,
 * typically because it closed, connects again. Failed attempts are retried
 * after a jittered exponential backoff, as long as a policy deems the error
 * transient.
 *
 * @module
 */

import { InvalidMessage, InvalidStatus, ProxyError, TimeoutError } from "../core/errors.js";
import { type ClientConnection, type ConnectOptions, connect } from "./client.js";
import { resolveLogger } from "./logger.js";

/** Options of {@link reconnect}: those of `connect()`, and the retry policy. */
export interface ReconnectOptions extends ConnectOptions {
  /** Largest delay before the first retry, in milliseconds. Default: 1000. */
  initialDelay?: number;
  /** Largest delay between two attempts, in milliseconds. Default: 60000. */
  maxDelay?: number;
  /** How much the delay grows after each failed attempt. Default: 2. */
  backoffFactor?: number;
  /**
   * Decides whether to retry after a failed attempt: `true` retries,
   * `false` ends the loop by throwing `error`. `attempt` counts the attempts
   * that failed in a row, from 1. Default: {@link isTransientError}.
   */
  shouldRetry?: (error: unknown, attempt: number) => boolean;
}

/** Default backoff of {@link reconnect}. */
export const RECONNECT_DEFAULTS = {
  initialDelay: 1_000,
  maxDelay: 60_000,
  backoffFactor: 2,
} as const;

/** Statuses that mean the server, or the proxy's upstream, is unavailable for now. */
const TRANSIENT_STATUSES = new Set([500, 502, 503, 504]);

/**
 * The default retry policy: network errors (`ECONNREFUSED`, `ECONNRESET`,
 * `ENOTFOUND`, … any error from a system call, and a connection reset during
 * the TLS handshake), timeouts, a server that closed or garbled its handshake
 * response, the HTTP statuses 500, 502, 503 and 504 from the server or an
 * HTTP proxy, and a proxy that couldn't reach the server or hung up (a
 * {@link ProxyError} that is `transient`). Everything else, such as 401, 403,
 * an untrusted certificate or an invalid URI, won't get better by retrying.
 */
export function isTransientError(error: unknown): boolean {
  if (error instanceof TimeoutError || error instanceof InvalidMessage) return true;
  if (error instanceof InvalidStatus) return TRANSIENT_STATUSES.has(error.response.status);
  if (error instanceof ProxyError) {
    return error.transient || (error.status !== null && TRANSIENT_STATUSES.has(error.status));
  }
  if (!(error instanceof Error)) return false;
  const { syscall, code } = error as NodeJS.ErrnoException;
  // Node reports a peer that hung up during the TLS handshake ("Client network
  // socket disconnected before secure TLS connection was established") as
  // ECONNRESET without a system call.
  return typeof syscall === "string" || code === "ECONNRESET";
}

/**
 * The delay before retrying after `attempt` failures in a row: it grows by
 * `backoffFactor` from `initialDelay` up to `maxDelay`, and a random part,
 * from half of it to all of it, spreads out clients that lost their
 * connection at the same moment so they don't all come back at once.
 */
export function backoffDelay(
  attempt: number,
  options: Pick<ReconnectOptions, "initialDelay" | "maxDelay" | "backoffFactor"> = {},
  random: () => number = Math.random,
): number {
  const initialDelay = options.initialDelay ?? RECONNECT_DEFAULTS.initialDelay;
  const maxDelay = options.maxDelay ?? RECONNECT_DEFAULTS.maxDelay;
  const factor = options.backoffFactor ?? RECONNECT_DEFAULTS.backoffFactor;
  const ceiling = Math.min(maxDelay, initialDelay * factor ** (attempt - 1));
  return ceiling * (0.5 + random() / 2);
}

/**
 * Connects to `uri` again and again. Each iteration gets an open connection;
 * when the loop body finishes with it (it is closed then, if it wasn't
 * already), the next iteration connects again at once. An attempt that fails
 * is retried after {@link backoffDelay} when `shouldRetry` says so; otherwise
 * the loop throws its error. Leaving the loop (`break`, `return`, an
 * exception) closes the current connection.
 *
 * ```ts
 * for await (const ws of reconnect("wss://example.com/feed")) {
 *   try {
 *     for await (const message of ws) console.log(message);
 *   } catch (error) {
 *     if (!(error instanceof ConnectionClosed)) throw error;
 *   }
 * }
 * ```
 *
 * Abort `options.signal` to stop: the loop throws the signal's reason while
 * connecting or waiting to retry.
 */
export async function* reconnect(
  uri: string | URL,
  options: ReconnectOptions = {},
): AsyncGenerator<ClientConnection, void, undefined> {
  const logger = resolveLogger(options.logger);
  const shouldRetry = options.shouldRetry ?? isTransientError;
  let failures = 0;
  for (;;) {
    let connection: ClientConnection;
    try {
      connection = await connect(uri, options);
    } catch (error) {
      options.signal?.throwIfAborted();
      failures++;
      if (!shouldRetry(error, failures)) throw error;
      const delay = backoffDelay(failures, options);
      logger.info(
        `connection attempt failed (${error instanceof Error ? error.message : String(error)}); ` +
          `retrying in ${Math.round(delay)} ms`,
      );
      await sleep(delay, options.signal);
      continue;
    }
    failures = 0;
    try {
      yield connection;
    } finally {
      await connection.close();
    }
  }
}

/** Waits `delay` ms; rejects with the signal's reason if it is aborted first. */
function sleep(delay: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, delay);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
