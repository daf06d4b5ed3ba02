/**
 * The conformance suite's own WebSocket wire format: builds any frame, valid
 * or not, and parses what the implementation under test sends back.
 *
 * Deliberately independent of `src/`: a checker that reused the parser it
 * checks could not see that parser's bugs.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { createHash, randomFillSync } from "node:crypto";

/** RFC 6455 §5.2 opcodes, plus the reserved ones the cases send on purpose. */
export const WireOpcode = {
  CONT: 0x0,
  TEXT: 0x1,
  BINARY: 0x2,
  CLOSE: 0x8,
  PING: 0x9,
  PONG: 0xa,
} as const;

/** One frame as it goes on the wire; every field may be wrong on purpose. */
export interface FrameSpec {
  /** 0–15, including reserved opcodes. */
  readonly opcode: number;
  readonly payload?: Uint8Array | string;
  /** Repeats (or cuts) `payload` to this many bytes, as Autobahn's `payload_len`. */
  readonly payloadLength?: number;
  /** Default: true. */
  readonly fin?: boolean;
  /** RSV1–RSV3 as a 3-bit number (RSV1 = 4, RSV2 = 2, RSV3 = 1). Default: 0. */
  readonly rsv?: number;
}

/** A frame received from the implementation under test, after unmasking. */
export interface WireFrame {
  readonly opcode: number;
  readonly fin: boolean;
  readonly rsv: number;
  readonly masked: boolean;
  readonly payload: Buffer;
}

/** The bytes of `payload`, repeated or cut to `length` bytes when given. */
export function payloadBytes(payload: Uint8Array | string = "", length?: number): Buffer {
  const bytes = typeof payload === "string" ? Buffer.from(payload, "utf8") : Buffer.from(payload);
  if (length === undefined || length === bytes.length) return bytes;
  const out = Buffer.alloc(length);
  if (bytes.length === 0) return out;
  for (let offset = 0; offset < length; offset += bytes.length) bytes.copy(out, offset);
  return out;
}

/** XORs `data` in place with a 4-byte key (RFC 6455 §5.3). */
function xorMask(data: Buffer, key: Uint8Array): void {
  for (let i = 0; i < data.length; i++) data[i]! ^= key[i & 3]!;
}

/** A random 4-byte masking key. */
export function randomMaskKey(): Buffer {
  return randomFillSync(Buffer.alloc(4));
}

/**
 * Serializes a frame. `maskKey` is given when the sender is a client
 * (RFC 6455 §5.1: clients mask every frame, servers never do).
 */
export function encodeFrame(spec: FrameSpec, maskKey: Uint8Array | null): Buffer {
  const payload = payloadBytes(spec.payload, spec.payloadLength);
  const length = payload.length;
  const extended = length < 126 ? 0 : length < 0x10000 ? 2 : 8;
  const header = Buffer.alloc(2 + extended + (maskKey === null ? 0 : 4));
  header[0] = ((spec.fin ?? true) ? 0x80 : 0) | (((spec.rsv ?? 0) & 7) << 4) | (spec.opcode & 0xf);
  const maskBit = maskKey === null ? 0 : 0x80;
  if (extended === 0) {
    header[1] = maskBit | length;
  } else if (extended === 2) {
    header[1] = maskBit | 126;
    header.writeUInt16BE(length, 2);
  } else {
    header[1] = maskBit | 127;
    header.writeBigUInt64BE(BigInt(length), 2);
  }
  if (maskKey !== null) {
    header.set(maskKey, 2 + extended);
    xorMask(payload, maskKey);
  }
  return Buffer.concat([header, payload]);
}

/** Why a received byte stream cannot be parsed into frames. */
export class WireError extends Error {}

/**
 * Parses frames from a byte stream. It reports structure only; whether a
 * frame is allowed (masking, RSV bits, sequencing) is the session's business.
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;

  /** @param maxPayload frames announcing more than this are a {@link WireError}. */
  constructor(private readonly maxPayload: number) {}

  /** Appends received bytes. */
  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  /** The next complete frame, or `null` until its last byte arrives. */
  next(): WireFrame | null {
    if (this.buffered < 2) return null;
    const head = this.peek(Math.min(this.buffered, 14));
    const masked = (head[1]! & 0x80) !== 0;
    const short = head[1]! & 0x7f;
    const extended = short === 126 ? 2 : short === 127 ? 8 : 0;
    const headerLength = 2 + extended + (masked ? 4 : 0);
    if (this.buffered < headerLength) return null;
    let length = short;
    if (short === 126) length = head.readUInt16BE(2);
    if (short === 127) {
      const big = head.readBigUInt64BE(2);
      if (big > BigInt(this.maxPayload)) throw new WireError(`frame of ${big} bytes`);
      length = Number(big);
    }
    if (length > this.maxPayload) throw new WireError(`frame of ${length} bytes`);
    if (this.buffered < headerLength + length) return null;
    const bytes = this.take(headerLength + length);
    const payload = Buffer.from(bytes.subarray(headerLength));
    if (masked) xorMask(payload, bytes.subarray(headerLength - 4, headerLength));
    return {
      opcode: bytes[0]! & 0x0f,
      fin: (bytes[0]! & 0x80) !== 0,
      rsv: (bytes[0]! >> 4) & 7,
      masked,
      payload,
    };
  }

  private peek(n: number): Buffer {
    if (this.chunks[0]!.length >= n) return this.chunks[0]!;
    // Join only the leading chunks that hold the header: a frame dribbling in
    // a byte at a time must not cost a copy of everything buffered.
    const head: Buffer[] = [];
    let size = 0;
    for (const chunk of this.chunks) {
      head.push(chunk);
      size += chunk.length;
      if (size >= n) break;
    }
    return Buffer.concat(head, size);
  }

  private take(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    this.chunks = all.length > n ? [all.subarray(n)] : [];
    this.buffered -= n;
    return all.subarray(0, n);
  }
}

/** RFC 6455 §1.3: the GUID appended to the key before hashing. */
const ACCEPT_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** RFC 6455 §4.2.2: the `Sec-WebSocket-Accept` value for a `Sec-WebSocket-Key`. */
export function acceptKey(key: string): string {
  return createHash("sha1")
    .update(key + ACCEPT_GUID)
    .digest("base64");
}

/** A close frame's payload: a 2-byte code (unless `code` is undefined) and a reason. */
export function closePayload(code?: number, reason: Uint8Array | string = ""): Buffer {
  if (code === undefined) return Buffer.alloc(0);
  const codeBytes = Buffer.alloc(2);
  codeBytes.writeUInt16BE(code & 0xffff);
  return Buffer.concat([codeBytes, payloadBytes(reason)]);
}
