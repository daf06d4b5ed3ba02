/**
 * RFC 7692: the permessage-deflate extension, the compression of messages
 * (§7.2). ./permessage-deflate-negotiation.ts negotiates it.
 *
 * zlib runs synchronously, which keeps the core sans-I/O, and each direction
 * has two forms. While the connection is busy, a zlib stream per direction
 * lives from message to message, so that context takeover (§7.1.1) is zlib's
 * own and costs nothing (see ./zlib-stream.ts). Once the connection goes
 * quiet, the streams are closed and each side keeps only the last
 * 2^windowBits bytes of plain text (./sliding-window.ts); the next
 * message opens a stream with them as its preset dictionary. A DEFLATE stream
 * that continues after some bytes, and one that starts with those bytes as its
 * dictionary, can refer to exactly the same data, so the peer sees no
 * difference. The core has no timers: whoever runs the connection says when it
 * is quiet, through {@link DeflateSettings.scheduleRelease} and
 * {@link PerMessageDeflate.releaseIfIdle}. `bench/compression-zlib.ts` measures
 * the choice; docs/topics/compression.md describes it.
 *
 * @module
 */

import { constants as bufferConstants } from "node:buffer";
import { CloseCode } from "../close-codes.js";
import { PayloadTooBig, ProtocolError } from "../errors.js";
import { Frame } from "../frame.js";
import { isControlOpcode, Opcode } from "../opcodes.js";
import type { Extension, MessageOptions } from "./base.js";
import {
  checkSettings,
  checkWindowBits,
  type DeflateSettings,
  type PerMessageDeflateParameters,
} from "./permessage-deflate-settings.js";
import { EMPTY_WINDOW, slideWindow } from "./sliding-window.js";
import {
  nativeStreamsAvailable,
  openZlibStream,
  ZlibOutputTooLarge,
  type ZlibStream,
} from "./zlib-stream.js";

/** The extension's registered name (RFC 7692 §7). */
export const PERMESSAGE_DEFLATE = "permessage-deflate";

/**
 * zlib compresses raw DEFLATE with at least a 512-byte window (it refuses 8
 * bits, which Node turns into 9): a peer built on zlib that agreed to 8 bits
 * uses 9, so that is what this side keeps of its data too.
 */
const MIN_ZLIB_WINDOW_BITS = 9;

/**
 * RFC 7692 §7.2.1: a sender removes these 4 octets, the end of the empty
 * stored block a sync flush emits, from the tail of each message; §7.2.2: the
 * receiver appends them back before inflating.
 */
const EMPTY_STORED_BLOCK_TAIL = new Uint8Array([0x00, 0x00, 0xff, 0xff]);

const EMPTY = new Uint8Array(0);

/** RSV1 in a frame's first byte. */
const RSV1 = 0x40;

/**
 * How many bytes compression may add to an unfragmented message before it is
 * sent uncompressed instead (RFC 7692 §6 lets each message choose). DEFLATE
 * framing costs a few bytes on any input: RFC 7692 §7.2.3.1's 5-byte "Hello"
 * compresses to 7. Incompressible data (random bytes, media, archives) grows
 * by about 5 bytes per 2 KiB stored block; sending it as it is saves those
 * bytes and the peer's inflate. The slack keeps short messages, whose few
 * bytes of framing would otherwise close and reopen the deflater each time,
 * compressed.
 */
const MAX_EXPANSION = 16;

/** Largest buffer compression may produce. */
const MAX_OUTPUT_LENGTH = bufferConstants.MAX_LENGTH;

/**
 * The negotiated extension: compresses outgoing data messages, setting RSV1
 * on their first frame, and decompresses incoming ones (RFC 7692 §6).
 */
export class PerMessageDeflate implements Extension, PerMessageDeflateParameters {
  /** The registered name, `"permessage-deflate"`. */
  readonly name = PERMESSAGE_DEFLATE;

