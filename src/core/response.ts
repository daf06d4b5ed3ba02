/**
 * The handshake response (RFC 6455 §4.2.2), {@link Response}, and its
 * serialization.
 *
 * @module
 */

import { quoteText } from "./control-characters.js";
import { InvalidMessage } from "./errors.js";
import type { Headers } from "./headers.js";
import { latin1Encode } from "./latin1.js";
import { isReasonPhrase } from "./start-line.js";

const EMPTY = new Uint8Array(0);

/** A handshake response, or the error page a server sends instead. */
export class Response {
  /**
   * Checks the parts of the status line, which {@link serialize} writes as
   * they are: a CR or LF in the reason would forge another line.
   *
   * @throws InvalidMessage when the status isn't an integer from 100 to 599 or
   *   the reason holds a control character.
   */
  constructor(
    /** The status code, 100–599: 101 when the handshake succeeds. */
    readonly status: number,
    /** The reason phrase, e.g. `"Switching Protocols"`; may be empty. */
    readonly reason: string,
    /** The header fields. */
    readonly headers: Headers,
    /** The body; empty by default. A parsed response's has its chunked coding decoded. */
    readonly body: Uint8Array = EMPTY,
  ) {
    // RFC 9110 §15: "Values outside the range 100..599 are invalid."
    if (!Number.isInteger(status) || status < 100 || status > 599) {
      throw new InvalidMessage(`invalid status code: ${status}`);
    }
    if (!isReasonPhrase(reason)) {
      throw new InvalidMessage(`invalid reason phrase: ${quoteText(reason)}`);
    }
  }

  /** The body decoded as UTF-8, with U+FFFD for invalid sequences. */
  get text(): string {
    return new TextDecoder().decode(this.body);
  }

  /**
   * The response as bytes: status line, header fields as given, empty line,
   * body. No header is added: set `Content-Length` yourself when there is a body.
   * Without `withBody`, the body is left out and the header fields stay as
   * they are: the answer to a HEAD request (RFC 9110 §9.3.2).
   */
  serialize(withBody = true): Uint8Array {
    const head = latin1Encode(`HTTP/1.1 ${this.status} ${this.reason}\r\n${this.headers}`);
    if (!withBody || this.body.length === 0) return head;
    const bytes = new Uint8Array(head.length + this.body.length);
    bytes.set(head);
    bytes.set(this.body, head.length);
    return bytes;
  }
}
