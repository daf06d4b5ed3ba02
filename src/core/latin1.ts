/**
 * ISO-8859-1, one character per octet: how the bytes of an HTTP head are
 * decoded into strings and how strings are serialized back into bytes (see
 * `Headers` for the characters a field may hold).
 *
 * @module
 */

import { Buffer } from "node:buffer";

export function latin1Decode(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("latin1");
}

/** Encodes a string whose characters are all ≤ U+00FF, one octet each. */
export function latin1Encode(s: string): Uint8Array {
  // Node encodes natively; the view keeps the result a plain Uint8Array.
  const bytes = Buffer.from(s, "latin1");
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
}
