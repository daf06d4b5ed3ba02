import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { InvalidUri } from "../../src/core/errors.js";
import { redactTypedUri } from "../../src/core/redact-uri.js";
import { formatUri, hostHeader, parseUri, type WebSocketUri } from "../../src/core/uri.js";

function uri(fields: Partial<WebSocketUri>): WebSocketUri {
  return {
    secure: false,
    host: "localhost",
    port: 80,
    path: "/",
    username: null,
    password: null,
    ...fields,
  };
}

function assertInvalid(input: string, why: string): void {
  assert.throws(
    () => parseUri(input),
    (e: unknown) => {
      assert.ok(e instanceof InvalidUri, String(e));
      // Credentials are redacted, as in the message.
      assert.equal(e.uri, redactTypedUri(input));
      if (input.includes("pass@")) assert.doesNotMatch(e.uri, /pass@/);
      assert.equal(e.why, why);
      return true;
    },
  );
}

describe("parseUri", () => {
  const valid: [string, WebSocketUri][] = [
    ["ws://localhost/", uri({})],
    ["wss://localhost/", uri({ secure: true, port: 443 })],
    ["ws://localhost", uri({})],
    ["ws://localhost:8080/", uri({ port: 8080 })],
    ["wss://localhost:8443", uri({ secure: true, port: 8443 })],
    ["ws://localhost:80/", uri({})],
    ["wss://localhost:443/", uri({ secure: true, port: 443 })],
    ["ws://localhost:443/", uri({ port: 443 })],
    ["wss://localhost:80/", uri({ secure: true, port: 80 })],
    ["ws://localhost:/", uri({})],
    ["ws://localhost:65535/", uri({ port: 65535 })],
    ["ws://localhost:00081/", uri({ port: 81 })],
    ["ws://localhost/path?query", uri({ path: "/path?query" })],
    ["ws://localhost?query", uri({ path: "/?query" })],
    ["ws://localhost/path?", uri({ path: "/path" })],
    ["ws://localhost/a/b/../c", uri({ path: "/a/c" })],
    ["ws://localhost/%7Euser?a=%20b", uri({ path: "/%7Euser?a=%20b" })],
    ["ws://[::1]:8080/path?q=1", uri({ host: "::1", port: 8080, path: "/path?q=1" })],
    ["wss://[2001:DB8::1]/", uri({ secure: true, host: "2001:db8::1", port: 443 })],
    ["ws://127.0.0.1:8001", uri({ host: "127.0.0.1", port: 8001 })],
    ["ws://EXAMPLE.com/Path", uri({ host: "example.com", path: "/Path" })],
    ["WS://localhost/", uri({})],
    ["Wss://localhost/", uri({ secure: true, port: 443 })],
    ["ws://user:pass@localhost/", uri({ username: "user", password: "pass" })],
    ["ws://user:@localhost/", uri({ username: "user", password: "" })],
    ["ws://:pass@localhost/", uri({ username: "", password: "pass" })],
    ["ws://us%40er:p%3Ass%2Fw%25rd@localhost/", uri({ username: "us@er", password: "p:ss/w%rd" })],
    ["ws://user:pa:ss@localhost/", uri({ username: "user", password: "pa:ss" })],
    ["ws://üser:päss@localhost/", uri({ username: "üser", password: "päss" })],
    [
      "ws://user:pass@[::1]:9000/",
      uri({ host: "::1", port: 9000, username: "user", password: "pass" }),
    ],
    ["ws://bücher.example/ä?x=ü", uri({ host: "xn--bcher-kva.example", path: "/%C3%A4?x=%C3%BC" })],
    [
      "wss://例え.テスト/パス",
      uri({ secure: true, host: "xn--r8jz45g.xn--zckzah", port: 443, path: "/%E3%83%91%E3%82%B9" }),
    ],
  ];
  for (const [input, expected] of valid) {
    it(`parses ${input}`, () => assert.deepEqual(parseUri(input), expected));
  }

  const invalid: [string, string][] = [
    ["", "scheme isn't ws or wss"],
    ["localhost", "scheme isn't ws or wss"],
    ["http://localhost/", "scheme isn't ws or wss"],
    ["https://localhost/", "scheme isn't ws or wss"],
    ["wsx://localhost/", "scheme isn't ws or wss"],
    ["w s://localhost/", "scheme isn't ws or wss"],
    ["//localhost/", "scheme isn't ws or wss"],
    [" ws://localhost/", "scheme isn't ws or wss"],
    ["\u0175s://localhost/", "scheme isn't ws or wss"],
    ["ws://localhost/#", "fragment isn't allowed"],
    ["ws://localhost/path#fragment", "fragment isn't allowed"],
    ["ws://localhost#", "fragment isn't allowed"],
    ["ws://localhost/ ", "invalid character at 15"],
    ["ws://local host/", "invalid character at 10"],
    ["ws://localhost/\tpath", "invalid character at 15"],
    ["ws://localhost/\npath", "invalid character at 15"],
    ["ws://localhost/\x7f", "invalid character at 15"],
    ["ws://localhost\\path", "invalid character at 14"],
    ["ws:\\\\localhost/", "invalid character at 3"],
    ["ws:localhost", "expected // after scheme"],
    ["ws:/localhost", "expected // after scheme"],
    ["ws:", "expected // after scheme"],
    ["ws://", "missing host"],
    ["ws:///", "missing host"],
    ["ws:///localhost/", "missing host"],
    ["ws://?query", "missing host"],
    ["ws://:8080/", "missing host"],
    ["ws://user:pass@/", "missing host"],
    ["ws://user:pass@:80/", "missing host"],
    ["ws://localhost:0/", "port out of range"],
    ["ws://localhost:65536/", "port out of range"],
    ["ws://localhost:99999999999999999999/", "port out of range"],
    ["ws://localhost:8a/", "invalid port"],
    ["ws://localhost:-1/", "invalid port"],
    ["ws://localhost:+80/", "invalid port"],
    ["ws://[::1]x/", "malformed URI"],
    ["ws://[::1/", "malformed URI"],
    ["ws://[::g]/", "malformed URI"],
    ["ws://[]/", "malformed URI"],
    ["ws://exa<mple/", "malformed URI"],
    ["ws://user@localhost/", "username provided without password"],
    ["ws://@localhost/", "username provided without password"],
    ["ws://us%zzer:pass@localhost/", "invalid percent-encoding in user info"],
    ["ws://user:pa%ss@localhost/", "invalid percent-encoding in user info"],
  ];
  for (const [input, why] of invalid) {
    it(`rejects ${JSON.stringify(input)}: ${why}`, () => assertInvalid(input, why));
  }

  it("names the URI and the reason in the message", () => {
    assert.throws(() => parseUri("http://x/"), {
      message: "http://x/ isn't a valid URI: scheme isn't ws or wss",
    });
  });
});

