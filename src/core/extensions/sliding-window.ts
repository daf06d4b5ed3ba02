/**
 * The last bytes that went through a DEFLATE stream: what RFC 7692 §7.1.1
 * calls the LZ77 sliding window, kept between messages for context takeover.
 *
 * @module
 */

const EMPTY = new Uint8Array(0);

/**
 * Keeps the last `capacity` bytes appended. Its memory is allocated on first
 * use and released by {@link clear}, so a connection that takes no context
 * over, or has not sent anything yet, holds none.
 */
export class SlidingWindow {
  private buffer: Uint8Array | null = null;
  private length = 0;

  /** @param capacity the window size, 2^windowBits bytes. */
  constructor(readonly capacity: number) {}

  /** The bytes kept, oldest first. A view: valid until the next {@link append} or {@link clear}. */
  get data(): Uint8Array {
    return this.buffer === null ? EMPTY : this.buffer.subarray(0, this.length);
  }

  /** Appends a copy of `bytes`, dropping the oldest bytes beyond the capacity. */
  append(bytes: Uint8Array): void {
    const capacity = this.capacity;
    if (bytes.length === 0) return;
    this.buffer ??= new Uint8Array(capacity);
    const buffer = this.buffer;
    if (bytes.length >= capacity) {
      buffer.set(bytes.subarray(bytes.length - capacity));
      this.length = capacity;
      return;
    }
    const overflow = this.length + bytes.length - capacity;
    if (overflow > 0) {
      buffer.copyWithin(0, overflow, this.length);
      this.length -= overflow;
    }
    buffer.set(bytes, this.length);
    this.length += bytes.length;
  }

  /** Forgets everything and releases the memory. */
  clear(): void {
    this.buffer = null;
    this.length = 0;
  }
}
