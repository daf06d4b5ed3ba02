/**
 * RFC 6455 §5.5.1: the payload of a close frame, a close code and a reason.
 *
 * @module
 */

import { CloseCode, closeCodeExplanation, isValidCloseCode } from "./close-codes.js";
import { escapeControlCharacters } from "./control-characters.js";
import { InvalidState, ProtocolError } from "./errors.js";
import { isValidUtf8 } from "./utf8.js";

// ignoreBOM: a reason that starts with U+FEFF keeps it. The WHATWG decoder
// strips a leading byte order mark by default, and the reason reported would
// not be the one the peer sent.
const textDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const textEncoder = new TextEncoder();

/** The payload of a close frame: RFC 6455 §5.5.1. */
export class Close {
  /** Nothing is validated here: {@link serialize} checks the code and the reason's length. */
  constructor(
    /** The close code, e.g. 1000 (RFC 6455 §7.4); 1005 for a close frame without one. */
    readonly code: number,
    /** The close reason, UTF-8 text; `""` for none. */
    readonly reason: string,
  ) {}

  /**
   * Parses a close frame's payload. An empty payload stands for 1005 (no status received).
   *
   * @throws ProtocolError with close code 1002 for a 1-byte payload or a code
   *   not allowed on the wire, or 1007 for a reason that is not UTF-8.
   */
  static parse(data: Uint8Array): Close {
    // RFC 6455 §5.5.1: "If there is a body, the first two bytes of the body
    // MUST be a 2-byte unsigned integer (in network byte order)".
    if (data.length === 0) return new Close(CloseCode.NO_STATUS_RCVD, "");
    if (data.length === 1) throw new ProtocolError("close frame too short");
    const code = (data[0]! << 8) | data[1]!;
    if (!isValidCloseCode(code)) throw new ProtocolError(`invalid close code: ${code}`);
    const reasonBytes = data.subarray(2);
    // RFC 6455 §5.5.1: the reason's "data is not guaranteed to be human
    // readable" but it is UTF-8; §8.1 applies to it.
    if (!isValidUtf8(reasonBytes)) throw new ProtocolError("invalid UTF-8 in close reason", 1007);
    return new Close(code, textDecoder.decode(reasonBytes));
  }

  /**
   * The close frame payload for this code and reason.
   *
   * @throws InvalidState for a code that may not be sent or a reason over 123 bytes.
   */
  serialize(): Uint8Array {
    if (!isValidCloseCode(this.code)) throw new InvalidState(`invalid close code: ${this.code}`);
    const reason = textEncoder.encode(this.reason);
    // RFC 6455 §5.5: "All control frames MUST have a payload length of 125 bytes or less".
    if (reason.length > 123) throw new InvalidState("close reason is longer than 123 bytes");
    const data = new Uint8Array(2 + reason.length);
    data[0] = this.code >>> 8;
    data[1] = this.code & 0xff;
    data.set(reason, 2);
    return data;
  }

  /**
   * `1000 (OK) bye`. Control characters in the reason, which the peer chose,
   * are escaped (`\x0a`): the text goes into error messages and logs.
   */
  toString(): string {
    const explanation = `${this.code} (${closeCodeExplanation(this.code)})`;
    return this.reason ? `${explanation} ${escapeControlCharacters(this.reason)}` : explanation;
  }
}

/** Cuts a reason to the 123 bytes a close frame can carry, on a code point boundary. */
export function truncateReason(reason: string): string {
  const bytes = textEncoder.encode(reason);
  if (bytes.length <= 123) return reason;
  let end = 123;
  // Back off continuation bytes (10xxxxxx) so the cut falls between code points.
  while ((bytes[end]! & 0xc0) === 0x80) end--;
  // The cut falls between code points, so the fatal decoder never throws here.
  return textDecoder.decode(bytes.subarray(0, end));
}
