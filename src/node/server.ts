/**
 * The Node server: `serve(handler, options)` listens for TCP, TLS or Unix
 * socket connections, or takes them from an existing `node:http` server,
 * performs the opening handshake on each, and runs `handler` on every
 * {@link ServerConnection} that opens.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import * as http from "node:http";
import * as https from "node:https";
import * as net from "node:net";
import { performance } from "node:perf_hooks";
import type { Duplex } from "node:stream";
import * as tls from "node:tls";
import { inspect } from "node:util";
import { describeValue, kindOf } from "../core/describe-value.js";
import {
  ConnectionClosed,
  InvalidHandshake,
  InvalidMessage,
  InvalidState,
} from "../core/errors.js";
import type { ServerExtensionFactory } from "../core/extensions/base.js";
import { checkServerFactories } from "../core/extensions/check-factories.js";
import { checkSubprotocolsOption } from "../core/header-values.js";
import { appendParsedField, Headers, type HeadersInit, packHeaders } from "../core/headers.js";
import { type HttpLimits, withDefaults } from "../core/http-limits.js";
import type { Event } from "../core/protocol.js";
import type { Request } from "../core/request.js";
import { requestTargetPath } from "../core/request-target.js";
import { Response } from "../core/response.js";
import {
  checkOriginsOption,
  type OriginRule,
  ServerProtocol,
  type ServerProtocolOptions,
  type SubprotocolSelector,
  switchingProtocolsHeaders,
} from "../core/server.js";
import { State } from "../core/state.js";
import { reasonPhrase } from "../core/status.js";
import { type CompressionOptions, serverExtensions } from "./compression.js";
import {
  Connection,
  type ConnectionOptions,
  checkCloseArguments,
  DEFAULTS,
  isOwnedSocket,
  type ResolvedConnectionOptions,
  resolveConnectionOptions,
} from "./connection.js";
import { setDeadline } from "./deadline.js";
import { type Logger, resolveLogger } from "./logger.js";
import { checkOptionNames, SERVE_OPTIONS, SERVER_CLOSE_OPTIONS } from "./option-names.js";
import { matchRoute } from "./routing.js";
import { BYTES_TAKEN, bytesOf } from "./sendable-bytes.js";
import { serverTlsOptions, tcpSocketOf } from "./tls.js";
import { connectionTracer } from "./trace.js";
import { upgradeRequestBytes } from "./upgrade.js";
import { USER_AGENT } from "./version.js";

/**
 * Handles one connection; the connection closes (1000) when it returns, or
 * when its promise resolves, whatever the value (`async (ws) => ws.recv()`
 * is a handler), and (1011) when it throws or its promise rejects.
 */
// biome-ignore lint/suspicious/noConfusingVoidType: a return type; `undefined` would refuse handlers typed `: void`.
export type Handler = (connection: ServerConnection) => void | PromiseLike<unknown>;

/**
 * What a connection keeps of the plain 101 it sent with extensions: the
 * values its `response` can't rebuild from the request and the protocol.
 */
class PlainResponse {
  constructor(
    readonly date: string,
    readonly extensions: string,
  ) {}
}

/** An HTTP response given as plain data, for {@link ServeOptions.processRequest}. */
export interface HttpResponseInit {
  /**
   * The status code of a final response, 200–599, e.g. 401; the reason
   * phrase is the standard one.
   */
  status: number;
  /**
   * Header fields. `Content-Length` (except for 204 and 304, which have no
   * body) and `Connection: close` are added unless given, and so is
   * `Content-Type: text/plain; charset=utf-8` for a body.
   */
  headers?: HeadersInit | undefined;
  /** The body; a string is sent as UTF-8. Default: none. */
  body?: string | Uint8Array | undefined;
}

/** What {@link ProcessRequest} and {@link ProcessResponse} answer: a response, or nothing. */
export type HookAnswer = Response | HttpResponseInit | null | undefined;

/**
 * Called with each handshake request before it is validated. Returning a
 * response (a {@link Response} or `{ status, headers?, body? }`) sends it
 * instead of completing the handshake: health checks, authentication,
 * redirects. Returning nothing (`null` or `undefined`) proceeds with the
 * handshake. Throwing, or returning anything else (`false`, a string, …),
 * answers 500 and logs the error.
 */
export type ProcessRequest = (
  connection: ServerConnection,
  request: Request,
) => HookAnswer | Promise<HookAnswer>;

/**
 * Called with the 101 response about to be sent; may modify it, or return a
 * replacement (a {@link Response} or `{ status, headers?, body? }`). Returning
 * nothing (`null` or `undefined`) sends the 101. Throwing, or returning
 * anything else, answers 500 and logs the error.
 */
export type ProcessResponse = (
  connection: ServerConnection,
  request: Request,
  response: Response,
) => HookAnswer | Promise<HookAnswer>;

/** Options of {@link serve}. */
export interface ServeOptions extends ConnectionOptions, CompressionOptions {
  /** Interface to listen on. Default: every interface. */
  host?: string | undefined;
  /** Port to listen on; 0 picks a free one (`server.address()` tells which). Default: 0. */
  port?: number | undefined;
  /** Path of a Unix domain socket to listen on, instead of `host` and `port`. */
  path?: string | undefined;
  /** Maximum length of the queue of pending TCP connections. */
  backlog?: number | undefined;
  /**
   * Serves `wss://`: options for `tls.createServer()`, at least `key` and
   * `cert` (or `pfx`). `handshakeTimeout` defaults to `openTimeout`.
   */
  tls?: tls.TlsOptions | undefined;
  /**
   * An existing server to take connections from, instead of listening:
   * from a `node:http` or `node:https` server, its `upgrade` requests (it
   * keeps answering the others); from a `tls.Server`, its secure connections;
   * from a `net.Server`, its connections. `serve()` neither starts nor stops
   * it: listen on it yourself, before or after.
   */
  server?: net.Server | undefined;
  /**
   * `false` opens no listening socket: the server only takes the requests
   * given to {@link Server.handleUpgrade}. Default: `true`.
   */
  listen?: boolean | undefined;
  /** Allowed `Origin` values; `null` in the list allows requests without one. Default: any. */
  origins?: readonly OriginRule[] | undefined;
  /** Subprotocols supported, in order of preference; when set, clients must offer one. */
  subprotocols?: readonly string[] | undefined;
  /** Picks the subprotocol instead of the default rule. */
  selectSubprotocol?: SubprotocolSelector | undefined;
  /** Extensions supported, in order of preference. */
  extensions?: readonly ServerExtensionFactory[] | undefined;
  /** Sync or async hook that may answer a request with plain HTTP; see {@link ProcessRequest}. */
  processRequest?: ProcessRequest | undefined;
  /** Sync or async hook that may change the 101 response; see {@link ProcessResponse}. */
  processResponse?: ProcessResponse | undefined;
  /**
   * `Server` header of responses; `null` omits it. Default: `websockets-ts/<version>`.
   * A value that can't be a field value (a control character, …) makes `serve()` throw.
   */
  serverHeader?: string | null | undefined;
  /** Limits on the client's handshake request. */
  httpLimits?: HttpLimits | undefined;
}

