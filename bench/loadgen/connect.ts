/**
 * Opens load generator connections: TCP, then, for a WebSocket server, the
 * opening handshake from pre-built bytes.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import * as net from "node:net";
import { splitResponse } from "./wire.js";

/** An open connection and what arrived after the handshake response. */
export interface Opened {
  socket: net.Socket;
  /** The server's `Sec-WebSocket-Extensions`, or "" (and always "" for raw TCP). */
  extensions: string;
  rest: Buffer;
}

/** Connects to 127.0.0.1:`port` and sends `request` unless it is `null` (raw TCP). */
export function open(port: number, request: Buffer | null): Promise<Opened> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: "127.0.0.1", noDelay: true });
    let received = Buffer.alloc(0);
    const fail = (error: Error) => {
      socket.destroy();
      reject(error);
    };
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const response = splitResponse(received);
      if (response === null) return;
      socket.off("data", onData);
      socket.off("error", fail);
      if (response.status !== 101) {
        fail(new Error(`handshake answered with HTTP ${response.status}`));
        return;
      }
      resolve({ socket, extensions: response.extensions, rest: response.rest });
    };
    socket.once("error", fail);
    socket.once("connect", () => {
      if (request === null) {
        socket.off("error", fail);
        resolve({ socket, extensions: "", rest: Buffer.alloc(0) });
        return;
      }
      socket.on("data", onData);
      socket.write(request);
    });
  });
}

/** Opens `count` connections, `concurrency` at a time. */
export async function openMany(
  count: number,
  concurrency: number,
  openOne: () => Promise<Opened>,
): Promise<Opened[]> {
  const opened: Opened[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      opened.push(await openOne());
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return opened;
}
