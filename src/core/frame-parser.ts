/**
 * RFC 6455 §5.2: the incremental parser of received frames. It checks each
 * header as it arrives, unmasks payloads (§5.3) and assembles large ones as
 * they arrive.
 *
 * @module
 */

import { PayloadTooBig, ProtocolError } from "./errors.js";
import { Frame } from "./frame.js";
import { applyMask, maskKeyAt } from "./mask.js";
import { isControlOpcode, OPCODE_NAMES, Opcode } from "./opcodes.js";
import { allocateFilled, type StreamReader } from "./streams.js";

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
  /**
   * Bytes already received of the fragmented message in progress, 0 between
   * messages: payload bytes as they came on the wire. The parser counts them.
   */
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

  /**
   * A parser for the frames one endpoint receives: a server's expects them masked.
   *
   * @param options `mask`: whether received frames must be masked, `true` on
   *   a server; a frame that is not as expected is a {@link ProtocolError}.
   */
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
    // Counted as received, before extensions decode: a compression extension
    // may hold the fragments of a message until its last one (permessage-
    // deflate's fallback does), so the decoded size says nothing of what the
    // connection has buffered.
    if ((first & 0x08) === 0)
      this.messageSize = (first & 0x80) !== 0 ? 0 : this.messageSize + data.length;
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
   * The rest of the payload being assembled, still to arrive, when nothing
   * else is buffered in `reader`; else `null`. An I/O layer may read the next
   * bytes from the network straight into it and feed `reader` a view of the
   * part it filled: {@link StreamReader.readInto} then finds them in place
   * and copies nothing. Valid until the next bytes are fed.
   */
  unfilledAssembly(reader: StreamReader): Uint8Array | null {
    const assembly = this.assembly;
    // Empty once peekPayload() assembled the whole payload: a read of zero
    // bytes would look like the end of the stream.
    if (assembly === null || reader.length !== 0 || this.assembled >= this.length) return null;
    return assembly.subarray(this.assembled, this.length);
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

/**
 * Whether `bytes`, received at a frame boundary, start with the whole header
 * of a frame whose payload is one {@link FrameParser} assembles as it arrives
 * (64 KiB or more) and does not all follow in them. Parsing them copies that
 * part of the payload into the frame's own buffer, unless too little of it
 * came (see `startAssembly()`); nothing else in them stays referenced.
 */
export function startsIncompleteLargeFrame(bytes: Uint8Array): boolean {
  // RFC 6455 §5.2: 127 in the second byte announces the length in the 8
  // bytes after it; the masking key, if any, follows them.
  if (bytes.length < 10 || (bytes[1]! & 0x7f) !== 127) return false;
  const high = uint32At(bytes, 2);
  const low = uint32At(bytes, 6);
  if (high === 0 && low < ASSEMBLY_THRESHOLD) return false;
  const headerLength = (bytes[1]! & 0x80) !== 0 ? 14 : 10;
  return bytes.length >= headerLength && high * 2 ** 32 + low > bytes.length - headerLength;
}

/** The big-endian 32-bit number at `index` in `bytes`. */
function uint32At(bytes: Uint8Array, index: number): number {
  return (
    ((bytes[index]! << 24) |
      (bytes[index + 1]! << 16) |
      (bytes[index + 2]! << 8) |
      bytes[index + 3]!) >>>
    0
  );
}

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
