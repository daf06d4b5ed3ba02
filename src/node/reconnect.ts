/**
 * Automatic reconnection: `for await (const ws of reconnect(uri))` connects,
 * runs the loop body with the connection, and when the body is done with it,
 * typically because it closed, connects again. Failed attempts, as long as a
 * policy deems the error transient, and connections that closed abnormally
 * or didn't last are followed by a jittered exponential backoff.
 *
 * @module
 */

import { performance } from "node:perf_hooks";
import { CloseCode } from "../core/close-codes.js";
import { describeValue, kindOf } from "../core/describe-value.js";
import { InvalidMessage, InvalidStatus, ProxyError, TimeoutError } from "../core/errors.js";
import type { Resolved } from "../core/resolved.js";
import { State } from "../core/state.js";
import {
  type ClientConnection,
  type ConnectOptions,
  checkConnectArguments,
  connect,
} from "./client.js";
import { MAX_TIMER_DELAY } from "./connection.js";
import { resolveLogger } from "./logger.js";
import { BACKOFF_OPTIONS, checkOptionNames, RECONNECT_OPTIONS } from "./option-names.js";
import { isSchemeMismatch } from "./tls.js";

/** Options of {@link reconnect}: those of `connect()`, and the retry policy. */
export interface ReconnectOptions extends ConnectOptions {
  /**
   * Largest delay after a first setback, in milliseconds; a connection must
   * also last that long (longer after setbacks in a row) not to count as one.
   * Default: 1000. From 0 to 2147483647 ms (about 24.8 days, the longest a
   * Node timer waits).
   */
  initialDelay?: number | undefined;
  /**
   * Largest delay between two attempts, in milliseconds. Default: 60000, or
   * `initialDelay` if larger. From `initialDelay` to 2147483647 ms, or
   * `Infinity`, which lets the delay grow up to 2147483647 ms.
   */
  maxDelay?: number | undefined;
  /**
   * How much the delay grows after each setback in a row. Default: 2. Finite
   * and at least 1 (1 for a constant delay).
   */
  backoffFactor?: number | undefined;
  /**
   * Decides whether to retry after a failed attempt: `true` retries,
   * `false` ends the loop by throwing `error`. `attempt` counts the attempts
   * that failed in a row, from 1. Default: {@link isTransientError}.
   */
  shouldRetry?: ((error: unknown, attempt: number) => boolean) | undefined;
}

/** Default backoff of {@link reconnect}. */
export const RECONNECT_DEFAULTS = {
  /** 1 s: the largest delay after a first setback, in milliseconds. */
  initialDelay: 1_000,
  /** 1 min: the largest delay between two attempts, in milliseconds. */
  maxDelay: 60_000,
  /** The largest delay doubles after each setback in a row. */
  backoffFactor: 2,
} as const;

/**
 * Close codes after which reconnecting waits, as after a failed attempt:
 * 1006 (no close frame: the connection was lost), 1011 (internal error),
 * 1012 (service restart), 1013 (try again later) and 1014 (bad gateway: the
 * server's upstream failed, which waiting may fix).
 */
const ABNORMAL_CLOSE_CODES = new Set<number>([
  CloseCode.ABNORMAL_CLOSURE,
  CloseCode.INTERNAL_ERROR,
  CloseCode.SERVICE_RESTART,
  CloseCode.TRY_AGAIN_LATER,
  CloseCode.BAD_GATEWAY,
]);

/** Statuses that mean the server, or the proxy's upstream, is unavailable for now. */
const TRANSIENT_STATUSES = new Set([500, 502, 503, 504]);

/**
 * The default retry policy: network errors (`ECONNREFUSED`, `ECONNRESET`,
 * `ENOTFOUND`, … any error from a system call, and a connection reset during
 * the TLS handshake), timeouts, a server that closed or garbled its handshake
 * response (but not one that answered with TLS to `ws://`, or without TLS to
 * `wss://`: {@link isSchemeMismatch}), the HTTP statuses 500, 502, 503 and 504
 * from the server or an HTTP proxy, and a proxy that couldn't reach the server
 * or hung up (a {@link ProxyError} that is `transient`). Everything else, such
 * as 401, 403, a 400 that says the server expects TLS, an untrusted
 * certificate or an invalid URI, won't get better by retrying.
 */
