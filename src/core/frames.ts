/**
 * RFC 6455 §5: frames, opcodes, close codes and close frame payloads, with an
 * incremental parser and a serializer.
 *
 * @module
 */

import { InvalidState, PayloadTooBig, ProtocolError } from "./errors.js";
import { applyMask, maskKeyAt } from "./mask.js";
import { allocateFilled, type StreamReader } from "./streams.js";
import { isValidUtf8 } from "./utf8.js";

/** RFC 6455 §5.2 opcodes. */
export const Opcode = {
  /** Continuation frame: the next fragment of a message (RFC 6455 §5.4). */
  CONT: 0x0,
  /** Text frame: the first frame of a message of UTF-8 text (RFC 6455 §5.6). */
  TEXT: 0x1,
  /** Binary frame: the first frame of a binary message (RFC 6455 §5.6). */
  BINARY: 0x2,
  /** Close frame: starts or answers the closing handshake (RFC 6455 §5.5.1). */
  CLOSE: 0x8,
  /** Ping: the peer answers it with a pong carrying the same payload (RFC 6455 §5.5.2). */
  PING: 0x9,
  /** Pong: the answer to a ping, or an unsolicited heartbeat (RFC 6455 §5.5.3). */
  PONG: 0xa,
} as const;
/** One of the opcodes defined by RFC 6455. */
export type Opcode = (typeof Opcode)[keyof typeof Opcode];

const OPCODE_NAMES: Record<number, string> = {
  0: "CONT",
  1: "TEXT",
  2: "BINARY",
  8: "CLOSE",
  9: "PING",
  10: "PONG",
};

/** Whether `opcode` is a control frame's: RFC 6455 §5.5 "the most significant bit of the opcode is 1". */
export function isControlOpcode(opcode: number): boolean {
  return (opcode & 0x8) !== 0;
}

/** RFC 6455 §7.4.1 and the IANA registry's close codes. */
export const CloseCode = {
  /** 1000: "the purpose for which the connection was established has been fulfilled". */
  NORMAL_CLOSURE: 1000,
  /** 1001: the endpoint is "going away", e.g. a server going down. */
  GOING_AWAY: 1001,
  /** 1002: the peer broke the protocol. */
  PROTOCOL_ERROR: 1002,
  /** 1003: the endpoint received data it cannot accept, e.g. binary where it only takes text. */
  UNSUPPORTED_DATA: 1003,
  /** 1005: the close frame had no code. Never sent: it stands for the missing code. */
  NO_STATUS_RCVD: 1005,
  /** 1006: the connection closed without a close frame. Never sent. */
  ABNORMAL_CLOSURE: 1006,
  /** 1007: a message's data did not match its type, e.g. text that isn't UTF-8. */
  INVALID_DATA: 1007,
  /** 1008: a message violated the endpoint's policy. */
  POLICY_VIOLATION: 1008,
  /** 1009: a message was too big to process. */
  MESSAGE_TOO_BIG: 1009,
  /** 1010: the client expected the server to negotiate an extension it did not. */
  MANDATORY_EXTENSION: 1010,
  /** 1011: the endpoint met an unexpected condition (an exception in a handler, …). */
  INTERNAL_ERROR: 1011,
  /** 1012 (IANA registry): the server is restarting; the client may reconnect. */
  SERVICE_RESTART: 1012,
  /** 1013 (IANA registry): a temporary condition on the server, e.g. overload; retry later. */
  TRY_AGAIN_LATER: 1013,
  /** 1014 (IANA registry): a gateway or proxy got an invalid response from upstream. */
  BAD_GATEWAY: 1014,
  /** 1015: the TLS handshake failed, e.g. on an unverifiable certificate. Never sent. */
  TLS_HANDSHAKE: 1015,
} as const;
/** One of the named close codes; any number in 1000–4999 may appear on a connection. */
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

const CLOSE_CODE_EXPLANATIONS: Record<number, string> = {
  1000: "OK",
  1001: "going away",
  1002: "protocol error",
  1003: "unsupported data",
  1005: "no status received [internal]",
  1006: "abnormal closure [internal]",
  1007: "invalid frame payload data",
  1008: "policy violation",
  1009: "message too big",
  1010: "mandatory extension",
  1011: "internal error",
  1012: "service restart",
  1013: "try again later",
  1014: "bad gateway",
  1015: "TLS handshake failure [internal]",
};

/** A short human explanation of a close code, e.g. `"message too big"` for 1009. */
export function closeCodeExplanation(code: number): string {
  const known = CLOSE_CODE_EXPLANATIONS[code];
  if (known !== undefined) return known;
  if (code >= 3000 && code < 4000) return "registered";
  if (code >= 4000 && code < 5000) return "private use";
  return "unknown";
}

