/**
 * HTTP header fields and the grammars of the headers the opening handshake uses.
 *
 * {@link Headers} is a case-insensitive multimap that keeps fields in the order
 * they arrived and with the casing they were written in. The `parse…` functions
 * read one header value and throw {@link InvalidHeaderFormat} with the position
 * where the grammar failed. They are hand-written scanners that look at each
 * character a bounded number of times, so hostile values cost linear time.
 *
 * @module
 */

import { InvalidHeaderFormat, InvalidHeaderValue } from "./errors.js";

// RFC 9110 §5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "."
//                        / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 0x41; c <= 0x5a; c++) TCHAR[c] = TCHAR[c + 0x20] = 1;

function isTchar(code: number): boolean {
  return code < 0x80 && TCHAR[code] === 1;
}

/** Whether `s` is an RFC 9110 §5.6.2 `token`: one or more tchar. */
export function isToken(s: string): boolean {
  return s.length > 0 && scanToken(s, 0) === s.length;
}

/** End of the run of tchar starting at `pos`. */
function scanToken(s: string, pos: number): number {
  while (pos < s.length && isTchar(s.charCodeAt(pos))) pos++;
  return pos;
}

/**
 * Whether `code` may appear in a field value: RFC 9110 §5.5
 * `field-vchar = VCHAR / obs-text`, plus SP and HTAB between them. Everything
 * else is a control character (CR, LF and NUL among them, "invalid and
 * dangerous" per §5.5) or cannot be written as one octet.
 */
export function isFieldValueChar(code: number): boolean {
  return code === 0x09 || (code >= 0x20 && code !== 0x7f && code <= 0xff);
}

/** Index of the first character of `value` that can't be in a field value, or -1. */
function findInvalidValueChar(value: string): number {
  for (let i = 0; i < value.length; i++) {
    if (!isFieldValueChar(value.charCodeAt(i))) return i;
  }
  return -1;
}

/** A header field as a `[name, value]` pair. */
export type HeaderField = [name: string, value: string];

/** What {@link Headers} can be built from. */
export type HeadersInit =
  | Iterable<readonly [string, string]>
  | Record<string, string | readonly string[]>
  | Headers;

/**
 * A field name and its lowercase form, shared by every {@link Headers} that
 * holds a field with that exact name: a server keeps the request of each open
 * connection, and its dozen names are the same strings from one client to the
 * next.
 */
export type FieldName = readonly [name: string, key: string];

/**
 * Field names seen so far, by their exact spelling. Bounded, so that a peer
 * sending made-up names can't grow it; names past the bound are lowercased
 * for their own fields only.
 */
const fieldNames = new Map<string, FieldName>();
const MAX_CACHED_NAMES = 512;

/**
 * The names of the handshake's fields and of those browsers send with it, in
 * their usual spelling and in lowercase: cached first, so that a peer sending
 * made-up names before anyone else can't crowd them out.
 */
const commonFieldNames: FieldName[] = [];
for (const name of [
  "Host",
  "Upgrade",
  "Connection",
  "Origin",
  "User-Agent",
  "Authorization",
  "Cookie",
  "Pragma",
  "Cache-Control",
  "Accept-Encoding",
  "Accept-Language",
  "Content-Length",
  "Content-Type",
  "Transfer-Encoding",
  "Sec-WebSocket-Key",
  "Sec-WebSocket-Version",
  "Sec-WebSocket-Extensions",
  "Sec-WebSocket-Protocol",
  "Sec-WebSocket-Accept",
]) {
  const key = name.toLowerCase();
  const spellings: FieldName[] = [
    [name, key],
    [key, key],
  ];
  for (const entry of spellings) {
    fieldNames.set(entry[0], entry);
    commonFieldNames.push(entry);
  }
}

/**
 * The cached names of the common fields, each spelling with its own entry:
 * the HTTP parser recognizes them from their octets.
 *
 * @internal
 */
export function commonFieldNameEntries(): readonly FieldName[] {
  return commonFieldNames;
}

