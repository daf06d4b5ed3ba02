/** Grading, on synthetic sessions: each rule can pass and can fail. */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type CaseDefinition,
  CLEAN_CLOSE,
  FAIL_PROTOCOL,
  FAIL_UTF8,
  observe,
} from "../../compliance/case.js";
import { judge } from "../../compliance/judge.js";
import type { SessionResult } from "../../compliance/session.js";

function definition(overrides: Partial<CaseDefinition> = {}): CaseDefinition {
  return {
    id: "0.0.1",
    description: "a synthetic case",
    expectation: "whatever the test says",
    expected: { OK: [observe.text("hi")], "NON-STRICT": [] },
    close: CLEAN_CLOSE,
    run: async () => undefined,
    ...overrides,
  };
}

function session(overrides: Partial<SessionResult> = {}): SessionResult {
  return {
    observations: [observe.text("hi")],
    closedByMe: true,
    droppedByMe: false,
    timedOut: false,
    wasClean: true,
    remoteCloseCode: 1000,
    remoteCloseReason: "",
    localCloseCode: 1000,
    socketError: null,
    durationMs: 3,
    ...overrides,
  };
}

describe("judge", () => {
  it("grades the first matching outcome", () => {
    const ok = judge(definition(), session(), "client");
    assert.equal(ok.verdict, "OK");
    assert.equal(ok.behaviorClose, "OK");
    const nonStrict = judge(definition(), session({ observations: [] }), "client");
    assert.equal(nonStrict.verdict, "NON-STRICT");
  });

  it("fails events that match no outcome, and records them", () => {
    const result = judge(definition(), session({ observations: [observe.text("ho")] }), "client");
    assert.equal(result.verdict, "FAILED");
    assert.deepEqual(result.observed.events, [
      { kind: "message", binary: false, length: 2, preview: "686f" },
    ]);
  });

  it("fails any protocol violation, even with matching events", () => {
    const result = judge(
      definition({ expected: { OK: [] } }),
      session({ observations: [{ kind: "violation", detail: "masked frame" }] }),
      "client",
    );
    assert.equal(result.verdict, "FAILED");
    assert.match(result.result, /masked frame/);
  });

  it("fails a close started by the wrong endpoint", () => {
    const result = judge(definition(), session({ closedByMe: false }), "client");
    assert.equal(result.behaviorClose, "FAILED");
    assert.equal(result.verdict, "FAILED");
  });

  it("fails an unclean close where a clean one is required", () => {
    const result = judge(definition(), session({ wasClean: false }), "server");
    assert.equal(result.behaviorClose, "UNCLEAN");
    assert.equal(result.verdict, "FAILED");
  });

  it("fails an unexpected close code, and accepts none", () => {
    const failing = definition({ expected: { OK: [] }, close: FAIL_PROTOCOL });
    const base = { observations: [], closedByMe: false, wasClean: false };
    assert.equal(
      judge(failing, session({ ...base, remoteCloseCode: 1000 }), "client").behaviorClose,
      "WRONG CODE",
    );
    assert.equal(
      judge(failing, session({ ...base, remoteCloseCode: 1002 }), "client").verdict,
      "OK",
    );
    assert.equal(
      judge(failing, session({ ...base, remoteCloseCode: null }), "client").verdict,
      "OK",
    );
  });

  it("fails a server that leaves the TCP close to the client", () => {
    const result = judge(definition(), session({ droppedByMe: true }), "client");
    assert.equal(result.behaviorClose, "FAILED BY CLIENT");
    // The fuzzing server closes the TCP connection itself: that is the rule.
    assert.equal(judge(definition(), session({ droppedByMe: true }), "server").verdict, "OK");
  });

  it("fails an implementation that never fails the connection, in both roles", () => {
    const failing = definition({ expected: { OK: [] }, close: FAIL_PROTOCOL });
    const hung = session({
      observations: [],
      closedByMe: false,
      droppedByMe: true,
      timedOut: true,
      wasClean: false,
      remoteCloseCode: null,
    });
    for (const role of ["client", "server"] as const) {
      const result = judge(failing, hung, role);
      assert.equal(result.verdict, "FAILED");
      assert.match(result.resultClose, /never failed/);
    }
  });

  it("fails the behavior when the UTF-8 error went unnoticed", () => {
    const utf8 = definition({ expected: { OK: [] }, close: FAIL_UTF8 });
    const result = judge(utf8, session({ observations: [], remoteCloseCode: 1000 }), "client");
    assert.equal(result.behavior, "FAILED");
  });

  it("reports informational cases without grading them", () => {
    const result = judge(
      definition({ informational: true }),
      session({ wasClean: false }),
      "client",
    );
    assert.equal(result.verdict, "INFORMATIONAL");
    assert.equal(result.behaviorClose, "INFORMATIONAL");
  });

  it("lets a case's own verdict replace event matching", () => {
    const result = judge(definition({ expected: {} }), session({ observations: [] }), "client", {
      behavior: "OK",
      result: "all echoes",
    });
    assert.equal(result.verdict, "OK");
    assert.equal(result.result, "all echoes");
  });
});
