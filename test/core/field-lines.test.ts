import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { InvalidMessage } from "../../src/core/errors.js";
import { COMMON_VALUES, contentLength, isOws, readFields } from "../../src/core/field-lines.js";
import { COMMON_FIELD_VALUES, Headers } from "../../src/core/headers.js";
import { DEFAULT_HTTP_LIMITS, type HttpLimits, withDefaults } from "../../src/core/http-limits.js";
import { LineBuffer } from "../../src/core/line-buffer.js";
import { StreamReader } from "../../src/core/streams.js";
import { concat, hex, splits, toHex } from "../helpers/bytes.js";
import { bytes } from "../helpers/http.js";

interface ReadOptions {
  limits?: HttpLimits;
  what?: string;
  unfold?: boolean;
}

/** The fields of `data`, a whole field section, read in one go. */
function fields(data: Uint8Array | string, options: ReadOptions = {}): [string, string][] {
  const reader = new StreamReader();
  reader.feedData(typeof data === "string" ? bytes(data) : data);
  const headers = new Headers();
  const { limits = {}, what = "header", unfold = false } = options;
  const done = readFields(reader, new LineBuffer(), headers, withDefaults(limits), what, unfold);
  assert.equal(done, true, "the field section is complete");
  return [...headers];
}

/** Asserts that reading `data` throws InvalidMessage with `message` and `status`. */
function assertRefused(
  data: Uint8Array | string,
  message: string,
  status = 400,
  options: ReadOptions = {},
): void {
  assert.throws(
    () => fields(data, options),
    (error) => {
      assert.ok(error instanceof InvalidMessage, String(error));
      assert.equal(error.message, message);
      assert.equal(error.status, status);
      return true;
    },
  );
}

