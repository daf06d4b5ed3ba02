/**
 * What a {@link PerMessageDeflate} extension is built with: the parameters a
 * negotiation settled (RFC 7692 §7.1) and the settings of its compressor,
 * and their validation, shared by the extension and its factories.
 *
 * @module
 */

import { constants as zlibConstants } from "node:zlib";
import { describeValue, numberOptionError } from "../describe-value.js";
import type { PerMessageDeflate } from "./permessage-deflate.js";

/** RFC 7692 §7.1.2: without a limit, the window is 32,768 bytes. */
export const MAX_WINDOW_BITS = 15;

/** zlib settings of the compressor, and when to use it. */
export interface DeflateSettings {
  /** zlib compression level, 0 (none) to 9 (best), or -1 for zlib's default (6). Default: -1. */
  readonly level?: number | undefined;
  /**
   * zlib memory level, 1 to 9: memory for the match-finding hash table,
   * traded for speed and ratio. Default: 8 (zlib's).
   */
  readonly memLevel?: number | undefined;
  /** Messages of fewer bytes than this are sent uncompressed. Fragmented messages are always compressed. Default: 0. */
  readonly threshold?: number | undefined;
  /**
   * Lets zlib streams live between messages. Called when the extension opens
   * a stream while it keeps none; the caller then calls
   * {@link PerMessageDeflate.releaseIfIdle} (or
   * {@link PerMessageDeflate.releaseIdleState}) from time to time, e.g. once
   * per event-loop turn, until it returns `true`. Without it, each message
   * opens its streams from the sliding windows and closes them: the least
   * memory, and more CPU per message, most of it for small messages (zlib
   * hashes the window again each time).
   */
  readonly scheduleRelease?: ((extension: PerMessageDeflate) => void) | undefined;
}

/** What a negotiation settled, from one endpoint's point of view. */
export interface PerMessageDeflateParameters {
  /** This side compresses each message on its own. */
  readonly localNoContextTakeover: boolean;
  /** The peer compresses each message on its own, so no window is kept for it. */
  readonly remoteNoContextTakeover: boolean;
  /** This side compresses with a window of 2^localMaxWindowBits bytes. */
  readonly localMaxWindowBits: number;
  /** The peer compresses with a window of at most 2^remoteMaxWindowBits bytes. */
  readonly remoteMaxWindowBits: number;
}

/** @throws RangeError unless `bits` is a window size RFC 7692 §7.1.2 allows: 8 to 15. */
export function checkWindowBits(bits: number, option: string): void {
  if (!Number.isInteger(bits) || bits < 8 || bits > MAX_WINDOW_BITS) {
    throw numberOptionError(
      bits,
      `${option} must be an integer from 8 to 15, got ${describeValue(bits)}`,
    );
  }
}

/** Validates {@link DeflateSettings} and applies their defaults. */
export function checkSettings(settings: DeflateSettings): {
  level: number;
  memLevel: number;
  threshold: number;
} {
  const { level = zlibConstants.Z_DEFAULT_COMPRESSION, memLevel = 8, threshold = 0 } = settings;
  if (!Number.isInteger(level) || level < -1 || level > 9) {
    throw numberOptionError(
      level,
      `level must be an integer from -1 to 9, got ${describeValue(level)}`,
    );
  }
  if (!Number.isInteger(memLevel) || memLevel < 1 || memLevel > 9) {
    throw numberOptionError(
      memLevel,
      `memLevel must be an integer from 1 to 9, got ${describeValue(memLevel)}`,
    );
  }
  if (!(typeof threshold === "number" && threshold >= 0)) {
    throw numberOptionError(
      threshold,
      `threshold must be 0 or more, got ${describeValue(threshold)}`,
    );
  }
  const { scheduleRelease } = settings;
  if (scheduleRelease !== undefined && typeof scheduleRelease !== "function") {
    throw new TypeError("scheduleRelease must be a function");
  }
  return { level, memLevel, threshold };
}
