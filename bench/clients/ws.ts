/**
 * The `ws` client in the client workload, with whatever optional addons are
 * installed (as a user of `ws` gets them).
 *
 * @module
 */

import { once } from "node:events";
import { WebSocket } from "ws";
import type { OnMessage } from "./job.js";

export async function runWs(
  url: string,
  payload: Uint8Array,
  inFlight: number,
  onMessage: OnMessage,
): Promise<void> {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  ws.on("error", () => {});
  await once(ws, "open");
  ws.on("message", (data: Buffer) => {
    onMessage(data.length);
    ws.send(payload);
  });
  for (let i = 0; i < inFlight; i++) ws.send(payload);
}
