import assert from "node:assert/strict";
import { describe, it } from "node:test";
import vm from "node:vm";
import { isRegExpObject, isUrlObject } from "../../src/core/brands.js";

/** A URL of another implementation, as whatwg-url's (jsdom's) is: tagged "URL", with an href. */
function foreignUrl(href: string): object {
  return { [Symbol.toStringTag]: "URL", href, toString: () => href };
}

describe("isUrlObject", () => {
  it("knows URLs of this realm, of other realms and of other implementations", () => {
    assert.equal(isUrlObject(new URL("ws://example.com/")), true);
    assert.equal(isUrlObject(vm.runInNewContext('new URL("ws://example.com/")', { URL })), true);
    assert.equal(isUrlObject(foreignUrl("ws://example.com/")), true);
  });

  it("refuses strings, plain objects with an href, and what only claims the tag", () => {
    assert.equal(isUrlObject("ws://example.com/"), false);
    assert.equal(isUrlObject({ href: "ws://example.com/" }), false);
    assert.equal(isUrlObject({ [Symbol.toStringTag]: "URL" }), false);
    assert.equal(isUrlObject(null), false);
  });
});

describe("isRegExpObject", () => {
  it("knows regular expressions of this realm and of others", () => {
    assert.equal(isRegExpObject(/a/), true);
    assert.equal(isRegExpObject(vm.runInNewContext("/a/")), true);
  });

  it("refuses strings and other objects", () => {
    assert.equal(isRegExpObject("/a/"), false);
    assert.equal(isRegExpObject({ source: "a", flags: "" }), false);
    assert.equal(isRegExpObject(null), false);
  });
});
