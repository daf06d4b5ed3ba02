/**
 * HTTP Basic authentication (RFC 7617): the `Authorization` value a client
 * sends, and the username and password a server reads from it.
 *
 * @module
 */

import { InvalidHeaderValue } from "./errors.js";
import { scanToken, skipOWS } from "./field-syntax.js";

/**
 * Builds an `Authorization` value for HTTP Basic authentication (RFC 7617 §2):
 * `Basic ` and the base64 of `username:password` encoded as UTF-8.
 *
 * @throws InvalidHeaderValue when the username contains a colon (RFC 7617 §2:
 *   "a user-id containing a colon character is invalid").
 */
export function buildBasicAuthorization(username: string, password: string): string {
  if (username.includes(":")) {
    throw new InvalidHeaderValue("Authorization", "username contains a colon");
  }
  const bytes = new TextEncoder().encode(`${username}:${password}`);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return `Basic ${btoa(binary)}`;
}

/** Whether `code` is in the base64 alphabet (RFC 4648 §4), padding excluded. */
function isBase64Char(code: number): boolean {
  return (
    (code >= 0x41 && code <= 0x5a) ||
    (code >= 0x61 && code <= 0x7a) ||
    (code >= 0x30 && code <= 0x39) ||
    code === 0x2b ||
    code === 0x2f
  );
}

/**
 * Parses an `Authorization` header for HTTP Basic authentication (RFC 7617 §2)
 * and returns the username and the password.
 *
 * Errors are {@link InvalidHeaderValue} and never quote the value, so that the
 * credentials don't end up in logs.
 *
 * @throws InvalidHeaderValue when the scheme isn't Basic or the credentials
 *   aren't base64 of UTF-8 `username:password`.
 */
export function parseBasicAuthorization(value: string): [username: string, password: string] {
  const header = "Authorization";
  // RFC 9110 §11.4: credentials = auth-scheme [ 1*SP ( token68 / #auth-param ) ];
  // §11.1: "It uses a case-insensitive token to identify the authentication scheme".
  const end = scanToken(value, 0);
  if (end === 0) throw new InvalidHeaderValue(header, "expected authentication scheme");
  if (value.slice(0, end).toLowerCase() !== "basic") {
    throw new InvalidHeaderValue(header, "unsupported authentication scheme");
  }
  let pos = end;
  if (value.charCodeAt(pos) !== 0x20) throw new InvalidHeaderValue(header, "expected credentials");
  while (value.charCodeAt(pos) === 0x20) pos++;
  // RFC 7617 §2: credentials are the token68 form, here base64 with its padding.
  const start = pos;
  while (pos < value.length && isBase64Char(value.charCodeAt(pos))) pos++;
  let padding = 0;
  while (value.charCodeAt(pos) === 0x3d && padding < 2) {
    pos++;
    padding++;
  }
  const encoded = value.slice(start, pos);
  if (skipOWS(value, pos) !== value.length || encoded.length === 0 || encoded.length % 4 !== 0) {
    throw new InvalidHeaderValue(header, "expected base64-encoded credentials");
  }
  const binary = atob(encoded);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  let decoded: string;
  try {
    decoded = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new InvalidHeaderValue(header, "expected UTF-8 credentials");
  }
  const colon = decoded.indexOf(":");
  if (colon === -1) throw new InvalidHeaderValue(header, "expected username:password credentials");
  return [decoded.slice(0, colon), decoded.slice(colon + 1)];
}