  /**
   * RSV1 only: RFC 7692 §6 allocates it to compression extensions, as the
   * "Per-Message Compressed" bit, and no other. A getter, so that connections
   * don't each hold it.
   */
  get reservedBits(): number {
    return RSV1;
  }
  /** This side compresses each message on its own. */
  readonly localNoContextTakeover: boolean;
  /** The peer compresses each message on its own, so no window is kept for it. */
  readonly remoteNoContextTakeover: boolean;
  /** This side compresses with a window of 2^localMaxWindowBits bytes. */
  readonly localMaxWindowBits: number;
  /** The peer compresses with a window of at most 2^remoteMaxWindowBits bytes. */
  readonly remoteMaxWindowBits: number;

  private readonly level: number;
  private readonly memLevel: number;
  private readonly threshold: number;
  private readonly scheduleRelease: ((extension: PerMessageDeflate) => void) | undefined;
  /**
   * The window of plain text this side compressed, for context takeover once
   * the deflater is closed.
   */
  private sent = EMPTY_WINDOW;
  /** The window of plain text the peer compressed, for when the inflater is closed. */
  private received = EMPTY_WINDOW;
  /** The compressor, while the connection is busy. */
  private deflater: ZlibStream | null = null;
  /** The decompressor, while the connection is busy. */
  private inflater: ZlibStream | null = null;
  /** Whether a stream was used since the last {@link releaseIfIdle}. */
  private used = false;
  /** Whether the message being sent is compressed. */
  private compressing = false;
  /** Whether the message being received is compressed. */
  private decompressing = false;
  /**
   * Whether the inflater is in the middle of a message: a non-final frame of
   * a compressed message was fed to it and the final one was not. Its state
   * then can't be rebuilt from {@link received} (the DEFLATE stream may be cut
   * inside a block), so nothing closes it until the message ends.
   */
  private inflatingMessage = false;
  /**
   * Whether the non-final frames of a compressed message are inflated as they
   * arrive (RFC 7692 §7.2.2 allows it: the message's compressed data is its
   * frames' payloads end to end), rather than held, compressed, until the
   * last one. Inflating them early is what lets an application read a large
   * message as it arrives (the Node layer's `recvStreaming()` sets it), but
   * the inflater then stays open from a message's first frame to its last,
   * whatever {@link releaseIdleState} is asked: a peer that stalls
   * mid-message keeps one open. So it is off when streams are kept and
   * released by a scheduler ({@link DeflateSettings.scheduleRelease}, which
   * bounds how many are open), and on otherwise, where each decode() call
   * owns its streams anyway. Changing it takes effect from the next frame.
   */
  inflatesFragments: boolean;
  /** Whether a release came while {@link inflatingMessage}: it waits for the message's end. */
  private releasePending = false;
  /**
   * The plain text of the message being received so far, as far as the
   * window needs it, for {@link received} at the message's end: `stagedLength`
   * bytes, of which at least the last 2^windowBits. Sliding the window for
   * each frame would copy the whole window each time (a message in 1-byte
   * fragments would cost a window per byte); this buffer of up to twice the
   * window copies it once per window's worth of bytes.
   */
  private staged: Uint8Array = EMPTY;
  private stagedLength = 0;
  /** Compressed bytes of the message being received so far. */
  private encodedLength = 0;
  /**
   * The limit on the message being received: `maxSize` for its first frame,
   * before any of it was decoded. Later frames get the room left.
   */
  private messageLimit = 0;
  /**
   * Compressed fragments of the message being received, but its last, copied
   * end to end into one buffer: `fragmentsLength` bytes of it are used. Only
   * when the inflater can't continue a stream from one write to the next
   * (the fallback, see {@link ZlibStream.continuable}).
   */
  private fragments: Uint8Array | null = null;
  private fragmentsLength = 0;

