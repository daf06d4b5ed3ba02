// A subscriber of the price feed (examples/feed/server.ts): subscribes,
// prints `count` ticks, then closes. From the repository root, after `npm ci`,
// with the server started:
//
//   npm run build && npm run build:test    # dist/, then .build/examples/
//   node .build/examples/feed/client.js [count] [uri]
import { connect } from "websockets-ts";

const count = Number(process.argv[2] ?? 5);
const uri = process.argv[3] ?? "ws://127.0.0.1:8002";
if (!Number.isInteger(count) || count < 1) {
  console.error("usage: client.js [count] [uri]  (count: a positive integer, 5 by default)");
  process.exit(2);
}

/** What the server sends; see examples/feed/server.ts. */
type FeedMessage =
  | { type: "subscribed"; symbols: string[]; tickMs: number }
  | { type: "unsubscribed" }
  | { type: "error"; message: string }
  | { type: "tick"; seq: number; time: string; prices: Record<string, number> };

let printed = 0;
{
  // Leaving this block, by `break` or by an error, sends a close frame (1000)
  // and waits for the server's: its handler ends and drops the subscription.
  await using feed = await connect(uri);
  console.log(`Connected to ${uri}.`);
  await feed.send(JSON.stringify({ type: "subscribe" }));
  for await (const data of feed) {
    const message = JSON.parse(String(data)) as FeedMessage;
    if (message.type === "subscribed") {
      console.log(`Subscribed: ${message.symbols.join(", ")}, a tick every ${message.tickMs} ms.`);
    } else if (message.type === "tick") {
      const quotes = Object.entries(message.prices)
        .map(([symbol, price]) => `${symbol} ${price.toFixed(2)}`)
        .join("  ");
      console.log(`#${message.seq} ${message.time.slice(11, 23)}  ${quotes}`);
      if (++printed === count) break;
    } else if (message.type === "error") {
      throw new Error(`the server says: ${message.message}`);
    }
  }
  // The loop also ends when the server closes first, e.g. with 1001 when it
  // is stopped: that is not the clean end this client is after.
  if (printed < count) {
    console.error(`The feed closed (${feed.closeCode}) after ${printed} of ${count} ticks.`);
    process.exitCode = 1;
  }
}
console.log(`Received ${printed} ticks; connection closed.`);
