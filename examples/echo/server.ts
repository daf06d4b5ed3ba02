// The seed's chapter 1 echo server: every message received is sent back.
// From the repository root, after `npm ci`, `npm start` builds the package and
// the examples, then runs it; `npm run client` in another terminal talks to it.
import { serve } from "websockets-ts";

await using server = await serve(
  async (ws) => {
    for await (const message of ws) {
      console.log("<<< ", message);
      await ws.send(message);
      console.log(">>> ", message);
    }
  },
  { host: "127.0.0.1", port: Number(process.env.PORT ?? 8001) },
);
console.log(`🔥 Listening on ws://127.0.0.1:${(server.address() as { port: number }).port}`);
console.log("Ready to accept connections...");
// Ctrl-C closes the server cleanly: open connections get 1001 (going away).
process.once("SIGINT", () => void server.close());
process.once("SIGTERM", () => void server.close());
await server.serveForever();
