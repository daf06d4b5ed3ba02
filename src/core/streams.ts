/**
 * Buffered bytes from the network, read incrementally.
 *
 * Chunks are kept as they arrived; reads return zero-copy views when the bytes
 * they ask for sit inside one chunk, and copy only when a read straddles chunks.
 * Every read either completes or leaves the buffer untouched and returns `null`,
 * so parsers can retry when more data arrives; the exception, `readInto()`,
 * moves whatever is buffered into a destination of the caller's, for a large
 * payload assembled as it arrives.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { PayloadTooBig } from "./errors.js";
import { applyMask, maskKeyAt } from "./mask.js";

const EMPTY = new Uint8Array(0);

/**
 * The queue of a reader with nothing buffered, shared by all of them and never
 * written to (only a queue that holds chunks is pushed to or shifted): an
 * idle connection's reader then holds no array of its own. Made by emptying
 * an array of chunks, not frozen, so that it has the same hidden class as
 * every other queue and the reads of `chunks[0]` stay monomorphic.
 */
const NO_CHUNKS: Uint8Array[] = [EMPTY];
NO_CHUNKS.pop();

/**
 * Reads shorter than this that arrive while bytes are already buffered are
 * copied into a block of the reader's own instead of queued as they are. A
 * peer that sends a frame a byte per TCP segment would otherwise leave one
 * chunk per byte: about 150 bytes of memory each, and a queue whose length
 * grows with the frame, which every read of the frame walks (a 64 KiB frame
 * sent that way held the event loop for seconds). Copied, the queue holds
 * few chunks, and memory follows the bytes. Reads as large as this are kept
 * as they are, without copying: there are few of them per byte.
 */
const COALESCE_BELOW = 4096;
/** First size of the block small reads are copied into; each next one doubles, up to the most. */
const FIRST_BLOCK_SIZE = 1024;
const LARGEST_BLOCK_SIZE = 64 * 1024;
/**
 * The memory of the blocks made for small reads: a reader may append to its
 * last chunk only when the chunk is a view of one of these (never of a
 * caller's buffer, or of Node's shared pool) and the bytes past it are unused.
 */
const OWN_BLOCKS = new WeakSet<ArrayBufferLike>();

/** Smallest read assembled in memory that is not zero-filled first. */
const UNINITIALIZED_THRESHOLD = 4096;

/**
 * A buffer for `n` bytes that the caller fills entirely. Large ones skip the
 * zero-fill: every byte is written right after. Returned as a plain
 * `Uint8Array`, like every other read, over memory of its own.
 */
export function allocateFilled(n: number): Uint8Array {
  if (n < UNINITIALIZED_THRESHOLD) return new Uint8Array(n);
  const buffer = Buffer.allocUnsafeSlow(n);
  return new Uint8Array(buffer.buffer, buffer.byteOffset, n);
}

/** A queue of received chunks with exact, partial, line and peek reads. */
export class StreamReader {
  private chunks: Uint8Array[] = NO_CHUNKS;
  /** Offset of the first unread byte in `chunks[0]`. */
  private offset = 0;
  private total = 0;
  private eof = false;

  /** Number of buffered bytes not yet read. */
  get length(): number {
    return this.total;
  }

  /** Whether {@link feedEof} was called. */
  get atEof(): boolean {
    return this.eof;
  }

  /** Appends bytes received from the network. Empty chunks are ignored. */
  feedData(data: Uint8Array): void {
    if (this.eof) throw new Error("stream ended");
    if (data.length === 0) return;
    // A read usually consumes what arrived before the next chunk does: a
    // one-element array for it costs less than a queue grown by push().
    if (this.chunks === NO_CHUNKS) this.chunks = [data];
    else if (data.length < COALESCE_BELOW) this.appendSmall(data);
    else this.chunks.push(data);
    this.total += data.length;
  }

