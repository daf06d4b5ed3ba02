/**
 * Reports: the JSON record of every case (what was sent, observed, expected
 * and concluded), a readable summary for the terminal, and the Markdown page
 * `docs/topics/conformance.md`.
 *
 * @module
 */

import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Behavior } from "./case.js";
import { sectionOf } from "./cases/index.js";
import type { CaseResult } from "./judge.js";

/** The results of one implementation in one role. */
export interface AgentRun {
  readonly agent: string;
  /** The role of the implementation under test. */
  readonly role: "server" | "client";
  readonly durationMs: number;
  readonly results: readonly CaseResult[];
}

/** Everything a run produced. */
export interface Report {
  readonly suite: string;
  readonly node: string;
  readonly options: {
    readonly timeScale: number;
    readonly sizeScale: number;
    readonly compressionMessages: number;
    readonly cases: readonly string[];
    readonly exclude: readonly string[];
  };
  readonly runs: readonly AgentRun[];
}

/** Autobahn's section titles. */
export const SECTION_TITLES: Readonly<Record<string, string>> = {
  "1": "Framing",
  "2": "Pings/Pongs",
  "3": "Reserved bits",
  "4": "Opcodes",
  "5": "Fragmentation",
  "6": "UTF-8 handling",
  "7": "Close handling",
  "9": "Limits/performance",
  "10": "Miscellaneous",
  "12": "WebSocket compression",
  "13": "Compression parameters",
};

const VERDICTS = [
  Behavior.OK,
  Behavior.NON_STRICT,
  Behavior.INFORMATIONAL,
  Behavior.UNIMPLEMENTED,
  Behavior.FAILED,
] as const;

/** Verdict counts. */
export type Counts = Record<Behavior, number>;

function emptyCounts(): Counts {
  return { OK: 0, "NON-STRICT": 0, INFORMATIONAL: 0, UNIMPLEMENTED: 0, FAILED: 0 };
}

/** Verdict counts per section, in section order, plus a total. */
export function sectionCounts(results: readonly CaseResult[]): Map<string, Counts> {
  const counts = new Map<string, Counts>();
  for (const result of results) {
    const section = sectionOf(result.id);
    if (!counts.has(section)) counts.set(section, emptyCounts());
    counts.get(section)![result.verdict]++;
  }
  const sorted = new Map([...counts].sort(([a], [b]) => Number(a) - Number(b)));
  const total = emptyCounts();
  for (const sectionTotals of sorted.values()) {
    for (const verdict of VERDICTS) total[verdict] += sectionTotals[verdict];
  }
  sorted.set("total", total);
  return sorted;
}

/** Whether a run has no FAILED and no NON-STRICT case. */
export function isStrict(run: AgentRun): boolean {
  return run.results.every(
    (r) => r.verdict !== Behavior.FAILED && r.verdict !== Behavior.NON_STRICT,
  );
}

function fuzzerName(role: "server" | "client"): string {
  return role === "server" ? "fuzzing client" : "fuzzing server";
}

/**
 * Cases that are not plainly OK, with their reason, one per line; a run of
 * UNIMPLEMENTED cases of one subsection with the same reason shares a line
 * ("13.2.1–13.2.18").
 */
function notOk(run: AgentRun, withDescription = false): string[] {
  const lines: string[] = [];
  let group: { first: string; last: string; text: string; prefix: string } | null = null;
  const flush = () => {
    if (group === null) return;
    const ids = group.first === group.last ? group.first : `${group.first}–${group.last}`;
    lines.push(`${ids} ${group.text}`);
    group = null;
  };
  for (const r of run.results) {
    if (r.verdict === Behavior.OK) {
      flush();
      continue;
    }
    const quiet = r.behaviorClose === "OK" || r.behaviorClose === "INFORMATIONAL";
    const close = quiet ? "" : ` [close: ${r.behaviorClose}: ${r.resultClose}]`;
    // UNIMPLEMENTED cases are listed in groups, which one description cannot cover.
    const described = withDescription && r.verdict !== Behavior.UNIMPLEMENTED;
    const about = described ? ` (${r.description.replace(/\.$/, "")})` : "";
    const text = `${r.verdict}${about}: ${r.result}${close}`;
    const prefix = r.id.split(".").slice(0, -1).join(".");
    if (r.verdict !== Behavior.UNIMPLEMENTED) {
      flush();
      lines.push(`${r.id} ${text}`);
    } else if (group !== null && group.text === text && group.prefix === prefix) {
      group.last = r.id;
    } else {
      flush();
      group = { first: r.id, last: r.id, text, prefix };
    }
  }
  flush();
  return lines;
}

