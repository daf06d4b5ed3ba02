/**
 * Tracing of connections for debugging, switched on the Node way:
 * `NODE_DEBUG=websockets-ts node app.js` prints, on stderr, every handshake
 * message, frame and end of stream of every connection, one line each (see
 * `Protocol.trace`). Off, it costs nothing: no line is even built.
 *
 * @module
 */

import { debuglog } from "node:util";

const debug = debuglog("websockets-ts");

/**
 * A {@link Protocol.trace} function whose lines start with `label()`, the
 * peer (e.g. `127.0.0.1:54321` or the URI), or `null` when `NODE_DEBUG`
 * doesn't name `websockets-ts`.
 */
export function connectionTracer(label: () => string): ((line: string) => void) | null {
  if (!debug.enabled) return null;
  const prefix = label();
  return (line) => debug("%s %s", prefix, line);
}
