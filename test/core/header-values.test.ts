import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  buildExtensionList,
  buildSubprotocolList,
  type ExtensionHeader,
  parseConnection,
  parseEach,
  parseExtensionList,
  parseSubprotocolList,
  parseUpgrade,
} from "../../src/core/header-values.js";
import { assertFormat } from "../helpers/headers.js";

describe("parseEach", () => {
  it("joins the lists of repeated header lines in order (RFC 9110 §5.3)", () => {
    assert.deepEqual(parseEach(["a, b", "c", " , d"], parseConnection), ["a", "b", "c", "d"]);
    assert.deepEqual(parseEach(["a, b"], parseConnection), ["a", "b"]);
    assert.deepEqual(parseEach([], parseConnection), []);
  });

  it("throws for a malformed line among them", () => {
    assert.throws(() => parseEach(["a", "b c"], parseConnection), /expected comma/);
  });
});

describe("parseConnection", () => {
  it("parses a single token", () => {
    assert.deepEqual(parseConnection("Upgrade"), ["Upgrade"]);
  });

  it("parses a list with OWS around commas", () => {
    assert.deepEqual(parseConnection("keep-alive, Upgrade"), ["keep-alive", "Upgrade"]);
    assert.deepEqual(parseConnection("keep-alive ,\tUpgrade"), ["keep-alive", "Upgrade"]);
    assert.deepEqual(parseConnection("  Upgrade  "), ["Upgrade"]);
  });

  it("skips empty list elements (RFC 9110 §5.6.1)", () => {
    assert.deepEqual(parseConnection(",Upgrade"), ["Upgrade"]);
    assert.deepEqual(parseConnection(", , Upgrade, ,"), ["Upgrade"]);
    assert.deepEqual(parseConnection("a,,b"), ["a", "b"]);
    assert.deepEqual(parseConnection("a , , b ,"), ["a", "b"]);
  });

  it("requires at least one token", () => {
    assertFormat(() => parseConnection(""), "expected token", 0, "Connection");
    assertFormat(() => parseConnection(" "), "expected token", 1);
    assertFormat(() => parseConnection(", ,"), "expected token", 3);
  });

  it("rejects what isn't a token or a comma", () => {
    assertFormat(() => parseConnection("Upgrade;"), "expected comma", 7);
    assertFormat(() => parseConnection("Up grade"), "expected comma", 3);
    assertFormat(() => parseConnection("a, /"), "expected token", 3);
  });

  it("reports the header name it is given", () => {
    assertFormat(
      () => parseConnection("", "Proxy-Connection"),
      "expected token",
      0,
      "Proxy-Connection",
    );
  });
});

describe("parseUpgrade", () => {
  it("parses protocols with and without versions", () => {
    assert.deepEqual(parseUpgrade("websocket"), ["websocket"]);
    assert.deepEqual(parseUpgrade("HTTP/2.0, SHTTP/1.3, IRC/6.9, RTA/x11"), [
      "HTTP/2.0",
      "SHTTP/1.3",
      "IRC/6.9",
      "RTA/x11",
    ]);
  });

  it("rejects a slash without a version and other garbage", () => {
    assertFormat(() => parseUpgrade("websocket/"), "expected token", 10, "Upgrade");
    assertFormat(() => parseUpgrade("/1"), "expected token", 0);
    assertFormat(() => parseUpgrade("a/b/c"), "expected comma", 3);
    assertFormat(() => parseUpgrade(""), "expected token", 0);
  });
});

describe("parseSubprotocolList", () => {
  it("parses RFC 6455 §1.3's example", () => {
    assert.deepEqual(parseSubprotocolList("chat, superchat"), ["chat", "superchat"]);
  });

  it("rejects an empty list and non-tokens", () => {
    assertFormat(() => parseSubprotocolList(""), "expected token", 0, "Sec-WebSocket-Protocol");
    assertFormat(() => parseSubprotocolList("chat, super chat"), "expected comma", 12);
  });
});

