/**
 * Where the bytes of an idle connection go: starts one server in this process
 * (ours, ws or a bare `net` echo, as the suite runs them), opens N idle
 * connections from a child process, and prints the growth of JS heap +
 * external and RSS per connection after full garbage collections; with
 * `--snapshot`, also the heap objects whose count grew by about N or more,
 * by type and constructor, with their self size per connection.
 *
 * Run with `node --expose-gc .build/bench/heap-idle.js [--server ours|ws|raw]
 * [--connections 2000] [--snapshot] [--message] [--keepalive] [--settle 40]`. `--message`
 * echoes one 1 KiB message on each connection and measures again;
 * `--keepalive` runs ours with keepalive pings at their default interval;
 * `--settle 40` also reads RSS once V8 has had 40 s to give back, by itself,
 * the young generation that grew while the connections opened (its memory
 * reducer does that about 30 s later, without any `gc()` call).
 * `KEEP_SNAPSHOTS=1` keeps the snapshot files in /tmp for other tools.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { fork } from "node:child_process";
import { readFileSync, unlinkSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as v8 from "node:v8";
import { DEFAULTS } from "websockets-ts";
import { messageFrom } from "./ipc.js";
import { open, openMany } from "./loadgen/connect.js";
import { maskedFrame, upgradeRequest, WireOpcode } from "./loadgen/wire.js";
import { startOurs } from "./servers/ours.js";
import { startRaw } from "./servers/raw.js";
import { startWs } from "./servers/ws.js";

interface Options {
  server: string;
  connections: number;
  snapshot: boolean;
  message: boolean;
  /** Also group by retaining edge: "child <- parent.edge". */
  retainers: boolean;
  /** Ours with keepalive at its default interval, as `serve()` has it unless told otherwise. */
  keepalive: boolean;
  /** Seconds to wait, idle, before reading RSS again; 0 for no second reading. */
  settle: number;
}

function parseOptions(argv: string[]): Options {
  const options: Options = {
    server: "ours",
    connections: 2000,
    snapshot: false,
    message: false,
    retainers: false,
    keepalive: false,
    settle: 0,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--server") options.server = argv[++i] ?? "ours";
    else if (arg === "--connections") options.connections = Number(argv[++i]);
    else if (arg === "--snapshot") options.snapshot = true;
    else if (arg === "--message") options.message = true;
    else if (arg === "--retainers") options.retainers = true;
    else if (arg === "--keepalive") options.keepalive = true;
    else if (arg === "--settle") options.settle = Number(argv[++i]);
  }
  return options;
}

// --- Child: the connections ------------------------------------------------

async function runClient(port: number, count: number, websocket: boolean): Promise<void> {
  const request = websocket ? upgradeRequest(port, null) : null;
  const opened = await openMany(count, 64, () => open(port, request));
  for (const { socket } of opened) socket.on("error", () => {});
  process.send?.("open");
  process.on("message", (command) => {
    if (command !== "message") return;
    const frame = websocket
      ? maskedFrame(WireOpcode.BINARY, Buffer.alloc(1024, 0x61))
      : Buffer.alloc(1024, 0x61);
    let pending = opened.length;
    for (const connection of opened) {
      let received = 0;
      connection.listen((chunk) => {
        received += chunk.length;
        // The echo of a 1 KiB binary message: 4 header bytes, then the payload.
        if (received < (websocket ? 1028 : 1024)) return;
        connection.listen(null);
        if (--pending === 0) process.send?.("echoed");
      });
      connection.socket.write(frame);
    }
  });
}

// --- Parent: the server and the measurements ---------------------------------

type Gc = (options?: { type: "major"; execution: "sync" }) => void;

function collect(): void {
  const gc = (globalThis as { gc?: Gc }).gc;
  if (gc === undefined) throw new Error("run with node --expose-gc");
  gc();
  gc();
}

interface Usage {
  heap: number;
  rss: number;
}

function usage(): Usage {
  collect();
  const memory = process.memoryUsage();
  return { heap: memory.heapUsed + memory.external, rss: memory.rss };
}

/** Count and self size of heap objects, by "type constructor-or-name". */
type Census = Map<string, { count: number; size: number }>;

interface Snapshot {
  snapshot: {
    meta: {
      node_fields: string[];
      node_types: [string[], ...unknown[]];
      edge_fields: string[];
      edge_types: [string[], ...unknown[]];
    };
  };
  nodes: number[];
  edges: number[];
  strings: string[];
}

let retainers = false;

/** Writes a heap snapshot after full collections; returns its file name. */
function snapshot(label: string): string {
  collect();
  return v8.writeHeapSnapshot(`/tmp/heap-idle-${process.pid}-${label}.heapsnapshot`);
}

