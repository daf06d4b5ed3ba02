/**
 * The raw TCP echo: bytes in, same bytes out, no framing. Every WebSocket
 * server does this plus parsing, unmasking and framing, so it is the ceiling,
 * and its memory per connection is what a Node socket costs by itself.
 *
 * @module
 */

import * as net from "node:net";
import { HOST, type Started } from "./started.js";

function echo(this: net.Socket, chunk: Buffer): void {
  // Backpressure, as a WebSocket server's echo must have too.
  if (!this.write(chunk)) this.pause();
}

function resume(this: net.Socket): void {
  this.resume();
}

function ignore(): void {}

export async function startRaw(): Promise<Started> {
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    // Shared listeners: no closure per connection, so memory is the socket's own.
    socket.on("data", echo);
    socket.on("drain", resume);
    socket.on("error", ignore);
  });
  await new Promise<void>((resolve) =>
    server.listen({ port: 0, host: HOST, backlog: 4096 }, resolve),
  );
  return { port: (server.address() as net.AddressInfo).port, notes: [] };
}
