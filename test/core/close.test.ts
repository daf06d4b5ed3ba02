import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Close } from "../../src/core/close.js";
import { CloseCode } from "../../src/core/close-codes.js";
import { InvalidState, ProtocolError } from "../../src/core/errors.js";
import { hex, toHex } from "../helpers/bytes.js";

describe("Close", () => {
  it("parses and serializes code and reason", () => {
    const close = Close.parse(hex("03 e8 62 79 65"));
    assert.equal(close.code, 1000);
    assert.equal(close.reason, "bye");
    assert.equal(toHex(close.serialize()), "03e8627965");
    assert.equal(String(close), "1000 (OK) bye");
    assert.equal(String(new Close(1009, "")), "1009 (message too big)");
  });

  it("escapes the control characters of the reason in its text, which goes into logs", () => {
    assert.equal(
      String(new Close(1000, "a\r\nb\tc\x1b\x7f\u009b")),
      "1000 (OK) a\\x0d\\x0ab\\x09c\\x1b\\x7f\\x9b",
    );
    assert.equal(new Close(1000, "a\nb").reason, "a\nb");
  });

  it("keeps a reason's leading U+FEFF, as sent", () => {
    // A decoder that strips a byte order mark would report "bye".
    const close = Close.parse(hex("03 e8 ef bb bf 62 79 65"));
    assert.equal(close.reason, "\ufeffbye");
    assert.equal(toHex(close.serialize()), "03e8efbbbf627965");
  });

  it("reads an empty payload as 1005", () => {
    const close = Close.parse(new Uint8Array(0));
    assert.equal(close.code, CloseCode.NO_STATUS_RCVD);
    assert.equal(close.reason, "");
  });

  it("rejects a 1-byte payload, invalid codes and invalid UTF-8", () => {
    assert.throws(
      () => Close.parse(hex("03")),
      (e: unknown) => e instanceof ProtocolError && e.closeCode === 1002,
    );
    assert.throws(
      () => Close.parse(hex("03 ed")),
      (e: unknown) => e instanceof ProtocolError && e.closeCode === 1002,
    );
    assert.throws(
      () => Close.parse(hex("03 e8 ce ba e1 bd b9 ed a0 80")),
      (e: unknown) => e instanceof ProtocolError && e.closeCode === 1007,
    );
  });

  it("refuses to serialize codes that may not be sent and reasons over 123 bytes", () => {
    assert.throws(() => new Close(1005, "").serialize(), InvalidState);
    // Not truncated to 3000 (0b b8) on the wire.
    assert.throws(() => new Close(3000.7, "").serialize(), /invalid close code: 3000\.7/);
    assert.throws(() => new Close(1000, "x".repeat(124)).serialize(), /123 bytes/);
    assert.equal(new Close(1000, "x".repeat(123)).serialize().length, 125);
  });
});
