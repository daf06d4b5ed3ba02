/**
 * A client process: `node client.js '<job as JSON>'` runs one client library
 * against the server, then answers `measure` like the load generator does.
 * Its own CPU time per message is the number that compares clients; the
 * server, uWebSockets.js where it loads, is chosen to be faster than them.
 *
 * @module
 */

import { setTimeout as sleep } from "node:timers/promises";
import type { ClientJob } from "./clients/job.js";
import { runNode } from "./clients/node.js";
import { runOurs } from "./clients/ours.js";
import { runWs } from "./clients/ws.js";
import { type GeneratorCommand, type GeneratorReply, reply } from "./ipc.js";
import { ClientKind } from "./kinds.js";
import { Meter } from "./loadgen/meter.js";
import { binaryPayload } from "./payloads.js";

const job = JSON.parse(process.argv[2] ?? "{}") as ClientJob;
const meter = new Meter();

process.on("message", (message) => {
  const command = message as GeneratorCommand;
  if (command.type === "stop") process.exit(0);
  if (command.type === "measure") meter.measure(command.ms).then(reply);
});
process.on("disconnect", () => process.exit(0));

const run =
  job.client === ClientKind.OURS ? runOurs : job.client === ClientKind.WS ? runWs : runNode;

async function start(): Promise<GeneratorReply> {
  const payload = binaryPayload(job.size);
  const onMessage = (bytes: number) => {
    meter.count++;
    meter.bytes += bytes;
  };
  await Promise.all(
    Array.from({ length: job.connections }, () => run(job.url, payload, job.inFlight, onMessage)),
  );
  await sleep(job.warmupMs);
  return { type: "ready", extensions: "", errors: 0 };
}

start().then(reply, (error: unknown) =>
  reply({ type: "failed", reason: error instanceof Error ? error.message : String(error) }),
);