/** The `params` of connections that no route with parameters matched, shared by all of them. */
const NO_PARAMS: Readonly<Record<string, string>> = Object.freeze({});

const INTERNAL_ERROR_TEXT =
  "Failed to open a WebSocket connection.\nSee server log for more information.\n";

// Set by the static block of ServerConnection, where they reach its server.
// Shared by every connection, and bound to each (`this` is the connection):
// a bound function without arguments costs less than a closure and its context.
let handlerReturned: (this: ServerConnection) => void;
let handlerThrew: (this: ServerConnection, error: unknown) => void;
/**
 * The servers given to `serve({ server })` and not yet closed. Two on one
 * would both answer each handshake on the same socket, and the first, whose
 * connection never saw its socket close, would never finish closing.
 */
const attachedServers = new WeakSet<net.Server>();
/** Times out the handshakes whose `openTimeout` ran out; set by the static block of Server. */
let sweepHandshakes: (server: Server) => void;
// The constructors of ServerConnection and Server are private, so that the
// published typings offer applications no `new` (they get both from serve());
// the static blocks, which may call them, set these for the rest of the module.
let constructServerConnection: (
  socket: net.Socket,
  server: Server,
  options: ResolvedConnectionOptions,
  protocol: ServerProtocol,
) => ServerConnection;
let constructServer: (
  handler: Handler,
  options: ServeOptions,
  netServer: net.Server | null,
  ownsNetServer: boolean,
) => Server;
/** Addresses that bind every address of the machine (IPv4-mapped `0.0.0.0` included). */
const WILDCARD_ADDRESSES = new Set(["::", "0.0.0.0", "::ffff:0.0.0.0"]);
let noteBoundAddress: (server: Server, address: net.AddressInfo | string | null) => void;

/** A connection accepted by {@link serve}. */
export class ServerConnection extends Connection {
  /** The sans-I/O server protocol this connection drives. */
  declare readonly protocol: ServerProtocol;
  /** Free for the application: e.g. the user authenticated in `processRequest` or by `basicAuth()`. */
  username: string | null = null;
  /** Values of the `:name` segments of the pattern that `route()` matched. */
  params: Readonly<Record<string, string>> = NO_PARAMS;

  private readonly server: Server;
  /**
   * The handshake response once sent, or, for the plain 101 that most
   * handshakes get (the protocol's own, unchanged by any hook), just what
   * can't be rebuilt: the value of its `Date` header, and that of its
   * `Sec-WebSocket-Extensions` when it has one (a {@link PlainResponse}).
   * {@link response} rebuilds the rest from the request and the protocol
   * when asked. Few applications read the response, and every idle
   * connection would keep it: some 270 bytes, 400 with compression.
   */
  private sent: Response | PlainResponse | string | null = null;

  /** Not for applications: {@link serve} gives them their connections. */
  private constructor(
    socket: net.Socket,
    server: Server,
    options: ResolvedConnectionOptions,
    protocol: ServerProtocol,
  ) {
    super(socket, protocol, options);
    this.server = server;
  }

  /**
   * The peer's address and the request's path: "203.0.113.7:51234 /chat".
   * Only the path: the query may carry a token, and an absolute-form target
   * (RFC 9112 §3.2.2) user info.
   */
  protected override logContext(): string {
    const peer = super.logContext();
    const target = this.protocol.request?.path;
    let path = target === undefined ? null : requestTargetPath(target);
    if (path === null) return peer;
    // A fragment has no place in a request target, and no business in a log.
    const fragment = path.indexOf("#");
    if (fragment !== -1) path = path.slice(0, fragment);
    return peer === "" ? path : `${peer} ${path}`;
  }

  /**
   * The handshake request. The connection reaches no hook and no handler
   * before it is received: typed without `null` for them.
   */
  get request(): Request {
    // The protocol keeps it; a field here would be a second reference on
    // every connection.
    return this.protocol.request!;
  }

  /** The subprotocol selected during the handshake, or `null`. */
  get subprotocol(): string | null {
    return this.protocol.subprotocol;
  }

  /** The handshake response, once sent. */
  get response(): Response | null {
    const sent = this.sent;
    if (sent === null || sent instanceof Response) return sent;
    // A plain 101: no hook changed it (see completeHandshake()).
    const [date, extensions] =
      typeof sent === "string" ? [sent, null] : [sent.date, sent.extensions];
    const key = this.request.headers.get("Sec-WebSocket-Key")!;
    const response = new Response(
      101,
      reasonPhrase(101),
      switchingProtocolsHeaders(key, extensions, this.protocol.subprotocol),
    );
    stampHeaders(response, this.server.serverHeader, date);
    this.sent = response;
    return response;
  }

  set response(response: Response | null) {
    this.sent = response;
  }

  /**
   * A socket accepted by a server bound to one address has that address as
   * its own: the connection then saves the `getsockname()` system call it
   * makes before the socket closes (after which Node forgets the address),
   * some 5 µs of a handshake's 110 on this project's machines.
   */
  protected override knownLocalAddress(): net.AddressInfo | null {
    return this.server.localAddressOf(this.socket);
  }

