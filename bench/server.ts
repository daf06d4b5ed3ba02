/**
 * A benchmark server process: `node server.js <kind>`. Reports its port over
 * IPC, then answers `usage` requests (CPU time and memory, optionally after
 * two full garbage collections when started with `--expose-gc`) until `stop`.
 *
 * @module
 */

import { cpuSince, reply, type ServerCommand } from "./ipc.js";
import { ServerKind } from "./kinds.js";
import { startOurs } from "./servers/ours.js";
import { startRaw } from "./servers/raw.js";
import type { Started } from "./servers/started.js";
import { startUws } from "./servers/uws.js";
import { startWs } from "./servers/ws.js";

function start(kind: string): Promise<Started> {
  switch (kind) {
    case ServerKind.RAW:
      return startRaw();
    case ServerKind.UWS:
      return startUws();
    case ServerKind.WS:
    case ServerKind.WS_NATIVE:
      return startWs(false);
    case ServerKind.WS_DEFLATE:
      return startWs(true);
    case ServerKind.OURS:
      return startOurs(false);
    case ServerKind.OURS_DEFLATE:
      return startOurs(true);
    default:
      throw new Error(`unknown server kind: ${kind}`);
  }
}

const ZERO = { user: 0, system: 0 };

function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  // Twice: the first pass may only schedule finalizers whose objects the second frees.
  gc?.();
  gc?.();
}

process.on("message", (message) => {
  const command = message as ServerCommand;
  if (command.type === "stop") {
    // exit() rather than a signal, so that --cpu-prof writes its profile.
    process.exit(0);
  }
  if (command.type === "usage") {
    if (command.gc) collectGarbage();
    const memory = process.memoryUsage();
    reply({
      type: "usage",
      cpu: cpuSince(ZERO),
      rss: memory.rss,
      heapUsed: memory.heapUsed,
      external: memory.external,
      arrayBuffers: memory.arrayBuffers,
    });
  }
});
process.on("disconnect", () => process.exit(0));

try {
  const started = await start(process.argv[2] ?? "");
  reply({ type: "listening", port: started.port, notes: started.notes });
} catch (error) {
  reply({ type: "unavailable", reason: error instanceof Error ? error.message : String(error) });
  process.disconnect?.();
}