describe("readFields", () => {
  it("reads field lines up to the empty line and leaves what follows in the reader", () => {
    const reader = new StreamReader();
    reader.feedData(concat([bytes("Host: h\r\nUpgrade: websocket\r\n\r\n"), hex("81 00")]));
    const headers = new Headers();
    assert.equal(
      readFields(reader, new LineBuffer(), headers, DEFAULT_HTTP_LIMITS, "header"),
      true,
    );
    assert.deepEqual(
      [...headers],
      [
        ["Host", "h"],
        ["Upgrade", "websocket"],
      ],
    );
    assert.equal(toHex(reader.readAll()), "8100");
  });

  it("reads an empty field section", () => {
    assert.deepEqual(fields(hex("0d 0a")), []);
  });

  it("returns false until the empty line, at every split", () => {
    const data = bytes("A: 1\r\nB: 2\r\n\r\n");
    for (const chunks of splits(data)) {
      const reader = new StreamReader();
      const lines = new LineBuffer();
      const headers = new Headers();
      let done = false;
      for (const [i, chunk] of chunks.entries()) {
        reader.feedData(chunk);
        done = readFields(reader, lines, headers, DEFAULT_HTTP_LIMITS, "header");
        if (i < chunks.length - 1) assert.equal(done, false, `done after chunk ${i}`);
      }
      assert.equal(done, true);
      assert.deepEqual(
        [...headers],
        [
          ["A", "1"],
          ["B", "2"],
        ],
      );
    }
  });

  it("trims SP and HTAB around a value and keeps them inside it", () => {
    assert.deepEqual(fields("X:a\r\nY: \t a \t b \t\r\nZ:\r\nW: \t \r\n\r\n"), [
      ["X", "a"],
      ["Y", "a \t b"],
      ["Z", ""],
      ["W", ""],
    ]);
  });

  it("splits at the first colon only", () => {
    assert.deepEqual(fields("Origin: http://h:80\r\n\r\n"), [["Origin", "http://h:80"]]);
  });

  it("decodes obs-text one character per octet", () => {
    const data = concat([bytes("X: caf"), hex("e9 80 ff"), bytes("\r\n\r\n")]);
    assert.deepEqual(fields(data), [["X", "caf\u00e9\u0080\u00ff"]]);
  });

  it("keeps the casing of names and every repeated field", () => {
    const headers = fields("sec-websocket-protocol: a\r\nSEC-WEBSOCKET-PROTOCOL: b\r\n\r\n");
    assert.deepEqual(headers, [
      ["sec-websocket-protocol", "a"],
      ["SEC-WEBSOCKET-PROTOCOL", "b"],
    ]);
  });

  it("refuses a line without a colon", () => {
    assertRefused("Host example.com\r\n\r\n", 'header line without colon: "Host example.com"');
  });

  it("refuses a name that isn't a token: whitespace before the colon, an empty name, a separator, a non-ASCII octet", () => {
    assertRefused("Host : h\r\n\r\n", 'invalid header name: "Host "');
    assertRefused(": h\r\n\r\n", 'invalid header name: ""');
    assertRefused("Ho(st: h\r\n\r\n", 'invalid header name: "Ho(st"');
    assertRefused(
      concat([hex("48 e9"), bytes(": h\r\n\r\n")]),
      `invalid header name: ${JSON.stringify("H\u00e9")}`,
    );
  });

  it("refuses NUL, a bare CR, DEL and other controls in a value", () => {
    for (const octet of ["00", "0d", "7f", "01", "1f", "0b"]) {
      assertRefused(
        concat([bytes("X-Bad: a"), hex(octet), bytes("b\r\n\r\n")]),
        "invalid character in X-Bad header",
      );
    }
  });

  it("refuses a line that ends with a bare LF", () => {
    assertRefused("A: 1\nB: 2\r\n\r\n", "line ends with a bare LF");
  });

  it("counts the CRLF in maxLineLength, and answers 431 over it", () => {
    // "X: abc\r\n" is 8 octets.
    assert.deepEqual(fields("X: abc\r\n\r\n", { limits: { maxLineLength: 8 } }), [["X", "abc"]]);
    assertRefused("X: abc\r\n\r\n", "header line too long", 431, {
      limits: { maxLineLength: 7 },
    });
  });

  it("names the field section in its errors", () => {
    assertRefused("X: abc\r\n\r\n", "trailer line too long", 431, {
      limits: { maxLineLength: 7 },
      what: "trailer",
    });
    assertRefused("A: 1\r\nB: 2\r\n\r\n", "too many trailers", 431, {
      limits: { maxHeaders: 1 },
      what: "trailer",
    });
  });

  it("takes maxHeaders fields and answers 431 for one more", () => {
    const two = "A: 1\r\nB: 2\r\n\r\n";
    assert.equal(fields(two, { limits: { maxHeaders: 2 } }).length, 2);
    assertRefused(two, "too many headers", 431, { limits: { maxHeaders: 1 } });
    assert.deepEqual(fields("\r\n", { limits: { maxHeaders: 0 } }), []);
    assertRefused("A: 1\r\n\r\n", "too many headers", 431, { limits: { maxHeaders: 0 } });
  });

  it("counts the fields already in the headers against maxHeaders", () => {
    const reader = new StreamReader();
    reader.feedData(bytes("B: 2\r\n\r\n"));
    const headers = new Headers([["A", "1"]]);
    assert.throws(
      () =>
        readFields(reader, new LineBuffer(), headers, withDefaults({ maxHeaders: 1 }), "header"),
      { name: "InvalidMessage", message: "too many headers", status: 431 },
    );
  });

  describe("obs-fold (RFC 9112 §5.2)", () => {
    it("is refused in a request, with a space or a tab", () => {
      assertRefused("X: a\r\n b\r\n\r\n", "obsolete line folding isn't supported");
      assertRefused("X: a\r\n\tb\r\n\r\n", "obsolete line folding isn't supported");
    });

    it("joins continuation lines to their field with one space, in a response", () => {
      assert.deepEqual(fields("X: a\r\n   b  \r\n\t c\r\nY: d\r\n\r\n", { unfold: true }), [
        ["X", "a b c"],
        ["Y", "d"],
      ]);
    });

    it("gives an empty field the continuation as its whole value", () => {
      assert.deepEqual(fields("X:\r\n b\r\n\r\n", { unfold: true }), [["X", "b"]]);
    });

    it("refuses a continuation before the first field", () => {
      assertRefused(" a\r\nX: b\r\n\r\n", "folded header line before the first header", 400, {
        unfold: true,
      });
    });

    it("refuses a continuation that adds nothing", () => {
      assertRefused("X: a\r\n \r\n\r\n", "empty folded header line", 400, { unfold: true });
      assertRefused("X: a\r\n \t \r\n\r\n", "empty folded header line", 400, { unfold: true });
    });

    it("refuses a control character in a continuation", () => {
      assertRefused(
        concat([bytes("X: a\r\n b"), hex("00"), bytes("\r\n\r\n")]),
        "invalid character in folded header line",
        400,
        { unfold: true },
      );
    });

    it("holds the unfolded field to maxLineLength, as one line of it", () => {
      // "X: abcdef g\r\n" would be 13 octets.
      const data = "X: abcdef\r\n g\r\n\r\n";
      assert.deepEqual(fields(data, { unfold: true, limits: { maxLineLength: 13 } }), [
        ["X", "abcdef g"],
      ]);
      assertRefused(data, "header line too long", 431, {
        unfold: true,
        limits: { maxLineLength: 12 },
      });
    });

    it("doesn't count continuation lines as fields", () => {
      const data = "X: a\r\n b\r\n c\r\n\r\n";
      assert.deepEqual(fields(data, { unfold: true, limits: { maxHeaders: 1 } }), [["X", "a b c"]]);
      assertRefused("X: a\r\n b\r\nY: c\r\n\r\n", "too many headers", 431, {
        unfold: true,
        limits: { maxHeaders: 1 },
      });
    });
  });
});

