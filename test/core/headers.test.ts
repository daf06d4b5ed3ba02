import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { buildBasicAuthorization, parseBasicAuthorization } from "../../src/core/basic-auth.js";
import { InvalidHeaderFormat, InvalidHeaderValue } from "../../src/core/errors.js";
import { isFieldValueChar, isToken } from "../../src/core/field-syntax.js";
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
import { appendParsedField, compactHeaders, Headers, packHeaders } from "../../src/core/headers.js";

/** Asserts that `fn` throws InvalidHeaderFormat with this error text and position. */
function assertFormat(fn: () => unknown, error: string, position: number, header?: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof InvalidHeaderFormat, String(e));
    assert.equal(e.error, error);
    assert.equal(e.position, position);
    if (header !== undefined) assert.equal(e.header, header);
    return true;
  });
}

function assertValue(fn: () => unknown, why: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof InvalidHeaderValue, String(e));
    assert.equal(e.header, "Authorization");
    assert.equal(e.value, why);
    return true;
  });
}

describe("Headers", () => {
  it("looks names up case-insensitively and keeps their casing", () => {
    const headers = new Headers();
    headers.append("Sec-WebSocket-Key", "abc");
    assert.equal(headers.get("sec-websocket-key"), "abc");
    assert.equal(headers.get("SEC-WEBSOCKET-KEY"), "abc");
    assert.ok(headers.has("sec-WEBSOCKET-key"));
    assert.deepEqual([...headers], [["Sec-WebSocket-Key", "abc"]]);
  });

  it("returns undefined and an empty list for a missing name", () => {
    const headers = new Headers();
    assert.equal(headers.get("Host"), undefined);
    assert.deepEqual(headers.getAll("Host"), []);
    assert.equal(headers.has("Host"), false);
  });

  it("joins repeated values with a comma and keeps them apart in getAll", () => {
    const headers = new Headers([
      ["Sec-WebSocket-Protocol", "chat"],
      ["Host", "example.com"],
      ["sec-websocket-protocol", "superchat"],
    ]);
    assert.equal(headers.get("Sec-WebSocket-Protocol"), "chat, superchat");
    assert.deepEqual(headers.getAll("Sec-WebSocket-Protocol"), ["chat", "superchat"]);
    assert.equal(headers.size, 3);
  });

  it("iterates fields in insertion order with entries() and the iterator", () => {
    const fields: [string, string][] = [
      ["A", "1"],
      ["B", "2"],
      ["a", "3"],
    ];
    const headers = new Headers(fields);
    assert.deepEqual([...headers.entries()], fields);
    assert.deepEqual([...headers], fields);
  });

  it("yields copies, so callers can't change the fields", () => {
    const headers = new Headers([["A", "1"]]);
    for (const field of headers) field[1] = "changed";
    assert.equal(headers.get("A"), "1");
  });

  it("builds from a record of strings and arrays", () => {
    const headers = new Headers({ Host: "example.com", Via: ["a", "b"] });
    assert.deepEqual(
      [...headers],
      [
        ["Host", "example.com"],
        ["Via", "a"],
        ["Via", "b"],
      ],
    );
  });

  it("copies another Headers instance", () => {
    const original = new Headers([["A", "1"]]);
    const copy = new Headers(original);
    copy.append("B", "2");
    assert.equal(original.size, 1);
    assert.equal(copy.size, 2);
  });

  it("set() replaces every field of that name at the first one's position", () => {
    const headers = new Headers([
      ["A", "1"],
      ["B", "2"],
      ["a", "3"],
      ["C", "4"],
    ]);
    headers.set("a", "5");
    assert.deepEqual(
      [...headers],
      [
        ["a", "5"],
        ["B", "2"],
        ["C", "4"],
      ],
    );
  });

  it("set() appends when the name is new", () => {
    const headers = new Headers([["A", "1"]]);
    headers.set("B", "2");
    assert.deepEqual(
      [...headers],
      [
        ["A", "1"],
        ["B", "2"],
      ],
    );
  });

  it("delete() removes every field of that name", () => {
    const headers = new Headers([
      ["A", "1"],
      ["B", "2"],
      ["a", "3"],
    ]);
    headers.delete("A");
    assert.deepEqual([...headers], [["B", "2"]]);
    headers.delete("missing");
    assert.equal(headers.size, 1);
  });

  it("serializes to header lines followed by an empty line", () => {
    const headers = new Headers([
      ["Host", "example.com"],
      ["Upgrade", "websocket"],
    ]);
    assert.equal(headers.toString(), "Host: example.com\r\nUpgrade: websocket\r\n\r\n");
    assert.equal(new Headers().toString(), "\r\n");
  });

  it("rejects names that aren't tokens", () => {
    const headers = new Headers();
    assertFormat(() => headers.append("", "x"), "invalid header name", 0);
    assertFormat(() => headers.append("Bad Name", "x"), "invalid header name", 3);
    assertFormat(() => headers.set("Bad:Name", "x"), "invalid header name", 3);
    assertFormat(() => headers.set("Bad\r\nName", "x"), "invalid header name", 3);
    assertFormat(() => new Headers({ é: "x" }), "invalid header name", 0);
  });

  it("rejects CR, LF, NUL and other control characters in values (header injection)", () => {
    const headers = new Headers();
    assertFormat(
      () => headers.append("X", "a\r\nInjected: yes"),
      "invalid character in header value",
      1,
      "X",
    );
    assertFormat(() => headers.set("X", "a\nb"), "invalid character in header value", 1);
    assertFormat(() => headers.set("X", "a\0b"), "invalid character in header value", 1);
    assertFormat(() => headers.set("X", "\x7f"), "invalid character in header value", 0);
    assertFormat(() => headers.set("X", "\x01"), "invalid character in header value", 0);
    assertFormat(() => headers.set("X", "\u0100"), "invalid character in header value", 0);
    assert.equal(headers.size, 0);
  });

  it("accepts HTAB, SP, visible ASCII and obs-text in values", () => {
    const headers = new Headers();
    headers.set("X", "a\tb c~\u0080\u00ff");
    headers.set("Y", "");
    assert.equal(headers.get("X"), "a\tb c~\u0080\u00ff");
    assert.equal(headers.get("Y"), "");
  });
});

