/**
 * The WebSocket wire format, as much of it as a load generator needs: masked
 * client frames built once, ahead of time, and a counter that finds frame
 * boundaries in the server's output without decoding anything.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { deflateRawSync, constants as zlibConstants } from "node:zlib";

/** RFC 6455 §5.2 opcodes the generator sends. */
export const WireOpcode = { TEXT: 0x1, BINARY: 0x2, CLOSE: 0x8 } as const;
export type WireOpcode = (typeof WireOpcode)[keyof typeof WireOpcode];

/**
 * A fixed masking key. RFC 6455 §5.3 wants it unpredictable to protect
 * intermediaries from cache poisoning; on loopback between our own processes
 * there is none, and a fixed key lets frames be built once.
 */
const MASK_KEY = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);

/** A complete client frame: FIN, the given opcode, masked payload. */
export function maskedFrame(opcode: WireOpcode, payload: Uint8Array, rsv1 = false): Buffer {
  const length = payload.length;
  const extended = length < 126 ? 0 : length < 0x10000 ? 2 : 8;
  const header = 2 + extended + 4;
  const frame = Buffer.allocUnsafe(header + length);
  frame[0] = 0x80 | (rsv1 ? 0x40 : 0) | opcode;
  if (extended === 0) {
    frame[1] = 0x80 | length;
  } else if (extended === 2) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 0x80 | 127;
    frame.writeBigUInt64BE(BigInt(length), 2);
  }
  MASK_KEY.copy(frame, header - 4);
  for (let i = 0; i < length; i++) frame[header + i] = payload[i]! ^ MASK_KEY[i & 3]!;
  return frame;
}

/** `count` copies of `frame` back to back, to write a batch with one call. */
export function repeated(frame: Buffer, count: number): Buffer {
  return Buffer.concat(Array.from({ length: count }, () => frame));
}

/** A pre-built close frame (1000), to end a handshake cycle cleanly. */
export const CLOSE_FRAME = maskedFrame(WireOpcode.CLOSE, Buffer.from([0x03, 0xe8]));

/** The opening handshake request; the same key for every connection is fine for servers. */
export function upgradeRequest(port: number, extensions: string | null): Buffer {
  const lines = [
    "GET / HTTP/1.1",
    `Host: 127.0.0.1:${port}`,
    "Upgrade: websocket",
    "Connection: Upgrade",
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
    "Sec-WebSocket-Version: 13",
  ];
  if (extensions !== null) lines.push(`Sec-WebSocket-Extensions: ${extensions}`);
  return Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "latin1");
}

/** The offer for the compression workload: permessage-deflate with default parameters. */
export const DEFLATE_OFFER = "permessage-deflate; client_max_window_bits";

/**
 * A payload compressed as RFC 7692 §7.2.1 says: raw DEFLATE, flushed with
 * Z_SYNC_FLUSH, without the final empty block's 4 trailing octets
 * `00 00 ff ff`. Such a block never refers to earlier data, so the same
 * bytes are valid on every message whatever the context takeover.
 */
export function deflatePayload(payload: Uint8Array): Buffer {
  const compressed = deflateRawSync(payload, { finishFlush: zlibConstants.Z_SYNC_FLUSH });
  return compressed.subarray(0, compressed.length - 4);
}

/** Counts units in a byte stream: frames for a WebSocket server, fixed-size chunks for raw TCP. */
export interface Counter {
  /** Consumes a chunk and returns how many units it completed. */
  feed(chunk: Uint8Array): number;
}

/**
 * Finds frame boundaries in a server's (unmasked) output: reads the length
 * from each header and skips the payload. A header split across chunks is
 * gathered byte by byte; that is rare enough not to matter.
 */
export class FrameCounter implements Counter {
  private remaining = 0;
  private readonly header = new Uint8Array(14);
  private headerLength = 0;

  feed(chunk: Uint8Array): number {
    let completed = 0;
    let position = 0;
    const end = chunk.length;
    while (position < end) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, end - position);
        this.remaining -= take;
        position += take;
        if (this.remaining === 0) completed++;
        continue;
      }
      if (this.headerLength === 0 && end - position >= 2) {
        const short = chunk[position + 1]! & 0x7f;
        const size = short < 126 ? 2 : short === 126 ? 4 : 10;
        if (end - position >= size) {
          this.remaining = payloadLength(chunk, position, short);
          position += size;
          if (this.remaining === 0) completed++;
          continue;
        }
      }
      this.header[this.headerLength++] = chunk[position++]!;
      if (this.headerLength >= 2) {
        const short = this.header[1]! & 0x7f;
        const size = short < 126 ? 2 : short === 126 ? 4 : 10;
        if (this.headerLength === size) {
          this.remaining = payloadLength(this.header, 0, short);
          this.headerLength = 0;
          if (this.remaining === 0) completed++;
        }
      }
    }
    return completed;
  }
}

function payloadLength(bytes: Uint8Array, start: number, short: number): number {
  if (short < 126) return short;
  if (short === 126) return (bytes[start + 2]! << 8) | bytes[start + 3]!;
  let length = 0;
  for (let i = 2; i < 10; i++) length = length * 256 + bytes[start + i]!;
  return length;
}

/** For the raw TCP echo: a unit is `unit` bytes, the size of the frame that was sent. */
export class ChunkCounter implements Counter {
  private partial = 0;

  constructor(private readonly unit: number) {}

  feed(chunk: Uint8Array): number {
    const total = this.partial + chunk.length;
    this.partial = total % this.unit;
    return (total - this.partial) / this.unit;
  }
}

/** Splits an HTTP response head off the bytes received so far, or `null` if incomplete. */
export function splitResponse(
  received: Buffer,
): { status: number; extensions: string; rest: Buffer } | null {
  const end = received.indexOf("\r\n\r\n");
  if (end === -1) return null;
  const head = received.toString("latin1", 0, end);
  const status = Number(head.slice(9, 12));
  const match = /\r\nsec-websocket-extensions:\s*([^\r]*)/i.exec(head);
  return { status, extensions: match?.[1]?.trim() ?? "", rest: received.subarray(end + 4) };
}
