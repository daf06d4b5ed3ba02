/**
 * The memory phase: a fresh server per kind, many idle connections, then one
 * message on each; and the helpers the compression phase reuses.
 *
 * @module
 */

import { SERVER_LABELS, type ServerKind } from "../kinds.js";
import { type MemoryMeasurement, measureIdleMemory, RunningServer } from "../measure.js";
import type { PayloadSpec } from "../payloads.js";
import { formatValue, type Row, type Table } from "../report.js";
import { IDLE_OPEN_CONCURRENCY, MEMORY_MESSAGE_SIZE } from "../workloads.js";
import { ECHO_RATIOS, ECHO_SERVERS, emptyRow, progress, type RunContext } from "./context.js";

/** Rows of memory per connection, one column per server. */
export function memoryRows(results: Map<string, MemoryMeasurement>, withGrowth: boolean): Row[] {
  const rows = [
    emptyRow("idle-heap", "idle: JS heap + external"),
    emptyRow("idle-rss", "idle: RSS"),
    emptyRow("after-heap", "after one message each: JS heap + external"),
    emptyRow("after-rss", "after one message each: RSS"),
  ];
  const growth = emptyRow("growth-heap", "growth from that message: JS heap + external");
  for (const [kind, m] of results) {
    rows[0]!.values[kind] = m.idleHeap;
    rows[1]!.values[kind] = m.idleRss;
    rows[2]!.values[kind] = m.afterHeap;
    rows[3]!.values[kind] = m.afterRss;
    growth.values[kind] =
      m.afterHeap === null || m.idleHeap === null ? null : m.afterHeap - m.idleHeap;
    const note = m.skipped !== null ? m.skipped : m.errors > 0 ? `${m.errors} errors` : null;
    if (note !== null) rows[0]!.notes[kind] = note;
  }
  return withGrowth ? [...rows, growth] : rows;
}

/** Measures each kind in a fresh server process. */
export async function measureMemoryOf(
  kinds: ServerKind[],
  connections: number,
  payload: PayloadSpec,
): Promise<Map<string, MemoryMeasurement>> {
  const results = new Map<string, MemoryMeasurement>();
  for (const kind of kinds) {
    // A fresh process each time: earlier workloads leave garbage and fragmentation behind.
    const server = await RunningServer.start(kind);
    let result: MemoryMeasurement;
    if (server instanceof RunningServer) {
      try {
        result = await measureIdleMemory(server, {
          connections,
          concurrency: IDLE_OPEN_CONCURRENCY,
          payload,
        });
      } finally {
        await server[Symbol.asyncDispose]();
      }
    } else {
      result = {
        idleHeap: null,
        idleRss: null,
        afterHeap: null,
        afterRss: null,
        connections,
        errors: 0,
        skipped: server.unavailable,
      };
    }
    results.set(kind, result);
    progress(
      `[memory] ${SERVER_LABELS[kind]} × ${connections}: ${
        result.skipped ??
        `idle ${formatValue(result.idleHeap, "B")} heap / ${formatValue(result.idleRss, "B")} RSS, after ${formatValue(result.afterHeap, "B")} / ${formatValue(result.afterRss, "B")} per connection`
      }`,
    );
  }
  return results;
}

/**
 * The connections the memory workload can open: each of the server and the
 * generator needs a descriptor per connection, under `ulimit -n`.
 */
function idleConnectionCount(context: RunContext): { count: number; note: string | null } {
  const limit = Number(context.machine.openFiles);
  const wanted = context.timing.idleConnections;
  if (!Number.isFinite(limit) || limit >= wanted + 256) return { count: wanted, note: null };
  const count = Math.max(100, limit - 256);
  return {
    count,
    note: `Lowered from ${wanted} to ${count} connections: \`ulimit -n\` is ${limit}; raise it to measure ${wanted}.`,
  };
}

/** 10,000 idle connections per server (fewer when `ulimit -n` is lower). */
export async function memoryPhase(context: RunContext): Promise<Table[]> {
  const { count, note } = idleConnectionCount(context);
  const results = await measureMemoryOf(ECHO_SERVERS, count, {
    size: MEMORY_MESSAGE_SIZE,
    kind: "binary",
    compress: false,
  });
  return [
    {
      id: "memory",
      title: `Server memory per connection, ${count} connections`,
      unit: "B",
      better: "lower",
      columns: ECHO_SERVERS,
      labels: SERVER_LABELS,
      ratios: ECHO_RATIOS,
      rows: memoryRows(results, true),
      footnotes: [
        `Growth of the server process over its idle baseline, after two full GCs, divided by the connections; the message is ${MEMORY_MESSAGE_SIZE} B binary, echoed. uWS keeps its connections outside the JS heap: compare RSS for it.`,
        ...(note === null ? [] : [note]),
      ],
    },
  ];
}