describe("hostHeader", () => {
  it("omits the default port", () => {
    assert.equal(hostHeader(parseUri("ws://example.com/")), "example.com");
    assert.equal(hostHeader(parseUri("wss://example.com:443/")), "example.com");
  });

  it("includes any other port", () => {
    assert.equal(hostHeader(parseUri("ws://example.com:8080/")), "example.com:8080");
    assert.equal(hostHeader(parseUri("ws://example.com:443/")), "example.com:443");
    assert.equal(hostHeader(parseUri("wss://example.com:80/")), "example.com:80");
  });

  it("puts IPv6 addresses in brackets", () => {
    assert.equal(hostHeader(parseUri("ws://[::1]/")), "[::1]");
    assert.equal(hostHeader(parseUri("wss://[::1]:8443/")), "[::1]:8443");
  });

  it("uses the punycode form of internationalized names", () => {
    assert.equal(hostHeader(parseUri("ws://bücher.example:81/")), "xn--bcher-kva.example:81");
  });
});

describe("formatUri", () => {
  it("formats a URI without user info", () => {
    assert.equal(
      formatUri(parseUri("ws://user:pass@example.com/chat?x=1")),
      "ws://example.com/chat?x=1",
    );
    assert.equal(formatUri(parseUri("WSS://[::1]:8443")), "wss://[::1]:8443/");
    assert.equal(formatUri(parseUri("ws://bücher.example/ä")), "ws://xn--bcher-kva.example/%C3%A4");
  });

  it("round-trips through parseUri", () => {
    for (const input of ["ws://a.example:1/x?y", "wss://[::1]/", "ws://127.0.0.1:8001/"]) {
      const parsed = parseUri(input);
      assert.deepEqual(parseUri(formatUri(parsed)), parsed);
      assert.equal(formatUri(parsed), input);
    }
  });
});
