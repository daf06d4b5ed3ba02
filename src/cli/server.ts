/**
 * The echo server of `websockets-ts serve`: the seed's chapter 1 server, for
 * trying out clients.
 *
 * @module
 */

import type { TlsOptions } from "node:tls";
import { type Handler, type ServeOptions, serve } from "../index.js";
import type { ServeCommand } from "./args.js";
import { type CliStreams, describeError, processStreams, readOptionFile } from "./client.js";

/** Options of {@link runServer}. */
export interface ServeCommandOptions {
  /** Interface to listen on, unless there is a {@link path}. */
  readonly host: string;
  /** Port to listen on, unless there is a {@link path}; 0 picks a free one. */
  readonly port: number;
  /** Unix socket to listen on instead of host and port. */
  readonly path?: string | undefined;
  /** Serves `wss://` with these options of `tls.createServer()`: `key` and `cert` at least. */
  readonly tls?: TlsOptions | undefined;
  /** Subprotocols accepted, in order of preference; clients must offer one. Default: none. */
  readonly subprotocols?: readonly string[] | undefined;
  /** `null` disables permessage-deflate. Default: `"deflate"`. */
  readonly compression?: "deflate" | null;
  /** Largest message accepted; `null` for no limit. Default: `serve()`'s, 1 MiB. */
  readonly maxMessageSize?: number | null | undefined;
  /** Where to print. Default: the process's streams. */
  readonly streams?: CliStreams;
  /** Aborting it shuts the server down: open connections are closed with 1001. */
  readonly signal?: AbortSignal;
}

/** Sends every message back to its sender. */
export const echo: Handler = async (ws) => {
  for await (const message of ws) await ws.send(message);
};

/** `ws://host:port` or `wss://host:port`, with brackets around an IPv6 address. */
export function serverUri(host: string, port: number, secure = false): string {
  return `${secure ? "wss" : "ws"}://${host.includes(":") ? `[${host}]` : host}:${port}`;
}

/** Where a server listens, for its `Listening on` and `Failed to listen on` lines. */
function describeAddress(options: ServeCommandOptions, port: number): string {
  const secure = options.tls !== undefined;
  if (options.path === undefined) return serverUri(options.host, port, secure);
  return `Unix socket ${options.path} (${secure ? "wss" : "ws"}://)`;
}

/**
 * The options of {@link runServer} that the command line asks for. Reads the
 * `--tls-cert` and `--tls-key` files.
 *
 * @throws UsageError when one of them can't be read.
 */
export function serveCommandOptions(
  command: ServeCommand,
): Omit<ServeCommandOptions, "streams" | "signal"> {
  return {
    host: command.host,
    port: command.port,
    path: command.path,
    tls:
      command.tls === undefined
        ? undefined
        : {
            cert: readOptionFile("--tls-cert", command.tls.cert),
            key: readOptionFile("--tls-key", command.tls.key),
          },
    subprotocols: command.subprotocols,
    compression: command.compression ? "deflate" : null,
    maxMessageSize: command.maxSize,
  };
}

/**
 * Runs the echo server until `signal` aborts, printing `Listening on ws://…`
 * (`wss://…` with TLS) with the actual port once it listens, or
 * `Listening on Unix socket <path> (ws://)`. Resolves with the exit code: 0
 * after a clean shutdown, 1 if the server could not listen (port in use, a
 * key that doesn't match the certificate, …).
 */
export async function runServer(options: ServeCommandOptions): Promise<number> {
  const { stdout, stderr } = options.streams ?? processStreams;
  const signal = options.signal;
  if (signal?.aborted) return 0;
  const serveOptions: ServeOptions =
    options.path === undefined
      ? { host: options.host, port: options.port }
      : { path: options.path };
  if (options.tls !== undefined) serveOptions.tls = options.tls;
  if (options.subprotocols?.length) serveOptions.subprotocols = options.subprotocols;
  if (options.compression !== undefined) serveOptions.compression = options.compression;
  if (options.maxMessageSize !== undefined) serveOptions.maxMessageSize = options.maxMessageSize;
  let server: Awaited<ReturnType<typeof serve>>;
  try {
    server = await serve(echo, serveOptions);
  } catch (error) {
    // A server killed without closing (SIGKILL, a crash) leaves its socket
    // file behind, and every later start fails the same way until it is gone.
    const stale =
      options.path !== undefined && (error as NodeJS.ErrnoException).code === "EADDRINUSE"
        ? ` (if no server runs there, the socket file is left from one that stopped: remove ${options.path})`
        : "";
    stderr.write(
      `Failed to listen on ${describeAddress(options, options.port)}: ${describeError(error)}${stale}.\n`,
    );
    return 1;
  }
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : options.port;
  stdout.write(`Listening on ${describeAddress(options, port)}\n`);
  const shutDown = (): void => void server.close();
  if (signal?.aborted) shutDown();
  else signal?.addEventListener("abort", shutDown, { once: true });
  await server.serveForever();
  return 0;
}
