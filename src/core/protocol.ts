/**
 * The sans-I/O protocol state machine shared by clients and servers.
 *
 * The I/O layer feeds it bytes with {@link Protocol.receiveData} and
 * {@link Protocol.receiveEof}, takes events with {@link Protocol.eventsReceived},
 * writes what {@link Protocol.dataToSend} returns (an empty chunk means:
 * half-close the connection), and arms a close timer when
 * {@link Protocol.closeExpected} says so. Nothing here touches a socket or a
 * clock.
 *
 * @module
 */

import { Close, truncateReason } from "./close.js";
import { CloseCode } from "./close-codes.js";
import { InvalidState, PayloadTooBig, ProtocolError } from "./errors.js";
import type { Extension, MessageOptions } from "./extensions/base.js";
import { Frame } from "./frame.js";
import {
  FrameParser,
  type FrameParserOptions,
  startsIncompleteLargeFrame,
} from "./frame-parser.js";
import type { Headers } from "./headers.js";
import { randomMaskKey } from "./mask.js";
import { resolveMaxMessageSize } from "./message-size.js";
import { isControlOpcode, Opcode } from "./opcodes.js";
import { OutgoingBytes } from "./outgoing.js";
import { RareState } from "./protocol-rare-state.js";
import type { Request } from "./request.js";
import type { Response } from "./response.js";
import { State, stateName } from "./state.js";
import { StreamReader } from "./streams.js";
import { describeFrame, describeHead } from "./trace.js";
import { isValidUtf8, Utf8Validator } from "./utf8.js";

/** Which end of the connection a protocol plays. */
export type Side = "client" | "server";

/** What {@link Protocol.eventsReceived} returns: the handshake message, then frames. */
export type Event = Request | Response | Frame;

/** Options shared by both sides. */
export interface ProtocolOptions {
  /**
   * Largest message accepted, in bytes, after decompression; `null` (or
   * `Infinity`) for no limit. Defaults to 1 MiB. Oversized messages fail the
   * connection with 1009. Anything but a whole number from 1 throws a
   * `RangeError`: `0` would refuse every message but empty ones.
   */
  maxMessageSize?: number | null | undefined;
  /** Initial state, for tests and for connections whose handshake happened elsewhere. */
  state?: State | undefined;
  /**
   * Whether parsing stops after a complete message when the next frame is
   * large (64 KiB or more), leaving its bytes buffered until
   * {@link Protocol.resumeParsing}; {@link Protocol.parsingYielded} tells
   * when it did. An I/O layer that writes its replies before resuming answers
   * a message before spending time on the large one behind it: parsing
   * a large frame's first bytes unmasks and copies them (RFC 6455 §5.3),
   * which delayed an echo of 64 KiB messages enough to cost a fifth of the
   * throughput with two in flight. Defaults to `false`: every frame the
   * bytes hold is parsed at once.
   */
  yieldBeforeLargeFrames?: boolean | undefined;
  /**
   * Whether a protocol error found in the same bytes as complete messages
   * before it (or when parsing resumes after a yield, or after
   * {@link Protocol.decodedMessageBudget} ran out) waits for those messages
   * to be answered. The connection stays
   * open, {@link Protocol.failurePending} says so, and the I/O layer calls
   * {@link Protocol.failPending} once the application has had its turn (an
   * echo server then echoes what preceded the error, as Autobahn's cases
   * 3.2, 4.1.3 and 5.15 expect). Defaults to `false`: the connection fails
   * at once, as without messages before the error; those messages still
   * come out of {@link Protocol.eventsReceived}, but nothing can be sent in
   * answer. An I/O layer that sets this must call `failPending()`, or a peer
   * that sends nothing more is never answered.
   */
  deferFailureAfterMessages?: boolean | undefined;
  /**
   * Whether the answer to the peer's close frame waits when complete
   * messages arrived before it in the same bytes (or parsing resumed after a
   * yield, or after {@link Protocol.decodedMessageBudget} ran out). The close frame comes out
   * of {@link Protocol.eventsReceived} after them, the state stays OPEN so
   * that the application can still answer them (RFC 6455 §5.5.1 asks for
   * the answer "as soon as practical"; after it, no data frame may be sent),
   * {@link Protocol.closeReplyPending} says so, and the I/O layer calls
   * {@link Protocol.replyToClose} once the application has had its turn. A
   * peer that sends its last message and its close frame in one write then
   * gets the reply to that message, as from a server whose handlers answer
   * synchronously. Bytes after the close frame are discarded meanwhile; the
   * end of the stream sends the answer, as does {@link Protocol.sendClose}
   * or {@link Protocol.fail}. Defaults to `false`: the close frame is
   * answered as soon as it is parsed.
   */
  deferCloseReplyAfterMessages?: boolean | undefined;
}

/** Default {@link ProtocolOptions.maxMessageSize}: 1 MiB. */
export const DEFAULT_MAX_SIZE = 1024 * 1024;

const EMPTY = new Uint8Array(0);
// Shared, frozen empty results: most calls find nothing to return, and an idle
// connection shouldn't hold arrays of its own for nothing. Callers only read them.
const NO_EVENTS = Object.freeze([]) as readonly Event[] as Event[];
const NO_WRITES = Object.freeze([]) as readonly Uint8Array[] as Uint8Array[];
/** What {@link Protocol.extensions} holds until some are negotiated. */
export const NO_EXTENSIONS = Object.freeze([]) as readonly Extension[] as Extension[];
const textEncoder = new TextEncoder();

/** How incoming bytes are being handled. */
type ParserMode = "handshake" | "frames" | "paused" | "discard" | "done";