  /**
   * The extension as negotiated; the factories build it during the handshake.
   *
   * @param parameters what the negotiation settled, from this side's point of
   *   view: "local" is this side's compressor, "remote" the peer's.
   * @param settings how this side compresses (`level`, `memLevel`,
   *   `threshold`) and whether zlib streams live between messages
   *   (`scheduleRelease`); see {@link DeflateSettings}. Default: `{}`.
   * @throws RangeError for window bits other than 8 to 15, or a `level`,
   *   `memLevel` or `threshold` out of range; TypeError for a
   *   `scheduleRelease` that isn't a function.
   */
  constructor(parameters: PerMessageDeflateParameters, settings: DeflateSettings = {}) {
    checkWindowBits(parameters.localMaxWindowBits, "localMaxWindowBits");
    checkWindowBits(parameters.remoteMaxWindowBits, "remoteMaxWindowBits");
    const { level, memLevel, threshold } = checkSettings(settings);
    this.localNoContextTakeover = parameters.localNoContextTakeover;
    this.remoteNoContextTakeover = parameters.remoteNoContextTakeover;
    this.localMaxWindowBits = parameters.localMaxWindowBits;
    this.remoteMaxWindowBits = parameters.remoteMaxWindowBits;
    this.level = level;
    this.memLevel = memLevel;
    this.threshold = threshold;
    this.scheduleRelease = settings.scheduleRelease;
    this.inflatesFragments = settings.scheduleRelease === undefined;
  }

  /** Compresses the frames of a data message, unless it is under the threshold or `compress: false`. */
  encode(frame: Frame, options?: MessageOptions): Frame {
    const opcode = frame.opcode;
    // RFC 7692 §6.1: "An endpoint MUST NOT set the "Per-Message Compressed"
    // bit of control frames".
    if (isControlOpcode(opcode)) return frame;
    const first = opcode !== Opcode.CONT;
    if (first) {
      this.compressing =
        options?.compress !== false && !(frame.fin && frame.data.length < this.threshold);
    }
    if (!this.compressing) return frame;

    const deflater = this.deflater ?? this.openDeflater();
    this.used = true;
    let data = deflater.write([frame.data], MAX_OUTPUT_LENGTH);
    if (frame.fin) {
      // RFC 7692 §7.2.1: "Remove 4 octets (that are 0x00 0x00 0xff 0xff) from
      // the tail end." A sync flush ends with them, unless zlib had nothing
      // to flush at all: an empty message right after another one. Its
      // payload is then a lone 00, which with the 4 octets the peer appends
      // (§7.2.2) is an empty stored block (RFC 1951 §3.2.4).
      data =
        data.length === 0
          ? new Uint8Array(1)
          : data.subarray(0, data.length - EMPTY_STORED_BLOCK_TAIL.length);
      if (first && data.length > frame.data.length + MAX_EXPANSION) {
        // Incompressible data goes out as it is. The deflater has taken it in
        // and the peer won't: it is closed, and the next message starts from
        // the window, as the peer's decompressor will have it.
        this.closeDeflater();
        return frame;
      }
    }
    // The window spans the fragments of one message even without context
    // takeover: RFC 7692 §7.1.1 resets it only between messages.
    if (frame.fin && this.localNoContextTakeover) {
      this.sent = EMPTY_WINDOW;
      if (this.keepsStreams() && deflater.resettable) deflater.reset();
      else this.closeDeflater();
    } else {
      this.sent = slideWindow(this.sent, frame.data, windowSize(this.localMaxWindowBits));
      if (!this.keepsStreams()) this.closeDeflater();
    }
    // RFC 7692 §6: the "Per-Message Compressed" bit is RSV1 "of the first
    // frame of the message"; §6.1: not of the non-first fragments.
    return new Frame(opcode, data, frame.fin, first, frame.rsv2, frame.rsv3);
  }

