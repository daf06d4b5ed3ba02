import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { DEFAULT_HTTP_LIMITS, withDefaults } from "../../src/core/http-limits.js";

describe("DEFAULT_HTTP_LIMITS", () => {
  it("has the documented values and can't be changed", () => {
    assert.deepEqual(DEFAULT_HTTP_LIMITS, {
      maxLineLength: 8192,
      maxHeaders: 128,
      maxHeaderSize: 32_768,
      maxBodySize: 1_048_576,
    });
    assert.ok(Object.isFrozen(DEFAULT_HTTP_LIMITS));
  });
});

describe("withDefaults", () => {
  it("shares the defaults when no limit is given, and fills in those left out", () => {
    assert.equal(withDefaults({}), DEFAULT_HTTP_LIMITS);
    assert.equal(withDefaults(DEFAULT_HTTP_LIMITS), DEFAULT_HTTP_LIMITS);
    assert.deepEqual(withDefaults({ maxHeaderSize: 0, maxHeaders: undefined }), {
      ...DEFAULT_HTTP_LIMITS,
      maxHeaderSize: 0,
    });
  });

  it("refuses a limit that is not a whole number from 0", () => {
    for (const [value, shown] of [
      [-1, "-1"],
      [1.5, "1.5"],
      [Number.NaN, "NaN"],
      [Number.POSITIVE_INFINITY, "Infinity"],
      ["8192", '"8192"'],
      [null, "null"],
    ] as const) {
      assert.throws(() => withDefaults({ maxLineLength: value as never }), {
        name: typeof value === "number" ? "RangeError" : "TypeError",
        message: `httpLimits.maxLineLength must be a whole number from 0; got ${shown}`,
      });
    }
    assert.throws(() => withDefaults({ maxHeaderSize: -5 }), /httpLimits\.maxHeaderSize/);
  });
});
