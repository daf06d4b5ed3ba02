/**
 * Listening for a socket's `'end'` (the peer's FIN) without the array that a
 * second listener costs on every connection.
 *
 * Node's `net.Socket` constructor registers one `'end'` listener of its own,
 * `onReadableStreamEnd`, whose only work is to forbid writes after the peer's
 * FIN when the socket is not half-open (`allowHalfOpen: false`). A second
 * listener turns the event's single function into an array of two: 66 bytes
 * per connection, a tenth of what this library adds to an idle Node socket.
 * On a half-open socket, which every connection of this library is, Node's
 * listener does nothing, so it makes way for ours.
 *
 * @module
 */

import type { Socket } from "node:net";

/** The name of Node's own `'end'` listener in `lib/net.js` (Node 20 to 24 at least). */
const NODE_END_LISTENER = "onReadableStreamEnd";

/**
 * Adds `listener` for `'end'` on `socket`. On a half-open socket whose only
 * `'end'` listener is Node's own, which does nothing there, that one is
 * removed first, so the socket keeps one function rather than an array.
 * Anything else (another listener, a socket that is not half-open, a Node
 * whose listener has another name) keeps every listener it had.
 */
export function listenForEnd(socket: Socket, listener: (this: Socket) => void): void {
  if (socket.allowHalfOpen && socket.listenerCount("end") === 1) {
    const [existing] = socket.rawListeners("end");
    if (typeof existing === "function" && existing.name === NODE_END_LISTENER) {
      socket.removeListener("end", existing as (...args: unknown[]) => void);
    }
  }
  socket.on("end", listener);
}
