/**
 * Profiles one server on one workload: `node .build/bench/profile.js
 * --workload small-16-16-pipelined [--server ours] [--seconds 5] [--top 30]
 * [--server-flag=--import=/path/to/patch.js] [--no-profile]
 * [--default-allocator]`. Runs with the allocator settings of the suite's
 * speed phases (`allocator.ts`) unless told otherwise.
 *
 * `--workload a,b,c` drives one server process through several workloads in
 * turn, as the suite does, and prints each one's numbers: what a server does
 * on one workload can depend on what it ran before (the profile, if taken,
 * covers them all).
 *
 * Runs the server with `node --cpu-prof`, drives it with the load generator,
 * stops it so that the profile is written, and prints where its CPU time
 * went: by file, then the functions with the most self time. The `.cpuprofile`
 * stays behind for Chrome DevTools or speedscope.
 *
 * @module
 */

import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { useTunedAllocator } from "./allocator.js";
import { type ServerKind, ServerKind as ServerKinds } from "./kinds.js";
import { measureEcho, measureHandshakes, measureIdleMemory, RunningServer } from "./measure.js";
import {
  compressionWorkloads,
  HANDSHAKE_CONCURRENCY,
  IDLE_OPEN_CONCURRENCY,
  largeEchoWorkloads,
  MEMORY_MESSAGE_SIZE,
  smallEchoWorkloads,
} from "./workloads.js";

const { values: flags } = parseArgs({
  options: {
    workload: { type: "string", default: "small-16-16-pipelined" },
    server: { type: "string", default: "ours" },
    seconds: { type: "string", default: "5" },
    top: { type: "string", default: "30" },
    "server-flag": { type: "string", multiple: true, default: [] },
    // Measure only: for strace or perf on the server, without the profiler's signals.
    "no-profile": { type: "boolean", default: false },
    // glibc's defaults instead of the suite's settings for its speed phases (allocator.ts).
    "default-allocator": { type: "boolean", default: false },
  },
});

// Every process started from here inherits them, as in the suite's speed phases.
useTunedAllocator(!flags["default-allocator"]);

/** The parts of a V8 `.cpuprofile` used here. */
interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children?: number[];
  }[];
  samples: number[];
  timeDeltas: number[];
}

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** A short name for a script URL: paths under the project relative to it, Node's own as is. */
function shortUrl(url: string): string {
  if (url === "") return "(native or VM)";
  const file = url.startsWith("file://") ? fileURLToPath(url) : url;
  return file.startsWith(ROOT) ? path.relative(ROOT, file) : file;
}

type ProfileNode = CpuProfile["nodes"][number];

function nameOf(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  return `${functionName || "(anonymous)"}  ${shortUrl(url)}${url ? `:${lineNumber + 1}` : ""}`;
}

/**
 * Milliseconds per function (self, and total including callees) and per file
 * (self). Total time is counted once per sample even through recursion.
 */
function summarize(profile: CpuProfile): {
  total: number;
  selfByFunction: Map<string, number>;
  totalByFunction: Map<string, number>;
  byFile: Map<string, number>;
} {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parents = new Map<number, number>();
  for (const node of profile.nodes) {
    for (const child of node.children ?? []) parents.set(child, node.id);
  }
  const selfByFunction = new Map<string, number>();
  const totalByFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  const add = (map: Map<string, number>, key: string, ms: number) =>
    map.set(key, (map.get(key) ?? 0) + ms);
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    const node = nodes.get(id);
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    if (node === undefined || node.callFrame.functionName === "(idle)") continue;
    total += ms;
    add(selfByFunction, nameOf(node), ms);
    add(byFile, shortUrl(node.callFrame.url), ms);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parents.get(at)) {
      const name = nameOf(nodes.get(at)!);
      if (seen.has(name)) continue;
      seen.add(name);
      add(totalByFunction, name, ms);
    }
  }
  return { total, selfByFunction, totalByFunction, byFile };
}

