/**
 * The frame a job sends, and how to count the server's answers.
 *
 * @module
 */

import type { Buffer } from "node:buffer";
import { type PayloadSpec, payloadFor } from "../payloads.js";
import {
  ChunkCounter,
  type Counter,
  DEFLATE_OFFER,
  deflatePayload,
  FrameCounter,
  maskedFrame,
  upgradeRequest,
  WireOpcode,
} from "./wire.js";

/** The masked frame carrying `spec`'s payload. */
export function frameFor(spec: PayloadSpec): Buffer {
  const payload = payloadFor(spec);
  const opcode = spec.kind === "json" ? WireOpcode.TEXT : WireOpcode.BINARY;
  return spec.compress
    ? maskedFrame(opcode, deflatePayload(payload), true)
    : maskedFrame(opcode, payload);
}

/** The handshake request for a job, or `null` for raw TCP. */
export function requestFor(port: number, websocket: boolean, spec: PayloadSpec): Buffer | null {
  if (!websocket) return null;
  return upgradeRequest(port, spec.compress ? DEFLATE_OFFER : null);
}

/** A counter of the server's answers: frames, or for raw TCP the frame's size in bytes. */
export function counterFor(websocket: boolean, frame: Buffer): Counter {
  return websocket ? new FrameCounter() : new ChunkCounter(frame.length);
}

/** Why the job cannot run, when compression was wanted but not negotiated. */
export function compressionProblem(spec: PayloadSpec, extensions: string): string | null {
  if (!spec.compress || /^permessage-deflate\b/.test(extensions)) return null;
  return `server did not negotiate permessage-deflate (answered "${extensions}")`;
}
