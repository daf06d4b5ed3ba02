/**
 * RFC 6455 §5.2: a frame as the protocol handles it, with its payload unmasked.
 *
 * @module
 */

import { OPCODE_NAMES, type Opcode } from "./opcodes.js";

/** A WebSocket frame, after unmasking. */
export class Frame {
  /** A frame; the flags default to a final frame with no RSV bit set. Nothing is validated. */
  constructor(
    /** The opcode: what the frame carries (RFC 6455 §5.2). */
    readonly opcode: Opcode,
    /** The payload, unmasked. */
    readonly data: Uint8Array,
    /** FIN: whether this frame ends its message (RFC 6455 §5.4); control frames must set it. */
    readonly fin = true,
    /**
     * RSV1, for extensions: permessage-deflate sets it on the first frame of a
     * compressed message (RFC 7692 §6).
     */
    readonly rsv1 = false,
    /** RSV2, for extensions; none defined here uses it. */
    readonly rsv2 = false,
    /** RSV3, for extensions; none defined here uses it. */
    readonly rsv3 = false,
  ) {}

  /** A short description for logs: opcode, flags, length and a preview of the payload. */
  toString(): string {
    const flags = [this.fin ? "FIN" : "", this.rsv1 ? "RSV1" : "", this.rsv2 ? "RSV2" : ""]
      .concat(this.rsv3 ? "RSV3" : "")
      .filter(Boolean)
      .join(" ");
    return `${OPCODE_NAMES[this.opcode]}${flags ? ` ${flags}` : ""} [${this.data.length} bytes]`;
  }
}