  /**
   * Decompresses data messages that have RSV1 set on their first frame.
   * With {@link inflatesFragments}, frame by frame as they arrive: each
   * decoded frame carries what its bytes inflate to, possibly nothing.
   * Without it, or with the fallback, whose zlib stream can't continue from
   * one write to the next, fragments are held until the last one, then
   * inflated at once; the frames before come out empty.
   *
   * @throws PayloadTooBig when the message, compressed or not, exceeds
   *   `maxSize`: the room left in the message, given for each frame.
   * @throws ProtocolError (1007) when the compressed data is corrupt.
   */
  decode(frame: Frame, maxSize: number): Frame {
    const opcode = frame.opcode;
    // RSV1 on a control frame or a continuation frame stays set, and the
    // protocol fails the connection for it (RFC 7692 §6.1 forbids both).
    if (isControlOpcode(opcode)) return frame;
    const first = opcode !== Opcode.CONT;
    if (first) {
      // A message started before the previous one ended, which the protocol
      // fails the connection for: its stream is dropped rather than fed a
      // new message's bytes, so that the failure is that one (1002).
      if (this.inflatingMessage) this.abandonMessage();
      this.fragments = null;
      this.fragmentsLength = 0;
      this.encodedLength = 0;
      this.decompressing = frame.rsv1;
    } else if (frame.rsv1) {
      return frame;
    }
    if (!this.decompressing) return frame;

    // The compressed bytes of the whole message so far have a limit too, from
    // the message's limit: a message that a zlib-based peer compressed from
    // at most that many bytes is never larger (see maxEncodedSize).
    const limit = first ? maxSize : this.messageLimit;
    const maxEncodedSize = this.maxEncodedSize(limit);
    const encodedLength = this.encodedLength + frame.data.length;
    if (encodedLength > maxEncodedSize) {
      throw new PayloadTooBig(`compressed message exceeds limit of ${limit} bytes`);
    }
    if (!frame.fin) {
      this.encodedLength = encodedLength;
      this.messageLimit = limit;
      return this.decodeFragment(frame, maxSize, maxEncodedSize);
    }
    // RFC 7692 §7.2.2: "Append 4 octets of 0x00 0x00 0xff 0xff to the tail
    // end of the payload of the message", fed to zlib after it, not copied.
    const inputs =
      this.fragments === null
        ? [frame.data, EMPTY_STORED_BLOCK_TAIL]
        : [this.fragments.subarray(0, this.fragmentsLength), frame.data, EMPTY_STORED_BLOCK_TAIL];
    this.fragments = null;
    this.fragmentsLength = 0;
    this.decompressing = false;

    const data = this.inflate(inputs, maxSize);
    if (!this.remoteNoContextTakeover) {
      const capacity = windowSize(this.remoteMaxWindowBits);
      if (this.stagedLength > 0) {
        this.received = slideWindow(
          this.received,
          this.staged.subarray(0, this.stagedLength),
          capacity,
        );
        this.staged = EMPTY;
        this.stagedLength = 0;
      }
      this.received = slideWindow(this.received, data, capacity);
    }
    return new Frame(opcode, data, true, false, frame.rsv2, frame.rsv3);
  }

  /**
   * Decodes a non-final frame of a compressed message: inflated now when the
   * inflater continues from write to write, held otherwise.
   */
  private decodeFragment(frame: Frame, maxSize: number, maxEncodedSize: number): Frame {
    // RFC 6455 §5.4 and RFC 7692 §6.1: the frame comes out as a continuation
    // of its message, or its start, without RSV1 (only the first frame had it).
    let data: Uint8Array = EMPTY;
    if (!this.inflatingMessage && !this.inflatesFragments) {
      // Held without opening a stream: see inflatesFragments.
      this.hold(frame.data, maxEncodedSize);
      return new Frame(frame.opcode, data, false, false, frame.rsv2, frame.rsv3);
    }
    const inflater = this.inflater ?? this.openInflater();
    if (!inflater.continuable) {
      // The fallback inflates a whole DEFLATE stream per write: one cut at an
      // arbitrary frame boundary can't be continued, so the message waits.
      this.hold(frame.data, maxEncodedSize);
    } else {
      // RFC 7692 §7.2.2: the message's compressed data is the concatenation
      // of its frames' payloads, then the 4 octets; the payloads are fed as
      // they come, each with a sync flush, which outputs all zlib can. The
      // output is limited to the room left in the message, so that a bomb
      // spread over fragments stops at the message limit too.
      this.inflatingMessage = true;
      // Fragments held before inflatesFragments was set go first.
      const held = this.fragments;
      const inputs =
        held === null ? [frame.data] : [held.subarray(0, this.fragmentsLength), frame.data];
      this.fragments = null;
      this.fragmentsLength = 0;
      data = this.writeInflater(inflater, inputs, maxSize);
      // The next message may refer to any of it (RFC 7692 §7.1.1): the window
      // takes it at the message's end, the inflater being kept until then.
      if (!this.remoteNoContextTakeover && data.length > 0) this.stage(data);
    }
    return new Frame(frame.opcode, data, false, false, frame.rsv2, frame.rsv3);
  }

