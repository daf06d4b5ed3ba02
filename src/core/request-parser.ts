/**
 * {@link RequestParser}: the server's incremental parser of handshake requests.
 *
 * It reads from a {@link StreamReader}. A request that sits whole in the first
 * chunk is read in one pass (see `head-scan.ts`); any other is read line by
 * line, the bytes of an incomplete line moved into a buffer of the parser's
 * own, so a peer sending one byte at a time costs linear time overall. It
 * never consumes a byte past the empty line: what follows belongs to the
 * WebSocket frames.
 *
 * @module
 */

import { InvalidMessage } from "./errors.js";
import { contentLength, readFields, readHeadLine } from "./field-lines.js";
import { scanSimpleHead } from "./head-scan.js";
import { compactHeaders, Headers } from "./headers.js";
import { type HttpLimits, withDefaults } from "./http-limits.js";
import { latin1Decode } from "./latin1.js";
import { LineBuffer } from "./line-buffer.js";
import { Request } from "./request.js";
import type { Resolved } from "./resolved.js";
import { parseRequestLine } from "./start-line.js";
import type { StreamReader } from "./streams.js";

/** RFC 8446 §5.1: ContentType handshake(22). */
const TLS_HANDSHAKE = 0x16;

/**
 * Parses handshake requests, incrementally.
 *
 * Call {@link RequestParser.parse} whenever bytes arrive, and once more after
 * `reader.feedEof()`. Errors are {@link InvalidMessage} whose `status` is the
 * response a server should send: 414 for a request line longer than
 * `maxLineLength` (431 when `maxHeaderSize` is the nearer limit), 431 for a
 * longer header line, more than `maxHeaders` fields or a head over
 * `maxHeaderSize` bytes, 505 for a well-formed HTTP version other than 1.0
 * and 1.1, and 400 for everything else, including a request with a body.
 * After an error the parser throws it again on every call.
 */
export class RequestParser {
  readonly #limits: Resolved<HttpLimits>;
  /** Created when a request arrives in pieces: most arrive whole. */
  #lines: LineBuffer | null = null;
  #requestLine: [method: string, target: string, version: string] | null = null;
  /** The fields read so far; created with the first one. */
  #headers: Headers | null = null;
  #error: unknown = null;

  /**
   * A parser waiting for the first byte of a request.
   *
   * @param limits the limits on requests; each omitted one takes its default
   *   (see {@link HttpLimits}). Default: `{}`.
   */
  constructor(limits: HttpLimits = {}) {
    this.#limits = withDefaults(limits);
  }

  /**
   * Consumes what `reader` holds of the request head and returns the request
   * once its empty line is read, leaving any later bytes in `reader`; returns
   * `null` until then. The parser is then ready for the next request.
   *
   * @throws InvalidMessage when the request is malformed or too large, or when
   *   `reader` reached EOF before the end of the head.
   */
  parse(reader: StreamReader): Request | null {
    if (this.#error !== null) throw this.#error;
    try {
      return this.#parse(reader);
    } catch (error) {
      this.#error = error;
      throw error;
    }
  }

  #parse(reader: StreamReader): Request | null {
    if (this.#requestLine === null && (this.#lines === null || this.#lines.isEmpty)) {
      // RFC 9112 §3: a request line starts with a method, a token. A TLS
      // record starts with its ContentType, handshake(22) for a ClientHello
      // (RFC 8446 §5.1): a wss:// or https:// client on a plain port, whose
      // ClientHello may hold no line feed for a long while, and which waits
      // for an answer meanwhile.
      if (reader.length > 0 && reader.peekByte(0) === TLS_HANDSHAKE) {
        throw new InvalidMessage(
          "received a TLS handshake on a plain connection: is the client using wss:// or https://?",
        );
      }
      // A request usually arrives whole, in one chunk, and nearly always in
      // the plain form that scanSimpleHead() reads in one pass. Anything else
      // is read line by line. The scan is tried only when a request starts,
      // so bytes are scanned at most twice.
      const scanned = scanSimpleHead(reader.firstChunk(), this.#limits);
      if (scanned !== null) {
        reader.discard(scanned.headLength);
        return scanned.request;
      }
    }
    const lines = this.#lineBuffer();
    if (this.#requestLine === null) {
      const line = readHeadLine(
        reader,
        lines,
        this.#limits,
        () => new InvalidMessage("request line too long", 414),
      );
      if (line === null) return this.#incomplete(reader);
      this.#requestLine = parseRequestLine(latin1Decode(line));
    }
    if (!readFields(reader, lines, this.#fields(), this.#limits, "header")) {
      return this.#incomplete(reader);
    }
    return this.#complete();
  }

  #lineBuffer(): LineBuffer {
    this.#lines ??= new LineBuffer();
    return this.#lines;
  }

  #fields(): Headers {
    this.#headers ??= new Headers();
    return this.#headers;
  }

  /** Checks the request once its head is parsed, and resets the parser for the next one. */
  #complete(): Request {
    const [method, target, version] = this.#requestLine!;
    const headers = this.#fields();
    // RFC 6455 §4.1: the handshake is a GET; RFC 9110 §9.3.1: "content received
    // in a GET request has no generally defined semantics". Refusing bodies
    // keeps the bytes after the head unambiguous (no request smuggling).
    const chunked = headers.has("Transfer-Encoding");
    if (chunked || (contentLength(headers) ?? 0) !== 0) {
      // A POST or PUT, say, is refused for its method, as it would be without
      // a body (RFC 9110 §15.5.6: 405, with the server's checks adding
      // "Allow: GET"); its body is never read, and the connection closes.
      if (method !== "GET" && method !== "HEAD") {
        throw new InvalidMessage(`unsupported HTTP method: ${method}`, 405);
      }
      throw new InvalidMessage(
        chunked
          ? "request with Transfer-Encoding isn't supported"
          : "request with a body isn't supported",
      );
    }
    // RFC 9112 §3.2: "A server MUST respond with a 400 (Bad Request) status code
    // to any HTTP/1.1 request message that lacks a Host header field and to any
    // request message that contains more than one Host header field line".
    const hosts = headers.getAll("Host").length;
    if (hosts > 1 || (hosts === 0 && version === "HTTP/1.1")) {
      throw new InvalidMessage(hosts > 1 ? "more than one Host header" : "missing Host header");
    }
    this.#requestLine = null;
    this.#headers = null;
    this.#lines!.linesLength = 0;
    compactHeaders(headers);
    return new Request(target, headers, method, version);
  }

  #incomplete(reader: StreamReader): null {
    if (reader.atEof) throw new InvalidMessage("connection closed while reading HTTP request");
    return null;
  }
}
