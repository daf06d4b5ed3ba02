/**
 * The Node client: `connect(uri)` opens a TCP, TLS or Unix socket connection,
 * possibly through a proxy, performs the opening handshake, following
 * redirects, and returns a {@link ClientConnection}.
 *
 * @module
 */

import type * as net from "node:net";
import * as tls from "node:tls";
import { isUrlObject } from "../core/brands.js";
import { ClientProtocol } from "../core/client.js";
import { describeValue, numberOptionError } from "../core/describe-value.js";
import { InvalidMessage, ProxyError, SecurityError, TimeoutError } from "../core/errors.js";
import type { ClientExtensionFactory } from "../core/extensions/base.js";
import { checkClientFactories } from "../core/extensions/check-factories.js";
import { Headers, type HeadersInit } from "../core/headers.js";
import { type HttpLimits, withDefaults } from "../core/http-limits.js";
import { recyclerOf } from "../core/outgoing.js";
import type { Event } from "../core/protocol.js";
import type { Request } from "../core/request.js";
import type { Response } from "../core/response.js";
import { redactTarget } from "../core/trace.js";
import { formatUri, parseUri, type WebSocketUri } from "../core/uri.js";
import { type CompressionOptions, clientExtensions } from "./compression.js";
import {
  Connection,
  type ConnectionOptions,
  connectReadingDirectly,
  type ResolvedConnectionOptions,
  resolveConnectionOptions,
} from "./connection.js";
import { setDeadline } from "./deadline.js";
import { type Logger, resolveLogger } from "./logger.js";
import { CONNECT_OPTIONS, checkOptionNames } from "./option-names.js";
import { checkProxySetting, openTunnel, type ProxySetting, resolveProxy } from "./proxy.js";
import { redactProxy } from "./proxy-url.js";
import { DEFAULT_MAX_REDIRECTS, followRedirect, redirectLocation } from "./redirects.js";
import { certificateError, clientTlsOptions, notTlsError } from "./tls.js";
import { connectionTracer } from "./trace.js";
import { USER_AGENT } from "./version.js";

