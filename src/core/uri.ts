/**
 * WebSocket URIs (RFC 6455 §3):
 *
 * ```
 * ws-URI  = "ws:" "//" host [ ":" port ] path [ "?" query ]
 * wss-URI = "wss:" "//" host [ ":" port ] path [ "?" query ]
 * ```
 *
 * IRIs (RFC 3987) are accepted: a non-ASCII host becomes punycode and non-ASCII
 * characters elsewhere are percent-encoded as UTF-8 (RFC 3987 §3.1). The
 * WHATWG `URL` parser does that work; this module first rejects what it would
 * quietly repair (missing slashes, backslashes, whitespace, empty authority).
 *
 * @module
 */

import { InvalidUri } from "./errors.js";

/** A parsed `ws://` or `wss://` URI. */
export interface WebSocketUri {
  /** `true` for `wss`. */
  readonly secure: boolean;
  /** Lowercase; punycode for internationalized names; IPv6 without brackets. */
  readonly host: string;
  /** The explicit port, or 80 for `ws` and 443 for `wss`. */
  readonly port: number;
  /**
   * RFC 6455 §3 resource name: the path ("/" if empty) plus "?" and the query
   * when the query isn't empty; ASCII only, non-ASCII characters percent-encoded.
   */
  readonly path: string;
  /** Percent-decoded user name from the user info, or `null` when there is none. */
  readonly username: string | null;
  /** Percent-decoded password from the user info, or `null` when there is none. */
  readonly password: string | null;
}

const DEFAULT_PORTS = { ws: 80, wss: 443 } as const;

/**
 * Parses a WebSocket URI.
 *
 * The WHATWG URL rules apply beyond what is checked here, e.g. dot segments are
 * removed from the path and numeric IPv4 forms such as `0x7f.1` are normalized.
 *
 * @throws InvalidUri when `uri` isn't an absolute `ws` or `wss` URI with a
 *   host, or has a fragment, or a port outside 1–65535, or user info without a
 *   password.
 */
export function parseUri(uri: string): WebSocketUri {
  // RFC 3986 §3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":",
  // case-insensitive. Scanned by hand because URL() trims and repairs input.
  const colon = uri.indexOf(":");
  const scheme = asciiLowerCase(uri.slice(0, Math.max(colon, 0)));
  if (scheme !== "ws" && scheme !== "wss") throw new InvalidUri(uri, "scheme isn't ws or wss");
  // RFC 6455 §3: "Fragment identifiers are meaningless in the context of
  // WebSocket URIs and MUST NOT be used on these URIs." "#" can only start one.
  if (uri.includes("#")) throw new InvalidUri(uri, "fragment isn't allowed");
  for (let i = 0; i < uri.length; i++) {
    const code = uri.charCodeAt(i);
    // RFC 3986 and RFC 3987 have no place for controls, spaces or backslashes;
    // URL() would strip the first two and read a backslash as a slash.
    if (code <= 0x20 || code === 0x7f || code === 0x5c) {
      throw new InvalidUri(uri, `invalid character at ${i}`);
    }
  }
  // RFC 6455 §3: "ws:" "//" host …; URL() would also accept "ws:/host".
  const authorityStart = colon + 1;
  if (!uri.startsWith("//", authorityStart)) throw new InvalidUri(uri, "expected // after scheme");
  let authorityEnd = authorityStart + 2;
  while (authorityEnd < uri.length && uri[authorityEnd] !== "/" && uri[authorityEnd] !== "?") {
    authorityEnd++;
  }
  const authority = uri.slice(authorityStart + 2, authorityEnd);
  // RFC 3986 §3.2: authority = [ userinfo "@" ] host [ ":" port ]
  const at = authority.lastIndexOf("@");
  const hostPort = authority.slice(at + 1);
  // host = IP-literal / IPv4address / reg-name; an IP-literal has colons inside brackets.
  const bracket = hostPort.startsWith("[") ? hostPort.indexOf("]") : 0;
  const portColon = bracket === -1 ? -1 : hostPort.indexOf(":", bracket);
  if (hostPort === "" || portColon === 0) throw new InvalidUri(uri, "missing host");
  const port = parsePort(uri, portColon === -1 ? "" : hostPort.slice(portColon + 1), scheme);

  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new InvalidUri(uri, "malformed URI");
  }

  const secure = scheme === "wss";
  const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
  // RFC 6455 §3: resource name = path ("/" if empty) [ "?" query ]; URL() gives
  // "/" for an empty path of a special scheme and "" for an empty query.
  const path = url.pathname + url.search;

  let username: string | null = null;
  let password: string | null = null;
  if (at !== -1) {
    const userInfo = authority.slice(0, at);
    const separator = userInfo.indexOf(":");
    // Credentials only serve HTTP Basic authentication, which needs both parts.
    if (separator === -1) throw new InvalidUri(uri, "username provided without password");
    try {
      username = decodeURIComponent(userInfo.slice(0, separator));
      password = decodeURIComponent(userInfo.slice(separator + 1));
    } catch {
      throw new InvalidUri(uri, "invalid percent-encoding in user info");
    }
  }
  return { secure, host, port, path, username, password };
}

/** Lowercases ASCII letters only, so no other character can turn into "ws". */
function asciiLowerCase(s: string): string {
  return s.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) | 0x20));
}

/** RFC 3986 §3.2.3: port = *DIGIT; empty means the scheme's default (RFC 6455 §3). */
function parsePort(uri: string, port: string, scheme: "ws" | "wss"): number {
  if (port === "") return DEFAULT_PORTS[scheme];
  for (let i = 0; i < port.length; i++) {
    const code = port.charCodeAt(i);
    if (code < 0x30 || code > 0x39) throw new InvalidUri(uri, "invalid port");
  }
  // Port 0 can't be connected to, and TCP ports stop at 65535.
  const value = Number(port);
  if (value < 1 || value > 65535) throw new InvalidUri(uri, "port out of range");
  return value;
}

function isDefaultPort(uri: WebSocketUri): boolean {
  return uri.port === (uri.secure ? DEFAULT_PORTS.wss : DEFAULT_PORTS.ws);
}

/**
 * The `Host` header for `uri` (RFC 9110 §7.2: Host = uri-host [ ":" port ]):
 * IPv6 addresses in brackets, and the port only when it isn't the default.
 */
export function hostHeader(uri: WebSocketUri): string {
  // RFC 3986 §3.2.2: IP-literal = "[" ( IPv6address / IPvFuture ) "]"
  const host = uri.host.includes(":") ? `[${uri.host}]` : uri.host;
  return isDefaultPort(uri) ? host : `${host}:${uri.port}`;
}

/** `uri` as a string, without user info: `ws://host[:port]/path?query`. */
export function formatUri(uri: WebSocketUri): string {
  return `${uri.secure ? "wss" : "ws"}://${hostHeader(uri)}${uri.path}`;
}
