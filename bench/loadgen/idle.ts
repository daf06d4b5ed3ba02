/**
 * The memory workload: many idle connections, then exactly one message
 * echoed on each, so the server's memory can be read in both states.
 *
 * @module
 */

import type { Done, Failed, Ready } from "../ipc.js";
import { type Opened, open, openMany } from "./connect.js";
import { compressionProblem, counterFor, frameFor, requestFor } from "./frames.js";
import type { IdleJob } from "./jobs.js";
import type { Meter } from "./meter.js";

export class IdleConnections {
  private connections: Opened[] = [];

  constructor(
    private readonly job: IdleJob,
    private readonly meter: Meter,
  ) {}

  async open(): Promise<Ready | Failed> {
    const { job } = this;
    const request = requestFor(job.port, job.websocket, job.payload);
    this.connections = await openMany(job.connections, job.concurrency, () =>
      open(job.port, request),
    );
    for (const { socket } of this.connections) socket.on("error", () => this.meter.errors++);
    const extensions = this.connections[0]?.extensions ?? "";
    const problem = compressionProblem(job.payload, extensions);
    if (problem !== null) return { type: "failed", reason: problem };
    return { type: "ready", extensions, errors: this.meter.errors };
  }

  /** Sends one message on every connection and resolves once every echo is back. */
  async messageEach(): Promise<Done> {
    const frame = frameFor(this.job.payload);
    await Promise.all(
      this.connections.map(
        (connection) =>
          new Promise<void>((resolve) => {
            const { socket } = connection;
            const counter = counterFor(this.job.websocket, frame);
            connection.listen((chunk) => {
              this.meter.bytes += chunk.length;
              if (counter.feed(chunk) === 0) return;
              this.meter.count++;
              connection.listen(null);
              resolve();
            });
            socket.once("close", () => resolve());
            socket.write(frame);
          }),
      ),
    );
    return { type: "done", errors: this.meter.errors };
  }
}
