/** The version the library reports in User-Agent and Server headers. */

import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { describe, it } from "node:test";
import * as root from "../../src/index.js";
import { USER_AGENT, VERSION } from "../../src/node/version.js";

describe("VERSION", () => {
  it("is in step with package.json", async () => {
    const pkg = JSON.parse(
      await readFile(new URL("../../../package.json", import.meta.url), "utf8"),
    ) as { version: string };
    assert.equal(VERSION, pkg.version);
  });

  it("is exported from the package's entry point", () => {
    assert.equal(root.VERSION, VERSION);
  });
});

describe("USER_AGENT", () => {
  it("is a product token as RFC 9110 §10.1.5 defines it: name/version", () => {
    assert.equal(USER_AGENT, `websockets-ts/${VERSION}`);
    // product = token [ "/" product-version ], product-version = token
    assert.match(USER_AGENT, /^[!#$%&'*+.^_`|~0-9A-Za-z-]+\/[!#$%&'*+.^_`|~0-9A-Za-z-]+$/);
  });
});