/**
 * Whether a close code may appear in a close frame on the wire.
 * RFC 6455 §7.4.1: 1005, 1006 and 1015 "MUST NOT be set as a status code in a
 * Close control frame by an endpoint"; §7.4.2: 0–999 are not used, 1000–2999
 * are reserved for this protocol and its extensions (the IANA registry assigns
 * 1000–1003 and 1007–1014), 3000–4999 are for libraries, frameworks and
 * applications.
 */
export function isValidCloseCode(code: number): boolean {
  // RFC 6455 §5.5.1: the code is "a 2-byte unsigned integer": 1000.5 is a
  // caller's mistake, which serialize() would otherwise truncate to 1000.
  return (
    Number.isInteger(code) &&
    ((code >= 1000 && code <= 1003) ||
      (code >= 1007 && code <= 1014) ||
      (code >= 3000 && code < 5000))
  );
}

/** A WebSocket frame, after unmasking. */
export class Frame {
  /** A frame; the flags default to a final frame with no RSV bit set. Nothing is validated. */
  constructor(
    /** The opcode: what the frame carries (RFC 6455 §5.2). */
    readonly opcode: Opcode,
    /** The payload, unmasked. */
    readonly data: Uint8Array,
    /** FIN: whether this frame ends its message (RFC 6455 §5.4); control frames must set it. */
    readonly fin = true,
    /**
     * RSV1, for extensions: permessage-deflate sets it on the first frame of a
     * compressed message (RFC 7692 §6).
     */
    readonly rsv1 = false,
    /** RSV2, for extensions; none defined here uses it. */
    readonly rsv2 = false,
    /** RSV3, for extensions; none defined here uses it. */
    readonly rsv3 = false,
  ) {}

  /** A short description for logs: opcode, flags, length and a preview of the payload. */
  toString(): string {
    const flags = [this.fin ? "FIN" : "", this.rsv1 ? "RSV1" : "", this.rsv2 ? "RSV2" : ""]
      .concat(this.rsv3 ? "RSV3" : "")
      .filter(Boolean)
      .join(" ");
    return `${OPCODE_NAMES[this.opcode]}${flags ? ` ${flags}` : ""} [${this.data.length} bytes]`;
  }
}

// ignoreBOM: a reason that starts with U+FEFF keeps it. The WHATWG decoder
// strips a leading byte order mark by default, and the reason reported would
// not be the one the peer sent.
const textDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const textEncoder = new TextEncoder();

/** The payload of a close frame: RFC 6455 §5.5.1. */
export class Close {
  /** Nothing is validated here: {@link serialize} checks the code and the reason's length. */
  constructor(
    /** The close code, e.g. 1000 (RFC 6455 §7.4); 1005 for a close frame without one. */
    readonly code: number,
    /** The close reason, UTF-8 text; `""` for none. */
    readonly reason: string,
  ) {}

  /**
   * Parses a close frame's payload. An empty payload stands for 1005 (no status received).
   *
   * @throws ProtocolError with close code 1002 for a 1-byte payload or a code
   *   not allowed on the wire, or 1007 for a reason that is not UTF-8.
   */
  static parse(data: Uint8Array): Close {
    // RFC 6455 §5.5.1: "If there is a body, the first two bytes of the body
    // MUST be a 2-byte unsigned integer (in network byte order)".
    if (data.length === 0) return new Close(CloseCode.NO_STATUS_RCVD, "");
    if (data.length === 1) throw new ProtocolError("close frame too short");
    const code = (data[0]! << 8) | data[1]!;
    if (!isValidCloseCode(code)) throw new ProtocolError(`invalid close code: ${code}`);
    const reasonBytes = data.subarray(2);
    // RFC 6455 §5.5.1: the reason's "data is not guaranteed to be human
    // readable" but it is UTF-8; §8.1 applies to it.
    if (!isValidUtf8(reasonBytes)) throw new ProtocolError("invalid UTF-8 in close reason", 1007);
    return new Close(code, textDecoder.decode(reasonBytes));
  }

  /**
   * The close frame payload for this code and reason.
   *
   * @throws InvalidState for a code that may not be sent or a reason over 123 bytes.
   */
  serialize(): Uint8Array {
    if (!isValidCloseCode(this.code)) throw new InvalidState(`invalid close code: ${this.code}`);
    const reason = textEncoder.encode(this.reason);
    // RFC 6455 §5.5: "All control frames MUST have a payload length of 125 bytes or less".
    if (reason.length > 123) throw new InvalidState("close reason is longer than 123 bytes");
    const data = new Uint8Array(2 + reason.length);
    data[0] = this.code >>> 8;
    data[1] = this.code & 0xff;
    data.set(reason, 2);
    return data;
  }

