/**
 * UTF-8 validation for text messages, as their frames arrive.
 *
 * RFC 6455 §8.1: "When an endpoint is to interpret a byte stream as UTF-8 but
 * finds that the byte stream is not, in fact, a valid UTF-8 stream, that
 * endpoint MUST _Fail the WebSocket Connection_." Validating each fragment when
 * it arrives, rather than the whole message at its end, fails fast and never
 * buffers a message that can no longer become valid.
 *
 * @module
 */

import { isUtf8 } from "node:buffer";

const EMPTY = new Uint8Array(0);

/** Number of bytes in the sequence started by `lead`, or 0 if `lead` cannot start one. */
function sequenceLength(lead: number): number {
  // RFC 3629 §4: C0, C1 and F5..FF never appear in UTF-8.
  if (lead < 0x80) return 1;
  if (lead < 0xc2) return 0;
  if (lead < 0xe0) return 2;
  if (lead < 0xf0) return 3;
  if (lead < 0xf5) return 4;
  return 0;
}

/**
 * Whether `bytes` (shorter than the full sequence) can still be completed into
 * a valid code point. RFC 3629 §4 narrows the second byte after E0, ED, F0, F4
 * to reject overlong forms, surrogates and code points above U+10FFFF.
 */
function isValidPrefix(bytes: Uint8Array): boolean {
  const lead = bytes[0]!;
  if (sequenceLength(lead) <= bytes.length) return false;
  for (let i = 1; i < bytes.length; i++) {
    const byte = bytes[i]!;
    let low = 0x80;
    let high = 0xbf;
    if (i === 1) {
      if (lead === 0xe0) low = 0xa0;
      else if (lead === 0xed) high = 0x9f;
      else if (lead === 0xf0) low = 0x90;
      else if (lead === 0xf4) high = 0x8f;
    }
    if (byte < low || byte > high) return false;
  }
  return true;
}

/**
 * Length of the incomplete sequence at the end of `data`: 0 when `data` ends on
 * a code point boundary (or ends with an invalid byte, which `isUtf8` reports).
 */
function incompleteTailLength(data: Uint8Array): number {
  const end = data.length;
  const stop = Math.max(0, end - 3);
  for (let i = end - 1; i >= stop; i--) {
    const byte = data[i]!;
    if (byte < 0x80) return 0;
    if (byte >= 0xc0) {
      const needed = sequenceLength(byte);
      return needed > end - i ? end - i : 0;
    }
  }
  return 0;
}

/** Checks a text message fragment by fragment, carrying a split code point across fragments. */
export class Utf8Validator {
  /** The bytes of a code point whose end has not arrived yet (at most 3). */
  private pending: Uint8Array = EMPTY;

  /**
   * Validates the next fragment. `final` marks the last fragment of the message.
   * Returns false as soon as the bytes seen so far cannot be valid UTF-8.
   */
  feed(data: Uint8Array, final: boolean): boolean {
    if (this.pending.length > 0) {
      const needed = sequenceLength(this.pending[0]!) - this.pending.length;
      const joined = new Uint8Array(this.pending.length + Math.min(needed, data.length));
      joined.set(this.pending);
      joined.set(data.subarray(0, joined.length - this.pending.length), this.pending.length);
      if (joined.length < this.pending.length + needed) {
        // Still incomplete: the fragment was shorter than the rest of the code point.
        this.pending = joined;
        return isValidPrefix(joined) && !final;
      }
      this.pending = EMPTY;
      if (!isUtf8(joined)) return false;
      data = data.subarray(needed);
    }
    const tail = final ? 0 : incompleteTailLength(data);
    if (tail === 0) return isUtf8(data);
    const head = data.subarray(0, data.length - tail);
    // A copy, which a Buffer's slice() is not: the caller may reuse its memory.
    this.pending = new Uint8Array(data.subarray(data.length - tail));
    return isUtf8(head) && isValidPrefix(this.pending);
  }

  /** Forgets any carried bytes, to start a new message. */
  reset(): void {
    this.pending = EMPTY;
  }
}

/** Whether `data` is valid UTF-8 as a whole. */
export function isValidUtf8(data: Uint8Array): boolean {
  return isUtf8(data);
}