  /** @internal Called by the server once `openTimeout` passed since the connection came. */
  openTimedOut(): void {
    if (this.protocol.state === State.CONNECTING && !this.lost) {
      this.logger.debug(this.logMessage("opening handshake timed out"));
      this.socket.destroy();
    }
  }

  /**
   * @internal As the server shuts down: answers a handshake in progress with
   * 503, and drops a connection whose client has sent nothing yet.
   */
  rejectHandshake(): void {
    if (this.protocol.state !== State.CONNECTING || this.lost || this.sent !== null) return;
    if (this.protocol.request === null && this.socket.bytesRead === 0) {
      // No request started: closed like an idle HTTP connection, without a
      // response, which would then wait up to closeTimeout for a client that
      // may never close its side.
      this.socket.destroy();
      return;
    }
    try {
      this.sendHandshakeResponse(this.protocol.reject(503, "Server is shutting down.\n"), false);
    } catch {
      this.socket.destroy();
    }
  }

  /** @internal Feeds bytes read from the socket before this connection took it over. */
  receiveEarlyData(data: Uint8Array): void {
    this.protocol.decodedMessageBudget = this.messages.room;
    this.protocol.receiveData(data);
    this.processEvents();
  }

  /**
   * Answers the handshake request: routes it, runs the `processRequest` and
   * `processResponse` hooks if any, and sends the response: 404 when no
   * route matches, 500 when something throws.
   */
  protected handleHandshakeEvent(event: Event): void {
    const request = event as Request;
    const options = this.server.options;
    if (options.processRequest || options.processResponse) {
      // Bytes that arrive before the response wait for it in the protocol.
      // RFC 6455 §4.1: "the client MUST wait for a response from the server
      // before sending any further data", but a hostile one doesn't, and the
      // hooks may take up to openTimeout: stop reading until the response is
      // sent, so that what it sends waits in TCP buffers, not in ours.
      this.socket.pause();
      void this.completeHandshake(request);
      return;
    }
    // Without hooks to wait for, the handshake completes now, without the
    // promise and the suspension of an async function.
    let response: Response;
    let plain = false;
    try {
      response = this.route(request) ?? this.protocol.accept(request);
      plain = response.status === 101;
    } catch (error) {
      this.logger.error(this.logMessage("opening handshake failed"), error);
      response = this.protocol.reject(500, INTERNAL_ERROR_TEXT);
    }
    this.finishHandshake(request, response, plain);
  }

  /** Sets {@link params} from the route that matches; a 404 response when none does. */
  private route(request: Request): Response | null {
    const route = matchRoute(this.server.handler, request.path);
    if (route === null) return toResponse({ status: 404, body: "Not Found.\n" });
    if (route !== undefined) this.params = route.params;
    return null;
  }

  /** Removes the connection from its server's. */
  protected override onConnectionLost(): void {
    this.server.forget(this);
    // A request the protocol couldn't parse was answered by the protocol
    // itself, without an event: logged here, as the other refusals are in
    // finishHandshake(). Nothing was written to a client that left first.
    const error = this.protocol.handshakeExc;
    if (
      this.protocol.request === null &&
      this.sent === null &&
      error instanceof InvalidMessage &&
      this.socket.bytesWritten > 0
    ) {
      this.logger.info(this.logMessage(`connection rejected (${error.status}): ${error.message}`));
    }
  }

  /** Completes the handshake of a server with `processRequest` or `processResponse` hooks. */
  private async completeHandshake(request: Request): Promise<void> {
    const options = this.server.options;
    let response: Response | null = null;
    /** Whether the response is the protocol's 101, unchanged by any hook. */
    let plain = false;
    try {
      response = this.route(request);
      if (response === null && options.processRequest) {
        const answer = await options.processRequest(this, request);
        response = hookResponse(answer, "processRequest");
      }
      if (response === null) {
        response = this.protocol.accept(request);
        plain = response.status === 101;
      }
      if (response.status === 101 && options.processResponse) {
        plain = false;
        const answer = await options.processResponse(this, request, response);
        response = hookResponse(answer, "processResponse") ?? response;
      }
    } catch (error) {
      this.logger.error(this.logMessage("opening handshake failed"), error);
      plain = false;
      response = this.protocol.reject(500, INTERNAL_ERROR_TEXT);
    }
    // Nobody awaits this method (see handleHandshakeEvent()): whatever goes
    // wrong from here on must not become an unhandled rejection.
    try {
      this.finishHandshake(request, response, plain);
    } catch (error) {
      this.logger.error(this.logMessage("opening handshake failed"), error);
      this.socket.destroy();
    }
  }

  /**
   * Sends the response unless the connection was lost or answered meanwhile,
   * and starts the handler if it opened the connection. `plain`: the
   * response is the protocol's 101, unchanged by any hook.
   */
  private finishHandshake(request: Request, response: Response, plain: boolean): void {
    if (this.lost || this.sent !== null) return;
    if (this.server.isClosing) {
      plain = false;
      response = this.protocol.reject(503, "Server is shutting down.\n");
    }
    const exc = this.protocol.handshakeExc;
    if (response.status !== 101 && exc) {
      // A client's mistake is news; an error of the server's own, such as a
      // throwing selectSubprotocol or extension factory, is a bug its 500
      // tells the client to look for in the server's log.
      if (exc instanceof InvalidHandshake) {
        this.logger.info(
          this.logMessage(`connection rejected (${response.status}): ${exc.message}`),
        );
      } else {
        this.logger.error(this.logMessage("opening handshake failed"), exc);
      }
    }
    this.sendHandshakeResponse(response, plain);
    if (this.protocol.state === State.OPEN) {
      // Kept for `request`, and seldom read once open.
      packHeaders(request.headers);
      this.startKeepalive();
      this.server.run(this);
    }
    // An end of stream held back while hooks ran (see onEnd()) comes after
    // the response and the bytes that preceded it, as it does without hooks.
    if (this.socket.readableEnded) super.onEnd();
  }

