/**
 * Opens load generator connections: TCP, then, for a WebSocket server, the
 * opening handshake from pre-built bytes.
 *
 * The sockets read with `onread` into one buffer that every connection of
 * this process shares: the generator only counts what comes back and never
 * keeps it, so a stream `'data'` event with a freshly allocated chunk per read
 * would only cost it CPU (allocation, garbage collection, stream bookkeeping)
 * that large-message workloads had shown to be its limit.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import * as net from "node:net";
import { splitResponse } from "./wire.js";

/** The buffer every socket of this process reads into; its bytes live until the next read. */
const SHARED_READ_BUFFER = Buffer.allocUnsafeSlow(256 * 1024);

/** Gets the bytes of one read; they are valid only until the listener returns. */
export type BytesListener = (bytes: Buffer) => void;

/** An open connection and what arrived after the handshake response. */
export interface Opened {
  socket: net.Socket;
  /** The server's `Sec-WebSocket-Extensions`, or "" (and always "" for raw TCP). */
  extensions: string;
  /** Bytes that came after the handshake response, before a listener was set. */
  rest: Buffer;
  /**
   * Sets who gets the bytes of each later read (`null`: nobody, they are kept
   * in `rest`). The socket never emits `'data'`: it reads with `onread`.
   */
  listen(listener: BytesListener | null): void;
}

/** Connects to 127.0.0.1:`port` and sends `request` unless it is `null` (raw TCP). */
export function open(port: number, request: Buffer | null): Promise<Opened> {
  return new Promise((resolve, reject) => {
    let received = Buffer.alloc(0);
    let handshaking = request !== null;
    let listener: BytesListener | null = null;
    const opened: Opened = {
      socket: null as unknown as net.Socket,
      extensions: "",
      rest: Buffer.alloc(0),
      listen(next) {
        listener = next;
      },
    };
    const fail = (error: Error) => {
      socket.destroy();
      reject(error);
    };
    // Always true: keep reading (`false` would pause the socket).
    const onRead = (length: number, buffer: Uint8Array): boolean => {
      const bytes = Buffer.from(buffer.buffer, buffer.byteOffset, length);
      if (listener !== null) {
        listener(bytes);
        return true;
      }
      if (!handshaking) {
        opened.rest = Buffer.concat([opened.rest, bytes]);
        return true;
      }
      received = Buffer.concat([received, bytes]);
      const response = splitResponse(received);
      if (response === null) return true;
      handshaking = false;
      socket.off("error", fail);
      if (response.status !== 101) {
        fail(new Error(`handshake answered with HTTP ${response.status}`));
        return true;
      }
      opened.extensions = response.extensions;
      opened.rest = Buffer.from(response.rest);
      resolve(opened);
      return true;
    };
    const socket = net.connect({
      port,
      host: "127.0.0.1",
      noDelay: true,
      onread: { buffer: SHARED_READ_BUFFER, callback: onRead },
    });
    opened.socket = socket;
    socket.once("error", fail);
    socket.once("connect", () => {
      if (request === null) {
        socket.off("error", fail);
        resolve(opened);
        return;
      }
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