  /** Copies a small read after the buffered bytes; see {@link COALESCE_BELOW}. */
  private appendSmall(data: Uint8Array): void {
    const chunks = this.chunks;
    const lastIndex = chunks.length - 1;
    const last = chunks[lastIndex]!;
    const own = OWN_BLOCKS.has(last.buffer);
    if (own && last.byteOffset + last.length + data.length <= last.buffer.byteLength) {
      // Bytes past the last chunk were never handed out: views read before stay as they were.
      const extended = new Uint8Array(last.buffer, last.byteOffset, last.length + data.length);
      extended.set(data, last.length);
      chunks[lastIndex] = extended;
      return;
    }
    const size = Math.max(
      data.length,
      own ? Math.min(2 * last.buffer.byteLength, LARGEST_BLOCK_SIZE) : FIRST_BLOCK_SIZE,
    );
    // Memory of its own, never Node's shared pool, which other buffers use past our bytes.
    const block = Buffer.allocUnsafeSlow(size);
    OWN_BLOCKS.add(block.buffer);
    block.set(data);
    chunks.push(new Uint8Array(block.buffer, block.byteOffset, data.length));
  }

  /** Records that the peer will send no more bytes. */
  feedEof(): void {
    this.eof = true;
  }

  /** The byte `index` positions after the read position; the caller checks `length` first. */
  peekByte(index: number): number {
    const chunks = this.chunks;
    let offset = this.offset + index;
    // Frame headers nearly always sit in the first chunk: no loop for them.
    const first = chunks[0];
    if (first !== undefined && offset < first.length) return first[offset]!;
    for (let i = 0; i < chunks.length; i++) {
      const chunk = chunks[i]!;
      if (offset < chunk.length) return chunk[offset]!;
      offset -= chunk.length;
    }
    throw new RangeError("peek past the end of the buffer");
  }

  /** The unread bytes of the first buffered chunk, as a view, without consuming them. */
  firstChunk(): Uint8Array {
    const first = this.chunks[0];
    return first === undefined ? EMPTY : first.subarray(this.offset);
  }

  /**
   * Reads exactly `n` bytes, or returns `null` and reads nothing if fewer are
   * buffered.
   *
   * With a masking `key`, the bytes from `maskFrom` on come out unmasked
   * (RFC 6455 §5.3, counting key positions from the first byte read): in
   * place when they sit in one chunk, else while they are copied, so that
   * each byte is touched once. The bytes before `maskFrom` come out as they are.
   */
  readExact(n: number, key: Uint8Array | null = null, maskFrom = 0): Uint8Array | null {
    if (n > this.total) return null;
    // A payload read here is its receiver's to keep, and to transfer to a
    // worker, which detaches its buffer: an empty one is not shared either.
    if (n === 0) return new Uint8Array(0);
    const first = this.chunks[0]!;
    const available = first.length - this.offset;
    if (n <= available) {
      // Common case: the bytes sit in one chunk, return a view without copying.
      const view = first.subarray(this.offset, this.offset + n);
      this.advance(n);
      if (key !== null && maskFrom < n) {
        applyMask(maskFrom === 0 ? view : view.subarray(maskFrom), maskKeyAt(key, maskFrom));
      }
      return view;
    }
    const out = allocateFilled(n);
    if (key === null || maskFrom >= n) {
      this.readInto(out, 0, n, null);
    } else {
      this.readInto(out, 0, maskFrom, null);
      this.readInto(out, maskFrom, n, key);
    }
    return out;
  }