function fieldName(name: string): FieldName {
  const cached = fieldNames.get(name);
  if (cached !== undefined) return cached;
  const entry: FieldName = [name, name.toLowerCase()];
  if (fieldNames.size < MAX_CACHED_NAMES) fieldNames.set(name, entry);
  return entry;
}

/** The key of a field name: RFC 9110 §5.1, "Field names are case-insensitive". */
function keyOf(name: string): string {
  return fieldName(name)[1];
}

let appendTrusted: (headers: Headers, name: FieldName, value: string) => void;
let trimStorage: (headers: Headers) => void;
let pack: (headers: Headers) => void;

/** What separates names and values in packed headers: LF, which neither may contain. */
const PACKED_SEPARATOR = "\n";

/**
 * A case-insensitive multimap of HTTP header fields.
 *
 * Fields keep their insertion order and the casing of their names, which is how
 * they are serialized. Names must be tokens and values may only hold HTAB, SP,
 * visible ASCII and obs-text (U+0080–U+00FF, written as one octet each):
 * {@link Headers.set} and {@link Headers.append} throw {@link InvalidHeaderFormat}
 * otherwise, so a value can never smuggle a CRLF into the serialized message.
 */
export class Headers implements Iterable<HeaderField> {
  /**
   * One flat array, the shared {@link FieldName} of each field followed by its
   * value, rather than a pair per field: a server retains the request headers
   * of every open connection. Or, once {@link packHeaders} packed them, one
   * string of names and values, which the first use unpacks.
   */
  #fields: (FieldName | string)[] | string = [];

  static {
    appendTrusted = (headers, name, value) => headers.#list().push(name, value);
    trimStorage = (headers) => {
      headers.#fields = headers.#list().slice();
    };
    pack = (headers) => {
      const fields = headers.#list();
      if (fields.length === 0) return;
      const parts: string[] = [];
      for (let i = 0; i < fields.length; i += 2) {
        parts.push((fields[i] as FieldName)[0], fields[i + 1] as string);
      }
      // join() makes one flat string; concatenation would keep a tree of pieces.
      headers.#fields = parts.join(PACKED_SEPARATOR);
    };
  }

  /**
   * Fields from `[name, value]` pairs, another `Headers`, or a record of names
   * to a value or a list of values, in order.
   *
   * @throws InvalidHeaderFormat for a name that isn't a token or a forbidden
   *   character in a value.
   */
  constructor(init?: HeadersInit) {
    if (init === undefined) return;
    if (Symbol.iterator in init) {
      for (const [name, value] of init as Iterable<readonly [string, string]>) {
        this.append(name, value);
      }
      return;
    }
    for (const [name, values] of Object.entries(init)) {
      if (typeof values === "string") this.append(name, values);
      else for (const value of values) this.append(name, value);
    }
  }

  /** Number of fields, counting each repeated name once per field. */
  get size(): number {
    return this.#list().length >> 1;
  }

  /**
   * All values of `name` joined with `", "`, as RFC 9110 §5.3 allows for list
   * headers, or `undefined` when there is none.
   */
  get(name: string): string | undefined {
    const key = keyOf(name);
    const fields = this.#list();
    let joined: string | undefined;
    for (let i = 0; i < fields.length; i += 2) {
      if ((fields[i] as FieldName)[1] !== key) continue;
      const value = fields[i + 1] as string;
      joined = joined === undefined ? value : `${joined}, ${value}`;
    }
    return joined;
  }

  /** Every value of `name`, in order. */
  getAll(name: string): string[] {
    const key = keyOf(name);
    const fields = this.#list();
    const values: string[] = [];
    for (let i = 0; i < fields.length; i += 2) {
      if ((fields[i] as FieldName)[1] === key) values.push(fields[i + 1] as string);
    }
    return values;
  }

  /** Whether at least one field is called `name`. */
  has(name: string): boolean {
    return this.#indexOf(keyOf(name)) !== -1;
  }