// Bits of Protocol's `flags`: one field for several booleans, on every connection.
/** The message being received is text. */
const RECEIVING_TEXT = 1;
/** The message being received was encoded by an extension (its first frame had RSV bits). */
const RECEIVING_ENCODED = 2;
/** The UTF-8 validator was started on the text frame being received. */
const TEXT_PEEKED = 4;
/** The message being sent was started but not finished. */
const SENDING_FRAGMENTED = 8;
/** This side has half-closed the connection. */
const EOF_SENT = 16;
/** Pings are answered later, the latest only; see {@link Protocol.pongsDeferred}. */
const PONGS_DEFERRED = 32;
/** {@link ProtocolOptions.yieldBeforeLargeFrames} was set. */
const YIELDS_BEFORE_LARGE_FRAMES = 64;
/** Parsing stopped before a large frame; see {@link Protocol.parsingYielded}. */
const PARSING_YIELDED = 128;
/** {@link ProtocolOptions.deferFailureAfterMessages} was set. */
const DEFERS_FAILURE = 256;
/** {@link ProtocolOptions.deferCloseReplyAfterMessages} was set. */
const DEFERS_CLOSE_REPLY = 512;
/** While a close frame is parsed: its answer may wait; see {@link Protocol.closeReplyPending}. */
const CLOSE_REPLY_MAY_WAIT = 1024;
/** Parsing stopped with decodedMessageBudget spent: held bytes wait for resumeParsing(). */
const PARSING_HELD = 2048;
/** Failed while open without a close frame (1006): still OPEN, but nothing more may be sent. */
const FAILED_WITHOUT_CLOSE = 4096;
/** The I/O layer reports its writes; see {@link Protocol.writesRecycled}. */
const WRITES_RECYCLED = 8192;
/** Received frames must be masked: a server's (RFC 6455 §5.1). */
const EXPECTS_MASKED_FRAMES = 16384;

// The options of the frame parsers: shared, since a parser is made again
// after each time the connection went idle (see Protocol.releaseIfIdle()).
const MASKED_FRAMES: FrameParserOptions = Object.freeze({ mask: true });
const UNMASKED_FRAMES: FrameParserOptions = Object.freeze({ mask: false });

/** The state machine shared by {@link ClientProtocol} and {@link ServerProtocol}. */
export abstract class Protocol {
  /** Which end this is. */
  abstract readonly side: Side;
  /** Largest message accepted, in bytes; `Infinity` for no limit. */
  readonly maxMessageSize: number;
  /**
   * Extensions negotiated during the handshake, in negotiation order. Until
   * some are, a shared frozen empty array: replace it, don't push to it.
   */
  extensions: Extension[] = NO_EXTENSIONS;

  /**
   * Bytes received and not yet parsed, and the parser of the frames among
   * them: `null` while neither holds anything (see {@link releaseIfIdle}),
   * so an idle connection keeps neither object. Reached through
   * {@link reader} and {@link frameParser}, which make them again.
   */
  private readerOrNull: StreamReader | null = null;
  private frameParserOrNull: FrameParser | null = null;
  /** Events not yet returned; the shared frozen empty array while there are none. */
  private events: Event[] = NO_EVENTS;
  /** What was queued for the network since the last {@link dataToSend}. */
  private outgoing: OutgoingBytes | null = null;
  /**
   * How received bytes are handled: parsed as the opening handshake or as
   * frames; held back while a failure is pending (`"paused"`, see
   * {@link failurePending}); dropped (`"discard"`) until the end of the
   * stream, after which nothing more is expected (`"done"`).
   */
  protected mode: ParserMode;

  private currentState: State;
  /** Size so far of the fragmented message being received, or `null` between messages. */
  private currentSize: number | null = null;
  /** The bits defined above: RECEIVING_TEXT, RECEIVING_ENCODED, …, PARSING_YIELDED, PARSING_HELD. */
  private flags = 0;
  /**
   * How many more messages decoded by an extension (permessage-deflate) may
   * be parsed before the bytes received are held back unparsed, or -1 (the
   * default) for no limit. An I/O layer that queues messages up to a bound
   * sets it to the room left in its queue, and calls {@link resumeParsing}
   * once there is room again. Without it, one read of small compressed
   * messages could inflate to many times the queue: each may expand to
   * `maxMessageSize`. Messages as they arrived need no such budget: what one
   * read completes is at most one message assembled over earlier reads and
   * the read's own bytes, so they do not hold parsing back.
   */
  decodedMessageBudget = -1;
  /** See {@link RareState}; `null` until first needed. */
  private rareState: RareState | null = null;

  /**
   * For {@link ClientProtocol} and {@link ServerProtocol}, which pass their {@link Side}.
   *
   * @param side which end this is: a server expects masked frames, a client unmasked ones.
   * @param options see {@link ProtocolOptions}; all optional. Default: `{}`.
   * @throws RangeError when `maxMessageSize` is not a whole number from 1, `null` or `Infinity`.
   */
  constructor(side: Side, options: ProtocolOptions = {}) {
    this.maxMessageSize = resolveMaxMessageSize(options.maxMessageSize, DEFAULT_MAX_SIZE);
    this.currentState = options.state ?? State.CONNECTING;
    this.mode = this.currentState === State.CONNECTING ? "handshake" : "frames";
    if (side === "server") this.flags |= EXPECTS_MASKED_FRAMES;
    if (options.yieldBeforeLargeFrames) this.flags |= YIELDS_BEFORE_LARGE_FRAMES;
    if (options.deferFailureAfterMessages) this.flags |= DEFERS_FAILURE;
    if (options.deferCloseReplyAfterMessages) this.flags |= DEFERS_CLOSE_REPLY;
  }

  /**
   * Called with a line for each handshake message, frame and end of stream,
   * `> ` for sent and `< ` for received, e.g. `< TEXT "hello" [5 bytes]`:
   * for debugging. Frames are described as the application sees them, before
   * an extension encodes them or after one decoded them, and credentials in
   * headers are redacted. `null`, the default, describes nothing.
   */
  get trace(): ((line: string) => void) | null {
    return this.rareState?.trace ?? null;
  }

  set trace(trace: ((line: string) => void) | null) {
    if (trace !== null || this.rareState !== null) this.rare().trace = trace;
  }