/** Options of {@link connect}. */
export interface ConnectOptions extends ConnectionOptions, CompressionOptions {
  /** Value of the `Origin` header; none by default. */
  origin?: string | undefined;
  /** Subprotocols to offer, in order of preference; `ws.subprotocol` tells which the server chose. */
  subprotocols?: readonly string[] | undefined;
  /**
   * Fail the handshake with a `NegotiationError` when subprotocols were
   * offered and the server selected none, as browsers and `ws` do; by
   * default, as RFC 6455 allows, the connection opens with `subprotocol`
   * `null`. Default: `false`.
   */
  requireSubprotocol?: boolean | undefined;
  /** Extensions to offer, in order of preference. */
  extensions?: readonly ClientExtensionFactory[] | undefined;
  /**
   * Extra headers for the handshake request, e.g. cookies or tokens. A `Host`
   * or `Origin` here replaces the one the URI or {@link origin} gives (a
   * virtual host reached by its address); the fields the handshake itself
   * sets (`Upgrade`, `Connection`, `Sec-WebSocket-*`) are refused with a
   * `TypeError`: use {@link subprotocols} and {@link extensions}.
   */
  additionalHeaders?: HeadersInit | undefined;
  /** `User-Agent` header; `null` omits it. Default: `websockets-ts/<version>`. */
  userAgent?: string | null | undefined;
  /** Aborts connecting; the promise rejects with the signal's reason. */
  signal?: AbortSignal | undefined;
  /**
   * Options for `tls.connect()` on `wss://` URIs: `ca`, `cert`, `key`,
   * `servername`, `rejectUnauthorized`, …
   */
  tls?: tls.ConnectionOptions | undefined;
  /** Limits on the server's handshake response. */
  httpLimits?: HttpLimits | undefined;
  /**
   * Path of a Unix domain socket to connect to instead of the URI's host and
   * port, without any proxy; the URI still gives the `Host` header, the
   * resource and, for `wss://`, the name the certificate must match.
   */
  path?: string | undefined;
  /**
   * A proxy to connect through: `"http://[user:pass@]host:port"` (HTTP
   * CONNECT, also `https://`), `"socks5://…"` (the client resolves the host
   * name) or `"socks5h://…"` (the proxy does); `true` reads it from the
   * environment: `HTTPS_PROXY` for `wss://`, `HTTP_PROXY` for `ws://`, then
   * `ALL_PROXY`, each also in lowercase (which wins), except hosts that
   * `NO_PROXY` lists. Default: no proxy.
   */
  proxy?: ProxySetting | undefined;
  /** Options for `tls.connect()` to an `https://` proxy. */
  proxyTls?: tls.ConnectionOptions | undefined;
  /**
   * Redirects (301, 302, 303, 307, 308) to follow; `0` makes a redirect
   * fail with `InvalidStatus`. Default: 10, and 0 with {@link socket}.
   */
  maxRedirects?: number | undefined;
  /**
   * Options for the TCP connection to the server, or to the proxy when there
   * is one: `family` (4 or 6), `lookup` (a DNS lookup function, e.g. a cache
   * or a fixed address), `localAddress` and `localPort`, `autoSelectFamily`,
   * `keepAlive`… as `net.connect()` takes them. Through a `socks5://` proxy,
   * `lookup`, `family` and `hints` also resolve the server's host name, to
   * the one address the proxy is asked to connect to.
   */
  tcp?: TcpOptions | undefined;
  /**
   * A socket to speak WebSocket over instead of opening a connection, as
   * Python's `sock=`: connected or connecting (what `net.connect()` returns),
   * or any `net.Socket` a custom transport made. The URI still gives the
   * `Host` header, the resource and, for `wss://`, the TLS server name (TLS
   * runs over this socket). A redirect can't be followed on it: it fails with
   * `InvalidStatus`. Not with {@link path} or {@link proxy}. The connection
   * owns the socket from then on, and destroys it when it closes.
   */
  socket?: net.Socket | undefined;
}

/** Fields of the handshake request that only the handshake sets (RFC 6455 §4.1), lowercase. */
const HANDSHAKE_FIELDS: ReadonlySet<string> = new Set([
  "upgrade",
  "connection",
  "sec-websocket-key",
  "sec-websocket-version",
  "sec-websocket-extensions",
  "sec-websocket-protocol",
]);

/**
 * Whether `name` is a field of the handshake request that only the handshake
 * sets, which {@link ConnectOptions.additionalHeaders} can't: `Upgrade`,
 * `Sec-WebSocket-Protocol`, … in any case. The CLI checks `-H` with it, to
 * refuse such a header as a usage error rather than at connect.
 */
export function isHandshakeField(name: string): boolean {
  return HANDSHAKE_FIELDS.has(name.toLowerCase());
}

/** Fields of which a request has one, which additional headers replace, lowercase. */
const REPLACING_FIELDS = new Set(["host", "origin", "authorization"]);

/** The options of `net.connect()` that {@link ConnectOptions.tcp} passes on. */
export type TcpOptions = Pick<
  net.TcpSocketConnectOpts,
  | "family"
  | "hints"
  | "lookup"
  | "localAddress"
  | "localPort"
  | "autoSelectFamily"
  | "autoSelectFamilyAttemptTimeout"
  | "keepAlive"
  | "keepAliveInitialDelay"
>;

// The constructor of ClientConnection is private, so that the published
// typings offer applications no `new` (they get connections from connect());
// its static block, which may call it, sets this for connect().
let constructClientConnection: (
  socket: net.Socket,
  protocol: ClientProtocol,
  options: ResolvedConnectionOptions,
  request: Request,
) => ClientConnection;