  /**
   * Replaces every field called `name` by one with `value`, at the position of
   * the first one, or at the end if there was none.
   *
   * @throws InvalidHeaderFormat when the name isn't a token or the value holds a
   *   forbidden character.
   */
  set(name: string, value: string): void {
    validateField(name, value);
    const entry = fieldName(name);
    const index = this.#indexOf(entry[1]);
    if (index === -1) {
      this.#list().push(entry, value);
      return;
    }
    const fields = this.#list();
    fields[index] = entry;
    fields[index + 1] = value;
    this.#remove(entry[1], index + 2);
  }

  /**
   * Adds a field, keeping existing ones with the same name.
   *
   * @throws InvalidHeaderFormat when the name isn't a token or the value holds a
   *   forbidden character.
   */
  append(name: string, value: string): void {
    validateField(name, value);
    this.#list().push(fieldName(name), value);
  }

  /** Removes every field called `name`. */
  delete(name: string): void {
    this.#remove(keyOf(name), 0);
  }

  /** The fields as `[name, value]` pairs, in order. */
  *entries(): IterableIterator<HeaderField> {
    const fields = this.#list();
    for (let i = 0; i < fields.length; i += 2) {
      yield [(fields[i] as FieldName)[0], fields[i + 1] as string];
    }
  }

  /** The fields as `[name, value]` pairs, in order, as {@link entries} returns them. */
  [Symbol.iterator](): IterableIterator<HeaderField> {
    return this.entries();
  }

  /** The header section: one `Name: value\r\n` line per field, then an empty line. */
  toString(): string {
    const fields = this.#list();
    let out = "";
    for (let i = 0; i < fields.length; i += 2) {
      out += `${(fields[i] as FieldName)[0]}: ${fields[i + 1] as string}\r\n`;
    }
    return `${out}\r\n`;
  }

  /** The fields, unpacked first if {@link packHeaders} packed them. */
  #list(): (FieldName | string)[] {
    const fields = this.#fields;
    if (typeof fields !== "string") return fields;
    const parts = fields.split(PACKED_SEPARATOR);
    const list: (FieldName | string)[] = [];
    for (let i = 0; i < parts.length; i += 2) list.push(fieldName(parts[i]!), parts[i + 1]!);
    this.#fields = list;
    return list;
  }

  /** Slot of the first field whose key is `key`, or -1. */
  #indexOf(key: string): number {
    const fields = this.#list();
    for (let i = 0; i < fields.length; i += 2) if ((fields[i] as FieldName)[1] === key) return i;
    return -1;
  }

  /** Removes the fields whose key is `key` from slot `from` on, keeping the order of the rest. */
  #remove(key: string, from: number): void {
    const fields = this.#list();
    let kept = from;
    for (let i = from; i < fields.length; i += 2) {
      if ((fields[i] as FieldName)[1] === key) continue;
      if (kept !== i) {
        fields[kept] = fields[i]!;
        fields[kept + 1] = fields[i + 1]!;
      }
      kept += 2;
    }
    fields.length = kept;
  }
}

/**
 * Appends a field whose name and value the HTTP parser has already checked
 * against the same grammar as {@link Headers.append}, without checking them
 * again: that check was a third of the cost of parsing a request. `name` is
 * the name or, for a common one, its cached entry. Returns the field's key,
 * its name in lowercase.
 *
 * @internal
 */
export function appendParsedField(
  headers: Headers,
  name: string | FieldName,
  value: string,
): string {
  const entry = typeof name === "string" ? fieldName(name) : name;
  appendTrusted(headers, entry, value);
  return entry[1];
}

/**
 * Releases the spare capacity the storage grew while fields were added one by
 * one, for headers that are kept: a server keeps each connection's request,
 * and its I/O layer the response.
 *
 * @internal
 */
export function compactHeaders(headers: Headers): void {
  trimStorage(headers);
}

/**
 * Packs the fields into one string until they are next used, for headers
 * that are kept but seldom read: the request of each open connection. Its
 * names and values then cost one string rather than an array of references
 * and a string per value. Nothing else changes: the next call of any method
 * unpacks them.
 *
 * @internal
 */
export function packHeaders(headers: Headers): void {
  pack(headers);
}

