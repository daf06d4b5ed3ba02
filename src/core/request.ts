/**
 * The handshake request (RFC 6455 §4.1), {@link Request}, and its serialization.
 *
 * @module
 */

import { quoteText } from "./control-characters.js";
import { InvalidMessage } from "./errors.js";
import { isToken } from "./field-syntax.js";
import type { Headers } from "./headers.js";
import { latin1Encode } from "./latin1.js";
import { isHttpVersion, isRequestTarget } from "./start-line.js";

/** A handshake request. The path is the request-target, e.g. `/chat?room=1`. */
export class Request {
  /**
   * Checks the parts of the request line, which {@link serialize} writes as
   * they are: a CR, LF or space in one of them would forge another line.
   *
   * @throws InvalidMessage when the method isn't a token, the path holds
   *   anything but visible ASCII, or the version isn't `HTTP/x.y`.
   */
  constructor(
    /** The request-target: path and query, e.g. `/chat?room=1`. */
    readonly path: string,
    /** The header fields. */
    readonly headers: Headers,
    /** The method: `GET` (the default) for a handshake (RFC 6455 §4.1). */
    readonly method = "GET",
    /** The HTTP version, e.g. `HTTP/1.1` (the default). */
    readonly version = "HTTP/1.1",
  ) {
    if (!isToken(method)) throw new InvalidMessage(`invalid request method: ${method}`);
    // A CR, LF or SP in the path would let it rewrite the request line.
    if (!isRequestTarget(path))
      throw new InvalidMessage(`invalid request path: ${quoteText(path)}`);
    if (!isHttpVersion(version)) throw new InvalidMessage(`invalid HTTP version: ${version}`);
  }

  /** The request as bytes: request line, header fields, empty line. */
  serialize(): Uint8Array {
    return latin1Encode(`${this.method} ${this.path} ${this.version}\r\n${this.headers}`);
  }
}
