/** Test helpers for header values and the errors their parsers throw. */

import assert from "node:assert/strict";
import { InvalidHeaderFormat } from "../../src/core/errors.js";

/** Asserts that `fn` throws InvalidHeaderFormat with this error text and position. */
export function assertFormat(
  fn: () => unknown,
  error: string,
  position: number,
  header?: string,
): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof InvalidHeaderFormat, String(e));
    assert.equal(e.error, error);
    assert.equal(e.position, position);
    if (header !== undefined) assert.equal(e.header, header);
    return true;
  });
}
