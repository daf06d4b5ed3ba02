/** Test helpers for writing bytes as hex literals and comparing them. */

import { Buffer } from "node:buffer";

/** Bytes from a hex string; spaces and newlines are ignored: `hex("81 05 48 65")`. */
export function hex(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text.replace(/\s+/g, ""), "hex"));
}

/** Hex of some bytes, for readable assertion failures. */
export function toHex(data: Uint8Array): string {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("hex");
}

/** Concatenates chunks. */
export function concat(chunks: readonly Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(chunks));
}

/** UTF-8 bytes of a string. */
export function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** Every way of cutting `data` in two, plus byte-by-byte: the chunkings a parser must handle. */
export function* splits(data: Uint8Array): Generator<Uint8Array[]> {
  yield [data.slice()];
  for (let i = 1; i < data.length; i++) yield [data.slice(0, i), data.slice(i)];
  yield Array.from(data, (byte) => Uint8Array.of(byte));
}
