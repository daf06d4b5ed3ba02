/**
 * What a client process runs: one client library, many echoes in flight.
 *
 * @module
 */

import type { ClientKind } from "../kinds.js";

export interface ClientJob {
  client: ClientKind;
  url: string;
  connections: number;
  size: number;
  inFlight: number;
  warmupMs: number;
}

/** Counts a received message of `bytes` bytes; the client then sends the next one. */
export type OnMessage = (bytes: number) => void;
