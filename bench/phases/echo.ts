/**
 * The echo phases: small messages (throughput, CPU per message, ping-pong
 * latency) and large messages (throughput, CPU per MiB).
 *
 * @module
 */

import { SERVER_LABELS, type ServerKind } from "../kinds.js";
import {
  combineMeasurements,
  type Measurement,
  measureEcho,
  RunningServer,
  skipped,
} from "../measure.js";
import { formatValue, limitOf, type Row, type Table } from "../report.js";
import { type EchoWorkload, largeEchoWorkloads, smallEchoWorkloads } from "../workloads.js";
import {
  describe,
  ECHO_RATIOS,
  ECHO_SERVERS,
  emptyRow,
  progress,
  type RunContext,
  type Started,
  startServers,
  stopServers,
} from "./context.js";

/** The rows one family of echo workloads fills. */
interface EchoRows {
  /** The headline value: messages or bytes per second. */
  rows: Row[];
  /** Server CPU per message (or per MiB): robust to other load on the machine. */
  cpu: Row[];
  /** p50 and p99 rows of the ping-pong workloads. */
  latency: Row[];
}

/** Runs echo workloads on every server, one row per workload in each table. */
export async function echoRows(
  context: RunContext,
  group: string,
  workloads: EchoWorkload[],
  started: Started,
  unit: "msg/s" | "B/s",
  limitColumn: ServerKind,
  processes: "kept" | "fresh" = "kept",
): Promise<EchoRows> {
  const result: EchoRows = { rows: [], cpu: [], latency: [] };
  for (const workload of workloads) {
    const row = emptyRow(workload.id, workload.title);
    const cpu = emptyRow(workload.id, workload.title);
    const p50 = emptyRow(`${workload.id}-p50`, `${workload.title}, p50`);
    const p99 = emptyRow(`${workload.id}-p99`, `${workload.title}, p99`);
    const measured = await interleaved(started, workload, context, processes);
    for (const [kind, server] of started) {
      const measurement =
        measured.get(kind) ??
        skipped(server instanceof RunningServer ? "not measured" : server.unavailable);
      const value = unit === "msg/s" ? measurement.rate : measurement.throughput;
      row.measurements![kind] = measurement;
      row.values[kind] = value;
      cpu.values[kind] =
        unit === "msg/s" ? measurement.serverCpuPerUnit : measurement.serverCpuPerMiB;
      p50.values[kind] = measurement.p50;
      p99.values[kind] = measurement.p99;
      if (measurement.skipped !== null) row.notes[kind] = measurement.skipped;
      if (measurement.errors > 0) row.notes[kind] = `${measurement.errors} socket errors`;
      progress(
        `[${group}] ${workload.title} · ${SERVER_LABELS[kind]}: ${describe(measurement, formatValue(value, unit))}`,
      );
    }
    row.limit = limitOf(row.measurements![limitColumn]);
    p50.limit = row.limit;
    p99.limit = row.limit;
    result.rows.push(row);
    result.cpu.push(cpu);
    if (workload.job.mode === "pingpong") result.latency.push(p50, p99);
  }
  return result;
}

/** Server processes that took a window of some workload already. */
const measuredProcesses = new WeakSet<RunningServer>();

/**
 * Measures `workload` on every running server in rounds of one window each,
 * the servers taking turns (in a different order each round), rather than
 * all the windows of one server before the next: the machine's speed drifts
 * over minutes on shared hosts, and a server measured in a fast minute
 * against another in a slow one made ratios that flipped between runs.
 * Later rounds warm up for half as long; the first one also warms V8 up.
 *
 * With `processes: "fresh"`, every window is taken on a process that took
 * none before, of this workload or another (a new one replaces it in
 * `started`), warmed up in full:
 * how a process's C allocator lays out its heap decides whether each large
 * message lands on pages the kernel has to fault in again, and that holds
 * for the life of the process (ours and `ws` alike: 1 MiB echoes at 1.0 or
 * 1.9 ms of CPU, depending on the process). The median over fresh processes
 * measures the library, not one draw of that.
 */
