import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { escapeControlCharacters, quoteText } from "../../src/core/control-characters.js";

describe("escapeControlCharacters", () => {
  it("escapes C0 controls, DEL and C1 controls as \\xNN", () => {
    for (let code = 0; code < 0x20; code++) {
      const hex = code.toString(16).padStart(2, "0");
      assert.equal(escapeControlCharacters(String.fromCharCode(code)), `\\x${hex}`);
    }
    for (let code = 0x7f; code <= 0x9f; code++) {
      assert.equal(escapeControlCharacters(String.fromCharCode(code)), `\\x${code.toString(16)}`);
    }
  });

  it("leaves everything else as it is, backslashes and non-ASCII letters included", () => {
    const text = " ~\\ é\u00a0\u2028😀 ok";
    assert.equal(escapeControlCharacters(text), text);
    assert.equal(escapeControlCharacters("a\nb\nc"), "a\\x0ab\\x0ac");
  });
});

describe("quoteText", () => {
  it("quotes as JSON does, and escapes DEL and the C1 controls JSON leaves alone", () => {
    assert.equal(quoteText('say "hi"\n'), '"say \\"hi\\"\\n"');
    assert.equal(quoteText("\u009b31m\u007f"), '"\\x9b31m\\x7f"');
    assert.equal(quoteText("\u001b[2J"), '"\\u001b[2J"');
    assert.equal(quoteText("café 😀"), '"café 😀"');
  });
});
