/**
 * The echo workloads: every connection sends pre-built frames and counts the
 * frames that come back, either one at a time (ping-pong, which measures
 * latency) or many in flight (pipelined, which measures throughput).
 *
 * @module
 */

import type { Buffer } from "node:buffer";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import type { Failed, Ready } from "../ipc.js";
import { type Opened, open, openMany } from "./connect.js";
import { compressionProblem, counterFor, frameFor, requestFor } from "./frames.js";
import type { EchoJob } from "./jobs.js";
import type { Meter } from "./meter.js";
import { repeated } from "./wire.js";

/** Opens the connections, starts the traffic, warms up, and says whether it is running. */
export async function startEcho(job: EchoJob, meter: Meter): Promise<Ready | Failed> {
  const frame = frameFor(job.payload);
  const request = requestFor(job.port, job.websocket, job.payload);
  const connections = await openMany(job.connections, 64, () => open(job.port, request));
  const problem = compressionProblem(job.payload, connections[0]?.extensions ?? "");
  if (problem !== null) return { type: "failed", reason: problem };
  const batch = job.mode === "pingpong" ? frame : repeated(frame, job.batch);
  for (const connection of connections) {
    connection.socket.on("error", () => meter.errors++);
    if (job.mode === "pingpong") pingPong(connection, job.websocket, frame, meter);
    else pipeline(connection, job.websocket, frame, batch, job, meter);
  }
  await sleep(job.warmupMs);
  return { type: "ready", extensions: connections[0]?.extensions ?? "", errors: meter.errors };
}

function pingPong(connection: Opened, websocket: boolean, frame: Buffer, meter: Meter): void {
  const { socket } = connection;
  const counter = counterFor(websocket, frame);
  let sentAt = performance.now();
  connection.listen((chunk) => {
    meter.bytes += chunk.length;
    const done = counter.feed(chunk);
    if (done === 0) return;
    meter.count += done;
    const now = performance.now();
    meter.latency(now - sentAt);
    sentAt = now;
    socket.write(frame);
  });
  counter.feed(connection.rest);
  socket.write(frame);
}

function pipeline(
  connection: Opened,
  websocket: boolean,
  frame: Buffer,
  batch: Buffer,
  job: EchoJob,
  meter: Meter,
): void {
  const { socket } = connection;
  const counter = counterFor(websocket, frame);
  // Top up to `window` batches whenever a whole batch has come back.
  const lowWater = (job.window - 1) * job.batch;
  let inFlight = 0;
  const refill = () => {
    while (inFlight <= lowWater) {
      socket.write(batch);
      inFlight += job.batch;
    }
  };
  connection.listen((chunk) => {
    meter.bytes += chunk.length;
    const done = counter.feed(chunk);
    if (done === 0) return;
    meter.count += done;
    inFlight -= done;
    refill();
  });
  counter.feed(connection.rest);
  refill();
}
