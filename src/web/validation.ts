/**
 * The checks of the WebSocket constructor and of `close()`, as the WHATWG
 * WebSockets standard (https://websockets.spec.whatwg.org/) orders them, with
 * the `DOMException` each one throws.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { InvalidUri } from "../core/errors.js";
import { isToken } from "../core/field-syntax.js";
import { parseUri } from "../core/uri.js";
import { toClampedUnsignedShort, toDOMString } from "./webidl.js";

/** The longest close reason, in bytes of UTF-8: a control frame carries at most 125 bytes. */
const MAX_REASON_BYTES = 123;

/**
 * Parses the constructor's `url` (WHATWG WebSockets, `new WebSocket()` steps
 * 1–5): an absolute URL whose scheme is `ws` or `wss`, or `http` or `https`
 * standing for them, without a fragment. There is no document here, hence no
 * base URL: a relative URL is a syntax error.
 *
 * @throws DOMException `SyntaxError` when the URL is not one of those, or is
 *   one the client cannot connect to (port 0, user info without a password).
 */
export function parseWebSocketUrl(url: unknown): URL {
  const input = toDOMString(url);
  let record: URL;
  try {
    record = new URL(input);
  } catch {
    throw new DOMException(`invalid URL: ${input}`, "SyntaxError");
  }
  // "If urlRecord's scheme is "http", then set urlRecord's scheme to "ws".
  // Otherwise, if urlRecord's scheme is "https", set urlRecord's scheme to "wss"."
  if (record.protocol === "http:") record.protocol = "ws:";
  else if (record.protocol === "https:") record.protocol = "wss:";
  if (record.protocol !== "ws:" && record.protocol !== "wss:") {
    throw new DOMException(`URL scheme isn't ws, wss, http or https: ${input}`, "SyntaxError");
  }
  // "If urlRecord's fragment is non-null": `hash` is "" for an empty fragment
  // too, but the serialization keeps its "#", which appears nowhere else.
  if (record.href.includes("#")) {
    throw new DOMException(`URL has a fragment: ${input}`, "SyntaxError");
  }
  try {
    parseUri(wireUri(record));
  } catch (error) {
    if (!(error instanceof InvalidUri)) throw error;
    throw new DOMException(error.message, "SyntaxError");
  }
  return record;
}

/**
 * Bytes the URL standard leaves as they are in a path, query or user info
 * but RFC 3986 §3 doesn't allow there (`\`, `^`, `{`, `|`, `[`, …), and a
 * `%` that starts no escape: {@link wireUri} escapes them.
 */
const NOT_RFC_3986 = /%(?![0-9A-Fa-f]{2})|[^A-Za-z0-9\-._~!$&'()*+,;=:@/?%]/g;

function escapeByte(character: string): string {
  return `%${character.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`;
}

/**
 * The URI to connect to for a URL that {@link parseWebSocketUrl} returned:
 * its serialization, with what RFC 3986 doesn't allow in a request target or
 * in user info percent-encoded (RFC 3986 §2.1). `new URL("ws://h/?a\\b")`
 * keeps its backslash, which a request target can't carry as it is; the
 * server reads `/?a%5Cb`, the same query once decoded. The URL is ASCII
 * already: the URL standard encodes everything else.
 */
export function wireUri(url: URL): string {
  const escapePart = (part: string) => part.replace(NOT_RFC_3986, escapeByte);
  let userInfo = "";
  if (url.username !== "" || url.password !== "") {
    userInfo = `${escapePart(url.username)}${url.password === "" ? "" : `:${escapePart(url.password)}`}@`;
  }
  return `${url.protocol}//${userInfo}${url.host}${escapePart(url.pathname)}${escapePart(url.search)}`;
}

/**
 * Converts and checks the constructor's `protocols` (steps 6–7): a string or
 * an iterable of strings, each a token as `Sec-WebSocket-Protocol` requires
 * (RFC 6455 §4.1: "characters in the range U+0021 to U+007E not including
 * separator characters as defined in [RFC2616]"), none twice.
 *
 * @throws DOMException `SyntaxError` for an invalid or repeated subprotocol.
 */
export function parseProtocols(protocols: unknown): string[] {
  const list = convertProtocols(protocols);
  const seen = new Set<string>();
  for (const protocol of list) {
    if (!isToken(protocol)) {
      throw new DOMException(`invalid subprotocol: ${JSON.stringify(protocol)}`, "SyntaxError");
    }
    // The web-platform tests compare them case-insensitively (Chromium does not).
    const key = protocol.toLowerCase();
    if (seen.has(key)) {
      throw new DOMException(`subprotocol offered twice: ${protocol}`, "SyntaxError");
    }
    seen.add(key);
  }
  return list;
}

/**
 * The constructor's `protocols` converted as WebIDL's
 * `(DOMString or sequence<DOMString>)`, without checks: a list of strings.
 *
 * @throws TypeError for what can't be converted (a `Symbol`).
 */
export function convertProtocols(protocols: unknown): string[] {
  let list: string[];
  if (protocols === undefined) {
    list = [];
  } else if (
    (typeof protocols === "object" || typeof protocols === "function") &&
    protocols !== null &&
    Symbol.iterator in protocols
  ) {
    // WebIDL `(DOMString or sequence<DOMString>)`: an iterable object is a sequence.
    list = Array.from(protocols as Iterable<unknown>, toDOMString);
  } else {
    list = [toDOMString(protocols)];
  }
  return list;
}

/** What `close(code, reason)` asks for, once checked. */
export interface CloseRequest {
  /** `null` when `close()` was called without a code. */
  readonly code: number | null;
  readonly reason: string;
}

/**
 * Converts and checks the arguments of `close()` (its steps 1–2).
 *
 * @throws DOMException `InvalidAccessError` for a code other than 1000 or
 *   3000–4999; `SyntaxError` for a reason over 123 bytes of UTF-8.
 */
export function parseCloseArguments(code: unknown, reason: unknown): CloseRequest {
  // WebIDL converts both arguments before the method's steps check either:
  // a reason that can't be converted throws its TypeError whatever the code.
  const closeCode = code === undefined ? null : toClampedUnsignedShort(code);
  const closeReason = reason === undefined ? "" : toDOMString(reason);
  if (closeCode !== null) {
    // "If code is present, but is neither an integer equal to 1000 nor an
    // integer in the range 3000 to 4999, inclusive, throw an InvalidAccessError."
    if (closeCode !== 1000 && (closeCode < 3000 || closeCode > 4999)) {
      throw new DOMException(
        `close code must be 1000 or in the range 3000-4999: ${closeCode}`,
        "InvalidAccessError",
      );
    }
  }
  if (reason !== undefined) {
    // A USVString: lone surrogates count as U+FFFD, 3 bytes, as Buffer counts them.
    const length = Buffer.byteLength(closeReason, "utf8");
    if (length > MAX_REASON_BYTES) {
      throw new DOMException(
        `close reason is ${length} bytes of UTF-8, more than ${MAX_REASON_BYTES}`,
        "SyntaxError",
      );
    }
  }
  return { code: closeCode, reason: closeReason };
}
