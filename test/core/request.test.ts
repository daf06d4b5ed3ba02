import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { Headers } from "../../src/core/headers.js";
import { Request } from "../../src/core/request.js";
import { assertInvalid, bytes, parseRequest, RFC_REQUEST, text } from "../helpers/http.js";

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
