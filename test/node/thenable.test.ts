/** What counts as promise-like where the library awaits or observes a value. */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isThenable } from "../../src/node/thenable.js";

/** `target` with a `then` property of `value`: a thenable, on purpose, when `value` is callable. */
function withThen(target: object, value: unknown): unknown {
  // biome-ignore lint/suspicious/noThenProperty: thenables are what this tests.
  return Object.defineProperty(target, "then", { value, enumerable: true });
}

describe("isThenable()", () => {
  it("knows promises and any object or function with a callable then", () => {
    const thenables = [
      Promise.resolve(1),
      withThen({}, () => {}),
      withThen(
        () => {},
        () => {},
      ),
    ];
    for (const value of thenables) assert.equal(isThenable(value), true);
  });

  it("refuses everything else", () => {
    const others = [undefined, null, 0, "then", withThen({}, 1), [], () => {}];
    for (const value of others) assert.equal(isThenable(value), false, String(value));
  });
});
