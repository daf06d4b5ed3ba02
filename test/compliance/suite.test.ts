/**
 * The suite validated end to end: it finds no fault in `ws` beyond the one
 * `ws` is known for (UTF-8 checked per message, not per frame), and it fails
 * a deliberately broken server. A representative subset of the cases runs
 * here, with shortened waits; `npm run compliance` runs all of them.
 */

import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { allCases, selectCases } from "../../compliance/cases/index.js";
import { runAgainstServer } from "../../compliance/fuzzing-client.js";
import type { CaseResult } from "../../compliance/judge.js";
import { DEFAULT_PLAY_OPTIONS } from "../../compliance/play.js";
import { runSuite } from "../../compliance/suite.js";
import { type Testee, websocketsTs, ws } from "../../compliance/testees.js";
import { unhandledRejections } from "../helpers/server.js";
import { startBrokenServer } from "./broken-server.js";

after(() => {
  assert.deepEqual(unhandledRejections(), []);
});

/** A case or two of each kind; every 6.4 fail-fast case. */
const SUBSET = [
  "1.1.1",
  "1.1.6",
  "1.2.8",
  "2.*",
  "3.1",
  // 3.2, 4.1.3, 5.15: a valid message then a protocol error in one write; the
  // message is echoed first (the Node layer's deferFailureAfterMessages).
  "3.2",
  "3.3",
  "3.7",
  "4.1.1",
  "4.1.3",
  "4.2.2",
  "5.1",
  "5.6",
  "5.8",
  "5.12",
  "5.15",
  "5.17",
  "5.19",
  "6.1.*",
  "6.2.3",
  "6.3.*",
  "6.4.*",
  "6.6.*",
  "6.12.3",
  "6.20.1",
  "6.22.34",
  "7.1.*",
  "7.3.*",
  "7.5.1",
  "7.7.1",
  "7.7.13",
  "7.9.*",
  "7.13.1",
  "9.1.1",
  "9.4.5",
  "9.7.1",
  "10.1.1",
  "12.1.1",
  "12.2.11",
  "12.5.10",
  "13.1.16",
  "13.3.4",
  "13.7.13",
];
const FAST = {
  include: SUBSET,
  timeScale: 0.25,
  sizeScale: 16,
  compressionMessages: 3,
} as const;

function show(results: readonly CaseResult[], verdict: string): string[] {
  return results
    .filter((r) => r.verdict === verdict)
    .map((r) => `${r.id}: ${r.result} ${r.behaviorClose}: ${r.resultClose}`);
}

async function run(testee: Testee, role: "server" | "client"): Promise<CaseResult[]> {
  const report = await runSuite({ testees: [testee], roles: [role], ...FAST });
  assert.equal(report.runs.length, 1);
  return [...report.runs[0]!.results];
}

describe("the suite against ws, the reference", () => {
  for (const role of ["server", "client"] as const) {
    it(`finds no FAILED case for ws as a ${role}, and NON-STRICT only on 6.4`, async () => {
      const results = await run(ws, role);
      assert.equal(results.length, selectCases(allCases(), SUBSET).length);
      assert.deepEqual(show(results, "FAILED"), []);
      // ws validates UTF-8 once per message, so it fails at the end of the
      // message rather than at the fragment where the bytes go wrong.
      assert.deepEqual(
        results.filter((r) => r.verdict === "NON-STRICT").map((r) => r.id),
        ["6.4.1", "6.4.2", "6.4.3", "6.4.4"],
      );
    });
  }
});

describe("the suite against this library", () => {
  for (const role of ["server", "client"] as const) {
    it(`finds no FAILED or NON-STRICT case as a ${role}`, async () => {
      const results = await run(websocketsTs, role);
      assert.equal(results.length, selectCases(allCases(), SUBSET).length);
      assert.deepEqual(show(results, "FAILED"), []);
      assert.deepEqual(show(results, "NON-STRICT"), []);
    });
  }
});

describe("the suite against a broken server", () => {
  it("fails missing UTF-8 and close frame validation, and passes the rest", async () => {
    const server = await startBrokenServer();
    try {
      const cases = selectCases(allCases(), [
        "1.1.1",
        "2.2",
        "5.6",
        "6.2.1",
        "6.3.1",
        "6.4.1",
        "6.6.1",
        "7.3.6",
        "7.5.1",
        "7.7.1",
        "7.9.1",
        "7.9.4",
      ]);
      const results = await runAgainstServer(server.url, cases, {
        ...DEFAULT_PLAY_OPTIONS,
        timeScale: 0.25,
      });
      assert.deepEqual(Object.fromEntries(results.map((r) => [r.id, r.verdict])), {
        "1.1.1": "OK",
        "2.2": "OK",
        "5.6": "OK",
        "6.2.1": "OK",
        "6.3.1": "FAILED", // invalid UTF-8 echoed
        "6.4.1": "FAILED",
        "6.6.1": "FAILED",
        "7.3.6": "FAILED", // 126-byte close frame echoed
        "7.5.1": "FAILED", // close reason that is not UTF-8 accepted
        "7.7.1": "OK",
        "7.9.1": "FAILED", // close code 0 echoed
        "7.9.4": "FAILED", // close code 1005 echoed
      });
      const byId = new Map(results.map((r) => [r.id, r]));
      assert.equal(byId.get("7.9.1")!.behaviorClose, "WRONG CODE");
      assert.match(byId.get("7.3.6")!.result, /control frame longer than 125 bytes/);
      assert.deepEqual(
        byId.get("6.3.1")!.observed.events.map((e) => e.kind),
        ["message"],
      );
    } finally {
      await server.close();
    }
  });
});
