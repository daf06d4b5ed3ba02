/**
 * The Node client: `connect(uri)` opens a TCP (or TLS) connection, performs
 * the opening handshake and returns a {@link ClientConnection}.
 *
 * @module
 */

import * as net from "node:net";
import * as tls from "node:tls";
import { ClientProtocol } from "../core/client.js";
import { InvalidMessage, TimeoutError } from "../core/errors.js";
import type { ClientExtensionFactory } from "../core/extensions/base.js";
import { Headers, type HeadersInit } from "../core/headers.js";
import type { HttpLimits, Request, Response } from "../core/http11.js";
import type { Event } from "../core/protocol.js";
import { parseUri, type WebSocketUri } from "../core/uri.js";
import { type CompressionOptions, clientExtensions } from "./compression.js";
import {
  Connection,
  type ConnectionOptions,
  type ResolvedConnectionOptions,
  resolveConnectionOptions,
} from "./connection.js";
import { resolveLogger } from "./logger.js";
import { USER_AGENT } from "./version.js";

/** Options of {@link connect}. */
export interface ConnectOptions extends ConnectionOptions, CompressionOptions {
  /** Value of the `Origin` header; none by default. */
  origin?: string;
  /** Subprotocols to offer, in order of preference; `ws.subprotocol` tells which the server chose. */
  subprotocols?: readonly string[];
  /** Extensions to offer, in order of preference. */
  extensions?: readonly ClientExtensionFactory[];
  /** Extra headers for the handshake request, e.g. cookies or tokens. */
  additionalHeaders?: HeadersInit;
  /** `User-Agent` header; `null` omits it. Default: `websockets-ts/<version>`. */
  userAgent?: string | null;
  /** Aborts connecting; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Options for `tls.connect()` on `wss://` URIs: `ca`, `cert`, `key`, `servername`, … */
  tls?: tls.ConnectionOptions;
  /** Limits on the server's handshake response. */
  httpLimits?: HttpLimits;
}

/** A WebSocket connection opened by {@link connect}. */
export class ClientConnection extends Connection {
  declare readonly protocol: ClientProtocol;
  /** The handshake request sent. */
  readonly request: Request;
  /** The handshake response received, once there is one. */
  response: Response | null = null;

  private handshakeSettled = false;
  private resolveHandshake!: () => void;
  private rejectHandshake!: (error: unknown) => void;
  /** Settles when the opening handshake succeeds or fails. */
  readonly handshake: Promise<void>;

  /** @internal Use {@link connect}. */
  constructor(
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

  get subprotocol(): string | null {
    return this.protocol.subprotocol;
  }

  /** Fails the handshake, e.g. on timeout or abort, and drops the TCP connection. */
  abortHandshake(error: unknown): void {
    if (this.handshakeSettled) return;
    this.settleHandshake(error);
    this.socket.destroy();
  }

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

  protected override onConnectionLost(): void {
    this.settleHandshake(
      this.protocol.handshakeExc ??
        this.socketError ??
        new InvalidMessage("connection closed during the opening handshake"),
    );
  }

  private settleHandshake(error: unknown): void {
    if (this.handshakeSettled) return;
    this.handshakeSettled = true;
    if (error === null) this.resolveHandshake();
    else this.rejectHandshake(error);
  }
}

function openSocket(uri: WebSocketUri, options: ConnectOptions): net.Socket {
  if (uri.secure) {
    return tls.connect({
      host: uri.host,
      port: uri.port,
      // RFC 6066 §3: SNI carries host names only, never IP literals.
      servername: net.isIP(uri.host) ? "" : uri.host,
      ALPNProtocols: ["http/1.1"],
      allowHalfOpen: true,
      ...options.tls,
    } as tls.ConnectionOptions);
  }
  return net.connect({ host: uri.host, port: uri.port, allowHalfOpen: true });
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
 * @throws InvalidUri for a URI that is not `ws://` or `wss://`.
 * @throws InvalidHandshake (InvalidStatus, InvalidHeader, NegotiationError, …)
 *   when the server refuses or answers wrongly.
 * @throws TimeoutError after `openTimeout`; the signal's reason when aborted;
 *   the socket's error (e.g. `ECONNREFUSED`) when the TCP connection fails.
 */
export async function connect(
  uri: string | URL,
  options: ConnectOptions = {},
): Promise<ClientConnection> {
  const wsUri = parseUri(String(uri));
  const signal = options.signal;
  signal?.throwIfAborted();
  const resolved = resolveConnectionOptions(options, resolveLogger(options.logger));
  const protocol = new ClientProtocol(wsUri, {
    origin: options.origin ?? null,
    subprotocols: options.subprotocols ?? [],
    extensions: clientExtensions(options),
    maxMessageSize: resolved.maxMessageSize,
    httpLimits: options.httpLimits ?? {},
  });
  const request = protocol.connect();
  for (const [name, value] of new Headers(options.additionalHeaders))
    request.headers.append(name, value);
  const userAgent = options.userAgent === undefined ? USER_AGENT : options.userAgent;
  if (userAgent !== null && !request.headers.has("User-Agent"))
    request.headers.set("User-Agent", userAgent);

  const socket = openSocket(wsUri, options);
  const connection = new ClientConnection(socket, protocol, resolved, request);
  protocol.sendRequest(request);
  for (const chunk of protocol.dataToSend()) socket.write(chunk);

  const onAbort = () => connection.abortHandshake(signal!.reason);
  signal?.addEventListener("abort", onAbort, { once: true });
  const timer =
    resolved.openTimeout === null
      ? null
      : setTimeout(
          () =>
            connection.abortHandshake(new TimeoutError("timed out during the opening handshake")),
          resolved.openTimeout,
        );
  try {
    await connection.handshake;
  } finally {
    if (timer !== null) clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  }
  return connection;
}
