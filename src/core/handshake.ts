/**
 * The parts of the RFC 6455 §4 opening handshake that client and server share:
 * the key and its accept value, and the Upgrade / Connection header checks.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import * as crypto from "node:crypto";
import { InvalidUpgrade } from "./errors.js";
import { parseConnection, parseEach, parseUpgrade } from "./header-values.js";
import type { Headers } from "./headers.js";

/** RFC 6455 §1.3: the GUID appended to the key before hashing. */
const WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/**
 * A new `Sec-WebSocket-Key`. RFC 6455 §4.1: "a randomly selected 16-byte value
 * that has been base64-encoded", "chosen randomly for each connection".
 */
export function generateKey(): string {
  const nonce = new Uint8Array(16);
  globalThis.crypto.getRandomValues(nonce);
  return Buffer.from(nonce).toString("base64");
}

/**
 * The `Sec-WebSocket-Accept` value for a key. RFC 6455 §4.2.2: "concatenate
 * this with the Globally Unique Identifier ... take the SHA-1 hash of this
 * concatenated value ... base64-encoded".
 */
export function acceptKey(key: string): string {
  return sha1Base64(key + WEBSOCKET_GUID);
}

/**
 * SHA-1 of `data` (UTF-8), base64-encoded, through a `Hash` object: what
 * {@link acceptKey} uses on Node before 20.12.
 *
 * @internal
 */
export function sha1Base64WithHashObject(data: string): string {
  return crypto.createHash("sha1").update(data).digest("base64");
}

/**
 * SHA-1 of `data`, base64-encoded. `crypto.hash()` (Node 20.12 and later)
 * hashes in one call, at half the cost of creating a `Hash` object.
 */
const sha1Base64: (data: string) => string =
  typeof crypto.hash === "function"
    ? (data) => crypto.hash("sha1", data, "base64")
    : sha1Base64WithHashObject;

/** Whether `key` is a valid `Sec-WebSocket-Key`: base64 of exactly 16 bytes. */
export function isValidKey(key: string): boolean {
  // 16 bytes encode to 22 base64 characters and "==" padding.
  return /^[A-Za-z0-9+/]{21}[AQgw]==$/.test(key);
}

/**
 * Checks that `Connection` includes `upgrade` and `Upgrade` names `websocket`,
 * both ASCII case-insensitive (RFC 6455 §4.1 items 5 and 6, §4.2.1 items 3 and 4).
 * A request's `Upgrade` may list other protocols too; a response's names only
 * `websocket`.
 *
 * @param message whose header fields these are: the client's request or the server's response.
 * @throws InvalidUpgrade otherwise.
 */
export function checkUpgradeHeaders(headers: Headers, message: "request" | "response"): void {
  const connectionValues = headers.getAll("Connection");
  // Nearly every handshake sends exactly these values, which the lists' grammar
  // accepts as they are: no need to parse them.
  if (!isOnly(connectionValues, "upgrade")) {
    const connection = parseEach(connectionValues, parseConnection);
    if (!connection.some((token) => token.toLowerCase() === "upgrade")) {
      throw new InvalidUpgrade("Connection", connection.length ? connection.join(", ") : null);
    }
  }
  const upgradeValues = headers.getAll("Upgrade");
  if (!isOnly(upgradeValues, "websocket")) {
    const upgrade = parseEach(upgradeValues, parseUpgrade);
    const names = (protocol: string) => protocol.toLowerCase() === "websocket";
    // RFC 6455 §4.2.1: the request has "An |Upgrade| header field containing
    // the value "websocket""; §4.1: the client MUST fail the connection "if
    // ... the |Upgrade| header field contains a value that is not an ASCII
    // case-insensitive match for the value "websocket"".
    const valid =
      message === "request" ? upgrade.some(names) : upgrade.length === 1 && names(upgrade[0]!);
    if (!valid) throw new InvalidUpgrade("Upgrade", upgrade.length ? upgrade.join(", ") : null);
  }
}

/** Whether `values` is one value equal to the lowercase token `token`, in any case. */
function isOnly(values: readonly string[], token: string): boolean {
  return values.length === 1 && values[0]!.toLowerCase() === token;
}
