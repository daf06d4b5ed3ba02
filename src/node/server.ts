/**
 * The Node server: `serve(handler, options)` listens for TCP connections,
 * performs the opening handshake on each, and runs `handler` on every
 * {@link ServerConnection} that opens.
 *
 * @module
 */

import * as net from "node:net";
import { ConnectionClosed } from "../core/errors.js";
import type { ServerExtensionFactory } from "../core/extensions/base.js";
import { Headers, type HeadersInit } from "../core/headers.js";
import { type HttpLimits, type Request, Response } from "../core/http11.js";
import { type Event, State } from "../core/protocol.js";
import { type OriginRule, ServerProtocol, type SubprotocolSelector } from "../core/server.js";
import { reasonPhrase } from "../core/status.js";
import { type CompressionOptions, serverExtensions } from "./compression.js";
import {
  Connection,
  type ConnectionOptions,
  type Data,
  type ResolvedConnectionOptions,
  resolveConnectionOptions,
} from "./connection.js";
import { type Logger, resolveLogger } from "./logger.js";
import { USER_AGENT } from "./version.js";

/** Handles one connection; the connection closes (1000) when it returns, (1011) when it throws. */
export type Handler = (connection: ServerConnection) => void | Promise<void>;

/** An HTTP response given as plain data, for {@link ServeOptions.processRequest}. */
export interface HttpResponseInit {
  status: number;
  headers?: HeadersInit;
  body?: string | Uint8Array;
}

/** Options of {@link serve}. */
export interface ServeOptions extends ConnectionOptions, CompressionOptions {
  /** Interface to listen on. Default: every interface. */
  host?: string;
  /** Port to listen on; 0 picks a free one (`server.address()` tells which). Default: 0. */
  port?: number;
  /** Maximum length of the queue of pending TCP connections. */
  backlog?: number;
  /** Allowed `Origin` values; `null` in the list allows requests without one. Default: any. */
  origins?: readonly OriginRule[];
  /** Subprotocols supported, in order of preference; when set, clients must offer one. */
  subprotocols?: readonly string[];
  /** Picks the subprotocol instead of the default rule. */
  selectSubprotocol?: SubprotocolSelector;
  /** Extensions supported, in order of preference. */
  extensions?: readonly ServerExtensionFactory[];
  /**
   * Called with each handshake request before it is validated. Returning a
   * response (a {@link Response} or `{ status, headers?, body? }`) sends it
   * instead of completing the handshake: health checks, authentication,
   * redirects. Returning nothing proceeds with the handshake.
   */
  processRequest?: (
    connection: ServerConnection,
    request: Request,
  ) =>
    | Response
    | HttpResponseInit
    | null
    | undefined
    | Promise<Response | HttpResponseInit | null | undefined>;
  /** Called with the response about to be sent; may modify it or return a replacement. */
  processResponse?: (
    connection: ServerConnection,
    request: Request,
    response: Response,
  ) => Response | null | undefined | Promise<Response | null | undefined>;
  /** `Server` header of responses; `null` omits it. Default: `websockets-ts/<version>`. */
  serverHeader?: string | null;
  /** Limits on the client's handshake request. */
  httpLimits?: HttpLimits;
}

const INTERNAL_ERROR_TEXT =
  "Failed to open a WebSocket connection.\nSee server log for more information.\n";

/** A connection accepted by {@link serve}. */
export class ServerConnection extends Connection {
  declare readonly protocol: ServerProtocol;
  /** The handshake request, once received. */
  request: Request | null = null;
  /** The handshake response, once sent. */
  response: Response | null = null;
  /** Free for the application: e.g. the user authenticated in `processRequest`. */
  username: string | null = null;

  private readonly server: Server;
  private openTimer: NodeJS.Timeout | null = null;

  /** @internal Created by the server. */
  constructor(
    socket: net.Socket,
    server: Server,
    options: ResolvedConnectionOptions,
    protocol: ServerProtocol,
  ) {
    super(socket, protocol, options);
    this.server = server;
    const openTimeout = options.openTimeout;
    if (openTimeout !== null) {
      // Slowloris protection: a handshake that dribbles in never ties up a socket for long.
      this.openTimer = setTimeout(() => {
        if (this.protocol.state === State.CONNECTING) {
          this.logger.debug("opening handshake timed out");
          this.socket.destroy();
        }
      }, openTimeout);
      this.openTimer.unref();
    }
  }