  /**
   * DEFLATE makes incompressible data larger: by the bound zlib's
   * deflateBound() gives for any settings, plus a sync flush's empty block.
   * Frames up to that size are let through, and the limit holds on what they
   * inflate to.
   */
  maxEncodedSize(maxSize: number): number {
    return maxSize + Math.ceil(maxSize / 8) + Math.ceil(maxSize / 64) + 10;
  }

  /** Whether zlib streams are open: the form of a busy connection. */
  get holdsStreams(): boolean {
    return this.deflater !== null || this.inflater !== null;
  }

  /**
   * Closes the zlib streams unless one was used since the previous call, and
   * says whether none is left open, or whether the decompressor stays open
   * for the rest of a message (see {@link releaseIdleState}), in which case
   * {@link DeflateSettings.scheduleRelease} is called again after it. The
   * sliding windows stay, so the next message continues the context where
   * it was (RFC 7692 §7.1.1). Call it
   * after {@link DeflateSettings.scheduleRelease} was called, once per
   * event-loop turn for example, until it returns `true`.
   */
  releaseIfIdle(): boolean {
    if (this.used) {
      this.used = false;
      return !this.holdsStreams;
    }
    this.releaseIdleState();
    return true;
  }

  /**
   * Closes the zlib streams now, keeping only the sliding windows: the state
   * of an idle connection. The next message opens them again.
   *
   * An inflater in the middle of a compressed message stays open until the
   * message's last frame, then {@link DeflateSettings.scheduleRelease} is
   * called again: the message's remaining frames continue its DEFLATE
   * stream, wherever the frame boundary cut it, which no window can restore.
   * {@link releaseIfIdle} returns `true` meanwhile, so that a connection
   * whose peer stalls mid-message is not checked again and again.
   */
  releaseIdleState(): void {
    this.used = false;
    this.closeDeflater();
    if (this.inflatingMessage) this.releasePending = true;
    else this.closeInflater();
  }

  /** A summary for logs: `permessage-deflate; local_max_window_bits=12; remote_max_window_bits=15`. */
  toString(): string {
    const flags = [
      this.localNoContextTakeover ? "local_no_context_takeover" : "",
      this.remoteNoContextTakeover ? "remote_no_context_takeover" : "",
      `local_max_window_bits=${this.localMaxWindowBits}`,
      `remote_max_window_bits=${this.remoteMaxWindowBits}`,
    ];
    return [this.name, ...flags.filter(Boolean)].join("; ");
  }

  /** Whether streams stay open between messages. */
  private keepsStreams(): boolean {
    return this.scheduleRelease !== undefined && nativeStreamsAvailable();
  }

  /** Opens the compressor with the window of what was sent as its dictionary. */
  private openDeflater(): ZlibStream {
    this.announceStream();
    this.deflater = openZlibStream({
      direction: "deflate",
      windowBits: zlibWindowBits(this.localMaxWindowBits),
      level: this.level,
      memLevel: this.memLevel,
      dictionary: this.sent,
    });
    return this.deflater;
  }

  /** Opens the decompressor with the window of what was received as its dictionary. */
  private openInflater(): ZlibStream {
    this.announceStream();
    this.inflater = openZlibStream({
      direction: "inflate",
      windowBits: zlibWindowBits(this.remoteMaxWindowBits),
      level: this.level,
      memLevel: this.memLevel,
      dictionary: this.received,
    });
    return this.inflater;
  }

  /** Tells the scheduler when the first stream of a busy period opens. */
  private announceStream(): void {
    // releasePending: the release scheduler let go of this extension while
    // its inflater is mid-message, so a stream opened now must be announced
    // again, or nothing would ever close it.
    if ((!this.holdsStreams || this.releasePending) && this.keepsStreams()) {
      this.scheduleRelease?.(this);
    }
  }

  private closeDeflater(): void {
    this.deflater?.close();
    this.deflater = null;
  }

  private closeInflater(): void {
    this.inflater?.close();
    this.inflater = null;
  }

