/**
 * What sending one message to many clients costs the server: this library's
 * `broadcast()` against a loop of `ws`'s `send()` over `wss.clients`, the
 * way `ws`'s documentation broadcasts. The server runs in this process; the
 * clients, raw sockets that only count the bytes they receive, in a child
 * process. Prints the server's CPU time per message and client, for three
 * rounds, once every client has received every byte.
 *
 * Run with `node .build/bench/broadcast.js [--server ours|ws]
 * [--connections 2000] [--turns 200] [--per-turn 1] [--size 100]`:
 * `--per-turn 10` broadcasts ten messages in each turn of the event loop,
 * `--turns` times, as a feed that publishes in bursts does.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { fork } from "node:child_process";
import type * as net from "node:net";
import { fileURLToPath } from "node:url";
import { broadcast, serve } from "websockets-ts";
import { WebSocketServer } from "ws";
import { messageFrom } from "./ipc.js";
import { open, openMany } from "./loadgen/connect.js";
import { upgradeRequest } from "./loadgen/wire.js";
import { HOST } from "./servers/started.js";

interface Options {
  server: string;
  connections: number;
  turns: number;
  perTurn: number;
  size: number;
}

function parseOptions(argv: string[]): Options {
  const options: Options = { server: "ours", connections: 2000, turns: 200, perTurn: 1, size: 100 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = argv[i + 1];
    if (arg === "--server") options.server = value ?? "ours";
    else if (arg === "--connections") options.connections = Number(value);
    else if (arg === "--turns") options.turns = Number(value);
    else if (arg === "--per-turn") options.perTurn = Number(value);
    else if (arg === "--size") options.size = Number(value);
    else continue;
    i++;
  }
  return options;
}

// --- Child: the clients ----------------------------------------------------

async function runClients(port: number, count: number): Promise<void> {
  const request = upgradeRequest(port, null);
  const opened = await openMany(count, 64, () => open(port, request));
  let received = 0;
  let expected = Number.POSITIVE_INFINITY;
  for (const connection of opened) {
    connection.socket.on("error", () => {});
    connection.listen((bytes) => {
      received += bytes.length;
      if (received >= expected) {
        expected = Number.POSITIVE_INFINITY;
        process.send?.("received");
      }
    });
  }
  process.on("message", (bytes) => {
    // Counted from now: the parent asks before it sends anything.
    received = 0;
    expected = Number(bytes);
    process.send?.("counting");
  });
  process.send?.("open");
}

// --- Parent: the server ----------------------------------------------------

/** Starts the server; returns its port and how it broadcasts. */
async function startServer(
  kind: string,
): Promise<{ port: number; send: (message: Buffer) => void }> {
  if (kind === "ws") {
    const server = new WebSocketServer({
      host: HOST,
      port: 0,
      perMessageDeflate: false,
      backlog: 4096,
    });
    await new Promise<void>((resolve) => server.once("listening", resolve));
    return {
      port: (server.address() as net.AddressInfo).port,
      send: (message) => {
        for (const client of server.clients) client.send(message);
      },
    };
  }
  const server = await serve(
    async (ws) => {
      await ws.closed;
    },
    { host: HOST, port: 0, compression: null, pingInterval: null, logger: null, backlog: 4096 },
  );
  return {
    port: (server.address() as net.AddressInfo).port,
    send: (message) => broadcast(server.connections, message),
  };
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

async function runServer(options: Options): Promise<void> {
  const { port, send } = await startServer(options.server);
  const n = options.connections;
  const child = fork(fileURLToPath(import.meta.url), ["--clients", String(port), String(n)], {
    stdio: "inherit",
  });
  await messageFrom(child, "open");
  const message = Buffer.alloc(options.size, 0x61);
  // RFC 6455 §5.2: a server's frame has no mask; 2 header bytes up to 125, 4 up to 65535.
  const frameSize = options.size + (options.size < 126 ? 2 : options.size < 65536 ? 4 : 10);
  const messages = options.turns * options.perTurn;
  const results: string[] = [];
  for (let round = 0; round < 3; round++) {
    const counting = messageFrom(child, "counting");
    child.send(String(n * messages * frameSize));
    await counting;
    const received = messageFrom(child, "received");
    const before = process.cpuUsage();
    for (let turn = 0; turn < options.turns; turn++) {
      for (let i = 0; i < options.perTurn; i++) send(message);
      await nextTurn();
    }
    await received;
    const used = process.cpuUsage(before);
    results.push(`${((used.user + used.system) / (messages * n)).toFixed(2)} µs`);
  }
  console.log(
    `${options.server}: ${n} clients, ${options.perTurn} × ${options.size} B per turn, ` +
      `server CPU per message and client: ${results.join(", ")}`,
  );
  child.kill();
  process.exit(0);
}

if (process.argv[2] === "--clients") {
  await runClients(Number(process.argv[3]), Number(process.argv[4]));
} else {
  await runServer(parseOptions(process.argv.slice(2)));
}
