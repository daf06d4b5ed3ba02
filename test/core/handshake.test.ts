import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { describe, it } from "node:test";

import { InvalidHeaderFormat, InvalidUpgrade } from "../../src/core/errors.js";
import {
  acceptKey,
  checkUpgradeHeaders,
  generateKey,
  isValidKey,
  sha1Base64WithHashObject,
} from "../../src/core/handshake.js";
import { Headers, type HeadersInit } from "../../src/core/headers.js";

describe("acceptKey", () => {
  it("computes RFC 6455 §1.3's example", () => {
    assert.equal(acceptKey("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  });

  it("hashes the key as given, without trimming or decoding it", () => {
    assert.notEqual(acceptKey("dGhlIHNhbXBsZSBub25jZQ== "), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  });

  it("computes the same with a Hash object, as on Node before 20.12", () => {
    const guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    assert.equal(
      sha1Base64WithHashObject(`dGhlIHNhbXBsZSBub25jZQ==${guid}`),
      "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
    );
    for (const key of ["AAAAAAAAAAAAAAAAAAAAAA==", generateKey(), generateKey()]) {
      assert.equal(sha1Base64WithHashObject(key + guid), acceptKey(key));
    }
  });
});

describe("generateKey", () => {
  it("returns the base64 of 16 bytes", () => {
    const key = generateKey();
    assert.match(key, /^[A-Za-z0-9+/]{22}==$/);
    assert.equal(Buffer.from(key, "base64").length, 16);
    assert.ok(isValidKey(key));
  });

  it("returns a different key each time", () => {
    const keys = new Set(Array.from({ length: 100 }, generateKey));
    assert.equal(keys.size, 100);
  });
});

describe("isValidKey", () => {
  const valid = [
    "dGhlIHNhbXBsZSBub25jZQ==",
    "AAAAAAAAAAAAAAAAAAAAAA==",
    "/////////////////////w==",
    "+/+/+/+/+/+/+/+/+/+/+g==",
  ];
  for (const key of valid) {
    it(`accepts ${key}`, () => assert.equal(isValidKey(key), true));
  }

  const invalid: [string, string][] = [
    ["the empty string", ""],
    ["a key without padding", "dGhlIHNhbXBsZSBub25jZQ"],
    ["a key with one padding character", "dGhlIHNhbXBsZSBub25jZQ="],
    ["non-zero bits after the 16th byte", "dGhlIHNhbXBsZSBub25jZR=="],
    ["15 bytes", "AAAAAAAAAAAAAAAAAAAA"],
    ["17 bytes", "AAAAAAAAAAAAAAAAAAAAAAA="],
    ["24 bytes", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"],
    ["the base64url alphabet", "-_-_-_-_-_-_-_-_-_-_-g=="],
    ["leading whitespace", " dGhlIHNhbXBsZSBub25jZQ=="],
    ["trailing whitespace", "dGhlIHNhbXBsZSBub25jZQ== "],
    ["a line break", "dGhlIHNhbXBsZSBub25jZQ==\n"],
    ["padding in the middle", "dGhlIHNhbXBsZSBub25j=Q=="],
  ];
  for (const [name, key] of invalid) {
    it(`rejects ${name}`, () => assert.equal(isValidKey(key), false));
  }
});

describe("checkUpgradeHeaders", () => {
  const valid: [string, HeadersInit][] = [
    ["the canonical values", { Connection: "Upgrade", Upgrade: "websocket" }],
    ["other cases", { connection: "UPGRADE", UPGRADE: "WebSocket" }],
    ["a Connection list", { Connection: "keep-alive, Upgrade", Upgrade: "websocket" }],
    [
      "a Connection list with empty elements",
      { Connection: ", keep-alive ,, upgrade,", Upgrade: "websocket" },
    ],
    [
      "Connection in several fields",
      { Connection: ["keep-alive", "Upgrade"], Upgrade: "websocket" },
    ],
    ["single values with whitespace around", { Connection: " Upgrade ", Upgrade: "\twebsocket " }],
    ["a list of websocket alone", { Connection: "Upgrade", Upgrade: ", websocket ," }],
  ];
  for (const [name, init] of valid) {
    it(`accepts ${name}`, () => {
      assert.doesNotThrow(() => checkUpgradeHeaders(new Headers(init), "request"));
      assert.doesNotThrow(() => checkUpgradeHeaders(new Headers(init), "response"));
    });
  }

  // RFC 6455 §4.2.1: a request's Upgrade field "containing the value
  // websocket"; §4.1: a response's with "a value that is not an ASCII
  // case-insensitive match for the value websocket" fails the connection.
  const upgradeLists: [string, HeadersInit, string][] = [
    [
      "an Upgrade list",
      { Connection: "Upgrade", Upgrade: "HTTP/2.0, websocket" },
      "HTTP/2.0, websocket",
    ],
    [
      "Upgrade in several fields",
      { Connection: "Upgrade", Upgrade: ["h2c", "websocket"] },
      "h2c, websocket",
    ],
    [
      "websocket twice",
      { Connection: "Upgrade", Upgrade: ["websocket", "WebSocket"] },
      "websocket, WebSocket",
    ],
  ];
  for (const [name, init, value] of upgradeLists) {
    it(`accepts ${name} in a request, not in a response`, () => {
      assert.doesNotThrow(() => checkUpgradeHeaders(new Headers(init), "request"));
      assert.throws(
        () => checkUpgradeHeaders(new Headers(init), "response"),
        (e: unknown) => {
          assert.ok(e instanceof InvalidUpgrade, String(e));
          assert.equal(e.header, "Upgrade");
          assert.equal(e.value, value);
          return true;
        },
      );
    });
  }

  const invalid: [string, HeadersInit, string, string | null, string][] = [
    [
      "a missing Connection",
      { Upgrade: "websocket" },
      "Connection",
      null,
      "missing Connection header",
    ],
    [
      "Connection without upgrade",
      { Connection: "keep-alive, close", Upgrade: "websocket" },
      "Connection",
      "keep-alive, close",
      "invalid Connection header: keep-alive, close",
    ],
    [
      "Connection with upgrade as a substring",
      { Connection: "upgrade-insecure-requests", Upgrade: "websocket" },
      "Connection",
      "upgrade-insecure-requests",
      "invalid Connection header: upgrade-insecure-requests",
    ],
    ["a missing Upgrade", { Connection: "Upgrade" }, "Upgrade", null, "missing Upgrade header"],
    [
      "another protocol in Upgrade",
      { Connection: "Upgrade", Upgrade: "h2c" },
      "Upgrade",
      "h2c",
      "invalid Upgrade header: h2c",
    ],
    [
      "a versioned websocket in Upgrade",
      { Connection: "Upgrade", Upgrade: "websocket/13" },
      "Upgrade",
      "websocket/13",
      "invalid Upgrade header: websocket/13",
    ],
  ];
  for (const [name, init, header, value, message] of invalid) {
    it(`rejects ${name} with InvalidUpgrade`, () => {
      for (const kind of ["request", "response"] as const) {
        assert.throws(
          () => checkUpgradeHeaders(new Headers(init), kind),
          (e: unknown) => {
            assert.ok(e instanceof InvalidUpgrade, String(e));
            assert.equal(e.header, header);
            assert.equal(e.value, value);
            assert.equal(e.message, message);
            return true;
          },
        );
      }
    });
  }

  it("checks Connection before Upgrade", () => {
    assert.throws(() => checkUpgradeHeaders(new Headers(), "request"), { header: "Connection" });
  });

  it("rejects values that don't follow the list grammar with InvalidHeaderFormat", () => {
    assert.throws(
      () =>
        checkUpgradeHeaders(
          new Headers({ Connection: "Upgrade;", Upgrade: "websocket" }),
          "request",
        ),
      InvalidHeaderFormat,
    );
    assert.throws(
      () =>
        checkUpgradeHeaders(
          new Headers({ Connection: "Upgrade", Upgrade: "web socket" }),
          "response",
        ),
      InvalidHeaderFormat,
    );
  });
});
