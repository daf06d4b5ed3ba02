/**
 * Servers for the blocking client's tests, each on its own worker thread: a
 * blocking call freezes this thread's event loop with `Atomics.wait`, so a
 * server sharing it would never answer.
 *
 * Imported on the main thread, this module only exports {@link Peer}; loaded
 * as a worker by {@link Peer.start}, it runs the server `workerData` names.
 *
 * Every kind of server speaks the same small script, sent as text messages:
 * `close <code> <reason>` closes with that code, `hold <text>` keeps a text
 * that `release` sends, `drop` destroys the TCP connection, `stream <n>`
 * sends n numbered messages; anything else is echoed. The `deflate` server
 * only echoes.
 */

import { once } from "node:events";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import type WebSocket from "ws";
import { WebSocketServer } from "ws";
import { Close } from "../../src/core/close.js";
import { PerMessageDeflate } from "../../src/core/extensions/permessage-deflate.js";
import { Frame } from "../../src/core/frame.js";
import { serializeFrame } from "../../src/core/frame-writer.js";
import { Opcode } from "../../src/core/opcodes.js";
import type { ServeOptions, ServerConnection } from "../../src/node/server.js";
import { concat } from "../helpers/bytes.js";
import { acceptRaw, rawServer } from "../helpers/raw.js";
import { startServer } from "../helpers/server.js";

/**
 * - `ours`: this library's server. `/forbidden` is answered 403; the
 *   `chat` subprotocol is selected when offered.
 * - `ws`: a `ws` WebSocketServer, same behaviour (its refusal is a 401);
 *   it also reports the payload of each ping it receives as a `ping` event.
 * - `vanish`: accepts the handshake, sends the text "first", then the header
 *   and 10 bytes of a 100-byte binary frame, then destroys the socket.
 * - `silent`: accepts TCP connections and never answers.
 * - `lingering`: accepts the handshake, sends the text "last" and a close
 *   frame (1000, "bye"), then reads and ignores everything, never closing
 *   the TCP connection.
 * - `mute`: accepts the handshake, then stops reading and never answers,
 *   not even pings.
 * - `tls`: this library's server over TLS, with test/fixtures/tls's
 *   certificate for localhost.
 * - `unix`: this library's server on a Unix socket in a temporary directory.
 * - `deflate`: a raw server that accepts permessage-deflate (answering a bare
 *   `permessage-deflate`), reports every data frame it reads as a `frame`
 *   event, echoes each message uncompressed, and answers a close frame.
 */
export type PeerKind =
  | "ours"
  | "ws"
  | "vanish"
  | "lingering"
  | "silent"
  | "mute"
  | "tls"
  | "unix"
  | "deflate";

/** What the server observed on the connection to `path`, reported to the test. */
export type PeerEvent =
  | { type: "request"; path: string; headers: [string, string][] }
  | { type: "closed"; path: string; code: number; reason: string }
  /** A ping as the `ws` server received it: its payload. */
  | { type: "ping"; path: string; data: number[] }
  /** A data frame as it arrived: `size` is its payload's length on the wire. */
  | { type: "frame"; path: string; opcode: Opcode; rsv1: boolean; fin: boolean; size: number };

interface PeerSetup {
  readonly peer: PeerKind;
}

/** A server on 127.0.0.1 running on a worker thread. */
export class Peer implements AsyncDisposable {
  private readonly events: PeerEvent[] = [];
  private readonly waiters = new Set<() => void>();

  private constructor(
    private readonly worker: Worker,
    /** The TCP port, or the path of the Unix socket. */
    readonly address: number | string,
  ) {
    worker.on("message", (event: PeerEvent) => {
      this.events.push(event);
      for (const wake of this.waiters) wake();
    });
  }

  /** `ws://127.0.0.1:<port><path>`: give each test its own path to tell its events apart. */
  uri(path = "/"): string {
    return `ws://127.0.0.1:${this.address}${path}`;
  }

  /** Starts a server of this kind and waits until it listens. */
  static async start(kind: PeerKind): Promise<Peer> {
    const setup: PeerSetup = { peer: kind };
    const worker = new Worker(new URL(import.meta.url), { workerData: setup });
    const [address] = (await once(worker, "message")) as [number | string];
    return new Peer(worker, address);
  }

