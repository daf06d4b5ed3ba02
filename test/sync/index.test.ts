/** The `websockets-ts/sync` entry point: what it re-exports from the async one. */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as main from "../../src/index.js";
import * as sync from "../../src/sync/index.js";

describe("websockets-ts/sync exports", () => {
  it("re-exports every error class of websockets-ts, as the same classes", () => {
    const errorClasses = Object.entries(main).filter(
      ([, value]) => typeof value === "function" && value.prototype instanceof Error,
    );
    // The tree under WebSocketError: a shrinking list would make this test vacuous.
    assert.ok(errorClasses.length >= 24, `only ${errorClasses.length} error classes found`);
    const missing = errorClasses
      .filter(([name, value]) => (sync as Record<string, unknown>)[name] !== value)
      .map(([name]) => name);
    assert.deepEqual(missing, []);
  });

  it("re-exports CloseCode and State", () => {
    assert.equal(sync.CloseCode, main.CloseCode);
    assert.equal(sync.State, main.State);
  });
});
