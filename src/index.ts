/**
 * `websockets-ts`: WebSocket client and server for Node.js.
 *
 * @module
 */

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
  SecurityError,
  TimeoutError,
  WebSocketError,
} from "./core/errors.js";
export { Close, CloseCode, closeCodeExplanation, Opcode } from "./core/frames.js";
export { Headers, type HeadersInit } from "./core/headers.js";
export { Request, Response } from "./core/http11.js";
export { State } from "./core/protocol.js";
export type { OriginRule, SubprotocolSelector } from "./core/server.js";
export { ClientConnection, type ConnectOptions, connect } from "./node/client.js";
export {
  Connection,
  type ConnectionOptions,
  type Data,
  DEFAULTS,
  type RecvOptions,
  type Sendable,
} from "./node/connection.js";
export type { Logger } from "./node/logger.js";
export {
  broadcast,
  type Handler,
  type HttpResponseInit,
  type ServeOptions,
  Server,
  type ServerCloseOptions,
  ServerConnection,
  serve,
} from "./node/server.js";
export { VERSION } from "./node/version.js";
