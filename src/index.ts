/**
 * `websockets-ts`: WebSocket client and server for Node.js.
 *
 * @module
 */

export { Close } from "./core/close.js";
export { CloseCode, closeCodeExplanation } from "./core/close-codes.js";
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
} from "./core/errors.js";
export type {
  ClientExtensionFactory,
  Extension,
  ExtensionHeader,
  ExtensionParameter,
  MessageOptions,
  ServerExtensionFactory,
} from "./core/extensions/base.js";
export { PerMessageDeflate } from "./core/extensions/permessage-deflate.js";
export {
  ClientPerMessageDeflateFactory,
  type ClientPerMessageDeflateOptions,
  ServerPerMessageDeflateFactory,
  type ServerPerMessageDeflateOptions,
} from "./core/extensions/permessage-deflate-negotiation.js";
export { Frame } from "./core/frame.js";
export { Headers, type HeadersInit } from "./core/headers.js";
export type { HttpLimits } from "./core/http-limits.js";
export { Opcode } from "./core/opcodes.js";
export { Request } from "./core/request.js";
export { Response } from "./core/response.js";
export type { OriginRule, SubprotocolSelector } from "./core/server.js";
export { State } from "./core/state.js";
export { type BasicAuthOptions, basicAuth } from "./node/auth.js";
export { ClientConnection, type ConnectOptions, connect, type TcpOptions } from "./node/client.js";
export {
  type CompressionOptions,
  DEFLATE_DEFAULTS,
  type DeflateOptions,
  releaseWhenIdle,
} from "./node/compression.js";
export {
  Connection,
  type ConnectionOptions,
  type Data,
  DEFAULTS,
  type ReceivedBytes,
  type RecvOptions,
  type Sendable,
  type SendOptions,
} from "./node/connection.js";
export type { Logger } from "./node/logger.js";
export type { ProxySetting } from "./node/proxy.js";
export {
  type BackoffOptions,
  backoffDelay,
  isTransientError,
  RECONNECT_DEFAULTS,
  type ReconnectOptions,
  reconnect,
} from "./node/reconnect.js";
export { type RouteMatch, type Routes, route } from "./node/routing.js";
export {
  broadcast,
  type Handler,
  type HookAnswer,
  type HttpResponseInit,
  type ProcessRequest,
  type ProcessResponse,
  type ServeOptions,
  Server,
  type ServerCloseOptions,
  ServerConnection,
  serve,
} from "./node/server.js";
export { createWebSocketStream } from "./node/stream.js";
export { VERSION } from "./node/version.js";