  /**
   * The peer half-closed the connection. While `processRequest` or
   * `processResponse` runs, it waits, as the bytes before it do (see
   * {@link handleHandshakeEvent}): the protocol would otherwise close a
   * connection whose 101 is still to be sent, and the handler would never
   * get the messages that came with the request.
   */
  protected override onEnd(): void {
    if (this.protocol.state === State.CONNECTING && this.protocol.request !== null) return;
    super.onEnd();
  }

  /**
   * Sends the response; a `plain` one (see {@link sent}) is kept as its date
   * alone, which {@link response} rebuilds it from.
   */
  private sendHandshakeResponse(response: Response, plain: boolean): void {
    const date = httpDate();
    if (plain) {
      // The protocol's 101 has neither field, and both values are valid.
      const serverHeader = this.server.serverHeader;
      if (serverHeader !== null) appendParsedField(response.headers, "Server", serverHeader);
      appendParsedField(response.headers, "Date", date);
    } else {
      stampHeaders(response, this.server.serverHeader, date);
    }
    if (plain) {
      const extensions = response.headers.get("Sec-WebSocket-Extensions");
      this.sent = extensions === undefined ? date : new PlainResponse(date, extensions);
    } else {
      this.sent = response;
    }
    // Reading was paused while hooks ran; a refused client is read to its end.
    this.socket.resume();
    this.protocol.sendResponse(response);
    this.processEvents();
  }

  static {
    constructServerConnection = (socket, server, options, protocol) =>
      new ServerConnection(socket, server, options, protocol);
    handlerReturned = function (this: ServerConnection): void {
      this.server.afterHandler(this, 1000);
    };
    handlerThrew = function (this: ServerConnection, error: unknown): void {
      this.server.afterHandler(this, this.server.handlerFailed(this, error));
    };
  }
}

/** Adds the `Server` and `Date` headers every response gets, unless already there. */
function stampHeaders(response: Response, serverHeader: string | null, date: string): void {
  if (serverHeader !== null && !response.headers.has("Server"))
    response.headers.set("Server", serverHeader);
  if (!response.headers.has("Date")) response.headers.set("Date", date);
}

let dateSecond = -1;
let dateText = "";

/** The current time for a `Date` header (RFC 9110 §5.6.7), formatted at most once a second. */
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(now).toUTCString();
  }
  return dateText;
}

/**
 * The response a hook returned, or `null` when it returned nothing.
 *
 * @throws TypeError when it returned neither a {@link Response} nor an
 *   {@link HttpResponseInit}: a bug in the hook, which the client gets 500 for.
 */
function hookResponse(answer: unknown, hook: string): Response | null {
  if (answer === null || answer === undefined) return null;
  if (answer instanceof Response) return answer;
  if (isResponseInit(answer)) {
    // Built from plain data, a 101 has neither Upgrade nor Sec-WebSocket-Accept
    // (RFC 6455 §4.2.2), and it would skip the request's validation: the
    // connection would open on a handshake no client can accept.
    if (answer.status === 101) {
      throw new TypeError(
        `${hook} returned { status: 101 }; return nothing to complete the handshake`,
      );
    }
    // RFC 9110 §15.2: a 1xx is interim; the client would go on waiting for
    // the final response that the server, closing, never sends.
    if (answer.status >= 100 && answer.status < 200) {
      throw new TypeError(`${hook} returned { status: ${answer.status} }: not a final response`);
    }
    return toResponse(answer);
  }
  throw new TypeError(
    `${hook} returned ${inspect(answer, { depth: 1, breakLength: Number.POSITIVE_INFINITY })}, ` +
      "not a Response, { status, headers?, body? }, null or undefined",
  );
}

/** Whether `value` has the shape of an {@link HttpResponseInit}; its values are checked later. */
function isResponseInit(value: unknown): value is HttpResponseInit {
  if (typeof value !== "object" || value === null) return false;
  const { status, body } = value as Partial<Record<keyof HttpResponseInit, unknown>>;
  return (
    typeof status === "number" &&
    (body === undefined || typeof body === "string" || body instanceof Uint8Array)
  );
}

function toResponse(answer: Response | HttpResponseInit): Response {
  if (answer instanceof Response) return answer;
  const headers = new Headers(answer.headers);
  const body =
    typeof answer.body === "string"
      ? new TextEncoder().encode(answer.body)
      : (answer.body ?? new Uint8Array(0));
  // RFC 9112 §6.3: a 204 or 304 response ends with its header section, and
  // RFC 9110 §8.6: "A server MUST NOT send a Content-Length header field in
  // any response with a status code of … 204 (No Content)".
  if (answer.status === 204 || answer.status === 304) {
    if (body.length > 0) {
      throw new TypeError(`a ${answer.status} response has no body; got ${body.length} bytes`);
    }
  } else if (!headers.has("Content-Length")) {
    headers.set("Content-Length", String(body.length));
  }
  if (!headers.has("Connection")) headers.set("Connection", "close");
  if (body.length > 0 && !headers.has("Content-Type"))
    headers.set("Content-Type", "text/plain; charset=utf-8");
  return new Response(answer.status, reasonPhrase(answer.status), headers, body);
}

/** Options of {@link Server.close}. */
export interface ServerCloseOptions {
  /** Close code sent to open connections. Default: 1001 (going away). */
  code?: number | undefined;
  /** Close reason sent to open connections. Default: empty. */
  reason?: string | undefined;
}

/** A WebSocket server, returned by {@link serve}. */
export class Server implements AsyncDisposable {
  /**
   * Connections whose handshake completed and that are not closed yet. Read
   * only: the server adds and removes them itself.
   */
  get connections(): ReadonlySet<ServerConnection> {
    return this.openConnections;
  }
  private readonly openConnections = new Set<ServerConnection>();
  /** Resolves once the server closed and every handler returned. */
  readonly closed: Promise<void>;
  /** @internal */
  readonly options: ServeOptions;
  /** @internal */
  readonly serverHeader: string | null;
  /** @internal */
  readonly handler: Handler;