/** A WebSocket connection opened by {@link connect}. */
export class ClientConnection extends Connection {
  /** The sans-I/O client protocol this connection drives. */
  declare readonly protocol: ClientProtocol;
  /** The handshake request sent. */
  readonly request: Request;
  /** The handshake response received, once there is one. */
  response: Response | null = null;

  private handshakeSettled = false;
  /** Set while the TLS handshake under the WebSocket one is under way; see {@link watchTlsHandshake}. */
  private tlsHandshaking = false;
  private resolveHandshake!: () => void;
  private rejectHandshake!: (error: unknown) => void;
  /** @internal Settles when the opening handshake succeeds or fails. */
  readonly handshake: Promise<void>;

  /** Not for applications: use {@link connect}. */
  private constructor(
    socket: net.Socket,
    protocol: ClientProtocol,
    options: ResolvedConnectionOptions,
    request: Request,
  ) {
    super(socket, protocol, options);
    this.request = request;
    this.handshake = new Promise((resolve, reject) => {
      this.resolveHandshake = resolve;
      this.rejectHandshake = reject;
    });
    // The rejection is observed by connect(); this keeps an early failure
    // from being reported as unhandled before connect() awaits it.
    this.handshake.catch(() => {});
  }

  /** The subprotocol the server selected, or `null`. */
  get subprotocol(): string | null {
    return this.protocol.subprotocol;
  }

  /** @internal Fails the handshake, e.g. on timeout or abort, and drops the TCP connection. */
  abortHandshake(error: unknown): void {
    if (this.handshakeSettled) return;
    this.settleHandshake(error);
    this.socket.destroy();
  }

  /**
   * @internal Notes that `socket` is a TLS socket whose handshake has yet to
   * complete, so that a connection lost before then is reported as such.
   */
  watchTlsHandshake(socket: tls.TLSSocket): void {
    this.tlsHandshaking = true;
    socket.once("secureConnect", () => {
      this.tlsHandshaking = false;
    });
  }

  /**
   * Records the server's response and settles the opening handshake, with
   * the protocol's {@link ClientProtocol.handshakeExc} if it failed; once it
   * succeeded, keepalive pings start.
   */
  protected handleHandshakeEvent(event: Event): void {
    this.response = event as Response;
    const error = this.protocol.handshakeExc;
    if (error !== null) {
      this.settleHandshake(error);
      return;
    }
    this.settleHandshake(null);
    this.startKeepalive();
  }

  /**
   * Fails the opening handshake as soon as the response can't be parsed (too
   * many headers, not HTTP): the protocol records why, but no event comes of
   * it, and a server that doesn't close its side would otherwise leave
   * `connect()` waiting until `openTimeout`.
   */
  protected override afterProtocolStep(): void {
    super.afterProtocolStep();
    // Once the handshake settled (for the rest of the connection's life), one test.
    if (this.handshakeSettled) return;
    const error = this.protocol.handshakeExc;
    // During the TLS handshake no HTTP was read: an end of stream then is
    // onConnectionLost()'s to report, as a TLS failure.
    if (error !== null && !this.tlsHandshaking) this.settleHandshake(this.socketError ?? error);
  }

  /**
   * Fails an opening handshake still under way: with the socket's or the
   * protocol's error, else an {@link InvalidMessage} that says the connection
   * closed during it (or during the TLS handshake).
   *
   * A socket error comes first, here and in {@link afterProtocolStep}: it is
   * why the stream ended. With TLS 1.3 the client's handshake is over before
   * the server checks its certificate; a server that wants one sends its
   * alert then ('error', then 'end'), and the protocol's "connection closed
   * while reading HTTP response" would hide it.
   */
  protected override onConnectionLost(): void {
    if (this.tlsHandshaking) {
      // No HTTP was exchanged: the protocol's "connection closed while
      // reading HTTP response" would point at the wrong layer. Node's error
      // says "… before secure TLS connection was established", or OpenSSL's
      // "wrong version number" when the server answered in plain text.
      this.settleHandshake(
        notTlsError(this.socketError) ??
          this.socketError ??
          new InvalidMessage("connection closed during the TLS handshake"),
      );
      return;
    }
    this.settleHandshake(
      this.socketError ??
        this.protocol.handshakeExc ??
        new InvalidMessage("connection closed during the opening handshake"),
    );
  }

