/**
 * Two ends of one TCP connection on 127.0.0.1: `client`, for the code under
 * test, and `server`, which the test drives byte by byte, e.g. to play a
 * proxy.
 */

import { Buffer } from "node:buffer";
import { once } from "node:events";
import * as net from "node:net";
import { StreamReader } from "../../src/core/streams.js";

/** A loopback connection; `await using` destroys both ends. */
export interface LoopbackPair extends AsyncDisposable {
  /** The connecting end, handed to the code under test. */
  readonly client: net.Socket;
  /** The accepting end, played by the test. */
  readonly server: net.Socket;
  /** Resolves with exactly `n` bytes received by `server`; rejects if it closes first. */
  read(n: number): Promise<Buffer>;
  /** Resolves with the HTTP head `server` received, blank line included. */
  readHead(): Promise<string>;
  /** Resolves with whatever `server` received, once `client`'s side closed. */
  readToEnd(): Promise<Buffer>;
}

/** Opens a TCP connection to a one-off listener on 127.0.0.1, port 0. */
export async function loopbackPair(): Promise<LoopbackPair> {
  const listener = net.createServer();
  listener.listen(0, "127.0.0.1");
  await once(listener, "listening");
  const { port } = listener.address() as net.AddressInfo;
  const accepted = once(listener, "connection") as Promise<[net.Socket]>;
  const client = net.connect({ host: "127.0.0.1", port });
  const [[server]] = await Promise.all([accepted, once(client, "connect")]);
  // Stops listening; the listener's 'close' follows once this connection closed.
  listener.close();
  client.on("error", () => {});
  server.on("error", () => {});

  const reader = new StreamReader();
  let wake: (() => void) | null = null;
  const notify = () => {
    const resolve = wake;
    wake = null;
    resolve?.();
  };
  server.on("data", (chunk: Buffer) => {
    reader.feedData(new Uint8Array(chunk));
    notify();
  });
  server.on("end", () => {
    reader.feedEof();
    notify();
  });
  server.on("close", () => {
    if (!reader.atEof) reader.feedEof();
    notify();
  });
  const until = async <T>(read: () => T | null): Promise<T> => {
    for (;;) {
      const result = read();
      if (result !== null) return result;
      if (reader.atEof) throw new Error("the client closed the connection");
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  };

  return {
    client,
    server,
    read: async (n) => Buffer.from(await until(() => reader.readExact(n))),
    readHead: () =>
      until(() => {
        const buffered = Buffer.concat(reader.views(0, reader.length));
        const end = buffered.indexOf("\r\n\r\n");
        if (end === -1) return null;
        return Buffer.from(reader.readExact(end + 4)!).toString("latin1");
      }),
    readToEnd: async () => {
      await until(() => (reader.atEof ? true : null));
      return Buffer.from(reader.readAll());
    },
    async [Symbol.asyncDispose]() {
      client.destroy();
      server.destroy();
    },
  };
}
