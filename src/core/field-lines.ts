/**
 * The field lines of an HTTP/1.1 head (RFC 9112 §5): each parsed into
 * {@link Headers} up to the empty line, within the limits, and the
 * Content-Length field that decides the length of a body.
 *
 * @module
 */

import { quoteText } from "./control-characters.js";
import { InvalidMessage } from "./errors.js";
import {
  appendParsedField,
  COMMON_FIELD_VALUES,
  extendLastField,
  type Headers,
} from "./headers.js";
import type { HttpLimits } from "./http-limits.js";
import { latin1Decode } from "./latin1.js";
import type { LineBuffer } from "./line-buffer.js";
import type { Resolved } from "./resolved.js";
import { isDigit } from "./start-line.js";
import type { StreamReader } from "./streams.js";

/**
 * Parses one field line into `headers`. With `unfoldWithin`, the line length
 * limit, a line that continues the last field (obs-fold) is joined to it.
 */
function parseFieldLine(bytes: Uint8Array, headers: Headers, unfoldWithin: number | null): void {
  const line = latin1Decode(bytes);
  const first = line.charCodeAt(0);
  if (first === 0x20 || first === 0x09) {
    // RFC 9112 §5.2: "A server that receives an obs-fold in a request message …
    // MUST either reject the message by sending a 400 (Bad Request) …"
    if (unfoldWithin === null) throw new InvalidMessage("obsolete line folding isn't supported");
    unfold(line, headers, unfoldWithin);
    return;
  }
  // RFC 9112 §5: field-line = field-name ":" OWS field-value OWS
  const colon = line.indexOf(":");
  if (colon === -1) throw new InvalidMessage(`header line without colon: ${quoteText(line)}`);
  const name = line.slice(0, colon);
  // RFC 9112 §5.1: "No whitespace is allowed between the field name and colon"
  // and such a request MUST get a 400; isToken() rejects the whitespace.
  if (!TOKEN.test(name)) throw new InvalidMessage(`invalid header name: ${quoteText(name)}`);
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
 * RFC 9112 §5.2: "A user agent that receives an obs-fold in a response
 * message … MUST replace each received obs-fold with one or more SP octets
 * prior to interpreting the field value." The unfolded field must fit in
 * `maxLength`, as a line would: continuation lines add no field, so the
 * header count alone would not bound them.
 */
function unfold(line: string, headers: Headers, maxLength: number): void {
  let start = 0;
  let end = line.length;
  while (start < end && isOws(line.charCodeAt(start))) start++;
  while (end > start && isOws(line.charCodeAt(end - 1))) end--;
  const more = line.slice(start, end);
  // Adding nothing to a field, such lines would add nothing to its length
  // either, and no limit would hold them.
  if (more.length === 0) throw new InvalidMessage("empty folded header line");
  if (!FIELD_VALUE.test(more)) throw new InvalidMessage("invalid character in folded header line");
  // RFC 9112 §2.2: whitespace before the first field line is not a fold;
  // "A recipient … MUST either reject the message as invalid or …".
  const field = extendLastField(headers, more);
  if (field === null) throw new InvalidMessage("folded header line before the first header");
  const [name, value] = field;
  // Name, ": ", value and CRLF, as one line of it would be.
  if (name.length + value.length + 4 > maxLength) {
    throw new InvalidMessage("header line too long", 431);
  }
}

/**
 * Field values that nearly every handshake request repeats: the request a
 * server keeps for each connection refers to these rather than to copies.
 */
export const COMMON_VALUES = new Map(COMMON_FIELD_VALUES.map((value) => [value, value]));

/** RFC 9110 §5.6.2: token = 1*tchar, as isToken() says; V8 runs the expression natively. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** RFC 9110 §5.5: HTAB, SP, VCHAR and obs-text, as isFieldValueChar() says. */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** RFC 9110 §5.6.3: OWS = *( SP / HTAB ) */
export function isOws(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

/**
 * Reads the next line of a head (its start line or a field line) as
 * `lines.read()` does, within `maxLineLength` and within what the head may
 * still take of `maxHeaderSize`, its earlier lines counted from the head's
 * start by `lines.linesLength`: a line is refused as soon as it would pass
 * either, so no more than `maxHeaderSize` bytes of a head are ever held.
 *
 * @throws InvalidMessage `lineTooLong()` past `maxLineLength`; with status
 *   431 past `maxHeaderSize` when that is the nearer limit.
 */
export function readHeadLine(
  reader: StreamReader,
  lines: LineBuffer,
  limits: Resolved<HttpLimits>,
  lineTooLong: () => InvalidMessage,
): Uint8Array | null {
  const budget = limits.maxHeaderSize - lines.linesLength;
  const headTooLarge = () =>
    new InvalidMessage(`head larger than ${limits.maxHeaderSize} bytes`, 431);
  // Even the empty line that ends the head takes two bytes.
  if (budget < 2) throw headTooLarge();
  if (budget < limits.maxLineLength) return lines.read(reader, budget, headTooLarge);
  return lines.read(reader, limits.maxLineLength, lineTooLong);
}

/**
 * Reads field lines into `headers` until the empty line; `false` if more
 * bytes are needed. With `unfold`, for a response, obs-fold continuation
 * lines are joined to their field rather than refused.
 */
export function readFields(
  reader: StreamReader,
  lines: LineBuffer,
  headers: Headers,
  limits: Resolved<HttpLimits>,
  what: string,
  unfold = false,
): boolean {
  while (true) {
    const line =
      what === "header"
        ? readHeadLine(reader, lines, limits, () => new InvalidMessage("header line too long", 431))
        : lines.read(
            reader,
            limits.maxLineLength,
            () => new InvalidMessage(`${what} line too long`, 431),
          );
    if (line === null) return false;
    if (line.length === 0) return true;
    // A continuation line adds no field; unfold() bounds it by the line length.
    if (headers.size >= limits.maxHeaders && !isOws(line[0]!)) {
      throw new InvalidMessage(`too many ${what}s`, 431);
    }
    parseFieldLine(line, headers, unfold ? limits.maxLineLength : null);
  }
}

/** RFC 9112 §6.3: Content-Length = 1*DIGIT; repeated values must agree. */
export function contentLength(headers: Headers): number | null {
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