  /** The server connections come from, if any. */
  private readonly netServer: net.Server | null;
  /** Whether `serve()` created {@link netServer}, and so closes it. */
  private readonly ownsNetServer: boolean;
  private readonly detach: () => void;
  private readonly logger: Logger;
  private readonly resolved: ResolvedConnectionOptions;
  /** One options object for every connection's protocol, which only reads it. */
  private readonly protocolOptions: ServerProtocolOptions;
  /**
   * Connections in their opening handshake, with the time (`performance.now()`,
   * whole milliseconds) when `openTimeout` runs out for each. A Map iterates
   * in insertion order, which is the order of these deadlines: one timer,
   * armed for the first, serves them all (see {@link sweepHandshakes}), where
   * a timer per connection would be set and cleared on every handshake.
   */
  private readonly handshaking = new Map<ServerConnection, number>();
  /**
   * TCP sockets that a `tls.Server` accepted and whose TLS handshake is in
   * progress: no connection yet, and Node lists them nowhere else. {@link close}
   * drops them, as they would otherwise hold it until `openTimeout`.
   */
  private readonly tlsHandshakes = new Set<net.Socket>();
  /**
   * The address {@link netServer} listens on when `serve()` created it for
   * plain TCP on one address, not a wildcard: every socket it accepts has
   * this local address. `null` otherwise.
   */
  private boundAddress: net.AddressInfo | null = null;
  /** Armed for the first deadline in {@link handshaking} while there is one. */
  private openTimer: NodeJS.Timeout | null = null;
  /**
   * How many handlers are running: a count rather than a collection of their
   * promises, which would keep an entry per idle connection.
   */
  private runningHandlers = 0;
  /** Set by {@link close} while it waits for the last handler to return. */
  private resolveHandlersDone: (() => void) | null = null;
  private closing: Promise<void> | null = null;
  private resolveClosed!: () => void;

  /** Not for applications: use {@link serve}. */
  private constructor(
    handler: Handler,
    options: ServeOptions,
    netServer: net.Server | null,
    ownsNetServer: boolean,
  ) {
    // Checked now: each would otherwise fail every handshake, with an
    // internal TypeError in the log and a 500 or a 1011 for the client.
    if (typeof handler !== "function") {
      throw new TypeError(
        `serve() takes a handler, a function of the connection; got ${describeValue(handler)}`,
      );
    }
    for (const name of ["processRequest", "processResponse", "selectSubprotocol"] as const) {
      const hook: unknown = options[name];
      if (hook != null && typeof hook !== "function") {
        throw new TypeError(`${name} must be a function; got ${describeValue(hook)}`);
      }
    }
    checkOriginsOption(options.origins);
    checkServerFactories(options.extensions);
    this.handler = handler;
    this.options = options;
    this.netServer = netServer;
    this.ownsNetServer = ownsNetServer;
    this.logger = resolveLogger(options.logger);
    this.resolved = resolveConnectionOptions(options, this.logger);
    checkSubprotocolsOption(options.subprotocols);
    this.protocolOptions = {
      origins: options.origins ?? null,
      subprotocols: options.subprotocols ?? [],
      ...(options.selectSubprotocol ? { selectSubprotocol: options.selectSubprotocol } : {}),
      extensions: serverExtensions(options),
      maxMessageSize: this.resolved.maxMessageSize,
      // Checked now, not at the first handshake.
      httpLimits: withDefaults(options.httpLimits ?? {}),
      // Answers leave before a large frame behind the message is unmasked; see Connection.
      yieldBeforeLargeFrames: true,
      // Handlers answer the messages before a protocol error or a close frame: see Connection.
      deferFailureAfterMessages: true,
      deferCloseReplyAfterMessages: true,
      // The answer to a request the protocol can't parse gets them too.
      completeResponse: (response) => stampHeaders(response, this.serverHeader, httpDate()),
    };
    this.serverHeader = options.serverHeader === undefined ? USER_AGENT : options.serverHeader;
    // Checked once here, rather than as each response gets it.
    if (this.serverHeader !== null) new Headers().set("Server", this.serverHeader);
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
    this.detach = netServer === null ? () => {} : this.attach(netServer);
  }

  /**
   * @internal The local address of `socket` when it is known without a
   * system call: {@link boundAddress}, for the sockets its server accepted.
   */
  localAddressOf(socket: net.Socket): net.AddressInfo | null {
    const bound = this.boundAddress;
    // Node sets `server` on the sockets a net.Server accepts. A copy: the
    // application may change the object it is given.
    if (bound === null || (socket as { server?: unknown }).server !== this.netServer) return null;
    return { address: bound.address, family: bound.family, port: bound.port };
  }

  /** Whether {@link close} was called. */
  get isClosing(): boolean {
    return this.closing !== null;
  }

  /**
   * The address the server listens on: host, family and port, or a path for
   * a Unix socket; `null` when it doesn't listen (`listen: false`, or a
   * `server` that isn't listening yet).
   */
  address(): net.AddressInfo | string | null {
    return this.netServer?.address() ?? null;
  }

  /** Resolves when the server is closed: `await server.serveForever()` keeps a program serving. */
  serveForever(): Promise<void> {
    return this.closed;
  }