/** Reads a snapshot written by {@link snapshot}, in this process (which it doesn't measure). */
function census(file: string): Census {
  const data = JSON.parse(readFileSync(file, "utf8")) as Snapshot;
  const fields = data.snapshot.meta.node_fields;
  const types = data.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf("type");
  const nameAt = fields.indexOf("name");
  const sizeAt = fields.indexOf("self_size");
  const result: Census = new Map();
  const nodes = data.nodes;
  const keys: string[] = [];
  for (let i = 0; i < nodes.length; i += width) {
    const type = types[nodes[i + typeAt]!]!;
    let name = data.strings[nodes[i + nameAt]!]!;
    // Strings and numbers are named by their content: group them by type.
    if (type === "string" || type === "concatenated string" || type === "sliced string") {
      name = "";
    } else if (type === "number" || type === "bigint") {
      name = "";
    }
    if (name.length > 60) name = `${name.slice(0, 60)}…`;
    // Strings by content when short: which strings does each connection keep?
    if (retainers && type === "string")
      name = JSON.stringify(data.strings[nodes[i + nameAt]!]!.slice(0, 40));
    const key = `${type} ${name}`;
    keys.push(key);
    const entry = result.get(key);
    const size = nodes[i + sizeAt]!;
    if (entry === undefined) result.set(key, { count: 1, size });
    else {
      entry.count++;
      entry.size += size;
    }
  }
  if (!retainers) return result;
  const edgeWidth = data.snapshot.meta.edge_fields.length;
  const edgeTypes = data.snapshot.meta.edge_types[0];
  const edgeCountAt = fields.indexOf("edge_count");
  const edges = data.edges;
  let edge = 0;
  for (let i = 0, node = 0; i < nodes.length; i += width, node++) {
    const count = nodes[i + edgeCountAt]!;
    for (let e = 0; e < count; e++, edge += edgeWidth) {
      const edgeType = edgeTypes[edges[edge]!]!;
      if (edgeType === "weak" || edgeType === "shortcut") continue;
      const nameOrIndex = edges[edge + 1]!;
      const edgeName =
        edgeType === "element" || edgeType === "hidden"
          ? `[${edgeType}]`
          : data.strings[nameOrIndex]!;
      const target = edges[edge + 2]! / width;
      const targetKey = keys[target]!;
      const size = nodes[edges[edge + 2]! + sizeAt]!;
      const key = `  ${targetKey}  <-  ${keys[node]}.${edgeName}`;
      const entry = result.get(key);
      if (entry === undefined) result.set(key, { count: 1, size });
      else {
        entry.count++;
        entry.size += size;
      }
    }
  }
  return result;
}

function printGrowth(before: Census, after: Census, n: number): void {
  const rows: { key: string; count: number; size: number }[] = [];
  for (const [key, entry] of after) {
    const base = before.get(key) ?? { count: 0, size: 0 };
    const count = entry.count - base.count;
    const size = entry.size - base.size;
    if (count >= n * 0.45 || size >= n * 8) rows.push({ key, count, size });
  }
  rows.sort((a, b) => b.size - a.size);
  let total = 0;
  console.log("  per conn  B/conn  type constructor");
  for (const row of rows) {
    total += row.size;
    console.log(
      `${(row.count / n).toFixed(2).padStart(10)} ${(row.size / n).toFixed(0).padStart(7)}  ${row.key}`,
    );
  }
  console.log(`  listed: ${(total / n).toFixed(0)} B per connection`);
}

async function runServer(options: Options): Promise<void> {
  const started =
    options.server === "ws"
      ? await startWs(false)
      : options.server === "raw"
        ? await startRaw()
        : await startOurs(false, options.keepalive ? DEFAULTS.pingInterval : null);
  const n = options.connections;
  // Settle what starting the server allocated lazily.
  await new Promise((resolve) => setTimeout(resolve, 200));
  const base = usage();
  const baseFile = options.snapshot ? snapshot("base") : null;
  const child = fork(
    fileURLToPath(import.meta.url),
    ["--client", String(started.port), String(n), options.server === "raw" ? "raw" : "ws"],
    { stdio: "inherit" },
  );
  await messageFrom(child, "open");
  await new Promise((resolve) => setTimeout(resolve, 500));
  const idle = usage();
  const perConnection = (u: Usage) =>
    `heap+external ${((u.heap - base.heap) / n).toFixed(0)} B, RSS ${((u.rss - base.rss) / n).toFixed(0)} B per connection`;
  console.log(`${options.server} × ${n} idle: ${perConnection(idle)}`);
  if (options.settle > 0) {
    // No gc() before this reading: a forced collection is not what gives the memory back.
    await new Promise((resolve) => setTimeout(resolve, options.settle * 1000));
    const rss = process.memoryUsage().rss;
    console.log(
      `${options.server} × ${n} idle, ${options.settle} s later: RSS ${((rss - base.rss) / n).toFixed(0)} B per connection`,
    );
  }
  const idleFile = baseFile !== null ? snapshot("idle") : null;
  if (options.message) {
    child.send("message");
    await messageFrom(child, "echoed");
    await new Promise((resolve) => setTimeout(resolve, 500));
    const after = usage();
    console.log(`${options.server} × ${n} after one message: ${perConnection(after)}`);
  }
  const afterFile = baseFile !== null && options.message ? snapshot("after") : null;
  child.kill();
  if (baseFile !== null && idleFile !== null) {
    retainers = options.retainers;
    const before = census(baseFile);
    console.log("idle, growth over the baseline:");
    printGrowth(before, census(idleFile), n);
    if (afterFile !== null) {
      console.log("after one message, growth over the baseline:");
      printGrowth(before, census(afterFile), n);
    }
    if (!process.env.KEEP_SNAPSHOTS) {
      for (const file of [baseFile, idleFile, afterFile]) if (file !== null) unlinkSync(file);
    }
  }
  process.exit(0);
}

if (process.argv[2] === "--client") {
  await runClient(Number(process.argv[3]), Number(process.argv[4]), process.argv[5] === "ws");
} else {
  await runServer(parseOptions(process.argv.slice(2)));
}
