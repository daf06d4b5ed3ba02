/**
 * `websockets-ts/protocol`: the sans-I/O core. Bytes in, events out; calls in,
 * bytes out. No sockets, no timers, usable with any I/O.
 *
 * @module
 */

export { buildBasicAuthorization, parseBasicAuthorization } from "./basic-auth.js";
export { ClientProtocol, type ClientProtocolOptions } from "./client.js";
export { Close } from "./close.js";
export { CloseCode, closeCodeExplanation, isValidCloseCode } from "./close-codes.js";
export * from "./errors.js";
export type {
  ClientExtensionFactory,
  Extension,
  MessageOptions,
  ServerExtensionFactory,
} from "./extensions/base.js";
export { PERMESSAGE_DEFLATE, PerMessageDeflate } from "./extensions/permessage-deflate.js";
export {
  ClientPerMessageDeflateFactory,
  type ClientPerMessageDeflateOptions,
  DeflateParameter,
  ServerPerMessageDeflateFactory,
  type ServerPerMessageDeflateOptions,
} from "./extensions/permessage-deflate-negotiation.js";
export type {
  DeflateSettings,
  PerMessageDeflateParameters,
} from "./extensions/permessage-deflate-settings.js";
export { isFieldValueChar, isToken } from "./field-syntax.js";
export { Frame } from "./frame.js";
export { FrameParser, type FrameParserOptions } from "./frame-parser.js";
export { serializeFrame } from "./frame-writer.js";
export { acceptKey, generateKey } from "./handshake.js";
export {
  buildExtensionList,
  buildSubprotocolList,
  type ExtensionHeader,
  type ExtensionParameter,
  parseConnection,
  parseExtensionList,
  parseSubprotocolList,
  parseUpgrade,
} from "./header-values.js";
export { type HeaderField, Headers, type HeadersInit } from "./headers.js";
export { DEFAULT_HTTP_LIMITS, type HttpLimits } from "./http-limits.js";
export { applyMask } from "./mask.js";
export { isControlOpcode, Opcode } from "./opcodes.js";
export {
  DEFAULT_MAX_SIZE,
  type Event,
  Protocol,
  type ProtocolOptions,
  type Side,
} from "./protocol.js";
export { Request } from "./request.js";
export { RequestParser } from "./request-parser.js";
export { Response } from "./response.js";
export { ResponseParser } from "./response-parser.js";
export {
  type OriginRule,
  ServerProtocol,
  type ServerProtocolOptions,
  type SubprotocolSelector,
} from "./server.js";
export { State, stateName } from "./state.js";
export { reasonPhrase } from "./status.js";
export { StreamReader } from "./streams.js";
export * from "./uri.js";
export { Utf8Validator } from "./utf8.js";
