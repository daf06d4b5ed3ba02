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

/**
 * Views that are not `Uint8Array`s, each over a part of one larger
 * `ArrayBuffer` that starts past its beginning (a nonzero `byteOffset`): a
 * sender must send the bytes each covers ({@link coveredBytes}), not the rest
 * of the buffer. Byte `i` of the buffer is `i`, so that any other run of
 * bytes tells where it came from.
 */
export function offsetViews(): [Float32Array, DataView, Int16Array] {
  const buffer = new ArrayBuffer(64);
  new Uint8Array(buffer).forEach((_, i, bytes) => {
    bytes[i] = i;
  });
  return [
    new Float32Array(buffer, 8, 2),
    new DataView(buffer, 3, 5),
    new Int16Array(buffer, 18, 3),
  ];
}

/** The bytes `view` covers, `byteOffset` to `byteOffset + byteLength`, as numbers. */
export function coveredBytes(view: ArrayBufferView | ArrayBufferLike): number[] {
  return ArrayBuffer.isView(view)
    ? [...new Uint8Array(view.buffer, view.byteOffset, view.byteLength)]
    : [...new Uint8Array(view)];
}
