/**
 * The servers of the differential test of our WHATWG `WebSocket` against
 * Chromium's, all on 127.0.0.1: our `serve()` for well-behaved peers, a raw
 * TCP server for misbehaving ones, and an HTTP server that serves the page
 * and answers long polls telling a script when a server saw something. The
 * first path segment picks the behaviour, the second names the run; what each
 * server observed is kept by run, to compare across clients.
 */

import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { ConnectionClosedOK } from "../../src/core/errors.js";
import { acceptKey } from "../../src/core/handshake.js";
import { Opcode } from "../../src/core/opcodes.js";
import type { ServerConnection } from "../../src/node/server.js";
import { closePayload, type RawPeer, rawServer } from "../helpers/raw.js";
import { deferred, startServer } from "../helpers/server.js";

/** What a server saw of one run: close codes received, subprotocols offered… */
export type Observation = Record<string, string | number | boolean | null | number[]>;

/** The size of the message of the `big` behaviour: over the default `maxMessageSize`. */
export const BIG_MESSAGE_SIZE = 2 * 1024 * 1024;

/** An empty page, for the browser's scripts to run in an http://127.0.0.1 origin. */
const PAGE = '<!doctype html>\n<meta charset="utf-8">\n<title>websockets-ts web</title>\n';

/** How long a long poll waits for a server event before answering 504. */
const LONG_POLL_MS = 10_000;

/** `/behaviour/run…` → `[behaviour, run]`. */
function route(path: string): [string, string] {
  const [, behaviour = "", run = ""] = path.split("?")[0]!.split("/");
  return [behaviour, run];
}

/** Promises by key, created by whichever side asks first. */
class Signals<T> {
  readonly #entries = new Map<string, ReturnType<typeof deferred<T>>>();

  #get(key: string) {
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      entry = deferred<T>();
      this.#entries.set(key, entry);
    }
    return entry;
  }

  resolve(key: string, value: T): void {
    this.#get(key).resolve(value);
  }

  wait(key: string): Promise<T> {
    return this.#get(key).promise;
  }
}

/** Answers the opening handshake whose head was read, with a minimal 101. */
function accept(peer: RawPeer, head: string): void {
  const key = /sec-websocket-key: *(\S+)/i.exec(head)?.[1] ?? "";
  peer.write(
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      `Sec-WebSocket-Accept: ${acceptKey(key)}\r\n\r\n`,
  );
}

/** Starts the three servers; dispose of the result to stop them. */
export async function startScenarioServers() {
  const observations = new Signals<Observation>();
  const events = new Signals<void>();

  /** Our server: echo, closes started by the server, subprotocols, 403, a big message. */
  const served = await startServer(
    async (ws: ServerConnection) => {
      const [behaviour, run] = route(ws.request!.path);
      const seen: Observation = { subprotocol: ws.subprotocol };
      try {
        switch (behaviour) {
          case "server-close":
            await ws.send("a");
            await ws.send("b");
            await ws.close(4000, "server bye");
            break;
          case "server-close-empty":
            // RFC 6455 §7.4.1: 1005 is never sent; close(1005) sends a close frame without a code.
            await ws.close(1005);
            break;
          case "big":
            await ws.send(new Uint8Array(BIG_MESSAGE_SIZE).fill(7));
            await ws.close(1000, "big sent");
            break;
          default:
            for await (const message of ws) await ws.send(message);
        }
      } catch (error) {
        // The client failed the connection; its close code tells how. An echo
        // that lost the race with a normal close (ConnectionClosedOK) is no
        // failure.
        if (!(error instanceof ConnectionClosedOK)) seen.handlerError = (error as Error).name;
      }
      await ws.closed;
      seen.closeCode = ws.closeCode;
      seen.closeReason = ws.closeReason;
      observations.resolve(run, seen);
    },
    {
      // Room to echo the browser's messages; the big message goes the other way.
      maxMessageSize: 4 * 1024 * 1024,
      processRequest: (_connection, request) => {
        const [behaviour, run] = route(request.path);
        if (behaviour !== "forbidden") return undefined;
        observations.resolve(run, { refused: 403 });
        return { status: 403, body: "Forbidden\n" };
      },
      selectSubprotocol: (offered, request) => {
        const [behaviour] = route(request.path);
        return behaviour === "subprotocol" && offered.includes("chat.v1") ? "chat.v1" : null;
      },
    },
  );

  /** The raw server: drops the TCP connection, delays the handshake, sends invalid UTF-8. */
  const raw = await rawServer((peer) => {
    void (async () => {
      const head = await peer.readHead();
      const [behaviour, run] = route(head.split(" ")[1] ?? "");
      switch (behaviour) {
        case "drop":
          accept(peer, head);
          // A FIN right after the 101, without a close frame.
          peer.socket.end();
          await peer.closed;
          observations.resolve(run, { dropped: true });
          break;
        case "invalid-utf8": {
          accept(peer, head);
          peer.writeFrame(Opcode.TEXT, new Uint8Array([0x48, 0xff, 0x49]));
          const frame = await peer.readUntilClose();
          // Whatever the client sent before giving up: a close frame, or nothing.
          peer.socket.end();
          const payload = closePayload(frame);
          observations.resolve(run, {
            closeCode: payload?.[0] ?? null,
            closeReason: payload?.[1] ?? null,
          });
          break;
        }
        case "delay": {
          // Never answers: the handshake is pending until the client gives up.
          events.resolve(`${run}/request`);
          await peer.closed;
          observations.resolve(run, { clientGaveUp: true });
          break;
        }
        default:
          // "sink": connections the scenario closes at once.
          await peer.closed;
      }
    })();
  });

  /** The page, and long polls: `GET /await/<run>/<event>` answers once the event happened. */
  const http = createServer((request, response) => {
    const match = /^\/await\/([^/]+)\/([^/]+)$/.exec(request.url ?? "");
    if (match === null) {
      response.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
      response.end(PAGE);
      return;
    }
    const timer = setTimeout(() => {
      response.writeHead(504).end();
    }, LONG_POLL_MS);
    timer.unref();
    void events.wait(`${match[1]}/${match[2]}`).then(() => {
      clearTimeout(timer);
      if (!response.headersSent) response.writeHead(200).end();
    });
  });
  http.listen(0, "127.0.0.1");
  await new Promise((resolve) => http.once("listening", resolve));

  return {
    served: served.uri,
    raw: `ws://127.0.0.1:${raw.port}`,
    http: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
    /** What the servers saw of `run`, once they are done with it. */
    observed(run: string): Promise<Observation> {
      return observations.wait(run);
    },
    async [Symbol.asyncDispose]() {
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
      await raw.close();
      await served.server.close();
    },
  };
}

export type ScenarioServers = Awaited<ReturnType<typeof startScenarioServers>>;
