/**
 * Telling a promise-like value from any other, as `await` does: by its
 * callable `then`.
 *
 * @module
 */

/** Whether `value` has a callable `then`: a promise, or any thenable. */
export function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return (
    ((typeof value === "object" && value !== null) || typeof value === "function") &&
    typeof (value as { then?: unknown }).then === "function"
  );
}
