import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { InvalidMessage } from "../../src/core/errors.js";
import type { Response } from "../../src/core/response.js";
import { ResponseParser } from "../../src/core/response-parser.js";
import { StreamReader } from "../../src/core/streams.js";
import {
  assertInvalid,
  bytes,
  concat,
  FRAME,
  feedBytewise,
  parseResponse,
  RFC_RESPONSE,
  text,
} from "../helpers/http.js";

function assertRfcResponse(response: Response | null): void {
  assert.ok(response);
  assert.equal(response.status, 101);
  assert.equal(response.reason, "Switching Protocols");
  assert.equal(response.headers.get("Sec-WebSocket-Accept"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  assert.equal(response.headers.size, 4);
  assert.equal(response.body.length, 0);
}

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
  });

  it("rejects a 101 in an HTTP/1.0 response, and reads HTTP/1.0 error responses", () => {
    assertInvalid(
      () => parseResponse("HTTP/1.0 101 Switching Protocols\r\n\r\n"),
      400,
      "101 Switching Protocols in an HTTP/1.0 response",
    );
    assert.equal(parseResponse("HTTP/1.0 403 Forbidden\r\nContent-Length: 0\r\n\r\n")?.status, 403);
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

    it("rejects HTTP versions other than 1.x, and reads a later 1.x as 1.1", () => {
      for (const version of ["HTTP/2.0", "HTTP/0.9"]) {
        assertInvalid(
          () => parseResponse(`${version} 101 OK\r\n\r\n`),
          505,
          "unsupported HTTP version",
        );
      }
      // RFC 9110 §2.5: a higher minor version is processed as the highest one implemented.
      assert.equal(parseResponse("HTTP/1.2 101 OK\r\n\r\n")?.status, 101);
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

  it("replaces each obs-fold with a space (RFC 9112 §5.2), however the response is split", () => {
    const folded = "HTTP/1.1 101 OK\r\nX: a\r\n b \r\n\t\tc\r\nY: 1\r\nZ:\r\n z\r\n\r\n";
    const whole = parseResponse(folded);
    assert.deepEqual(
      [...whole!.headers],
      [
        ["X", "a b c"],
        ["Y", "1"],
        ["Z", "z"],
      ],
    );
    const parser = new ResponseParser();
    const results = feedBytewise(new StreamReader(), (r) => parser.parse(r), bytes(folded));
    assert.deepEqual([...results.at(-1)!.headers], [...whole!.headers]);
  });

  it("bounds the head by maxHeaderSize, 32 KiB by default, for each response on its own", () => {
    const response = (size: number) => {
      const start = "HTTP/1.1 101 OK\r\n";
      const filler = size - start.length - "X: \r\n\r\n".length;
      return `${start}X: ${"v".repeat(filler)}\r\n\r\n`;
    };
    assert.equal(parseResponse(response(64), { maxHeaderSize: 64 })?.status, 101);
    assertInvalid(
      () => parseResponse(response(65), { maxHeaderSize: 64 }),
      431,
      "head larger than 64 bytes",
    );
    // Continuation lines count too (the field they make is bounded by maxLineLength).
    assertInvalid(
      () =>
        parseResponse(`HTTP/1.1 101 OK\r\nX: a\r\n${" b\r\n".repeat(9_000)}\r\n`, {
          maxLineLength: 1 << 20,
        }),
      431,
      "head larger than 32768 bytes",
    );
    // The status line too, before its end arrives.
    assertInvalid(
      () => parseResponse(`HTTP/1.1 101 ${"a".repeat(100)}`, { maxHeaderSize: 64 }),
      431,
      "head larger than 64 bytes",
    );
    // An interim response and the final one are counted apart.
    const interim = "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n";
    const reader = new StreamReader();
    const parser = new ResponseParser({ maxHeaderSize: 64 });
    reader.feedData(bytes(`${interim}${response(64)}`));
    assert.equal(parser.parse(reader)?.status, 103);
    assert.equal(parser.parse(reader)?.status, 101);
  });

  it("bounds an unfolded field by maxLineLength, and refuses a fold before any field", () => {
    const head = "HTTP/1.1 101 OK\r\n";
    // "X: " + 10 + " " + 10 + CRLF is 26 bytes.
    const response = `${head}X: ${"a".repeat(10)}\r\n ${"b".repeat(10)}\r\n\r\n`;
    assert.equal(parseResponse(response, { maxLineLength: 26 })?.headers.get("X")?.length, 21);
    assertInvalid(
      () => parseResponse(response, { maxLineLength: 25 }),
      431,
      "header line too long",
    );
    // Endless continuation lines would otherwise add no field and no limit.
    assertInvalid(
      () =>
        parseResponse(`${head}X: a\r\n${" b\r\n".repeat(10_000)}\r\n`, {
          maxHeaderSize: 1 << 20,
        }),
      431,
      "header line too long",
    );
    assertInvalid(
      () => parseResponse(`${head} b\r\nX: a\r\n\r\n`),
      400,
      "folded header line before the first header",
    );
    // Lines of whitespace would add nothing, and no limit would hold them.
    assertInvalid(
      () => parseResponse(`${head}X: a\r\n${" \r\n".repeat(3)}\r\n`),
      400,
      "empty folded header line",
    );
    // Continuation lines add no field: the last field allowed may be folded.
    const two = `${head}A: 1\r\nB: 2\r\n`;
    assert.equal(parseResponse(`${two} 3\r\n\r\n`, { maxHeaders: 2 })?.headers.get("B"), "2 3");
    assertInvalid(
      () => parseResponse(`${two}C: 3\r\n\r\n`, { maxHeaders: 2 }),
      431,
      "too many headers",
    );
    assertInvalid(
      () => parseResponse(`${head}X: a\r\n b\x00\r\n\r\n`),
      400,
      "invalid character in folded header line",
    );
  });

  it("rejects malformed headers like the request parser", () => {
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
        'unsupported Transfer-Encoding: "gzip, chunked"',
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