  private settleHandshake(error: unknown): void {
    if (this.handshakeSettled) return;
    this.handshakeSettled = true;
    if (error === null) this.resolveHandshake();
    else this.rejectHandshake(error);
  }

  static {
    constructClientConnection = (socket, protocol, options, request) =>
      new ClientConnection(socket, protocol, options, request);
  }
}

/**
 * One limit for the whole of {@link connect}: the caller's signal and
 * `openTimeout` abort a single signal that the proxy, TLS and WebSocket
 * handshakes all obey, across redirects.
 */
class OpeningDeadline {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout | null;
  /** Set once {@link connect} no longer needs the deadline: it connected, or failed. */
  private disposed = false;

  constructor(
    private readonly callerSignal: AbortSignal | undefined,
    timeout: number | null,
  ) {
    callerSignal?.addEventListener("abort", this.onAbort, { once: true });
    // A deadline: a response that came in time but sits unread after a stall of the event loop counts.
    this.timer = timeout === null ? null : setDeadline(OpeningDeadline.expire, timeout, this);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  dispose(): void {
    this.disposed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.callerSignal?.removeEventListener("abort", this.onAbort);
  }

  private readonly onAbort = (): void => {
    this.controller.abort(this.callerSignal!.reason);
  };

  private static expire(deadline: OpeningDeadline): void {
    if (deadline.disposed) return;
    deadline.controller.abort(new TimeoutError("timed out during the opening handshake"));
  }
}

/** Whether `value` has what the client uses of an `AbortSignal`. */
function isAbortSignalLike(value: unknown): boolean {
  const signal = value as Partial<AbortSignal> | null;
  return (
    typeof value === "object" &&
    signal !== null &&
    typeof signal.aborted === "boolean" &&
    typeof signal.throwIfAborted === "function" &&
    typeof signal.addEventListener === "function" &&
    typeof signal.removeEventListener === "function"
  );
}

/**
 * @internal What {@link connect} checks before any I/O, and what it makes of
 * it: mistakes in the arguments, which no retry can fix, so that
 * `reconnect()` reports them before its first attempt too.
 *
 * @throws InvalidUri, TypeError, RangeError as {@link connect} documents them.
 */
export function checkConnectArguments(
  uri: string | URL,
  options: ConnectOptions,
): { target: WebSocketUri; headers: Headers; logger: Logger; resolved: ResolvedConnectionOptions } {
  checkOptionNames(options, CONNECT_OPTIONS, "connect()");
  // An unset environment variable (`connect(process.env.WS_URL)`) is the likely mistake.
  if (typeof uri !== "string" && !isUrlObject(uri)) {
    throw new TypeError(`connect() takes a URI, a string or a URL; got ${describeValue(uri)}`);
  }
  const target = parseUri(String(uri));
  // Node reads an empty path as none, and would connect to port 0 of this host instead.
  if (options.path !== undefined && (typeof options.path !== "string" || options.path === "")) {
    throw new TypeError(
      `connect()'s path must be the path of a Unix socket, a non-empty string; got ${describeValue(options.path)}`,
    );
  }
  if (options.socket !== undefined && (options.path !== undefined || options.proxy)) {
    throw new TypeError("connect() takes a socket, or a path or proxy to open one, not both");
  }
  checkClientFactories(options.extensions);
  checkProxySetting(options.proxy);
  const signal: unknown = options.signal;
  // An AbortSignal of another realm (a vm context) passes, as what has the
  // members used here does; `instanceof` would refuse it.
  if (signal != null && !isAbortSignalLike(signal)) {
    throw new TypeError(`signal must be an AbortSignal; got ${describeValue(signal)}`);
  }
  let headers: Headers;
  try {
    headers = new Headers(options.additionalHeaders);
  } catch (error) {
    // Named as the application gave them.
    if (error instanceof TypeError) throw new TypeError(`additionalHeaders: ${error.message}`);
    throw error;
  }
  for (const [name] of headers) {
    if (isHandshakeField(name)) {
      throw new TypeError(
        `additionalHeaders can't set ${name}: the handshake sets it (see the subprotocols and extensions options)`,
      );
    }
  }
  // Checked here even when additionalHeaders sets User-Agent for the
  // handshake: an HTTP proxy's CONNECT request carries it too, and a CR or LF
  // in it would start a header line of the caller's choosing there.
  checkHeaderOption(options.userAgent, "userAgent", "User-Agent");
  checkHeaderOption(options.origin, "origin", "Origin");
  checkMaxRedirects(options.maxRedirects);
  withDefaults(options.httpLimits ?? {});
  const logger = resolveLogger(options.logger);
  return { target, headers, logger, resolved: resolveConnectionOptions(options, logger) };
}

/**
 * @throws TypeError when `value` is neither a string, `null` nor `undefined`:
 *   `origin: 5` or `userAgent: false` would be sent as the text "5" or "false".
 * @throws InvalidHeaderFormat when a header can't carry the string.
 */
function checkHeaderOption(value: unknown, option: string, field: string): void {
  if (value == null) return;
  if (typeof value !== "string") {
    throw new TypeError(`${option} must be a string or null; got ${describeValue(value)}`);
  }
  new Headers().set(field, value);
}

/**
 * @throws RangeError unless `maxRedirects` is a whole number from 0 (or left
 *   out): with `-1` or `2.5`, the count would never reach it, and a server
 *   answering every request with a redirect would be asked again and again.
 */
function checkMaxRedirects(value: number | null | undefined): void {
  if (value == null || (Number.isSafeInteger(value) && value >= 0)) return;
  throw numberOptionError(
    value,
    `maxRedirects must be a whole number of redirects from 0; got ${describeValue(value)}`,
  );
}

/**
 * Connects to a WebSocket server and performs the opening handshake.
 *
 * ```ts
 * await using ws = await connect("ws://127.0.0.1:8001");
 * await ws.send("Hello!");
 * console.log(await ws.recvText());
 * ```
 *
 * User info in the URI (`ws://user:pass@host/`) is sent as HTTP Basic
 * authentication. Redirects are followed up to `maxRedirects`, never from
 * `wss://` to `ws://`; `Authorization` and `Cookie` headers and the user info
 * are dropped when a redirect leads to another origin (scheme, host or port).
 *
 * @throws TypeError for an unknown option (`pingIntervall`), naming the one
 *   meant when it is close.
 * @throws InvalidUri for a URI that is not `ws://` or `wss://`.
 * @throws RangeError for a duration option over 2147483647 ms, negative or
 *   NaN (`Infinity` means no limit, as `null` does), or a `maxRedirects`
 *   that isn't a whole number from 0; TypeError for a duration that is not a
 *   number, or `subprotocols` that are not an array of strings.
 * @throws InvalidHeaderFormat for a `userAgent` that a header can't carry.
 * @throws InvalidHandshake (InvalidStatus, InvalidHeader, NegotiationError, …)
 *   when the server refuses or answers wrongly; ProxyError when the proxy does.
 *   InvalidMessage says when the scheme looks wrong: a `wss://` server that
 *   does not answer with TLS, a `ws://` one that does or closes without a
 *   word (the original error as `cause`).
 * @throws SecurityError when the server's TLS certificate isn't trusted (the
 *   message carries OpenSSL's code, e.g. `UNABLE_TO_VERIFY_LEAF_SIGNATURE`, and
 *   `cause` the TLS error), on a redirect to `ws://` from `wss://`, or after
 *   too many redirects.
 * @throws TimeoutError after `openTimeout`; the signal's reason when aborted;
 *   the socket's error (e.g. `ECONNREFUSED`) when the TCP connection fails.
 */
export async function connect(
  uri: string | URL,
  options: ConnectOptions = {},
): Promise<ClientConnection> {
  const checked = checkConnectArguments(uri, options);
  let target = checked.target;
  options.signal?.throwIfAborted();
  let headers = checked.headers;
  const { logger, resolved } = checked;
  // A socket given is connected to one server: a redirect can't move it.
  const maxRedirects =
    options.socket !== undefined ? 0 : (options.maxRedirects ?? DEFAULT_MAX_REDIRECTS);
  const deadline = new OpeningDeadline(options.signal, resolved.openTimeout);
  let viaPath = options.path !== undefined;
  try {
    for (let redirects = 0; ; redirects++) {
      try {
        return await open(target, headers, viaPath, options, resolved, deadline.signal);
      } catch (error) {
        const location = redirectLocation(error);
        if (location === null || maxRedirects === 0) throw certificateError(error, target) ?? error;
        if (redirects === maxRedirects) {
          throw new SecurityError(`more than ${maxRedirects} redirects`, { cause: error });
        }
        const next = followRedirect(target, location, headers);
        logger.debug(
          `redirected from ${redactTarget(formatUri(target))} to ${redactTarget(formatUri(next.uri))}`,
        );
        target = next.uri;
        headers = next.headers;
        // The Unix socket serves the origin it was given for, not others.
        viaPath &&= next.sameOrigin;
      }
    }
  } finally {
    deadline.dispose();
  }
}

/** One attempt: opens a socket to `uri` and performs the handshake. */
async function open(
  uri: WebSocketUri,
  headers: Headers,
  viaPath: boolean,
  options: ConnectOptions,
  resolved: ResolvedConnectionOptions,
  signal: AbortSignal,
): Promise<ClientConnection> {
  const protocol = new ClientProtocol(uri, {
    origin: options.origin ?? null,
    subprotocols: options.subprotocols ?? [],
    requireSubprotocol: options.requireSubprotocol ?? false,
    extensions: clientExtensions(options),
    maxMessageSize: resolved.maxMessageSize,
    httpLimits: options.httpLimits ?? {},
    // Answers leave before a large frame behind the message is unmasked; see Connection.
    yieldBeforeLargeFrames: true,
    // The application answers the messages before a protocol error or a close frame: see Connection.
    deferFailureAfterMessages: true,
    deferCloseReplyAfterMessages: true,
  });
  // Every line starts with the URI: its query may carry a token.
  protocol.trace = connectionTracer(() => redactTarget(formatUri(uri)));
  const request = protocol.connect();
  const replaced = new Set<string>();
  for (const [name, value] of headers) {
    // RFC 9110 §7.2: a request has one Host (RFC 6454 §7.3, one Origin; RFC
    // 9110 §11.6.2, one set of credentials in Authorization): one given
    // replaces the URI's rather than join it. Several given are all sent, as
    // asked: the server's to refuse.
    const key = name.toLowerCase();
    if (REPLACING_FIELDS.has(key) && !replaced.has(key)) {
      request.headers.set(name, value);
      replaced.add(key);
    } else {
      request.headers.append(name, value);
    }
  }
  const userAgent = options.userAgent === undefined ? USER_AGENT : options.userAgent;
  if (userAgent !== null && !request.headers.has("User-Agent"))
    request.headers.set("User-Agent", userAgent);

  const proxy = viaPath || options.socket !== undefined ? null : resolveProxy(uri, options.proxy);
  // A socket reports a failure to bind or to look up the host (EADDRINUSE, a
  // lookup that calls back at once) from process.nextTick, before any promise
  // continuation: the connection must listen for 'error' in the turn the
  // socket is created, so no await comes between them.
  const socket =
    proxy === null
      ? directSocket(uri, viaPath, options)
      : overTunnel(
          uri,
          await tunnelSocket(uri, proxy, options, userAgent, signal, resolved.logger),
          options,
        );
  const connection = constructClientConnection(socket, protocol, resolved, request);
  if (uri.secure) connection.watchTlsHandshake(socket as tls.TLSSocket);
  // A tunnel arrives paused; reading starts now that the connection listens.
  socket.resume();
  protocol.sendRequest(request);
  // As Connection.write() does: the protocol reports its writes (writesRecycled).
  for (const chunk of protocol.dataToSend()) socket.write(chunk, recyclerOf(chunk));

  const onAbort = () => connection.abortHandshake(signal.reason);
  if (signal.aborted) onAbort();
  else signal.addEventListener("abort", onAbort, { once: true });
  try {
    await connection.handshake;
  } catch (error) {
    // Nothing more will come from a server that refused: don't wait for it to close.
    await connection.close();
    throw error;
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
  return connection;
}

/**
 * The socket to the server of `uri` when no proxy is involved: the socket
 * given, one to the Unix socket `path`, or a TCP connection; wrapped in TLS
 * for `wss://`. Returned while it connects: its errors reach the connection,
 * which reports them.
 */
function directSocket(uri: WebSocketUri, viaPath: boolean, options: ConnectOptions): net.Socket {
  const given = options.socket;
  if (given !== undefined) {
    // The closing handshake has each side half-close on its own (RFC 6455
    // §7.1.1), as the sockets this module opens are set up to.
    given.allowHalfOpen = true;
    return uri.secure ? tls.connect(clientTlsOptions(uri, { socket: given }, options.tls)) : given;
  }
  if (viaPath) {
    const path = options.path!;
    return uri.secure
      ? tls.connect(clientTlsOptions(uri, { path }, options.tls))
      : connectReadingDirectly({ path, allowHalfOpen: true });
  }
  return uri.secure
    ? tls.connect(clientTlsOptions(uri, { ...options.tcp, port: uri.port }, options.tls))
    : connectReadingDirectly({
        ...options.tcp,
        host: uri.host,
        port: uri.port,
        allowHalfOpen: true,
      });
}

/** A tunnel through `proxy` to the server of `uri`, open and paused. */
async function tunnelSocket(
  uri: WebSocketUri,
  proxy: URL,
  options: ConnectOptions,
  userAgent: string | null,
  signal: AbortSignal,
  logger: Logger,
): Promise<net.Socket> {
  logger.debug(`connecting to ${redactTarget(formatUri(uri))} through ${redactProxy(proxy)}`);
  const tunnel = await openTunnel(proxy, uri, {
    signal,
    tls: options.proxyTls,
    tcp: options.tcp,
    userAgent,
  });
  if (uri.secure && tunnel.readableLength > 0) {
    // The TLS layer reads the connection from the start of the tunnel: bytes
    // the proxy sent early would be lost, and nothing may come before TLS.
    tunnel.destroy();
    throw new ProxyError(`proxy ${redactProxy(proxy)} sent data before the TLS handshake`);
  }
  return tunnel;
}

/** The tunnel itself for `ws://`; for `wss://`, a TLS socket over it, returned while it connects. */
function overTunnel(uri: WebSocketUri, tunnel: net.Socket, options: ConnectOptions): net.Socket {
  if (!uri.secure) return tunnel;
  const socket = tls.connect(clientTlsOptions(uri, { socket: tunnel }, options.tls));
  // The TLS socket reports what happens to the tunnel under it.
  tunnel.on("error", (error) => socket.destroy(error));
  tunnel.on("close", () => socket.destroy());
  return socket;
}