  /** `1000 (OK) bye` */
  toString(): string {
    const explanation = `${this.code} (${closeCodeExplanation(this.code)})`;
    return this.reason ? `${explanation} ${this.reason}` : explanation;
  }
}

/** What a frame parser accepts. */
export interface FrameParserOptions {
  /**
   * Whether received frames must be masked: true on a server, false on a client.
   * RFC 6455 §5.1: "a client MUST mask all frames that it sends to the server"
   * and "A server MUST NOT mask any frames that it sends to the client".
   */
  readonly mask: boolean;
}

/** {@link FrameParser} bit: received frames must be masked (a server's parser). */
const EXPECT_MASK = 1;
/**
 * {@link FrameParser} bit: the data message in progress is text with no RSV
 * bit on its first frame. The protocol checks such frames' UTF-8 as they
 * arrive, through peekPayload(), which assembles them (see isCheckedAsItArrives()).
 */
const PLAIN_TEXT = 2;

/**
 * Parses frames one at a time from a {@link StreamReader}. Keeps the header of a
 * frame whose payload has not fully arrived, so each byte is examined once,
 * and assembles a large payload as it arrives, so that its chunks are copied
 * while still in cache and not held until the last one is here.
 */
export class FrameParser {
  // The limit below, -1 for none: a small integer, which V8 stores in the
  // object itself, where `Infinity` would take a number box per parser.
  private limit = -1;
  // The limit the application set, quoted in errors: `limit` may be larger,
  // allowing for what extensions add to messages on the wire; -1 for `limit`.
  private statedLimit = -1;
  /** Bytes already received of the fragmented message in progress, 0 between messages. */
  messageSize = 0;

  // EXPECT_MASK and PLAIN_TEXT: two booleans in one field, a field less per connection.
  private bits: number;
  // Header of the frame whose payload is awaited; `length < 0` means none.
  private first = 0;
  private length = -1;
  // Its RFC 6455 §5.3 masking key as a big-endian number, or -1 for none:
  // kept as a number, so that reading a header allocates nothing.
  private maskWord = -1;
  // Payload bytes of that frame already returned, unmasked, by peekPayload().
  private peeked = 0;
  // The payload of that frame, assembled as it arrives when it is large (see
  // startAssembly()), and how many of its bytes arrived; `null` otherwise.
  private assembly: Uint8Array | null = null;
  private assembled = 0;
  /** How many payload bytes of the frame last returned by {@link parse} went through {@link peekPayload} first. */
  peekedLength = 0;

  /** A parser for the frames one endpoint receives: a server's expects them masked. */
  constructor(options: FrameParserOptions) {
    this.bits = options.mask ? EXPECT_MASK : 0;
  }

  /**
   * Largest message accepted, or `Infinity`. The length in each data frame's
   * header, added to {@link messageSize}, is checked against it before any of
   * the payload is buffered.
   */
  get maxMessageSize(): number {
    return this.limit < 0 ? Number.POSITIVE_INFINITY : this.limit;
  }

  set maxMessageSize(size: number) {
    this.limit = size === Number.POSITIVE_INFINITY ? -1 : size;
  }

  /**
   * Sets {@link maxMessageSize} to `allowance`, what a message may take on the
   * wire, while errors quote `stated`, the limit on messages as decoded: a
   * compressed frame over the allowance can't decode within the limit, and
   * the application only knows the limit it set.
   */
  limitEncodedSize(allowance: number, stated: number): void {
    this.maxMessageSize = allowance;
    this.statedLimit = allowance === stated || stated === Number.POSITIVE_INFINITY ? -1 : stated;
  }

