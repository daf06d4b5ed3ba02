/**
 * The error tree. Every error the library raises on purpose descends from
 * {@link WebSocketError} and carries a stable `code` string to branch on.
 *
 * ```
 * WebSocketError
 * ├── ConnectionClosed                 the connection is closed (has rcvd / sent close frames)
 * │   ├── ConnectionClosedOK           … with 1000, 1001 or 1005 (no status) received
 * │   └── ConnectionClosedError        … any other way
 * ├── InvalidHandshake                 the opening handshake failed
 * │   ├── SecurityError                  a limit or a security rule was hit (redirects, …)
 * │   ├── InvalidMessage                 the HTTP request or response is malformed
 * │   ├── InvalidStatus                  the server answered something other than 101
 * │   ├── InvalidHeader                  a header is missing or has a wrong value
 * │   │   ├── InvalidHeaderFormat          … that does not follow the header's grammar
 * │   │   ├── InvalidHeaderValue           … whose value is not acceptable
 * │   │   ├── InvalidOrigin                … Origin, not in the allow-list
 * │   │   └── InvalidUpgrade               … Upgrade or Connection
 * │   ├── NegotiationError               extension or subprotocol negotiation failed
 * │   │   ├── DuplicateParameter
 * │   │   ├── InvalidParameterName
 * │   │   └── InvalidParameterValue
 * │   └── ProxyError                     the proxy refused the tunnel or answered wrongly
 * ├── InvalidUri                       the URI is not a valid ws:// or wss:// URI
 * ├── ProtocolError                    the peer broke RFC 6455 (carries the close code to send)
 * │   └── PayloadTooBig                  a message, line or body exceeds its limit (1009)
 * ├── InvalidState                     the operation is not allowed in the current state
 * ├── ConcurrencyError                 two callers did what only one may do at a time
 * └── TimeoutError                     an operation did not finish in time
 * ```
 *
 * @module
 */

import type { Close } from "./frames.js";

/** Root of every error raised by websockets-ts. */
export class WebSocketError extends Error {
  /** A stable identifier, e.g. `"ERR_CONNECTION_CLOSED_OK"`. */
  readonly code: string = "ERR_WEBSOCKET";

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * The connection is closed. `rcvd` and `sent` are the close frames received and
 * sent, `null` when there was none; `rcvdThenSent` tells which came first when
 * both exist.
 */
export class ConnectionClosed extends WebSocketError {
  override readonly code: string = "ERR_CONNECTION_CLOSED";

  constructor(
    readonly rcvd: Close | null,
    readonly sent: Close | null,
    readonly rcvdThenSent: boolean | null = null,
    options?: ErrorOptions,
  ) {
    super(describeClose(rcvd, sent, rcvdThenSent), options);
  }

  /** The close code the connection ended with: the received one, else 1006. */
  get closeCode(): number {
    return this.rcvd?.code ?? 1006;
  }

  /** The close reason received, or `""`. */
  get closeReason(): string {
    return this.rcvd?.reason ?? "";
  }
}

function describeClose(
  rcvd: Close | null,
  sent: Close | null,
  rcvdThenSent: boolean | null,
): string {
  if (rcvd === null) {
    return sent === null
      ? "no close frame received or sent"
      : `sent ${sent}; no close frame received`;
  }
  if (sent === null) return `received ${rcvd}; no close frame sent`;
  return rcvdThenSent === false
    ? `sent ${sent}; then received ${rcvd}`
    : `received ${rcvd}; then sent ${sent}`;
}

/** The connection closed normally: 1000 or 1001 were exchanged. */
export class ConnectionClosedOK extends ConnectionClosed {
  override readonly code: string = "ERR_CONNECTION_CLOSED_OK";
}

/** The connection closed abnormally: an error code, or no close frame at all. */
export class ConnectionClosedError extends ConnectionClosed {
  override readonly code: string = "ERR_CONNECTION_CLOSED_ERROR";
}

/** The opening handshake failed. */
export class InvalidHandshake extends WebSocketError {
  override readonly code: string = "ERR_INVALID_HANDSHAKE";
}

/** A security rule or limit stopped the handshake (too many redirects, a downgrade, …). */
export class SecurityError extends InvalidHandshake {
  override readonly code: string = "ERR_SECURITY";
}

/**
 * The handshake's HTTP message is malformed or too large. `status` is the HTTP
 * status a server answers with (400, 413, 414, 431).
 */
export class InvalidMessage extends InvalidHandshake {
  override readonly code: string = "ERR_INVALID_MESSAGE";

