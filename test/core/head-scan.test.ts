import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";

import { InvalidMessage } from "../../src/core/errors.js";
import type { HttpLimits } from "../../src/core/http-limits.js";
import type { Request } from "../../src/core/request.js";
import { RequestParser } from "../../src/core/request-parser.js";
import { StreamReader } from "../../src/core/streams.js";
import { bytes, concat, FRAME } from "../helpers/http.js";

// The one-pass scan of head-scan.ts, seen through the parser that tries it first.
describe("RequestParser", () => {
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
      "GET ws:///no-host HTTP/1.1",
      "GET wss://h:1/x HTTP/1.1",
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
        [`GET http:///chat HTTP/1.1\r\n${valid}`],
        [`GET http://:80 HTTP/1.1\r\n${valid}`],
        [`GET http://h/chat HTTP/1.1\r\n${valid}`],
        [`GET * HTTP/1.1\r\n${valid}`],
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
});
