/**
 * The WebIDL conversions (https://webidl.spec.whatwg.org/#es-type-mapping)
 * that the WebSocket interface's arguments and attributes go through, so that
 * values of other types behave as in a browser.
 *
 * @module
 */

/** WebIDL `DOMString`: like `String()`, except that a symbol is a `TypeError`. */
export function toDOMString(value: unknown): string {
  if (typeof value === "symbol") throw new TypeError("cannot convert a Symbol to a string");
  return String(value);
}

/** WebIDL `unsigned short`: the integer part modulo 2^16. */
export function toUnsignedShort(value: unknown): number {
  const number = Number(value);
  return Number.isFinite(number) ? Math.trunc(number) & 0xffff : 0;
}

/** WebIDL `unsigned long`: the integer part modulo 2^32. */
export function toUnsignedLong(value: unknown): number {
  const number = Number(value);
  return Number.isFinite(number) ? Math.trunc(number) >>> 0 : 0;
}

/**
 * WebIDL `[Clamp] unsigned short`: NaN is 0, values outside 0–65535 are
 * clamped, and others round to the nearest integer, halves to the even one.
 */
export function toClampedUnsignedShort(value: unknown): number {
  const number = Number(value);
  if (Number.isNaN(number)) return 0;
  const clamped = Math.min(Math.max(number, 0), 0xffff);
  const floor = Math.floor(clamped);
  const fraction = clamped - floor;
  if (fraction > 0.5 || (fraction === 0.5 && floor % 2 === 1)) return floor + 1;
  return floor;
}
