/**
 * The size limits of the HTTP parsers, {@link HttpLimits}, and their defaults.
 *
 * @module
 */

import type { Resolved } from "./resolved.js";

/** Size limits for parsing HTTP messages. Lines count their CRLF. */
export interface HttpLimits {
  /** Longest request, status, header or chunk-size line, CRLF included. Default 8192. */
  maxLineLength?: number | undefined;
  /** Most header fields (and, separately, trailer fields). Default 128. */
  maxHeaders?: number | undefined;
  /** Largest response body, after chunked decoding. Default 1 MiB. */
  maxBodySize?: number | undefined;
}

/** The limits the parsers apply when given none. */
export const DEFAULT_HTTP_LIMITS: Readonly<Resolved<HttpLimits>> = Object.freeze({
  maxLineLength: 8192,
  maxHeaders: 128,
  maxBodySize: 1_048_576,
});

/** Fills in the limits the caller left out. */
export function withDefaults(limits: HttpLimits): Resolved<HttpLimits> {
  // Every connection of a server without limits of its own shares the defaults.
  if (
    limits.maxLineLength === undefined &&
    limits.maxHeaders === undefined &&
    limits.maxBodySize === undefined
  ) {
    return DEFAULT_HTTP_LIMITS;
  }
  return {
    maxLineLength: limits.maxLineLength ?? DEFAULT_HTTP_LIMITS.maxLineLength,
    maxHeaders: limits.maxHeaders ?? DEFAULT_HTTP_LIMITS.maxHeaders,
    maxBodySize: limits.maxBodySize ?? DEFAULT_HTTP_LIMITS.maxBodySize,
  };
}