async function interleaved(
  started: Started,
  workload: EchoWorkload,
  context: RunContext,
  processes: "kept" | "fresh",
): Promise<Map<ServerKind, Measurement>> {
  const kinds = [...started]
    .filter((entry) => entry[1] instanceof RunningServer)
    .map(([kind]) => kind);
  const rounds = new Map<ServerKind, Measurement[]>(kinds.map((kind) => [kind, []]));
  const { timing } = context;
  for (let round = 0; round < timing.repeats; round++) {
    const warmupMs =
      round === 0 || processes === "fresh" ? timing.warmupMs : Math.round(timing.warmupMs / 2);
    for (let turn = 0; turn < kinds.length; turn++) {
      const kind = kinds[(round + turn) % kinds.length]!;
      let server = started.get(kind);
      if (
        processes === "fresh" &&
        server instanceof RunningServer &&
        measuredProcesses.has(server)
      ) {
        await server[Symbol.asyncDispose]();
        server = await RunningServer.start(kind);
        started.set(kind, server);
      }
      if (server instanceof RunningServer) measuredProcesses.add(server);
      const measurement =
        server instanceof RunningServer
          ? await measureEcho(server, workload.job, { ...timing, warmupMs, repeats: 1 })
          : skipped(server?.unavailable ?? "not started");
      rounds.get(kind)!.push(measurement);
    }
  }
  return new Map(
    [...rounds].map(([kind, measurements]) => [kind, combineMeasurements(measurements)]),
  );
}

/** 16 B and 1 KiB messages, pipelined and ping-pong. */
export async function smallPhase(context: RunContext): Promise<Table[]> {
  const started = await startServers(context, ECHO_SERVERS);
  try {
    const { rows, cpu, latency } = await echoRows(
      context,
      "small",
      smallEchoWorkloads(context.quick),
      started,
      "msg/s",
      "ours",
    );
    return [
      {
        id: "small",
        title: "Small messages, echo",
        unit: "msg/s",
        better: "higher",
        columns: ECHO_SERVERS,
        labels: SERVER_LABELS,
        ratios: ECHO_RATIOS,
        rows,
        footnotes: [
          "Binary messages. Pipelined: each connection writes batches of 64 messages of 16 B (16 of 1 KiB) and keeps up to 4 batches in flight. Ping-pong: one message in flight per connection.",
        ],
      },
      {
        id: "small-cpu",
        title: "Small messages, server CPU per message",
        unit: "µs",
        better: "lower",
        columns: ECHO_SERVERS,
        labels: SERVER_LABELS,
        ratios: ECHO_RATIOS,
        rows: cpu,
        footnotes: [
          "Server process CPU time (user + system) over the window divided by the messages echoed: what each server would reach with a core to itself.",
        ],
      },
      {
        id: "latency",
        title: "Ping-pong round trip",
        unit: "µs",
        better: "lower",
        columns: ECHO_SERVERS,
        labels: SERVER_LABELS,
        ratios: [
          { numerator: "ours", denominator: "ws" },
          { numerator: "ours", denominator: "raw" },
        ],
        rows: latency,
        footnotes: ["Measured by the load generator from write to the last byte of the echo."],
      },
    ];
  } finally {
    await stopServers(started);
  }
}

/** 64 KiB, 1 MiB and 16 MiB messages. */
export async function largePhase(context: RunContext): Promise<Table[]> {
  const started = await startServers(context, ECHO_SERVERS);
  try {
    const { rows, cpu } = await echoRows(
      context,
      "large",
      largeEchoWorkloads(),
      started,
      "B/s",
      "ours",
      "fresh",
    );
    return [
      {
        id: "large",
        title: "Large messages, echo throughput",
        unit: "B/s",
        better: "higher",
        columns: ECHO_SERVERS,
        labels: SERVER_LABELS,
        ratios: ECHO_RATIOS,
        rows,
        footnotes: ["Bytes echoed back to the load generator per second, binary messages."],
      },
      {
        id: "large-cpu",
        title: "Large messages, server CPU per MiB echoed",
        unit: "µs",
        better: "lower",
        columns: ECHO_SERVERS,
        labels: SERVER_LABELS,
        ratios: ECHO_RATIOS,
        rows: cpu,
        footnotes: [],
      },
    ];
  } finally {
    await stopServers(started);
  }
}