  /**
   * Returns the next frame, or `null` until all its bytes have arrived.
   * Unmasks payloads in place: the reader's chunks must not be shared.
   *
   * @throws ProtocolError for a malformed frame, PayloadTooBig for one over the limit.
   */
  parse(reader: StreamReader): Frame | null {
    if (this.length < 0 && !this.parseHeader(reader)) return null;
    const peeked = this.peeked;
    let data = this.assembly ?? this.startAssembly(reader, false);
    if (data !== null) {
      // Text checked as it arrives is assembled by peekPayload(), which the
      // protocol calls when bytes are waiting in the reader: they stay there
      // until the frame is complete.
      const complete = this.assembled + reader.length >= this.length;
      if (!complete && this.isCheckedAsItArrives()) return null;
      if (this.assemble(reader, data) < this.length) return null;
      this.assembly = null;
      this.assembled = 0;
    } else {
      // RFC 6455 §5.3: unmasked while it is read; peekPayload() unmasked the first `peeked` bytes.
      data = reader.readExact(this.length, this.maskKey(), peeked);
      if (data === null) return null;
    }
    const first = this.first;
    this.length = -1;
    this.maskWord = -1;
    this.peeked = 0;
    this.peekedLength = peeked;
    return new Frame(
      (first & 0x0f) as Opcode,
      data,
      (first & 0x80) !== 0,
      (first & 0x40) !== 0,
      (first & 0x20) !== 0,
      (first & 0x10) !== 0,
    );
  }

  /**
   * Whether the next frame in `reader`, whose header was not parsed yet, has
   * a payload of 64 KiB or more: one that {@link parse} unmasks and copies
   * as it arrives. False while its length is not buffered yet.
   */
  nextFrameIsLarge(reader: StreamReader): boolean {
    // RFC 6455 §5.2: only 127 in the second byte announces a length past
    // 65535, in the 8 bytes after it.
    if (this.length >= 0 || reader.length < 10 || (reader.peekByte(1) & 0x7f) !== 127) {
      return false;
    }
    return peekUint32(reader, 2) > 0 || peekUint32(reader, 6) >= ASSEMBLY_THRESHOLD;
  }

  /**
   * The first header byte (FIN, RSV1-3, opcode) of the frame whose payload is
   * awaited, or -1 when no header is pending.
   */
  get pendingHeader(): number {
    return this.length < 0 ? -1 : this.first;
  }

  /**
   * Unmasks and returns the payload bytes of the awaited frame that arrived
   * since the last call, as views that stay valid: of the reader's chunks,
   * unmasked in place and not consumed, or of the payload being assembled.
   * {@link parse} returns the whole payload once it is here. This lets a
   * text frame's UTF-8 be checked as it arrives.
   */
  peekPayload(reader: StreamReader): Uint8Array[] {
    if (this.length < 0) return [];
    const assembly = this.assembly ?? this.startAssembly(reader, true);
    if (assembly !== null) {
      const assembled = this.assemble(reader, assembly);
      if (assembled <= this.peeked) return [];
      const view = assembly.subarray(this.peeked, assembled);
      this.peeked = assembled;
      return [view];
    }
    const available = Math.min(reader.length, this.length);
    if (available <= this.peeked) return [];
    const views = reader.views(this.peeked, available);
    const key = this.maskKey();
    if (key !== null) {
      let offset = this.peeked;
      for (const view of views) {
        applyMask(view, maskKeyAt(key, offset));
        offset += view.length;
      }
    }
    this.peeked = available;
    return views;
  }

  /**
   * Decides whether the payload of the frame just parsed is assembled as it
   * arrives: each chunk is copied (and unmasked) into the payload's buffer
   * while it is still in the processor's cache, and released right away, so
   * a large message takes its own size in memory instead of twice that.
   *
   * Only large payloads that have not all arrived qualify, and only once a
   * sixteenth of them is here: the buffer is allocated for the whole length,
   * so a peer has to send part of what it announced for it (a header alone
   * must not make us allocate up to the size limit). Text frames checked as
   * they arrive are assembled by peekPayload() (`forPeek`), which returns
   * views of the bytes assembled, not by parse().
   */
  private startAssembly(reader: StreamReader, forPeek: boolean): Uint8Array | null {
    const length = this.length;
    const buffered = reader.length;
    if (length < ASSEMBLY_THRESHOLD || buffered >= length || buffered < length / 16) return null;
    if (!forPeek && this.isCheckedAsItArrives()) return null;
    this.assembly = allocateFilled(length);
    this.assembled = 0;
    return this.assembly;
  }

  /**
   * Whether the awaited frame is text whose UTF-8 the protocol checks as it
   * arrives: a TEXT frame, or a continuation of a text message, without RSV
   * bits (an extension's encoding is checked once decoded).
   */
  private isCheckedAsItArrives(): boolean {
    const first = this.first;
    const opcode = first & 0x0f;
    return (
      (first & 0x70) === 0 &&
      (opcode === Opcode.TEXT || (opcode === Opcode.CONT && (this.bits & PLAIN_TEXT) !== 0))
    );
  }

