import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isCredentialField } from "../../src/core/credential-fields.js";

describe("isCredentialField", () => {
  it("knows HTTP's credential fields, in any case", () => {
    for (const name of ["Authorization", "proxy-authorization", "COOKIE", "Set-Cookie"]) {
      assert.equal(isCredentialField(name), true, name);
    }
  });

  it("recognizes the names applications give their keys and tokens", () => {
    const names = ["X-Api-Key", "X-Auth-Token", "x-session-id", "X-Client-Secret", "X-Signature"];
    for (const name of [...names, "X-Jwt", "X-Bearer", "X-Password", "X-Credentials"]) {
      assert.equal(isCredentialField(name), true, name);
    }
  });

  it("shows challenges, the handshake's nonce and ordinary fields", () => {
    for (const name of ["WWW-Authenticate", "Proxy-Authenticate", "Sec-WebSocket-Key", "Host"]) {
      assert.equal(isCredentialField(name), false, name);
    }
    assert.equal(isCredentialField("Sec-WebSocket-Extensions"), false);
  });
});
