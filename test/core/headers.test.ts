import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";

import { appendParsedField, compactHeaders, Headers, packHeaders } from "../../src/core/headers.js";
import { assertFormat } from "../helpers/headers.js";

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

  it("refuses what isn't pairs, a Headers or a record of strings, with a TypeError naming it", () => {
    const cases: [unknown, string][] = [
      [
        "X-A: b",
        'headers must be [name, value] pairs, a Headers, or an object of names to values; got "X-A: b"',
      ],
      [
        42,
        "headers must be [name, value] pairs, a Headers, or an object of names to values; got 42",
      ],
      [
        null,
        "headers must be [name, value] pairs, a Headers, or an object of names to values; got null",
      ],
      [[["X-A"]], "headers given as a list must hold [name, value] pairs; got an Array"],
      [["X-A: b"], 'headers given as a list must hold [name, value] pairs; got "X-A: b"'],
      [[["X-A", 5]], "header X-A must be a string; got 5"],
      [[[5, "b"]], "a header name must be a string; got 5"],
      [{ "X-N": 5 }, "header X-N must be a string or an array of strings; got 5"],
      [{ "X-N": [5] }, "header X-N must be a string; got 5"],
    ];
    for (const [init, message] of cases) {
      assert.throws(() => new Headers(init as never), { name: "TypeError", message });
    }
    const headers = new Headers();
    // A token read from a file with its line feed: the error, bound for logs, leaves it out.
    assert.throws(() => headers.append("Authorization", "Bearer TOKEN\n"), {
      name: "InvalidHeaderFormat",
      message:
        "invalid Authorization header: invalid character in header value at 12 in [redacted]",
    });
    assert.throws(() => headers.append("X-A", 5 as never), {
      name: "TypeError",
      message: "header X-A must be a string; got 5",
    });
    assert.throws(() => headers.set("X-A", undefined as never), TypeError);
    assert.equal(headers.size, 0);
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

describe("parsers on hostile input", () => {
  // Each of these would take minutes with a quadratic or backtracking parser.
  it("checks long values and names in Headers", () => {
    const headers = new Headers();
    headers.set("X", "a".repeat(1_000_000));
    assertFormat(
      () => headers.set("X".repeat(1_000_000), "\n"),
      "invalid character in header value",
      0,
    );
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
    const name = fc.constantFrom(
      "A",
      "a",
      "Bb",
      "bB",
      "BB",
      "Sec-WebSocket-Key",
      "host",
      "Upgrade",
      "UPGRADE",
    );
    // Short strings, and the values packed headers spell as one character, or nearly those.
    const anyValue = fc.oneof(
      fc.string({ maxLength: 3 }),
      fc.constantFrom("websocket", "Upgrade", "13", "13 ", "no-cache", "WebSocket"),
    );
    const op = fc.oneof(
      fc.record({ kind: fc.constant("append" as const), name, value: anyValue }),
      fc.record({ kind: fc.constant("set" as const), name, value: anyValue }),
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

  it("unpacks exactly what was packed: common names and values, their other spellings, any octet", () => {
    const fields: [string, string][] = [
      ["Host", "127.0.0.1:8000"],
      ["Upgrade", "websocket"],
      ["connection", "Upgrade"],
      ["Connection", "upgrade"],
      ["Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="],
      ["Sec-WebSocket-Version", "13"],
      ["sec-websocket-extensions", "permessage-deflate; client_max_window_bits"],
      ["Pragma", "no-cache"],
      ["CONNECTION", "keep-alive, Upgrade"],
      ["X", "1"],
      ["Y", "\t"],
      ["Z", "\x80"],
      ["Accept-Language", "\xe9\xff"],
      ["User-Agent", ""],
      ["upgrade", "WebSocket"],
    ];
    const headers = new Headers(fields);
    packHeaders(headers);
    assert.deepEqual([...headers], fields);
    assert.equal(headers.get("CONNECTION"), "Upgrade, upgrade, keep-alive, Upgrade");
    assert.equal(headers.toString(), new Headers(fields).toString());
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
