/**
 * The HTTP/1.1 messages of the opening handshake (RFC 6455 §4): {@link Request}
 * and {@link Response}, their serialization, and incremental parsers with limits.
 *
 * The parsers read from a {@link StreamReader}. They take complete lines as
 * they arrive, move the bytes of an incomplete line into their own buffer, and
 * remember what they have parsed, so a peer sending one byte at a time costs
 * linear time overall. They never consume a byte past the end of the message:
 * what follows the head of a handshake belongs to the WebSocket frames.
 *
 * Header fields are decoded as ISO-8859-1, one character per octet, and
 * serialized the same way (see {@link Headers}).
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { InvalidMessage, PayloadTooBig } from "./errors.js";
import {
  appendParsedField,
  commonFieldNameEntries,
  compactHeaders,
  type FieldName,
  Headers,
  isFieldValueChar,
  isToken,
} from "./headers.js";
import type { StreamReader } from "./streams.js";

/** Size limits for parsing HTTP messages. Lines count their CRLF. */
export interface HttpLimits {
  /** Longest request, status, header or chunk-size line, CRLF included. Default 8192. */
  maxLineLength?: number;
  /** Most header fields (and, separately, trailer fields). Default 128. */
  maxHeaders?: number;
  /** Largest response body, after chunked decoding. Default 1 MiB. */
  maxBodySize?: number;
}

/** The limits the parsers apply when given none. */
export const DEFAULT_HTTP_LIMITS: Readonly<Required<HttpLimits>> = Object.freeze({
  maxLineLength: 8192,
  maxHeaders: 128,
  maxBodySize: 1_048_576,
});

const CR = 0x0d;
const LF = 0x0a;
const EMPTY = new Uint8Array(0);

// RFC 9112 §2.3: HTTP-version = HTTP-name "/" DIGIT "." DIGIT; HTTP-name is case-sensitive.
function isHttpVersion(s: string): boolean {
  return (
    s.length === 8 &&
    s.startsWith("HTTP/") &&
    isDigit(s.charCodeAt(5)) &&
    s.charCodeAt(6) === 0x2e &&
    isDigit(s.charCodeAt(7))
  );
}

function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

/** The value of a HEXDIG (RFC 5234 §B.1, either case), or -1. */
function hexValue(code: number): number {
  if (isDigit(code)) return code - 0x30;
  const lower = code | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1;
}

function isSupportedVersion(version: string): boolean {
  return version === "HTTP/1.1" || version === "HTTP/1.0";
}