export function isTransientError(error: unknown): boolean {
  if (error instanceof TimeoutError) return true;
  // A server whose scheme isn't the URI's (TLS for ws://, plain for wss://)
  // stays so, whatever it answered.
  if (isSchemeMismatch(error)) return false;
  // A server that closed or garbled its answer may be restarting.
  if (error instanceof InvalidMessage) return true;
  if (error instanceof InvalidStatus) return TRANSIENT_STATUSES.has(error.response.status);
  if (error instanceof ProxyError) {
    return error.transient || (error.status !== null && TRANSIENT_STATUSES.has(error.status));
  }
  // Node tries each address of a host with several (`localhost`: ::1 and
  // 127.0.0.1, with `autoSelectFamily`) and reports their failures together,
  // as an AggregateError without a system call of its own.
  if (error instanceof AggregateError) {
    return error.errors.length > 0 && error.errors.every((each) => isTransientError(each));
  }
  if (!(error instanceof Error)) return false;
  const { syscall, code } = error as NodeJS.ErrnoException;
  // Node reports a peer that hung up during the TLS handshake ("Client network
  // socket disconnected before secure TLS connection was established") as
  // ECONNRESET without a system call.
  return typeof syscall === "string" || code === "ECONNRESET";
}

/** The options of {@link ReconnectOptions} that {@link backoffDelay} reads. */
export type BackoffOptions = Pick<ReconnectOptions, "initialDelay" | "maxDelay" | "backoffFactor">;

/** {@link BackoffOptions} with their defaults applied, once checked. */
type Backoff = Readonly<Resolved<BackoffOptions>>;

/**
 * Applies the defaults of {@link RECONNECT_DEFAULTS} (to `undefined` and, as
 * `??` does, `null`) and checks the result, since a bad value doesn't fail
 * by itself: Node's timers wait 1 ms for a `NaN`, a negative delay or one
 * over {@link MAX_TIMER_DELAY}, so the backoff would all but vanish.
 *
 * @throws TypeError for an option that is not a number.
 * @throws RangeError for an `initialDelay` that is negative, NaN or over
 *   2147483647 ms; a `maxDelay` below `initialDelay`, NaN, or finite and
 *   over 2147483647 ms; a `backoffFactor` below 1, NaN or infinite.
 */
function resolveBackoff(options: BackoffOptions): Backoff {
  const initialDelay = numberOption("initialDelay", options.initialDelay);
  // Without a maxDelay of its own, a larger initialDelay raises it: asking
  // for 2 minutes first shouldn't require restating the ceiling.
  const maxDelay =
    options.maxDelay == null
      ? Math.max(RECONNECT_DEFAULTS.maxDelay, initialDelay)
      : numberOption("maxDelay", options.maxDelay);
  const backoffFactor = numberOption("backoffFactor", options.backoffFactor);
  if (!(initialDelay >= 0 && initialDelay <= MAX_TIMER_DELAY)) {
    throw new RangeError(
      `initialDelay must be from 0 to ${MAX_TIMER_DELAY} ms; got ${initialDelay}`,
    );
  }
  const unbounded = maxDelay === Number.POSITIVE_INFINITY;
  if (!(unbounded || (maxDelay >= initialDelay && maxDelay <= MAX_TIMER_DELAY))) {
    throw new RangeError(
      `maxDelay must be from initialDelay (${initialDelay}) to ${MAX_TIMER_DELAY} ms, or Infinity; got ${maxDelay}`,
    );
  }
  if (!(backoffFactor >= 1 && Number.isFinite(backoffFactor))) {
    throw new RangeError(`backoffFactor must be finite and at least 1; got ${backoffFactor}`);
  }
  return { initialDelay, maxDelay, backoffFactor };
}

