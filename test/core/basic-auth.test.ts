import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { buildBasicAuthorization, parseBasicAuthorization } from "../../src/core/basic-auth.js";
import { InvalidHeaderValue } from "../../src/core/errors.js";

function assertValue(fn: () => unknown, why: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof InvalidHeaderValue, String(e));
    assert.equal(e.header, "Authorization");
    assert.equal(e.value, why);
    return true;
  });
}

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
  it("parses long Basic credentials", () => {
    const password = "p".repeat(300_000);
    assert.deepEqual(parseBasicAuthorization(buildBasicAuthorization("u", password)), [
      "u",
      password,
    ]);
  });
});