describe("isToken and isFieldValueChar", () => {
  it("accepts every tchar and nothing else", () => {
    assert.ok(isToken("!#$%&'*+-.^_`|~09AZaz"));
    assert.equal(isToken(""), false);
    for (const c of ' "(),/:;<=>?@[\\]{}\t\x7f\u00e9') assert.equal(isToken(`a${c}`), false, c);
  });

  it("accepts HTAB, SP, VCHAR and obs-text only", () => {
    assert.ok(isFieldValueChar(0x09));
    assert.ok(isFieldValueChar(0x20));
    assert.ok(isFieldValueChar(0x7e));
    assert.ok(isFieldValueChar(0xff));
    for (const c of [0x00, 0x0a, 0x0d, 0x1f, 0x7f, 0x100]) assert.equal(isFieldValueChar(c), false);
  });
});

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

describe("Basic authorization", () => {
  it("builds RFC 7617 §2's example", () => {
    assert.equal(
      buildBasicAuthorization("Aladdin", "open sesame"),
      "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
    );
  });

  it("encodes credentials as UTF-8 (RFC 7617 §2.1's example)", () => {
    assert.equal(buildBasicAuthorization("test", "123£"), "Basic dGVzdDoxMjPCow==");
    assert.deepEqual(parseBasicAuthorization("Basic dGVzdDoxMjPCow=="), ["test", "123£"]);
  });

  it("round-trips empty passwords and passwords with colons", () => {
    for (const [user, pass] of [
      ["user", ""],
      ["", "pass"],
      ["user", "a:b:c"],
      ["ünïcödé", "🔑"],
    ] as const) {
      assert.deepEqual(parseBasicAuthorization(buildBasicAuthorization(user, pass)), [user, pass]);
    }
  });

  it("rejects a username with a colon", () => {
    assertValue(() => buildBasicAuthorization("a:b", "c"), "username contains a colon");
  });

  it("parses the scheme case-insensitively and allows several spaces and trailing OWS", () => {
    assert.deepEqual(parseBasicAuthorization("basic   QWxhZGRpbjpvcGVuIHNlc2FtZQ== "), [
      "Aladdin",
      "open sesame",
    ]);
    assert.deepEqual(parseBasicAuthorization("BASIC YTpi"), ["a", "b"]);
  });

  it("rejects other schemes and missing credentials", () => {
    assertValue(() => parseBasicAuthorization(""), "expected authentication scheme");
    assertValue(() => parseBasicAuthorization(" Basic YTpi"), "expected authentication scheme");
    assertValue(() => parseBasicAuthorization("Bearer YTpi"), "unsupported authentication scheme");
    assertValue(() => parseBasicAuthorization("Basic"), "expected credentials");
    assertValue(() => parseBasicAuthorization("Basic\tYTpi"), "expected credentials");
  });

  it("rejects credentials that aren't strict base64", () => {
    const why = "expected base64-encoded credentials";
    assertValue(() => parseBasicAuthorization("Basic "), why);
    assertValue(() => parseBasicAuthorization("Basic YTpi="), why);
    assertValue(() => parseBasicAuthorization("Basic YTp"), why);
    assertValue(() => parseBasicAuthorization("Basic YT-i"), why);
    assertValue(() => parseBasicAuthorization("Basic YQ==="), why);
    assertValue(() => parseBasicAuthorization("Basic YTpi YTpi"), why);
  });

  it("rejects credentials without a colon or not in UTF-8", () => {
    // "YWJj" is "abc"; "/w==" is the single byte 0xff.
    assertValue(
      () => parseBasicAuthorization("Basic YWJj"),
      "expected username:password credentials",
    );
    assertValue(() => parseBasicAuthorization("Basic /w=="), "expected UTF-8 credentials");
  });

  it("never puts the credentials in the error message", () => {
    assert.throws(
      () => parseBasicAuthorization("Basic c2VjcmV0 x"),
      (e: unknown) => e instanceof Error && !e.message.includes("c2VjcmV0"),
    );
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

  it("checks long values and names in Headers", () => {
    const headers = new Headers();
    headers.set("X", "a".repeat(1_000_000));
    assertFormat(
      () => headers.set("X".repeat(1_000_000), "\n"),
      "invalid character in header value",
      0,
    );
  });

  it("parses long Basic credentials", () => {
    const password = "p".repeat(300_000);
    assert.deepEqual(parseBasicAuthorization(buildBasicAuthorization("u", password)), [
      "u",
      password,
    ]);
  });
});

describe("Headers storage", () => {
  it("matches names in any casing and keeps each field's own casing", () => {
    const headers = new Headers();
    headers.append("X-Mixed", "1");
    headers.append("x-mixed", "2");
    headers.append("X-MIXED", "3");
    headers.append("Other", "4");
    assert.equal(headers.get("x-MiXeD"), "1, 2, 3");
    assert.deepEqual(headers.getAll("X-mixed"), ["1", "2", "3"]);
    assert.equal(headers.has("OTHER"), true);
    assert.equal(headers.size, 4);
    assert.deepEqual(
      [...headers],
      [
        ["X-Mixed", "1"],
        ["x-mixed", "2"],
        ["X-MIXED", "3"],
        ["Other", "4"],
      ],
    );
    headers.set("x-MIXED", "5");
    assert.deepEqual(
      [...headers],
      [
        ["x-MIXED", "5"],
        ["Other", "4"],
      ],
    );
    headers.delete("OTHER");
    assert.equal(headers.toString(), "x-MIXED: 5\r\n\r\n");
  });

  it("handles more distinct names than it caches", () => {
    const headers = new Headers();
    for (let i = 0; i < 1000; i++) headers.append(`X-Name-${i}`, String(i));
    assert.equal(headers.size, 1000);
    assert.equal(headers.get("x-name-999"), "999");
    assert.equal(headers.get("X-NAME-0"), "0");
    headers.delete("x-name-500");
    assert.equal(headers.has("X-Name-500"), false);
    assert.equal(headers.size, 999);
  });

  it("behaves like a list of pairs compared case-insensitively", () => {
    const name = fc.constantFrom("A", "a", "Bb", "bB", "BB", "Sec-WebSocket-Key", "host");
    const op = fc.oneof(
      fc.record({ kind: fc.constant("append" as const), name, value: fc.string({ maxLength: 3 }) }),
      fc.record({ kind: fc.constant("set" as const), name, value: fc.string({ maxLength: 3 }) }),
      fc.record({ kind: fc.constant("delete" as const), name, value: fc.constant("") }),
      fc.record({ kind: fc.constant("pack" as const), name, value: fc.constant("") }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 20 }), fc.array(name), (ops, lookups) => {
        const headers = new Headers();
        let model: [string, string][] = [];
        const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
        for (const { kind, name, value } of ops) {
          const safe = value.replace(/[^\x20-\x7e]/g, "x");
          if (kind === "append") {
            headers.append(name, safe);
            model.push([name, safe]);
          } else if (kind === "set") {
            headers.set(name, safe);
            const first = model.findIndex(([n]) => same(n, name));
            if (first === -1) model.push([name, safe]);
            else {
              model[first] = [name, safe];
              model = model.filter(([n], i) => i <= first || !same(n, name));
            }
          } else if (kind === "delete") {
            headers.delete(name);
            model = model.filter(([n]) => !same(n, name));
          } else {
            packHeaders(headers);
          }
        }
        assert.deepEqual([...headers], model);
        assert.equal(headers.size, model.length);
        for (const lookup of lookups) {
          const values = model.filter(([n]) => same(n, lookup)).map(([, v]) => v);
          assert.deepEqual(headers.getAll(lookup), values);
          assert.equal(headers.get(lookup), values.length === 0 ? undefined : values.join(", "));
          assert.equal(headers.has(lookup), values.length > 0);
        }
      }),
    );
  });

  it("answers every method the same once packed, and unpacks once", () => {
    const fields: [string, string][] = [
      ["Host", "127.0.0.1:8000"],
      ["Upgrade", "websocket"],
      ["X-Empty", ""],
      ["x-list", "a"],
      ["X-List", "b, c"],
    ];
    const packed = () => {
      const headers = new Headers(fields);
      packHeaders(headers);
      return headers;
    };
    assert.equal(packed().size, 5);
    assert.equal(packed().get("X-LIST"), "a, b, c");
    assert.deepEqual(packed().getAll("x-empty"), [""]);
    assert.equal(packed().has("upgrade"), true);
    assert.deepEqual([...packed()], fields);
    assert.equal(packed().toString(), new Headers(fields).toString());
    const set = packed();
    set.set("Upgrade", "other");
    assert.equal(set.get("upgrade"), "other");
    const appended = packed();
    appended.append("Later", "1");
    assert.equal(appended.size, 6);
    const deleted = packed();
    deleted.delete("x-list");
    assert.equal(deleted.size, 3);
    const parsed = packed();
    appendParsedField(parsed, "Parsed", "yes");
    compactHeaders(parsed);
    assert.equal(parsed.get("parsed"), "yes");
    // Packing twice, or packing nothing, changes nothing.
    const twice = packed();
    packHeaders(twice);
    assert.deepEqual([...twice], fields);
    const empty = new Headers();
    packHeaders(empty);
    assert.equal(empty.size, 0);
    assert.equal(empty.toString(), "\r\n");
  });

  it("appends parsed fields as given and keeps them when trimmed", () => {
    const headers = new Headers();
    appendParsedField(headers, "Host", "example.com");
    appendParsedField(headers, "x-custom", "value");
    compactHeaders(headers);
    assert.deepEqual(
      [...headers],
      [
        ["Host", "example.com"],
        ["x-custom", "value"],
      ],
    );
    assert.equal(headers.get("X-Custom"), "value");
    headers.append("Later", "1");
    assert.equal(headers.size, 3);
  });
});
