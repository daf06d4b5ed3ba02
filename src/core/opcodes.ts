/**
 * RFC 6455 §5.2 opcodes: what a frame carries, and which frames are control
 * frames (§5.5).
 *
 * @module
 */

/** RFC 6455 §5.2 opcodes. */
export const Opcode = {
  /** Continuation frame: the next fragment of a message (RFC 6455 §5.4). */
  CONT: 0x0,
  /** Text frame: the first frame of a message of UTF-8 text (RFC 6455 §5.6). */
  TEXT: 0x1,
  /** Binary frame: the first frame of a binary message (RFC 6455 §5.6). */
  BINARY: 0x2,
  /** Close frame: starts or answers the closing handshake (RFC 6455 §5.5.1). */
  CLOSE: 0x8,
  /** Ping: the peer answers it with a pong carrying the same payload (RFC 6455 §5.5.2). */
  PING: 0x9,
  /** Pong: the answer to a ping, or an unsolicited heartbeat (RFC 6455 §5.5.3). */
  PONG: 0xa,
} as const;
/** One of the opcodes defined by RFC 6455. */
export type Opcode = (typeof Opcode)[keyof typeof Opcode];

/** The names of the opcodes RFC 6455 defines, by value: any other opcode is unknown. */
export const OPCODE_NAMES: Record<number, string> = {
  0: "CONT",
  1: "TEXT",
  2: "BINARY",
  8: "CLOSE",
  9: "PING",
  10: "PONG",
};

/** Whether `opcode` is a control frame's: RFC 6455 §5.5 "the most significant bit of the opcode is 1". */
export function isControlOpcode(opcode: number): boolean {
  return (opcode & 0x8) !== 0;
}