  get subprotocol(): string | null {
    return this.protocol.subprotocol;
  }

  /** Answers a handshake still in progress with 503, as the server shuts down. */
  rejectHandshake(): void {
    if (this.protocol.state !== State.CONNECTING || this.lost || this.response !== null) return;
    try {
      this.sendHandshakeResponse(this.protocol.reject(503, "Server is shutting down.\n"));
    } catch {
      this.socket.destroy();
    }
  }

  protected handleHandshakeEvent(event: Event): void {
    this.request = event as Request;
    void this.completeHandshake(this.request);
  }

  protected override onConnectionLost(): void {
    if (this.openTimer !== null) clearTimeout(this.openTimer);
    this.server.forget(this);
  }

  private async completeHandshake(request: Request): Promise<void> {
    const options = this.server.options;
    let response: Response | null = null;
    try {
      if (options.processRequest) {
        const answer = await options.processRequest(this, request);
        if (answer) response = toResponse(answer);
      }
      response ??= this.protocol.accept(request);
      if (response.status === 101 && options.processResponse) {
        response = (await options.processResponse(this, request, response)) ?? response;
      }
    } catch (error) {
      this.logger.error("opening handshake failed", error);
      response = this.protocol.reject(500, INTERNAL_ERROR_TEXT);
    }
    if (this.lost || this.response !== null) return;
    if (this.server.isClosing) response = this.protocol.reject(503, "Server is shutting down.\n");
    if (response.status !== 101 && this.protocol.handshakeExc) {
      this.logger.info(
        `connection rejected (${response.status}): ${this.protocol.handshakeExc.message}`,
      );
    }
    this.sendHandshakeResponse(response);
    if (this.protocol.state === State.OPEN) {
      if (this.openTimer !== null) clearTimeout(this.openTimer);
      this.startKeepalive();
      this.server.run(this);
    }
  }

  private sendHandshakeResponse(response: Response): void {
    const serverHeader = this.server.serverHeader;
    if (serverHeader !== null && !response.headers.has("Server"))
      response.headers.set("Server", serverHeader);
    if (!response.headers.has("Date")) response.headers.set("Date", new Date().toUTCString());
    this.response = response;
    this.protocol.sendResponse(response);
    this.processEvents();
  }
}

function toResponse(answer: Response | HttpResponseInit): Response {
  if (answer instanceof Response) return answer;
  const headers = new Headers(answer.headers);
  const body =
    typeof answer.body === "string"
      ? new TextEncoder().encode(answer.body)
      : (answer.body ?? new Uint8Array(0));
  if (!headers.has("Content-Length")) headers.set("Content-Length", String(body.length));
  if (!headers.has("Connection")) headers.set("Connection", "close");
  if (body.length > 0 && !headers.has("Content-Type"))
    headers.set("Content-Type", "text/plain; charset=utf-8");
  return new Response(answer.status, reasonPhrase(answer.status), headers, body);
}

/** Options of {@link Server.close}. */
export interface ServerCloseOptions {
  /** Close code sent to open connections. Default: 1001 (going away). */
  code?: number;
  /** Close reason sent to open connections. Default: empty. */
  reason?: string;
}

/** A listening WebSocket server, returned by {@link serve}. */
export class Server implements AsyncDisposable {
  /** Connections whose handshake completed and that are not closed yet. */
  readonly connections = new Set<ServerConnection>();
  /** Resolves once the server closed and every handler returned. */
  readonly closed: Promise<void>;
  /** @internal */
  readonly options: ServeOptions;
  /** @internal */
  readonly serverHeader: string | null;

  private readonly netServer: net.Server;
  private readonly handler: Handler;
  private readonly logger: Logger;
  private readonly resolved: ResolvedConnectionOptions;
  private readonly extensions: ServerExtensionFactory[];
  private readonly handshaking = new Set<ServerConnection>();
  private readonly handlers = new Set<Promise<void>>();
  private closing: Promise<void> | null = null;
  private resolveClosed!: () => void;

  /** @internal Use {@link serve}. */
  constructor(handler: Handler, options: ServeOptions, netServer: net.Server) {
    this.handler = handler;
    this.options = options;
    this.netServer = netServer;
    this.logger = resolveLogger(options.logger);
    this.resolved = resolveConnectionOptions(options, this.logger);
    this.extensions = serverExtensions(options);
    this.serverHeader = options.serverHeader === undefined ? USER_AGENT : options.serverHeader;
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
    netServer.on("connection", this.accept);
  }

