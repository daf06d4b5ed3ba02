/**
 * `websockets-ts/web`: the browser's `WebSocket` class (WHATWG WebSockets
 * standard) over the Node client, for code written against that API.
 *
 * ```ts
 * import { WebSocket } from "websockets-ts/web";
 *
 * const ws = new WebSocket("ws://127.0.0.1:8001");
 * ws.addEventListener("open", () => ws.send("Hello!"));
 * ws.addEventListener("message", (event) => console.log(event.data));
 * ```
 *
 * @module
 */

export type { EventHandler } from "./event-handlers.js";
export {
  CloseEvent,
  type CloseEventConstructor,
  type CloseEventInit,
  ErrorEvent,
  type ErrorEventConstructor,
  type ErrorEventInit,
  type EventInit,
} from "./events.js";
export {
  type AddListenerOptions,
  type BinaryType,
  type Listener,
  type ReadyState,
  type RemoveListenerOptions,
  type TypedListener,
  WebSocket,
  type WebSocketEventMap,
  type WebSocketOptions,
} from "./websocket.js";