  /** Traces the lines of an HTTP head sent (`>`) or received (`<`), if tracing. */
  protected traceHead(direction: "<" | ">", startLine: string, headers: Headers): void {
    const trace = this.rareState?.trace;
    if (!trace) return;
    for (const line of describeHead(startLine, headers)) trace(`${direction} ${line}`);
  }

  /** The close frame received, once there is one. */
  get closeRcvd(): Close | null {
    return this.rareState?.closeRcvd ?? null;
  }

  set closeRcvd(close: Close | null) {
    this.rare().closeRcvd = close;
  }

  /** The close frame sent, once there is one. */
  get closeSent(): Close | null {
    return this.rareState?.closeSent ?? null;
  }

  set closeSent(close: Close | null) {
    this.rare().closeSent = close;
  }

  /** With both close frames, whether the received one came first. */
  get closeRcvdThenSent(): boolean | null {
    return this.rareState?.closeRcvdThenSent ?? null;
  }

  set closeRcvdThenSent(value: boolean | null) {
    this.rare().closeRcvdThenSent = value;
  }

  /** Why the opening handshake failed, if it did. */
  get handshakeExc(): Error | null {
    return this.rareState?.handshakeExc ?? null;
  }

  set handshakeExc(error: Error | null) {
    this.rare().handshakeExc = error;
  }

  /** Why the connection was failed while reading frames, if it was. */
  get parserExc(): Error | null {
    return this.rareState?.parserExc ?? null;
  }

  set parserExc(error: Error | null) {
    this.rare().parserExc = error;
  }

  /** Whether this side has half-closed the connection. */
  get eofSent(): boolean {
    return (this.flags & EOF_SENT) !== 0;
  }

  set eofSent(sent: boolean) {
    if (sent) this.flags |= EOF_SENT;
    else this.flags &= ~EOF_SENT;
  }

  /**
   * Whether bytes received are dropped unparsed: once a close frame was
   * received (RFC 6455 §1.4: "a peer discards any further data received")
   * or the connection failed (§7.1.7: "MUST NOT continue to attempt to
   * process data"), and after the end of the stream. Nothing received then
   * produces output: no pong, not even a deferred one (see {@link pongsDeferred}),
   * and no close frame.
   */
  get discardingInput(): boolean {
    return this.mode === "discard" || this.mode === "done";
  }

  /**
   * Whether pings wait for their pong. An I/O layer whose writes back up,
   * because the peer does not read them, sets it: each ping received
   * meanwhile replaces the one before it instead of adding a pong to the
   * backlog, as RFC 6455 §5.5.3 allows ("If an endpoint receives a Ping
   * frame and has not yet sent Pong frame(s) in response to previous Ping
   * frame(s), the endpoint MAY elect to send a Pong frame for only the most
   * recently processed Ping frame"). A peer that floods pings and reads
   * nothing then costs one pong, and reading need not stop for it; reading
   * that stopped for the backlog would leave two such peers, each waiting
   * for the other to read, stuck for good.
   *
   * Clearing it sends the pong of the latest ping received meanwhile (§5.5.2:
   * "as soon as is practical"), unless the input is discarded by then: no
   * pong follows a close frame received (§5.5.2) or a failure (§7.1.7).
   */
  get pongsDeferred(): boolean {
    return (this.flags & PONGS_DEFERRED) !== 0;
  }

  set pongsDeferred(deferred: boolean) {
    if (deferred) {
      this.flags |= PONGS_DEFERRED;
      return;
    }
    this.flags &= ~PONGS_DEFERRED;
    const rare = this.rareState;
    const data = rare?.deferredPong ?? null;
    if (data === null) return;
    rare!.deferredPong = null;
    if (!this.discardingInput) this.sendFrame(new Frame(Opcode.PONG, data));
  }

  /** The connection's state. */
  get state(): State {
    return this.currentState;
  }

  /**
   * Set by the I/O layer to {@link State.CLOSED} when the connection is lost
   * without the protocol seeing the end of the stream.
   */
  set state(state: State) {
    this.currentState = state;
  }

  /** The close code to report: the received one, else 1006 (or `null` while open). */
  get closeCode(): number | null {
    if (this.currentState !== State.CLOSED) return null;
    return this.closeRcvd?.code ?? CloseCode.ABNORMAL_CLOSURE;
  }

  /** The close reason received, or `""` (or `null` while open). */
  get closeReason(): string | null {
    if (this.currentState !== State.CLOSED) return null;
    return this.closeRcvd?.reason ?? "";
  }

  // --- Receiving ---------------------------------------------------------

  /** The bytes received and not yet parsed; made when first needed again. */
  protected get reader(): StreamReader {
    this.readerOrNull ??= new StreamReader();
    return this.readerOrNull;
  }

  /** The parser of received frames; made when first needed again. */
  private get frameParser(): FrameParser {
    let parser = this.frameParserOrNull;
    if (parser === null) {
      const expectsMasked = (this.flags & EXPECTS_MASKED_FRAMES) !== 0;
      parser = new FrameParser(expectsMasked ? MASKED_FRAMES : UNMASKED_FRAMES);
      parser.maxMessageSize = this.maxMessageSize;
      this.frameParserOrNull = parser;
    }
    return parser;
  }

  /**
   * Drops the reader and the frame parser once they hold nothing: no bytes
   * buffered, no end of stream, no frame header awaiting its payload, no
   * fragmented message in progress (whose frames the parser checks against
   * the size limit and, when text, as text). Most connections are idle most
   * of the time, and both objects are the same again when the next bytes
   * arrive; dropping them saves their memory on every idle connection for
   * the cost of making them once per read that finds the connection idle.
   */
  private releaseIfIdle(): void {
    const reader = this.readerOrNull;
    if (reader !== null && (reader.length > 0 || reader.atEof)) return;
    if (this.currentSize !== null) return;
    const parser = this.frameParserOrNull;
    if (parser !== null && parser.pendingHeader >= 0) return;
    this.readerOrNull = null;
    this.frameParserOrNull = null;
  }