describe("contentLength", () => {
  it("is null without a Content-Length field", () => {
    assert.equal(contentLength(new Headers([["Host", "h"]])), null);
  });

  it("reads 1*DIGIT, whatever the name's casing, leading zeros included", () => {
    assert.equal(contentLength(new Headers([["Content-Length", "0"]])), 0);
    assert.equal(contentLength(new Headers([["content-length", "42"]])), 42);
    assert.equal(contentLength(new Headers([["CONTENT-LENGTH", "007"]])), 7);
    assert.equal(contentLength(new Headers([["Content-Length", "1048576"]])), 1_048_576);
  });

  it("takes repeated fields that agree", () => {
    const headers = new Headers([
      ["Content-Length", "5"],
      ["Content-Length", "5"],
    ]);
    assert.equal(contentLength(headers), 5);
  });

  it("refuses repeated fields that disagree, even in value only by leading zeros", () => {
    for (const second of ["6", "05"]) {
      const headers = new Headers([
        ["Content-Length", "5"],
        ["Content-Length", second],
      ]);
      assert.throws(() => contentLength(headers), {
        name: "InvalidMessage",
        message: "invalid Content-Length header",
        status: 400,
      });
    }
  });

  it("refuses anything but digits: empty, signs, hex, exponents, lists, inner spaces, a superscript", () => {
    for (const value of ["", "+5", "-1", "0x10", "1e3", "5, 5", "1 2", "1.0", "\u00b2"]) {
      assert.throws(
        () => contentLength(new Headers([["Content-Length", value]])),
        { name: "InvalidMessage", message: "invalid Content-Length header" },
        JSON.stringify(value),
      );
    }
  });
});

describe("isOws", () => {
  it("is true for SP and HTAB only", () => {
    assert.equal(isOws(0x20), true);
    assert.equal(isOws(0x09), true);
    for (const code of [0x00, 0x0a, 0x0b, 0x0c, 0x0d, 0x21, 0x7f, 0xa0, Number.NaN]) {
      assert.equal(isOws(code), false, `0x${code.toString(16)}`);
    }
  });
});

describe("COMMON_VALUES", () => {
  it("maps each common field value to itself", () => {
    assert.deepEqual([...COMMON_VALUES.keys()], [...COMMON_FIELD_VALUES]);
    for (const [key, value] of COMMON_VALUES) assert.equal(value, key);
    assert.equal(COMMON_VALUES.get("websocket"), "websocket");
    assert.equal(COMMON_VALUES.get("13"), "13");
    assert.equal(COMMON_VALUES.get("WebSocket"), undefined);
  });

  it("doesn't change the values read through it", () => {
    assert.deepEqual(fields("Upgrade: websocket\r\nConnection: Upgrade\r\nX: 13 \r\n\r\n"), [
      ["Upgrade", "websocket"],
      ["Connection", "Upgrade"],
      ["X", "13"],
    ]);
  });
});
