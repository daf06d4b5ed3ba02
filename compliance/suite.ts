/**
 * Runs the catalogue against implementations in both roles and collects a
 * {@link Report}.
 *
 * @module
 */

import type { CaseDefinition } from "./case.js";
import { allCases, DEFAULT_COMPRESSION_MESSAGES, selectCases } from "./cases/index.js";
import { runAgainstServer } from "./fuzzing-client.js";
import { runAgainstClient } from "./fuzzing-server.js";
import type { CaseResult } from "./judge.js";
import { DEFAULT_PLAY_OPTIONS } from "./play.js";
import type { AgentRun, Report } from "./report.js";
import type { Testee } from "./testees.js";

/** What to run. */
export interface SuiteOptions {
  readonly testees: readonly Testee[];
  /** Roles of the implementations under test. */
  readonly roles: readonly ("server" | "client")[];
  /** Case patterns to run ("6.4.*"); default: all. */
  readonly include?: readonly string[];
  readonly exclude?: readonly string[];
  /** Multiplies waits and timeouts. Default: 1. */
  readonly timeScale?: number;
  /** Divides section 9's message sizes. Default: 1. */
  readonly sizeScale?: number;
  /** Messages per compression case. Default: {@link DEFAULT_COMPRESSION_MESSAGES}. */
  readonly compressionMessages?: number;
  /** Called with each result as soon as it is graded. */
  readonly onResult?: (run: { agent: string; role: string }, result: CaseResult) => void;
}

/** The cases a run of `options` plays. */
export function casesFor(options: SuiteOptions): CaseDefinition[] {
  const catalogue = allCases({
    sizeScale: options.sizeScale ?? 1,
    compressionMessages: options.compressionMessages ?? DEFAULT_COMPRESSION_MESSAGES,
  });
  return selectCases(catalogue, options.include ?? ["*"], options.exclude ?? []);
}

/** Plays the selected cases against every testee in every role. */
export async function runSuite(options: SuiteOptions): Promise<Report> {
  const cases = casesFor(options);
  const play = { ...DEFAULT_PLAY_OPTIONS, timeScale: options.timeScale ?? 1 };
  const runs: AgentRun[] = [];
  for (const role of options.roles) {
    for (const testee of options.testees) {
      const started = performance.now();
      const tag = { agent: testee.name, role };
      const onResult = (result: CaseResult) => options.onResult?.(tag, result);
      let results: CaseResult[];
      if (role === "server") {
        if (testee.startServer === undefined) continue;
        const server = await testee.startServer();
        try {
          results = await runAgainstServer(server.url, cases, play, onResult);
        } finally {
          await server.close();
        }
      } else {
        if (testee.runClient === undefined) continue;
        results = await runAgainstClient(testee.runClient, cases, play, onResult);
      }
      runs.push({
        agent: testee.name,
        role,
        durationMs: Math.round(performance.now() - started),
        results,
      });
    }
  }
  return {
    suite: "websockets-ts conformance suite (Autobahn|Testsuite sections 1-7, 9, 10, 12, 13)",
    node: process.version,
    options: {
      timeScale: play.timeScale,
      sizeScale: options.sizeScale ?? 1,
      compressionMessages: options.compressionMessages ?? DEFAULT_COMPRESSION_MESSAGES,
      cases: options.include ?? ["*"],
      exclude: options.exclude ?? [],
    },
    runs,
  };
}