  /**
   * Feeds bytes received from the network. The protocol takes ownership of
   * `data` and may unmask it in place.
   *
   * @throws InvalidState after {@link receiveEof}.
   */
  receiveData(data: Uint8Array): void {
    if (this.reader.atEof) throw new InvalidState("data received after end of stream");
    this.reader.feedData(data);
    if (this.rareState?.pendingError) this.failPending();
    else this.step();
  }

  /**
   * Feeds bytes that sit in memory the I/O layer reads into again once this
   * returns (one read buffer that many sockets share), when they can be
   * parsed where they lie: when they start a large frame, with nothing else
   * buffered, its header and the first part of its payload, which is copied
   * (and unmasked) into the buffer the payload is assembled in, as
   * {@link receiveData} would copy it; whatever stays buffered (too little of
   * the payload came to start assembling it, or parsing waits for the
   * application) is copied too. The I/O layer then need not copy the read
   * first. Returns `false`, having done nothing, for other bytes: the I/O
   * layer copies them and passes the copy to {@link receiveData}.
   *
   * @throws InvalidState after {@link receiveEof}.
   */
  receiveBorrowedData(data: Uint8Array): boolean {
    const reader = this.readerOrNull;
    if (
      this.mode !== "frames" ||
      (reader !== null && reader.length > 0) ||
      (this.frameParserOrNull?.pendingHeader ?? -1) >= 0 ||
      this.rareState?.pendingError ||
      !startsIncompleteLargeFrame(data)
    ) {
      return false;
    }
    try {
      this.receiveData(data);
    } finally {
      this.readerOrNull?.copyBuffered();
    }
    return true;
  }

  /**
   * Where the next bytes from the network may be read straight into, or
   * `null`: the part of a large frame's payload still to arrive, while it is
   * assembled and nothing else is buffered. The I/O layer passes a view of
   * the part its read filled to {@link receiveData}, which then copies
   * nothing. Valid until the next call to {@link receiveData}; should the
   * connection fail or stop reading frames meanwhile, bytes read into it
   * are still bytes of the stream, and are handled (or dropped) as such.
   */
  receiveBuffer(): Uint8Array | null {
    // Without a parser, no frame is being assembled.
    const parser = this.frameParserOrNull;
    if (this.mode !== "frames" || parser === null) return null;
    return parser.unfilledAssembly(this.reader);
  }

  /**
   * Parses the bytes held back once {@link decodedMessageBudget} ran out,
   * within the budget now set, or once parsing yielded before a large frame
   * (see {@link parsingYielded}).
   */
  resumeParsing(): void {
    this.step();
  }

  /**
   * Whether the last {@link receiveData} or {@link resumeParsing} stopped
   * after a complete message, with a large frame next in the buffered bytes
   * (see {@link ProtocolOptions.yieldBeforeLargeFrames}). The I/O layer
   * delivers the events, writes what the application answered, then calls
   * {@link resumeParsing}; until it does, the buffered bytes wait.
   */
  get parsingYielded(): boolean {
    return (this.flags & PARSING_YIELDED) !== 0 && this.mode === "frames";
  }

  /** Records that the peer half-closed the connection. Calling it twice has no effect. */
  receiveEof(): void {
    if (this.reader.atEof) return;
    this.rareState?.trace?.("< EOF");
    this.reader.feedEof();
    if (this.rareState?.pendingError) this.failPending();
    else this.step();
  }

  /**
   * Whether the bytes received break the protocol after frames that are still
   * to be delivered (a complete message or a control frame, or anything
   * parsed before a yield, see {@link parsingYielded}, or before the
   * {@link decodedMessageBudget} ran out); only with
   * {@link ProtocolOptions.deferFailureAfterMessages}.
   * Those frames come out of {@link eventsReceived} first and
   * the connection stays open, so that the application can answer them (an
   * echo server echoes the messages that preceded the error, as Autobahn's
   * cases 3.2, 4.1.3 or 5.15 expect). Then the I/O layer calls
   * {@link failPending}; receiving more data or the end of the stream also
   * fails the connection.
   */
  get failurePending(): boolean {
    return (this.rareState?.pendingError ?? null) !== null;
  }

  /** Fails the connection for the error that {@link failurePending} reported; else does nothing. */
  failPending(): void {
    const rare = this.rareState;
    const error = rare?.pendingError;
    if (!error) return;
    rare!.pendingError = null;
    this.failFor(error);
  }

  /**
   * Returns and clears the events parsed since the last call. When there are
   * none, the array is a shared frozen one: read it, don't modify it.
   */
  eventsReceived(): Event[] {
    const events = this.events;
    if (events.length === 0) return NO_EVENTS;
    this.events = NO_EVENTS;
    return events;
  }

  /**
   * Set by an I/O layer that, once each chunk of {@link dataToSend} was
   * written (or dropped unwritten), calls what `recyclerOf(chunk)` returns
   * for it: a client's large frames may then be masked into memory that is
   * handed out again after the call (`takeFrameSlot()`). Default: `false`.
   *
   * @internal
   */
  get writesRecycled(): boolean {
    return (this.flags & WRITES_RECYCLED) !== 0;
  }

  /** @internal */
  set writesRecycled(recycled: boolean) {
    if (recycled) this.flags |= WRITES_RECYCLED;
    else this.flags &= ~WRITES_RECYCLED;
  }

  /**
   * Returns and clears the bytes to write. An empty chunk means: half-close
   * the connection (end the write side) after writing what precedes it.
   * When there is nothing to write, the array is a shared frozen one: read
   * it, don't modify it.
   */
  dataToSend(): Uint8Array[] {
    const outgoing = this.outgoing;
    if (outgoing === null) return NO_WRITES;
    this.outgoing = null;
    return outgoing.take();
  }

  /** Queues an event for {@link eventsReceived}. */
  protected pushEvent(event: Event): void {
    if (this.events === NO_EVENTS) this.events = [event];
    else this.events.push(event);
  }

