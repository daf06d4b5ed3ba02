/**
 * How error messages name a value that was not accepted, the same way in
 * every layer: `got 0`, `got "100"`, `got a Uint16Array`.
 *
 * @module
 */

/**
 * The kind of a value: "a Uint16Array", "a number", "an Object", "null".
 */
export function kindOf(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value !== "object") return withArticle(typeof value);
  const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === "string" && name !== "" ? withArticle(name) : "an object";
}

/**
 * A value for an error message: numbers as they are, strings quoted (so that
 * `"100"` isn't read as 100), and the kind of anything else.
 */
export function describeValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number") return String(value);
  return kindOf(value);
}

/**
 * The error for a numeric option refused: a `TypeError` when `value` is not
 * a number at all (`"100"`, `true`), a `RangeError` when it is one out of
 * range. `message` says what is expected and what was given.
 */
export function numberOptionError(value: unknown, message: string): TypeError | RangeError {
  return typeof value === "number" ? new RangeError(message) : new TypeError(message);
}

/**
 * `word` after "a", or "an" before a vowel: "an Object", "an Array". Not
 * before U, which starts "Uint8Array" and "URL" with the sound of "you".
 */
function withArticle(word: string): string {
  return `${/^[aeio]/i.test(word) ? "an" : "a"} ${word}`;
}
