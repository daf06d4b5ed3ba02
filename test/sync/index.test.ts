/** The `websockets-ts/sync` entry point: what it re-exports from the async one. */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as main from "../../src/index.js";
import * as sync from "../../src/sync/index.js";

describe("websockets-ts/sync exports", () => {
  it("re-exports every error class of websockets-ts, as the same classes", () => {
    const errorClasses = Object.entries(main).filter(
      ([, value]) => typeof value === "function" && value.prototype instanceof Error,
    );
    // The tree under WebSocketError: a shrinking list would make this test vacuous.
    assert.ok(errorClasses.length >= 24, `only ${errorClasses.length} error classes found`);
    const missing = errorClasses
      .filter(([name, value]) => (sync as Record<string, unknown>)[name] !== value)
      .map(([name]) => name);
    assert.deepEqual(missing, []);
  });

  it("re-exports CloseCode and State", () => {
    assert.equal(sync.CloseCode, main.CloseCode);
    assert.equal(sync.State, main.State);
  });

  it("re-exports the classes of the errors' fields and the handshake, as the same classes", () => {
    // ConnectionClosed.rcvd and .sent, InvalidStatus.response, ClientConnection.request and .response.
    assert.equal(sync.Close, main.Close);
    assert.equal(sync.Request, main.Request);
    assert.equal(sync.Response, main.Response);
    assert.equal(sync.Headers, main.Headers);
    const headers = new sync.Headers({ "Retry-After": "1" });
    const response = new sync.Response(503, "Service Unavailable", headers);
    const error = new sync.InvalidStatus(response);
    assert.ok(error.response instanceof sync.Response);
    assert.equal(error.response.headers.get("Retry-After"), "1");
    const closed = new sync.ConnectionClosedOK(new sync.Close(1000, "bye"), null, false);
    assert.ok(closed.rcvd instanceof sync.Close);
  });

  it("re-exports the types ErrorCode, ProxyErrorOptions, InvalidStatusOptions and HeadersInit, as the same types", () => {
    const code: sync.ErrorCode = new sync.TimeoutError("late").code;
    assert.equal(code, "ERR_TIMEOUT");
    const options: sync.ProxyErrorOptions = { transient: true };
    assert.equal(new sync.ProxyError("down", null, options).transient, true);
    const init: sync.HeadersInit = [["Host", "example.com"]];
    assert.equal(new sync.Headers(init).get("Host"), "example.com");
    true satisfies SameType<sync.ErrorCode, main.ErrorCode>;
    true satisfies SameType<sync.ProxyErrorOptions, main.ProxyErrorOptions>;
    true satisfies SameType<sync.HeadersInit, main.HeadersInit>;
    const statusOptions: sync.InvalidStatusOptions = { hint: "why" };
    const refused = new sync.InvalidStatus(
      new sync.Response(400, "", new sync.Headers()),
      statusOptions,
    );
    assert.equal(refused.hint, "why");
    true satisfies SameType<sync.InvalidStatusOptions, main.InvalidStatusOptions>;
  });

  it("re-exports the types of messages, Data and ReceivedBytes, as the same types", () => {
    const bytes: sync.ReceivedBytes = new Uint8Array(2).slice();
    const message: sync.Data = bytes;
    assert.equal(message, bytes);
    true satisfies SameType<sync.Data, main.Data>;
    true satisfies SameType<sync.ReceivedBytes, main.ReceivedBytes>;
  });
});

/** `true` when `A` and `B` are the same type, else `false`, which `true` doesn't satisfy. */
type SameType<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
