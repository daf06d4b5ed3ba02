/**
 * The handshake phase: server CPU per connect-upgrade-close cycle, and cycles
 * per second.
 *
 * @module
 */

import { SERVER_LABELS, type ServerKind } from "../kinds.js";
import {
  combineMeasurements,
  type Measurement,
  measureHandshakes,
  RunningServer,
  skipped,
} from "../measure.js";
import { formatValue, limitOf, type Table } from "../report.js";
import { HANDSHAKE_CONCURRENCY } from "../workloads.js";
import {
  describe,
  ECHO_SERVERS,
  emptyRow,
  progress,
  type RunContext,
  type Started,
  startServers,
  stopServers,
} from "./context.js";

export async function handshakePhase(context: RunContext): Promise<Table[]> {
  const started = await startServers(context, ECHO_SERVERS);
  try {
    const title = `connect, upgrade, close; ${HANDSHAKE_CONCURRENCY} in flight`;
    const cpu = emptyRow("handshake", title);
    const perSecond = emptyRow("handshake", title);
    const measured = await handshakeRounds(started, context);
    for (const [kind, server] of started) {
      const measurement =
        measured.get(kind) ??
        skipped(server instanceof RunningServer ? "not measured" : server.unavailable);
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

/**
 * Handshake windows in rounds, the servers taking turns (in a different
 * order each round), as the echo workloads take theirs: measured one server
 * after the other, the machine's drift over a minute moved `ws`'s CPU per
 * handshake from 232 to 135 µs between two runs while the raw echo's stayed
 * at 87. Medians over the rounds.
 */
async function handshakeRounds(
  started: Started,
  context: RunContext,
): Promise<Map<ServerKind, Measurement>> {
  const running = [...started].filter(
    (entry): entry is [ServerKind, RunningServer] => entry[1] instanceof RunningServer,
  );
  const rounds = new Map<ServerKind, Measurement[]>(running.map(([kind]) => [kind, []]));
  const { timing } = context;
  for (let round = 0; round < timing.repeats; round++) {
    const warmupMs = round === 0 ? timing.warmupMs : Math.round(timing.warmupMs / 2);
    for (let turn = 0; turn < running.length; turn++) {
      const [kind, server] = running[(round + turn) % running.length]!;
      const measurement = await measureHandshakes(server, HANDSHAKE_CONCURRENCY, {
        ...timing,
        warmupMs,
        repeats: 1,
      });
      rounds.get(kind)!.push(measurement);
    }
  }
  return new Map(
    [...rounds].map(([kind, measurements]) => [kind, combineMeasurements(measurements)]),
  );
}