  /** The queue of bytes to write, made when the first chunk is queued. */
  protected output(): OutgoingBytes {
    if (this.outgoing === null) {
      this.outgoing = new OutgoingBytes((this.flags & WRITES_RECYCLED) !== 0);
    }
    return this.outgoing;
  }

  /**
   * Whether the I/O layer should expect the TCP connection to close soon and
   * arm a timer to close it itself if it does not: after a handshake failure,
   * or once the closing handshake started.
   */
  closeExpected(): boolean {
    return (
      this.currentState === State.CLOSING ||
      this.handshakeExc !== null ||
      ((this.flags & FAILED_WITHOUT_CLOSE) !== 0 && this.currentState === State.OPEN)
    );
  }

  /** Parses the opening handshake's HTTP message; returns true once the handshake completed. */
  protected abstract parseHandshake(): boolean;

  /** The UTF-8 validator for text that arrives in pieces, created on first use. */
  private validator(): Utf8Validator {
    const rare = this.rare();
    rare.utf8 ??= new Utf8Validator();
    return rare.utf8;
  }

  /** The state an open connection rarely needs, created now if it wasn't. */
  private rare(): RareState {
    this.rareState ??= new RareState();
    return this.rareState;
  }

  /** Runs the parser for the current mode over the buffered bytes. */
  protected step(): void {
    if (this.mode === "handshake" && this.parseHandshake()) this.mode = "frames";
    if (this.mode === "frames") this.parseFrames();
    if (this.mode === "discard") this.discard();
  }

  private parseFrames(): void {
    const reader = this.reader;
    const parser = this.frameParser;
    parser.limitEncodedSize(this.maxEncodedSize(), this.maxMessageSize);
    const eventsBefore = this.events.length;
    // Resuming after a yield, or after the budget of decoded messages ran
    // out: the messages before may still await their answers.
    const resumed = (this.flags & (PARSING_YIELDED | PARSING_HELD)) !== 0;
    this.flags &= ~(PARSING_YIELDED | PARSING_HELD);
    try {
      while (this.mode === "frames" && this.decodedMessageBudget !== 0) {
        const frame = parser.parse(reader);
        if (frame === null) {
          // A clean close replaces this parser before the end of the stream,
          // so reaching it here means the peer vanished without a close frame.
          if (reader.atEof) {
            this.parserExc = new ProtocolError(
              "unexpected end of stream",
              CloseCode.ABNORMAL_CLOSURE,
            );
            this.fail(CloseCode.ABNORMAL_CLOSURE, "unexpected end of stream");
          }
          this.checkPendingHeader();
          this.releaseIfIdle();
          return;
        }
        if (
          frame.opcode === Opcode.CLOSE &&
          (this.flags & DEFERS_CLOSE_REPLY) !== 0 &&
          this.answersAwaited(resumed, eventsBefore)
        ) {
          // Answered once the messages before it were, if valid; see closeReplyPending.
          this.flags |= CLOSE_REPLY_MAY_WAIT;
        }
        this.receiveFrame(frame);
        this.flags &= ~CLOSE_REPLY_MAY_WAIT;
        if (
          (this.flags & YIELDS_BEFORE_LARGE_FRAMES) !== 0 &&
          frame.fin &&
          !isControlOpcode(frame.opcode) &&
          parser.nextFrameIsLarge(reader)
        ) {
          this.flags |= PARSING_YIELDED;
          return;
        }
      }
      // Out of budget with bytes left: they are parsed on resumeParsing(), after
      // the messages before them were queued. With none left, nothing is held.
      if (this.mode === "frames" && this.reader.length > 0) this.flags |= PARSING_HELD;
      else this.releaseIfIdle();
    } catch (error) {
      this.flags &= ~CLOSE_REPLY_MAY_WAIT;
      if ((this.flags & DEFERS_FAILURE) !== 0 && this.answersAwaited(resumed, eventsBefore)) {
        // Deliver what arrived before the error first; see failurePending.
        this.rare().pendingError = error as Error;
        this.mode = "paused";
      } else {
        this.failFor(error as Error);
      }
    }
  }

  /**
   * Whether the application may owe answers to what this parse delivered: the
   * connection is open, and a message or a control frame was received since
   * event `eventsBefore`, or parsing resumed after a yield or after the
   * budget of decoded messages ran out (the messages before may still await
   * their answers).
   */
  private answersAwaited(resumed: boolean, eventsBefore: number): boolean {
    return this.currentState === State.OPEN && (resumed || this.completedSince(eventsBefore));
  }

  /** Whether a message or a control frame was received since event `index`. */
  private completedSince(index: number): boolean {
    const events = this.events;
    for (let i = index; i < events.length; i++) if ((events[i] as Frame).fin) return true;
    return false;
  }

  /** Fails the connection with the close code that `error` calls for. */
  private failFor(error: Error): void {
    this.parserExc = error;
    if (error instanceof ProtocolError) {
      this.fail(error.closeCode, error.message);
    } else {
      // RFC 6455 §7.4.1: 1011 "encountered an unexpected condition"; the
      // details stay on this side.
      this.fail(CloseCode.INTERNAL_ERROR, "");
    }
  }

  /**
   * Checks what can be checked of a frame whose payload is still arriving:
   * RSV bits that no negotiated extension uses fail it from its header, as
   * its size does (receiveFrame() would refuse it once complete, after a peer
   * may have held it back for good); then the UTF-8 of a text frame's payload
   * so far.
   */
  private checkPendingHeader(): void {
    const header = this.frameParser.pendingHeader;
    // RFC 6455 §5.2: RSV1-3 "MUST be 0 unless an extension is negotiated that
    // defines meanings for non-zero values".
    const reserved = header & 0x70;
    if (header >= 0 && reserved !== 0 && (reserved & ~this.extensionReservedBits()) !== 0) {
      throw new ProtocolError("reserved bits must be 0");
    }
    this.validatePartialText();
  }

