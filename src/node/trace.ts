/**
 * Tracing of connections for debugging, switched on the Node way:
 * `NODE_DEBUG=websockets-ts node app.js` prints, on stderr, every handshake
 * message, frame and end of stream of every connection, one line each (see
 * `Protocol.trace`). Off, it costs nothing: no line is even built.
 *
 * @module
 */

import { writeSync } from "node:fs";
import { debuglog } from "node:util";

/** `debuglog` decides, from `NODE_DEBUG`, whether the section is on. */
const section = debuglog("websockets-ts");

/**
 * A {@link Protocol.trace} function whose lines start as `debuglog`'s do,
 * then with `label()`, the peer (e.g. `127.0.0.1:54321` or the URI); `null`
 * when `NODE_DEBUG` doesn't name `websockets-ts`.
 *
 * Lines are written to stderr synchronously, rather than through
 * `process.stderr` as `debuglog` does: on the blocking client's worker
 * thread, that stream hands its writes to the caller's thread, which is
 * blocked, so they would wait, delay the thread's exit, and be lost with it.
 */
export function connectionTracer(label: () => string): ((line: string) => void) | null {
  if (!section.enabled) return null;
  const prefix = `WEBSOCKETS-TS ${process.pid}: ${label()} `;
  return (line) => {
    try {
      writeSync(2, `${prefix}${line}\n`);
    } catch {
      // stderr closed or full: a trace is not worth failing a connection for.
    }
  };
}