  /**
   * Takes over a request that a `node:http` or `node:https` server emitted
   * as `upgrade`, for applications that route upgrades themselves: the
   * request goes through the same validation, hooks and handler as the
   * connections `serve()` accepts, and the response is written to `socket`.
   *
   * ```ts
   * const chat = await serve(handler, { listen: false });
   * httpServer.on("upgrade", (request, socket, head) => {
   *   if (request.url === "/chat") chat.handleUpgrade(request, socket, head);
   *   else socket.destroy();
   * });
   * ```
   *
   * A socket that is closed already, or that the client half-closed, is
   * destroyed: the client reset the connection, or gave up, while the
   * application awaited something before calling this. After {@link close},
   * the client gets 503.
   *
   * @param head the bytes Node read past the request: the first frames, if the client was quick.
   * @throws TypeError when `socket` is not a `net.Socket` (or `tls.TLSSocket`).
   * @throws InvalidState when `socket` was given to `handleUpgrade()` already,
   *   of this server or another: two `'upgrade'` listeners that both call it,
   *   or one beside a server made with `serve({ server })`, which listens itself.
   */
  handleUpgrade(request: http.IncomingMessage, socket: Duplex, head?: Uint8Array): void {
    if (!(socket instanceof net.Socket)) {
      throw new TypeError("handleUpgrade() takes the net.Socket of an upgrade event");
    }
    // A second connection on the socket would answer the request again and
    // take the socket's events from the first, which would never close.
    if (isOwnedSocket(socket)) {
      throw new InvalidState("handleUpgrade() was given a socket that it already upgraded");
    }
    if (socket.destroyed || !socket.readable || !socket.writable) {
      // No answer reaches a client that is gone, and one that half-closed
      // can send nothing more, not even a close frame: the handler never
      // runs. Node emitted 'end' or 'close' before anyone listened, so a
      // connection waiting for them would wait for good.
      // The path only, as in a connection's log lines: the query may carry a token.
      const path = requestTargetPath(request.url ?? "") ?? "";
      this.logger.debug(`connection closed before handleUpgrade() (${path})`);
      socket.destroy();
      return;
    }
    if (this.closing !== null) {
      const response = toResponse({ status: 503, body: "Server is shutting down.\n" });
      stampHeaders(response, this.serverHeader, httpDate());
      refuse(socket, response, this.resolved.closeTimeout);
      return;
    }
    // Node's HTTP server may have set an idle timeout on the socket; from now
    // on the WebSocket timeouts and keepalive pings apply instead.
    socket.setTimeout(0);
    const connection = this.accept(socket);
    connection?.receiveEarlyData(upgradeRequestBytes(request, head ?? new Uint8Array(0)));
  }

  /**
   * Shuts down: stops taking connections (it stops listening, or detaches
   * from the `server` it was given, which keeps running), answers handshakes
   * in progress with 503, closes open connections with `code` (1001 by
   * default), and resolves once every handler has returned and every
   * connection is closed.
   *
   * A code or reason that `connection.close()` would refuse (see there), or
   * an unknown option, rejects at once, with the server still serving:
   * nothing is stopped.
   */
  close(options: ServerCloseOptions = {}): Promise<void> {
    let code: number;
    let reason: string;
    try {
      checkOptionNames(options, SERVER_CLOSE_OPTIONS, "server.close()");
      code = options.code ?? 1001;
      reason = options.reason ?? "";
      checkCloseArguments(code, reason);
    } catch (error) {
      return Promise.reject(error);
    }
    this.closing ??= this.shutDown(code, reason);
    return this.closing;
  }

  /** `await using` support. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** @internal Runs the handler on a connection that just opened. */
  run(connection: ServerConnection): void {
    this.handshaking.delete(connection);
    this.openConnections.add(connection);
    let returned: ReturnType<Handler>;
    try {
      returned = this.handler(connection);
    } catch (error) {
      returned = Promise.reject(error);
    }
    this.runningHandlers++;
    // Callbacks rather than an async function: a suspended async function
    // costs a few hundred bytes more on every idle connection.
    void Promise.resolve(returned).then(
      handlerReturned.bind(connection),
      handlerThrew.bind(connection),
    );
  }

  /** @internal Logs how a handler failed; returns the close code the connection gets. */
  handlerFailed(connection: ServerConnection, error: unknown): number {
    if (error instanceof ConnectionClosed) {
      this.logger.debug(
        connection.logMessage("connection handler ended by a closed connection"),
        error,
      );
      return 1000;
    }
    this.logger.error(connection.logMessage("connection handler failed"), error);
    return 1011;
  }

  /** @internal Closes the connection whose handler returned (1000) or threw (1011). */
  afterHandler(connection: ServerConnection, code: number): void {
    // Most handlers return because their connection closed: nothing to
    // wait for. Callbacks rather than an async function, which would cost
    // every handshake some 900 bytes of garbage for the common case.
    if (connection.state === State.CLOSED) this.handlerDone();
    else connection.close(code).then(this.handlerDone, this.handlerDone);
  }

  /**
   * Counts a handler done, once it returned and its connection's closing
   * handshake is over (its socket may close a moment later: `close()` waits
   * for that through {@link connections}).
   */
  private readonly handlerDone = (): void => {
    this.runningHandlers--;
    if (this.runningHandlers === 0) this.resolveHandlersDone?.();
  };

  /** @internal Drops a closed connection. */
  forget(connection: ServerConnection): void {
    this.handshaking.delete(connection);
    this.openConnections.delete(connection);
  }

  /**
   * Listens to the events of `netServer` that bring connections; returns how to stop.
   *
   * @throws InvalidState when another server takes `netServer`'s connections:
   *   both would answer every handshake on the same socket.
   */
  private attach(netServer: net.Server): () => void {
    if (attachedServers.has(netServer)) {
      throw new InvalidState(
        "serve() was given a server that another serve() takes connections from; close that one first",
      );
    }
    attachedServers.add(netServer);
    const stopListening = this.listen(netServer);
    return () => {
      stopListening();
      attachedServers.delete(netServer);
    };
  }

  /** {@link attach}'s listeners; returns how to remove them. */
  private listen(netServer: net.Server): () => void {
    if (netServer instanceof http.Server || netServer instanceof https.Server) {
      const onUpgrade = (request: http.IncomingMessage, socket: Duplex, head: Buffer) =>
        this.handleUpgrade(request, socket, head);
      netServer.on("upgrade", onUpgrade);
      return () => netServer.off("upgrade", onUpgrade);
    }
    if (netServer instanceof tls.Server) {
      const tlsHandshakes = this.tlsHandshakes;
      // One listener for every socket (`this`), rather than a closure for each.
      const forgetTlsHandshake = function (this: net.Socket): void {
        tlsHandshakes.delete(this);
      };
      // After Node's own listener, which started the TLS handshake on the socket.
      const onConnection = (socket: net.Socket) => {
        if (this.closing !== null) {
          socket.destroy();
          return;
        }
        tlsHandshakes.add(socket);
        socket.on("close", forgetTlsHandshake);
      };
      const onSecureConnection = (socket: tls.TLSSocket) => {
        const tcpSocket = tcpSocketOf(socket);
        if (tcpSocket !== null && tlsHandshakes.delete(tcpSocket)) {
          tcpSocket.off("close", forgetTlsHandshake);
        }
        this.acceptSecure(socket);
      };
      const onTlsError = (error: Error, socket: tls.TLSSocket) => {
        this.logger.debug("TLS handshake failed", error);
        // Node destroys the socket after most TLS errors, but not after
        // ERR_TLS_HANDSHAKE_TIMEOUT: a client that stalls its handshake would
        // hold the socket for good, and close() would wait for it.
        socket.destroy();
      };
      netServer.on("connection", onConnection);
      netServer.on("secureConnection", onSecureConnection);
      netServer.on("tlsClientError", onTlsError);
      return () => {
        netServer.off("connection", onConnection);
        netServer.off("secureConnection", onSecureConnection);
        netServer.off("tlsClientError", onTlsError);
      };
    }
    // The sockets of a server given to serve() read as Node has them read:
    // their 'data' events may have other listeners.
    const accept = this.ownsNetServer ? this.acceptReadingDirectly : this.accept;
    netServer.on("connection", accept);
    return () => netServer.off("connection", accept);
  }

