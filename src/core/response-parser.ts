/**
 * {@link ResponseParser}: the client's incremental parser of handshake
 * responses, bodies included.
 *
 * It reads from a {@link StreamReader}, takes complete lines as they arrive,
 * and moves the bytes of an incomplete line, and of the body, into buffers of
 * its own, so a peer sending one byte at a time costs linear time overall.
 * It never consumes a byte past the end of the response: after a 101, what
 * follows belongs to the WebSocket frames.
 *
 * @module
 */

import { ByteBuffer } from "./byte-buffer.js";
import { quoteText } from "./control-characters.js";
import { InvalidMessage } from "./errors.js";
import { contentLength, readFields, readHeadLine } from "./field-lines.js";
import { Headers } from "./headers.js";
import { type HttpLimits, withDefaults } from "./http-limits.js";
import { latin1Decode } from "./latin1.js";
import { LineBuffer } from "./line-buffer.js";
import type { Resolved } from "./resolved.js";
import { Response } from "./response.js";
import { isDigit, isReasonPhrase, parseStatusLine } from "./start-line.js";
import type { StreamReader } from "./streams.js";

const CR = 0x0d;
const LF = 0x0a;

/** The value of a HEXDIG (RFC 5234 §B.1, either case), or -1. */
function hexValue(code: number): number {
  if (isDigit(code)) return code - 0x30;
  const lower = code | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1;
}

/** Where a {@link ResponseParser} stands. */
const ResponseState = {
  StatusLine: 0,
  Headers: 1,
  /** Reading `remaining` bytes of a Content-Length body. */
  Body: 2,
  ChunkSize: 3,
  /** Reading `remaining` bytes of a chunk. */
  ChunkData: 4,
  ChunkEnd: 5,
  Trailers: 6,
  /** Reading until EOF. */
  BodyToEof: 7,
} as const;
type ResponseState = (typeof ResponseState)[keyof typeof ResponseState];

/**
 * Parses handshake responses, incrementally, for the client.
 *
 * The body's length follows RFC 9112 §6.3: none for 1xx (so none after a 101:
 * the next bytes are frames), 204 and 304; `Transfer-Encoding: chunked`, decoded,
 * trailer fields discarded; `Content-Length`; otherwise everything until EOF.
 * Other transfer codings are refused. Call {@link ResponseParser.parse}
 * whenever bytes arrive, and once more after `reader.feedEof()`.
 * Errors are {@link InvalidMessage}; a body larger than `maxBodySize` has status 413.
 * After an error the parser throws it again on every call.
 */
export class ResponseParser {
  readonly #limits: Resolved<HttpLimits>;
  readonly #lines = new LineBuffer();
  #state: ResponseState = ResponseState.StatusLine;
  #status = 0;
  #reason = "";
  #headers = new Headers();
  #trailers = new Headers();
  /** The body received so far, after chunked decoding; never more than `maxBodySize` bytes. */
  readonly #body = new ByteBuffer();
  #remaining = 0;
  #error: unknown = null;

  /**
   * A parser waiting for the first byte of a response.
   *
   * @param limits the limits on responses; each omitted one takes its default
   *   (see {@link HttpLimits}). Default: `{}`.
   */
  constructor(limits: HttpLimits = {}) {
    this.#limits = withDefaults(limits);
  }

