/**
 * RFC 6455 §5.2: frame serialization. The header is written in place, and
 * the payload masked (§5.3) or copied after it, or sent as it is.
 *
 * @module
 */

import type { Frame } from "./frame.js";
import { applyMask } from "./mask.js";

/** Longest payload copied next to its header in one chunk instead of sent as its own chunk. */
export const COALESCE_LIMIT = 1024;

/** The header's length: RFC 6455 §5.2 base header, extended length, masking key. */
export function headerLength(length: number, masked: boolean): number {
  return 2 + (length < 126 ? 0 : length < 0x10000 ? 2 : 8) + (masked ? 4 : 0);
}

/**
 * The first header byte of `frame` (RFC 6455 §5.2): FIN, RSV1-3 and the opcode.
 */
export function firstByteOf(frame: Frame): number {
  return (
    (frame.fin ? 0x80 : 0) |
    (frame.rsv1 ? 0x40 : 0) |
    (frame.rsv2 ? 0x20 : 0) |
    (frame.rsv3 ? 0x10 : 0) |
    frame.opcode
  );
}

/**
 * Writes the RFC 6455 §5.2 header of a frame at `offset`: `firstByte` (see
 * {@link firstByteOf}), the payload `length` and the masking key; returns
 * where the payload goes.
 */
export function writeHeader(
  buffer: Uint8Array,
  offset: number,
  firstByte: number,
  length: number,
  maskKey: Uint8Array | null,
): number {
  buffer[offset] = firstByte;
  const maskBit = maskKey === null ? 0 : 0x80;
  let end = offset + 2;
  if (length < 126) {
    buffer[offset + 1] = maskBit | length;
  } else if (length < 0x10000) {
    buffer[offset + 1] = maskBit | 126;
    buffer[offset + 2] = length >>> 8;
    buffer[offset + 3] = length & 0xff;
    end += 2;
  } else {
    buffer[offset + 1] = maskBit | 127;
    const high = Math.floor(length / 0x100000000);
    buffer[offset + 2] = high >>> 24;
    buffer[offset + 3] = (high >>> 16) & 0xff;
    buffer[offset + 4] = (high >>> 8) & 0xff;
    buffer[offset + 5] = high & 0xff;
    buffer[offset + 6] = length >>> 24;
    buffer[offset + 7] = (length >>> 16) & 0xff;
    buffer[offset + 8] = (length >>> 8) & 0xff;
    buffer[offset + 9] = length & 0xff;
    end += 8;
  }
  if (maskKey !== null) {
    buffer[end] = maskKey[0]!;
    buffer[end + 1] = maskKey[1]!;
    buffer[end + 2] = maskKey[2]!;
    buffer[end + 3] = maskKey[3]!;
    end += 4;
  }
  return end;
}

/** Writes the payload after its header: masked with `maskKey` (RFC 6455 §5.3), or copied. */
export function writePayload(
  buffer: Uint8Array,
  offset: number,
  data: Uint8Array,
  maskKey: Uint8Array | null,
): void {
  if (maskKey !== null) applyMask(data, maskKey, buffer.subarray(offset));
  else if (data.length > 0) buffer.set(data, offset);
}

/**
 * Serializes a frame into chunks to write in order. With `maskKey` (a client)
 * the payload is masked into a fresh buffer next to the header; without, small
 * payloads share the header's buffer and large ones are sent as they are,
 * without copying.
 */
export function serializeFrame(frame: Frame, maskKey: Uint8Array | null): Uint8Array[] {
  const data = frame.data;
  const length = data.length;
  const inline = maskKey !== null || length <= COALESCE_LIMIT;
  const headerSize = headerLength(length, maskKey !== null);
  const buffer = new Uint8Array(inline ? headerSize + length : headerSize);
  writeHeader(buffer, 0, firstByteOf(frame), length, maskKey);
  if (!inline) return [buffer, data];
  writePayload(buffer, headerSize, data, maskKey);
  return [buffer];
}
