/**
 * The benchmark suite: `npm run bench` (full) or `npm run bench -- --quick`.
 *
 * Starts each server in its own process, drives it from a load generator in
 * another process (pinned to the other core when `taskset` exists), and
 * prints one table per workload family with the medians over repeated
 * windows and the ratios of ours to the peers measured in the same run.
 *
 * Flags: `--quick` (about 3 minutes), `--only small,large,handshake,memory,
 * compression,client`, `--json <file>` (default `.build/bench-results.json`),
 * `--write-docs` (rewrites the results section of docs/topics/performance.md),
 * `--default-allocator` (glibc's defaults in every phase: see `allocator.ts`).
 *
 * @module
 */

import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { describeTunedAllocator, useTunedAllocator } from "./allocator.js";
import { renderGeneratorCheck } from "./generator-check.js";
import { describeMachine, renderMachine } from "./machine.js";
import { clientPhase } from "./phases/client.js";
import { compressionPhase } from "./phases/compression.js";
import { type Phase, progress, type RunContext } from "./phases/context.js";
import { largePhase, smallPhase } from "./phases/echo.js";
import { handshakePhase } from "./phases/handshake.js";
import { memoryPhase } from "./phases/memory.js";
import { renderTable, type Table } from "./report.js";
import { evaluateTargets, renderTargets } from "./targets.js";
import { FULL, QUICK } from "./workloads.js";

const PHASES = ["small", "large", "handshake", "memory", "compression", "client"] as const;
type PhaseName = (typeof PHASES)[number];

const { values: flags } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    only: { type: "string" },
    json: { type: "string" },
    "write-docs": { type: "boolean", default: false },
    "default-allocator": { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});

if (flags.help) {
  console.log(
    "npm run bench -- [--quick] [--only small,large,handshake,memory,compression,client]\n" +
      "                 [--json <file>] [--write-docs] [--default-allocator]",
  );
  process.exit(0);
}

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const phases = new Set<PhaseName>(
  flags.only === undefined
    ? PHASES
    : flags.only.split(",").map((name) => {
        if (!(PHASES as readonly string[]).includes(name)) {
          throw new Error(`unknown phase ${name}; expected one of ${PHASES.join(", ")}`);
        }
        return name as PhaseName;
      }),
);

/** The phases that measure speed, run with the allocator settings of `allocator.ts`. */
const TUNED_ALLOCATOR_PHASES = new Set<PhaseName>(["small", "large", "handshake", "client"]);

const PHASE_RUNNERS: Record<PhaseName, Phase> = {
  small: smallPhase,
  large: largePhase,
  handshake: handshakePhase,
  memory: memoryPhase,
  compression: compressionPhase,
  client: clientPhase,
};

const machine = describeMachine();
const context: RunContext = {
  timing: flags.quick ? QUICK : FULL,
  quick: flags.quick,
  machine,
  serverNotes: new Map(),
};
const { timing } = context;
const argv = process.argv.slice(2);
const command = `npm run bench${argv.length > 0 ? ` -- ${argv.join(" ")}` : ""}`;
const began = performance.now();
const tables: Table[] = [];
for (const phase of PHASES) {
  if (!phases.has(phase)) continue;
  useTunedAllocator(!flags["default-allocator"] && TUNED_ALLOCATOR_PHASES.has(phase));
  tables.push(...(await PHASE_RUNNERS[phase](context)));
}
useTunedAllocator(false);
const minutes = ((performance.now() - began) / 60_000).toFixed(1);

const targets = evaluateTargets(tables);
const generatorCheck = renderGeneratorCheck(tables);
const notes = [...context.serverNotes].map(([label, note]) => `- ${label}: ${note}`);
const report = [
  "## Results",
  "",
  renderMachine(machine, command),
  flags["default-allocator"]
    ? "- Allocator: glibc's defaults in every phase"
    : `- Allocator: \`${describeTunedAllocator()}\` in every process of the small, large, handshake and client phases, for every server, client and load generator alike (page faults cost about 19 µs here, and glibc's defaults made some processes fault in most large buffers again; see \`bench/allocator.ts\`); glibc's defaults in the memory and compression phases`,
  `- Mode: ${flags.quick ? "quick" : "full"}: echo, handshake and client workloads in ${timing.repeats} rounds, the servers (or clients) taking turns, one window of ${timing.windowMs} ms each after ${timing.warmupMs} ms of warm-up (half that after the first round, except for a fresh process: every round of the large messages and of the clients runs in new processes); the others ${timing.repeats} windows after ${timing.warmupMs} ms of warm-up; medians shown; run took ${minutes} min`,
  "",
  ...tables.flatMap((table) => [renderTable(table), ""]),
  ...(generatorCheck === null ? [] : [generatorCheck, ""]),
  renderTargets(targets),
  "",
  "### Servers",
  "",
  ...notes,
].join("\n");
console.log(report);

const jsonPath = path.resolve(ROOT, flags.json ?? ".build/bench-results.json");
mkdirSync(path.dirname(jsonPath), { recursive: true });
writeFileSync(
  jsonPath,
  `${JSON.stringify({ machine, command, timing, tables, targets, servers: Object.fromEntries(context.serverNotes) }, null, 2)}\n`,
);
progress(`results written to ${jsonPath}`);

if (flags["write-docs"]) {
  const docs = path.join(ROOT, "docs/topics/performance.md");
  const text = readFileSync(docs, "utf8");
  const start = "<!-- bench:results:start -->";
  const end = "<!-- bench:results:end -->";
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from === -1 || to === -1) throw new Error(`${docs} lacks the ${start} / ${end} markers`);
  writeFileSync(docs, `${text.slice(0, from + start.length)}\n${report}\n${text.slice(to)}`);
  progress(`results written to ${docs}`);
}