  /**
   * The RSV bits the negotiated extensions may set, as a mask of a frame's
   * first byte; an extension that doesn't say may set any of them.
   */
  private extensionReservedBits(): number {
    const extensions = this.extensions;
    let bits = 0;
    for (let i = 0; i < extensions.length; i++) bits |= extensions[i]!.reservedBits ?? 0x70;
    return bits;
  }

  /**
   * Checks the UTF-8 of a text frame's payload received so far, so that a
   * frame carrying invalid UTF-8 fails the connection as soon as the invalid
   * bytes arrive, not when the whole frame has (Autobahn cases 6.4.x).
   * Frames with RSV bits, or in messages that started with one, are encoded
   * by an extension (permessage-deflate sets RSV1): they are checked once
   * decoded.
   */
  private validatePartialText(): void {
    const header = this.frameParser.pendingHeader;
    if (header < 0 || (header & 0x70) !== 0 || this.reader.length === 0) return;
    const opcode = header & 0x0f;
    // A TEXT frame inside an unfinished message is an error that receiveFrame() reports.
    const startsText = opcode === Opcode.TEXT && this.currentSize === null;
    const continuesText =
      opcode === Opcode.CONT &&
      this.currentSize !== null &&
      (this.flags & (RECEIVING_TEXT | RECEIVING_ENCODED)) === RECEIVING_TEXT;
    if (!startsText && !continuesText) return;
    const views = this.frameParser.peekPayload(this.reader);
    if (views.length === 0) return;
    const utf8 = this.validator();
    if (opcode === Opcode.TEXT && (this.flags & TEXT_PEEKED) === 0) {
      utf8.reset();
      this.flags |= TEXT_PEEKED;
    }
    for (const view of views) {
      if (!utf8.feed(view, false)) {
        throw new ProtocolError("invalid UTF-8 in text message", CloseCode.INVALID_DATA);
      }
    }
  }

  private receiveFrame(frame: Frame): void {
    const opcode = frame.opcode;
    const peeked = this.frameParser.peekedLength;
    const encoded = frame.rsv1 || frame.rsv2 || frame.rsv3;
    this.flags &= ~TEXT_PEEKED;
    const extensions = this.extensions;
    if (extensions.length > 0) {
      const limit =
        this.currentSize === null ? this.maxMessageSize : this.maxMessageSize - this.currentSize;
      for (let i = extensions.length - 1; i >= 0; i--) frame = extensions[i]!.decode(frame, limit);
      // The frame parser allowed for what extensions add; the limit holds on what they decoded.
      if (!isControlOpcode(opcode) && frame.data.length > limit) {
        throw new PayloadTooBig(`message exceeds limit of ${this.maxMessageSize} bytes`);
      }
      // Received payloads are views of ArrayBuffers (the Node layer types them
      // so): an extension of the application's own may decode into shared memory.
      if (!(frame.data.buffer instanceof ArrayBuffer)) frame = inArrayBuffer(frame);
    }
    const trace = this.rareState?.trace;
    if (trace) trace(`< ${describeFrame(frame)}`);
    // RFC 6455 §5.2: RSV1-3 "MUST be 0 unless an extension is negotiated that
    // defines meanings for non-zero values".
    if (frame.rsv1 || frame.rsv2 || frame.rsv3) throw new ProtocolError("reserved bits must be 0");

    if (opcode === Opcode.TEXT || opcode === Opcode.BINARY) {
      // RFC 6455 §5.4: "fragments of one message MUST NOT be interleaved
      // between the fragments of another message".
      if (this.currentSize !== null) throw new ProtocolError("expected a continuation frame");
      const isText = opcode === Opcode.TEXT;
      this.flags =
        (this.flags & ~(RECEIVING_TEXT | RECEIVING_ENCODED)) |
        (isText ? RECEIVING_TEXT : 0) |
        (encoded ? RECEIVING_ENCODED : 0);
      if (isText) {
        const valid =
          peeked > 0
            ? this.validator().feed(frame.data.subarray(peeked), frame.fin)
            : frame.fin
              ? isValidUtf8(frame.data)
              : this.startUtf8(frame.data);
        if (!valid)
          throw new ProtocolError("invalid UTF-8 in text message", CloseCode.INVALID_DATA);
      }
      this.currentSize = frame.fin ? null : frame.data.length;
    } else if (opcode === Opcode.CONT) {
      if (this.currentSize === null) throw new ProtocolError("unexpected continuation frame");
      const rest = peeked > 0 ? frame.data.subarray(peeked) : frame.data;
      if ((this.flags & RECEIVING_TEXT) !== 0 && !this.validator().feed(rest, frame.fin)) {
        throw new ProtocolError("invalid UTF-8 in text message", CloseCode.INVALID_DATA);
      }
      this.currentSize = frame.fin ? null : this.currentSize + frame.data.length;
    } else if (opcode === Opcode.PING) {
      // RFC 6455 §5.5.2: "Upon receipt of a Ping frame, an endpoint MUST send
      // a Pong frame in response ... The Pong frame MUST have identical
      // 'Application data' as found in the message body of the Ping frame".
      if ((this.flags & PONGS_DEFERRED) === 0) this.sendFrame(new Frame(Opcode.PONG, frame.data));
      // A copy: the payload may be a view of a whole read, which the pong would keep alive.
      else this.rare().deferredPong = new Uint8Array(frame.data);
    } else if (opcode === Opcode.CLOSE) {
      this.receiveClose(frame);
      return;
    }
    // RFC 6455 §5.5.3: "A response to an unsolicited Pong frame is not expected."
    this.pushEvent(frame);
    // CONT, TEXT and BINARY: a data message is complete; it counts if an extension decoded it.
    if (
      frame.fin &&
      opcode <= Opcode.BINARY &&
      (this.flags & RECEIVING_ENCODED) !== 0 &&
      this.decodedMessageBudget > 0
    ) {
      this.decodedMessageBudget--;
    }
  }