  /**
   * Inflates the end of a message (all of it, or its last frame), stopping as
   * soon as its output exceeds `maxSize`.
   */
  private inflate(inputs: readonly Uint8Array[], maxSize: number): Uint8Array {
    const inflater = this.inflater ?? this.openInflater();
    const output = this.writeInflater(inflater, inputs, maxSize);
    this.inflatingMessage = false;
    // A message that ended the DEFLATE stream (BFINAL, RFC 7692 §7.2.3.4)
    // leaves the inflater unable to take more: the next message opens one
    // from the window.
    if (inflater.ended || !this.keepsStreams()) this.closeInflater();
    // Without context takeover the peer starts each message afresh; RFC
    // 7692 §7.1.1 resets the window only between messages, so after the
    // last frame, never between the frames of one.
    else if (this.remoteNoContextTakeover) inflater.reset();
    if (this.releasePending) {
      // The release that came mid-message: the scheduler checks again.
      this.releasePending = false;
      if (this.holdsStreams) this.scheduleRelease?.(this);
    }
    return output;
  }

  /** Feeds `inputs` to `inflater`, failing the connection on corrupt data or too much output. */
  private writeInflater(
    inflater: ZlibStream,
    inputs: readonly Uint8Array[],
    maxSize: number,
  ): Uint8Array {
    this.used = true;
    try {
      // The output is checked against the limit after each chunk zlib
      // produces, so a decompression bomb costs at most the limit in work
      // and memory.
      return inflater.write(inputs, maxSize);
    } catch (error) {
      // The limit of the message, not the room left in it.
      const limit = this.inflatingMessage ? this.messageLimit : maxSize;
      // The stream is unusable; the connection fails anyway.
      this.abandonMessage();
      if (error instanceof ZlibOutputTooLarge) {
        throw new PayloadTooBig(`decompressed message exceeds limit of ${limit} bytes`, {
          cause: error,
        });
      }
      throw new ProtocolError("invalid compressed data", CloseCode.INVALID_DATA, {
        cause: error,
      });
    }
  }

  /** Closes the inflater, whatever message it was in the middle of. */
  private abandonMessage(): void {
    this.inflatingMessage = false;
    this.releasePending = false;
    this.staged = EMPTY;
    this.stagedLength = 0;
    this.closeInflater();
  }

  /** Appends a fragment's plain text to {@link staged}, dropping what the window no longer needs. */
  private stage(data: Uint8Array): void {
    const capacity = windowSize(this.remoteMaxWindowBits);
    let bytes = data;
    if (bytes.length > capacity) bytes = bytes.subarray(bytes.length - capacity);
    let buffer = this.staged;
    let length = this.stagedLength;
    if (length + bytes.length > buffer.length) {
      // The newest bytes held that the window still needs.
      const kept = Math.min(length, capacity - bytes.length);
      if (buffer.length < 2 * capacity) {
        const size = Math.max(kept + bytes.length, 2 * buffer.length, 256);
        const grown = new Uint8Array(Math.min(size, 2 * capacity));
        grown.set(buffer.subarray(length - kept, length));
        buffer = grown;
        this.staged = grown;
      } else {
        buffer.copyWithin(0, length - kept, length);
      }
      length = kept;
    }
    buffer.set(bytes, length);
    this.stagedLength = length + bytes.length;
  }

  /**
   * Appends a compressed fragment to those held. One buffer, doubled as
   * needed up to `limit`, rather than a list: a peer that sends a message in
   * a million tiny or empty fragments makes this side hold their bytes, not a
   * million objects.
   */
  private hold(data: Uint8Array, limit: number): void {
    const length = data.length;
    if (length === 0) return;
    const held = this.fragmentsLength;
    const needed = held + length;
    let buffer = this.fragments;
    if (buffer === null || needed > buffer.length) {
      const grown = new Uint8Array(
        Math.min(Math.max(needed, 2 * (buffer?.length ?? 0), 256), limit),
      );
      if (buffer !== null) grown.set(buffer.subarray(0, held));
      buffer = grown;
      this.fragments = grown;
    }
    buffer.set(data, held);
    this.fragmentsLength = needed;
  }
}

/** The window zlib works with for the negotiated window bits (see {@link MIN_ZLIB_WINDOW_BITS}). */
function zlibWindowBits(bits: number): number {
  return Math.max(bits, MIN_ZLIB_WINDOW_BITS);
}

/** The bytes of plain text kept for the negotiated window bits. */
function windowSize(bits: number): number {
  return 1 << zlibWindowBits(bits);
}