  private acceptSecure(socket: tls.TLSSocket): void {
    // See serve(): half-open sockets only once the TLS handshake succeeded.
    socket.allowHalfOpen = true;
    this.accept(socket);
  }

  /**
   * Accepts a socket of a plain TCP or Unix socket server, whose large
   * payloads are then read straight into their memory (see `direct-reads.ts`).
   */
  private readonly acceptReadingDirectly = (socket: net.Socket): void => {
    this.accept(socket)?.readDirectlyWhenLarge();
  };

  private readonly accept = (socket: net.Socket): ServerConnection | null => {
    if (this.closing !== null) {
      socket.destroy();
      return null;
    }
    const protocol = new ServerProtocol(this.protocolOptions);
    protocol.trace = connectionTracer(() => peerLabel(socket));
    const connection = constructServerConnection(socket, this, this.resolved, protocol);
    const openTimeout = this.resolved.openTimeout;
    if (openTimeout === null) {
      // No timer is armed: the deadline is never read.
      this.handshaking.set(connection, Number.POSITIVE_INFINITY);
    } else {
      // Slowloris protection: a handshake that dribbles in never ties up a socket for long.
      this.handshaking.set(connection, Math.ceil(performance.now()) + openTimeout);
      if (this.openTimer === null) this.armOpenTimer(openTimeout);
    }
    return connection;
  };

  private armOpenTimer(delay: number): void {
    // A deadline: a request that came in time but sits unread after a stall of the event loop counts.
    this.openTimer = setDeadline(sweepHandshakes, delay, this);
    this.openTimer.unref();
  }

  static {
    constructServer = (handler, options, netServer, ownsNetServer) =>
      new Server(handler, options, netServer, ownsNetServer);
    noteBoundAddress = (server, address) => {
      // A wildcard (the default `::`, or `0.0.0.0`) takes connections for
      // every address of the machine: each socket has its own. A Unix socket
      // (a string) has none.
      if (address === null || typeof address === "string") return;
      if (WILDCARD_ADDRESSES.has(address.address)) return;
      server.boundAddress = {
        address: address.address,
        family: address.family,
        port: address.port,
      };
    };
    sweepHandshakes = (server) => {
      // Cleared since it fired: the server shut down.
      if (server.openTimer === null) return;
      server.openTimer = null;
      const now = performance.now();
      for (const [connection, deadline] of server.handshaking) {
        if (deadline > now) {
          server.armOpenTimer(Math.ceil(deadline - now));
          return;
        }
        connection.openTimedOut();
      }
    };
  }

  /**
   * Resolves once every handler returned. Every connection is closed by now:
   * a handler still running after `closeTimeout` (10 s without one; 1 s at
   * least, for handlers that clean up) is worth a warning, since nothing will
   * end it but its own code; one that awaits `server.close()` waits for itself.
   */
  private handlersReturned(): Promise<void> {
    return new Promise<void>((resolve) => {
      const warning = setTimeout(
        () => {
          const count = this.runningHandlers;
          this.logger.warn(
            `server.close() is waiting for ${count} connection handler${count === 1 ? "" : "s"} ` +
              "to return, though every connection is closed; if a handler awaits " +
              "server.close(), it waits for itself: call it without await there (void server.close())",
          );
        },
        Math.max(this.resolved.closeTimeout ?? DEFAULTS.closeTimeout, MIN_HANDLER_WARNING_DELAY),
      );
      // Not unref()'d: when nothing else is left for the event loop, a stuck
      // handler can never return, and the process would end (exit code 13,
      // an unsettled top-level await) without a word of why.
      this.resolveHandlersDone = () => {
        clearTimeout(warning);
        resolve();
      };
    });
  }

  private async shutDown(code: number, reason: string): Promise<void> {
    // A server serve() owns keeps its listeners until it is closed: they drop
    // what it still emits (a socket accepted as close() began); detached, the
    // socket would belong to nobody, and netServer.close() would wait for it.
    if (!this.ownsNetServer) this.detach();
    const netServer = this.ownsNetServer ? this.netServer : null;
    const stopped =
      netServer === null
        ? Promise.resolve()
        : new Promise<void>((resolve) => netServer.close(() => resolve()));
    // Not connections yet: no request to answer. netServer.close() waits for them.
    for (const socket of this.tlsHandshakes) socket.destroy();
    for (const connection of this.handshaking.keys()) connection.rejectHandshake();
    await Promise.all(
      [...this.connections].map((connection) => connection.close(code, reason).catch(() => {})),
    );
    if (this.runningHandlers > 0) await this.handlersReturned();
    await Promise.all([...this.handshaking.keys()].map((connection) => connection.closed));
    await stopped;
    if (this.ownsNetServer) this.detach();
    // No handshake is left to time out; the timer, unref()'d but holding the
    // server, would keep it in memory until it fired (up to openTimeout).
    if (this.openTimer !== null) {
      clearTimeout(this.openTimer);
      this.openTimer = null;
    }
    this.resolveClosed();
  }
}

/** The least time `server.close()` gives handlers before warning that they are still running. */
const MIN_HANDLER_WARNING_DELAY = 1000;

/**
 * Answers `socket`, which no connection took over, with `response`, and
 * closes it once the client closes its side, or after `closeTimeout`.
 */