  /** The limit on a message's frames as received: the message limit, plus what extensions add. */
  private maxEncodedSize(): number {
    let limit = this.maxMessageSize;
    // Extensions encode in negotiation order, so the last one's encoding is on the wire.
    // An index loop: this runs on every read, where for-of over the (usually
    // empty) list measured three times slower.
    const extensions = this.extensions;
    for (let i = 0; i < extensions.length; i++) {
      limit = extensions[i]!.maxEncodedSize?.(limit) ?? limit;
    }
    return limit;
  }

  private startUtf8(data: Uint8Array): boolean {
    const utf8 = this.validator();
    utf8.reset();
    return utf8.feed(data, false);
  }

  private receiveClose(frame: Frame): void {
    this.closeRcvd = Close.parse(frame.data);
    if (this.currentState === State.CLOSING) this.closeRcvdThenSent = false;
    // RFC 6455 §5.4: "Control frames ... MAY be injected in the middle of a
    // fragmented message"; a close there abandons the unfinished message.
    this.currentSize = null;
    this.pushEvent(frame);
    // RFC 6455 §1.4: "after receiving a control frame indicating the connection
    // should be closed, a peer discards any further data received."
    this.mode = "discard";
    if ((this.flags & CLOSE_REPLY_MAY_WAIT) !== 0 && this.currentState === State.OPEN) {
      // A copy: the payload may be a view of a whole read.
      this.rare().closeReply = new Uint8Array(frame.data);
    } else {
      this.answerClose(frame.data);
    }
  }

  /**
   * Sends the answer to the close frame received, its `payload` echoed, then,
   * on the server, the end of the stream.
   */
  private answerClose(payload: Uint8Array): void {
    if (this.rareState !== null) this.rareState.closeReply = null;
    if (this.currentState === State.OPEN) {
      // RFC 6455 §5.5.1: "If an endpoint receives a Close frame and did not
      // previously send a Close frame, the endpoint MUST send a Close frame in
      // response. (When sending a Close frame in response, the endpoint
      // typically echos the status code it received.)" Echoing the payload
      // also covers an empty one, which has no code to echo.
      this.sendFrame(new Frame(Opcode.CLOSE, payload));
      this.closeSent = this.closeRcvd;
      this.closeRcvdThenSent = true;
      this.currentState = State.CLOSING;
    }
    // RFC 6455 §7.1.1: "the server MUST close the underlying TCP connection
    // immediately; the client SHOULD wait for the server to close the connection".
    if (this.side === "server" && !this.eofSent) this.sendEof();
  }

  /**
   * Whether the peer's close frame waits for its answer, after messages that
   * arrived with it; only with
   * {@link ProtocolOptions.deferCloseReplyAfterMessages}. The state is OPEN
   * meanwhile: the application may still send. Then the I/O layer calls
   * {@link replyToClose}.
   */
  get closeReplyPending(): boolean {
    return (this.rareState?.closeReply ?? null) !== null;
  }

  /** Answers the close frame that {@link closeReplyPending} reported; else does nothing. */
  replyToClose(): void {
    const payload = this.rareState?.closeReply;
    if (payload) this.answerClose(payload);
  }

  /** Drops incoming bytes until the end of the stream, then closes. */
  private discard(): void {
    this.reader.discard(this.reader.length);
    if (!this.reader.atEof) return;
    // The answer to the peer's close frame goes before the end of the stream.
    this.replyToClose();
    // The server has sent EOF already; the client closes its side once the
    // server has closed its own (RFC 6455 §7.1.1).
    if (!this.eofSent) this.sendEof();
    this.currentState = State.CLOSED;
    this.mode = "done";
  }

  // --- Sending -----------------------------------------------------------

  /**
   * Sends a text frame. `fin: false` starts a fragmented message that
   * {@link sendContinuation} continues. Strings are encoded as UTF-8; bytes
   * must already be UTF-8. `options` go to the extensions with every frame of
   * the message, e.g. `{ compress: false }`.
   *
   * @throws InvalidState unless the connection is open and no fragmented message is in progress.
   */
  sendText(data: Uint8Array | string, fin = true, options?: MessageOptions): void {
    const bytes = typeof data === "string" ? textEncoder.encode(data) : data;
    this.startMessage(Opcode.TEXT, bytes, fin, options);
  }

  /** Sends a binary frame; see {@link sendText}. */
  sendBinary(data: Uint8Array, fin = true, options?: MessageOptions): void {
    this.startMessage(Opcode.BINARY, data, fin, options);
  }

  /**
   * Sends the next fragment of a message started with `fin: false`.
   *
   * @throws InvalidState unless a fragmented message is in progress on an open connection.
   */
  sendContinuation(data: Uint8Array | string, fin: boolean): void {
    if ((this.flags & SENDING_FRAGMENTED) === 0) {
      throw new InvalidState("no fragmented message to continue");
    }
    this.checkOpen();
    if (fin) this.flags &= ~SENDING_FRAGMENTED;
    const rare = this.rareState;
    const options = rare?.sendingOptions;
    if (fin && rare !== null) rare.sendingOptions = undefined;
    this.sendFrame(
      new Frame(Opcode.CONT, typeof data === "string" ? textEncoder.encode(data) : data, fin),
      options,
    );
  }

  /**
   * Sends a ping. RFC 6455 allows control frames after the closing handshake
   * started, so this works while open or closing.
   */
  sendPing(data: Uint8Array | string = EMPTY): void {
    this.sendControl(Opcode.PING, data);
  }

  /** Sends a pong; see {@link sendPing}. */
  sendPong(data: Uint8Array | string = EMPTY): void {
    this.sendControl(Opcode.PONG, data);
  }

