import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { InvalidMessage } from "../../src/core/errors.js";
import { latin1Decode } from "../../src/core/latin1.js";
import {
  isDigit,
  isHttpVersion,
  isReasonPhrase,
  isRequestTarget,
  parseRequestLine,
  parseStatusLine,
} from "../../src/core/start-line.js";
import { concat, hex } from "../helpers/bytes.js";
import { bytes } from "../helpers/http.js";

/** A line as the parsers get it: its octets, decoded one character per octet. */
function line(...parts: (string | Uint8Array)[]): string {
  return latin1Decode(concat(parts.map((part) => (typeof part === "string" ? bytes(part) : part))));
}

/** Asserts that `parse` throws InvalidMessage with `message` and `status`. */
function assertInvalid(parse: () => unknown, message: string, status = 400): void {
  assert.throws(parse, (error) => {
    assert.ok(error instanceof InvalidMessage, String(error));
    assert.equal(error.message, message);
    assert.equal(error.status, status);
    return true;
  });
}

describe("isDigit", () => {
  it("is true for 0 to 9 only", () => {
    for (let code = 0x30; code <= 0x39; code++) assert.equal(isDigit(code), true);
    for (const code of [0x2f, 0x3a, 0x20, 0x00, 0x660, 0xb2, Number.NaN]) {
      assert.equal(isDigit(code), false, String(code));
    }
  });
});

