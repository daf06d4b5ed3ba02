/**
 * This library's echo server, written the way its documentation says to.
 *
 * @module
 */

import type * as net from "node:net";
import { serve } from "websockets-ts";
import { MAX_MESSAGE_SIZE } from "../kinds.js";
import { HOST, type Started } from "./started.js";

/**
 * @param pingInterval keepalive's interval: `null`, as the other servers have
 *   none, except where the default's cost is what is measured.
 */
export async function startOurs(
  compression: boolean,
  pingInterval: number | null = null,
): Promise<Started> {
  const server = await serve(
    async (ws) => {
      for await (const message of ws) await ws.send(message);
    },
    {
      host: HOST,
      port: 0,
      compression: compression ? "deflate" : null,
      // Keepalive pings would add timers and traffic the peers do not have.
      pingInterval,
      maxMessageSize: MAX_MESSAGE_SIZE,
      // The load generator drops connections at the end of a run; that is not news.
      logger: null,
      backlog: 4096,
    },
  );
  return { port: (server.address() as net.AddressInfo).port, notes: [] };
}
