/**
 * RFC 6455 §7.4 close codes: their names, a short explanation of each, and
 * which of them may appear in a close frame.
 *
 * @module
 */

/** RFC 6455 §7.4.1 and the IANA registry's close codes. */
export const CloseCode = {
  /** 1000: "the purpose for which the connection was established has been fulfilled". */
  NORMAL_CLOSURE: 1000,
  /** 1001: the endpoint is "going away", e.g. a server going down. */
  GOING_AWAY: 1001,
  /** 1002: the peer broke the protocol. */
  PROTOCOL_ERROR: 1002,
  /** 1003: the endpoint received data it cannot accept, e.g. binary where it only takes text. */
  UNSUPPORTED_DATA: 1003,
  /** 1005: the close frame had no code. Never sent: it stands for the missing code. */
  NO_STATUS_RCVD: 1005,
  /** 1006: the connection closed without a close frame. Never sent. */
  ABNORMAL_CLOSURE: 1006,
  /** 1007: a message's data did not match its type, e.g. text that isn't UTF-8. */
  INVALID_DATA: 1007,
  /** 1008: a message violated the endpoint's policy. */
  POLICY_VIOLATION: 1008,
  /** 1009: a message was too big to process. */
  MESSAGE_TOO_BIG: 1009,
  /** 1010: the client expected the server to negotiate an extension it did not. */
  MANDATORY_EXTENSION: 1010,
  /** 1011: the endpoint met an unexpected condition (an exception in a handler, …). */
  INTERNAL_ERROR: 1011,
  /** 1012 (IANA registry): the server is restarting; the client may reconnect. */
  SERVICE_RESTART: 1012,
  /** 1013 (IANA registry): a temporary condition on the server, e.g. overload; retry later. */
  TRY_AGAIN_LATER: 1013,
  /** 1014 (IANA registry): a gateway or proxy got an invalid response from upstream. */
  BAD_GATEWAY: 1014,
  /** 1015: the TLS handshake failed, e.g. on an unverifiable certificate. Never sent. */
  TLS_HANDSHAKE: 1015,
} as const;
/** One of the named close codes; any number in 1000–4999 may appear on a connection. */
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

const CLOSE_CODE_EXPLANATIONS: Record<number, string> = {
  1000: "OK",
  1001: "going away",
  1002: "protocol error",
  1003: "unsupported data",
  1005: "no status received [internal]",
  1006: "abnormal closure [internal]",
  1007: "invalid frame payload data",
  1008: "policy violation",
  1009: "message too big",
  1010: "mandatory extension",
  1011: "internal error",
  1012: "service restart",
  1013: "try again later",
  1014: "bad gateway",
  1015: "TLS handshake failure [internal]",
};

/** A short human explanation of a close code, e.g. `"message too big"` for 1009. */
export function closeCodeExplanation(code: number): string {
  const known = CLOSE_CODE_EXPLANATIONS[code];
  if (known !== undefined) return known;
  if (code >= 3000 && code < 4000) return "registered";
  if (code >= 4000 && code < 5000) return "private use";
  return "unknown";
}

/**
 * Whether a close code may appear in a close frame on the wire.
 * RFC 6455 §7.4.1: 1005, 1006 and 1015 "MUST NOT be set as a status code in a
 * Close control frame by an endpoint"; §7.4.2: 0–999 are not used, 1000–2999
 * are reserved for this protocol and its extensions (the IANA registry assigns
 * 1000–1003 and 1007–1014), 3000–4999 are for libraries, frameworks and
 * applications.
 */
export function isValidCloseCode(code: number): boolean {
  // RFC 6455 §5.5.1: the code is "a 2-byte unsigned integer": 1000.5 is a
  // caller's mistake, which serialize() would otherwise truncate to 1000.
  return (
    Number.isInteger(code) &&
    ((code >= 1000 && code <= 1003) ||
      (code >= 1007 && code <= 1014) ||
      (code >= 3000 && code < 5000))
  );
}
