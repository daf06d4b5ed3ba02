/**
 * This library's client in the client workload, written the documented way:
 * `for await` over messages, `await send()`.
 *
 * @module
 */

import { connect } from "websockets-ts";
import type { OnMessage } from "./job.js";

export async function runOurs(
  url: string,
  payload: Uint8Array,
  inFlight: number,
  onMessage: OnMessage,
): Promise<void> {
  const ws = await connect(url, { compression: null, pingInterval: null, maxMessageSize: null });
  for (let i = 0; i < inFlight; i++) await ws.send(payload);
  void (async () => {
    try {
      for await (const message of ws) {
        onMessage(message.length);
        await ws.send(payload);
      }
    } catch {
      // The connection drops when the run stops.
    }
  })();
}
