/**
 * What the orchestrator asks a load generator to do, passed as JSON in argv.
 *
 * @module
 */

import type { PayloadSpec } from "../payloads.js";

/** Messages echoed over `connections` connections. */
export interface EchoJob {
  kind: "echo";
  port: number;
  /** false for the raw TCP echo: no handshake, units are counted in bytes. */
  websocket: boolean;
  connections: number;
  payload: PayloadSpec;
  /**
   * `pingpong`: one message in flight per connection, latencies recorded.
   * `pipelined`: messages written `batch` at a time, up to `window` batches in flight.
   */
  mode: "pingpong" | "pipelined";
  batch: number;
  window: number;
  warmupMs: number;
}

/** Back-to-back handshake cycles: connect, upgrade, close frame, TCP close. */
export interface HandshakeJob {
  kind: "handshake";
  port: number;
  websocket: boolean;
  /** Cycles running in parallel. */
  concurrency: number;
  warmupMs: number;
}

/** Many idle connections, then one message on each. */
export interface IdleJob {
  kind: "idle";
  port: number;
  websocket: boolean;
  connections: number;
  /** Handshakes in flight while opening them. */
  concurrency: number;
  payload: PayloadSpec;
}

export type Job = EchoJob | HandshakeJob | IdleJob;