  /** Whether {@link close} was called. */
  get isClosing(): boolean {
    return this.closing !== null;
  }

  /** The address the server listens on: host, family and port, or a path for a Unix socket. */
  address(): net.AddressInfo | string | null {
    return this.netServer.address();
  }

  /** Resolves when the server is closed: `await server.serveForever()` keeps a program serving. */
  serveForever(): Promise<void> {
    return this.closed;
  }

  /**
   * Shuts down: stops listening, answers handshakes in progress with 503,
   * closes open connections with `code` (1001 by default), and resolves once
   * every handler has returned and every connection is closed.
   */
  close(options: ServerCloseOptions = {}): Promise<void> {
    this.closing ??= this.shutDown(options.code ?? 1001, options.reason ?? "");
    return this.closing;
  }

  /** `await using` support. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** @internal Runs the handler on a connection that just opened. */
  run(connection: ServerConnection): void {
    this.handshaking.delete(connection);
    this.connections.add(connection);
    const running = this.runHandler(connection);
    this.handlers.add(running);
    void running.finally(() => this.handlers.delete(running));
  }

  /** @internal Drops a closed connection. */
  forget(connection: ServerConnection): void {
    this.handshaking.delete(connection);
    this.connections.delete(connection);
  }

  private readonly accept = (socket: net.Socket): void => {
    if (this.closing !== null) {
      socket.destroy();
      return;
    }
    const protocol = new ServerProtocol({
      origins: this.options.origins ?? null,
      subprotocols: this.options.subprotocols ?? [],
      ...(this.options.selectSubprotocol
        ? { selectSubprotocol: this.options.selectSubprotocol }
        : {}),
      extensions: this.extensions,
      maxMessageSize: this.resolved.maxMessageSize,
      httpLimits: this.options.httpLimits ?? {},
    });
    const connection = new ServerConnection(socket, this, this.resolved, protocol);
    this.handshaking.add(connection);
  };

  private async runHandler(connection: ServerConnection): Promise<void> {
    try {
      await this.handler(connection);
    } catch (error) {
      if (error instanceof ConnectionClosed) {
        this.logger.debug("connection handler ended by a closed connection", error);
      } else {
        this.logger.error("connection handler failed", error);
        await connection.close(1011).catch(() => {});
        return;
      }
    }
    await connection.close(1000).catch(() => {});
  }

  private async shutDown(code: number, reason: string): Promise<void> {
    const stopped = new Promise<void>((resolve) => this.netServer.close(() => resolve()));
    for (const connection of this.handshaking) connection.rejectHandshake();
    await Promise.all(
      [...this.connections].map((connection) => connection.close(code, reason).catch(() => {})),
    );
    await Promise.allSettled([...this.handlers]);
    await Promise.all([...this.handshaking].map((connection) => connection.closed));
    await stopped;
    this.resolveClosed();
  }
}

/**
 * Starts a WebSocket server and resolves once it listens.
 *
 * ```ts
 * await using server = await serve(async (ws) => {
 *   for await (const message of ws) await ws.send(message);
 * }, { host: "127.0.0.1", port: 8001 });
 * await server.serveForever();
 * ```
 */
export async function serve(handler: Handler, options: ServeOptions = {}): Promise<Server> {
  const netServer = net.createServer({ allowHalfOpen: true });
  const server = new Server(handler, options, netServer);
  await new Promise<void>((resolve, reject) => {
    netServer.once("error", reject);
    netServer.listen(
      { host: options.host, port: options.port ?? 0, backlog: options.backlog },
      () => {
        netServer.off("error", reject);
        resolve();
      },
    );
  });
  netServer.on("error", (error) => resolveLogger(options.logger).error("server error", error));
  return server;
}

/**
 * Sends `message` to every open connection among `connections`, without
 * waiting for any of them: a slow or closing connection does not hold up the
 * others, and errors on one connection are ignored.
 */
export function broadcast(connections: Iterable<Connection>, message: Data): void {
  for (const connection of connections) {
    if (connection.state !== State.OPEN) continue;
    connection.send(message).catch(() => {});
  }
}