/**
 * A backoff option with its default applied.
 *
 * @throws TypeError for a value that is not a number, such as the string
 *   `"1000"`, which comparisons would otherwise take for 1000.
 */
function numberOption(name: keyof BackoffOptions, value: unknown): number {
  value ??= RECONNECT_DEFAULTS[name];
  if (typeof value !== "number") {
    throw new TypeError(`${name} must be a number; got ${describeValue(value)}`);
  }
  return value;
}

/**
 * The delay before connecting again after `attempt` setbacks in a row (failed
 * attempts, connections that ended badly; see {@link reconnect}): it grows by
 * `backoffFactor` from `initialDelay` up to `maxDelay`, and a random part,
 * from half of it to all of it, spreads out clients that lost their
 * connection at the same moment so they don't all come back at once. It is
 * never over 2147483647 ms, the longest a Node timer waits, even when
 * `maxDelay` is `Infinity`.
 *
 * @throws RangeError for an `attempt` that is not an integer from 1, or an
 *   option out of its range (see {@link ReconnectOptions}).
 * @throws TypeError for an option that is not a number, or an unknown one.
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  if (!(Number.isInteger(attempt) && attempt >= 1)) {
    throw new RangeError(`attempt must be an integer from 1; got ${String(attempt)}`);
  }
  checkOptionNames(options, BACKOFF_OPTIONS, "backoffDelay()");
  return jitteredDelay(attempt, resolveBackoff(options), random);
}

/** The largest {@link backoffDelay} after `attempt` setbacks in a row. */
function backoffCeiling(attempt: number, backoff: Backoff): number {
  // 0 × backoffFactor^(attempt − 1) would be NaN once the power overflows to Infinity.
  if (backoff.initialDelay === 0) return 0;
  const delay = backoff.initialDelay * backoff.backoffFactor ** (attempt - 1);
  // A larger delay, which only an infinite maxDelay lets through, would make
  // Node's timer fire after 1 ms.
  return Math.min(backoff.maxDelay, delay, MAX_TIMER_DELAY);
}

/** {@link backoffDelay} for options already resolved. */
function jitteredDelay(attempt: number, backoff: Backoff, random: () => number): number {
  return backoffCeiling(attempt, backoff) * (0.5 + random() / 2);
}

/**
 * Connects to `uri` again and again. Each iteration gets an open connection;
 * when the loop body finishes with it (it is closed then, if it wasn't
 * already), the next iteration connects again: at once after a normal
 * closure, after {@link backoffDelay} after a setback. Setbacks are a failed
 * attempt, which is retried only when `shouldRetry` says so (otherwise the
 * loop throws its error), a connection that closed abnormally (1006, 1011,
 * 1012, 1013 or 1014), and one that the server or the network ended sooner than
 * the delay the next setback would wait (`initialDelay` at first). The delay
 * grows with the setbacks in a row; a connection that lasted longer resets
 * it. Leaving the loop (`break`, `return`, an exception) closes the current
 * connection.
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
 * connecting or waiting to reconnect, and, when the signal is aborted while
 * the loop body uses a connection, as soon as the body is done with it,
 * without waiting.
 *
 * @throws RangeError from the first iteration, before connecting, for a
 *   backoff option out of its range (see {@link ReconnectOptions}), or an
 *   option of `connect()` out of its range.
 * @throws InvalidUri likewise, for a URI that `connect()` refuses.
 * @throws TypeError likewise for an unknown option (`initalDelay`), naming the
 *   one meant when it is close, a backoff option that is not a number, or a
 *   `shouldRetry` that is not a function.
 */
