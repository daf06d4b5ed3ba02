import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { InvalidMessage } from "../../src/core/errors.js";
import type { Request } from "../../src/core/request.js";
import { RequestParser } from "../../src/core/request-parser.js";
import { StreamReader } from "../../src/core/streams.js";
import {
  assertInvalid,
  bytes,
  concat,
  FRAME,
  feedBytewise,
  parseRequest,
  RFC_REQUEST,
} from "../helpers/http.js";

function assertRfcRequest(request: Request | null): void {
  assert.ok(request);
  assert.equal(request.method, "GET");
  assert.equal(request.path, "/chat");
  assert.equal(request.version, "HTTP/1.1");
  assert.deepEqual(
    [...request.headers],
    [
      ["Host", "server.example.com"],
      ["Upgrade", "websocket"],
      ["Connection", "Upgrade"],
      ["Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="],
      ["Origin", "http://example.com"],
      ["Sec-WebSocket-Protocol", "chat, superchat"],
      ["Sec-WebSocket-Version", "13"],
    ],
  );
}

describe("RequestParser", () => {
  it("parses RFC 6455 §1.3's handshake request", () => {
    assertRfcRequest(parseRequest(RFC_REQUEST));
  });

  it("parses the request fed one byte at a time, returning null until the last byte", () => {
    const data = bytes(RFC_REQUEST);
    const reader = new StreamReader();
    const parser = new RequestParser();
    for (let i = 0; i < data.length - 1; i++) {
      reader.feedData(data.subarray(i, i + 1));
      assert.equal(parser.parse(reader), null, `after byte ${i}`);
    }
    reader.feedData(data.subarray(data.length - 1));
    assertRfcRequest(parser.parse(reader));
    assert.equal(reader.length, 0);
  });

  it("parses the request split in two at every position", () => {
    const data = concat(bytes(RFC_REQUEST), FRAME);
    const end = RFC_REQUEST.length;
    for (let i = 0; i <= data.length; i++) {
      const reader = new StreamReader();
      const parser = new RequestParser();
      reader.feedData(data.subarray(0, i));
      const first = parser.parse(reader);
      if (i < end) assert.equal(first, null, `split at ${i}`);
      reader.feedData(data.subarray(i));
      assertRfcRequest(first ?? parser.parse(reader));
      // What follows the head stays in the reader, for the frame parser.
      assert.deepEqual(reader.readAll(), FRAME, `split at ${i}`);
    }
  });

  it("leaves the bytes after the head in the reader", () => {
    const reader = new StreamReader();
    reader.feedData(concat(bytes(RFC_REQUEST), FRAME));
    assertRfcRequest(new RequestParser().parse(reader));
    assert.equal(reader.length, FRAME.length);
    assert.deepEqual(reader.readAll(), FRAME);
  });

  it("parses pipelined requests one after the other", () => {
    const reader = new StreamReader();
    const parser = new RequestParser();
    reader.feedData(bytes(`${RFC_REQUEST}GET /other HTTP/1.1\r\nHost: b\r\n\r\n`));
    assertRfcRequest(parser.parse(reader));
    const second = parser.parse(reader);
    assert.equal(second?.path, "/other");
    assert.deepEqual([...second.headers], [["Host", "b"]]);
    assert.equal(parser.parse(reader), null);
  });

  it("trims OWS around values and keeps inner whitespace", () => {
    const request = parseRequest(
      "GET / HTTP/1.1\r\nHost:example.com\r\nX: \t a \t b \t\r\nY:\r\n\r\n",
    );
    assert.deepEqual(
      [...request!.headers],
      [
        ["Host", "example.com"],
        ["X", "a \t b"],
        ["Y", ""],
      ],
    );
  });

  it("decodes obs-text in values one character per octet", () => {
    const data = concat(
      bytes("GET / HTTP/1.1\r\nHost: h\r\nX: caf"),
      new Uint8Array([0xe9, 0x80, 0xff]),
      bytes("\r\n\r\n"),
    );
    assert.equal(parseRequest(data)!.headers.get("X"), "caf\u00e9\u0080\u00ff");
  });

  it("keeps any method and the request-target as they are", () => {
    const request = parseRequest("POST /a/../b?x=%20&y=1 HTTP/1.1\r\nHost: h\r\n\r\n");
    assert.equal(request?.method, "POST");
    assert.equal(request.path, "/a/../b?x=%20&y=1");
    assert.equal(parseRequest("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n")?.path, "*");
    // RFC 9112 §3.2.3: the authority-form, for CONNECT (a server then answers 405).
    assert.equal(parseRequest("CONNECT h:443 HTTP/1.1\r\nHost: h\r\n\r\n")?.path, "h:443");
    // Absolute-form with any scheme (RFC 9112 §3.2.2): what it names is for the server to say.
    assert.equal(parseRequest("GET ftp://h/x HTTP/1.1\r\nHost: h\r\n\r\n")?.path, "ftp://h/x");
  });

  it("accepts HTTP/1.0, with or without Host", () => {
    assert.equal(parseRequest("GET / HTTP/1.0\r\n\r\n")?.version, "HTTP/1.0");
    assert.equal(parseRequest("GET / HTTP/1.0\r\nHost: h\r\n\r\n")?.version, "HTTP/1.0");
  });

  it("accepts Content-Length: 0", () => {
    assert.ok(parseRequest("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n"));
    assert.ok(
      parseRequest("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 00\r\nContent-Length: 00\r\n\r\n"),
    );
  });

  describe("limits", () => {
    const limits = { maxLineLength: 32, maxHeaders: 3 };

    it("accepts a request line of exactly maxLineLength bytes, CRLF included", () => {
      const line = `GET /${"a".repeat(32 - 16)} HTTP/1.1\r\n`;
      assert.equal(line.length, 32);
      assert.ok(parseRequest(`${line}Host: h\r\n\r\n`, limits));
    });

    it("rejects a request line one byte longer with 414", () => {
      const line = `GET /${"a".repeat(32 - 15)} HTTP/1.1\r\n`;
      assertInvalid(
        () => parseRequest(`${line}Host: h\r\n\r\n`, limits),
        414,
        "request line too long",
      );
    });

    it("rejects a long request line with 414 before its end arrives", () => {
      assertInvalid(
        () => parseRequest(`GET /${"a".repeat(40)}`, limits),
        414,
        "request line too long",
      );
    });

    it("counts bytes of a request line received one at a time", () => {
      const reader = new StreamReader();
      const parser = new RequestParser(limits);
      for (const byte of bytes(`GET /${"a".repeat(27)}`)) {
        reader.feedData(new Uint8Array([byte]));
        assert.equal(parser.parse(reader), null);
      }
      // 32 bytes so far without a LF: the line can only end past the limit.
      reader.feedData(bytes("\r"));
      assertInvalid(() => parser.parse(reader), 414, "request line too long");
    });

    it("rejects a request line too long for the default limit with 414", () => {
      const line = `GET /${"a".repeat(8192 - 15)} HTTP/1.1\r\n`;
      assert.equal(line.length, 8193);
      assertInvalid(() => parseRequest(`${line}Host: h\r\n\r\n`), 414, "request line too long");
      const longest = `GET /${"a".repeat(8192 - 16)} HTTP/1.1\r\n`;
      assert.equal(parseRequest(`${longest}Host: h\r\n\r\n`)?.path.length, 8192 - 15);
    });

    it("accepts a header line of exactly maxLineLength bytes and rejects one more with 431", () => {
      const ok = `X: ${"v".repeat(32 - 5)}\r\n`;
      assert.equal(ok.length, 32);
      assert.ok(parseRequest(`GET / HTTP/1.1\r\nHost: h\r\n${ok}\r\n`, limits));
      const tooLong = `X: ${"v".repeat(32 - 4)}\r\n`;
      assertInvalid(
        () => parseRequest(`GET / HTTP/1.1\r\nHost: h\r\n${tooLong}\r\n`, limits),
        431,
        "header line too long",
      );
    });

    it("accepts maxHeaders headers and rejects one more with 431", () => {
      assert.equal(
        parseRequest("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\n\r\n", limits)?.headers.size,
        3,
      );
      assertInvalid(
        () => parseRequest("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", limits),
        431,
        "too many headers",
      );
    });

    it("applies the default of 128 headers", () => {
      const fields = (n: number) =>
        Array.from({ length: n }, (_, i) => `X-${i}: ${i}\r\n`).join("");
      assert.equal(
        parseRequest(`GET / HTTP/1.1\r\nHost: h\r\n${fields(127)}\r\n`)?.headers.size,
        128,
      );
      assertInvalid(
        () => parseRequest(`GET / HTTP/1.1\r\nHost: h\r\n${fields(128)}\r\n`),
        431,
        "too many headers",
      );
    });

    it("accepts a head of exactly maxHeaderSize bytes and rejects one more with 431", () => {
      const head = (size: number) => {
        const start = "GET / HTTP/1.1\r\nHost: h\r\n";
        const filler = size - start.length - "X: \r\n\r\n".length;
        return `${start}X: ${"v".repeat(filler)}\r\n\r\n`;
      };
      const limit = { maxHeaderSize: 100 };
      assert.equal(head(100).length, 100);
      assert.equal(parseRequest(head(100), limit)?.headers.get("X")?.length, 100 - 32);
      // Whole in one chunk (the one-pass scan), then a byte at a time (line by line).
      assertInvalid(() => parseRequest(head(101), limit), 431, "head larger than 100 bytes");
      const reader = new StreamReader();
      const parser = new RequestParser(limit);
      assertInvalid(
        () => feedBytewise(reader, (r) => parser.parse(r), bytes(head(101))),
        431,
        "head larger than 100 bytes",
      );
    });

    it("applies the default maxHeaderSize of 32 KiB, however the head is split", () => {
      // 5 lines of 8000 bytes: each within maxLineLength, 40 KB in all.
      const fields = `X: ${"v".repeat(7995)}\r\n`.repeat(5);
      const data = bytes(`GET / HTTP/1.1\r\nHost: h\r\n${fields}\r\n`);
      assertInvalid(() => parseRequest(data), 431, "head larger than 32768 bytes");
      // The limit holds before the head's end arrives: what a peer can make
      // the server buffer, and then keep with the connection, is bounded.
      const reader = new StreamReader();
      const parser = new RequestParser();
      reader.feedData(data.subarray(0, 33000));
      assertInvalid(() => parser.parse(reader), 431, "head larger than 32768 bytes");
      const fits = `X: ${"v".repeat(32768 - 32)}`;
      assert.equal(
        parseRequest(`GET / HTTP/1.1\r\nHost: h\r\n${fits}\r\n\r\n`, {
          maxLineLength: 1 << 20,
        })?.headers.get("X")?.length,
        32768 - 32,
      );
    });

    it("bounds the request line by maxHeaderSize too, when that is the nearer limit", () => {
      const limit = { maxHeaderSize: 64, maxLineLength: 8192 };
      // Refused before its end arrives, as a line past maxLineLength is.
      assertInvalid(
        () => parseRequest(`GET /${"a".repeat(100)}`, limit),
        431,
        "head larger than 64 bytes",
      );
      // maxLineLength, when nearer, still gets 414.
      assertInvalid(
        () => parseRequest(`GET /${"a".repeat(100)}`, { maxHeaderSize: 1000, maxLineLength: 64 }),
        414,
        "request line too long",
      );
    });

    it("counts each request's head on its own", () => {
      const request = `GET / HTTP/1.1\r\nHost: h\r\nX: ${"v".repeat(60)}\r\n\r\n`;
      const reader = new StreamReader();
      const parser = new RequestParser({ maxHeaderSize: request.length });
      // Line by line (bytewise), then twice more: each fits, none counts the last.
      for (let i = 0; i < 3; i++) {
        const results = feedBytewise(reader, (r) => parser.parse(r), bytes(request));
        assert.equal(results.at(-1)?.headers.get("X")?.length, 60);
      }
    });

    it("copies the bytes of an incomplete line rather than keeping a view per read", () => {
      const data = bytes(
        `GET /${"p".repeat(300)} HTTP/1.1\r\nHost: h\r\nX: ${"v".repeat(600)}\r\n\r\n`,
      );
      const reader = new StreamReader();
      const parser = new RequestParser();
      const results = feedBytewise(reader, (r) => parser.parse(r), data);
      assert.ok(results.slice(0, -1).every((result) => result === null));
      const request = results.at(-1);
      assert.equal(request?.path, `/${"p".repeat(300)}`);
      assert.equal(request.headers.get("X"), "v".repeat(600));
    });

    it("rejects a request line one byte longer than maxLineLength, received one byte per read", () => {
      const data = bytes(`GET /${"p".repeat(100)} HTTP/1.1\r\n`);
      const reader = new StreamReader();
      const parser = new RequestParser({ maxLineLength: data.length - 1 });
      // Only the LF makes the line too long: until then it could still end at maxLineLength.
      const results = feedBytewise(reader, (r) => parser.parse(r), data.subarray(0, -1));
      assert.ok(results.every((result) => result === null));
      reader.feedData(data.subarray(-1));
      assertInvalid(() => parser.parse(reader), 414, "request line too long");
    });

    it("parses a slowloris head, one byte per chunk, in linear time", () => {
      const line = `X: ${"v".repeat(8000)}\r\n`;
      const data = bytes(`GET / HTTP/1.1\r\nHost: h\r\n${line.repeat(64)}\r\n`);
      const reader = new StreamReader();
      const parser = new RequestParser({ maxHeaderSize: data.length });
      let request: Request | null = null;
      for (let i = 0; i < data.length; i++) {
        reader.feedData(data.subarray(i, i + 1));
        request = parser.parse(reader);
      }
      assert.equal(request?.headers.size, 65);
    });
  });

  it("refuses a TLS ClientHello at its first byte, without waiting for a line", () => {
    // RFC 8446 §5.1: a handshake record, TLS 1.0 record version, then a
    // ClientHello that need not hold a line feed for a long while.
    const reader = new StreamReader();
    reader.feedData(Buffer.from("160301020001fc0303", "hex"));
    const parser = new RequestParser();
    assert.throws(
      () => parser.parse(reader),
      (error: unknown) =>
        error instanceof InvalidMessage &&
        error.status === 400 &&
        error.message ===
          "received a TLS handshake on a plain connection: is the client using wss:// or https://?",
    );
    // Only at the start of a request: the same byte inside one is a line's business.
    const later = new StreamReader();
    later.feedData(bytes("GET / HTTP/1.1\r\nHost: h\r\nX: a"));
    const parsing = new RequestParser();
    assert.equal(parsing.parse(later), null);
    later.feedData(Buffer.from("16", "hex"));
    later.feedData(bytes("b\r\n\r\n"));
    assert.throws(() => parsing.parse(later), /invalid character in X header/);
  });

  describe("malformed requests are rejected with 400", () => {
    const cases: [string, string, string][] = [
      ["a request line with two parts", "GET /\r\n", "malformed request line"],
      ["a request line with four parts", "GET / HTTP/1.1 x\r\n", "malformed request line"],
      ["a double space", "GET  / HTTP/1.1\r\n", "malformed request line"],
      ["an empty request line", "\r\n", "malformed request line"],
      ["a method that isn't a token", "G(T / HTTP/1.1\r\n", "invalid request method"],
      ["an empty method", " / HTTP/1.1\r\n", "invalid request method"],
      ["a control character in the target", "GET /\x7f HTTP/1.1\r\n", "invalid request target"],
      ["a non-ASCII target", "GET /\xe9 HTTP/1.1\r\n", "invalid request target"],
      ["a tab in the request line", "GET /\t HTTP/1.1\r\n", "invalid request target"],
      ["an absolute-form target without host", "GET http:///x HTTP/1.1\r\n", "has no host"],
      ["an https target with only user info", "GET https://u@/ HTTP/1.1\r\n", "has no host"],
      ["a ws target with only a port", "GET ws://:80 HTTP/1.1\r\n", "has no host"],
      ["a wss target with an empty authority", "GET WSS://?q HTTP/1.1\r\n", "has no host"],
      // RFC 9112 §3.2.4: the asterisk-form is for OPTIONS alone.
      ["the asterisk-form in a GET", "GET * HTTP/1.1\r\n", "neither a path nor an absolute URI"],
      ["a relative path", "GET chat HTTP/1.1\r\n", "neither a path nor an absolute URI"],
      ["a query alone", "GET ?q=1 HTTP/1.1\r\n", "neither a path nor an absolute URI"],
      ["a scheme that starts with a digit", "GET 1ws://h/ HTTP/1.1\r\n", "neither a path nor"],
      ["a lowercase version", "GET / http/1.1\r\n", "invalid HTTP version"],
      ["a short version", "GET / HTTP/1\r\n", "invalid HTTP version"],
      ["a version with letters", "GET / HTTP/a.b\r\n", "invalid HTTP version"],
      ["a bare LF after the request line", "GET / HTTP/1.1\n", "bare LF"],
      ["a bare LF after a header", "GET / HTTP/1.1\r\nHost: h\n\r\n", "bare LF"],
      ["a bare LF as the empty line", "GET / HTTP/1.1\r\nHost: h\r\n\n", "bare LF"],
      ["obs-fold", "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n", "obsolete line folding"],
      [
        "obs-fold with a tab",
        "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n\tb\r\n\r\n",
        "obsolete line folding",
      ],
      [
        "whitespace before the first header",
        "GET / HTTP/1.1\r\n Host: h\r\n\r\n",
        "obsolete line folding",
      ],
      [
        "NUL in a value",
        "GET / HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n",
        "invalid character in X header",
      ],
      [
        "CR in a value",
        "GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n",
        "invalid character in X header",
      ],
      [
        "DEL in a value",
        "GET / HTTP/1.1\r\nHost: h\r\nX: \x7f\r\n\r\n",
        "invalid character in X header",
      ],
      [
        "a header without colon",
        "GET / HTTP/1.1\r\nHost: h\r\nX\r\n\r\n",
        "header line without colon",
      ],
      [
        "a space in a header name",
        "GET / HTTP/1.1\r\nHost: h\r\nX Y: a\r\n\r\n",
        "invalid header name",
      ],
      ["a space before the colon", "GET / HTTP/1.1\r\nHost : h\r\n\r\n", "invalid header name"],
      ["an empty header name", "GET / HTTP/1.1\r\nHost: h\r\n: a\r\n\r\n", "invalid header name"],
      ["a body", "GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello", "with a body"],
      [
        "an invalid Content-Length",
        "GET / HTTP/1.1\r\nHost: h\r\nContent-Length: x\r\n\r\n",
        "invalid Content-Length",
      ],
      [
        "an empty Content-Length",
        "GET / HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n\r\n",
        "invalid Content-Length",
      ],
      [
        "a negative Content-Length",
        "GET / HTTP/1.1\r\nHost: h\r\nContent-Length: -0\r\n\r\n",
        "invalid Content-Length",
      ],
      [
        "conflicting Content-Lengths",
        "GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\nContent-Length: 1\r\n\r\n",
        "invalid Content-Length",
      ],
      [
        "Transfer-Encoding",
        "GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "request with Transfer-Encoding",
      ],
      ["a missing Host", "GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n", "missing Host header"],
      [
        "two Host headers",
        "GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n",
        "more than one Host header",
      ],
      [
        "two Host headers in HTTP/1.0",
        "GET / HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n",
        "more than one Host",
      ],
    ];
    for (const [name, data, message] of cases) {
      it(`rejects ${name}`, () => assertInvalid(() => parseRequest(data), 400, message));
    }
  });

  it("rejects a request with a body and a method other than GET with 405", () => {
    for (const method of ["POST", "PUT"]) {
      assertInvalid(
        () => parseRequest(`${method} / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhi`),
        405,
        `unsupported HTTP method: ${method}`,
      );
      assertInvalid(
        () => parseRequest(`${method} / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n`),
        405,
        `unsupported HTTP method: ${method}`,
      );
    }
    // HEAD is refused for its body, as GET is: its method alone gets a 405
    // from the server's checks, whose answer to a HEAD has no body.
    assertInvalid(
      () => parseRequest("HEAD / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhi"),
      400,
      "request with a body",
    );
  });

  it("accepts an absolute-form target with a host, and other schemes' empty hosts", () => {
    for (const target of ["http://h/x", "https://u@h:1/", "ws://[::1]", "foo:///x", "/http:///"]) {
      assert.equal(parseRequest(`GET ${target} HTTP/1.1\r\nHost: h\r\n\r\n`)?.path, target);
    }
  });

  it("rejects HTTP versions other than 1.x with 505", () => {
    for (const version of ["HTTP/2.0", "HTTP/0.9", "HTTP/3.1"]) {
      assertInvalid(
        () => parseRequest(`GET / ${version}\r\nHost: h\r\n\r\n`),
        505,
        "unsupported HTTP version",
      );
    }
  });

  it("reads a later HTTP/1 minor version as HTTP/1.1, Host included", () => {
    // RFC 9110 §2.5: "as if it were in the highest minor version within that
    // major version to which the recipient is conformant".
    for (const version of ["HTTP/1.2", "HTTP/1.9"]) {
      assert.equal(parseRequest(`GET / ${version}\r\nHost: h\r\n\r\n`)?.version, "HTTP/1.1");
      assertInvalid(() => parseRequest(`GET / ${version}\r\n\r\n`), 400, "missing Host header");
    }
  });

  it("rejects a request line with a NUL byte", () => {
    assertInvalid(
      () => parseRequest(new Uint8Array([0x47, 0x00, 0x54, 0x20, 0x2f, 0x20, 0x0d, 0x0a])),
      400,
      "",
    );
  });

  describe("end of stream", () => {
    for (const [name, data] of [
      ["before any byte", ""],
      ["in the request line", "GET / HT"],
      ["after the request line", "GET / HTTP/1.1\r\n"],
      ["in a header line", "GET / HTTP/1.1\r\nHost: h"],
      ["before the empty line", "GET / HTTP/1.1\r\nHost: h\r\n"],
      ["in the empty line", "GET / HTTP/1.1\r\nHost: h\r\n\r"],
    ]) {
      it(`rejects a request ending ${name}`, () => {
        const reader = new StreamReader();
        const parser = new RequestParser();
        reader.feedData(bytes(data!));
        assert.equal(parser.parse(reader), null);
        reader.feedEof();
        assertInvalid(
          () => parser.parse(reader),
          400,
          "connection closed while reading HTTP request",
        );
      });
    }

    it("returns a complete request even when EOF is already recorded", () => {
      const reader = new StreamReader();
      reader.feedData(bytes(RFC_REQUEST));
      reader.feedEof();
      assertRfcRequest(new RequestParser().parse(reader));
    });
  });

  it("throws the same error again after a failure", () => {
    const reader = new StreamReader();
    const parser = new RequestParser();
    reader.feedData(bytes("GET /\r\n"));
    let first: unknown;
    try {
      parser.parse(reader);
    } catch (error) {
      first = error;
    }
    assert.ok(first instanceof InvalidMessage);
    reader.feedData(bytes(RFC_REQUEST));
    assert.throws(
      () => parser.parse(reader),
      (e) => e === first,
    );
  });

  it("lets errors other than size limits from the reader through", () => {
    const reader = new StreamReader();
    const broken = Object.assign(reader, {
      readLine(): Uint8Array | null {
        throw new RangeError("boom");
      },
    });
    assert.throws(() => new RequestParser().parse(broken), RangeError);
  });
});
