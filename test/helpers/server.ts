/** Starts servers for tests and tracks unhandled rejections. */

import type { AddressInfo } from "node:net";
import { type Handler, type ServeOptions, type Server, serve } from "../../src/node/server.js";

/** A server on 127.0.0.1, a free port, silent logs unless the test asks otherwise. */
export async function startServer(
  handler: Handler,
  options: ServeOptions = {},
): Promise<{ server: Server; uri: string; port: number }> {
  const server = await serve(handler, { host: "127.0.0.1", port: 0, logger: null, ...options });
  const port = (server.address() as AddressInfo).port;
  return { server, uri: `ws://127.0.0.1:${port}`, port };
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

const unhandled: unknown[] = [];
process.on("unhandledRejection", (reason) => {
  unhandled.push(reason);
});

/** Rejections nobody handled since the process started: tests assert there are none. */
export function unhandledRejections(): readonly unknown[] {
  return unhandled;
}
