/**
 * Watching a connection's reads straight into payloads (see
 * `src/node/direct-reads.ts`) from the outside: what its protocol hands out
 * to read into, and which reads landed there.
 *
 * @module
 */

import type { Connection } from "../../src/node/connection.js";

/** What {@link recordDirectReads} saw. */
export interface DirectReads {
  /** The memory the protocol handed out for reads straight into a payload. */
  readonly regions: Uint8Array[];
  /** How many bytes the socket fed the protocol where it had read them: in one of `regions`. */
  bytesInPlace: number;
  /** Called at each such feed. */
  onRead?: () => void;
}

/**
 * Watches what `ws`'s protocol hands out for reads, and what the socket
 * feeds it: a read fed from the memory last handed out was read straight
 * into the payload.
 */
export function recordDirectReads(ws: Connection): DirectReads {
  const reads: DirectReads = { regions: [], bytesInPlace: 0 };
  const protocol = ws.protocol;
  let last: Uint8Array | null = null;
  const receiveBuffer = protocol.receiveBuffer.bind(protocol);
  protocol.receiveBuffer = () => {
    last = receiveBuffer();
    if (last !== null) reads.regions.push(last);
    return last;
  };
  const receiveData = protocol.receiveData.bind(protocol);
  protocol.receiveData = (data) => {
    if (last !== null && data.buffer === last.buffer && data.byteOffset === last.byteOffset) {
      reads.bytesInPlace += data.length;
      reads.onRead?.();
    }
    receiveData(data);
  };
  return reads;
}
