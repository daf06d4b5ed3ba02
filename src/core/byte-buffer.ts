/**
 * {@link ByteBuffer}: the bytes a parser moves out of a stream reader to keep,
 * such as an incomplete line or a response body.
 *
 * @module
 */

import type { StreamReader } from "./streams.js";

const EMPTY = new Uint8Array(0);

/**
 * Bytes moved out of a {@link StreamReader} into one buffer of their own that
 * doubles as it fills, up to a cap. What it holds then costs its bytes, not
 * one view (and the chunk behind it) per read: a peer sending one byte per
 * TCP segment can't make a parser keep a million objects for a 1 MiB limit.
 */
export class ByteBuffer {
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
