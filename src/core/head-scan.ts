/**
 * The quick path of the `RequestParser`: a request head that sits whole
 * in one chunk, in the plain form nearly every handshake takes, read in one
 * pass over its octets with a table of octet classes, its common field names
 * and values recognized from their octets without decoding them.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { COMMON_VALUES, isOws } from "./field-lines.js";
import { isFieldValueChar, isToken } from "./field-syntax.js";
import {
  appendParsedField,
  commonFieldNameEntries,
  compactHeaders,
  type FieldName,
  Headers,
} from "./headers.js";
import type { HttpLimits } from "./http-limits.js";
import { latin1Encode } from "./latin1.js";
import { Request } from "./request.js";
import type { Resolved } from "./resolved.js";

const CR = 0x0d;
const LF = 0x0a;
const SLASH = 0x2f;

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
export interface ScannedHead {
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
 * (in origin-form) and version well-formed and the version 1.0 or 1.1; field names that are
 * tokens, field values of field-value octets; every line ending with CRLF
 * and within `maxLineLength`, at most `maxHeaders` fields and `maxHeaderSize`
 * octets in all; one Host field
 * (none allowed in HTTP/1.0) and no Content-Length or Transfer-Encoding.
 *
 * Returns `null` for anything else, whatever the reason: an incomplete head,
 * a malformed one, or one of the rarer forms. The general parser then reads
 * the same bytes and decides, with the precise error when there is one, so
 * that this path changes how fast a request is read, never what it means.
 */
export function scanSimpleHead(
  chunk: Uint8Array,
  limits: Resolved<HttpLimits>,
): ScannedHead | null {
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
  // Origin-form only (RFC 9112 §3.2.1): the general parser checks the other
  // forms' authority.
  if (chunk[targetStart] !== SLASH || chunk[at] !== SP) return null;
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
  if (headLength > limits.maxHeaderSize) return null;

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
    targetEnd - targetStart === 1 ? "/" : bytes.toString("latin1", targetStart, targetEnd);
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
