import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";

import { InvalidMessage } from "../../src/core/errors.js";
import { Headers } from "../../src/core/headers.js";
import { DEFAULT_HTTP_LIMITS, type HttpLimits } from "../../src/core/http-limits.js";
import { Request } from "../../src/core/request.js";
import { RequestParser } from "../../src/core/request-parser.js";
import { Response } from "../../src/core/response.js";
import { ResponseParser } from "../../src/core/response-parser.js";
import { StreamReader } from "../../src/core/streams.js";

/** One octet per character, like the wire format of an HTTP head. */
function bytes(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

function text(data: Uint8Array): string {
  return String.fromCharCode(...data);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

// RFC 6455 §1.3
const RFC_REQUEST =
  "GET /chat HTTP/1.1\r\n" +
  "Host: server.example.com\r\n" +
  "Upgrade: websocket\r\n" +
  "Connection: Upgrade\r\n" +
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
  "Origin: http://example.com\r\n" +
  "Sec-WebSocket-Protocol: chat, superchat\r\n" +
  "Sec-WebSocket-Version: 13\r\n" +
  "\r\n";

const RFC_RESPONSE =
  "HTTP/1.1 101 Switching Protocols\r\n" +
  "Upgrade: websocket\r\n" +
  "Connection: Upgrade\r\n" +
  "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" +
  "Sec-WebSocket-Protocol: chat\r\n" +
  "\r\n";

// An unmasked text frame "Hello" (RFC 6455 §5.7), as it may follow a head.
const FRAME = new Uint8Array([0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);

function parseRequest(data: string | Uint8Array, limits?: HttpLimits): Request | null {
  const reader = new StreamReader();
  reader.feedData(typeof data === "string" ? bytes(data) : data);
  return new RequestParser(limits).parse(reader);
}

function parseResponse(
  data: string | Uint8Array,
  limits?: HttpLimits,
  eof = false,
): Response | null {
  const reader = new StreamReader();
  reader.feedData(typeof data === "string" ? bytes(data) : data);
  if (eof) reader.feedEof();
  return new ResponseParser(limits).parse(reader);
}

/** Asserts that `fn` throws InvalidMessage with this status and a message containing `text`. */
function assertInvalid(fn: () => unknown, status: number, text: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof InvalidMessage, String(e));
    assert.equal(e.status, status);
    assert.ok(
      e.message.includes(text),
      `${JSON.stringify(e.message)} lacks ${JSON.stringify(text)}`,
    );
    return true;
  });
}

/**
 * Feeds `data` to `parse` one byte per read, each in an array of its own as
 * Node delivers separate socket reads, and returns the results of the calls.
 * Once the reader no longer holds a read's byte, the byte is overwritten:
 * a parser that kept a view of it instead of a copy would see the change.
 */
function feedBytewise<T>(
  reader: StreamReader,
  parse: (reader: StreamReader) => T,
  data: Uint8Array,
): T[] {
  const results: T[] = [];
  const held: Uint8Array[] = [];
  for (const byte of data) {
    const read = new Uint8Array([byte]);
    reader.feedData(read);
    held.push(read);
    results.push(parse(reader));
    // What the reader still holds are the last reads, one byte each.
    while (held.length > reader.length) held.shift()!.fill(0x7e);
  }
  return results;
}

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

