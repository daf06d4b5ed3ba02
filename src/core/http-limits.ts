/**
 * The size limits of the HTTP parsers, {@link HttpLimits}, and their defaults.
 *
 * @module
 */

import { describeValue, numberOptionError } from "./describe-value.js";
import type { Resolved } from "./resolved.js";

/** Size limits for parsing HTTP messages. Lines count their CRLF. */
export interface HttpLimits {
  /** Longest request, status, header or chunk-size line, CRLF included. Default 8192. */
  maxLineLength?: number | undefined;
  /** Most header fields (and, separately, trailer fields). Default 128. */
  maxHeaders?: number | undefined;
  /**
   * Largest head, in bytes as they arrive: the request or status line and
   * the header fields, every CRLF included. Default 32768: more than Node's
   * HTTP server and client take by default (16 KiB of the target, names and
   * values, without the rest of each line), as much as nginx's default
   * buffers hold (4 × 8 KiB). A server keeps each connection's request
   * headers for as long as the connection is open, so this bounds what they
   * cost.
   */
  maxHeaderSize?: number | undefined;
  /** Largest response body, after chunked decoding. Default 1 MiB. */
  maxBodySize?: number | undefined;
}

/** The limits the parsers apply when given none. */
export const DEFAULT_HTTP_LIMITS: Readonly<Resolved<HttpLimits>> = Object.freeze({
  maxLineLength: 8192,
  maxHeaders: 128,
  maxHeaderSize: 32_768,
  maxBodySize: 1_048_576,
});

/**
 * Fills in the limits the caller left out.
 *
 * @throws RangeError for a limit that is not a whole number from 0.
 */
export function withDefaults(limits: HttpLimits): Resolved<HttpLimits> {
  // Every connection of a server without limits of its own shares the defaults.
  if (
    limits === DEFAULT_HTTP_LIMITS ||
    (limits.maxLineLength === undefined &&
      limits.maxHeaders === undefined &&
      limits.maxHeaderSize === undefined &&
      limits.maxBodySize === undefined)
  ) {
    return DEFAULT_HTTP_LIMITS;
  }
  return {
    maxLineLength: limit(limits, "maxLineLength"),
    maxHeaders: limit(limits, "maxHeaders"),
    maxHeaderSize: limit(limits, "maxHeaderSize"),
    maxBodySize: limit(limits, "maxBodySize"),
  };
}

/** One limit, or its default when left out. */
function limit(limits: HttpLimits, name: keyof HttpLimits): number {
  const value = limits[name];
  if (value === undefined) return DEFAULT_HTTP_LIMITS[name];
  if (!Number.isSafeInteger(value) || value < 0) {
    throw numberOptionError(
      value,
      `httpLimits.${name} must be a whole number from 0; got ${describeValue(value)}`,
    );
  }
  return value;
}