describe("parseExtensionList", () => {
  it("parses extensions without parameters", () => {
    assert.deepEqual(parseExtensionList("foo"), [["foo", []]]);
    assert.deepEqual(parseExtensionList("foo, bar"), [
      ["foo", []],
      ["bar", []],
    ]);
  });

  it("parses parameters with and without values", () => {
    assert.deepEqual(
      parseExtensionList("permessage-deflate; client_max_window_bits; server_max_window_bits=10"),
      [
        [
          "permessage-deflate",
          [
            ["client_max_window_bits", null],
            ["server_max_window_bits", "10"],
          ],
        ],
      ],
    );
  });

  it("allows OWS around ; , and =", () => {
    assert.deepEqual(parseExtensionList(' foo ;\tx = 1 ; y , bar;z= "2" '), [
      [
        "foo",
        [
          ["x", "1"],
          ["y", null],
        ],
      ],
      ["bar", [["z", "2"]]],
    ]);
  });

  it("unescapes quoted-string values (RFC 6455 §9.1)", () => {
    assert.deepEqual(parseExtensionList('foo; bar="baz"'), [["foo", [["bar", "baz"]]]]);
    assert.deepEqual(parseExtensionList('foo; bar="b\\az"'), [["foo", [["bar", "baz"]]]]);
    assert.deepEqual(parseExtensionList('foo; bar="\\1\\0"'), [["foo", [["bar", "10"]]]]);
  });

  it("rejects quoted values that aren't tokens once unescaped", () => {
    assertFormat(() => parseExtensionList('foo; bar="a b"'), "invalid quoted header content", 9);
    assertFormat(() => parseExtensionList('foo; bar=""'), "invalid quoted header content", 9);
    assertFormat(() => parseExtensionList('foo; bar="\\""'), "invalid quoted header content", 9);
  });

  it("rejects malformed quoted strings", () => {
    assertFormat(() => parseExtensionList('foo; bar="baz'), "unterminated quoted string", 9);
    assertFormat(() => parseExtensionList('foo; bar="baz\\'), "unterminated quoted string", 9);
    assertFormat(
      () => parseExtensionList('foo; bar="a\x01"'),
      "invalid character in quoted string",
      11,
    );
    assertFormat(() => parseExtensionList('foo; bar="a\\\x00"'), "invalid quoted-pair", 11);
  });

  it("rejects missing names, values and separators", () => {
    const header = "Sec-WebSocket-Extensions";
    assertFormat(() => parseExtensionList(""), "expected token", 0, header);
    assertFormat(() => parseExtensionList(";x"), "expected token", 0);
    assertFormat(() => parseExtensionList("foo;"), "expected token", 4);
    assertFormat(() => parseExtensionList("foo; =1"), "expected token", 5);
    assertFormat(() => parseExtensionList("foo; x="), "expected token", 7);
    assertFormat(() => parseExtensionList("foo; x=@"), "expected token", 7);
    assertFormat(() => parseExtensionList("foo; x=1 2"), "expected comma", 9);
    assertFormat(() => parseExtensionList("foo bar"), "expected comma", 4);
  });
});

describe("builders", () => {
  it("builds extension lists that parse back to the same value", () => {
    const list: ExtensionHeader[] = [
      [
        "permessage-deflate",
        [
          ["client_max_window_bits", null],
          ["server_max_window_bits", "10"],
        ],
      ],
      ["x-foo", []],
    ];
    const value = buildExtensionList(list);
    assert.equal(
      value,
      "permessage-deflate; client_max_window_bits; server_max_window_bits=10, x-foo",
    );
    assert.deepEqual(parseExtensionList(value), list);
  });

  it("rejects extension lists with non-tokens or no entries", () => {
    const header = "Sec-WebSocket-Extensions";
    assertFormat(() => buildExtensionList([]), "empty list", 0, header);
    assertFormat(() => buildExtensionList([["a b", []]]), "invalid token", 1);
    assertFormat(() => buildExtensionList([["a", [["", null]]]]), "invalid token", 0);
    assertFormat(() => buildExtensionList([["a", [["x=", "1"]]]]), "invalid token", 1);
    assertFormat(() => buildExtensionList([["a", [["x", "1 2"]]]]), "invalid token", 1);
    assertFormat(() => buildExtensionList([["a", [["x", ""]]]]), "invalid token", 0);
  });

  it("builds subprotocol lists", () => {
    assert.equal(buildSubprotocolList(["chat", "superchat"]), "chat, superchat");
    assert.equal(buildSubprotocolList(["chat"]), "chat");
  });

  it("rejects subprotocol lists with non-tokens or no entries", () => {
    const header = "Sec-WebSocket-Protocol";
    assertFormat(() => buildSubprotocolList([]), "empty list", 0, header);
    assertFormat(() => buildSubprotocolList(["chat", "super chat"]), "invalid token", 5, header);
    assertFormat(() => buildSubprotocolList(["a,b"]), "invalid token", 1, header);
  });
});

describe("parsers on hostile input", () => {
  // Each of these would take minutes with a quadratic or backtracking parser.
  it("parses a million commas", () => {
    assert.deepEqual(parseConnection(`${",".repeat(1_000_000)}Upgrade`), ["Upgrade"]);
    assertFormat(() => parseConnection(",".repeat(1_000_000)), "expected token", 1_000_000);
    assert.deepEqual(parseSubprotocolList(`a${", ".repeat(500_000)}b`), ["a", "b"]);
  });

  it("parses 100,000 parameters", () => {
    const [[name, parameters]] = parseExtensionList(`x${";a".repeat(100_000)}`) as [
      [string, unknown[]],
    ];
    assert.equal(name, "x");
    assert.equal(parameters.length, 100_000);
    assertFormat(() => parseExtensionList(`x${"; a".repeat(100_000)};`), "expected token", 300_002);
  });

  it("parses 100,000 extensions", () => {
    assert.equal(parseExtensionList(Array(100_000).fill("e; p=1").join(",")).length, 100_000);
  });

  it("rejects 500 KB of unterminated quoted-string", () => {
    assertFormat(
      () => parseExtensionList(`x; p="${"a".repeat(500_000)}`),
      "unterminated quoted string",
      5,
    );
  });

  it("handles long runs of quotes and backslashes", () => {
    assertFormat(
      () => parseExtensionList(`x; p="${"\\".repeat(500_001)}`),
      "unterminated quoted string",
      5,
    );
    assertFormat(
      () => parseExtensionList(`x; p="${'\\"'.repeat(250_000)}"`),
      "invalid quoted header content",
      5,
    );
    assert.deepEqual(parseExtensionList(`x; p="${"\\a".repeat(250_000)}"`), [
      ["x", [["p", "a".repeat(250_000)]]],
    ]);
    assertFormat(() => parseExtensionList(`x; p="a"${'"'.repeat(500_000)}`), "expected comma", 8);
  });
});
