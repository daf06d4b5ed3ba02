import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { reasonPhrase } from "../../src/core/status.js";

describe("reasonPhrase", () => {
  const known: [number, string][] = [
    [101, "Switching Protocols"],
    [200, "OK"],
    [301, "Moved Permanently"],
    [400, "Bad Request"],
    [401, "Unauthorized"],
    [403, "Forbidden"],
    [404, "Not Found"],
    [405, "Method Not Allowed"],
    [413, "Content Too Large"],
    [414, "URI Too Long"],
    [426, "Upgrade Required"],
    [429, "Too Many Requests"],
    [431, "Request Header Fields Too Large"],
    [500, "Internal Server Error"],
    [503, "Service Unavailable"],
    [505, "HTTP Version Not Supported"],
  ];
  for (const [status, phrase] of known) {
    it(`gives "${phrase}" for ${status}`, () => assert.equal(reasonPhrase(status), phrase));
  }

  for (const status of [100, 299, 418, 599, 0, 1000]) {
    it(`gives "" for ${status}, which isn't listed`, () => assert.equal(reasonPhrase(status), ""));
  }
});
