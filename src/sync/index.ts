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
 * here for convenience.
 *
 * @module
 */

export { CloseCode } from "../core/close-codes.js";
export {
  ConcurrencyError,
  ConnectionClosed,
  ConnectionClosedError,
  ConnectionClosedOK,
  DuplicateParameter,
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
  InvalidUpgrade,
  InvalidUri,
  NegotiationError,
  PayloadTooBig,
  ProtocolError,
  ProxyError,
  SecurityError,
  TimeoutError,
  WebSocketError,
} from "../core/errors.js";
export { State } from "../core/state.js";
export type { Logger } from "../node/logger.js";
export type { Data } from "../node/messages.js";
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
