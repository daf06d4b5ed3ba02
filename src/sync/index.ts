/**
 * `websockets-ts/sync`: a WebSocket client whose calls block, for scripts,
 * REPL sessions, test fixtures and synchronous hooks.
 *
 * ```ts
 * import { connect } from "websockets-ts/sync";
 *
 * using client = connect("ws://127.0.0.1:8001");
 * client.sendText("Hello!");
 * console.log(client.recvText({ timeout: 5_000 }));
 * ```
 *
 * The errors are the classes `websockets-ts` exports; they are re-exported
 * here for convenience, with the types and classes their fields and the
 * connection's have: `ErrorCode`, `Close` (a `ConnectionClosed`'s frames),
 * `Request`, `Response` and `Headers` (the handshake, an `InvalidStatus`'s
 * response).
 *
 * @module
 */

export { Close } from "../core/close.js";
export { CloseCode } from "../core/close-codes.js";
export {
  ConcurrencyError,
  ConnectionClosed,
  ConnectionClosedError,
  ConnectionClosedOK,
  DuplicateParameter,
  type ErrorCode,
  InvalidHandshake,
  InvalidHeader,
  InvalidHeaderFormat,
  InvalidHeaderValue,
  InvalidMessage,
  InvalidOrigin,
  InvalidParameterName,
  InvalidParameterValue,
  InvalidState,
  InvalidStatus,
  type InvalidStatusOptions,
  InvalidUpgrade,
  InvalidUri,
  NegotiationError,
  PayloadTooBig,
  ProtocolError,
  ProxyError,
  type ProxyErrorOptions,
  SecurityError,
  TimeoutError,
  WebSocketError,
} from "../core/errors.js";
export { Headers, type HeadersInit } from "../core/headers.js";
export { Request } from "../core/request.js";
export { Response } from "../core/response.js";
export { State } from "../core/state.js";
export type { Logger } from "../node/logger.js";
export type { Data, ReceivedBuffer, ReceivedBytes } from "../node/messages.js";
export {
  type BlockingOptions,
  ClientConnection,
  connect,
  type PingOptions,
  type RecvOptions,
  type Sendable,
  type SendOptions,
} from "./client.js";
export type { ConnectOptions } from "./options.js";
