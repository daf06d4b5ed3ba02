/**
 * Proxies for the client: which one a URI goes through (the `proxy` option or,
 * when asked, the environment) and opening a tunnel through it to the server.
 *
 * Supported proxies: `http://` and `https://` (HTTP CONNECT, RFC 9110 §9.3.6),
 * `socks5://` (SOCKS5, RFC 1928, the client resolves the host name) and
 * `socks5h://` (the proxy resolves it). User info in the proxy URL becomes
 * Basic proxy authentication, or SOCKS5 username/password authentication
 * (RFC 1929).
 *
 * @module
 */

import * as net from "node:net";
import * as tls from "node:tls";
import { domainToASCII } from "node:url";
import { isUrlObject } from "../core/brands.js";
import { describeValue } from "../core/describe-value.js";
import { InvalidUri, ProxyError } from "../core/errors.js";
import type { WebSocketUri } from "../core/uri.js";
import type { TcpOptions } from "./client.js";
import { httpConnect } from "./proxy-http.js";
import { socks5Connect } from "./proxy-socks.js";
import { redactProxy } from "./proxy-url.js";
import { definedOptions, proxyCertificateError } from "./tls.js";

/**
 * The `proxy` option of `connect()`: a proxy URL; `true` to read it from the
 * environment (`HTTPS_PROXY` for `wss://`, `HTTP_PROXY` for `ws://`, then
 * `ALL_PROXY`, each also in lowercase, and `NO_PROXY`); `false` or `null`
 * for none.
 */
export type ProxySetting = string | URL | boolean | null;

/** Default port of each proxy scheme. */
const PROXY_PORTS = { "http:": 80, "https:": 443, "socks5:": 1080, "socks5h:": 1080 } as const;
type ProxyScheme = keyof typeof PROXY_PORTS;

function isProxyScheme(protocol: string): protocol is ProxyScheme {
  return Object.hasOwn(PROXY_PORTS, protocol);
}

/**
 * Parses a proxy URL. A value without a scheme, like `proxy.example:3128`,
 * is an HTTP proxy, as curl reads it.
 *
 * @throws InvalidUri for a malformed URL, a scheme other than http, https,
 *   socks5 and socks5h, or user info with invalid percent-encoding.
 */