describe("isHttpVersion", () => {
  it("takes HTTP-name / DIGIT . DIGIT, any digits", () => {
    for (const version of ["HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "HTTP/0.9", "HTTP/9.9"]) {
      assert.equal(isHttpVersion(version), true, version);
    }
  });

  it("refuses other casings, lengths and separators", () => {
    for (const version of [
      "",
      "http/1.1",
      "Http/1.1",
      "HTTP/1",
      "HTTP/11",
      "HTTP/1.10",
      "HTTP/10.1",
      "HTTP/1,1",
      "HTTP-1.1",
      "HTTP/a.1",
      "HTTP/1.a",
      " HTTP/1.",
      "HTTP/1.1 ",
    ]) {
      assert.equal(isHttpVersion(version), false, JSON.stringify(version));
    }
  });
});

describe("isRequestTarget", () => {
  it("takes visible ASCII", () => {
    assert.equal(isRequestTarget("/"), true);
    assert.equal(isRequestTarget("!"), true);
    assert.equal(isRequestTarget("~"), true);
    assert.equal(isRequestTarget("/chat?room=1&x=%20#f"), true);
  });

  it("refuses the empty target, SP, controls, DEL and non-ASCII octets", () => {
    assert.equal(isRequestTarget(""), false);
    for (const octet of ["20", "00", "09", "0d", "1f", "7f", "80", "e9", "ff"]) {
      assert.equal(isRequestTarget(line("/a", hex(octet), "b")), false, octet);
    }
  });
});

describe("isReasonPhrase", () => {
  it("takes HTAB, SP, VCHAR and obs-text, and the empty phrase", () => {
    assert.equal(isReasonPhrase(""), true);
    assert.equal(isReasonPhrase("Switching Protocols"), true);
    assert.equal(isReasonPhrase(line("\tOK ", hex("80 e9 ff"))), true);
  });

  it("refuses controls other than HTAB, and DEL", () => {
    for (const octet of ["00", "0a", "0d", "1b", "7f"]) {
      assert.equal(isReasonPhrase(line("O", hex(octet), "K")), false, octet);
    }
  });

  it("refuses characters above U+00FF, which no octet decodes to", () => {
    assert.equal(isReasonPhrase("\u0100"), false);
    assert.equal(isReasonPhrase("\u20ac"), false);
  });
});

describe("parseRequestLine", () => {
  it("splits a request-line into method, target and version", () => {
    assert.deepEqual(parseRequestLine("GET /chat HTTP/1.1"), ["GET", "/chat", "HTTP/1.1"]);
    assert.deepEqual(parseRequestLine("POST /a?b=c HTTP/1.0"), ["POST", "/a?b=c", "HTTP/1.0"]);
  });

  it("reads a later minor version of HTTP/1 as HTTP/1.1 (RFC 9110 §2.5)", () => {
    assert.deepEqual(parseRequestLine("GET / HTTP/1.9"), ["GET", "/", "HTTP/1.1"]);
  });

  it("answers 505 for another major version", () => {
    assertInvalid(
      () => parseRequestLine("GET / HTTP/2.0"),
      "unsupported HTTP version: HTTP/2.0",
      505,
    );
    assertInvalid(
      () => parseRequestLine("GET / HTTP/0.9"),
      "unsupported HTTP version: HTTP/0.9",
      505,
    );
  });

  it("refuses a line that isn't three parts separated by single spaces", () => {
    for (const text of [
      "",
      "GET",
      "GET /chat",
      "GET  /chat HTTP/1.1",
      "GET /chat HTTP/1.1 ",
      " GET /chat HTTP/1.1",
      "GET\t/chat\tHTTP/1.1",
      "GET /chat HTTP/1.1 extra",
    ]) {
      assertInvalid(
        () => parseRequestLine(text),
        `malformed request line: ${JSON.stringify(text)}`,
      );
    }
  });

  it("refuses a method that isn't a token", () => {
    assertInvalid(() => parseRequestLine("GE(T / HTTP/1.1"), 'invalid request method: "GE(T"');
    assertInvalid(
      () => parseRequestLine(line("G", hex("c9"), "T / HTTP/1.1")),
      `invalid request method: ${JSON.stringify("G\u00c9T")}`,
    );
  });

  it("refuses a target with octets outside visible ASCII", () => {
    assertInvalid(
      () => parseRequestLine(line("GET /caf", hex("e9"), " HTTP/1.1")),
      `invalid request target: ${JSON.stringify("/caf\u00e9")}`,
    );
    assertInvalid(
      () => parseRequestLine(line("GET /a", hex("7f"), " HTTP/1.1")),
      // DEL and the C1 controls, which JSON leaves as they are, are escaped: they drive terminals.
      'invalid request target: "/a\\x7f"',
    );
    assertInvalid(
      () => parseRequestLine(line("GET /a", hex("9b"), "31m HTTP/1.1")),
      'invalid request target: "/a\\x9b31m"',
    );
  });

  it("takes origin-form and absolute-form targets with any method", () => {
    assert.deepEqual(parseRequestLine("GET http://h/chat HTTP/1.1")[1], "http://h/chat");
    assert.deepEqual(parseRequestLine("GET wss://h:443 HTTP/1.1")[1], "wss://h:443");
    assert.deepEqual(parseRequestLine("GET urn:x HTTP/1.1")[1], "urn:x");
    assert.deepEqual(parseRequestLine("DELETE /x HTTP/1.1")[0], "DELETE");
  });

  it("takes the asterisk-form for OPTIONS only", () => {
    assert.deepEqual(parseRequestLine("OPTIONS * HTTP/1.1"), ["OPTIONS", "*", "HTTP/1.1"]);
    assertInvalid(
      () => parseRequestLine("GET * HTTP/1.1"),
      'invalid request target: "*" is neither a path nor an absolute URI',
    );
  });

  it("takes the authority-form, which reads as an absolute URI", () => {
    assert.deepEqual(parseRequestLine("CONNECT h:443 HTTP/1.1"), ["CONNECT", "h:443", "HTTP/1.1"]);
  });

  it("refuses a target that is neither a path nor an absolute URI", () => {
    for (const target of ["chat", "1h:443", "?x", "#f", "-a:b", ":80"]) {
      assertInvalid(
        () => parseRequestLine(`GET ${target} HTTP/1.1`),
        `invalid request target: ${JSON.stringify(target)} is neither a path nor an absolute URI`,
      );
    }
  });

  it("refuses an http, https, ws or wss target without a host, in any casing", () => {
    for (const target of [
      "http:///x",
      "http://user@/x",
      "http://:80/x",
      "https://",
      "ws://?q",
      "WSS://#f",
      "HTTP://u:p@:1/",
    ]) {
      assertInvalid(
        () => parseRequestLine(`GET ${target} HTTP/1.1`),
        `invalid request target: ${JSON.stringify(target)} has no host`,
      );
    }
  });

  it("takes those schemes with a host, and other schemes without one", () => {
    assert.equal(parseRequestLine("GET http://user@h/x HTTP/1.1")[1], "http://user@h/x");
    assert.equal(parseRequestLine("GET ws://h:80 HTTP/1.1")[1], "ws://h:80");
    assert.equal(parseRequestLine("GET ftp:///x HTTP/1.1")[1], "ftp:///x");
  });

  it("refuses an invalid version with 400", () => {
    for (const version of ["http/1.1", "HTTP/1.10", "HTTP/1", "HTTP/x.y"]) {
      assertInvalid(
        () => parseRequestLine(`GET / ${version}`),
        `invalid HTTP version: ${JSON.stringify(version)}`,
      );
    }
  });

  it("checks the target before the version", () => {
    assertInvalid(
      () => parseRequestLine("GET * HTTP/2.0"),
      'invalid request target: "*" is neither a path nor an absolute URI',
    );
  });
});

describe("parseStatusLine", () => {
  it("splits a status-line into status and reason", () => {
    assert.deepEqual(parseStatusLine("HTTP/1.1 101 Switching Protocols"), [
      101,
      "Switching Protocols",
    ]);
    assert.deepEqual(parseStatusLine("HTTP/1.1 404 Not Found"), [404, "Not Found"]);
  });

  it("takes an empty reason, with or without the SP before it", () => {
    assert.deepEqual(parseStatusLine("HTTP/1.1 101 "), [101, ""]);
    assert.deepEqual(parseStatusLine("HTTP/1.1 101"), [101, ""]);
  });

  it("keeps the reason as it is: HTAB, spaces and obs-text", () => {
    assert.deepEqual(parseStatusLine(line("HTTP/1.1 200  OK\t", hex("e9 ff"))), [
      200,
      " OK\t\u00e9\u00ff",
    ]);
  });

  it("refuses control characters in the reason", () => {
    for (const octet of ["00", "0d", "1b", "7f"]) {
      assertInvalid(
        () => parseStatusLine(line("HTTP/1.1 200 O", hex(octet), "K")),
        "invalid character in reason phrase",
      );
    }
  });

  it("takes 100 to 599 and refuses other codes", () => {
    assert.equal(parseStatusLine("HTTP/1.1 100 Continue")[0], 100);
    assert.equal(parseStatusLine("HTTP/1.1 599 x")[0], 599);
    assertInvalid(() => parseStatusLine("HTTP/1.1 099 x"), "invalid status code: 99");
    assertInvalid(() => parseStatusLine("HTTP/1.1 000 x"), "invalid status code: 0");
    assertInvalid(() => parseStatusLine("HTTP/1.1 600 x"), "invalid status code: 600");
  });

  it("refuses a status-line whose version, spaces or code are malformed", () => {
    for (const text of [
      "",
      "HTTP/1.1",
      "HTTP/1.1\t101 x",
      "HTTP/1.1  101 x",
      "http/1.1 101 x",
      "HTTP/1.10 101 x",
      "HTTP/1.1 10",
      "HTTP/1.1 10 x",
      "HTTP/1.1 1011 x",
      "HTTP/1.1 1x1 x",
      "HTTP/1.1 +01 x",
      "HTTP/1.1 101\tx",
    ]) {
      assertInvalid(() => parseStatusLine(text), `malformed status line: ${JSON.stringify(text)}`);
    }
  });

  it("answers 505 for another major version and reads later minor versions", () => {
    assertInvalid(
      () => parseStatusLine("HTTP/2.0 101 x"),
      "unsupported HTTP version: HTTP/2.0",
      505,
    );
    assert.deepEqual(parseStatusLine("HTTP/1.2 200 OK"), [200, "OK"]);
  });

  it("refuses 101 in an HTTP/1.0 response, and reads its other statuses", () => {
    assertInvalid(
      () => parseStatusLine("HTTP/1.0 101 Switching Protocols"),
      "101 Switching Protocols in an HTTP/1.0 response",
    );
    assert.deepEqual(parseStatusLine("HTTP/1.0 403 Forbidden"), [403, "Forbidden"]);
  });
});
