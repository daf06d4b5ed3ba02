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

import type { Close } from "./close.js";
import { escapeControlCharacters } from "./control-characters.js";
import { redactTypedUri } from "./redact-uri.js";
// Types only: response.ts imports this module's InvalidMessage at run time.
import type { Response } from "./response.js";

/**
 * The `code` of every error class here: a union of literals, so that a
 * misspelled code in a comparison (`error.code === "ERR_CONECTION_CLOSED"`)
 * is a compile error.
 */
export type ErrorCode =
  | "ERR_WEBSOCKET"
  | "ERR_CONNECTION_CLOSED"
  | "ERR_CONNECTION_CLOSED_OK"
  | "ERR_CONNECTION_CLOSED_ERROR"
  | "ERR_INVALID_HANDSHAKE"
  | "ERR_SECURITY"
  | "ERR_INVALID_MESSAGE"
  | "ERR_INVALID_STATUS"
  | "ERR_INVALID_HEADER"
  | "ERR_INVALID_HEADER_FORMAT"
  | "ERR_INVALID_HEADER_VALUE"
  | "ERR_INVALID_ORIGIN"
  | "ERR_INVALID_UPGRADE"
  | "ERR_NEGOTIATION"
  | "ERR_DUPLICATE_PARAMETER"
  | "ERR_INVALID_PARAMETER_NAME"
  | "ERR_INVALID_PARAMETER_VALUE"
  | "ERR_INVALID_URI"
  | "ERR_PROTOCOL"
  | "ERR_PAYLOAD_TOO_BIG"
  | "ERR_INVALID_STATE"
  | "ERR_CONCURRENCY"
  | "ERR_TIMEOUT"
  | "ERR_PROXY";

/** Root of every error raised by websockets-ts. */
export class WebSocketError extends Error {
  /** A stable identifier, e.g. `"ERR_CONNECTION_CLOSED_OK"`. */
  readonly code: ErrorCode = "ERR_WEBSOCKET";

  /**
   * Sets {@link name} to the class actually constructed, so that a subclass's
   * errors print as such without each subclass setting it.
   *
   * @param message what went wrong, lowercase, e.g. `"invalid close code: 999"`.
   * @param options `cause`: the error behind this one, if any.
   */
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
  /** This class's code: `"ERR_CONNECTION_CLOSED"`. */
  override readonly code: ErrorCode = "ERR_CONNECTION_CLOSED";

  /**
   * The message describes the close frames, e.g. `"received 1000 (OK); then sent 1000 (OK)"`.
   *
   * @param options `cause`: what ended the connection, e.g. the
   *   {@link ProtocolError} that made this side close or the socket error, if any.
   */
  constructor(
    /** The close frame received, or `null` when none was. */
    readonly rcvd: Close | null,
    /** The close frame sent, or `null` when none was. */
    readonly sent: Close | null,
    /**
     * With both close frames, whether the received one came first (this side
     * answered the peer's close); `null` when there was at most one.
     */
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
  /** This class's code: `"ERR_CONNECTION_CLOSED_OK"`. */
  override readonly code: ErrorCode = "ERR_CONNECTION_CLOSED_OK";
}

/** The connection closed abnormally: an error code, or no close frame at all. */
export class ConnectionClosedError extends ConnectionClosed {
  /** This class's code: `"ERR_CONNECTION_CLOSED_ERROR"`. */
  override readonly code: ErrorCode = "ERR_CONNECTION_CLOSED_ERROR";
}

/** The opening handshake failed. */
export class InvalidHandshake extends WebSocketError {
  /** This class's code: `"ERR_INVALID_HANDSHAKE"`. */
  override readonly code: ErrorCode = "ERR_INVALID_HANDSHAKE";
}

/** A security rule or limit stopped the handshake (too many redirects, a downgrade, …). */
export class SecurityError extends InvalidHandshake {
  /** This class's code: `"ERR_SECURITY"`. */
  override readonly code: ErrorCode = "ERR_SECURITY";
}

/**
 * The handshake's HTTP message is malformed or too large. `status` is the HTTP
 * status a server answers with (400, 413, 414, 431).
 */
export class InvalidMessage extends InvalidHandshake {
  /** This class's code: `"ERR_INVALID_MESSAGE"`. */
  override readonly code: ErrorCode = "ERR_INVALID_MESSAGE";

