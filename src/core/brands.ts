/**
 * What kind of object a value is, across realms and implementations: a
 * `URL` from a polyfill (whatwg-url, as jsdom uses) or a `RegExp` made in a
 * `vm` context fails `instanceof` here, yet works wherever the library reads
 * it (`String(url)`, `new RegExp(rule)`). Their `Symbol.toStringTag` says
 * what they are.
 *
 * @module
 */

/** Whether `value` is a URL object, this realm's or not: its string is its `href`. */
export function isUrlObject(value: unknown): value is URL {
  return (
    value instanceof URL ||
    (typeof value === "object" &&
      value !== null &&
      Object.prototype.toString.call(value) === "[object URL]" &&
      typeof (value as { href?: unknown }).href === "string")
  );
}

/** Whether `value` is a regular expression, this realm's or not. */
export function isRegExpObject(value: unknown): value is RegExp {
  return value instanceof RegExp || Object.prototype.toString.call(value) === "[object RegExp]";
}
