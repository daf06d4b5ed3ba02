/** RFC 6455 §5.7's example frames, and frames parsed from bytes, for the frame tests. */

import assert from "node:assert/strict";
import type { Frame } from "../../src/core/frame.js";
import { FrameParser } from "../../src/core/frame-parser.js";
import { StreamReader } from "../../src/core/streams.js";
import { hex } from "./bytes.js";

/** The frames `chunks` hold, fed to a parser one by one; every byte must be consumed. */
export function parseAll(chunks: Uint8Array[], mask: boolean, maxMessageSize?: number): Frame[] {
  const reader = new StreamReader();
  const parser = new FrameParser({ mask });
  if (maxMessageSize !== undefined) parser.maxMessageSize = maxMessageSize;
  const frames: Frame[] = [];
  for (const chunk of chunks) {
    reader.feedData(chunk);
    for (let frame = parser.parse(reader); frame !== null; frame = parser.parse(reader)) {
      frames.push(frame);
    }
  }
  assert.equal(reader.length, 0, "every byte is consumed");
  return frames;
}

/** The one frame `bytes` hold, parsed from a copy (parsing unmasks in place). */
export function parseOne(bytes: Uint8Array, mask: boolean, maxMessageSize?: number): Frame {
  const frames = parseAll([bytes.slice()], mask, maxMessageSize);
  assert.equal(frames.length, 1);
  return frames[0]!;
}

// RFC 6455 §5.7 examples.
export const HELLO_UNMASKED = hex("81 05 48 65 6c 6c 6f");
export const HELLO_MASKED = hex("81 85 37 fa 21 3d 7f 9f 4d 51 58");
export const HEL = hex("01 03 48 65 6c");
export const LO = hex("80 02 6c 6f");
export const PING_HELLO = hex("89 05 48 65 6c 6c 6f");
export const PONG_HELLO_MASKED = hex("8a 85 37 fa 21 3d 7f 9f 4d 51 58");
