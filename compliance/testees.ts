/**
 * The implementations under test, in both roles: this library's `serve()`
 * and `connect()`, and the `ws` package as a reference that validates the
 * suite. Each server echoes every message; each client echoes every message
 * it receives until the connection closes, as Autobahn's testees do.
 *
 * @module
 */

import { once } from "node:events";
import type { AddressInfo } from "node:net";
import WebSocket, { WebSocketServer } from "ws";
import { connect } from "../src/node/client.js";
import type { DeflateOptions } from "../src/node/compression.js";
import { type ServerConnection, serve } from "../src/node/server.js";
import type { DeflateOffer } from "./deflate.js";
import type { ClientRunner } from "./fuzzing-server.js";

/**
 * Largest message the testees accept. Section 9 sends 16 MiB messages, far
 * above this library's 1 MiB default: testees are configured for it, as
 * Autobahn's are.
 */
export const TESTEE_MAX_MESSAGE = 64 * 1024 * 1024;

/**
 * `ws` options for section 9: 9.3.1 and 9.4.1 send 65,536 fragments, over
 * `ws`'s default `maxFragments` (16,384, answered with 1008), so that limit
 * is lifted like the size limit.
 */
const WS_LIMITS = { maxPayload: TESTEE_MAX_MESSAGE, maxFragments: 0 } as const;

/** A running echo server under test. */
export interface RunningServer {
  /** `ws://host:port` */
  readonly url: string;
  close(): Promise<void>;
}

/** An implementation under test, in one or both roles. */
export interface Testee {
  readonly name: string;
  /** Starts an echo server on 127.0.0.1. */
  readonly startServer?: () => Promise<RunningServer>;
  /** Runs an echo client for one case. */
  readonly runClient?: ClientRunner;
}

/**
 * This library's client settings for a case's offer. Section 13's accepts ask
 * for `client_no_context_takeover` only of clients whose offer carries it, so
 * a client testee is configured, as Autobahn's are, to offer it in the cases
 * whose fuzzing client offers `server_no_context_takeover` (13.2, 13.5–13.7),
 * and to request the server window that the case's fuzzing client requests.
 */
function ourDeflateOptions(offer: DeflateOffer | null): DeflateOptions | undefined {
  if (offer === null) return undefined;
  const noContextTakeover = offer.requestNoContextTakeover ?? false;
  return {
    noContextTakeover,
    peerNoContextTakeover: noContextTakeover,
    peerWindowBits: offer.requestMaxWindowBits || null,
  };
}

/** The same settings, in `ws`'s terms. */
function wsDeflateOptions(offer: DeflateOffer | null): WebSocket.PerMessageDeflateOptions | true {
  if (offer === null) return true;
  const noContextTakeover = offer.requestNoContextTakeover ?? false;
  return {
    clientNoContextTakeover: noContextTakeover,
    serverNoContextTakeover: noContextTakeover,
    ...(offer.requestMaxWindowBits ? { serverMaxWindowBits: offer.requestMaxWindowBits } : {}),
  };
}

async function echo(ws: ServerConnection): Promise<void> {
  for await (const message of ws) await ws.send(message);
}

/** This library: `serve()` and `connect()` from `src/node/`. */
export const websocketsTs: Testee = {
  name: "websockets-ts",
  async startServer() {
    const server = await serve(echo, {
      host: "127.0.0.1",
      port: 0,
      logger: null,
      maxMessageSize: TESTEE_MAX_MESSAGE,
    });
    const { port } = server.address() as AddressInfo;
    return { url: `ws://127.0.0.1:${port}`, close: () => server.close() };
  },
  async runClient(url, { deflateOffer }) {
    const deflate = ourDeflateOptions(deflateOffer);
    const ws = await connect(url, {
      logger: null,
      maxMessageSize: TESTEE_MAX_MESSAGE,
      ...(deflate ? { deflate } : {}),
    });
    try {
      for await (const message of ws) await ws.send(message);
    } catch {
      // An abnormal closure is part of many cases; the fuzzer grades it.
    }
    await ws.close();
  },
};

/** The `ws` package, the reference the suite is validated against. */
export const ws: Testee = {
  name: "ws",
  async startServer() {
    const server = new WebSocketServer({
      host: "127.0.0.1",
      port: 0,
      ...WS_LIMITS,
      // Off by default on a ws server; sections 12 and 13 need it.
      perMessageDeflate: true,
    });
    server.on("connection", (socket) => {
      socket.on("message", (data, isBinary) => socket.send(data, { binary: isBinary }));
      socket.on("error", () => {});
    });
    await once(server, "listening");
    const { port } = server.address() as AddressInfo;
    return {
      url: `ws://127.0.0.1:${port}`,
      close: async () => {
        for (const client of server.clients) client.terminate();
        await new Promise((resolve) => server.close(resolve));
      },
    };
  },
  runClient(url, { deflateOffer }) {
    return new Promise((resolve) => {
      const socket = new WebSocket(url, {
        ...WS_LIMITS,
        perMessageDeflate: wsDeflateOptions(deflateOffer),
      });
      socket.on("message", (data, isBinary) => socket.send(data, { binary: isBinary }));
      socket.on("error", () => {});
      socket.on("close", () => resolve());
    });
  },
};

/** Every known testee, by name. */
export const TESTEES: Readonly<Record<string, Testee>> = {
  [websocketsTs.name]: websocketsTs,
  [ws.name]: ws,
};
