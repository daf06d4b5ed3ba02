/**
 * RFC 6455 §4 and §7: the states of a connection, and their names for messages.
 *
 * @module
 */

/** RFC 6455 §4 and §7 connection states. */
export const State = {
  /** The opening handshake is under way (RFC 6455 §4). */
  CONNECTING: 0,
  /** The handshake succeeded: "The WebSocket Connection is Established" (RFC 6455 §4.1). */
  OPEN: 1,
  /**
   * A close frame was sent or received: "The WebSocket Closing Handshake is
   * Started" (RFC 6455 §7.1.3).
   */
  CLOSING: 2,
  /**
   * "The WebSocket Connection is Closed" (RFC 6455 §7.1.4): the protocol
   * parsed the end of the stream (a server that received the request does so
   * once it sent its response; bytes held back by
   * {@link Protocol.decodedMessageBudget} are parsed first), or the I/O layer
   * set this state when the connection was lost. The socket itself may close
   * a moment later.
   */
  CLOSED: 3,
} as const;
/** One of {@link State}'s values. */
export type State = (typeof State)[keyof typeof State];

const STATE_NAMES = ["connecting", "open", "closing", "closed"] as const;

/** The lowercase name of a state, for messages: `"open"`. */
export function stateName(state: State): string {
  return STATE_NAMES[state];
}