  /** Waits for the server to report an event of this type on the connection to `path`. */
  async next<T extends PeerEvent["type"]>(
    type: T,
    path: string,
  ): Promise<Extract<PeerEvent, { type: T }>> {
    for (;;) {
      const index = this.events.findIndex((event) => event.type === type && event.path === path);
      if (index >= 0) return this.events.splice(index, 1)[0] as Extract<PeerEvent, { type: T }>;
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.waiters.delete(wake);
          resolve();
        };
        this.waiters.add(wake);
      });
    }
  }

  /** Stops the server and its thread. */
  async [Symbol.asyncDispose](): Promise<void> {
    const exited = once(this.worker, "exit");
    this.worker.postMessage("stop");
    await exited;
  }
}

// --- The worker side ------------------------------------------------------

function report(event: PeerEvent): void {
  parentPort!.postMessage(event);
}

/** What a script line asks for; `null` means echo. */
type Action =
  | { kind: "close"; code: number; reason: string }
  | { kind: "hold"; text: string }
  | { kind: "release" }
  | { kind: "drop" }
  | { kind: "stream"; count: number }
  | null;

function parse(message: string | Uint8Array): Action {
  if (typeof message !== "string") return null;
  const [verb, ...rest] = message.split(" ");
  switch (verb) {
    case "close":
      return { kind: "close", code: Number(rest[0]), reason: rest.slice(1).join(" ") };
    case "hold":
      return { kind: "hold", text: rest.join(" ") };
    case "release":
      return { kind: "release" };
    case "drop":
      return { kind: "drop" };
    case "stream":
      return { kind: "stream", count: Number(rest[0]) };
    default:
      return null;
  }
}

async function serveOurs(listen: ServeOptions = {}): Promise<() => Promise<void>> {
  const { server, port } = await startServer(
    async (ws: ServerConnection) => {
      const path = ws.request!.path;
      report({ type: "request", path, headers: [...ws.request!.headers] });
      let held = "";
      try {
        for await (const message of ws) {
          const action = parse(message);
          if (action === null) await ws.send(message);
          else if (action.kind === "close") await ws.close(action.code, action.reason);
          else if (action.kind === "hold") held = action.text;
          else if (action.kind === "release") await ws.send(held);
          else if (action.kind === "stream") {
            for (let i = 0; i < action.count; i++) await ws.send(`message ${i}`);
          } else {
            // The protected socket is the only way to vanish without a close frame.
            (ws as unknown as { socket: net.Socket }).socket.destroy();
          }
        }
      } catch {
        // An abnormal closure ends the loop; the closed event says how.
      }
      await ws.closed;
      report({ type: "closed", path, code: ws.closeCode ?? 1006, reason: ws.closeReason ?? "" });
    },
    {
      selectSubprotocol: (offered) => (offered.includes("chat") ? "chat" : null),
      maxMessageSize: 4 * 1024 * 1024,
      processRequest: (_ws, request) =>
        request.path === "/forbidden" ? { status: 403, body: "go away" } : null,
      ...listen,
    },
  );
  parentPort!.postMessage(listen.path ?? port);
  return () => server.close();
}

const TLS_FIXTURES = new URL("../../../test/fixtures/tls/", import.meta.url);

async function serveTls(): Promise<() => Promise<void>> {
  const [key, cert] = await Promise.all(
    ["localhost-key.pem", "localhost.pem"].map((file) => readFile(new URL(file, TLS_FIXTURES))),
  );
  return serveOurs({ tls: { key: key!, cert: cert! } });
}

async function serveUnix(): Promise<() => Promise<void>> {
  const directory = await mkdtemp(join(tmpdir(), "sync-peer-"));
  const stop = await serveOurs({
    host: undefined,
    port: undefined,
    path: join(directory, "ws.sock"),
  });
  return async () => {
    await stop();
    await rm(directory, { recursive: true, force: true });
  };
}

async function serveWs(): Promise<() => Promise<void>> {
  const server = new WebSocketServer({
    host: "127.0.0.1",
    port: 0,
    maxPayload: 4 * 1024 * 1024,
    verifyClient: (info: { req: { url?: string | undefined } }) => info.req.url !== "/forbidden",
    handleProtocols: (protocols: Set<string>) => (protocols.has("chat") ? "chat" : false),
  });
  server.on("connection", (socket: WebSocket, request) => {
    const headers: [string, string][] = [];
    for (let i = 0; i < request.rawHeaders.length; i += 2) {
      headers.push([request.rawHeaders[i]!, request.rawHeaders[i + 1]!]);
    }
    const path = request.url ?? "/";
    report({ type: "request", path, headers });
    let held = "";
    socket.on("message", (data: Buffer, isBinary: boolean) => {
      const action = parse(isBinary ? data : data.toString());
      if (action === null) socket.send(data, { binary: isBinary });
      else if (action.kind === "close") socket.close(action.code, action.reason);
      else if (action.kind === "hold") held = action.text;
      else if (action.kind === "release") socket.send(held);
      else if (action.kind === "stream") {
        for (let i = 0; i < action.count; i++) socket.send(`message ${i}`);
      } else socket.terminate();
    });
    socket.on("ping", (data: Buffer) => report({ type: "ping", path, data: [...data] }));
    socket.on("close", (code: number, reason: Buffer) => {
      report({ type: "closed", path, code, reason: reason.toString() });
    });
  });
  await once(server, "listening");
  parentPort!.postMessage((server.address() as net.AddressInfo).port);
  return async () => {
    for (const client of server.clients) client.terminate();
    await new Promise((resolve) => server.close(resolve));
  };
}