  /**
   * Consumes what `reader` holds of the response and returns it once complete,
   * leaving any later bytes in `reader`; returns `null` until then. The parser
   * is then ready for the next response.
   *
   * @throws InvalidMessage when the response is malformed or too large, or when
   *   `reader` reached EOF before the response was complete.
   */
  parse(reader: StreamReader): Response | null {
    if (this.#error !== null) throw this.#error;
    try {
      return this.#parse(reader);
    } catch (error) {
      this.#error = error;
      throw error;
    }
  }

  #parse(reader: StreamReader): Response | null {
    const limits = this.#limits;
    while (true) {
      switch (this.#state) {
        case ResponseState.StatusLine: {
          const line = readHeadLine(
            reader,
            this.#lines,
            limits,
            () => new InvalidMessage("status line too long"),
          );
          if (line === null) return this.#incomplete(reader);
          [this.#status, this.#reason] = parseStatusLine(latin1Decode(line));
          this.#state = ResponseState.Headers;
          break;
        }
        case ResponseState.Headers:
          if (!readFields(reader, this.#lines, this.#headers, limits, "header", true)) {
            return this.#incomplete(reader);
          }
          this.#state = this.#bodyState();
          if (this.#state === ResponseState.StatusLine) return this.#complete();
          break;
        case ResponseState.Body:
          this.#take(reader);
          if (this.#remaining > 0) return this.#incomplete(reader);
          return this.#complete();
        case ResponseState.ChunkSize: {
          const line = this.#lines.read(
            reader,
            limits.maxLineLength,
            () => new InvalidMessage("chunk size line too long"),
          );
          if (line === null) return this.#incomplete(reader);
          this.#remaining = this.#chunkSize(latin1Decode(line));
          this.#state = this.#remaining === 0 ? ResponseState.Trailers : ResponseState.ChunkData;
          break;
        }
        case ResponseState.ChunkData:
          this.#take(reader);
          if (this.#remaining > 0) return this.#incomplete(reader);
          this.#state = ResponseState.ChunkEnd;
          break;
        case ResponseState.ChunkEnd: {
          // RFC 9112 §7.1: chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
          const crlf = reader.readExact(2);
          if (crlf === null) return this.#incomplete(reader);
          if (crlf[0] !== CR || crlf[1] !== LF) throw new InvalidMessage("chunk data without CRLF");
          this.#state = ResponseState.ChunkSize;
          break;
        }
        case ResponseState.Trailers:
          // RFC 9112 §7.1.2: "A recipient … MAY discard" trailer fields.
          if (!readFields(reader, this.#lines, this.#trailers, limits, "trailer", true)) {
            return this.#incomplete(reader);
          }
          return this.#complete();
        case ResponseState.BodyToEof:
          this.#remaining = limits.maxBodySize - this.#body.size;
          this.#take(reader);
          // A byte left over would be one past the limit.
          if (reader.length > 0) throw this.#tooBig();
          if (!reader.atEof) return null;
          return this.#complete();
      }
    }
  }

  /**
   * RFC 9112 §6.3: how the length of the body is determined; `StatusLine` when
   * there is no body.
   */
  #bodyState(): ResponseState {
    const status = this.#status;
    const headers = this.#headers;
    // "Any response to a HEAD request and any response with a 1xx
    // (Informational), 204 (No Content), or 304 (Not Modified) status code is
    // always terminated by the first empty line after the header fields"
    if (status < 200 || status === 204 || status === 304) return ResponseState.StatusLine;
    const transferEncoding = headers.get("Transfer-Encoding");
    const length = contentLength(headers);
    if (transferEncoding !== undefined) {
      // RFC 9112 §6.1: "A sender MUST NOT send a Content-Length header field in
      // any message that contains a Transfer-Encoding header field."
      if (length !== null) throw new InvalidMessage("both Transfer-Encoding and Content-Length");
      if (transferEncoding.toLowerCase() !== "chunked") {
        throw new InvalidMessage(`unsupported Transfer-Encoding: ${quoteText(transferEncoding)}`);
      }
      return ResponseState.ChunkSize;
    }
    if (length !== null) {
      if (length > this.#limits.maxBodySize) throw this.#tooBig();
      this.#remaining = length;
      return ResponseState.Body;
    }
    return ResponseState.BodyToEof;
  }

  /** RFC 9112 §7.1: chunk-size [ chunk-ext ], with chunk-size = 1*HEXDIG. */
  #chunkSize(line: string): number {
    let size = 0;
    let pos = 0;
    for (; pos < line.length; pos++) {
      const digit = hexValue(line.charCodeAt(pos));
      if (digit === -1) break;
      size = size * 16 + digit;
      // Checked per digit, so that a long run of digits can't overflow.
      if (this.#body.size + size > this.#limits.maxBodySize) throw this.#tooBig();
    }
    if (pos === 0) throw new InvalidMessage(`invalid chunk size: ${quoteText(line)}`);
    // chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ):
    // extensions are ignored, but must be made of field-value characters.
    while (line.charCodeAt(pos) === 0x20 || line.charCodeAt(pos) === 0x09) pos++;
    if (pos < line.length && (line.charCodeAt(pos) !== 0x3b || !isReasonPhrase(line.slice(pos)))) {
      throw new InvalidMessage(`invalid chunk size: ${quoteText(line)}`);
    }
    return size;
  }

  /** Moves up to `remaining` body bytes out of the reader. */
  #take(reader: StreamReader): void {
    const n = Math.min(reader.length, this.#remaining);
    if (n === 0) return;
    // Copied, not kept as views: a body of 1-byte chunks costs its bytes.
    this.#body.readFrom(reader, n, this.#limits.maxBodySize);
    this.#remaining -= n;
  }

  #tooBig(): InvalidMessage {
    return new InvalidMessage(`body longer than ${this.#limits.maxBodySize} bytes`, 413);
  }

  #incomplete(reader: StreamReader): null {
    if (reader.atEof) throw new InvalidMessage("connection closed while reading HTTP response");
    return null;
  }

  /** Builds the response and resets the parser for the next one. */
  #complete(): Response {
    const response = new Response(this.#status, this.#reason, this.#headers, this.#body.takeAll());
    this.#state = ResponseState.StatusLine;
    this.#headers = new Headers();
    this.#trailers = new Headers();
    this.#lines.linesLength = 0;
    return response;
  }
}
