/**
 * The echo server of `websockets-ts serve`: the seed's chapter 1 server, for
 * trying out clients.
 *
 * @module
 */

import type { AddressInfo } from "node:net";
import { type Handler, serve } from "../index.js";
import { type CliStreams, describeError, processStreams } from "./client.js";

/** Options of {@link runServer}. */
export interface ServeCommandOptions {
  /** Interface to listen on. */
  readonly host: string;
  /** Port to listen on; 0 picks a free one. */
  readonly port: number;
  /** Where to print. Default: the process's streams. */
  readonly streams?: CliStreams;
  /** Aborting it shuts the server down: open connections are closed with 1001. */
  readonly signal?: AbortSignal;
}

/** Sends every message back to its sender. */
export const echo: Handler = async (ws) => {
  for await (const message of ws) await ws.send(message);
};

/** `ws://host:port`, with brackets around an IPv6 address. */
export function serverUri(host: string, port: number): string {
  return `ws://${host.includes(":") ? `[${host}]` : host}:${port}`;
}

/**
 * Runs the echo server until `signal` aborts, printing `Listening on ws://…`
 * with the actual port once it listens. Resolves with the exit code: 0 after
 * a clean shutdown, 1 if the server could not listen (port in use, …).
 */
export async function runServer(options: ServeCommandOptions): Promise<number> {
  const { stdout, stderr } = options.streams ?? processStreams;
  const signal = options.signal;
  if (signal?.aborted) return 0;
  let server: Awaited<ReturnType<typeof serve>>;
  try {
    server = await serve(echo, { host: options.host, port: options.port });
  } catch (error) {
    stderr.write(
      `Failed to listen on ${serverUri(options.host, options.port)}: ${describeError(error)}.\n`,
    );
    return 1;
  }
  const { port } = server.address() as AddressInfo;
  stdout.write(`Listening on ${serverUri(options.host, port)}\n`);
  const shutDown = (): void => void server.close();
  if (signal?.aborted) shutDown();
  else signal?.addEventListener("abort", shutDown, { once: true });
  await server.serveForever();
  return 0;
}