function assertRfcResponse(response: Response | null): void {
  assert.ok(response);
  assert.equal(response.status, 101);
  assert.equal(response.reason, "Switching Protocols");
  assert.equal(response.headers.get("Sec-WebSocket-Accept"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  assert.equal(response.headers.size, 4);
  assert.equal(response.body.length, 0);
}

describe("DEFAULT_HTTP_LIMITS", () => {
  it("has the documented values and can't be changed", () => {
    assert.deepEqual(DEFAULT_HTTP_LIMITS, {
      maxLineLength: 8192,
      maxHeaders: 128,
      maxBodySize: 1_048_576,
    });
    assert.ok(Object.isFrozen(DEFAULT_HTTP_LIMITS));
  });
});

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
      const parser = new RequestParser();
      let request: Request | null = null;
      for (let i = 0; i < data.length; i++) {
        reader.feedData(data.subarray(i, i + 1));
        request = parser.parse(reader);
      }
      assert.equal(request?.headers.size, 65);
    });
  });

  describe("a head that arrives whole parses like one read line by line", () => {
    /** What parsing `data` gives, fed in one chunk or one byte per chunk. */
    function outcome(data: Uint8Array, limits: HttpLimits, byteByByte: boolean): string {
      const reader = new StreamReader();
      const parser = new RequestParser(limits);
      try {
        let request: Request | null = null;
        let fed = 0;
        while (fed < data.length && request === null) {
          const size = byteByByte ? 1 : data.length;
          reader.feedData(data.slice(fed, fed + size));
          fed += size;
          request = parser.parse(reader);
        }
        const left = reader.length + data.length - fed;
        if (request === null) return `incomplete, ${left} left`;
        const fields = JSON.stringify([...request.headers]);
        return `${request.method} ${request.path} ${request.version} ${fields}, ${left} left`;
      } catch (error) {
        assert.ok(error instanceof InvalidMessage, String(error));
        return `${error.status} ${error.message}`;
      }
    }

    const pieces = [
      "GET / HTTP/1.1",
      "GET /chat?x=1 HTTP/1.0",
      "GET  / HTTP/1.1",
      "GET / HTTP/2.0",
      "Host: h",
      "Host: other",
      "X: a\tb ",
      "X:",
      " folded",
      "No colon",
      "Bad name: v",
      "X: \x7f",
      "X: caf\xe9",
      "X: a\rb",
      "X: a\nb",
      "Content-Length: 0",
      "Content-Length: 5",
      "Transfer-Encoding: chunked",
      `Long: ${"v".repeat(40)}`,
      "",
      "Upgrade: websocket",
      "connection: upgrade",
      "Sec-WebSocket-Version: 13",
      "sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==",
      "X-Uncommon-Name: 13",
      "Host: 127.0.0.1:65535",
      "POST /a/much/longer/target?with=query HTTP/1.1",
    ];

    it("gives the same request or the same error for each form the quick scan declines", () => {
      // Each head either takes the one-pass scan or is declined by it at a
      // different point; the general parser must then decide as it would
      // line by line.
      const valid = "Host: h\r\nUpgrade: websocket\r\n\r\n";
      const heads: [head: string, limits?: HttpLimits][] = [
        [`GET / HTTP/1.1\r\n${valid}`],
        [`GET / HTTP/1.0\r\n\r\n`],
        [`get /chat?room=1&user=someone HTTP/1.0\r\nHost: example.com:8080\r\n\r\n`],
        [`GET / HTTP/1.1\r\nhost: h\r\nX-Custom: a \t b \t\r\nSec-WebSocket-Version: 13\r\n\r\n`],
        [`GET / HTTP/1.1\r\nHost: h\r\nX: caf\xe9\r\nY:\r\nZ:  \r\n\r\n`],
        [`GET / HTTP/1.1\r\n${valid}`, { maxLineLength: 1 }],
        [`GET / HTTP/1.1\r\n${valid}`, { maxLineLength: 15 }],
        [`GET / HTTP/1.1\r\n${valid}`, { maxLineLength: 16 }],
        [`GET / HTTP/1.1\r\n${valid}`, { maxHeaders: 1 }],
        [`GET / HTTP/1.1\r\n${valid}`, { maxHeaders: 2 }],
        [`G(T / HTTP/1.1\r\n${valid}`],
        [` / HTTP/1.1\r\n${valid}`],
        [`GET\r\n${valid}`],
        [`GET  HTTP/1.1\r\n${valid}`],
        [`GET /\x7f HTTP/1.1\r\n${valid}`],
        [`GET /\r\n${valid}`],
        [`GET / HTTP/1.1`],
        [`GET / HTTP/1.`],
        [`GET / http/1.1\r\n${valid}`],
        [`GET / HTTP/2.0\r\n${valid}`],
        [`GET / HTTP/1.2\r\n${valid}`],
        [`GET / HTTP/1.1\n${valid}`],
        [`GET / HTTP/1.1\rX${valid}`],
        [`GET / HTTP/1.1 \r\n${valid}`],
        [`GET / HTTP/1.1\r\n: v\r\n${valid}`],
        [`GET / HTTP/1.1\r\n v\r\n${valid}`],
        [`GET / HTTP/1.1\r\nX v\r\n${valid}`],
        [`GET / HTTP/1.1\r\nX\r\n${valid}`],
        [`GET / HTTP/1.1\r\nX: a\x00b\r\n${valid}`],
        [`GET / HTTP/1.1\r\nX: a\x7fb\r\n${valid}`],
        [`GET / HTTP/1.1\r\nX: a\rb\r\n${valid}`],
        [`GET / HTTP/1.1\r\nX: a\nb\r\n${valid}`],
        [`GET / HTTP/1.1\r\nX: a\n${valid}`],
        [`GET / HTTP/1.1\r\nX: a\r`],
        [`GET / HTTP/1.1\r\nX: a`],
        [`GET / HTTP/1.1\r\nX:`],
        [`GET / HTTP/1.1\r\nX`],
        [`GET / HTTP/1.1\r\n`],
        [`GET / HTTP/1.1\r\n\r`],
        [`GET / HTTP/1.1\r\nContent-Length: 0\r\n${valid}`],
        [`GET / HTTP/1.1\r\ncontent-length: 3\r\n${valid}`],
        [`GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n${valid}`],
        [`GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n`],
        [`GET / HTTP/1.1\r\nHost: a\r\n${valid}`],
        [`GET / HTTP/1.0\r\nHost: a\r\nHOST: b\r\n\r\n`],
      ];
      for (const [head, limits = {}] of heads) {
        const data = concat(bytes(head), FRAME);
        assert.equal(outcome(data, limits, false), outcome(data, limits, true), head);
      }
    });

    it("gives the same request or the same error", () => {
      fc.assert(
        fc.property(
          fc.array(fc.constantFrom(...pieces), { maxLength: 8 }),
          fc.constantFrom("\r\n", "\n"),
          fc.integer({ min: 16, max: 64 }),
          fc.integer({ min: 0, max: 6 }),
          (lines, lastEnd, maxLineLength, maxHeaders) => {
            const head = `${lines.map((line) => `${line}\r\n`).join("")}${lastEnd}\r\n`;
            const data = concat(bytes(head), FRAME);
            const limits = { maxLineLength, maxHeaders };
            assert.equal(outcome(data, limits, false), outcome(data, limits, true), head);
          },
        ),
        { numRuns: 2000 },
      );
    });
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

  it("rejects HTTP versions other than 1.0 and 1.1 with 505", () => {
    for (const version of ["HTTP/2.0", "HTTP/0.9", "HTTP/1.2"]) {
      assertInvalid(
        () => parseRequest(`GET / ${version}\r\nHost: h\r\n\r\n`),
        505,
        "unsupported HTTP version",
      );
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

describe("ResponseParser", () => {
  it("parses RFC 6455 §1.3's handshake response", () => {
    assertRfcResponse(parseResponse(RFC_RESPONSE));
  });

  it("parses the response split in two at every position, leaving the frames after it", () => {
    const data = concat(bytes(RFC_RESPONSE), FRAME);
    const end = RFC_RESPONSE.length;
    for (let i = 0; i <= data.length; i++) {
      const reader = new StreamReader();
      const parser = new ResponseParser();
      reader.feedData(data.subarray(0, i));
      const first = parser.parse(reader);
      if (i < end) assert.equal(first, null, `split at ${i}`);
      reader.feedData(data.subarray(i));
      assertRfcResponse(first ?? parser.parse(reader));
      assert.deepEqual(reader.readAll(), FRAME, `split at ${i}`);
    }
  });

  it("parses the response fed one byte at a time", () => {
    const data = bytes(RFC_RESPONSE);
    const reader = new StreamReader();
    const parser = new ResponseParser();
    for (let i = 0; i < data.length - 1; i++) {
      reader.feedData(data.subarray(i, i + 1));
      assert.equal(parser.parse(reader), null, `after byte ${i}`);
    }
    reader.feedData(data.subarray(data.length - 1));
    assertRfcResponse(parser.parse(reader));
  });

  it("accepts a status line without reason, with an empty reason, or with obs-text", () => {
    assert.equal(parseResponse("HTTP/1.1 101\r\n\r\n")?.reason, "");
    assert.equal(parseResponse("HTTP/1.1 101 \r\n\r\n")?.reason, "");
    assert.equal(
      parseResponse("HTTP/1.1 101 Switching  Protocols\t\r\n\r\n")?.reason,
      "Switching  Protocols\t",
    );
    assert.equal(parseResponse("HTTP/1.1 101 Sw\xeftching\r\n\r\n")?.reason, "Sw\u00eftching");
    assert.equal(parseResponse("HTTP/1.0 101 OK\r\n\r\n")?.status, 101);
  });

  describe("malformed status lines", () => {
    const cases: [string, string][] = [
      ["HTTP/1.1\r\n", "malformed status line"],
      ["HTTP/1.1101 OK\r\n", "malformed status line"],
      ["http/1.1 101 OK\r\n", "malformed status line"],
      ["HTTP/2 101 OK\r\n", "malformed status line"],
      ["HTTP/1.1 1O1 OK\r\n", "malformed status line"],
      ["HTTP/1.1 99 OK\r\n", "malformed status line"],
      ["HTTP/1.1 10\r\n", "malformed status line"],
      ["HTTP/1.1 1011\r\n", "malformed status line"],
      ["HTTP/1.1 -01\r\n", "malformed status line"],
      ["HTTP/1.1 099 OK\r\n", "invalid status code: 99"],
      ["HTTP/1.1 600 OK\r\n", "invalid status code: 600"],
      ["HTTP/1.1 101 O\x00K\r\n", "invalid character in reason phrase"],
      ["HTTP/1.1 101 O\x7fK\r\n", "invalid character in reason phrase"],
      ["HTTP/1.1 101 OK\n", "bare LF"],
    ];
    for (const [line, message] of cases) {
      it(`rejects ${JSON.stringify(line)}`, () => {
        assertInvalid(() => parseResponse(`${line}\r\n`), 400, message);
      });
    }

    it("rejects HTTP versions other than 1.0 and 1.1", () => {
      assertInvalid(
        () => parseResponse("HTTP/2.0 101 OK\r\n\r\n"),
        505,
        "unsupported HTTP version",
      );
    });

    it("rejects a status line longer than maxLineLength", () => {
      const line = `HTTP/1.1 101 ${"x".repeat(32 - 15)}\r\n`;
      assert.equal(line.length, 32);
      assert.ok(parseResponse(`${line}\r\n`, { maxLineLength: 32 }));
      assertInvalid(
        () => parseResponse(`${line.slice(0, 13)}x${line.slice(13)}\r\n`, { maxLineLength: 32 }),
        400,
        "status line too long",
      );
    });
  });

  it("rejects malformed headers like the request parser", () => {
    assertInvalid(
      () => parseResponse("HTTP/1.1 101 OK\r\nX: a\r\n b\r\n\r\n"),
      400,
      "obsolete line folding",
    );
    assertInvalid(
      () => parseResponse("HTTP/1.1 101 OK\r\nX: \0\r\n\r\n"),
      400,
      "invalid character in X header",
    );
    assertInvalid(
      () => parseResponse("HTTP/1.1 101 OK\r\nA: 1\r\nB: 2\r\n\r\n", { maxHeaders: 1 }),
      431,
      "too many headers",
    );
  });

  describe("bodies", () => {
    it("reads no body after 1xx, 204 and 304, even with Content-Length", () => {
      for (const status of [100, 101, 199, 204, 304]) {
        const reader = new StreamReader();
        reader.feedData(bytes(`HTTP/1.1 ${status} X\r\nContent-Length: 3\r\n\r\nabc`));
        const response = new ResponseParser().parse(reader);
        assert.equal(response?.status, status);
        assert.equal(response.body.length, 0);
        assert.equal(text(reader.readAll()), "abc");
      }
    });

    it("reads exactly Content-Length bytes and leaves the rest", () => {
      const reader = new StreamReader();
      const parser = new ResponseParser();
      reader.feedData(bytes("HTTP/1.1 403 Forbidden\r\nContent-Length: 5\r\n\r\nFor"));
      assert.equal(parser.parse(reader), null);
      reader.feedData(bytes("biddenXYZ"));
      const response = parser.parse(reader);
      assert.equal(response?.text, "Forbi");
      assert.equal(text(reader.readAll()), "ddenXYZ");
    });

    it("reads an empty Content-Length body", () => {
      assert.deepEqual(
        parseResponse("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")?.body,
        new Uint8Array(0),
      );
    });

    it("accepts a Content-Length body of exactly maxBodySize and rejects a larger one with 413", () => {
      const limits = { maxBodySize: 4 };
      assert.equal(
        parseResponse("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nabcd", limits)?.text,
        "abcd",
      );
      assertInvalid(
        () => parseResponse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", limits),
        413,
        "body longer than 4 bytes",
      );
      assertInvalid(
        () => parseResponse(`HTTP/1.1 200 OK\r\nContent-Length: ${"9".repeat(400)}\r\n\r\n`),
        413,
        "body longer than 1048576 bytes",
      );
    });

    it("rejects invalid and conflicting Content-Length headers", () => {
      assertInvalid(
        () => parseResponse("HTTP/1.1 200 OK\r\nContent-Length: 1, 1\r\n\r\nx"),
        400,
        "invalid Content-Length",
      );
      assertInvalid(
        () => parseResponse("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nx"),
        400,
        "invalid Content-Length",
      );
      assert.equal(
        parseResponse("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx")?.text,
        "x",
      );
    });

    const CHUNKED =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
      "5\r\nHello\r\n" +
      "6; name=value; x\r\n World\r\n" +
      "A \r\n, chunked!\r\n" +
      "0\r\n" +
      "Trailer: x\r\n" +
      "\r\n";

    it("decodes a chunked body, discards trailers and leaves the rest", () => {
      const reader = new StreamReader();
      reader.feedData(concat(bytes(CHUNKED), FRAME));
      const response = new ResponseParser().parse(reader);
      assert.equal(response?.text, "Hello World, chunked!");
      assert.equal(response.headers.has("Trailer"), false);
      assert.deepEqual(reader.readAll(), FRAME);
    });

    it("decodes a chunked body fed one byte at a time", () => {
      const data = bytes(CHUNKED);
      const reader = new StreamReader();
      const parser = new ResponseParser();
      for (let i = 0; i < data.length - 1; i++) {
        reader.feedData(data.subarray(i, i + 1));
        assert.equal(parser.parse(reader), null, `after byte ${i}`);
      }
      reader.feedData(data.subarray(data.length - 1));
      assert.equal(parser.parse(reader)?.text, "Hello World, chunked!");
    });

    it("decodes a chunked body of 1-byte chunks fed one byte per read, copying the bytes", () => {
      const limits = { maxBodySize: 3000 };
      const payload = Uint8Array.from({ length: 3000 }, (_, i) => 0x21 + (i % 90));
      const chunks = [...payload].map((byte) => `1\r\n${String.fromCharCode(byte)}\r\n`);
      const data = bytes(
        `HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n${chunks.join("")}0\r\n\r\n`,
      );
      const reader = new StreamReader();
      const parser = new ResponseParser(limits);
      const results = feedBytewise(reader, (r) => parser.parse(r), data);
      assert.ok(results.slice(0, -1).every((result) => result === null));
      const response = results.at(-1);
      assert.equal(response?.status, 400);
      assert.deepEqual(response.body, payload);
      // The body owns an array of its exact size, not a larger buffer it grew in.
      assert.equal(response.body.buffer.byteLength, payload.length);
      assert.equal(reader.length, 0);
    });

    it("rejects a chunked body of 1-byte chunks at the chunk size line that passes maxBodySize", () => {
      const limits = { maxBodySize: 3000 };
      const head = "HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n";
      const data = bytes(`${head}${"1\r\na\r\n".repeat(3000)}1\r`);
      const reader = new StreamReader();
      const parser = new ResponseParser(limits);
      const results = feedBytewise(reader, (r) => parser.parse(r), data);
      assert.ok(results.every((result) => result === null));
      // The LF completes the size line of byte 3001.
      reader.feedData(bytes("\n"));
      assertInvalid(() => parser.parse(reader), 413, "body longer than 3000 bytes");
    });

    it("reads Content-Length and until-EOF bodies fed one byte per read, copying the bytes", () => {
      const payload = "Forbidden: ".repeat(100);
      for (const head of [
        `HTTP/1.1 403 Forbidden\r\nContent-Length: ${payload.length}\r\n\r\n`,
        "HTTP/1.0 403 Forbidden\r\n\r\n",
      ]) {
        const reader = new StreamReader();
        const parser = new ResponseParser({ maxBodySize: payload.length });
        const results = feedBytewise(reader, (r) => parser.parse(r), bytes(head + payload));
        let response = results.at(-1);
        if (response === null) {
          reader.feedEof();
          response = parser.parse(reader);
        }
        assert.equal(response?.text, payload);
      }
    });

    it("rejects a body until EOF at the byte past maxBodySize, fed one byte per read", () => {
      const reader = new StreamReader();
      const parser = new ResponseParser({ maxBodySize: 1000 });
      const data = bytes(`HTTP/1.0 200 OK\r\n\r\n${"x".repeat(1000)}`);
      const results = feedBytewise(reader, (r) => parser.parse(r), data);
      assert.ok(results.every((result) => result === null));
      reader.feedData(bytes("x"));
      assertInvalid(() => parser.parse(reader), 413, "body longer than 1000 bytes");
    });

    it("accepts the chunked coding in any case and an empty chunked body", () => {
      const response = parseResponse(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n0\r\n\r\n",
      );
      assert.equal(response?.body.length, 0);
    });

    it("accepts a chunked body of exactly maxBodySize and rejects a larger one with 413", () => {
      const head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
      const limits = { maxBodySize: 4 };
      assert.equal(parseResponse(`${head}2\r\nab\r\n2\r\ncd\r\n0\r\n\r\n`, limits)?.text, "abcd");
      assertInvalid(
        () => parseResponse(`${head}2\r\nab\r\n3\r\n`, limits),
        413,
        "body longer than 4 bytes",
      );
      // Checked digit by digit, before the number can overflow.
      assertInvalid(() => parseResponse(`${head}${"f".repeat(100)}\r\n`), 413, "body longer");
    });

    it("rejects malformed chunks", () => {
      const head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
      assertInvalid(() => parseResponse(`${head}\r\n`), 400, "invalid chunk size");
      assertInvalid(() => parseResponse(`${head}x\r\n`), 400, "invalid chunk size");
      assertInvalid(() => parseResponse(`${head}5 x\r\n`), 400, "invalid chunk size");
      assertInvalid(() => parseResponse(`${head}5;\x00\r\n`), 400, "invalid chunk size");
      assertInvalid(() => parseResponse(`${head}5\r\nHelloXY`), 400, "chunk data without CRLF");
      assertInvalid(() => parseResponse(`${head}5\r\nHello\rX`), 400, "chunk data without CRLF");
      assertInvalid(() => parseResponse(`${head}0\r\nX\r\n\r\n`), 400, "header line without colon");
      assertInvalid(
        () => parseResponse(`${head}${"0".repeat(40)}\r\n`, { maxLineLength: 32 }),
        400,
        "chunk size line too long",
      );
      assertInvalid(
        () => parseResponse(`${head}0\r\nA: 1\r\nB: 2\r\n\r\n`, { maxHeaders: 1 }),
        431,
        "too many trailers",
      );
    });

    it("rejects transfer codings other than chunked, and Transfer-Encoding with Content-Length", () => {
      assertInvalid(
        () => parseResponse("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"),
        400,
        "unsupported Transfer-Encoding: gzip, chunked",
      );
      assertInvalid(
        () =>
          parseResponse(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n",
          ),
        400,
        "both Transfer-Encoding and Content-Length",
      );
    });

    it("reads a body without length until EOF", () => {
      const reader = new StreamReader();
      const parser = new ResponseParser();
      reader.feedData(bytes("HTTP/1.0 200 OK\r\n\r\nHello"));
      assert.equal(parser.parse(reader), null);
      reader.feedData(bytes(", world"));
      assert.equal(parser.parse(reader), null);
      reader.feedEof();
      assert.equal(parser.parse(reader)?.text, "Hello, world");
    });

    it("reads an empty body until EOF", () => {
      assert.equal(parseResponse("HTTP/1.1 200 OK\r\n\r\n", {}, true)?.body.length, 0);
    });

    it("accepts a body until EOF of exactly maxBodySize and rejects a larger one with 413", () => {
      const limits = { maxBodySize: 4 };
      assert.equal(parseResponse("HTTP/1.1 200 OK\r\n\r\nabcd", limits, true)?.text, "abcd");
      // Rejected as soon as the bytes arrive, without waiting for EOF.
      assertInvalid(
        () => parseResponse("HTTP/1.1 200 OK\r\n\r\nabcde", limits),
        413,
        "body longer than 4 bytes",
      );
    });
  });

  describe("end of stream", () => {
    for (const [name, data] of [
      ["before any byte", ""],
      ["in the status line", "HTTP/1.1 1"],
      ["in the headers", "HTTP/1.1 101 OK\r\nUpgrade: websocket\r\n"],
      ["in a Content-Length body", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabc"],
      ["in a chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5"],
      ["in a chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab"],
      ["after a chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r"],
      ["in the trailers", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n"],
    ]) {
      it(`rejects a response ending ${name}`, () => {
        assertInvalid(
          () => parseResponse(data!, {}, true),
          400,
          "connection closed while reading HTTP response",
        );
      });
    }
  });

  it("parses consecutive responses, such as 100 Continue before the final one", () => {
    const reader = new StreamReader();
    const parser = new ResponseParser();
    reader.feedData(
      bytes("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
    );
    assert.equal(parser.parse(reader)?.status, 100);
    const final = parser.parse(reader);
    assert.equal(final?.status, 200);
    assert.equal(final.text, "ok");
  });

  it("throws the same error again after a failure", () => {
    const reader = new StreamReader();
    const parser = new ResponseParser();
    reader.feedData(bytes("HTTP/9\r\n"));
    assert.throws(() => parser.parse(reader), InvalidMessage);
    reader.feedData(bytes(RFC_RESPONSE));
    assert.throws(() => parser.parse(reader), /malformed status line/);
  });
});

describe("Request", () => {
  it("serializes to the request line, the headers and an empty line", () => {
    const headers = new Headers([
      ["Host", "server.example.com"],
      ["Upgrade", "websocket"],
    ]);
    assert.deepEqual(
      new Request("/chat", headers).serialize(),
      bytes("GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n\r\n"),
    );
  });

  it("round-trips RFC 6455 §1.3's request", () => {
    const request = parseRequest(RFC_REQUEST)!;
    assert.equal(text(request.serialize()), RFC_REQUEST);
  });

  it("serializes obs-text values one octet per character", () => {
    const request = new Request(
      "/",
      new Headers([
        ["Host", "h"],
        ["X", "caf\u00e9"],
      ]),
    );
    const serialized = request.serialize();
    assert.deepEqual(
      serialized.subarray(-11),
      new Uint8Array([0x58, 0x3a, 0x20, 0x63, 0x61, 0x66, 0xe9, 0x0d, 0x0a, 0x0d, 0x0a]),
    );
    assert.equal(parseRequest(serialized)?.headers.get("X"), "caf\u00e9");
  });

  it("rejects paths that could rewrite the request line", () => {
    for (const path of ["", "/a b", "/a\r\nX: y", "/a\n", "/\u00e9", "/\0"]) {
      assertInvalid(() => new Request(path, new Headers()), 400, "invalid request path");
    }
  });

  it("rejects invalid methods and versions", () => {
    assertInvalid(() => new Request("/", new Headers(), "GET /"), 400, "invalid request method");
    assertInvalid(
      () => new Request("/", new Headers(), "GET", "HTTP/1.1\r\n"),
      400,
      "invalid HTTP version",
    );
  });
});

describe("Response", () => {
  it("serializes the status line, headers as given, and the body", () => {
    const body = bytes("Not found.\n");
    const response = new Response(404, "Not Found", new Headers([["Content-Length", "11"]]), body);
    assert.equal(
      text(response.serialize()),
      "HTTP/1.1 404 Not Found\r\nContent-Length: 11\r\n\r\nNot found.\n",
    );
  });

  it("round-trips RFC 6455 §1.3's response", () => {
    const response = parseResponse(RFC_RESPONSE)!;
    assert.equal(text(response.serialize()), RFC_RESPONSE);
  });

  it("round-trips a response with a body", () => {
    const body = new Uint8Array([0x00, 0xff, 0x0d, 0x0a]);
    const response = new Response(500, "", new Headers({ "Content-Length": "4" }), body);
    const parsed = parseResponse(response.serialize());
    assert.equal(parsed?.status, 500);
    assert.equal(parsed.reason, "");
    assert.deepEqual(parsed.body, body);
  });

  it("decodes the body as UTF-8 in text", () => {
    const response = new Response(200, "OK", new Headers(), new Uint8Array([0xc3, 0xa9, 0xff]));
    assert.equal(response.text, "\u00e9\ufffd");
    assert.equal(new Response(200, "OK", new Headers()).text, "");
  });

  it("rejects status codes outside 100–599 and reasons with control characters", () => {
    for (const status of [99, 600, 101.5, Number.NaN]) {
      assertInvalid(() => new Response(status, "X", new Headers()), 400, "invalid status code");
    }
    assertInvalid(
      () => new Response(200, "OK\r\nX: y", new Headers()),
      400,
      "invalid reason phrase",
    );
  });
});