export async function* reconnect(
  uri: string | URL,
  options: ReconnectOptions = {},
): AsyncGenerator<ClientConnection, void, undefined> {
  checkOptionNames(options, RECONNECT_OPTIONS, "reconnect()");
  // The retry policy's options, and connect()'s, which takes none of those.
  const { initialDelay, maxDelay, backoffFactor, shouldRetry: retry, ...connectOptions } = options;
  // Checked before the first attempt, rather than when a setback first
  // needs them: a bad value would otherwise show only as delays that are
  // wrong, or as a TypeError from the loop after a failed attempt.
  const backoff = resolveBackoff({ initialDelay, maxDelay, backoffFactor });
  // Likewise connect()'s own mistakes (a bad URI or option): a shouldRetry
  // that retries everything would otherwise retry them forever.
  // The headers, read once: an iterable of them may be an iterator, which a
  // second attempt would find empty.
  const { headers } = checkConnectArguments(uri, connectOptions);
  const attemptOptions: ConnectOptions = { ...connectOptions, additionalHeaders: headers };
  const shouldRetry = retry ?? isTransientError;
  if (typeof shouldRetry !== "function") {
    throw new TypeError(`shouldRetry must be a function; got ${kindOf(shouldRetry)}`);
  }
  const logger = resolveLogger(options.logger);
  /** Attempts that failed in a row, for `shouldRetry`. */
  let failures = 0;
  /** Failed attempts and connections that ended badly, in a row, for the backoff. */
  let setbacks = 0;
  for (;;) {
    let connection: ClientConnection;
    try {
      connection = await connect(uri, attemptOptions);
    } catch (error) {
      options.signal?.throwIfAborted();
      failures++;
      if (!shouldRetry(error, failures)) throw error;
      setbacks++;
      const delay = jitteredDelay(setbacks, backoff, Math.random);
      logger.info(
        `connection attempt failed (${error instanceof Error ? error.message : String(error)}); ` +
          `retrying in ${Math.round(delay)} ms`,
      );
      await sleep(delay, options.signal);
      continue;
    }
    failures = 0;
    const openedAt = performance.now();
    /** Whether the loop body, rather than the server or the network, ended the connection. */
    let endedByBody = false;
    try {
      yield connection;
      // Left open, or closed by the body: its close frame went first.
      endedByBody =
        connection.state === State.OPEN || connection.protocol.closeRcvdThenSent === false;
    } finally {
      await connection.close();
    }
    // Aborted while the loop body had the connection: stop here, before
    // announcing a reconnection or waiting for one that won't happen.
    options.signal?.throwIfAborted();
    const lifetime = performance.now() - openedAt;
    // A connection that lasted as long as the next setback would wait shows
    // that the server is back: the backoff starts over.
    const lasted = lifetime >= backoffCeiling(Math.max(setbacks, 1), backoff);
    if (lasted) setbacks = 0;
    const code = connection.closeCode ?? CloseCode.ABNORMAL_CLOSURE;
    // RFC 6455 §7.2.3: "clients SHOULD use some form of backoff when trying
    // to reconnect after abnormal closures ... The first reconnect attempt
    // SHOULD be delayed by a random amount of time ... Should the first
    // reconnect attempt fail, subsequent reconnect attempts SHOULD be delayed
    // by increasingly longer amounts of time". A server that accepts and
    // closes at once gets the same treatment; an application that ends its
    // connections early by leaving the loop body doesn't.
    if (!ABNORMAL_CLOSE_CODES.has(code) && (lasted || endedByBody)) continue;
    setbacks++;
    const delay = jitteredDelay(setbacks, backoff, Math.random);
    logger.info(
      `connection closed with ${code} after ${Math.round(lifetime)} ms; ` +
        `reconnecting in ${Math.round(delay)} ms`,
    );
    await sleep(delay, options.signal);
  }
}

/**
 * Waits `delay` ms; rejects with the signal's reason if it is aborted first,
 * or at once, without a timer, if it already is.
 */
function sleep(delay: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    // An aborted signal doesn't fire "abort" again: a listener added now
    // would never run, and the whole delay would pass before the loop stops.
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
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
