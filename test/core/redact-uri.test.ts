import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { redactTypedUri, redactUri } from "../../src/core/redact-uri.js";

describe("redactUri", () => {
  it("replaces the password of the user info, keeping the user name", () => {
    assert.equal(redactUri("ws://alice:wrong@127.0.0.1:8001/"), "ws://alice:***@127.0.0.1:8001/");
    assert.equal(redactUri("wss://a:b@example.com/chat?x=1"), "wss://a:***@example.com/chat?x=1");
    // parseUri() takes the last @ of the authority: the password has the others.
    assert.equal(redactUri("ws://alice:p@ss@h/"), "ws://alice:***@h/");
    assert.equal(redactUri("ws://alice:p%40ss@[::1]:8001"), "ws://alice:***@[::1]:8001");
  });

  it("redacts invalid URIs too, which errors quote", () => {
    assert.equal(redactUri("ws://alice:pw@h:99999/"), "ws://alice:***@h:99999/");
    assert.equal(redactUri("ws://alice:pw@h/#top"), "ws://alice:***@h/#top");
    assert.equal(redactUri("http://alice:pw@h/"), "http://alice:***@h/");
  });

  it("redacts a password holding an unencoded /, ? or #, which ends the authority in a bad port", () => {
    assert.equal(redactUri("ws://alice:s/cret@127.0.0.1:1/"), "ws://alice:***@127.0.0.1:1/");
    assert.equal(redactUri("ws://alice:s?cret@h/x"), "ws://alice:***@h/x");
    assert.equal(redactUri("ws://alice:s#cr@et@h"), "ws://alice:***@h");
    assert.equal(redactUri("wss://TOKEN:a/b@h/"), "wss://TOKEN:***@h/");
    assert.equal(redactTypedUri("alice:s/cret@h:8001"), "alice:***@h:8001");
    // A port of digits, or none, makes a valid authority: an @ after it is the path's.
    assert.equal(redactUri("ws://h:8001/a@b"), "ws://h:8001/a@b");
    assert.equal(redactUri("ws://[::1]/a:b@c"), "ws://[::1]/a:b@c");
    assert.equal(redactUri("ws://[::1]:80/x@y"), "ws://[::1]:80/x@y");
    // A bad port without any @ has no user info to hide.
    assert.equal(redactUri("ws://h:port/"), "ws://h:port/");
  });

  it("replaces the user name too when there is no password, as for a token", () => {
    assert.equal(redactUri("wss://SECRETTOKEN@example.com/"), "wss://***@example.com/");
    assert.equal(redactUri("ws://token@127.0.0.1:8001/chat"), "ws://***@127.0.0.1:8001/chat");
    // An empty password, as some APIs take a token: `TOKEN:`.
    assert.equal(redactUri("ws://token:@h/"), "ws://***:***@h/");
    assert.equal(redactUri("ws://to@ken@h/"), "ws://***@h/");
    assert.equal(redactUri("ws://token@h:99999/"), "ws://***@h:99999/");
    assert.equal(redactUri("ws://token@h?q=a@b"), "ws://***@h?q=a@b");
    // A fragment ends the authority: its @ and : are not the user info's.
    assert.equal(redactUri("wss://TOKEN@host#x:y@z"), "wss://***@host#x:y@z");
    // No user name: the password, if any, is what there is to hide.
    assert.equal(redactUri("ws://:pw@h/"), "ws://:***@h/");
    assert.equal(redactUri("ws://:@h/"), "ws://:***@h/");
  });

  it("leaves a URI without user info as it is", () => {
    for (const uri of [
      "ws://127.0.0.1:8001/",
      "ws://h/users/@me",
      "ws://h:8001/a:b@c",
      "ws://h?to=a:b@c",
      "ws://@h/",
      "ws://",
      "",
      "not a URI: a:b@c",
    ]) {
      assert.equal(redactUri(uri), uri);
    }
  });
});

describe("redactTypedUri", () => {
  it("redacts the user info of a URI typed without its scheme", () => {
    assert.equal(redactTypedUri("alice:secret@host:8001"), "alice:***@host:8001");
    assert.equal(redactTypedUri("TOKEN@host/chat"), "***@host/chat");
    // A later "//" counts too: hiding a path's "b" is the safe side of the doubt.
    assert.equal(redactTypedUri("alice:secret@host/a//b@c"), "alice:***@host/a//***@c");
    assert.equal(redactTypedUri("ws:alice:pw@h"), "ws:***@h");
    assert.equal(redactTypedUri(" ws://alice:pw@h/"), " ws://alice:***@h/");
    for (const kept of ["127.0.0.1:8001/a@b", "serve", "ws://h/a@b"]) {
      assert.equal(redactTypedUri(kept), kept);
    }
  });

  it("redacts a URI with a scheme as redactUri() does", () => {
    for (const uri of [
      "ws://alice:wrong@127.0.0.1:8001/",
      "wss://SECRETTOKEN@example.com/",
      "ws://h/users/@me",
      "ws://h?to=a:b@c",
      "ws://host/?next=//a:b@evil",
    ]) {
      assert.equal(redactTypedUri(uri), redactUri(uri), uri);
    }
  });
});
