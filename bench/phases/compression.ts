/**
 * The compression phase: permessage-deflate echo throughput, CPU per
 * message, and memory per connection after a compressed message, ours
 * against `ws`. Ours is skipped with a note while it does not negotiate it.
 *
 * @module
 */

import { SERVER_LABELS, ServerKind } from "../kinds.js";
import type { Ratio, Row, Table } from "../report.js";
import { COMPRESSED_PAYLOAD, compressionWorkloads } from "../workloads.js";
import { type RunContext, startServers, stopServers } from "./context.js";
import { echoRows } from "./echo.js";
import { measureMemoryOf, memoryRows } from "./memory.js";

export async function compressionPhase(context: RunContext): Promise<Table[]> {
  const kinds: ServerKind[] = [ServerKind.WS_DEFLATE, ServerKind.OURS_DEFLATE];
  const ratios: Ratio[] = [{ numerator: "ours-deflate", denominator: "ws-deflate" }];
  const started = await startServers(context, kinds);
  let rows: Row[];
  let cpu: Row[];
  try {
    ({ rows, cpu } = await echoRows(
      context,
      "compression",
      compressionWorkloads(),
      started,
      "msg/s",
      "ours-deflate",
    ));
  } finally {
    await stopServers(started);
  }
  const memory = await measureMemoryOf(
    kinds,
    context.timing.compressedConnections,
    COMPRESSED_PAYLOAD,
  );
  return [
    {
      id: "compression",
      title: "permessage-deflate echo",
      unit: "msg/s",
      better: "higher",
      columns: kinds,
      labels: SERVER_LABELS,
      ratios,
      rows,
      footnotes: [
        "Each client frame is pre-compressed JSON text; servers decompress, validate UTF-8, and compress the echo with their default settings (context takeover).",
      ],
    },
    {
      id: "compression-cpu",
      title: "permessage-deflate, server CPU per message",
      unit: "µs",
      better: "lower",
      columns: kinds,
      labels: SERVER_LABELS,
      ratios,
      rows: cpu,
      footnotes: [],
    },
    {
      id: "compression-memory",
      title: `permessage-deflate memory per connection, ${context.timing.compressedConnections} connections`,
      unit: "B",
      better: "lower",
      columns: kinds,
      labels: SERVER_LABELS,
      ratios,
      rows: memoryRows(memory, false).filter((row) => row.id.startsWith("after")),
      footnotes: ["After one compressed 2 KiB JSON message echoed on each connection."],
    },
  ];
}
