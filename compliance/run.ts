/**
 * `npm run compliance`: plays the conformance suite against this library
 * (and `ws`, the reference) in both roles, writes the JSON report, prints a
 * summary, and fails when this library has a FAILED or NON-STRICT case.
 *
 * ```sh
 * node .build/compliance/run.js [--agents websockets-ts,ws] [--roles server,client]
 *   [--cases '6.4.*,7.*'] [--exclude '9.*'] [--time-scale 1] [--size-scale 1]
 *   [--report-dir DIR] [--write-docs] [--verbose]
 * ```
 *
 * @module
 */

import { readFile, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { DEFAULT_COMPRESSION_MESSAGES } from "./cases/index.js";
import {
  isStrict,
  markdown,
  type Report,
  textSummary,
  withHandwritten,
  writeJsonReport,
} from "./report.js";
import { runSuite } from "./suite.js";
import { TESTEES, websocketsTs } from "./testees.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

const USAGE = `usage: npm run compliance -- [options]
  --agents LIST      implementations to test (default: websockets-ts,ws)
  --roles LIST       server, client or both (default: server,client)
  --cases LIST       case patterns such as '6.4.*' (default: all)
  --exclude LIST     case patterns to skip
  --time-scale N     multiply waits and timeouts by N (default: 1)
  --size-scale N     divide section 9 message sizes by N (default: 1)
  --compression-messages N
                     messages per case in sections 12 and 13 (default: 10)
  --report-dir DIR   where report.json goes (default: .build/compliance-report)
  --write-docs       regenerate docs/topics/conformance.md, keeping its hand-written part (full runs only)
  --from-report FILE summarize (and --write-docs) a saved report.json instead of running
  --verbose          print every case as it is graded`;

function list(value: string): string[] {
  return value
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      agents: { type: "string", default: "websockets-ts,ws" },
      roles: { type: "string", default: "server,client" },
      cases: { type: "string", default: "*" },
      exclude: { type: "string", default: "" },
      "time-scale": { type: "string", default: "1" },
      "size-scale": { type: "string", default: "1" },
      "compression-messages": { type: "string", default: String(DEFAULT_COMPRESSION_MESSAGES) },
      "report-dir": { type: "string", default: join(ROOT, ".build", "compliance-report") },
      "write-docs": { type: "boolean", default: false },
      "from-report": { type: "string" },
      verbose: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const narrowed =
    values.agents !== "websockets-ts,ws" ||
    values.roles !== "server,client" ||
    values.cases !== "*" ||
    values.exclude !== "" ||
    values["time-scale"] !== "1" ||
    values["size-scale"] !== "1" ||
    values["compression-messages"] !== String(DEFAULT_COMPRESSION_MESSAGES);
  if (values["write-docs"] && values["from-report"] === undefined && narrowed) {
    throw new Error("--write-docs needs a full run: no option that narrows it");
  }
  let report: Report;
  if (values["from-report"] !== undefined) {
    report = JSON.parse(await readFile(values["from-report"], "utf8")) as Report;
  } else {
    const testees = list(values.agents).map((name) => {
      const testee = TESTEES[name];
      if (testee === undefined) throw new Error(`unknown agent: ${name}`);
      return testee;
    });
    const roles = list(values.roles).map((role) => {
      if (role !== "server" && role !== "client") throw new Error(`unknown role: ${role}`);
      return role;
    });
    report = await runSuite({
      testees,
      roles,
      include: list(values.cases),
      exclude: list(values.exclude),
      timeScale: Number(values["time-scale"]),
      sizeScale: Number(values["size-scale"]),
      compressionMessages: Number(values["compression-messages"]),
      onResult(run, result) {
        if (values.verbose || (result.verdict !== "OK" && run.agent === websocketsTs.name)) {
          console.log(`${run.agent} as ${run.role}: ${result.id} ${result.verdict}`);
        }
      },
    });
  }
  const { options } = report;
  const partial =
    options.cases.join() !== "*" ||
    options.exclude.length > 0 ||
    options.timeScale !== 1 ||
    options.sizeScale !== 1 ||
    options.compressionMessages !== DEFAULT_COMPRESSION_MESSAGES ||
    report.runs.length < 4;
  if (values["write-docs"] && partial) {
    throw new Error("--write-docs needs a report of a full run");
  }
  console.log(textSummary(report));
  if (values["from-report"] === undefined) {
    console.log(`report: ${await writeJsonReport(report, values["report-dir"])}`);
  }
  if (values["write-docs"]) {
    const docs = join(ROOT, "docs", "topics", "conformance.md");
    const existing = await readFile(docs, "utf8").catch(() => null);
    await writeFile(docs, withHandwritten(markdown(report), existing));
    console.log(`docs: ${docs}`);
  }
  const ours = report.runs.filter((run) => run.agent === websocketsTs.name);
  const failing = ours.filter((run) => !isStrict(run));
  for (const run of failing) {
    console.error(`${run.agent} as ${run.role}: FAILED or NON-STRICT cases (see above)`);
  }
  return failing.length > 0 ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 2;
  },
);
