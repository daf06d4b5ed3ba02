/**
 * The grammars of the header values the opening handshake uses: `Connection`,
 * `Upgrade`, `Sec-WebSocket-Protocol` and `Sec-WebSocket-Extensions`, parsed
 * and built.
 *
 * The `parse…` functions read one header value and throw
 * {@link InvalidHeaderFormat} with the position where the grammar failed. They
 * are hand-written scanners that look at each character a bounded number of
 * times, so hostile values cost linear time.
 *
 * @module
 */

import { describeValue } from "./describe-value.js";
import { InvalidHeaderFormat } from "./errors.js";
import { isFieldValueChar, isToken, scanToken, skipOWS } from "./field-syntax.js";

// ---------------------------------------------------------------------------
// Scanners. Each takes the header value, a position, and the header name for
// errors, and returns what it read with the position after it.

function parseToken(s: string, pos: number, header: string): [string, number] {
  const end = scanToken(s, pos);
  if (end === pos) throw new InvalidHeaderFormat(header, "expected token", s, pos);
  return [s.slice(pos, end), end];
}

/**
 * RFC 9110 §5.6.4: quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE;
 * returns the unescaped content. `s[pos]` is the opening DQUOTE.
 */
function parseQuotedString(s: string, pos: number, header: string): [string, number] {
  let out = "";
  let start = pos + 1;
  for (let i = start; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) return [out + s.slice(start, i), i + 1];
    if (c === 0x5c) {
      // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
      if (i + 1 === s.length) break;
      if (!isFieldValueChar(s.charCodeAt(i + 1))) {
        throw new InvalidHeaderFormat(header, "invalid quoted-pair", s, i);
      }
      out += s.slice(start, i);
      start = ++i;
    } else if (!isFieldValueChar(c)) {
      // qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
      throw new InvalidHeaderFormat(header, "invalid character in quoted string", s, i);
    }
  }
  throw new InvalidHeaderFormat(header, "unterminated quoted string", s, pos);
}

/**
 * RFC 9110 §5.6.1: `1#element`. "A recipient MUST accept lists that satisfy the
 * following syntax: #element => [ element ] *( OWS "," OWS [ element ] )" and
 * "Empty elements do not contribute to the count of elements present", so empty
 * elements are skipped, and at least one element is required.
 */
function parseList<T>(
  parseItem: (s: string, pos: number, header: string) => [T, number],
  s: string,
  header: string,
): T[] {
  let pos = skipOWS(s, 0);
  while (s.charCodeAt(pos) === 0x2c) pos = skipOWS(s, pos + 1);
  const items: T[] = [];
  while (true) {
    // Invariant: an item starts at pos.
    let item: T;
    [item, pos] = parseItem(s, pos, header);
    items.push(item);
    pos = skipOWS(s, pos);
    if (pos === s.length) return items;
    if (s.charCodeAt(pos) !== 0x2c) throw new InvalidHeaderFormat(header, "expected comma", s, pos);
    while (s.charCodeAt(pos) === 0x2c) pos = skipOWS(s, pos + 1);
    if (pos === s.length) return items;
  }
}

/**
 * Parses each value of a header that may be repeated with `parse`, into one
 * list. RFC 9110 §5.3: a recipient may combine repeated field lines "into one
 * field line ... with each of its field line values ... separated by a comma",
 * so the lists follow each other. A loop rather than `flatMap`, whose generic
 * path took tens of milliseconds on a request head of 1 MiB of list items.
 */
export function parseEach<T>(values: readonly string[], parse: (value: string) => T[]): T[] {
  if (values.length === 1) return parse(values[0]!);
  const all: T[] = [];
  for (const value of values) {
    const items = parse(value);
    for (let i = 0; i < items.length; i++) all.push(items[i]!);
  }
  return all;
}

/**
 * Parses a `Connection` header: RFC 9110 §7.6.1 `Connection = #connection-option`,
 * `connection-option = token`, with at least one option (RFC 6455 §4.1 needs
 * "Upgrade" among them). Options keep their case.
 *
 * @throws InvalidHeaderFormat when the value doesn't follow the grammar.
 */
export function parseConnection(value: string, header = "Connection"): string[] {
  return parseList(parseToken, value, header);
}

/** RFC 9110 §7.8: protocol = protocol-name ["/" protocol-version], both tokens. */
function parseProtocol(s: string, pos: number, header: string): [string, number] {
  let end: number;
  [, end] = parseToken(s, pos, header);
  if (s.charCodeAt(end) === 0x2f) [, end] = parseToken(s, end + 1, header);
  return [s.slice(pos, end), end];
}

/**
 * Parses an `Upgrade` header: RFC 9110 §7.8 `Upgrade = #protocol`, at least one.
 * Each protocol is returned as written, with its `/version` if any.
 *
 * @throws InvalidHeaderFormat when the value doesn't follow the grammar.
 */
export function parseUpgrade(value: string, header = "Upgrade"): string[] {
  return parseList(parseProtocol, value, header);
}

/**
 * Parses a `Sec-WebSocket-Protocol` header: RFC 6455 §11.3.4
 * `Sec-WebSocket-Protocol-Client = 1#token`.
 *
 * @throws InvalidHeaderFormat when the value doesn't follow the grammar.
 */
export function parseSubprotocolList(value: string, header = "Sec-WebSocket-Protocol"): string[] {
  return parseList(parseToken, value, header);
}