export function parseProxy(value: string | URL): URL {
  let url: URL;
  try {
    url = isUrlObject(value)
      ? new URL(value.href)
      : new URL(/^[a-z][a-z\d+.-]*:\/\//i.test(value) ? value : `http://${value}`);
  } catch {
    throw new InvalidUri("<proxy>", "malformed proxy URL");
  }
  if (!isProxyScheme(url.protocol) || url.hostname === "") {
    throw new InvalidUri(
      redactProxy(url),
      "unsupported proxy URL; expected http, https, socks5 or socks5h",
    );
  }
  // The credentials are percent-decoded when used: a stray "%" would throw
  // a bare URIError then, naming neither the proxy nor the option.
  let username: string;
  try {
    username = decodeURIComponent(url.username);
    decodeURIComponent(url.password);
  } catch {
    throw new InvalidUri(redactProxy(url), "invalid percent-encoding in user info");
  }
  // RFC 7617 §2: "a user-id containing a colon character is invalid" in Basic
  // credentials, which an HTTP proxy gets; RFC 1929 lets a SOCKS5 one have it.
  if (username.includes(":") && isHttpProxy(url)) {
    throw new InvalidUri(
      redactProxy(url),
      "user name with a colon, which Basic authentication can't carry",
    );
  }
  // socks5: and socks5h: are no special scheme to the WHATWG URL parser: it
  // percent-encodes a host name's non-ASCII letters where, for http:, it
  // converts them to ASCII (UTS #46), which DNS needs.
  if (!isHttpProxy(url) && !url.hostname.startsWith("[")) {
    const ascii = hostNameToAscii(url.hostname);
    if (ascii === "") throw new InvalidUri(redactProxy(url), "invalid proxy host name");
    url.hostname = ascii;
  }
  return url;
}

/** A percent-encoded host name in ASCII (UTS #46), or `""` when it is not a valid one. */
function hostNameToAscii(hostname: string): string {
  try {
    return domainToASCII(decodeURIComponent(hostname));
  } catch {
    return "";
  }
}

function isHttpProxy(url: URL): boolean {
  return url.protocol === "http:" || url.protocol === "https:";
}

/**
 * @throws TypeError unless `setting` is a proxy URL (a string or a `URL`),
 *   a boolean, `null` or `undefined`: a port number alone would otherwise be
 *   read as a host name (`8080` is the address 0.0.31.144).
 */
export function checkProxySetting(setting: unknown): void {
  if (
    setting === undefined ||
    setting === null ||
    typeof setting === "boolean" ||
    typeof setting === "string" ||
    isUrlObject(setting)
  ) {
    return;
  }
  throw new TypeError(
    `proxy must be a proxy URL such as "http://proxy.example:3128", true to read HTTPS_PROXY and HTTP_PROXY, or false or null for none; got ${describeValue(setting)}`,
  );
}

/**
 * The proxy `uri` goes through under `setting`, or `null` for a direct connection.
 *
 * @param env the environment to read when `setting` is `true`.
 */
export function resolveProxy(
  uri: WebSocketUri,
  setting: ProxySetting | undefined,
  env: NodeJS.ProcessEnv = process.env,
): URL | null {
  checkProxySetting(setting);
  if (setting === undefined || setting === null || setting === false) return null;
  if (setting !== true) return parseProxy(setting);
  const value = environmentProxy(uri.secure, env);
  if (value === undefined) return null;
  const noProxy = nonEmpty(env.no_proxy) ?? nonEmpty(env.NO_PROXY);
  if (noProxy !== undefined && bypassesProxy(uri, noProxy)) return null;
  return parseProxy(value);
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === "" ? undefined : trimmed;
}

/** The proxy URL the environment gives for `wss://` (secure) or `ws://` URIs. */
function environmentProxy(secure: boolean, env: NodeJS.ProcessEnv): string | undefined {
  if (secure) return nonEmpty(env.https_proxy) ?? nonEmpty(env.HTTPS_PROXY) ?? allProxy(env);
  // Under CGI, a request's "Proxy:" header arrives as HTTP_PROXY (the
  // "httpoxy" vulnerability): only the lowercase name can be trusted there.
  const cgi = env.REQUEST_METHOD !== undefined;
  return nonEmpty(env.http_proxy) ?? (cgi ? undefined : nonEmpty(env.HTTP_PROXY)) ?? allProxy(env);
}

function allProxy(env: NodeJS.ProcessEnv): string | undefined {
  return nonEmpty(env.all_proxy) ?? nonEmpty(env.ALL_PROXY);
}

/**
 * Whether `NO_PROXY` exempts `uri`. `*` as the whole value (spaces around it
 * aside) exempts everything; as one entry of several, nothing, as in curl
 * and Python's urllib. Entries are separated by commas or spaces: a host
 * name exempts itself and its
 * subdomains (a leading `.` or `*.` is ignored, and so is a trailing `.`,
 * on the entry and on the URI's host; names match in any case, and in
 * ASCII: `bücher.example` matches `xn--bcher-kva.example`); an IP address or
 * a CIDR range exempts the addresses it covers, but no host name, an
 * IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) being the IPv4 address it
 * maps; any entry may end with `:port`.
 */
export function bypassesProxy(uri: WebSocketUri, noProxy: string): boolean {
  const hostFamily = net.isIP(uri.host);
  const host = hostFamily === 0 ? withoutTrailingDot(uri.host.toLowerCase()) : uri.host;
  // curl: "If set to an asterisk '*' only, it matches all hosts." A list
  // that holds one, "localhost,*", likely lists hosts on purpose: it is read
  // as a list, in which "*" names no host.
  if (noProxy.trim() === "*") return true;
  for (const raw of noProxy.split(/[\s,]+/)) {
    if (raw === "" || raw === "*") continue;
    let entry = raw.toLowerCase();
    let port: string | null = null;
    const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
    if (bracketed !== null) {
      entry = bracketed[1]!;
      port = bracketed[2] ?? null;
    } else if (/^[^:]*:\d+$/.test(entry)) {
      // One colon: host:port. More: an IPv6 address without brackets.
      [entry, port] = entry.split(":") as [string, string];
    }
    if (port !== null && Number(port) !== uri.port) continue;
    const slash = entry.indexOf("/");
    const address = slash === -1 ? entry : entry.slice(0, slash);
    const family = net.isIP(address);
    if (family !== 0) {
      if (hostFamily !== 0 && coversAddress(entry, family, slash, host, hostFamily)) return true;
      continue;
    }
    // Names cover names: 10.1.2.3 is no subdomain of a "1.2.3" (curl agrees).
    if (hostFamily !== 0) continue;
    const domain = asciiName(entry);
    if (domain === "") continue;
    if (host === domain || host.endsWith(`.${domain}`)) return true;
  }
  return false;
}

/**
 * The host name of a `NO_PROXY` entry as the URL parser gives a URI's host:
 * without the `.` or `*.` that may start it (every name entry covers its
 * subdomains) nor the dot that may end it, and in ASCII (UTS #46 ToASCII,
 * which lowercases and turns "bücher.example" into "xn--bcher-kva.example").
 * Empty for an entry that can't be a host name.
 */
function asciiName(entry: string): string {
  const name = withoutTrailingDot(entry.replace(/^\*?\./, ""));
  return name === "" ? "" : domainToASCII(name);
}

/**
 * `name` without the dot that may end it: a name ending in a dot is fully
 * qualified (RFC 1034 §3.1), the same host as without it; curl's NO_PROXY
 * matching ignores that dot too.
 */
function withoutTrailingDot(name: string): string {
  return name.endsWith(".") ? name.slice(0, -1) : name;
}

/**
 * Whether the address or CIDR range `entry`, of IP version `family`, covers
 * the IP address `host`, of version `hostFamily`.
 */
function coversAddress(
  entry: string,
  family: number,
  slash: number,
  host: string,
  hostFamily: number,
): boolean {
  const type = family === 6 ? "ipv6" : "ipv4";
  const list = new net.BlockList();
  try {
    if (slash === -1) list.addAddress(entry, type);
    else list.addSubnet(entry.slice(0, slash), Number(entry.slice(slash + 1)), type);
  } catch {
    return false;
  }
  // BlockList compares addresses, not strings: "::1" matches "0:0:0:0:0:0:0:1".
  // Across versions too: an IPv4-mapped IPv6 address (RFC 4291 §2.5.5.2),
  // which the URL parser gives as [::ffff:7f00:1] for [::ffff:127.0.0.1], is
  // the IPv4 address it maps, reached over an IPv6 socket.
  return list.check(host, hostFamily === 6 ? "ipv6" : "ipv4");
}

/** What {@link openTunnel} needs besides the proxy and the target. */
export interface TunnelOptions {
  /** Aborts opening the tunnel: the socket is destroyed and the promise rejects with the reason. */
  signal: AbortSignal;
  /** `tls.connect()` options for an `https://` proxy. */
  tls?: tls.ConnectionOptions | undefined;
  /**
   * `net.connect()` options for the TCP connection to the proxy; with
   * `socks5://`, their `lookup`, `family` and `hints` also resolve the server's host name.
   */
  tcp?: TcpOptions | undefined;
  /** `User-Agent` of the CONNECT request, or `null` for none. */
  userAgent: string | null;
}

/**
 * Connects to `proxy` and asks it for a tunnel to the server of `uri`.
 * Resolves with the socket once the tunnel is open; it is paused, ready to
 * carry the WebSocket handshake (or the TLS one, for `wss://`).
 *
 * @throws ProxyError when the proxy refuses or answers wrongly; the socket's
 *   error when the proxy cannot be reached; the signal's reason when aborted.
 */
export async function openTunnel(
  proxy: URL,
  uri: WebSocketUri,
  options: TunnelOptions,
): Promise<net.Socket> {
  const scheme = proxy.protocol as ProxyScheme;
  const host = proxy.hostname.startsWith("[") ? proxy.hostname.slice(1, -1) : proxy.hostname;
  const port = proxy.port === "" ? PROXY_PORTS[scheme] : Number(proxy.port);
  // The tunnel may carry the WebSocket connection itself, which half-closes.
  const tlsOptions: tls.ConnectionOptions & { allowHalfOpen: boolean } = {
    ...options.tcp,
    host,
    port,
    ...(net.isIP(host) ? {} : { servername: host }),
    allowHalfOpen: true,
    ...definedOptions(options.tls),
  };
  const socket =
    scheme === "https:"
      ? tls.connect(tlsOptions)
      : net.connect({ ...options.tcp, host, port, allowHalfOpen: true });
  try {
    await connected(
      socket,
      scheme === "https:" ? "secureConnect" : "connect",
      proxy,
      options.signal,
    ).catch((error: unknown) => {
      // The proxy's certificate, not the WebSocket server's: the error must
      // say so, or the caller fixes the tls option, which changes nothing.
      throw proxyCertificateError(error, redactProxy(proxy)) ?? error;
    });
    if (scheme === "http:" || scheme === "https:") {
      return await httpConnect(socket, uri, proxy, options.userAgent, options.signal);
    }
    return await socks5Connect(socket, uri, proxy, options.signal, options.tcp);
  } catch (error) {
    socket.destroy();
    throw error;
  }
}

/** Resolves once `socket` emits `event`; rejects on error, close or abort. */
function connected(
  socket: net.Socket,
  event: string,
  proxy: URL,
  signal: AbortSignal,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const settle = (error: unknown): void => {
      socket.off(event, onReady);
      socket.off("error", settle);
      socket.off("close", onClose);
      signal.removeEventListener("abort", onAbort);
      if (error === null) resolve();
      else reject(error);
    };
    const onReady = () => settle(null);
    const onClose = () =>
      settle(
        new ProxyError(`connection to proxy ${redactProxy(proxy)} closed while opening`, null, {
          transient: true,
        }),
      );
    const onAbort = () => settle(signal.reason);
    if (signal.aborted) {
      onAbort();
      return;
    }
    socket.once(event, onReady);
    socket.once("error", settle);
    socket.once("close", onClose);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
