/**
 * The handshake phase: server CPU per connect-upgrade-close cycle, and cycles
 * per second.
 *
 * @module
 */

import { SERVER_LABELS } from "../kinds.js";
import { measureHandshakes, RunningServer, skipped } from "../measure.js";
import { formatValue, limitOf, type Table } from "../report.js";
import { HANDSHAKE_CONCURRENCY } from "../workloads.js";
import {
  describe,
  ECHO_SERVERS,
  emptyRow,
  progress,
  type RunContext,
  startServers,
  stopServers,
} from "./context.js";

export async function handshakePhase(context: RunContext): Promise<Table[]> {
  const started = await startServers(context, ECHO_SERVERS);
  try {
    const title = `connect, upgrade, close; ${HANDSHAKE_CONCURRENCY} in flight`;
    const cpu = emptyRow("handshake", title);
    const perSecond = emptyRow("handshake", title);
    for (const [kind, server] of started) {
      const measurement =
        server instanceof RunningServer
          ? await measureHandshakes(server, HANDSHAKE_CONCURRENCY, context.timing)
          : skipped(server.unavailable);
      cpu.measurements![kind] = measurement;
      cpu.values[kind] = measurement.serverCpuPerUnit;
      perSecond.values[kind] = measurement.rate;
      if (measurement.skipped !== null) cpu.notes[kind] = measurement.skipped;
      else if (measurement.errors > 0) cpu.notes[kind] = `${measurement.errors} errors`;
      progress(
        `[handshake] ${SERVER_LABELS[kind]}: ${describe(measurement, `${formatValue(measurement.serverCpuPerUnit, "µs")} µs CPU, ${formatValue(measurement.rate, "handshakes/s")}/s`)}`,
      );
    }
    cpu.limit = limitOf(cpu.measurements!.ours);
    perSecond.limit = cpu.limit;
    const raw: Table = {
      id: "handshake-cpu",
      title: "Server CPU per handshake",
      unit: "µs",
      better: "lower",
      columns: ECHO_SERVERS,
      labels: SERVER_LABELS,
      ratios: [
        { numerator: "ours", denominator: "ws" },
        { numerator: "raw", denominator: "ws" },
      ],
      rows: [cpu],
      footnotes: [
        "process.cpuUsage() of the server process (user + system) over the window, divided by the cycles completed. The raw TCP column is an accept, one read, one write and a close.",
      ],
    };
    const rates: Table = {
      id: "handshake-rate",
      title: "Handshake cycles per second",
      unit: "handshakes/s",
      better: "higher",
      columns: ECHO_SERVERS,
      labels: SERVER_LABELS,
      ratios: [{ numerator: "ours", denominator: "ws" }],
      rows: [perSecond],
      footnotes: ["On two cores the load generator's own TCP work caps this; compare CPU instead."],
    };
    return [raw, rates];
  } finally {
    await stopServers(started);
  }
}
