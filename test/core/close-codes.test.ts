import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CloseCode, closeCodeExplanation, isValidCloseCode } from "../../src/core/close-codes.js";

describe("close codes", () => {
  it("explains close codes", () => {
    assert.equal(closeCodeExplanation(CloseCode.NORMAL_CLOSURE), "OK");
    assert.equal(closeCodeExplanation(1009), "message too big");
    assert.equal(closeCodeExplanation(3001), "registered");
    assert.equal(closeCodeExplanation(4001), "private use");
    assert.equal(closeCodeExplanation(2000), "unknown");
  });

  it("allows on the wire exactly the codes RFC 6455 and IANA allow", () => {
    const valid = [
      1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000,
      4999,
    ];
    const invalid = [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535];
    for (const code of valid) assert.equal(isValidCloseCode(code), true, `${code}`);
    for (const code of invalid) assert.equal(isValidCloseCode(code), false, `${code}`);
  });

  it("allows only integers: a close code is a 2-byte unsigned integer", () => {
    const invalid = [1000.5, 1001.000001, 3000.7, 4999.9, Number.NaN, Number.POSITIVE_INFINITY];
    for (const code of invalid) assert.equal(isValidCloseCode(code), false, `${code}`);
    assert.equal(isValidCloseCode("1000" as never), false);
    assert.equal(isValidCloseCode(3000.0), true);
  });
});