async function serveVanishing(): Promise<() => Promise<void>> {
  const server = await rawServer((peer) => {
    void (async () => {
      await acceptRaw(peer);
      peer.write(concat(serializeFrame(new Frame(Opcode.TEXT, Buffer.from("first")), null)));
      const partial = concat(serializeFrame(new Frame(Opcode.BINARY, new Uint8Array(100)), null));
      // The frame's header and 10 of its 100 bytes, then the server is gone.
      peer.socket.write(partial.subarray(0, partial.length - 90), () => peer.socket.destroy());
    })();
  });
  parentPort!.postMessage(server.port);
  return () => server.close();
}

async function serveLingering(): Promise<() => Promise<void>> {
  const server = await rawServer((peer) => {
    void (async () => {
      await acceptRaw(peer);
      peer.write(
        concat([
          ...serializeFrame(new Frame(Opcode.TEXT, Buffer.from("last")), null),
          ...serializeFrame(new Frame(Opcode.CLOSE, new Close(1000, "bye").serialize()), null),
        ]),
      );
    })();
  });
  parentPort!.postMessage(server.port);
  return () => server.close();
}

async function serveMute(): Promise<() => Promise<void>> {
  const server = await rawServer((peer) => {
    void acceptRaw(peer).then(() => peer.socket.pause());
  });
  parentPort!.postMessage(server.port);
  return () => server.close();
}

async function serveSilent(): Promise<() => Promise<void>> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  parentPort!.postMessage((server.address() as net.AddressInfo).port);
  return async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  };
}

async function serveDeflate(): Promise<() => Promise<void>> {
  const server = await rawServer((peer) => {
    void (async () => {
      const head = await acceptRaw(peer, "Sec-WebSocket-Extensions: permessage-deflate\r\n");
      const path = /^GET (\S+)/.exec(head)?.[1] ?? "/";
      // A 32 KiB window decodes whatever window the client compresses with.
      const inflater = new PerMessageDeflate({
        localNoContextTakeover: false,
        remoteNoContextTakeover: false,
        localMaxWindowBits: 15,
        remoteMaxWindowBits: 15,
      });
      const reply = (frame: Frame) => peer.write(concat(serializeFrame(frame, null)));
      let opcode: Opcode = Opcode.TEXT;
      let parts: Uint8Array[] = [];
      for (;;) {
        const frame = await peer.readFrame();
        if (frame === null) return;
        const { rsv1, fin } = frame;
        switch (frame.opcode) {
          case Opcode.CLOSE:
            reply(new Frame(Opcode.CLOSE, frame.data));
            peer.socket.end();
            return;
          case Opcode.PING:
            reply(new Frame(Opcode.PONG, frame.data));
            continue;
          case Opcode.PONG:
            continue;
          case Opcode.TEXT:
          case Opcode.BINARY:
            opcode = frame.opcode;
            parts = [];
        }
        report({ type: "frame", path, opcode: frame.opcode, rsv1, fin, size: frame.data.length });
        parts.push(inflater.decode(frame, Number.POSITIVE_INFINITY).data);
        if (fin) reply(new Frame(opcode, concat(parts)));
      }
    })();
  });
  parentPort!.postMessage(server.port);
  return () => server.close();
}

const SERVERS = {
  ours: serveOurs,
  ws: serveWs,
  vanish: serveVanishing,
  lingering: serveLingering,
  silent: serveSilent,
  mute: serveMute,
  tls: serveTls,
  unix: serveUnix,
  deflate: serveDeflate,
} as const;

// `node --test` also runs this file on the main thread, where it does nothing.
if (!isMainThread && (workerData as PeerSetup | null)?.peer !== undefined) {
  const stop = await SERVERS[(workerData as PeerSetup).peer]();
  parentPort!.once("message", () => {
    void stop().then(() => parentPort!.close());
  });
}
