// A live price feed, such as a trading dashboard reads: at a fixed rate the
// server moves its prices and pushes one JSON tick to every subscriber with
// broadcast(). Each client subscribes and unsubscribes with JSON commands:
//   {"type":"subscribe"}    answered {"type":"subscribed",...}, then ticks
//   {"type":"unsubscribe"}  answered {"type":"unsubscribed"}, no tick after it
// A tick: {"type":"tick","seq":42,"time":"2025-01-01T12:00:00.000Z","prices":{"ACME":101.25,...}}
//
// From the repository root, after `npm ci`:
//
//   npm run build && npm run build:test    # dist/, then .build/examples/
//   node .build/examples/feed/server.js
//   then: node .build/examples/feed/client.js 5
//   or:   npx websockets-ts ws://127.0.0.1:8002   and type {"type":"subscribe"}
//
// Settings, from the environment: PORT (default 8002; 0 picks a free port),
// TICK_MS (default 1000), SYMBOLS (comma-separated; default four made-up names),
// MAX_UNSENT (bytes a subscriber may leave unread before it misses ticks; default 65536).
import { broadcast, type ServerConnection, serve } from "websockets-ts";

const tickMs = Number(process.env.TICK_MS ?? 1000);
const symbols = (process.env.SYMBOLS ?? "ACME,GLOBEX,INITECH,UMBRELLA").split(",");
const maxUnsent = Number(process.env.MAX_UNSENT ?? 64 * 1024);
if (!(tickMs > 0)) throw new RangeError(`TICK_MS must be a positive number, not ${tickMs}`);
if (!(maxUnsent >= 0))
  throw new RangeError(`MAX_UNSENT must be a number of bytes, not ${maxUnsent}`);

const UNKNOWN_COMMAND = 'unknown command: send {"type":"subscribe"} or {"type":"unsubscribe"}';

/** Subscribed connections: the only ones ticks go to. */
const subscribers = new Set<ServerConnection>();

/** The command a client's message holds, or `null` if it holds none. */
function parseCommand(message: string | Uint8Array): "subscribe" | "unsubscribe" | null {
  if (typeof message !== "string") return null;
  try {
    const { type } = JSON.parse(message) as { type?: unknown };
    return type === "subscribe" || type === "unsubscribe" ? type : null;
  } catch {
    return null; // not JSON, or JSON null: not a command either
  }
}

const server = await serve(
  async (ws) => {
    try {
      for await (const message of ws) {
        switch (parseCommand(message)) {
          case "subscribe":
            // Acknowledged first, then added: the client sees the
            // acknowledgement before its first tick.
            await ws.send(JSON.stringify({ type: "subscribed", symbols, tickMs }));
            subscribers.add(ws);
            break;
          case "unsubscribe":
            // Removed first, then acknowledged: no tick follows the
            // acknowledgement.
            subscribers.delete(ws);
            await ws.send(JSON.stringify({ type: "unsubscribed" }));
            break;
          default:
            // A typo should not cost the client its connection: say what went wrong.
            await ws.send(JSON.stringify({ type: "error", message: UNKNOWN_COMMAND }));
        }
      }
    } finally {
      // However the connection ended (closed, broken), it gets no more ticks.
      subscribers.delete(ws);
    }
  },
  {
    host: "127.0.0.1",
    port: Number(process.env.PORT ?? 8002),
    // What broadcast() lets pile up for a subscriber before skipping it.
    writeHighWaterMark: maxUnsent,
  },
);

// Prices take a small random step each tick, in cents, and never reach zero.
const prices = new Map(symbols.map((symbol) => [symbol, 100]));
let seq = 0;
const ticker = setInterval(() => {
  for (const [symbol, price] of prices) {
    const next = Math.round(price * (1 + (Math.random() - 0.5) / 100) * 100) / 100;
    prices.set(symbol, Math.max(0.01, next));
  }
  seq += 1;
  // Serialized once, whatever the number of subscribers. broadcast() does not
  // wait for anyone: when a subscriber reads too slowly (a frozen browser tab,
  // a congested mobile link), its unsent bytes fill the kernel's socket
  // buffers, then pile up here only to writeHighWaterMark (MAX_UNSENT): past that, broadcast() skips it and it misses ticks until it
  // catches up. For prices that is the right trade: a stale tick is worthless
  // once a newer one exists, and buffering every tick for a client that never
  // reads would grow without bound. The other subscribers are not held up. A
  // client that stops reading for good stops answering pings too, and
  // keepalive (pingInterval, pingTimeout) eventually drops its connection.
  broadcast(
    subscribers,
    JSON.stringify({ type: "tick", seq, time: new Date(), prices: Object.fromEntries(prices) }),
  );
}, tickMs);

const { port } = server.address() as { port: number };
console.log(
  `Listening on ws://127.0.0.1:${port} (${symbols.length} symbols, a tick every ${tickMs} ms)`,
);

// Ctrl-C (SIGINT) or a service manager's SIGTERM: stop ticking, then
// server.close() closes every connection with 1001 (going away), which tells
// clients the server left on purpose, not that it crashed (1006), and waits
// for the handlers to finish. Nothing is left to keep the process alive.
const stop = () => {
  clearInterval(ticker);
  void server.close();
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
await server.serveForever();
console.log("Stopped.");