/** RFC 9112 §3.2: the request-target is visible ASCII; anything else is rejected. */
function isRequestTarget(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

/** RFC 9112 §4: reason-phrase = 1*( HTAB / SP / VCHAR / obs-text ) */
function isReasonPhrase(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (!isFieldValueChar(s.charCodeAt(i))) return false;
  return true;
}

function latin1Decode(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("latin1");
}

/** Encodes a string whose characters are all ≤ U+00FF, one octet each. */
function latin1Encode(s: string): Uint8Array {
  // Node encodes natively; the view keeps the result a plain Uint8Array.
  const bytes = Buffer.from(s, "latin1");
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
}

/** A handshake request. The path is the request-target, e.g. `/chat?room=1`. */
export class Request {
  /**
   * @throws InvalidMessage when the method isn't a token, the path holds
   *   anything but visible ASCII, or the version isn't `HTTP/x.y`.
   */
  constructor(
    /** The request-target: path and query, e.g. `/chat?room=1`. */
    readonly path: string,
    /** The header fields. */
    readonly headers: Headers,
    /** The method: `GET` (the default) for a handshake (RFC 6455 §4.1). */
    readonly method = "GET",
    /** The HTTP version, e.g. `HTTP/1.1` (the default). */
    readonly version = "HTTP/1.1",
  ) {
    if (!isToken(method)) throw new InvalidMessage(`invalid request method: ${method}`);
    // A CR, LF or SP in the path would let it rewrite the request line.
    if (!isRequestTarget(path))
      throw new InvalidMessage(`invalid request path: ${JSON.stringify(path)}`);
    if (!isHttpVersion(version)) throw new InvalidMessage(`invalid HTTP version: ${version}`);
  }

  /** The request as bytes: request line, header fields, empty line. */
  serialize(): Uint8Array {
    return latin1Encode(`${this.method} ${this.path} ${this.version}\r\n${this.headers}`);
  }
}

/** A handshake response, or the error page a server sends instead. */
export class Response {
  /**
   * @throws InvalidMessage when the status isn't an integer from 100 to 599 or
   *   the reason holds a control character.
   */
  constructor(
    /** The status code, 100–599: 101 when the handshake succeeds. */
    readonly status: number,
    /** The reason phrase, e.g. `"Switching Protocols"`; may be empty. */
    readonly reason: string,
    /** The header fields. */
    readonly headers: Headers,
    /** The body; empty by default. A parsed response's has its chunked coding decoded. */
    readonly body: Uint8Array = EMPTY,
  ) {
    // RFC 9110 §15: "Values outside the range 100..599 are invalid."
    if (!Number.isInteger(status) || status < 100 || status > 599) {
      throw new InvalidMessage(`invalid status code: ${status}`);
    }
    if (!isReasonPhrase(reason)) {
      throw new InvalidMessage(`invalid reason phrase: ${JSON.stringify(reason)}`);
    }
  }

  /** The body decoded as UTF-8, with U+FFFD for invalid sequences. */
  get text(): string {
    return new TextDecoder().decode(this.body);
  }

  /**
   * The response as bytes: status line, header fields as given, empty line,
   * body. No header is added: set `Content-Length` yourself when there is a body.
   * Without `withBody`, the body is left out and the header fields stay as
   * they are: the answer to a HEAD request (RFC 9110 §9.3.2).
   */
  serialize(withBody = true): Uint8Array {
    const head = latin1Encode(`HTTP/1.1 ${this.status} ${this.reason}\r\n${this.headers}`);
    if (!withBody || this.body.length === 0) return head;
    const bytes = new Uint8Array(head.length + this.body.length);
    bytes.set(head);
    bytes.set(this.body, head.length);
    return bytes;
  }
}

/**
 * Bytes moved out of a {@link StreamReader} into one buffer of their own that
 * doubles as it fills, up to a cap. What it holds then costs its bytes, not
 * one view (and the chunk behind it) per read: a peer sending one byte per
 * TCP segment can't make a parser keep a million objects for a 1 MiB limit.
 */
class ByteBuffer {
  #bytes: Uint8Array = EMPTY;
  #size = 0;

  /** Number of bytes held. */
  get size(): number {
    return this.#size;
  }

  /** Moves `n` buffered bytes out of `reader`; the caller keeps `size + n` within `cap`. */
  readFrom(reader: StreamReader, n: number, cap: number): void {
    const end = this.#reserve(n, cap);
    reader.readInto(this.#bytes, this.#size, end);
    this.#size = end;
  }

  /** Appends `bytes`; the caller keeps `size + bytes.length` within `cap`. */
  append(bytes: Uint8Array, cap: number): void {
    const end = this.#reserve(bytes.length, cap);
    this.#bytes.set(bytes, this.#size);
    this.#size = end;
  }

  /** Removes and returns the bytes held, in an array of their exact length. */
  takeAll(): Uint8Array {
    const bytes = this.#bytes;
    const size = this.#size;
    this.#bytes = EMPTY;
    this.#size = 0;
    // A doubled buffer can be up to twice as large as its bytes: a response
    // body may be kept by the caller, so it gets an array of its own size.
    return bytes.length === size ? bytes : bytes.slice(0, size);
  }

  /** Makes room for `n` more bytes and returns the size after them. */
  #reserve(n: number, cap: number): number {
    const end = this.#size + n;
    if (end > this.#bytes.length) {
      // Doubling keeps appends amortized O(1); the cap bounds the memory.
      const grown = new Uint8Array(Math.min(cap, Math.max(end, this.#bytes.length * 2, 256)));
      grown.set(this.#bytes.subarray(0, this.#size));
      this.#bytes = grown;
    }
    return end;
  }
}

/**
 * Reads CRLF-terminated lines. The bytes of an incomplete line are moved out of
 * the stream reader, so each byte is scanned once however it is split, and
 * copied into one buffer, so they cost their number, not the number of reads.
 */
class LineBuffer {
  readonly #partial = new ByteBuffer();

  /** Whether no bytes of an incomplete line are held. */
  get isEmpty(): boolean {
    return this.#partial.size === 0;
  }

  /**
   * The next line without its CRLF, or `null` if it isn't complete yet.
   *
   * @throws InvalidMessage `tooLong` when the line, CRLF included, exceeds
   *   `maxLength`, or when it ends with a bare LF.
   */
  read(reader: StreamReader, maxLength: number, tooLong: () => InvalidMessage): Uint8Array | null {
    const partial = this.#partial;
    let line: Uint8Array | null;
    try {
      line = reader.readLine(maxLength - partial.size);
    } catch (error) {
      if (error instanceof PayloadTooBig) throw tooLong();
      throw error;
    }
    if (line === null) {
      // readLine() would have thrown if these bytes made the line too long.
      if (reader.length > 0) partial.readFrom(reader, reader.length, maxLength);
      return null;
    }
    if (partial.size > 0) {
      partial.append(line, maxLength);
      line = partial.takeAll();
    }
    // RFC 9112 §2.2: "the line terminator for the start-line and fields is the
    // sequence CRLF". A bare LF is rejected rather than guessed at.
    if (line.length < 2 || line[line.length - 2] !== CR) {
      throw new InvalidMessage("line ends with a bare LF");
    }
    return line.subarray(0, line.length - 2);
  }
}

/** Parses one field line into `headers`. */
function parseFieldLine(bytes: Uint8Array, headers: Headers): void {
  const line = latin1Decode(bytes);
  // RFC 9112 §5.2: "A server that receives an obs-fold in a request message …
  // MUST either reject the message by sending a 400 (Bad Request) …"
  const first = line.charCodeAt(0);
  if (first === 0x20 || first === 0x09) {
    throw new InvalidMessage("obsolete line folding isn't supported");
  }
  // RFC 9112 §5: field-line = field-name ":" OWS field-value OWS
  const colon = line.indexOf(":");
  if (colon === -1) throw new InvalidMessage(`header line without colon: ${JSON.stringify(line)}`);
  const name = line.slice(0, colon);
  // RFC 9112 §5.1: "No whitespace is allowed between the field name and colon"
  // and such a request MUST get a 400; isToken() rejects the whitespace.
  if (!TOKEN.test(name)) throw new InvalidMessage(`invalid header name: ${JSON.stringify(name)}`);
  let start = colon + 1;
  let end = line.length;
  while (start < end && isOws(line.charCodeAt(start))) start++;
  while (end > start && isOws(line.charCodeAt(end - 1))) end--;
  const value = line.slice(start, end);
  // RFC 9110 §5.5: "Field values containing CR, LF, or NUL characters are
  // invalid and dangerous"; other control characters aren't field-vchar either.
  if (!FIELD_VALUE.test(value)) throw new InvalidMessage(`invalid character in ${name} header`);
  // Both were just checked against the grammar Headers.append() would check again.
  appendParsedField(headers, name, COMMON_VALUES.get(value) ?? value);
}

/**
 * Field values that nearly every handshake request repeats: the request a
 * server keeps for each connection refers to these rather than to copies.
 */
const COMMON_VALUES = new Map(
  [
    "websocket",
    "Upgrade",
    "upgrade",
    "keep-alive, Upgrade",
    "13",
    "no-cache",
    "permessage-deflate; client_max_window_bits",
  ].map((value) => [value, value]),
);

/** RFC 9110 §5.6.2: token = 1*tchar, as isToken() says; V8 runs the expression natively. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** RFC 9110 §5.5: HTAB, SP, VCHAR and obs-text, as isFieldValueChar() says. */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** RFC 9110 §5.6.3: OWS = *( SP / HTAB ) */
function isOws(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

/**
 * Reads field lines into `headers` until the empty line; `false` if more
 * bytes are needed.
 */
function readFields(
  reader: StreamReader,
  lines: LineBuffer,
  headers: Headers,
  limits: Required<HttpLimits>,
  what: string,
): boolean {
  while (true) {
    const line = lines.read(
      reader,
      limits.maxLineLength,
      () => new InvalidMessage(`${what} line too long`, 431),
    );
    if (line === null) return false;
    if (line.length === 0) return true;
    if (headers.size >= limits.maxHeaders) throw new InvalidMessage(`too many ${what}s`, 431);
    parseFieldLine(line, headers);
  }
}

/** RFC 9112 §6.3: Content-Length = 1*DIGIT; repeated values must agree. */
function contentLength(headers: Headers): number | null {
  const values = headers.getAll("Content-Length");
  if (values.length === 0) return null;
  const value = values[0]!;
  if (value.length === 0 || !values.every((v) => v === value)) {
    throw new InvalidMessage("invalid Content-Length header");
  }
  for (let i = 0; i < value.length; i++) {
    if (!isDigit(value.charCodeAt(i))) throw new InvalidMessage("invalid Content-Length header");
  }
  return Number(value);
}

/** Fills in the limits the caller left out. */
function withDefaults(limits: HttpLimits): Required<HttpLimits> {
  // Every connection of a server without limits of its own shares the defaults.
  if (
    limits.maxLineLength === undefined &&
    limits.maxHeaders === undefined &&
    limits.maxBodySize === undefined
  ) {
    return DEFAULT_HTTP_LIMITS;
  }
  return {
    maxLineLength: limits.maxLineLength ?? DEFAULT_HTTP_LIMITS.maxLineLength,
    maxHeaders: limits.maxHeaders ?? DEFAULT_HTTP_LIMITS.maxHeaders,
    maxBodySize: limits.maxBodySize ?? DEFAULT_HTTP_LIMITS.maxBodySize,
  };
}

/**
 * Parses handshake requests, incrementally.
 *
 * Call {@link RequestParser.parse} whenever bytes arrive, and once more after
 * `reader.feedEof()`. Errors are {@link InvalidMessage} whose `status` is the
 * response a server should send: 414 for a request line longer than
 * `maxLineLength`, 431 for a longer header line or more than `maxHeaders`
 * fields, 505 for a well-formed HTTP version other than 1.0 and 1.1, and 400
 * for everything else, including a request with a body. After an error the
 * parser throws it again on every call.
 */
export class RequestParser {
  readonly #limits: Required<HttpLimits>;
  /** Created when a request arrives in pieces: most arrive whole. */
  #lines: LineBuffer | null = null;
  #requestLine: [method: string, target: string, version: string] | null = null;
  /** The fields read so far; created with the first one. */
  #headers: Headers | null = null;
  #error: unknown = null;

  /** @param limits the limits on requests; each omitted one takes its default. */
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
      const line = lines.read(
        reader,
        this.#limits.maxLineLength,
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
    if (headers.has("Transfer-Encoding")) {
      throw new InvalidMessage("request with Transfer-Encoding isn't supported");
    }
    if ((contentLength(headers) ?? 0) !== 0) {
      throw new InvalidMessage("request with a body isn't supported");
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
    compactHeaders(headers);
    return new Request(target, headers, method, version);
  }

  #incomplete(reader: StreamReader): null {
    if (reader.atEof) throw new InvalidMessage("connection closed while reading HTTP request");
    return null;
  }
}

// Classes of octets for scanSimpleHead(), one bit each.
/** RFC 9110 §5.6.2: tchar. */
const TCHAR_OCTET = 1;
/** RFC 9112 §3.2: the visible ASCII of a request-target. */
const TARGET_OCTET = 2;
/** RFC 9110 §5.5: field-vchar (obs-text included), SP and HTAB. */
const VALUE_OCTET = 4;
/** RFC 9110 §5.6.3: OWS = *( SP / HTAB ). */
const OWS_OCTET = 8;

const OCTET_CLASSES = new Uint8Array(256);
for (let octet = 0; octet < 256; octet++) {
  let classes = 0;
  if (octet < 0x80 && isToken(String.fromCharCode(octet))) classes |= TCHAR_OCTET;
  if (octet > 0x20 && octet < 0x7f) classes |= TARGET_OCTET;
  if (isFieldValueChar(octet)) classes |= VALUE_OCTET;
  if (isOws(octet)) classes |= OWS_OCTET;
  OCTET_CLASSES[octet] = classes;
}

const SP = 0x20;
const COLON = 0x3a;
/** "HTTP/1." followed by "1" or "0": the versions a request may have. */
const HTTP_1_PREFIX = [0x48, 0x54, 0x54, 0x50, 0x2f, 0x31, 0x2e] as const;

/** What {@link scanSimpleHead} read: the request, and how many bytes its head took. */
interface ScannedHead {
  readonly request: Request;
  readonly headLength: number;
}

/**
 * Where scanSimpleHead() found the name and value of each field: four
 * offsets per field. Shared: the scan is synchronous and its caller is done
 * with them when it returns.
 */
const fieldBounds: number[] = [];

/**
 * Reads a request head that sits whole in `chunk` and that every check of
 * the general parser accepts, in one pass over its octets: method, target
 * and version well-formed and the version 1.0 or 1.1; field names that are
 * tokens, field values of field-value octets; every line ending with CRLF
 * and within `maxLineLength`, at most `maxHeaders` fields; one Host field
 * (none allowed in HTTP/1.0) and no Content-Length or Transfer-Encoding.
 *
 * Returns `null` for anything else, whatever the reason: an incomplete head,
 * a malformed one, or one of the rarer forms. The general parser then reads
 * the same bytes and decides, with the precise error when there is one, so
 * that this path changes how fast a request is read, never what it means.
 */
function scanSimpleHead(chunk: Uint8Array, limits: Required<HttpLimits>): ScannedHead | null {
  const length = chunk.length;
  const maxLineLength = limits.maxLineLength;
  // The empty line that ends the head takes two octets too.
  if (maxLineLength < 2) return null;
  // RFC 9112 §3: request-line = method SP request-target SP HTTP-version CRLF
  let at = 0;
  while (at < length && (OCTET_CLASSES[chunk[at]!]! & TCHAR_OCTET) !== 0) at++;
  const methodEnd = at;
  if (methodEnd === 0 || chunk[at] !== SP) return null;
  const targetStart = ++at;
  while (at < length && (OCTET_CLASSES[chunk[at]!]! & TARGET_OCTET) !== 0) at++;
  const targetEnd = at;
  if (targetEnd === targetStart || chunk[at] !== SP) return null;
  at++;
  // The version, CR and LF: ten octets.
  if (at + 10 > maxLineLength || at + 10 > length) return null;
  for (let i = 0; i < HTTP_1_PREFIX.length; i++) {
    if (chunk[at + i] !== HTTP_1_PREFIX[i]) return null;
  }
  const minor = chunk[at + 7];
  if ((minor !== 0x31 && minor !== 0x30) || chunk[at + 8] !== CR || chunk[at + 9] !== LF) {
    return null;
  }
  at += 10;

  // RFC 9112 §5: field-line = field-name ":" OWS field-value OWS, then CRLF;
  // the head ends with an empty line.
  const bounds = fieldBounds;
  bounds.length = 0;
  while (true) {
    const lineStart = at;
    if (chunk[at] === CR && chunk[at + 1] === LF) break;
    while (at < length && (OCTET_CLASSES[chunk[at]!]! & TCHAR_OCTET) !== 0) at++;
    const nameEnd = at;
    if (nameEnd === lineStart || chunk[at] !== COLON) return null;
    at++;
    while (at < length && (OCTET_CLASSES[chunk[at]!]! & OWS_OCTET) !== 0) at++;
    const valueStart = at;
    let valueEnd = at;
    while (at < length) {
      const classes = OCTET_CLASSES[chunk[at]!]!;
      if ((classes & VALUE_OCTET) === 0) break;
      at++;
      if ((classes & OWS_OCTET) === 0) valueEnd = at;
    }
    if (at + 2 - lineStart > maxLineLength || chunk[at] !== CR || chunk[at + 1] !== LF) {
      return null;
    }
    at += 2;
    if (bounds.length >= limits.maxHeaders * 4) return null;
    bounds.push(lineStart, nameEnd, valueStart, valueEnd);
  }
  const headLength = at + 2;

  // Valid so far. The common names and values are known strings; the rest
  // are decoded each on its own, so that none keeps the others alive.
  const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, length);
  const headers = new Headers();
  let hosts = 0;
  for (let i = 0; i < bounds.length; i += 4) {
    const nameStart = bounds[i]!;
    const nameEnd = bounds[i + 1]!;
    const valueStart = bounds[i + 2]!;
    const valueEnd = bounds[i + 3]!;
    const name: FieldName | string =
      findOctets(COMMON_NAMES_BY_LENGTH[nameEnd - nameStart], chunk, nameStart) ??
      bytes.toString("latin1", nameStart, nameEnd);
    const value =
      findOctets(COMMON_VALUES_BY_LENGTH[valueEnd - valueStart], chunk, valueStart) ??
      bytes.toString("latin1", valueStart, valueEnd);
    const key = appendParsedField(headers, name, value);
    if (key === "host") hosts++;
    else if (key === "content-length" || key === "transfer-encoding") return null;
  }
  const version = minor === 0x31 ? "HTTP/1.1" : "HTTP/1.0";
  if (hosts > 1 || (hosts === 0 && version === "HTTP/1.1")) return null;
  const isGet = methodEnd === 3 && chunk[0] === 0x47 && chunk[1] === 0x45 && chunk[2] === 0x54;
  const method = isGet ? "GET" : bytes.toString("latin1", 0, methodEnd);
  const target =
    targetEnd - targetStart === 1 && chunk[targetStart] === 0x2f
      ? "/"
      : bytes.toString("latin1", targetStart, targetEnd);
  compactHeaders(headers);
  return { request: new Request(target, headers, method, version), headLength };
}

/** Items with the octets that spell them, by the number of octets. */
type OctetTable<T> = (readonly (readonly [item: T, octets: Uint8Array])[] | undefined)[];

function octetTable<T>(items: readonly T[], spelling: (item: T) => string): OctetTable<T> {
  const table: OctetTable<T> = [];
  for (const item of items) {
    const octets = latin1Encode(spelling(item));
    table[octets.length] = [...(table[octets.length] ?? []), [item, octets]];
  }
  return table;
}

/** The item of `candidates` that `chunk` spells from `start` on, if any. */
function findOctets<T>(
  candidates: readonly (readonly [item: T, octets: Uint8Array])[] | undefined,
  chunk: Uint8Array,
  start: number,
): T | undefined {
  if (candidates === undefined) return undefined;
  for (const [item, octets] of candidates) {
    let i = 0;
    while (i < octets.length && chunk[start + i] === octets[i]) i++;
    if (i === octets.length) return item;
  }
  return undefined;
}

/** The common field names, found from their octets without decoding them. */
const COMMON_NAMES_BY_LENGTH = octetTable(commonFieldNameEntries(), (entry) => entry[0]);

/** The common field values, likewise. */
const COMMON_VALUES_BY_LENGTH = octetTable([...COMMON_VALUES.keys()], (value) => value);

/** RFC 9112 §3: request-line = method SP request-target SP HTTP-version */
function parseRequestLine(line: string): [method: string, target: string, version: string] {
  const parts = line.split(" ");
  if (parts.length !== 3)
    throw new InvalidMessage(`malformed request line: ${JSON.stringify(line)}`);
  const [method, target, version] = parts as [string, string, string];
  if (!isToken(method))
    throw new InvalidMessage(`invalid request method: ${JSON.stringify(method)}`);
  if (!isRequestTarget(target)) {
    throw new InvalidMessage(`invalid request target: ${JSON.stringify(target)}`);
  }
  if (!isHttpVersion(version)) {
    throw new InvalidMessage(`invalid HTTP version: ${JSON.stringify(version)}`);
  }
  if (!isSupportedVersion(version)) {
    throw new InvalidMessage(`unsupported HTTP version: ${version}`, 505);
  }
  // The constants rather than the parsed copies, which each request would keep.
  return [
    method === "GET" ? "GET" : method,
    target,
    version === "HTTP/1.1" ? "HTTP/1.1" : "HTTP/1.0",
  ];
}

/** RFC 9112 §4: status-line = HTTP-version SP status-code SP [ reason-phrase ] */
function parseStatusLine(line: string): [status: number, reason: string] {
  const version = line.slice(0, 8);
  if (!isHttpVersion(version) || line.charCodeAt(8) !== 0x20) {
    throw new InvalidMessage(`malformed status line: ${JSON.stringify(line)}`);
  }
  if (!isSupportedVersion(version)) {
    throw new InvalidMessage(`unsupported HTTP version: ${version}`, 505);
  }
  const code = line.slice(9, 12);
  // "HTTP/1.1 101" without the SP before an empty reason is accepted, as
  // RFC 9112 §4 recommends: "A client SHOULD ignore the reason-phrase content".
  if (
    !(isDigit(code.charCodeAt(0)) && isDigit(code.charCodeAt(1)) && isDigit(code.charCodeAt(2))) ||
    (line.length > 12 && line.charCodeAt(12) !== 0x20)
  ) {
    throw new InvalidMessage(`malformed status line: ${JSON.stringify(line)}`);
  }
  const status = Number(code);
  if (status < 100 || status > 599) throw new InvalidMessage(`invalid status code: ${status}`);
  const reason = line.slice(13);
  if (!isReasonPhrase(reason)) throw new InvalidMessage("invalid character in reason phrase");
  return [status, reason];
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
  readonly #limits: Required<HttpLimits>;
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

  /** @param limits the limits on responses; each omitted one takes its default. */
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
          const line = this.#lines.read(
            reader,
            limits.maxLineLength,
            () => new InvalidMessage("status line too long"),
          );
          if (line === null) return this.#incomplete(reader);
          [this.#status, this.#reason] = parseStatusLine(latin1Decode(line));
          this.#state = ResponseState.Headers;
          break;
        }
        case ResponseState.Headers:
          if (!readFields(reader, this.#lines, this.#headers, limits, "header")) {
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
          if (!readFields(reader, this.#lines, this.#trailers, limits, "trailer")) {
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
        throw new InvalidMessage(`unsupported Transfer-Encoding: ${transferEncoding}`);
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
    if (pos === 0) throw new InvalidMessage(`invalid chunk size: ${JSON.stringify(line)}`);
    // chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ):
    // extensions are ignored, but must be made of field-value characters.
    while (line.charCodeAt(pos) === 0x20 || line.charCodeAt(pos) === 0x09) pos++;
    if (pos < line.length && (line.charCodeAt(pos) !== 0x3b || !isReasonPhrase(line.slice(pos)))) {
      throw new InvalidMessage(`invalid chunk size: ${JSON.stringify(line)}`);
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
    return response;
  }
}