function refuse(socket: net.Socket, response: Response, closeTimeout: number | null): void {
  // Node stops listening for errors on a socket it emits as 'upgrade': without
  // a listener, a client's reset (ECONNRESET) would crash the process. The
  // socket is destroyed by the error; there is nothing more to do.
  socket.on("error", () => {});
  // Discards what the client sends, so that its FIN arrives and closes the
  // socket: bytes left unread would hold it open.
  socket.resume();
  socket.end(response.serialize());
  if (closeTimeout === null) return;
  // Bounded like the closing handshake of a connection: a client that never
  // closes its side doesn't hold the socket.
  // A deadline: a FIN that came in time but sits unread after a stall counts.
  const timer = setDeadline(destroyUnlessClosed, closeTimeout, socket);
  timer.unref();
  socket.once("close", () => clearTimeout(timer));
}

function destroyUnlessClosed(socket: net.Socket): void {
  // Closing on its own since the timer fired: the client's FIN was read, ours handed to the kernel.
  if (socket.destroyed || (socket.readableEnded && socket.writableLength === 0)) return;
  socket.destroy();
}

/** Options that only make sense when `serve()` listens itself. */
const LISTEN_OPTIONS = ["host", "port", "path", "backlog", "tls"] as const;

/**
 * Starts a WebSocket server and resolves once it listens.
 *
 * ```ts
 * await using server = await serve(async (ws) => {
 *   for await (const message of ws) await ws.send(message);
 * }, { host: "127.0.0.1", port: 8001 });
 * await server.serveForever();
 * ```
 *
 * With `tls`, it serves `wss://`; with `path`, it listens on a Unix socket;
 * with `server`, it takes connections from that server instead of listening;
 * with `listen: false`, only from {@link Server.handleUpgrade}.
 *
 * @throws TypeError for an unknown option (`maxMesageSize`), naming the one
 *   meant when it is close, and for options that contradict each other,
 *   e.g. `server` with `port`.
 */
export async function serve(handler: Handler, options: ServeOptions = {}): Promise<Server> {
  checkOptionNames(options, SERVE_OPTIONS, "serve()");
  if (options.server !== undefined || options.listen === false) {
    if (options.server !== undefined && options.listen === false) {
      throw new TypeError("serve() takes either server or listen: false, not both");
    }
    for (const name of LISTEN_OPTIONS) {
      if (options[name] !== undefined) {
        const why = options.server !== undefined ? "with a server" : "with listen: false";
        throw new TypeError(`serve() doesn't listen ${why}: the ${name} option doesn't apply`);
      }
    }
    return constructServer(handler, options, options.server ?? null, false);
  }
  if (options.path !== undefined && (options.host !== undefined || options.port !== undefined)) {
    throw new TypeError("serve() listens on a Unix socket path or on a host and port, not both");
  }
  const openTimeout =
    options.openTimeout === undefined ? DEFAULTS.openTimeout : options.openTimeout;
  const netServer =
    options.tls === undefined
      ? // noDelay: Node sets TCP_NODELAY as it accepts, and Connection finds it set.
        net.createServer({ allowHalfOpen: true, noDelay: true })
      : // A half-open socket whose TLS handshake fails is never closed by
        // Node: TLS sockets become half-open only once they are secure.
        tls.createServer({ allowHalfOpen: false, ...serverTlsOptions(options.tls, openTimeout) });
  const server = constructServer(handler, options, netServer, true);
  const address =
    options.path !== undefined
      ? { path: options.path, backlog: options.backlog }
      : { host: options.host, port: options.port ?? 0, backlog: options.backlog };
  await new Promise<void>((resolve, reject) => {
    netServer.once("error", reject);
    netServer.listen(address, () => {
      netServer.off("error", reject);
      resolve();
    });
  });
  netServer.on("error", (error) => resolveLogger(options.logger).error("server error", error));
  if (options.tls === undefined) noteBoundAddress(server, netServer.address());
  return server;
}

/**
 * Whether a connection holds more unsent bytes than its write high-water
 * mark: the peer is not keeping up.
 */
function isBackedUp(connection: Connection): boolean {
  // Connection keeps its options protected; broadcast() is the one outside
  // reader, for this check only.
  // biome-ignore lint/complexity/useLiteralKeys: element access reaches a protected member.
  return connection.bufferedAmount > connection["options"].writeHighWaterMark;
}

/** How traces name the client on `socket`: its address and port, or the Unix socket. */
function peerLabel(socket: net.Socket): string {
  const { remoteAddress: address, remotePort: port } = socket;
  if (address === undefined) return "unix";
  return address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
}

/**
 * Sends `message`, a string or bytes as for `Connection.send()`, to every
 * open connection among `connections`, without waiting for any of them: a
 * slow or closing connection does not hold up the others, and errors on one
 * connection are ignored. A string is encoded once, for all of them.
 *
 * A connection whose unsent bytes already exceed its `writeHighWaterMark`
 * is skipped: it does not get this message. Broadcasting thus never buffers
 * without bound for a client that reads too slowly; to deliver every message
 * to every client, `await ws.send()` to each one in its own task instead.
 *
 * @throws TypeError for a message that is neither a string nor bytes (an
 *   `ArrayBuffer` or a view of one), before anything is sent: an iterable
 *   (a fragmented message) can't be read once per connection, and a `Blob`
 *   must be read first (`await blob.arrayBuffer()`).
 */
export function broadcast(
  connections: Iterable<Connection>,
  message: string | ArrayBufferView | ArrayBufferLike,
): void {
  const isText = typeof message === "string";
  let bytes = isText ? null : bytesOf(message);
  if (!isText && bytes === null) {
    throw new TypeError(
      `broadcast() takes a string or bytes (${BYTES_TAKEN}); got ${kindOf(message)}`,
    );
  }
  for (const connection of connections) {
    if (connection.state !== State.OPEN || isBackedUp(connection)) continue;
    // Encoded for the first connection that gets it: none may.
    bytes ??= Buffer.from(message as string, "utf8");
    connection.sendEncoded(bytes, isText).catch(() => {});
  }
}