  constructor(
    message: string,
    readonly status = 400,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Minimal view of a handshake response, to avoid a cycle with `http11.ts`. */
export interface StatusResponse {
  readonly status: number;
  readonly reason: string;
}

/** The server answered the handshake with a status other than 101. */
export class InvalidStatus extends InvalidHandshake {
  override readonly code: string = "ERR_INVALID_STATUS";

  constructor(
    readonly response: StatusResponse,
    options?: ErrorOptions,
  ) {
    super(`server rejected WebSocket connection: HTTP ${response.status}`, options);
  }
}

/** A handshake header is missing, repeated, or wrong. */
export class InvalidHeader extends InvalidHandshake {
  override readonly code: string = "ERR_INVALID_HEADER";

  constructor(
    readonly header: string,
    readonly value: string | null = null,
    options?: ErrorOptions,
  ) {
    super(InvalidHeader.describe(header, value), options);
  }

  private static describe(header: string, value: string | null): string {
    if (value === null) return `missing ${header} header`;
    if (value === "") return `empty ${header} header`;
    return `invalid ${header} header: ${value}`;
  }
}

/** A header value does not follow its grammar; `position` is where parsing stopped. */
export class InvalidHeaderFormat extends InvalidHeader {
  override readonly code: string = "ERR_INVALID_HEADER_FORMAT";

  constructor(
    header: string,
    readonly error: string,
    readonly headerValue: string,
    readonly position: number,
  ) {
    super(header, `${error} at ${position} in ${headerValue}`);
  }
}

/** A header value is well-formed but not acceptable. */
export class InvalidHeaderValue extends InvalidHeader {
  override readonly code: string = "ERR_INVALID_HEADER_VALUE";
}

/** The Origin header is missing or not allowed. */
export class InvalidOrigin extends InvalidHeader {
  override readonly code: string = "ERR_INVALID_ORIGIN";

  constructor(origin: string | null) {
    super("Origin", origin);
  }
}

/** The Upgrade or Connection header does not ask for a WebSocket upgrade. */
export class InvalidUpgrade extends InvalidHeader {
  override readonly code: string = "ERR_INVALID_UPGRADE";
}

/** Extension or subprotocol negotiation failed. */
export class NegotiationError extends InvalidHandshake {
  override readonly code: string = "ERR_NEGOTIATION";
}

/** An extension parameter appears twice. */
export class DuplicateParameter extends NegotiationError {
  override readonly code: string = "ERR_DUPLICATE_PARAMETER";

  constructor(readonly parameter: string) {
    super(`duplicate parameter: ${parameter}`);
  }
}

/** An extension parameter is not known. */
export class InvalidParameterName extends NegotiationError {
  override readonly code: string = "ERR_INVALID_PARAMETER_NAME";

  constructor(readonly parameter: string) {
    super(`invalid parameter name: ${parameter}`);
  }
}

/** An extension parameter has a value it cannot take. */
export class InvalidParameterValue extends NegotiationError {
  override readonly code: string = "ERR_INVALID_PARAMETER_VALUE";

  constructor(
    readonly parameter: string,
    readonly value: string | null,
  ) {
    super(`invalid value for parameter ${parameter}: ${value}`);
  }
}

/** The URI is not a valid WebSocket URI. */
export class InvalidUri extends WebSocketError {
  override readonly code: string = "ERR_INVALID_URI";

  constructor(
    readonly uri: string,
    readonly why: string,
  ) {
    super(`${uri} isn't a valid URI: ${why}`);
  }
}

/**
 * The peer violated the protocol. `closeCode` is the code this side sends in
 * its close frame because of it (RFC 6455 §7.4.1: 1002, 1007, 1009, …).
 */
export class ProtocolError extends WebSocketError {
  override readonly code: string = "ERR_PROTOCOL";

  constructor(
    message: string,
    readonly closeCode = 1002,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A message, frame, line or body exceeds its size limit. */
export class PayloadTooBig extends ProtocolError {
  override readonly code: string = "ERR_PAYLOAD_TOO_BIG";

  constructor(message: string, options?: ErrorOptions) {
    super(message, 1009, options);
  }
}

/** The operation is not allowed in the connection's current state. */
export class InvalidState extends WebSocketError {
  override readonly code: string = "ERR_INVALID_STATE";
}

/** Two callers tried to do at once what only one may do (two concurrent `recv()`, …). */
export class ConcurrencyError extends WebSocketError {
  override readonly code: string = "ERR_CONCURRENCY";
}

/** An operation did not complete before its timeout. */
export class TimeoutError extends WebSocketError {
  override readonly code: string = "ERR_TIMEOUT";
}

/** Options of a {@link ProxyError}. */
export interface ProxyErrorOptions extends ErrorOptions {
  /** See {@link ProxyError.transient}. Default: `false`. */
  transient?: boolean;
}

/** A proxy refused to open the tunnel or answered something unexpected. */
export class ProxyError extends InvalidHandshake {
  override readonly code: string = "ERR_PROXY";
  /**
   * Whether the proxy reported a condition that may go away by itself: it
   * couldn't reach the server (a SOCKS5 reply such as "connection refused"
   * or "host unreachable"), or it closed the connection before answering.
   * An HTTP proxy's 5xx tells as much through {@link status}.
   */
  readonly transient: boolean;

  constructor(
    message: string,
    /** The HTTP status of an HTTP proxy's refusal, e.g. 407; `null` otherwise. */
    readonly status: number | null = null,
    options?: ProxyErrorOptions,
  ) {
    super(message, options);
    this.transient = options?.transient ?? false;
  }
}
