import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { requestTargetPath } from "../../src/core/request-target.js";

describe("requestTargetPath()", () => {
  it("gives the path of an origin-form target, without its query (RFC 9112 §3.2.1)", () => {
    assert.equal(requestTargetPath("/"), "/");
    assert.equal(requestTargetPath("/chat?room=1"), "/chat");
    assert.equal(requestTargetPath("/a%20b/c"), "/a%20b/c");
  });

  it("gives the path of an absolute-form target of http, https, ws or wss (RFC 9112 §3.2.2)", () => {
    assert.equal(requestTargetPath("http://example.com/chat?x=1"), "/chat");
    assert.equal(requestTargetPath("HTTPS://example.com:8443/a/b"), "/a/b");
    assert.equal(requestTargetPath("wss://user:pw@example.com/chat"), "/chat");
    // An empty path stands for "/".
    assert.equal(requestTargetPath("ws://example.com"), "/");
    assert.equal(requestTargetPath("ws://example.com?x=1"), "/");
  });

  it("names nothing for other forms, other schemes and empty hosts", () => {
    for (const target of [
      "*",
      "example.com:443",
      "chat",
      "?x=1",
      "urn:chat",
      "ftp://example.com/chat",
      "http:/chat",
      "http:///chat",
      "ws://user@/chat",
      "ws://:80/chat",
    ]) {
      assert.equal(requestTargetPath(target), null, target);
    }
  });
});
