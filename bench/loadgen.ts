/**
 * The load generator process: `node loadgen.js '<job as JSON>'`. It uses raw
 * `net` sockets and frames built and masked ahead of time, and only finds
 * frame boundaries in what comes back, so its cost per message is a fraction
 * of any server's; running it against the raw TCP echo shows how much it can
 * drive.
 *
 * Replies `ready` (or `failed`) once warmed up, then answers `measure` with a
 * window of counts, `message-each` (idle job) with `done`, and exits on `stop`.
 *
 * @module
 */

import { type GeneratorCommand, type GeneratorReply, reply } from "./ipc.js";
import { startEcho } from "./loadgen/echo.js";
import { startHandshakes } from "./loadgen/handshakes.js";
import { IdleConnections } from "./loadgen/idle.js";
import type { Job } from "./loadgen/jobs.js";
import { Meter } from "./loadgen/meter.js";

const job = JSON.parse(process.argv[2] ?? "{}") as Job;
const meter = new Meter();
let idle: IdleConnections | null = null;

process.on("message", (message) => {
  const command = message as GeneratorCommand;
  if (command.type === "stop") process.exit(0);
  const answer: Promise<GeneratorReply> =
    command.type === "measure"
      ? meter.measure(command.ms)
      : idle !== null
        ? idle.messageEach()
        : Promise.resolve({ type: "failed", reason: "message-each needs an idle job" });
  answer.then(reply, (error: unknown) => reply({ type: "failed", reason: String(error) }));
});
process.on("disconnect", () => process.exit(0));

async function start(): Promise<GeneratorReply> {
  switch (job.kind) {
    case "echo":
      return startEcho(job, meter);
    case "handshake":
      return startHandshakes(job, meter);
    case "idle":
      idle = new IdleConnections(job, meter);
      return idle.open();
  }
}

start().then(reply, (error: unknown) =>
  reply({ type: "failed", reason: error instanceof Error ? error.message : String(error) }),
);
