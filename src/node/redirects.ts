/**
 * Redirects of the opening handshake: a server may answer 301, 302, 303, 307
 * or 308 with a `Location` to connect to instead (RFC 9110 §15.4). The client
 * follows a bounded number of them, never from `wss://` to `ws://`, and does
 * not carry credentials to another origin.
 *
 * @module
 */

import { InvalidStatus, InvalidUri, SecurityError } from "../core/errors.js";
import { Headers } from "../core/headers.js";
import { Response } from "../core/response.js";
import { redactTarget } from "../core/trace.js";
import { formatUri, parseUri, type WebSocketUri } from "../core/uri.js";

/** Default `maxRedirects` of `connect()`. */
export const DEFAULT_MAX_REDIRECTS = 10;

/**
 * RFC 9110 §15.4: the statuses that redirect to `Location`. For the opening
 * handshake, a GET without a body, they all mean the same: repeat it there.
 */
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/**
 * Headers meant for the origin they were given for: credentials, and a
 * `Host` that named the first server (a virtual host behind an address).
 */
const ORIGIN_BOUND_HEADERS = ["Authorization", "Cookie", "Proxy-Authorization", "Host"] as const;

/** The `Location` of a redirect the handshake failed with, or `null` if it is not one. */
export function redirectLocation(error: unknown): string | null {
  if (!(error instanceof InvalidStatus)) return null;
  const response = error.response;
  if (!(response instanceof Response) || !REDIRECT_STATUSES.has(response.status)) return null;
  return response.headers.get("Location") ?? null;
}

/** Where to connect after a redirect. */
export interface RedirectTarget {
  /** The URI to connect to, with the user info carried over when the origin is the same. */
  readonly uri: WebSocketUri;
  /** The additional headers to send, without credentials or `Host` when the origin changed. */
  readonly headers: Headers;
  /** Whether the new URI has the same scheme, host and port as the old one. */
  readonly sameOrigin: boolean;
}

/**
 * Resolves `location` against the URI that answered with it and decides what
 * the next request may carry. `http` and `https` locations stand for `ws`
 * and `wss`, as the handshake is an HTTP request.
 *
 * @throws InvalidUri when `location` is not a valid WebSocket URI.
 * @throws SecurityError when it would downgrade from `wss://` to `ws://`.
 */
export function followRedirect(
  from: WebSocketUri,
  location: string,
  headers: Headers,
): RedirectTarget {
  let url: URL;
  try {
    url = new URL(location, formatUri(from));
  } catch {
    // The server's Location, with what it may carry of credentials redacted
    // as a trace does: the error goes to logs.
    throw new InvalidUri(
      redactTarget(location),
      `invalid redirect location from ${redactTarget(formatUri(from))}`,
    );
  }
  if (url.protocol === "http:") url.protocol = "ws:";
  else if (url.protocol === "https:") url.protocol = "wss:";
  // RFC 9110 §10.2.2 lets a Location carry a fragment, but RFC 6455 §3:
  // "Fragment identifiers are meaningless in the context of WebSocket URIs
  // and MUST NOT be used on these URIs." Dropped, rather than fail.
  url.hash = "";
  let uri: WebSocketUri;
  try {
    uri = parseUri(url.href);
  } catch (error) {
    // The application never wrote this URI: say where it came from.
    if (!(error instanceof InvalidUri)) throw error;
    const why = /^(?:wss?|https?):$/.test(url.protocol)
      ? error.why
      : "scheme isn't ws, wss, http or https";
    throw new InvalidUri(
      redactTarget(url.href),
      `invalid redirect location from ${redactTarget(formatUri(from))}: ${why}`,
    );
  }
  if (from.secure && !uri.secure) {
    throw new SecurityError(
      `refusing to follow a redirect from ${redactTarget(formatUri(from))} to ${redactTarget(formatUri(uri))}, which isn't secure`,
    );
  }
  const sameOrigin = from.secure === uri.secure && from.host === uri.host && from.port === uri.port;
  if (!sameOrigin) {
    // Credentials were given for the first server only; the new one, maybe
    // someone else's, must not receive them, and its Host comes from its URI.
    const kept = new Headers(headers);
    for (const name of ORIGIN_BOUND_HEADERS) kept.delete(name);
    return { uri, headers: kept, sameOrigin };
  }
  if (uri.username === null && from.username !== null) {
    uri = { ...uri, username: from.username, password: from.password };
  }
  return { uri, headers, sameOrigin };
}
