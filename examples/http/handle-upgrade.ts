// Routing upgrade requests yourself, as frameworks do (Express, Fastify,
// Next.js): the node:http server's "upgrade" listener decides which requests
// go to the WebSocket server; the others are refused with plain HTTP.
//
// From the repository root, after `npm ci`:
//
//   npm run build && npm run build:test    # dist/, then .build/examples/
//   node .build/examples/http/handle-upgrade.js
//   then: npx websockets-ts ws://127.0.0.1:8000/echo
import { once } from "node:events";
import * as http from "node:http";
import { serve } from "websockets-ts";

const httpServer = http.createServer((_request, response) => {
  response.writeHead(200, { "Content-Type": "text/plain" });
  response.end("Plain HTTP here; WebSocket at /echo.\n");
});

// listen: false: this server only takes what handleUpgrade() gives it.
const echo = await serve(
  async (ws) => {
    for await (const message of ws) await ws.send(message);
  },
  { listen: false },
);

httpServer.on("upgrade", (request: http.IncomingMessage, socket, head) => {
  const { pathname } = new URL(request.url ?? "/", "http://localhost");
  if (pathname === "/echo") {
    echo.handleUpgrade(request, socket, head);
    return;
  }
  // Node no longer listens for this socket's errors: without a listener, a
  // client that resets the connection would crash the process.
  socket.on("error", () => socket.destroy());
  socket.resume(); // discard what the client sends, so that its FIN gets through
  socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
  setTimeout(() => socket.destroy(), 10_000).unref(); // for a client that never closes its side
});

httpServer.listen(Number(process.env.PORT ?? 8000), "127.0.0.1");
await once(httpServer, "listening");
const { port } = httpServer.address() as { port: number };
console.log(`HTTP on http://127.0.0.1:${port}/, WebSocket on ws://127.0.0.1:${port}/echo`);

const stop = async () => {
  await echo.close();
  httpServer.closeAllConnections();
  httpServer.close();
};
process.once("SIGINT", () => void stop());
process.once("SIGTERM", () => void stop());
await once(httpServer, "close");
