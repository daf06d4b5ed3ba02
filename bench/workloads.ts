/**
 * The workloads of the suite, named so one can be run alone (`--only`,
 * `profile.js`), and the timing of quick and full runs.
 *
 * @module
 */

import type { EchoJob } from "./loadgen/jobs.js";
import type { PayloadSpec } from "./payloads.js";

/** How long things run. */
export interface Timing {
  /** Traffic before the first measurement window. */
  warmupMs: number;
  /** Measurement windows per workload and server; the tables show their median. */
  repeats: number;
  windowMs: number;
  /** Connections of the idle-memory workload (the issue asks for 10,000). */
  idleConnections: number;
  /** Connections of the compression memory workload (each holds zlib state in `ws`). */
  compressedConnections: number;
}

export const QUICK: Timing = {
  warmupMs: 150,
  repeats: 3,
  windowMs: 250,
  idleConnections: 10_000,
  compressedConnections: 500,
};

export const FULL: Timing = {
  warmupMs: 1000,
  repeats: 5,
  windowMs: 1500,
  idleConnections: 10_000,
  compressedConnections: 1000,
};

/** An echo workload, whatever the server. */
export interface EchoWorkload {
  id: string;
  /** Row heading: "16 B, 16 conns, pipelined". */
  title: string;
  job: Omit<EchoJob, "kind" | "port" | "websocket" | "warmupMs">;
}

const BINARY = (size: number): PayloadSpec => ({ size, kind: "binary", compress: false });

function sizeName(size: number): string {
  if (size >= 1024 * 1024) return `${size / 1024 / 1024} MiB`;
  if (size >= 1024) return `${size / 1024} KiB`;
  return `${size} B`;
}

/**
 * 16 B and 1 KiB; 1, 16, 256 connections; pipelined and ping-pong. The quick
 * run leaves out 1 KiB ping-pong, which adds little to 16 B ping-pong.
 */
export function smallEchoWorkloads(quick: boolean): EchoWorkload[] {
  const workloads: EchoWorkload[] = [];
  for (const mode of ["pipelined", "pingpong"] as const) {
    for (const size of mode === "pingpong" && quick ? [16] : [16, 1024]) {
      for (const connections of [1, 16, 256]) {
        // The same pipeline on every connection: 64 messages of 16 B (16 of
        // 1 KiB) per write, 4 writes in flight. Spreading a fixed total over
        // 256 connections instead left 1 to 4 messages per write, and the
        // load generator's system calls, not the server, set the rate.
        const batch = size <= 64 ? 64 : 16;
        workloads.push({
          id: `small-${size}-${connections}-${mode}`,
          title: `${sizeName(size)}, ${connections} conn${connections > 1 ? "s" : ""}, ${mode === "pingpong" ? "ping-pong" : "pipelined"}`,
          job: {
            connections,
            payload: BINARY(size),
            mode,
            batch,
            window: 4,
          },
        });
      }
    }
  }
  return workloads;
}

/** 64 KiB, 1 MiB, 16 MiB over one connection, two messages in flight. */
export function largeEchoWorkloads(): EchoWorkload[] {
  return [64 * 1024, 1024 * 1024, 16 * 1024 * 1024].map((size) => ({
    id: `large-${size}`,
    title: `${sizeName(size)}, 1 conn, 2 in flight`,
    job: { connections: 1, payload: BINARY(size), mode: "pipelined", batch: 1, window: 2 },
  }));
}

/** The compressed message: 2 KiB of JSON text, above `ws`'s 1 KiB compression threshold. */
export const COMPRESSED_PAYLOAD: PayloadSpec = { size: 2048, kind: "json", compress: true };

export function compressionWorkloads(): EchoWorkload[] {
  return [
    {
      id: "deflate-2048-16-pipelined",
      title: "2 KiB JSON, 16 conns, pipelined",
      job: { connections: 16, payload: COMPRESSED_PAYLOAD, mode: "pipelined", batch: 8, window: 4 },
    },
  ];
}

/** Client workloads: each client library against the same fast server. */
export interface ClientWorkload {
  id: string;
  title: string;
  connections: number;
  size: number;
  /** Messages each connection keeps in flight. */
  inFlight: number;
}

export function clientWorkloads(): ClientWorkload[] {
  return [
    {
      id: "client-16-16",
      title: "16 B, 16 conns, 64 in flight",
      connections: 16,
      size: 16,
      inFlight: 64,
    },
    {
      id: "client-1mib-1",
      title: "1 MiB, 1 conn, 2 in flight",
      connections: 1,
      size: 1024 * 1024,
      inFlight: 2,
    },
  ];
}

/** The one message each idle connection echoes in the memory workload. */
export const MEMORY_MESSAGE_SIZE = 1024;

/** Handshakes in flight while opening the idle connections. */
export const IDLE_OPEN_CONCURRENCY = 128;

/** Handshake cycles in flight at once. */
export const HANDSHAKE_CONCURRENCY = 32;
