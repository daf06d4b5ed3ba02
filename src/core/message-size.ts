/**
 * The `maxMessageSize` option, checked the same way by the core and the
 * Node layer.
 *
 * @module
 */

import { describeValue, numberOptionError } from "./describe-value.js";

/**
 * `value` as a limit in bytes: `fallback` for `undefined`, `Infinity` for
 * `null` or `Infinity` (no limit).
 *
 * @throws RangeError for anything but a whole number of bytes from 1: `0` in
 *   particular, which `ws` reads as "no limit" (`maxPayload: 0`) and would
 *   refuse every message but empty ones here.
 */
export function resolveMaxMessageSize(value: number | null | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (value === null || value === Number.POSITIVE_INFINITY) return Number.POSITIVE_INFINITY;
  if (!(Number.isSafeInteger(value) && value >= 1)) {
    throw numberOptionError(
      value,
      `maxMessageSize must be a whole number of bytes from 1, or null or Infinity for no limit; got ${describeValue(value)}`,
    );
  }
  return value;
}
