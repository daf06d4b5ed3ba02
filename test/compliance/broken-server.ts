/**
 * A deliberately broken echo server, built from raw sockets: it frames,
 * masks and echoes correctly, but never validates UTF-8 and echoes close
 * frames verbatim, whatever their code, reason or length. The conformance
 * suite must fail it: a checker that cannot fail proves nothing.
 */

import { Buffer } from "node:buffer";
import { once } from "node:events";
import * as net from "node:net";
import { acceptServerSocket } from "../../compliance/handshake.js";
import type { RunningServer } from "../../compliance/testees.js";
import { encodeFrame, FrameReader, WireOpcode } from "../../compliance/wire.js";

function serveConnection(socket: net.Socket, leftover: Buffer): void {
  const reader = new FrameReader(64 * 1024 * 1024);
  let fragments: Buffer[] | null = null;
  let opcode: number = WireOpcode.TEXT;
  const send = (op: number, payload: Uint8Array) =>
    socket.write(encodeFrame({ opcode: op, payload }, null));
  const fail = () => {
    send(WireOpcode.CLOSE, Uint8Array.of(0x03, 0xea));
    socket.end();
  };
  const onData = (chunk: Buffer) => {
    reader.push(chunk);
    for (let frame = reader.next(); frame !== null; frame = reader.next()) {
      if (!frame.masked || frame.rsv !== 0) return fail();
      switch (frame.opcode) {
        case WireOpcode.TEXT:
        case WireOpcode.BINARY:
          if (fragments !== null) return fail();
          fragments = [frame.payload];
          opcode = frame.opcode;
          break;
        case WireOpcode.CONT:
          if (fragments === null) return fail();
          fragments.push(frame.payload);
          break;
        case WireOpcode.PING:
          send(WireOpcode.PONG, frame.payload);
          continue;
        case WireOpcode.PONG:
          continue;
        case WireOpcode.CLOSE:
          // The bug under test: no check of the code, the reason or the length.
          send(WireOpcode.CLOSE, frame.payload);
          socket.end();
          socket.off("data", onData);
          return;
        default:
          return fail();
      }
      if (frame.fin) {
        // The other bug under test: text is echoed without UTF-8 validation.
        send(opcode, Buffer.concat(fragments));
        fragments = null;
      }
    }
  };
  socket.on("data", onData);
  socket.resume();
  onData(leftover);
}

/** Starts the broken echo server on 127.0.0.1. */
export async function startBrokenServer(): Promise<RunningServer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    socket.on("end", () => socket.end());
    acceptServerSocket(socket).then(
      ({ leftover }) => serveConnection(socket, leftover),
      () => socket.destroy(),
    );
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}`,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
