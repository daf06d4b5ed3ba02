/** Proxy URLs as they appear in messages and logs. */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { redactProxy } from "../../src/node/proxy-url.js";

describe("redactProxy()", () => {
  it("keeps the scheme, host and port", () => {
    assert.equal(redactProxy(new URL("http://proxy.example:3128")), "http://proxy.example:3128");
    assert.equal(redactProxy(new URL("socks5h://10.0.0.1:1080")), "socks5h://10.0.0.1:1080");
    assert.equal(redactProxy(new URL("https://[::1]:8443")), "https://[::1]:8443");
    // The URL standard drops a special scheme's default port.
    assert.equal(redactProxy(new URL("http://proxy.example:80")), "http://proxy.example");
  });

  it("leaves out the credentials, the path, the query and the fragment", () => {
    const proxy = new URL("http://user:s3cret@proxy.example:3128/path?token=abc#frag");
    assert.equal(redactProxy(proxy), "http://proxy.example:3128");
    assert.equal(redactProxy(new URL("socks5://:tok3n@proxy.example")), "socks5://proxy.example");
  });
});
