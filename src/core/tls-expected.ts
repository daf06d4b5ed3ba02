/**
 * The answers of well-known servers to a plain HTTP request on a port where
 * they expect TLS, and {@link expectsTls}, which recognises them: a `ws://`
 * URI for what should be `wss://`.
 *
 * @module
 */

import { latin1Decode } from "./latin1.js";
import type { Response } from "./response.js";

/**
 * How the error for a `ws://` URI whose server answered so ends, after the
 * status; see `isSchemeMismatch()`.
 */
export const TLS_EXPECTED =
  "the server expects TLS; use wss:// (or TLS from a proxy in front of it)";

/**
 * Phrases of the bodies that servers send with status 400 in answer to a
 * plain HTTP request on a port where they expect TLS, as they spell them.
 * Servers that close the connection instead (Node, HAProxy, Envoy, …) get
 * the protocol's "closed without answering" hint; a TLS alert gets its own.
 */
export const TLS_EXPECTED_PHRASES: readonly string[] = [
  // nginx, and servers built on it: the page of its code 497 ("a regular
  // request has been sent to the HTTPS port"), sent as "HTTP/1.1 400 Bad
  // Request" (src/http/ngx_http_special_response.c, ngx_http_error_497_page).
  "The plain HTTP request was sent to HTTPS port",
  // Go's net/http, so Caddy and most Go servers: "HTTP/1.0 400 Bad Request",
  // no header, then "Client sent an HTTP request to an HTTPS server.\n"
  // (src/net/http/server.go, conn.serve).
  "Client sent an HTTP request to an HTTPS server",
  // Apache httpd's mod_ssl: a 400 page whose error notes read "Reason: You're
  // speaking plain HTTP to an SSL-enabled server port."
  // (modules/ssl/ssl_engine_kernel.c, ssl_hook_ReadReq).
  "speaking plain HTTP to an SSL-enabled server port",
  // Apache Tomcat, so Spring Boot's embedded one: "HTTP/1.1 400 ", then
  // "Bad Request\r\nThis combination of host and port requires TLS.\r\n"
  // (java/org/apache/tomcat/util/net/TLSClientHelloExtractor.java, USE_TLS_RESPONSE).
  "This combination of host and port requires TLS",
];

/**
 * Bytes of the body that {@link expectsTls} reads: the answers above are a
 * few hundred bytes, the phrase near their start, while a body may be as
 * large as the response parser allows.
 */
const SCANNED_BYTES = 4096;

/**
 * Whether `response` is a server's refusal of a plain HTTP request on a port
 * where it expects TLS: status 400 and a body with one of
 * {@link TLS_EXPECTED_PHRASES}.
 */
export function expectsTls(response: Response): boolean {
  if (response.status !== 400) return false;
  // The phrases are ASCII: one character per byte finds them in any charset
  // that keeps ASCII as it is, and never fails.
  const text = latin1Decode(response.body.subarray(0, SCANNED_BYTES));
  return TLS_EXPECTED_PHRASES.some((phrase) => text.includes(phrase));
}
