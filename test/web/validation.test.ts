/** The constructor's and close()'s argument checks (WHATWG WebSockets), without the network. */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  parseCloseArguments,
  parseProtocols,
  parseWebSocketUrl,
  wireUri,
} from "../../src/web/validation.js";

/** Asserts that `fn` throws a DOMException named `name`. */
function throwsDom(fn: () => unknown, name: string): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof DOMException, String(error));
    assert.equal(error.name, name);
    return true;
  });
}

describe("parseWebSocketUrl", () => {
  it("keeps ws and wss URLs, serialized by the URL standard", () => {
    assert.equal(parseWebSocketUrl("ws://example.com").href, "ws://example.com/");
    assert.equal(parseWebSocketUrl("WSS://EXAMPLE.com:443/a?b=c").href, "wss://example.com/a?b=c");
    assert.equal(parseWebSocketUrl("ws://[::1]:8080/x").href, "ws://[::1]:8080/x");
    assert.equal(parseWebSocketUrl(new URL("ws://example.com/p")).href, "ws://example.com/p");
  });

  it("maps http to ws and https to wss, with their default ports", () => {
    assert.equal(parseWebSocketUrl("http://example.com/chat").href, "ws://example.com/chat");
    assert.equal(parseWebSocketUrl("https://example.com/chat").href, "wss://example.com/chat");
    assert.equal(parseWebSocketUrl("http://example.com:80/").href, "ws://example.com/");
    assert.equal(parseWebSocketUrl("https://example.com:443/").href, "wss://example.com/");
    assert.equal(parseWebSocketUrl("http://example.com:8080/").href, "ws://example.com:8080/");
  });

  it("throws SyntaxError for other schemes, relative and unparsable URLs", () => {
    for (const url of [
      "ftp://example.com/",
      "file:///tmp/x",
      "/relative",
      "example.com",
      "ws://",
    ]) {
      throwsDom(() => parseWebSocketUrl(url), "SyntaxError");
    }
  });

  it("throws SyntaxError for a fragment, even an empty one", () => {
    throwsDom(() => parseWebSocketUrl("ws://example.com/#frag"), "SyntaxError");
    throwsDom(() => parseWebSocketUrl("ws://example.com/#"), "SyntaxError");
    throwsDom(() => parseWebSocketUrl("http://example.com/?q#"), "SyntaxError");
  });

  it("throws SyntaxError for URLs the client cannot connect to", () => {
    throwsDom(() => parseWebSocketUrl("ws://example.com:0/"), "SyntaxError");
    throwsDom(() => parseWebSocketUrl("ws://user@example.com/"), "SyntaxError");
  });

  it("takes URLs the URL standard parses but RFC 3986 doesn't allow as they are", () => {
    // The URL standard keeps a backslash in a query, and a `%` that starts no
    // escape in user info: the URL is kept, and the URI sent escapes them.
    const backslash = parseWebSocketUrl("ws://127.0.0.1:8001/?a\\b");
    assert.equal(backslash.href, "ws://127.0.0.1:8001/?a\\b");
    assert.equal(wireUri(backslash), "ws://127.0.0.1:8001/?a%5Cb");
    const userInfo = parseWebSocketUrl("ws://a%zz:pw@127.0.0.1:8001/");
    assert.equal(userInfo.href, "ws://a%zz:pw@127.0.0.1:8001/");
    assert.equal(wireUri(userInfo), "ws://a%25zz:pw@127.0.0.1:8001/");
    const others = parseWebSocketUrl("ws://example.com/a|b^c?x={y}&z=[1]`");
    assert.equal(wireUri(others), "ws://example.com/a%7Cb%5Ec?x=%7By%7D&z=%5B1%5D%60");
    // Escapes already there, IPv6 hosts and default ports stay as they are.
    assert.equal(wireUri(parseWebSocketUrl("wss://[::1]/p%20q?r=%2F")), "wss://[::1]/p%20q?r=%2F");
    assert.equal(
      wireUri(parseWebSocketUrl("http://u:p@example.com:8080/")),
      "ws://u:p@example.com:8080/",
    );
  });

  it("converts its argument to a string as WebIDL does", () => {
    assert.throws(() => parseWebSocketUrl(Symbol("url")), TypeError);
    throwsDom(() => parseWebSocketUrl(undefined), "SyntaxError");
    const stringifies = { toString: () => "ws://example.com/from-object" };
    assert.equal(parseWebSocketUrl(stringifies).href, "ws://example.com/from-object");
  });
});