  /**
   * An error in the request or response, or one over a limit with the
   * status that says which.
   *
   * @param message what is wrong, e.g. `"invalid status code: 999"`.
   * @param options `cause`: the error behind this one, if any.
   */
  constructor(
    message: string,
    /**
     * The HTTP status a server answers with: 400 (the default) for a malformed
     * message; 413, 414 or 431 for a body, request line or header section over
     * its limit; 505 for an unsupported HTTP version.
     */
    readonly status = 400,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Options of an {@link InvalidStatus}. */
export interface InvalidStatusOptions extends ErrorOptions {
  /**
   * What the response says of the cause, added to the message after the
   * status, e.g. `"the server expects TLS; use wss:// (or TLS from a proxy in front of it)"`. Default: none.
   */
  hint?: string | undefined;
}

/** The server answered the handshake with a status other than 101. */
export class InvalidStatus extends InvalidHandshake {
  /** This class's code: `"ERR_INVALID_STATUS"`. */
  override readonly code: ErrorCode = "ERR_INVALID_STATUS";

  /** What the response says of the cause, as given in the options; `null` without one. */
  readonly hint: string | null;

  /**
   * The message is `"server rejected WebSocket connection: HTTP <status>"`,
   * then `": <hint>"` with a `hint`.
   *
   * @param options `hint`, kept in {@link hint}, and `cause`.
   */
  constructor(
    /**
     * The handshake's response, with its headers and body: `Retry-After`
     * on a 429 or 503, `WWW-Authenticate` on a 401, the server's explanation.
     */
    readonly response: Response,
    options?: InvalidStatusOptions,
  ) {
    const hint = options?.hint || null;
    super(
      `server rejected WebSocket connection: HTTP ${response.status}${hint ? `: ${hint}` : ""}`,
      options,
    );
    this.hint = hint;
  }
}

/** A handshake header is missing, repeated, or wrong. */
export class InvalidHeader extends InvalidHandshake {
  /** This class's code: `"ERR_INVALID_HEADER"`. */
  override readonly code: ErrorCode = "ERR_INVALID_HEADER";

  /**
   * The message names the header and what is wrong with it, e.g.
   * `"missing Origin header"` or `"invalid Upgrade header: h2c"`.
   *
   * @param options `cause`: the error behind this one, if any.
   */
  constructor(
    /** The header's name, e.g. `"Sec-WebSocket-Accept"`. */
    readonly header: string,
    /**
     * The offending value, or a description such as `"multiple values"`;
     * `null` when the header is missing.
     */
    readonly value: string | null = null,
    options?: ErrorOptions,
  ) {
    super(InvalidHeader.describe(header, value), options);
  }

  private static describe(header: string, value: string | null): string {
    if (value === null) return `missing ${header} header`;
    if (value === "") return `empty ${header} header`;
    // The value came from the peer, or from the caller's options: the
    // message goes to logs, where a line feed would forge a line.
    return `invalid ${header} header: ${escapeControlCharacters(value)}`;
  }
}

/** A header value does not follow its grammar; `position` is where parsing stopped. */
export class InvalidHeaderFormat extends InvalidHeader {
  /** This class's code: `"ERR_INVALID_HEADER_FORMAT"`. */
  override readonly code: ErrorCode = "ERR_INVALID_HEADER_FORMAT";

  /**
   * {@link value} becomes `"<error> at <position> in <headerValue>"`.
   *
   * @param header the header's name, e.g. `"Sec-WebSocket-Extensions"`.
   */
  constructor(
    header: string,
    /** What the parser expected or found, e.g. `"expected token"`. */
    readonly error: string,
    /** The header value (or the part of it) being parsed. */
    readonly headerValue: string,
    /** The index in {@link headerValue} where parsing stopped. */
    readonly position: number,
  ) {
    super(header, `${error} at ${position} in ${headerValue}`);
  }
}

/** A header value is well-formed but not acceptable. */
export class InvalidHeaderValue extends InvalidHeader {
  /** This class's code: `"ERR_INVALID_HEADER_VALUE"`. */
  override readonly code: ErrorCode = "ERR_INVALID_HEADER_VALUE";
}

/** The Origin header is missing or not allowed. */
export class InvalidOrigin extends InvalidHeader {
  /** This class's code: `"ERR_INVALID_ORIGIN"`. */
  override readonly code: ErrorCode = "ERR_INVALID_ORIGIN";

  /**
   * The message is `"missing Origin header"`, `"empty Origin header"` or
   * `"invalid Origin header: <origin>"`, as for any {@link InvalidHeader}.
   *
   * @param origin the `Origin` header's value, or `null` when it is missing.
   */
  constructor(origin: string | null) {
    super("Origin", origin);
  }
}

/** The Upgrade or Connection header does not ask for a WebSocket upgrade. */
export class InvalidUpgrade extends InvalidHeader {
  /** This class's code: `"ERR_INVALID_UPGRADE"`. */
  override readonly code: ErrorCode = "ERR_INVALID_UPGRADE";
}

/** Extension or subprotocol negotiation failed. */
export class NegotiationError extends InvalidHandshake {
  /** This class's code: `"ERR_NEGOTIATION"`. */
  override readonly code: ErrorCode = "ERR_NEGOTIATION";
}

/** An extension parameter appears twice. */
export class DuplicateParameter extends NegotiationError {
  /** This class's code: `"ERR_DUPLICATE_PARAMETER"`. */
  override readonly code: ErrorCode = "ERR_DUPLICATE_PARAMETER";

  /** The message is `"duplicate parameter: <parameter>"`. */
  constructor(
    /** The name of the repeated parameter. */
    readonly parameter: string,
  ) {
    super(`duplicate parameter: ${parameter}`);
  }
}

/** An extension parameter is not known. */
export class InvalidParameterName extends NegotiationError {
  /** This class's code: `"ERR_INVALID_PARAMETER_NAME"`. */
  override readonly code: ErrorCode = "ERR_INVALID_PARAMETER_NAME";

  /** The message is `"invalid parameter name: <parameter>"`. */
  constructor(
    /** The unknown parameter's name. */
    readonly parameter: string,
  ) {
    super(`invalid parameter name: ${parameter}`);
  }
}

/** An extension parameter has a value it cannot take. */
export class InvalidParameterValue extends NegotiationError {
  /** This class's code: `"ERR_INVALID_PARAMETER_VALUE"`. */
  override readonly code: ErrorCode = "ERR_INVALID_PARAMETER_VALUE";

  /** The message is `"invalid value for parameter <parameter>: <value>"`. */
  constructor(
    /** The parameter's name, e.g. `"server_max_window_bits"`. */
    readonly parameter: string,
    /** The value it was given; `null` when it had none but needs one. */
    readonly value: string | null,
  ) {
    super(`invalid value for parameter ${parameter}: ${value}`);
  }
}

/** The URI is not a valid WebSocket URI. */
export class InvalidUri extends WebSocketError {
  /** This class's code: `"ERR_INVALID_URI"`. */
  override readonly code: ErrorCode = "ERR_INVALID_URI";

  /**
   * The URI as given, with the password or token of its user info shown as
   * `***` (see `redactUri()`), as in the message: loggers that serialize an
   * error's own properties (pino's, winston's) would otherwise write the
   * credentials of a URI that merely had a typo in its port.
   */
  readonly uri: string;

  /**
   * The message is `"<uri> isn't a valid URI: <why>"`, with {@link uri}
   * redacted as described there.
   *
   * @param uri the URI as given; kept redacted.
   */
  constructor(
    uri: string,
    /** What is wrong with it, e.g. `"scheme isn't ws or wss"`. */
    readonly why: string,
  ) {
    const redacted = redactTypedUri(uri);
    super(`${redacted} isn't a valid URI: ${why}`);
    this.uri = redacted;
  }
}

/**
 * The peer violated the protocol. `closeCode` is the code this side sends in
 * its close frame because of it (RFC 6455 §7.4.1: 1002, 1007, 1009, …).
 */
export class ProtocolError extends WebSocketError {
  /** This class's code: `"ERR_PROTOCOL"`. */
  override readonly code: ErrorCode = "ERR_PROTOCOL";

  /**
   * An error in what the peer sent, with the close code that answers it.
   *
   * @param message what the peer did wrong, e.g. `"invalid close code: 999"`.
   * @param options `cause`: the error behind this one, if any.
   */
  constructor(
    message: string,
    /** The close code to send: 1002 (protocol error) by default. */
    readonly closeCode = 1002,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A message, frame, line or body exceeds its size limit. */
export class PayloadTooBig extends ProtocolError {
  /** This class's code: `"ERR_PAYLOAD_TOO_BIG"`. */
  override readonly code: ErrorCode = "ERR_PAYLOAD_TOO_BIG";

  /**
   * Its {@link closeCode} is 1009 (message too big).
   *
   * @param message what is too big and its limit, e.g. `"message exceeds limit of 1048576 bytes"`.
   * @param options `cause`: the error behind this one, if any.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, 1009, options);
  }
}

/** The operation is not allowed in the connection's current state. */
export class InvalidState extends WebSocketError {
  /** This class's code: `"ERR_INVALID_STATE"`. */
  override readonly code: ErrorCode = "ERR_INVALID_STATE";
}

/** Two callers tried to do at once what only one may do (two concurrent `recv()`, …). */
export class ConcurrencyError extends WebSocketError {
  /** This class's code: `"ERR_CONCURRENCY"`. */
  override readonly code: ErrorCode = "ERR_CONCURRENCY";
}

/** An operation did not complete before its timeout. */
export class TimeoutError extends WebSocketError {
  /** This class's code: `"ERR_TIMEOUT"`. */
  override readonly code: ErrorCode = "ERR_TIMEOUT";
}

/** Options of a {@link ProxyError}. */
export interface ProxyErrorOptions extends ErrorOptions {
  /** See {@link ProxyError.transient}. Default: `false`. */
  transient?: boolean | undefined;
}

/** A proxy refused to open the tunnel or answered something unexpected. */
export class ProxyError extends InvalidHandshake {
  /** This class's code: `"ERR_PROXY"`. */
  override readonly code: ErrorCode = "ERR_PROXY";
  /**
   * Whether the proxy reported a condition that may go away by itself: it
   * couldn't reach the server (a SOCKS5 reply such as "connection refused"
   * or "host unreachable"), or it closed the connection before answering.
   * An HTTP proxy's 5xx tells as much through {@link status}.
   */
  readonly transient: boolean;

  /**
   * A proxy's refusal or unexpected answer, with the HTTP status of an HTTP
   * proxy's refusal.
   *
   * @param message which proxy and what it did, e.g.
   *   `"proxy http://127.0.0.1:3128 refused the tunnel: HTTP 407"`.
   * @param options `transient`, see {@link transient}, and `cause`.
   */
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