  /**
   * Moves buffered bytes into `target` from index `start`, up to `end` or as
   * many as are buffered, and returns the index after the last one written.
   * Each chunk is copied once and released as soon as it is used up.
   *
   * With a masking `key`, the byte that goes to `target[i]` comes out
   * unmasked with `key[i % 4]` (RFC 6455 §5.3, for a `target` that holds a
   * whole payload from index 0), so a payload can be assembled as it arrives,
   * in any number of pieces.
   */
  readInto(target: Uint8Array, start: number, end: number, key: Uint8Array | null = null): number {
    const stop = Math.min(end, start + this.total);
    let filled = start;
    while (filled < stop) {
      const chunk = this.chunks[0]!;
      const offset = this.offset;
      const take = Math.min(stop - filled, chunk.length - offset);
      const piece =
        offset === 0 && take === chunk.length ? chunk : chunk.subarray(offset, offset + take);
      if (key !== null) {
        // In place when the piece already is where it goes (see below).
        applyMask(piece, maskKeyAt(key, filled), target.subarray(filled));
      } else if (
        piece.buffer !== target.buffer ||
        piece.byteOffset !== target.byteOffset + filled
      ) {
        target.set(piece, filled);
      }
      // Else the I/O layer read these bytes straight into the target (see
      // FrameParser.unfilledAssembly()): they are where they go already.
      filled += take;
      this.advance(take);
    }
    return filled;
  }

  /** Drops `n` buffered bytes; the caller checks `length` first. */
  discard(n: number): void {
    while (n > 0) {
      const chunk = this.chunks[0]!;
      const take = Math.min(n, chunk.length - this.offset);
      this.advance(take);
      n -= take;
    }
  }

  /**
   * Reads a line ending with CRLF (the CRLF is included in the result), or
   * returns `null` if no full line is buffered yet.
   *
   * @throws PayloadTooBig when more than `maxLength` bytes precede the end of the line,
   *   so a peer cannot make us buffer an endless line.
   */
  readLine(maxLength: number): Uint8Array | null {
    let index = 0;
    for (let c = 0; c < this.chunks.length; c++) {
      const chunk = this.chunks[c]!;
      const start = c === 0 ? this.offset : 0;
      const found = chunk.indexOf(0x0a, start);
      if (found !== -1) {
        const lineLength = index + (found - start) + 1;
        if (lineLength > maxLength) throw new PayloadTooBig(`line longer than ${maxLength} bytes`);
        return this.readExact(lineLength);
      }
      index += chunk.length - start;
      if (index > maxLength) throw new PayloadTooBig(`line longer than ${maxLength} bytes`);
    }
    return null;
  }

  /** Reads everything buffered, once the stream has ended; `null` before that. */
  readToEof(maxLength: number): Uint8Array | null {
    if (this.total > maxLength) throw new PayloadTooBig(`body longer than ${maxLength} bytes`);
    if (!this.eof) return null;
    return this.readExact(this.total);
  }

  /**
   * Views of the buffered bytes from `start` to `end` (counted from the next
   * byte to read), without copying or consuming them: one view per chunk the
   * range touches.
   */
  views(start: number, end: number): Uint8Array[] {
    const views: Uint8Array[] = [];
    let chunkStart = -this.offset;
    for (const chunk of this.chunks) {
      const chunkEnd = chunkStart + chunk.length;
      if (chunkEnd > start) {
        views.push(
          chunk.subarray(
            Math.max(start, chunkStart) - chunkStart,
            Math.min(end, chunkEnd) - chunkStart,
          ),
        );
      }
      if (chunkEnd >= end) break;
      chunkStart = chunkEnd;
    }
    return views;
  }

  /**
   * Replaces the buffered bytes with a copy of them in memory of the
   * reader's own, for bytes fed from memory that its owner reuses.
   */
  copyBuffered(): void {
    const total = this.total;
    if (total === 0) return;
    const copy = allocateFilled(total);
    this.readInto(copy, 0, total);
    this.chunks = [copy];
    this.offset = 0;
    this.total = total;
  }

  /** Removes and returns every buffered byte. */
  readAll(): Uint8Array {
    return this.readExact(this.total)!;
  }

  private advance(n: number): void {
    this.offset += n;
    this.total -= n;
    const first = this.chunks[0]!;
    if (this.offset === first.length) {
      this.offset = 0;
      // Emptied, the queue goes back to the shared empty one.
      if (this.chunks.length === 1) this.chunks = NO_CHUNKS;
      else this.chunks.shift();
    }
  }
}