function pad(text: string | number, width: number): string {
  return String(text).padStart(width);
}

/** A readable summary of a report, for the terminal. */
export function textSummary(report: Report): string {
  const lines: string[] = [];
  for (const run of report.runs) {
    lines.push(
      `${run.agent} as ${run.role} (${fuzzerName(run.role)}): ${run.results.length} cases in ` +
        `${(run.durationMs / 1000).toFixed(1)} s`,
    );
    lines.push(
      `  ${"section".padEnd(26)}${pad("cases", 6)}${pad("OK", 6)}${pad("NON-STRICT", 11)}` +
        `${pad("INFO", 6)}${pad("UNIMPL", 8)}${pad("FAILED", 8)}`,
    );
    for (const [section, counts] of sectionCounts(run.results)) {
      const cases = VERDICTS.reduce((sum, verdict) => sum + counts[verdict], 0);
      const title = section === "total" ? "total" : `${section} ${SECTION_TITLES[section] ?? ""}`;
      lines.push(
        `  ${title.padEnd(26)}${pad(cases, 6)}${pad(counts.OK, 6)}` +
          `${pad(counts["NON-STRICT"], 11)}${pad(counts.INFORMATIONAL, 6)}` +
          `${pad(counts.UNIMPLEMENTED, 8)}${pad(counts.FAILED, 8)}`,
      );
    }
    for (const line of notOk(run)) lines.push(`  ${line}`);
    lines.push("");
  }
  return lines.join("\n");
}

/** Writes the JSON report into `directory`; returns the file's path. */
export async function writeJsonReport(report: Report, directory: string): Promise<string> {
  await mkdir(directory, { recursive: true });
  const path = join(directory, "report.json");
  await writeFile(path, `${JSON.stringify(report, null, 2)}\n`);
  return path;
}

function countsCell(counts: Counts): string {
  const parts = [`${counts.OK} OK`];
  if (counts["NON-STRICT"] > 0) parts.push(`${counts["NON-STRICT"]} NON-STRICT`);
  if (counts.INFORMATIONAL > 0) parts.push(`${counts.INFORMATIONAL} INFO`);
  if (counts.UNIMPLEMENTED > 0) parts.push(`${counts.UNIMPLEMENTED} UNIMPLEMENTED`);
  if (counts.FAILED > 0) parts.push(`**${counts.FAILED} FAILED**`);
  return parts.join(", ");
}

