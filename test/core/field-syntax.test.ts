import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { isFieldValueChar, isToken } from "../../src/core/field-syntax.js";

describe("isToken and isFieldValueChar", () => {
  it("accepts every tchar and nothing else", () => {
    assert.ok(isToken("!#$%&'*+-.^_`|~09AZaz"));
    assert.equal(isToken(""), false);
    for (const c of ' "(),/:;<=>?@[\\]{}\t\x7f\u00e9') assert.equal(isToken(`a${c}`), false, c);
  });

  it("accepts HTAB, SP, VCHAR and obs-text only", () => {
    assert.ok(isFieldValueChar(0x09));
    assert.ok(isFieldValueChar(0x20));
    assert.ok(isFieldValueChar(0x7e));
    assert.ok(isFieldValueChar(0xff));
    for (const c of [0x00, 0x0a, 0x0d, 0x1f, 0x7f, 0x100]) assert.equal(isFieldValueChar(c), false);
  });
});
