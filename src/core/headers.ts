/**
 * HTTP header fields: {@link Headers}, a case-insensitive multimap that keeps
 * fields in the order they arrived and with the casing they were written in,
 * and the cache of field names its instances share.
 *
 * @module
 */

import { isCredentialField } from "./credential-fields.js";
import { describeValue } from "./describe-value.js";
import { InvalidHeaderFormat } from "./errors.js";
import { isFieldValueChar, isToken, scanToken } from "./field-syntax.js";

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
  // Spelled out beside the iterable: TypeScript 5.0 reads an inline
  // `[["Cookie", "a=b"]]` as string[][] against the iterable alone.
  | readonly (readonly [string, string])[]
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
let extendLast: (headers: Headers, more: string) => [name: string, value: string] | null;

/** What separates names and values in packed headers: LF, which neither may contain. */
const PACKED_SEPARATOR = "\n";

/**
 * Packed headers spell each common field name as one character: from this
 * code on, by its index in {@link commonFieldNames}. No name is spelled so,
 * since names are tokens, which are ASCII (RFC 9110 §5.6.2).
 */
const PACKED_NAME_BASE = 0x80;
const packedNames = new Map<string, string>(
  commonFieldNames.map((entry, index) => [entry[0], String.fromCharCode(PACKED_NAME_BASE + index)]),
);

/**
 * Field values that nearly every handshake request repeats. The HTTP parsers
 * hand out these strings rather than copies, and packed headers spell each
 * as one character: U+0001 for the first, and so on, control characters
 * that no field value holds (RFC 9110 §5.5: HTAB, SP, VCHAR and obs-text
 * only). At most 8 of them, to stay below HTAB (U+0009).
 *
 * @internal
 */
export const COMMON_FIELD_VALUES: readonly string[] = [
  "websocket",
  "Upgrade",
  "upgrade",
  "keep-alive, Upgrade",
  "13",
  "no-cache",
  "permessage-deflate; client_max_window_bits",
];
const packedValues = new Map<string, string>(
  COMMON_FIELD_VALUES.map((value, index) => [value, String.fromCharCode(1 + index)]),
);

/** The field name that `part`, a name of packed headers, spells. */
function unpackName(part: string): FieldName {
  if (part.length === 1) {
    const common = commonFieldNames[part.charCodeAt(0) - PACKED_NAME_BASE];
    if (common !== undefined) return common;
  }
  return fieldName(part);
}

/** The field value that `part`, a value of packed headers, spells. */
function unpackValue(part: string): string {
  if (part.length !== 1) return part;
  const code = part.charCodeAt(0);
  return (code < 0x09 ? COMMON_FIELD_VALUES[code - 1] : undefined) ?? part;
}

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
    extendLast = (headers, more) => {
      const fields = headers.#list();
      if (fields.length === 0) return null;
      const last = fields[fields.length - 1] as string;
      const value = last === "" ? more : `${last} ${more}`;
      fields[fields.length - 1] = value;
      return [(fields[fields.length - 2] as FieldName)[0], value];
    };
    trimStorage = (headers) => {
      headers.#fields = headers.#list().slice();
    };
    pack = (headers) => {
      const fields = headers.#list();
      if (fields.length === 0) return;
      const parts: string[] = [];
      for (let i = 0; i < fields.length; i += 2) {
        const name = (fields[i] as FieldName)[0];
        const value = fields[i + 1] as string;
        // The common names and values take one character each (see PACKED_NAME_BASE).
        parts.push(packedNames.get(name) ?? name, packedValues.get(value) ?? value);
      }
      // join() makes one flat string; concatenation would keep a tree of pieces.
      headers.#fields = parts.join(PACKED_SEPARATOR);
    };
  }

  /**
   * Fields from `[name, value]` pairs, another `Headers`, or a record of names
   * to a value or a list of values, in order.
   *
   * @param init the fields to start with, each added as by {@link append}, so
   *   a repeated name keeps every value; omitted: no fields.
   * @throws InvalidHeaderFormat for a name that isn't a token or a forbidden
   *   character in a value.
   */
  constructor(init?: HeadersInit) {
    if (init === undefined) return;
    if (typeof init !== "object" || init === null) {
      throw new TypeError(
        `headers must be [name, value] pairs, a Headers, or an object of names to values; got ${describeValue(init)}`,
      );
    }
    if (Symbol.iterator in init) {
      for (const pair of init as Iterable<unknown>) {
        if (!Array.isArray(pair) || pair.length !== 2) {
          throw new TypeError(
            `headers given as a list must hold [name, value] pairs; got ${describeValue(pair)}`,
          );
        }
        this.append(pair[0], pair[1]);
      }
      return;
    }
    for (const [name, values] of Object.entries(init)) {
      if (typeof values === "string") this.append(name, values);
      else if (Array.isArray(values)) for (const value of values) this.append(name, value);
      else {
        throw new TypeError(
          `header ${name} must be a string or an array of strings; got ${describeValue(values)}`,
        );
      }
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
    const first = this.#indexOf(key);
    if (first === -1) return [];
    // Most fields come once: an array of exactly one value, where push()
    // would allocate room for 17 (a handshake reads half a dozen fields).
    const values = [fields[first + 1] as string];
    for (let i = first + 2; i < fields.length; i += 2) {
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
    for (let i = 0; i < parts.length; i += 2) {
      list.push(unpackName(parts[i]!), unpackValue(parts[i + 1]!));
    }
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
 * Appends a space and `more` to the value of the last field, whose obs-fold
 * continuation `more` is (RFC 9112 §5.2), already checked as a field value.
 * Returns that field's name and new value, or `null` when there is no field.
 *
 * @internal
 */
export function extendLastField(
  headers: Headers,
  more: string,
): [name: string, value: string] | null {
  return extendLast(headers, more);
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
 * and a string per value, in which the common names and values of a
 * handshake take one character each (a request from a browser or a client
 * library is mostly those). Nothing else changes: the next call of any
 * method unpacks them.
 *
 * @internal
 */
export function packHeaders(headers: Headers): void {
  pack(headers);
}

function validateField(name: string, value: string): void {
  if (typeof name !== "string") {
    throw new TypeError(`a header name must be a string; got ${describeValue(name)}`);
  }
  if (typeof value !== "string") {
    throw new TypeError(`header ${name} must be a string; got ${describeValue(value)}`);
  }
  // RFC 9110 §5.1: field-name = token
  if (!isToken(name)) {
    const at = name.length === 0 ? 0 : scanToken(name, 0);
    throw new InvalidHeaderFormat(name, "invalid header name", name, at);
  }
  // RFC 9110 §5.5: "Field values containing CR, LF, or NUL characters are invalid
  // and dangerous"; a CRLF would end the field and start an injected one.
  const at = findInvalidValueChar(value);
  if (at !== -1) {
    // A token read from a file with its line feed is a common mistake: the
    // error goes to logs, which must not get the token.
    const shown = isCredentialField(name) ? "[redacted]" : value;
    throw new InvalidHeaderFormat(name, "invalid character in header value", shown, at);
  }
}
