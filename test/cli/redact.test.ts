import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { redactUriIn } from "../../src/cli/redact.js";

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
