/**
 * The part of a {@link Protocol}'s state that most connections never use,
 * kept out of the protocol object until it is needed.
 *
 * @module
 */

import type { Close } from "./close.js";
import type { MessageOptions } from "./extensions/base.js";
import type { Utf8Validator } from "./utf8.js";

/**
 * The state of a protocol that an open connection exchanging whole messages
 * never needs: how it closed or failed, and the helpers of fragmented
 * messages. Created on first use, so that one field stands for all of them until then.
 */
export class RareState {
  closeRcvd: Close | null = null;
  closeSent: Close | null = null;
  closeRcvdThenSent: boolean | null = null;
  handshakeExc: Error | null = null;
  parserExc: Error | null = null;
  /** A protocol error found after frames still to be delivered; see {@link Protocol.failurePending}. */
  pendingError: Error | null = null;
  /** Validates text that arrives in pieces. */
  utf8: Utf8Validator | null = null;
  /** The options of the fragmented message being sent, for its continuation frames. */
  sendingOptions: MessageOptions | undefined = undefined;
  /** See {@link Protocol.trace}. */
  trace: ((line: string) => void) | null = null;
  /** The payload of the latest ping received while pongs wait; see {@link Protocol.pongsDeferred}. */
  deferredPong: Uint8Array | null = null;
  /** The payload of the close frame whose answer waits; see {@link Protocol.closeReplyPending}. */
  closeReply: Uint8Array | null = null;
}