  /**
   * Starts the closing handshake (RFC 6455 §7.1.2). Without a code, sends an
   * empty close frame, which the peer reports as 1005.
   *
   * @throws InvalidState unless open, or for a code that may not be sent or a
   *   reason over 123 bytes.
   */
  sendClose(code?: number, reason = ""): void {
    this.checkOpen();
    let close: Close;
    let data: Uint8Array;
    if (code === undefined) {
      if (reason !== "") throw new InvalidState("cannot send a reason without a code");
      close = new Close(CloseCode.NO_STATUS_RCVD, "");
      data = EMPTY;
    } else {
      close = new Close(code, reason);
      data = close.serialize();
    }
    this.sendFrame(new Frame(Opcode.CLOSE, data));
    this.closeSent = close;
    this.currentState = State.CLOSING;
    // The peer's close frame waited for its answer (closeReplyPending): this is it.
    const waiting = this.rareState?.closeReply;
    if (waiting) {
      this.closeRcvdThenSent = true;
      this.answerClose(waiting);
    }
  }

  /**
   * Fails the connection (RFC 6455 §7.1.7): sends a close frame with `code`
   * while the state is OPEN (unless `code` is 1006, meaning the network
   * failed), half-closes on the server, and ignores everything received
   * afterwards.
   *
   * With 1006, the state stays OPEN (no close frame was sent, so the closing
   * handshake didn't start), but sending anything more throws
   * `InvalidState`, and {@link closeExpected} is `true`: the I/O layer closes
   * the TCP connection.
   *
   * @throws InvalidState while OPEN, for a code that may not be sent
   *   (RFC 6455 §7.4: 1004, 1005, 1015–2999, and outside 1000–4999).
   */
  fail(code: number, reason = ""): void {
    // After fail(1006), nothing more is sent: not even this close frame.
    const open = this.currentState === State.OPEN && (this.flags & FAILED_WITHOUT_CLOSE) === 0;
    if (open && code !== CloseCode.ABNORMAL_CLOSURE) {
      const close = new Close(code, truncateReason(reason));
      this.sendFrame(new Frame(Opcode.CLOSE, close.serialize()));
      this.closeSent = close;
      // The answer to the peer's close frame, if it waited (closeReplyPending).
      if (this.closeReplyPending) this.closeRcvdThenSent = true;
      this.currentState = State.CLOSING;
    } else if (open) {
      // 1006: the state stays OPEN, as no close frame was sent (Python's
      // websockets does the same), but the connection is over: a frame sent
      // now would follow the server's end of stream, and the TCP connection
      // should close (closeExpected()).
      this.flags |= FAILED_WITHOUT_CLOSE;
    }
    // Failing, nothing more is answered.
    if (this.rareState !== null) this.rareState.closeReply = null;
    // RFC 6455 §7.1.7: "An endpoint MUST NOT continue to attempt to process
    // data (including a responding Close frame) from the remote endpoint after
    // being instructed to _Fail the WebSocket Connection_." A server closes
    // the TCP connection at once; a client waits for the server to do it.
    if (this.side === "server" && !this.eofSent) this.sendEof();
    this.mode = "discard";
    this.discard();
  }

  /** Queues a half-close of the connection. */
  protected sendEof(): void {
    this.rareState?.trace?.("> EOF");
    this.eofSent = true;
    this.output().push(EMPTY);
  }

  /** Runs a frame through the negotiated extensions, then serializes and queues it. */
  protected sendFrame(frame: Frame, options?: MessageOptions): void {
    const trace = this.rareState?.trace;
    if (trace) trace(`> ${describeFrame(frame)}`);
    const extensions = this.extensions;
    for (let i = 0; i < extensions.length; i++) frame = extensions[i]!.encode(frame, options);
    // Small frames extend the last pending chunk: one write for many frames.
    this.output().appendFrame(frame, this.side === "client" ? this.maskKey() : null);
  }

  /** The masking key for the next frame a client sends. */
  protected maskKey(): Uint8Array {
    return randomMaskKey();
  }

  private startMessage(
    opcode: Opcode,
    data: Uint8Array,
    fin: boolean,
    options: MessageOptions | undefined,
  ): void {
    if ((this.flags & SENDING_FRAGMENTED) !== 0) {
      throw new InvalidState("expected a continuation frame");
    }
    this.checkOpen();
    if (!fin) this.flags |= SENDING_FRAGMENTED;
    if (!fin && options !== undefined) this.rare().sendingOptions = options;
    else if (this.rareState !== null) this.rareState.sendingOptions = undefined;
    if (this.extensions.length > 0 || this.rareState?.trace) {
      this.sendFrame(new Frame(opcode, data, fin), options);
      return;
    }
    // No extension to transform it and no trace to describe it: the message
    // goes out as it is, without a Frame (RFC 6455 §5.2: FIN, then the opcode).
    this.output().append(
      fin ? 0x80 | opcode : opcode,
      data,
      this.side === "client" ? this.maskKey() : null,
    );
  }

  private sendControl(opcode: Opcode, data: Uint8Array | string): void {
    if (this.currentState !== State.OPEN && this.currentState !== State.CLOSING) {
      throw new InvalidState(`connection is ${stateName(this.currentState)}`);
    }
    if (this.eofSent) throw new InvalidState("connection is half-closed");
    if ((this.flags & FAILED_WITHOUT_CLOSE) !== 0) throw new InvalidState("connection failed");
    const bytes = typeof data === "string" ? textEncoder.encode(data) : data;
    // RFC 6455 §5.5: "All control frames MUST have a payload length of 125 bytes or less".
    if (bytes.length > 125) throw new InvalidState("control frame payload exceeds 125 bytes");
    this.sendFrame(new Frame(opcode, bytes));
  }

  private checkOpen(): void {
    if (this.currentState !== State.OPEN) {
      throw new InvalidState(`connection is ${stateName(this.currentState)}`);
    }
    if ((this.flags & FAILED_WITHOUT_CLOSE) !== 0) throw new InvalidState("connection failed");
  }
}

/**
 * `frame` with a copy of its payload in an ArrayBuffer of its own: made by
 * the constructor, as `slice()` of a Node `Buffer` is a view of the same memory.
 */
function inArrayBuffer(frame: Frame): Frame {
  const data = new Uint8Array(frame.data);
  return new Frame(frame.opcode, data, frame.fin, frame.rsv1, frame.rsv2, frame.rsv3);
}
