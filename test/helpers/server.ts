/** Starts servers for tests and tracks unhandled rejections. */

import assert from "node:assert/strict";
import { once } from "node:events";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import {
  type Handler,
  type ServeOptions,
  type Server,
  type ServerConnection,
  serve,
} from "../../src/node/server.js";

/** A server on 127.0.0.1, a free port, silent logs unless the test asks otherwise. */
export async function startServer(
  handler: Handler,
  options: ServeOptions = {},
): Promise<{ server: Server; uri: string; port: number }> {
  const server = await serve(handler, { host: "127.0.0.1", port: 0, logger: null, ...options });
  const port = (server.address() as AddressInfo).port;
  return { server, uri: `ws://127.0.0.1:${port}`, port };
}

/**
 * A server whose handler reads one message and hands over what `recv()`
 * gave: the message, or the error it threw (a `ConnectionClosed` after a
 * limit was exceeded, …).
 */
export async function startReceivingServer(
  options: ServeOptions = {},
): Promise<{ server: Server; uri: string; port: number; received: Promise<unknown> }> {
  const received = deferred<unknown>();
  const started = await startServer(async (ws) => {
    received.resolve(await ws.recv().catch((error: unknown) => error));
  }, options);
  return { ...started, received: received.promise };
}

/** An echo handler. */
export const echo: Handler = async (ws) => {
  for await (const message of ws) await ws.send(message);
};

/** A promise with its resolve function, to await an event raised in a handler. */
export function deferred<T = void>(): {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
} {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * Settles as `promise` does, or rejects with an `AssertionError` naming
 * `what` if it has not settled after `ms`: for a test that must not wait
 * for a long timeout of the code under test (keep `ms` generous).
 */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () => reject(new assert.AssertionError({ message: `${what}: not within ${ms} ms` })),
      ms,
    );
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

const unhandled: unknown[] = [];
process.on("unhandledRejection", (reason) => {
  unhandled.push(reason);
});

/** Rejections nobody handled since the process started: tests assert there are none. */
export function unhandledRejections(): readonly unknown[] {
  return unhandled;
}

/** A `node:http` server whose upgrades go to an echo {@link serve} by `handleUpgrade()`. */
export interface UpgradeServer extends AsyncDisposable {
  readonly port: number;
  /** The first WebSocket connection. */
  readonly seen: Promise<ServerConnection>;
}

/**
 * Starts a `node:http` server on 127.0.0.1 that answers plain requests with
 * `answer` and hands upgrade requests (those for `path` only, when given; it
 * drops the others) to an echo server made with `serve({ listen: false })`.
 * `await using` closes both.
 */
export async function startUpgradeServer(
  answer: http.RequestListener = (_request, response) => response.end("plain HTTP\n"),
  path?: string,
): Promise<UpgradeServer> {
  const seen = deferred<ServerConnection>();
  const ours = await serve(
    async (ws) => {
      seen.resolve(ws);
      await echo(ws);
    },
    { listen: false, logger: null },
  );
  const httpServer = http.createServer(answer);
  httpServer.on("upgrade", (request, socket, head) => {
    if (path === undefined || request.url === path) ours.handleUpgrade(request, socket, head);
    else socket.destroy();
  });
  httpServer.listen(0, "127.0.0.1");
  await once(httpServer, "listening");
  return {
    port: (httpServer.address() as AddressInfo).port,
    seen: seen.promise,
    async [Symbol.asyncDispose]() {
      httpServer.closeAllConnections();
      await new Promise((resolve) => httpServer.close(resolve));
      await ours.close();
    },
  };
}
