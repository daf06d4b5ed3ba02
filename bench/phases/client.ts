/**
 * The client phase: our client, the `ws` client and Node's built-in
 * WebSocket, each in its own process, against the fastest server available.
 *
 * @module
 */

import { CLIENT_LABELS, ClientKind, SERVER_LABELS, ServerKind } from "../kinds.js";
import {
  combineMeasurements,
  type Measurement,
  measureClient,
  RunningServer,
  skipped,
} from "../measure.js";
import { nodeWebSocketFlags } from "../node-websocket.js";
import { formatValue, limitOf, type Ratio, type Row, type Table } from "../report.js";
import { clientWorkloads } from "../workloads.js";
import {
  describe,
  emptyRow,
  progress,
  type RunContext,
  startServers,
  stopServers,
} from "./context.js";

export async function clientPhase(context: RunContext): Promise<Table[]> {
  // The fastest server available, so that the clients are what is measured.
  let started = await startServers(context, [ServerKind.UWS]);
  let server = started.get(ServerKind.UWS);
  if (!(server instanceof RunningServer)) {
    started = await startServers(context, [ServerKind.WS_NATIVE]);
    server = started.get(ServerKind.WS_NATIVE);
  }
  const clients = [ClientKind.OURS, ClientKind.WS, ClientKind.NODE];
  const nodeFlags = nodeWebSocketFlags();
  const rates: Row[] = [];
  const cpu: Row[] = [];
  try {
    for (const workload of clientWorkloads()) {
      const row = emptyRow(workload.id, workload.title);
      const cpuRow = emptyRow(workload.id, workload.title);
      const measured = await clientRounds(
        server instanceof RunningServer ? server : null,
        clients,
        workload,
        context,
        nodeFlags,
      );
      for (const client of clients) {
        const measurement = measured.get(client)!;
        row.measurements![client] = measurement;
        row.values[client] = measurement.rate;
        cpuRow.values[client] = measurement.generatorCpuPerUnit;
        if (measurement.skipped !== null) row.notes[client] = measurement.skipped;
        progress(
          `[client] ${workload.title} · ${CLIENT_LABELS[client]}: ${describe(measurement, formatValue(measurement.rate, "msg/s"))}`,
        );
      }
      row.limit = limitOf(row.measurements!.ours, "client");
      rates.push(row);
      cpu.push(cpuRow);
    }
  } finally {
    await stopServers(started);
  }
  const serverName = server instanceof RunningServer ? SERVER_LABELS[server.kind] : "none";
  const columns: string[] = clients;
  const ratios: Ratio[] = [
    { numerator: "ours", denominator: "ws" },
    { numerator: "ours", denominator: "node" },
  ];
  return [
    {
      id: "clients",
      title: `Clients against ${serverName}, echo`,
      unit: "msg/s",
      better: "higher",
      columns,
      labels: CLIENT_LABELS,
      ratios,
      rows: rates,
      footnotes: [
        `Node's WebSocket runs with ${nodeFlags === null || nodeFlags.length === 0 ? "no flag" : nodeFlags.join(" ")}; ws with the addons installed.`,
      ],
    },
    {
      id: "clients-cpu",
      title: "Client CPU per message",
      unit: "µs",
      better: "lower",
      columns,
      labels: CLIENT_LABELS,
      ratios,
      rows: cpu,
      footnotes: [],
    },
  ];
}

/**
 * Measures every client on `workload` in rounds of one window each, the
 * clients taking turns (in a different order each round), each window in a
 * new process warmed up in full: the machine drifts over minutes, and how a
 * process's C allocator lays out its heap decides, for the life of that
 * process, whether large messages land on pages the kernel faults in again
 * (see the large echo phase). Medians over the rounds.
 */
async function clientRounds(
  server: RunningServer | null,
  clients: ClientKind[],
  workload: ReturnType<typeof clientWorkloads>[number],
  context: RunContext,
  nodeFlags: string[] | null,
): Promise<Map<ClientKind, Measurement>> {
  const rounds = new Map<ClientKind, Measurement[]>(clients.map((client) => [client, []]));
  for (let round = 0; round < context.timing.repeats; round++) {
    for (let turn = 0; turn < clients.length; turn++) {
      const client = clients[(round + turn) % clients.length]!;
      let measurement: Measurement;
      if (server === null) {
        measurement = skipped("no server");
      } else if (client === ClientKind.NODE && nodeFlags === null) {
        measurement = skipped(`no WebSocket in Node ${process.version}`);
      } else {
        measurement = await measureClient(
          server,
          client,
          { connections: workload.connections, size: workload.size, inFlight: workload.inFlight },
          { ...context.timing, repeats: 1 },
          client === ClientKind.NODE ? (nodeFlags ?? []) : [],
        );
      }
      rounds.get(client)!.push(measurement);
    }
  }
  return new Map(
    [...rounds].map(([client, measurements]) => [client, combineMeasurements(measurements)]),
  );
}