function roleTable(report: Report, role: "server" | "client"): string[] {
  const runs = report.runs.filter((r) => r.role === role);
  if (runs.length === 0) return [];
  const perRun = runs.map((run) => sectionCounts(run.results));
  const sections = [...perRun[0]!.keys()];
  const lines = [
    `| section | ${runs.map((r) => `\`${r.agent}\``).join(" | ")} |`,
    `|---|${runs.map(() => "---").join("|")}|`,
  ];
  for (const section of sections) {
    const title =
      section === "total" ? "**total**" : `${section} ${SECTION_TITLES[section] ?? ""}`.trim();
    const cells = perRun.map((counts) => {
      const c = counts.get(section);
      return c === undefined ? "–" : countsCell(c);
    });
    lines.push(`| ${title} | ${cells.join(" | ")} |`);
  }
  return lines;
}

/**
 * The line after which `docs/topics/conformance.md` is written by hand (the
 * interoperability matrix): `--write-docs` regenerates what comes before it
 * and keeps it and what follows.
 */
export const HANDWRITTEN_MARKER =
  "<!-- Written by hand from here on: `npm run compliance -- --write-docs` keeps it. -->";

/** The page `generated`, followed by the hand-written part of `existing` (the current page), if any. */
export function withHandwritten(generated: string, existing: string | null): string {
  const start = existing?.indexOf(HANDWRITTEN_MARKER) ?? -1;
  return start < 0 ? generated : `${generated}\n${existing!.slice(start)}`;
}

/** The Markdown page `docs/topics/conformance.md`, down to its hand-written part. */
export function markdown(report: Report): string {
  const out: string[] = [
    "# Conformance",
    "",
    "<!-- Generated by `npm run compliance -- --write-docs` down to the hand-written part; do not edit it by hand. -->",
    "",
    "`npm run compliance` plays a WebSocket conformance suite against this library in both",
    "roles, on every commit (it is part of `.ci/run`). The cases are written from the published",
    "case descriptions of the [Autobahn|Testsuite](https://github.com/crossbario/autobahn-testsuite)",
    "(sections 1–7, 9, 10, and 12–13 for permessage-deflate), which cannot run here: it needs",
    "Python 2.7 and Docker. The suite lives in `compliance/`:",
    "",
    "- a **fuzzing client** (`compliance/fuzzing-client.ts`) plays each case against an echo",
    "  server built with `serve()`, with frames built byte by byte over a raw TCP socket;",
    "- a **fuzzing server** (`compliance/fuzzing-server.ts`) does the opening handshake by hand and",
    "  plays each case against a client built with `connect()` that echoes what it receives;",
    "- `compliance/wire.ts` encodes and parses frames, and `compliance/deflate.ts` negotiates and",
    "  compresses, on their own, so that a bug in the library cannot hide itself.",
    "",
    "The `ws` package runs the same cases as a reference: a suite that finds nothing wrong with a",
    "known-good implementation, and that fails a deliberately broken one",
    "(`test/compliance/`), can be trusted with its verdicts.",
    "",
    "## Verdicts",
    "",
    "Each case is graded as Autobahn grades it. Its *behavior* compares the events the fuzzer",
    "observed (messages, pongs, elapsed waits) with the outcomes the case accepts; its *close",
    "behavior* checks who started the closing handshake, whether it completed before the TCP",
    "connection closed, and the close code. The verdict counted below is:",
    "",
    "- **OK**: the strict outcome, closed properly;",
    "- **NON-STRICT**: an outcome the case accepts but the specification discourages, such as",
    "  detecting invalid UTF-8 only when the message ends rather than at the fragment where the",
    "  bytes stop being UTF-8 (6.4.x), or failing the connection before echoing a valid message",
    "  that preceded the error (3.2, 4.1.3, 5.15, …);",
    "- **INFORMATIONAL**: behavior the specification leaves open (7.1.6, 7.13.x);",
    "- **UNIMPLEMENTED**: permessage-deflate was not agreed, so the case could not run. In the",
    "  client role, the fuzzing server of 13.2 and 13.5–13.7 asks for `client_no_context_takeover`",
    "  only of clients that offered it, as Autobahn's does; so, as Autobahn's testee clients are,",
    "  each client testee is configured per case to make the offer of the case's fuzzing client",
    "  (`client_no_context_takeover` and `server_no_context_takeover` in those cases, the",
    "  requested `server_max_window_bits` in 13.3–13.7);",
    "- **FAILED**: anything else, including a close behavior that is not OK.",
    "",
    "Two rules are stricter than Autobahn: any protocol violation seen by the fuzzer fails the",
    "case, and so does an implementation that should have failed the connection and never did,",
    "in both roles. Section 9 runs Autobahn's message sizes (up to 16 MiB, with testees",
    "configured to accept them, as Autobahn's testees are); durations are recorded in the JSON",
    "report (`.build/compliance-report/report.json`) and are not graded. Sections 12 and 13 send",
    "10 messages per case instead of Autobahn's 1000 (`--compression-messages` changes it), taken",
    "from generated stand-ins for Autobahn's data files (JSON, a bitmap, German text, HTML, a",
    "PDF-like mix), every echo compared byte for byte.",
    "",
    "## Results",
    "",
  ];
  for (const role of ["server", "client"] as const) {
    const table = roleTable(report, role);
    if (table.length === 0) continue;
    out.push(`### As a ${role} (against the ${fuzzerName(role)})`, "", ...table, "");
  }
  const exceptions = report.runs.flatMap((run) =>
    notOk(run, true).map((line) => `- \`${run.agent}\` as ${run.role}: ${line}`),
  );
  if (exceptions.length > 0) {
    out.push("### Cases that are not OK", "", ...exceptions, "");
  }
  out.push(
    "## Running it",
    "",
    "```sh",
    "npm run compliance                          # both roles, this library and ws",
    "npm run compliance -- --cases '6.4.*,7.9.*'  # a selection",
    "npm run compliance -- --agents websockets-ts --roles server",
    "npm run compliance -- --compression-messages 1000  # Autobahn's message count",
    "npm run compliance -- --write-docs          # regenerate this page",
    "node .build/compliance/run.js --from-report .build/compliance-report/report.json --write-docs",
    "```",
    "",
    "It exits with a non-zero status when this library has a FAILED or NON-STRICT case in either",
    "role; UNIMPLEMENTED and INFORMATIONAL cases do not count against it. New sections plug into",
    "`compliance/cases/index.ts`.",
    "",
  );
  return out.join("\n");
}