  /**
   * The awaited frame's masking key as bytes, in a buffer shared by every
   * parser and valid until the next call: the masking functions read it
   * before they return.
   */
  private maskKey(): Uint8Array | null {
    const word = this.maskWord;
    if (word < 0) return null;
    KEY_BYTES[0] = word >>> 24;
    KEY_BYTES[1] = (word >>> 16) & 0xff;
    KEY_BYTES[2] = (word >>> 8) & 0xff;
    KEY_BYTES[3] = word & 0xff;
    return KEY_BYTES;
  }

  /** Moves the awaited payload's bytes that arrived into `assembly`; returns how many it has. */
  private assemble(reader: StreamReader, assembly: Uint8Array): number {
    let assembled = this.assembled;
    // peekPayload() unmasked the first `peeked` bytes in place, and left all
    // of them in the reader: they are copied as they are.
    if (assembled < this.peeked) assembled = reader.readInto(assembly, assembled, this.peeked);
    assembled = reader.readInto(assembly, assembled, this.length, this.maskKey());
    this.assembled = assembled;
    return assembled;
  }

  private parseHeader(reader: StreamReader): boolean {
    const available = reader.length;
    if (available < 2) return false;
    const first = reader.peekByte(0);
    const second = reader.peekByte(1);
    const masked = (second & 0x80) !== 0;
    const shortLength = second & 0x7f;
    const extendedBytes = shortLength === 126 ? 2 : shortLength === 127 ? 8 : 0;
    const headerLength = 2 + extendedBytes + (masked ? 4 : 0);
    if (available < headerLength) return false;

    const opcode = first & 0x0f;
    // RFC 6455 §5.2: "If an unknown opcode is received, the receiving endpoint
    // MUST _Fail the WebSocket Connection_."
    if (OPCODE_NAMES[opcode] === undefined) throw new ProtocolError(`invalid opcode: ${opcode}`);
    // RFC 6455 §5.1: "The server MUST close the connection upon receiving a
    // frame that is not masked" and "A client MUST close a connection if it
    // detects a masked frame."
    if (masked !== ((this.bits & EXPECT_MASK) !== 0)) {
      throw new ProtocolError(masked ? "unexpected masked frame" : "incorrect masking");
    }

    let length = shortLength;
    if (shortLength === 126) {
      length = (reader.peekByte(2) << 8) | reader.peekByte(3);
    } else if (shortLength === 127) {
      const high = peekUint32(reader, 2);
      const low = peekUint32(reader, 6);
      // RFC 6455 §5.2: "the most significant bit MUST be 0".
      if (high >= 0x80000000) throw new ProtocolError("invalid payload length");
      // Anything past 2^53 bytes is over any limit; keep the number exact below that.
      length = high > 0x1fffff ? Number.MAX_SAFE_INTEGER : high * 0x100000000 + low;
    }
    // The header is read in place; only the masking key is kept, as a number.
    const maskWord = masked ? peekUint32(reader, headerLength - 4) : -1;
    reader.discard(headerLength);

    if (opcode === Opcode.TEXT || opcode === Opcode.BINARY) {
      this.bits =
        opcode === Opcode.TEXT && (first & 0x70) === 0
          ? this.bits | PLAIN_TEXT
          : this.bits & ~PLAIN_TEXT;
    }
    if (isControlOpcode(opcode)) {
      // RFC 6455 §5.5: "All control frames MUST have a payload length of 125
      // bytes or less and MUST NOT be fragmented."
      if (length > 125) throw new ProtocolError("control frame too long");
      if ((first & 0x80) === 0) throw new ProtocolError("fragmented control frame");
    } else if (this.limit >= 0 && this.messageSize + length > this.limit) {
      const what = this.messageSize > 0 ? "fragmented message" : "message";
      const stated = this.statedLimit < 0 ? this.limit : this.statedLimit;
      throw new PayloadTooBig(`${what} exceeds limit of ${stated} bytes`);
    }

    this.first = first;
    this.length = length;
    this.maskWord = maskWord;
    return true;
  }
}

/**
 * Smallest payload assembled as it arrives. Smaller ones arrive in one or two
 * reads and are copied once, when complete, if they straddle chunks at all.
 */
const ASSEMBLY_THRESHOLD = 65536;

/** Where {@link FrameParser} spells out a masking key for the masking functions. */
const KEY_BYTES = new Uint8Array(4);

/** The big-endian 32-bit number at `index` in the reader's buffered bytes. */
function peekUint32(reader: StreamReader, index: number): number {
  return (
    ((reader.peekByte(index) << 24) |
      (reader.peekByte(index + 1) << 16) |
      (reader.peekByte(index + 2) << 8) |
      reader.peekByte(index + 3)) >>>
    0
  );
}

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
