/**
 * Taking over a request from `node:http`: by the time a server emits
 * `upgrade`, Node has parsed the handshake request and read past it. The
 * request is turned back into bytes so that the protocol parses and validates
 * it like any other, with the same limits, followed by the bytes Node read
 * past it.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import type { IncomingMessage } from "node:http";

/**
 * The handshake request as it came on the wire, followed by `head`: the
 * first bytes after it, which Node read along with the request.
 */
export function upgradeRequestBytes(request: IncomingMessage, head: Uint8Array): Uint8Array {
  let text = `${request.method} ${request.url} HTTP/${request.httpVersion}\r\n`;
  // rawHeaders keeps the names' casing, the order and the repeated fields.
  const raw = request.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) text += `${raw[i]}: ${raw[i + 1]}\r\n`;
  text += "\r\n";
  // Node decodes field values one octet per character: latin1 encodes them back.
  const requestBytes = Buffer.from(text, "latin1");
  if (head.length === 0) return requestBytes;
  return Buffer.concat([requestBytes, head]);
}
