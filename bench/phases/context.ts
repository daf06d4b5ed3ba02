/**
 * What every phase of the suite shares: the timing, the notes about the
 * servers, progress lines, and helpers to start servers and build rows.
 *
 * @module
 */

import { SERVER_LABELS, ServerKind } from "../kinds.js";
import type { Machine } from "../machine.js";
import { type Measurement, RunningServer } from "../measure.js";
import type { Ratio, Row, Table } from "../report.js";
import type { Timing } from "../workloads.js";

/** One run's settings and shared notes. */
export interface RunContext {
  timing: Timing;
  quick: boolean;
  machine: Machine;
  /** What each server loaded, or why it was skipped, by column label. */
  serverNotes: Map<string, string>;
}

/** A family of workloads: runs them and returns its tables. */
export type Phase = (context: RunContext) => Promise<Table[]>;

/** The peers of the plain (uncompressed) workloads: the ceiling first, ours last. */
export const ECHO_SERVERS: ServerKind[] = [
  ServerKind.RAW,
  ServerKind.UWS,
  ServerKind.WS,
  ServerKind.WS_NATIVE,
  ServerKind.OURS,
];

export const ECHO_RATIOS: Ratio[] = [
  { numerator: "ours", denominator: "ws" },
  { numerator: "ours", denominator: "ws-native" },
  { numerator: "ours", denominator: "uws" },
  { numerator: "ours", denominator: "raw" },
];

/** A line on stderr, so that stdout carries only the report. */
export function progress(text: string): void {
  process.stderr.write(`${text}\n`);
}

/** Servers by kind, or why one could not start. */
export type Started = Map<ServerKind, RunningServer | { unavailable: string }>;

/** Starts servers one after the other and records their notes. */
export async function startServers(context: RunContext, kinds: ServerKind[]): Promise<Started> {
  const started: Started = new Map();
  for (const kind of kinds) {
    const server = await RunningServer.start(kind);
    started.set(kind, server);
    const note =
      server instanceof RunningServer
        ? server.notes.join(", ")
        : `unavailable, skipped: ${server.unavailable}`;
    if (note !== "") context.serverNotes.set(SERVER_LABELS[kind], note);
  }
  return started;
}

export async function stopServers(started: Started): Promise<void> {
  for (const server of started.values()) {
    if (server instanceof RunningServer) await server[Symbol.asyncDispose]();
  }
}

export function emptyRow(id: string, title: string): Row {
  return { id, title, values: {}, notes: {}, limit: null, measurements: {} };
}

/** A progress line's account of a measurement. */
export function describe(measurement: Measurement, value: string): string {
  if (measurement.skipped !== null) return `skipped: ${measurement.skipped}`;
  const load = (x: number | null) => (x === null ? "?" : `${Math.round(x * 100)}%`);
  const errors = measurement.errors > 0 ? `, ${measurement.errors} errors` : "";
  return `${value} (server ${load(measurement.serverLoad)}, generator ${load(measurement.generatorLoad)}, others ${load(measurement.otherLoad)}${errors})`;
}
