/**
 * {@link LineBuffer}: the CRLF-terminated lines of an HTTP head, read however
 * the bytes arrive.
 *
 * @module
 */

import { ByteBuffer } from "./byte-buffer.js";
import { InvalidMessage, PayloadTooBig } from "./errors.js";
import type { StreamReader } from "./streams.js";

const CR = 0x0d;

/**
 * Reads CRLF-terminated lines. The bytes of an incomplete line are moved out of
 * the stream reader, so each byte is scanned once however it is split, and
 * copied into one buffer, so they cost their number, not the number of reads.
 */
export class LineBuffer {
  readonly #partial = new ByteBuffer();
  /**
   * Bytes of the lines returned since the owner last set it to 0, CRLFs
   * included: how a head's total size is bounded (`maxHeaderSize`).
   */
  linesLength = 0;

  /** Whether no bytes of an incomplete line are held. */
  get isEmpty(): boolean {
    return this.#partial.size === 0;
  }

  /**
   * The next line without its CRLF, or `null` if it isn't complete yet.
   *
   * @throws InvalidMessage `tooLong` when the line, CRLF included, exceeds
   *   `maxLength`, or when it ends with a bare LF.
   */
  read(reader: StreamReader, maxLength: number, tooLong: () => InvalidMessage): Uint8Array | null {
    const partial = this.#partial;
    let line: Uint8Array | null;
    try {
      line = reader.readLine(maxLength - partial.size);
    } catch (error) {
      if (error instanceof PayloadTooBig) throw tooLong();
      throw error;
    }
    if (line === null) {
      // readLine() would have thrown if these bytes made the line too long.
      if (reader.length > 0) partial.readFrom(reader, reader.length, maxLength);
      return null;
    }
    if (partial.size > 0) {
      partial.append(line, maxLength);
      line = partial.takeAll();
    }
    // RFC 9112 §2.2: "the line terminator for the start-line and fields is the
    // sequence CRLF". A bare LF is rejected rather than guessed at.
    if (line.length < 2 || line[line.length - 2] !== CR) {
      throw new InvalidMessage("line ends with a bare LF");
    }
    this.linesLength += line.length;
    return line.subarray(0, line.length - 2);
  }
}