/** An extension parameter: its name, and its value or `null` when it has none. */
export type ExtensionParameter = readonly [name: string, value: string | null];

/** An extension offered or accepted: its name and its parameters, in order. */
export type ExtensionHeader = readonly [name: string, parameters: ExtensionParameter[]];

/** RFC 6455 §9.1: extension-param = token [ "=" (token | quoted-string) ] */
function parseExtensionParam(s: string, pos: number, header: string): [ExtensionParameter, number] {
  let name: string;
  [name, pos] = parseToken(s, pos, header);
  pos = skipOWS(s, pos);
  if (s.charCodeAt(pos) !== 0x3d) return [[name, null], pos];
  pos = skipOWS(s, pos + 1);
  let value: string;
  if (s.charCodeAt(pos) === 0x22) {
    const quote = pos;
    [value, pos] = parseQuotedString(s, pos, header);
    // RFC 6455 §9.1: "When using the quoted-string syntax variant, the value
    // after quoted-string unescaping MUST conform to the 'token' ABNF."
    if (!isToken(value)) {
      throw new InvalidHeaderFormat(header, "invalid quoted header content", s, quote);
    }
  } else {
    [value, pos] = parseToken(s, pos, header);
  }
  return [[name, value], skipOWS(s, pos)];
}

/** RFC 6455 §9.1: extension = extension-token *( ";" extension-param ) */
function parseExtension(s: string, pos: number, header: string): [ExtensionHeader, number] {
  let name: string;
  [name, pos] = parseToken(s, pos, header);
  pos = skipOWS(s, pos);
  const parameters: ExtensionParameter[] = [];
  while (s.charCodeAt(pos) === 0x3b) {
    let parameter: ExtensionParameter;
    [parameter, pos] = parseExtensionParam(s, skipOWS(s, pos + 1), header);
    parameters.push(parameter);
  }
  return [[name, parameters], pos];
}

/**
 * Parses a `Sec-WebSocket-Extensions` header: RFC 6455 §9.1
 * `extension-list = 1#extension`. Quoted parameter values are returned unescaped.
 *
 * @throws InvalidHeaderFormat when the value doesn't follow the grammar.
 */
export function parseExtensionList(
  value: string,
  header = "Sec-WebSocket-Extensions",
): ExtensionHeader[] {
  return parseList(parseExtension, value, header);
}

function checkToken(token: string, header: string): string {
  if (!isToken(token)) {
    throw new InvalidHeaderFormat(header, "invalid token", token, scanToken(token, 0));
  }
  return token;
}

/**
 * Builds a `Sec-WebSocket-Extensions` value, e.g.
 * `permessage-deflate; client_max_window_bits`. Parameter values are always
 * tokens (RFC 6455 §9.1), so they are never quoted.
 *
 * @throws InvalidHeaderFormat when the list is empty or a name or value isn't a token.
 */
export function buildExtensionList(list: readonly ExtensionHeader[]): string {
  const header = "Sec-WebSocket-Extensions";
  if (list.length === 0) throw new InvalidHeaderFormat(header, "empty list", "", 0);
  return list
    .map(([name, parameters]) =>
      [
        checkToken(name, header),
        ...parameters.map(([key, value]) =>
          value === null
            ? checkToken(key, header)
            : `${checkToken(key, header)}=${checkToken(value, header)}`,
        ),
      ].join("; "),
    )
    .join(", ");
}

/**
 * Builds a `Sec-WebSocket-Protocol` value: RFC 6455 §11.3.4 `1#token`.
 *
 * @throws InvalidHeaderFormat when the list is empty or an entry isn't a token.
 */
export function buildSubprotocolList(list: readonly string[]): string {
  const header = "Sec-WebSocket-Protocol";
  if (list.length === 0) throw new InvalidHeaderFormat(header, "empty list", "", 0);
  return list.map((protocol) => checkToken(protocol, header)).join(", ");
}

/**
 * Checks a `subprotocols` option: a list of strings. A string alone would
 * pass for a list of its characters.
 *
 * @throws TypeError otherwise.
 */
export function checkSubprotocolsOption(value: readonly string[] | undefined): void {
  if (value === undefined) return;
  if (!Array.isArray(value)) {
    throw new TypeError(
      `subprotocols must be an array of strings, such as ["chat"]; got ${describeValue(value)}`,
    );
  }
  const index = value.findIndex((entry) => typeof entry !== "string");
  if (index >= 0) {
    throw new TypeError(
      `subprotocols must be an array of strings, such as ["chat"]; item ${index} is ${describeValue(value[index])}`,
    );
  }
}

/**
 * RFC 9110 §7.2: Host = uri-host [ ":" port ], with RFC 3986 §3.2.2's
 * uri-host: an IP-literal in brackets, or a reg-name of unreserved
 * characters, percent-encodings and sub-delims (an IPv4 address is one).
 * Empty is valid: RFC 9110 §7.2 asks for it when the target has no authority.
 */
const HOST_VALUE =
  /^(?:\[[0-9A-Za-z:._~!$&'()*+,;=-]+\]|(?:[0-9A-Za-z._~!$&'()*+,;=-]|%[0-9A-Fa-f]{2})*)(?::[0-9]*)?$/;

/** Whether `value` is a valid Host field value; see {@link HOST_VALUE}. */
export function isHostValue(value: string): boolean {
  return HOST_VALUE.test(value);
}
