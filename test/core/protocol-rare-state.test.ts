import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { Close } from "../../src/core/close.js";
import { RareState } from "../../src/core/protocol-rare-state.js";
import { hex } from "../helpers/bytes.js";

/** What a protocol's rare state holds before anything uses it. */
const INITIAL = {
  closeRcvd: null,
  closeSent: null,
  closeRcvdThenSent: null,
  handshakeExc: null,
  parserExc: null,
  pendingError: null,
  utf8: null,
  sendingOptions: undefined,
  trace: null,
  deferredPong: null,
  closeReply: null,
};

describe("RareState", () => {
  it("starts with nothing: no close, no error, no helper, no pending reply", () => {
    const state = new RareState();
    assert.deepEqual({ ...state }, INITIAL);
  });

  it("declares every field in the constructor, in one order, so instances share one shape", () => {
    const state = new RareState();
    assert.deepEqual(Object.keys(state), Object.keys(INITIAL));
    for (const key of Object.keys(INITIAL)) assert.ok(Object.hasOwn(state, key), key);
  });

  it("keeps what each instance is given to itself", () => {
    const first = new RareState();
    const second = new RareState();
    first.closeRcvd = new Close(1000, "bye");
    first.closeRcvdThenSent = true;
    first.deferredPong = hex("01 02");
    first.sendingOptions = { compress: false };
    assert.equal(first.closeRcvd.code, 1000);
    assert.deepEqual({ ...second }, INITIAL);
    assert.deepEqual({ ...new RareState() }, INITIAL);
  });
});
