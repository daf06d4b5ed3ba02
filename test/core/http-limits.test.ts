import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { DEFAULT_HTTP_LIMITS } from "../../src/core/http-limits.js";

describe("DEFAULT_HTTP_LIMITS", () => {
  it("has the documented values and can't be changed", () => {
    assert.deepEqual(DEFAULT_HTTP_LIMITS, {
      maxLineLength: 8192,
      maxHeaders: 128,
      maxBodySize: 1_048_576,
    });
    assert.ok(Object.isFrozen(DEFAULT_HTTP_LIMITS));
  });
});