function printTop(title: string, entries: Map<string, number>, total: number, top: number): void {
  console.log(`\n${title}`);
  const sorted = [...entries].sort((a, b) => b[1] - a[1]).slice(0, top);
  for (const [name, ms] of sorted) {
    console.log(
      `${((ms / total) * 100).toFixed(1).padStart(5)}%  ${ms.toFixed(0).padStart(6)} ms  ${name}`,
    );
  }
}

async function drive(server: RunningServer, workload: string, seconds: number): Promise<string> {
  const timing = {
    warmupMs: 500,
    repeats: 1,
    windowMs: seconds * 1000,
    idleConnections: 10_000,
    compressedConnections: 1000,
  };
  if (workload === "handshake") {
    const m = await measureHandshakes(server, HANDSHAKE_CONCURRENCY, timing);
    return `${m.rate?.toFixed(0)} handshakes/s, ${m.serverCpuPerUnit?.toFixed(0)} µs CPU each`;
  }
  if (workload === "idle") {
    const m = await measureIdleMemory(server, {
      connections: timing.idleConnections,
      concurrency: IDLE_OPEN_CONCURRENCY,
      payload: { size: MEMORY_MESSAGE_SIZE, kind: "binary", compress: false },
    });
    return m.skipped ?? `${m.idleHeap?.toFixed(0)} B heap per idle connection`;
  }
  const echo = [...smallEchoWorkloads(false), ...largeEchoWorkloads(), ...compressionWorkloads()];
  const found = echo.find((candidate) => candidate.id === workload);
  if (found === undefined) {
    const ids = [...echo.map((w) => w.id), "handshake", "idle"].join(", ");
    throw new Error(`unknown workload ${workload}; one of: ${ids}`);
  }
  const m = await measureEcho(server, found.job, timing);
  return (
    m.skipped ??
    `${m.rate?.toFixed(0)} msg/s, ${((m.throughput ?? 0) / 1024 / 1024).toFixed(0)} MiB/s, ${m.serverCpuPerUnit?.toFixed(2)} µs server CPU per message`
  );
}

const kind = flags.server as ServerKind;
if (!(Object.values(ServerKinds) as string[]).includes(kind)) {
  throw new Error(`unknown server ${kind}`);
}
const profileDir = mkdtempSync(path.join(tmpdir(), "websockets-ts-profile-"));
const server = await RunningServer.start(kind, {
  profileDir: flags["no-profile"] ? null : profileDir,
  execArgv: flags["server-flag"],
});
if (!(server instanceof RunningServer)) throw new Error(server.unavailable);
const outcomes: string[] = [];
try {
  for (const workload of flags.workload.split(",")) {
    const outcome = await drive(server, workload, Number(flags.seconds));
    outcomes.push(`${flags.server} on ${workload}: ${outcome}`);
    if (flags["no-profile"]) console.log(outcomes.at(-1));
  }
} finally {
  await server[Symbol.asyncDispose]();
}
if (flags["no-profile"]) process.exit(0);
const file = readdirSync(profileDir).find((name) => name.endsWith(".cpuprofile"));
if (file === undefined) throw new Error(`no profile written in ${profileDir}`);
const profilePath = path.join(profileDir, file);
const { total, selfByFunction, totalByFunction, byFile } = summarize(
  JSON.parse(readFileSync(profilePath, "utf8")) as CpuProfile,
);
for (const line of outcomes) console.log(line);
console.log(`profile: ${profilePath} (${total.toFixed(0)} ms of CPU samples, idle excluded)`);
const top = Number(flags.top);
printTop("Self time by file", byFile, total, 15);
printTop("Self time by function", selfByFunction, total, top);
// Total time of the project's own functions: where native time (writes, zlib) comes from.
const ownTotals = new Map(
  [...totalByFunction].filter(([name]) => name.includes(" dist/") || name.includes(" .build/")),
);
printTop("Total time (self + callees) of this project's functions", ownTotals, total, top);
