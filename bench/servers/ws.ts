/**
 * The `ws` echo server, plain, with its native addons, or with permessage-deflate.
 *
 * `ws` loads `bufferutil` and `utf-8-validate` optionally at require time,
 * unless `WS_NO_BUFFER_UTIL` / `WS_NO_UTF_8_VALIDATE` are set; the notes
 * report what it actually uses, read from its own helper modules.
 *
 * @module
 */

import { createRequire } from "node:module";
import * as path from "node:path";
import { WebSocketServer } from "ws";
import { MAX_MESSAGE_SIZE } from "../kinds.js";
import { HOST, type Started } from "./started.js";

const require = createRequire(import.meta.url);

interface WsHelpers {
  mask: (...args: unknown[]) => void;
  isValidUTF8: (buffer: Uint8Array) => boolean;
}

/** Which native helpers the loaded `ws` uses. */
function nativeHelpers(): string[] {
  const root = path.dirname(require.resolve("ws"));
  // The same module instances `ws` uses: the require cache is keyed by path.
  const bufferUtil = require(path.join(root, "lib/buffer-util.js")) as Pick<WsHelpers, "mask">;
  const validation = require(path.join(root, "lib/validation.js")) as Pick<
    WsHelpers,
    "isValidUTF8"
  >;
  const maskSource = bufferUtil.mask.toString();
  const utf8Source = validation.isValidUTF8.toString();
  const mask = maskSource.includes("bufferUtil")
    ? "bufferutil"
    : maskSource.includes("websocketMask")
      ? "node:http websocketMask"
      : "JavaScript";
  const utf8 = utf8Source.includes("isUtf8(")
    ? "buffer.isUtf8"
    : utf8Source.includes("isValidUTF8(buf)")
      ? "utf-8-validate"
      : "JavaScript";
  return [`mask: ${mask}`, `UTF-8: ${utf8}`];
}

export async function startWs(deflate: boolean): Promise<Started> {
  const server = new WebSocketServer({
    host: HOST,
    port: 0,
    backlog: 4096,
    perMessageDeflate: deflate,
    maxPayload: MAX_MESSAGE_SIZE,
    clientTracking: false,
  });
  server.on("connection", (ws) => {
    ws.on("error", () => {});
    ws.on("message", (data, isBinary) => ws.send(data as Buffer, { binary: isBinary }));
  });
  await new Promise<void>((resolve) => server.once("listening", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("expected a TCP address");
  return { port: address.port, notes: nativeHelpers() };
}
