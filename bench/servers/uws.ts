/**
 * The uWebSockets.js echo server, from the prebuilt binary in
 * `@trufflesuite/uws-js-unofficial`. That package silently falls back to a
 * JavaScript implementation when no binary matches this Node; the suite
 * reports uWS as unavailable then, since the point is the C++ server.
 *
 * @module
 */

import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import { MAX_MESSAGE_SIZE } from "../kinds.js";
import { HOST, type Started } from "./started.js";

const require = createRequire(import.meta.url);

/** The part of uWS's API the echo uses. */
interface UwsSocket {
  send(message: ArrayBuffer, isBinary: boolean): number;
}
interface UwsApp {
  ws(
    pattern: string,
    behavior: {
      compression: number;
      maxPayloadLength: number;
      maxBackpressure: number;
      idleTimeout: number;
      message(ws: UwsSocket, message: ArrayBuffer, isBinary: boolean): void;
    },
  ): UwsApp;
  listen(host: string, port: number, callback: (listenSocket: unknown) => void): UwsApp;
}
interface Uws {
  App(): UwsApp;
  us_socket_local_port(listenSocket: unknown): number;
}

/** The binary the package would load for this platform and Node ABI. */
export function uwsBinary(): string {
  const root = path.dirname(require.resolve("@trufflesuite/uws-js-unofficial/package.json"));
  const name = `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`;
  return path.join(root, "binaries", name);
}

export async function startUws(): Promise<Started> {
  const binary = uwsBinary();
  if (!existsSync(binary)) throw new Error(`no prebuilt binary ${path.basename(binary)}`);
  const uws = require(binary) as Uws;
  const listenSocket = await new Promise<unknown>((resolve, reject) => {
    uws
      .App()
      .ws("/*", {
        compression: 0,
        maxPayloadLength: MAX_MESSAGE_SIZE,
        // Above this uWS drops messages instead of buffering them.
        maxBackpressure: 4 * MAX_MESSAGE_SIZE,
        idleTimeout: 0,
        message: (ws, message, isBinary) => {
          ws.send(message, isBinary);
        },
      })
      .listen(HOST, 0, (socket) => (socket ? resolve(socket) : reject(new Error("listen failed"))));
  });
  return { port: uws.us_socket_local_port(listenSocket), notes: [path.basename(binary)] };
}
