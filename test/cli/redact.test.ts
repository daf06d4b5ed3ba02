import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { redactArgument, redactUriIn } from "../../src/cli/redact.js";

describe("redactArgument", () => {
  it("redacts as redactUri() does", () => {
    assert.equal(redactArgument("ws://alice:pw@h/"), "ws://alice:***@h/");
    assert.equal(redactArgument("wss://TOKEN@h/"), "wss://***@h/");
    assert.equal(redactArgument("ws://h/a@b"), "ws://h/a@b");
    assert.equal(redactArgument(" ws://alice:pw@h/"), " ws://alice:***@h/");
  });

  it("redacts the user info of a URI typed without its scheme", () => {
    // redactUri() looks for user info after `//` only: these came back whole.
    assert.equal(redactArgument("alice:pw@127.0.0.1:8001"), "alice:***@127.0.0.1:8001");
    assert.equal(redactArgument("TOKEN@example.com/chat"), "***@example.com/chat");
    // Whatever follows `//` too, as redactUri() would.
    assert.equal(redactArgument("alice:pw@h/x//y@z"), "alice:***@h/x//***@z");
    assert.equal(redactArgument("ws:alice:pw@h"), "ws:***@h");
    assert.equal(redactArgument("127.0.0.1:8001/a@b"), "127.0.0.1:8001/a@b");
    assert.equal(redactArgument("serve"), "serve");
  });
});

describe("redactUriIn", () => {
  it("redacts the URI wherever the text quotes it", () => {
    const uri = "ws://alice:pw@h:99999/";
    assert.equal(
      redactUriIn(`${uri} isn't a valid URI: port out of range`, uri),
      "ws://alice:***@h:99999/ isn't a valid URI: port out of range",
    );
    assert.equal(redactUriIn("HTTP 401", uri), "HTTP 401");
    assert.equal(redactUriIn("ws://h/ and ws://h/", "ws://h/"), "ws://h/ and ws://h/");
    const schemeless = "alice:pw@h:8001";
    assert.equal(
      redactUriIn(`${schemeless} isn't a valid URI: scheme isn't ws or wss`, schemeless),
      "alice:***@h:8001 isn't a valid URI: scheme isn't ws or wss",
    );
  });
});
