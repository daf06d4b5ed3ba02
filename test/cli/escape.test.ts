import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { escapeControl } from "../../src/cli/escape.js";

describe("escapeControl", () => {
  it("leaves printable text, line feeds and tabs alone", () => {
    const text = "Hello, wörld! ☕ 日本 \\x1b\ttab\nline \u00a0\u00ff\u{1f600}";
    assert.equal(escapeControl(text), text);
  });

  it("escapes ESC, which defuses escape sequences", () => {
    assert.equal(escapeControl("\x1b[2J"), "\\x1b[2J");
    assert.equal(escapeControl("\x1b]0;title\x07"), "\\x1b]0;title\\x07");
    assert.equal(escapeControl("\x1bc"), "\\x1bc");
  });

  it("escapes every C0 control except TAB and LF, and DEL", () => {
    for (let code = 0; code < 0x20; code++) {
      const character = String.fromCharCode(code);
      const expected =
        code === 0x09 || code === 0x0a ? character : `\\x${code.toString(16).padStart(2, "0")}`;
      assert.equal(escapeControl(character), expected);
    }
    assert.equal(escapeControl("\r\b\x00\x7f"), "\\x0d\\x08\\x00\\x7f");
  });

  it("escapes C1 controls, such as the one-character CSI", () => {
    for (let code = 0x80; code < 0xa0; code++) {
      assert.equal(escapeControl(String.fromCharCode(code)), `\\x${code.toString(16)}`);
    }
    assert.equal(escapeControl("\x9b31mred"), "\\x9b31mred");
  });
});