describe("parseProtocols", () => {
  it("takes nothing, a string, or an iterable of strings", () => {
    assert.deepEqual(parseProtocols(undefined), []);
    assert.deepEqual(parseProtocols([]), []);
    assert.deepEqual(parseProtocols("chat"), ["chat"]);
    assert.deepEqual(parseProtocols(["chat.v2", "chat.v1"]), ["chat.v2", "chat.v1"]);
    assert.deepEqual(parseProtocols(new Set(["a", "b"])), ["a", "b"]);
  });

  it("converts other values to strings as WebIDL does", () => {
    assert.deepEqual(parseProtocols(null), ["null"]);
    assert.deepEqual(parseProtocols(42), ["42"]);
    assert.deepEqual(parseProtocols([1, true]), ["1", "true"]);
    assert.throws(() => parseProtocols([Symbol("p")]), TypeError);
  });

  it("throws SyntaxError for a subprotocol that is not a token", () => {
    for (const protocol of ["", "ec ho", "a,b", "a\u0000b", "a\u007fb", "é", "a/b", '"q"']) {
      throwsDom(() => parseProtocols([protocol]), "SyntaxError");
    }
    throwsDom(() => parseProtocols(""), "SyntaxError");
  });

  it("throws SyntaxError for a subprotocol offered twice, in any case", () => {
    throwsDom(() => parseProtocols(["echo", "echo"]), "SyntaxError");
    throwsDom(() => parseProtocols(["echo", "eCho"]), "SyntaxError");
    assert.deepEqual(parseProtocols(["echo", "echo2"]), ["echo", "echo2"]);
  });
});

describe("parseCloseArguments", () => {
  it("takes no code, 1000, or 3000-4999", () => {
    assert.deepEqual(parseCloseArguments(undefined, undefined), { code: null, reason: "" });
    assert.deepEqual(parseCloseArguments(1000, undefined), { code: 1000, reason: "" });
    assert.deepEqual(parseCloseArguments(3000, "a"), { code: 3000, reason: "a" });
    assert.deepEqual(parseCloseArguments(4999, "b"), { code: 4999, reason: "b" });
    assert.deepEqual(parseCloseArguments(undefined, "why"), { code: null, reason: "why" });
  });

  it("converts the reason before checking the code, as WebIDL does", () => {
    assert.throws(() => parseCloseArguments(5000, Symbol("r")), TypeError);
    let converted = 0;
    const reason = {
      toString: () => {
        converted++;
        return "r";
      },
    };
    throwsDom(() => parseCloseArguments(5000, reason), "InvalidAccessError");
    assert.equal(converted, 1);
  });

  it("throws InvalidAccessError for other codes", () => {
    for (const code of [0, 999, 1001, 1005, 1006, 1011, 2999, 5000, 65535, Number.NaN, -1]) {
      throwsDom(() => parseCloseArguments(code, undefined), "InvalidAccessError");
    }
  });

  it("clamps and rounds the code as WebIDL [Clamp] unsigned short does", () => {
    assert.equal(parseCloseArguments(1000.4, undefined).code, 1000);
    assert.equal(parseCloseArguments(3000.5, undefined).code, 3000);
    assert.equal(parseCloseArguments(3001.5, undefined).code, 3002);
    assert.equal(parseCloseArguments("4000", undefined).code, 4000);
    throwsDom(() => parseCloseArguments(65536 + 1000, undefined), "InvalidAccessError");
    throwsDom(() => parseCloseArguments(null, undefined), "InvalidAccessError");
  });

  it("throws SyntaxError for a reason over 123 bytes of UTF-8", () => {
    assert.equal(parseCloseArguments(1000, "x".repeat(123)).reason.length, 123);
    throwsDom(() => parseCloseArguments(1000, "x".repeat(124)), "SyntaxError");
    // 62 two-byte characters: 124 bytes in 62 characters.
    throwsDom(() => parseCloseArguments(1000, "é".repeat(62)), "SyntaxError");
    assert.equal(parseCloseArguments(1000, "é".repeat(61)).reason, "é".repeat(61));
    // A lone surrogate is sent as U+FFFD, 3 bytes.
    throwsDom(() => parseCloseArguments(1000, "\ud800".repeat(42)), "SyntaxError");
    assert.equal(parseCloseArguments(1000, "\ud800".repeat(41)).reason.length, 41);
  });

  it("checks the code before the reason", () => {
    throwsDom(() => parseCloseArguments(1001, "x".repeat(200)), "InvalidAccessError");
  });
});