function validateField(name: string, value: string): void {
  // RFC 9110 §5.1: field-name = token
  if (!isToken(name)) {
    const at = name.length === 0 ? 0 : scanToken(name, 0);
    throw new InvalidHeaderFormat(name, "invalid header name", name, at);
  }
  // RFC 9110 §5.5: "Field values containing CR, LF, or NUL characters are invalid
  // and dangerous"; a CRLF would end the field and start an injected one.
  const at = findInvalidValueChar(value);
  if (at !== -1)
    throw new InvalidHeaderFormat(name, "invalid character in header value", value, at);
}

// ---------------------------------------------------------------------------
// Scanners. Each takes the header value, a position, and the header name for
// errors, and returns what it read with the position after it.

/** RFC 9110 §5.6.3: OWS = *( SP / HTAB ). */
function skipOWS(s: string, pos: number): number {
  while (pos < s.length) {
    const c = s.charCodeAt(pos);
    if (c !== 0x20 && c !== 0x09) break;
    pos++;
  }
  return pos;
}

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
 * Builds an `Authorization` value for HTTP Basic authentication (RFC 7617 §2):
 * `Basic ` and the base64 of `username:password` encoded as UTF-8.
 *
 * @throws InvalidHeaderValue when the username contains a colon (RFC 7617 §2:
 *   "a user-id containing a colon character is invalid").
 */
export function buildBasicAuthorization(username: string, password: string): string {
  if (username.includes(":")) {
    throw new InvalidHeaderValue("Authorization", "username contains a colon");
  }
  const bytes = new TextEncoder().encode(`${username}:${password}`);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return `Basic ${btoa(binary)}`;
}

/** Whether `code` is in the base64 alphabet (RFC 4648 §4), padding excluded. */
function isBase64Char(code: number): boolean {
  return (
    (code >= 0x41 && code <= 0x5a) ||
    (code >= 0x61 && code <= 0x7a) ||
    (code >= 0x30 && code <= 0x39) ||
    code === 0x2b ||
    code === 0x2f
  );
}

/**
 * Parses an `Authorization` header for HTTP Basic authentication (RFC 7617 §2)
 * and returns the username and the password.
 *
 * Errors are {@link InvalidHeaderValue} and never quote the value, so that the
 * credentials don't end up in logs.
 *
 * @throws InvalidHeaderValue when the scheme isn't Basic or the credentials
 *   aren't base64 of UTF-8 `username:password`.
 */
export function parseBasicAuthorization(value: string): [username: string, password: string] {
  const header = "Authorization";
  // RFC 9110 §11.4: credentials = auth-scheme [ 1*SP ( token68 / #auth-param ) ];
  // §11.1: "It uses a case-insensitive token to identify the authentication scheme".
  const end = scanToken(value, 0);
  if (end === 0) throw new InvalidHeaderValue(header, "expected authentication scheme");
  if (value.slice(0, end).toLowerCase() !== "basic") {
    throw new InvalidHeaderValue(header, "unsupported authentication scheme");
  }
  let pos = end;
  if (value.charCodeAt(pos) !== 0x20) throw new InvalidHeaderValue(header, "expected credentials");
  while (value.charCodeAt(pos) === 0x20) pos++;
  // RFC 7617 §2: credentials are the token68 form, here base64 with its padding.
  const start = pos;
  while (pos < value.length && isBase64Char(value.charCodeAt(pos))) pos++;
  let padding = 0;
  while (value.charCodeAt(pos) === 0x3d && padding < 2) {
    pos++;
    padding++;
  }
  const encoded = value.slice(start, pos);
  if (skipOWS(value, pos) !== value.length || encoded.length === 0 || encoded.length % 4 !== 0) {
    throw new InvalidHeaderValue(header, "expected base64-encoded credentials");
  }
  const binary = atob(encoded);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  let decoded: string;
  try {
    decoded = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new InvalidHeaderValue(header, "expected UTF-8 credentials");
  }
  const colon = decoded.indexOf(":");
  if (colon === -1) throw new InvalidHeaderValue(header, "expected username:password credentials");
  return [decoded.slice(0, colon), decoded.slice(colon + 1)];
}
