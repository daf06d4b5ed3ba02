/**
 * The handshake workload: `concurrency` loops of connect, upgrade, close
 * frame, and wait for the server to close; the raw TCP echo gets the same
 * request bytes, echoes them, and is closed by the generator, which is what a
 * TCP accept with one read and one write costs.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import * as net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import type { Ready } from "../ipc.js";
import type { HandshakeJob } from "./jobs.js";
import type { Meter } from "./meter.js";
import { CLOSE_FRAME, splitResponse, upgradeRequest } from "./wire.js";

export async function startHandshakes(job: HandshakeJob, meter: Meter): Promise<Ready> {
  const request = upgradeRequest(job.port, null);
  const cycle = () => {
    const socket = net.connect({ port: job.port, host: "127.0.0.1", noDelay: true });
    let received = Buffer.alloc(0);
    let done = false;
    socket.on("connect", () => socket.write(request));
    socket.on("data", (chunk: Buffer) => {
      if (done) return;
      received = Buffer.concat([received, chunk]);
      if (job.websocket) {
        const response = splitResponse(received);
        if (response === null) return;
        if (response.status !== 101) meter.errors++;
        done = true;
        // RFC 6455 §7.1.1: the server closes the TCP connection first.
        socket.write(CLOSE_FRAME);
      } else if (received.length >= request.length) {
        done = true;
        socket.end();
      }
    });
    socket.on("error", () => meter.errors++);
    socket.on("close", () => {
      if (done) meter.count++;
      cycle();
    });
  };
  for (let i = 0; i < job.concurrency; i++) cycle();
  await sleep(job.warmupMs);
  return { type: "ready", extensions: "", errors: meter.errors };
}
