/**
 * A Node.js `Duplex` stream over a connection, for code that speaks streams:
 * `pipeline()`, `.pipe()`, a TCP connection or a terminal tunnelled through
 * a WebSocket. What `ws` offers as `createWebSocketStream()`.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { Duplex, type DuplexOptions } from "node:stream";
import { CloseCode } from "../core/close-codes.js";
import { ConnectionClosedOK } from "../core/errors.js";
import { State } from "../core/state.js";
import type { Connection, Data, Sendable } from "./connection.js";

/**
 * A `Duplex` stream over `ws`: what it reads are the messages `ws`
 * receives, what is written to it is sent as messages.
 *
 * In byte mode (the default), each message received is one chunk, a text
 * message as its UTF-8 bytes; each chunk written is sent as one binary
 * message, and a string as one text message with `decodeStrings: false`.
 * With `objectMode` (or `readableObjectMode`), text messages are read as
 * strings and binary ones as `Buffer`s; with `writableObjectMode`, anything
 * `send()` takes can be written, a `Blob` or an iterable of fragments included.
 *
 * The stream reads from the connection only as fast as it is read itself:
 * while its buffer is full, messages wait in the connection's queue, and
 * once `maxQueue` of them wait, the connection stops reading from the
 * network, so the peer's sends wait in turn. Nothing else may read from
 * `ws` meanwhile: a `recv()` or a `for await` loop running at the same time
 * would take messages from the stream (and is refused with
 * `ConcurrencyError` while the stream waits for one; one already waiting
 * when the stream asks for a message makes the stream fail with it, and
 * closes the connection with 1011).
 *
 * Ending the writable side (`end()`) closes the connection with 1000
 * (normal closure): the readable side still gets the messages that arrive
 * until the peer's close frame, then ends. The readable side ends when the
 * connection closes normally (`ConnectionClosedOK`); any other closure
 * destroys the stream with the `ConnectionClosedError` that says how.
 * Destroying the stream closes the connection: with 1000, or with 1011
 * (internal error) when destroyed with an error other than an `AbortError`
 * (a `for await` loop over the stream that breaks destroys it with one).
 *
 * `allowHalfOpen` is `true`, as for any `Duplex`: the readable side's end
 * does not end the writable side, which a pipeline writing into the stream
 * ends itself. The connection is closed by then: a write rejects with
 * `ConnectionClosedOK`, and `end()` completes at once. (`ws` ends it: a
 * pipeline still writing into the stream then fails with "premature close"
 * whenever the peer closes first.)
 *
 * @param ws an open connection.
 * @param options `Duplex` options; `objectMode`, `readableObjectMode`,
 *   `writableObjectMode`, `decodeStrings`, `highWaterMark` and the like.
 */
export function createWebSocketStream(ws: Connection, options?: DuplexOptions): Duplex {
  let reading = false;
  const stream: Duplex = new Duplex({
    ...options,
    read() {
      // One message at a time: push() asks for the next through read() while there is room.
      if (reading) return;
      reading = true;
      ws.recv().then(
        (message) => {
          reading = false;
          if (!stream.destroyed) stream.push(toChunk(message, stream.readableObjectMode));
        },
        (error: unknown) => {
          reading = false;
          if (stream.destroyed) return;
          if (error instanceof ConnectionClosedOK) stream.push(null);
          else stream.destroy(error as Error);
        },
      );
    },
    write(chunk: Sendable, _encoding, callback) {
      ws.send(chunk).then(() => callback(), callback);
    },
    final(callback) {
      ws.close().then(() => callback(), callback);
    },
    destroy(error, callback) {
      // A `for await` loop over the stream destroys it when it breaks (and on
      // Node 20 when it ends), with an AbortError while the writable side
      // hasn't finished, as Node does to any half-open Duplex: the
      // application stopped, it didn't fail.
      const stopped = error === null || error.name === "AbortError";
      // Once the connection closed normally and every message was read, nothing is left to abort.
      if (stopped && stream.readableEnded && ws.state === State.CLOSED) error = null;
      const closing = stopped ? ws.close() : ws.close(CloseCode.INTERNAL_ERROR);
      closing.then(
        () => callback(error),
        () => callback(error),
      );
    },
  });
  return stream;
}

/** A message as the readable side gives it: as it is in object mode, else as bytes. */
function toChunk(message: Data, objectMode: boolean): Data {
  return typeof message === "string" && !objectMode ? Buffer.from(message, "utf8") : message;
}
