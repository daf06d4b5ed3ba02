import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { resolveMaxMessageSize } from "../../src/core/message-size.js";

describe("resolveMaxMessageSize", () => {
  it("takes the fallback for undefined and Infinity for no limit", () => {
    assert.equal(resolveMaxMessageSize(undefined, 1024), 1024);
    assert.equal(resolveMaxMessageSize(null, 1024), Number.POSITIVE_INFINITY);
    assert.equal(resolveMaxMessageSize(Number.POSITIVE_INFINITY, 1024), Number.POSITIVE_INFINITY);
    assert.equal(resolveMaxMessageSize(1, 1024), 1);
    assert.equal(resolveMaxMessageSize(2 ** 53 - 1, 1024), 2 ** 53 - 1);
  });

  it("refuses anything but a whole number of bytes from 1, naming the value", () => {
    const refused: [unknown, string][] = [
      [0, "0"],
      [-1, "-1"],
      [0.5, "0.5"],
      [Number.NaN, "NaN"],
      [Number.NEGATIVE_INFINITY, "-Infinity"],
      [2 ** 53, "9007199254740992"],
      ["100", '"100"'],
    ];
    for (const [value, shown] of refused) {
      assert.throws(() => resolveMaxMessageSize(value as number, 1024), {
        // What isn't a number at all is a TypeError.
        name: typeof value === "number" ? "RangeError" : "TypeError",
        message: `maxMessageSize must be a whole number of bytes from 1, or null or Infinity for no limit; got ${shown}`,
      });
    }
  });
});
