/**
 * Message payloads: opaque bytes for throughput, and JSON text for the
 * compression workload (compressible the way application messages are,
 * unlike random bytes or a repeated letter).
 *
 * @module
 */

import { Buffer } from "node:buffer";

/** What a workload sends. */
export interface PayloadSpec {
  size: number;
  /** `binary`: a binary message of varied bytes; `json`: a text message of JSON records. */
  kind: "binary" | "json";
  /** Send it compressed with permessage-deflate (RSV1 set). */
  compress: boolean;
}

/** Deterministic varied bytes (a linear congruential sequence), so every run sends the same. */
export function binaryPayload(size: number): Buffer {
  const bytes = Buffer.allocUnsafe(size);
  let state = 0x2545f491;
  for (let i = 0; i < size; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    bytes[i] = state >>> 24;
  }
  return bytes;
}

const NAMES = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"] as const;

/** A JSON array of small records, exactly `size` bytes (whitespace pads it: still valid JSON). */
export function jsonPayload(size: number): Buffer {
  const records: string[] = [];
  // "[" and "]" plus a comma per record after the first.
  let length = 2;
  for (let i = 0; ; i++) {
    const record = JSON.stringify({
      id: 10_000 + i * 7,
      user: NAMES[i % NAMES.length],
      online: i % 3 !== 0,
      score: ((i * 37) % 1000) / 10,
      tags: ["ws", i % 2 === 0 ? "even" : "odd"],
    });
    const added = record.length + (records.length > 0 ? 1 : 0);
    if (length + added > size) break;
    records.push(record);
    length += added;
  }
  return Buffer.from(`[${records.join(",")}${" ".repeat(size - length)}]`);
}

/** The payload a spec describes, uncompressed. */
export function payloadFor(spec: PayloadSpec): Buffer {
  return spec.kind === "json" ? jsonPayload(spec.size) : binaryPayload(spec.size);
}
