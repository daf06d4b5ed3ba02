// A plain node:http application that also speaks WebSocket on the same port:
// GET / serves a page whose script joins the chat at /chat; every message a
// browser sends goes to every browser connected.
//
// From the repository root, after `npm ci`:
//
//   npm run build && npm run build:test    # dist/, then .build/examples/
//   node .build/examples/http/server.js
//   then open http://127.0.0.1:8000/ in two tabs.
import { once } from "node:events";
import * as http from "node:http";
import { broadcast, route, serve } from "websockets-ts";

const page = `<!doctype html>
<meta charset="utf-8">
<title>chat</title>
<form><input autofocus placeholder="say something"></form>
<ul></ul>
<script>
  const ws = new WebSocket(\`ws://\${location.host}/chat\`);
  const input = document.querySelector("input");
  ws.onmessage = (event) => {
    const item = document.createElement("li");
    item.textContent = event.data;
    document.querySelector("ul").append(item);
  };
  document.querySelector("form").onsubmit = (event) => {
    event.preventDefault();
    ws.send(input.value);
    input.value = "";
  };
</script>
`;

// The HTTP side: an ordinary request handler, unaware of WebSocket.
const httpServer = http.createServer((request, response) => {
  if (request.url === "/") {
    response.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
    response.end(page);
  } else if (request.url === "/healthz") {
    response.writeHead(200, { "Content-Type": "text/plain" });
    response.end("OK\n");
  } else {
    response.writeHead(404, { "Content-Type": "text/plain" });
    response.end("Not Found\n");
  }
});

// The WebSocket side: takes the server's upgrade requests; route() answers
// 404 to upgrades for any other path.
const chat = await serve(
  route({
    "/chat": async (ws) => {
      for await (const message of ws) broadcast(chat.connections, message);
    },
  }),
  { server: httpServer },
);

httpServer.listen(Number(process.env.PORT ?? 8000), "127.0.0.1");
await once(httpServer, "listening");
const { port } = httpServer.address() as { port: number };
console.log(`HTTP and WebSocket on http://127.0.0.1:${port}/ (WebSocket at /chat)`);

// Ctrl-C: close WebSocket connections with 1001, then stop the HTTP server.
const stop = async () => {
  await chat.close();
  httpServer.closeAllConnections();
  httpServer.close();
};
process.once("SIGINT", () => void stop());
process.once("SIGTERM", () => void stop());
await once(httpServer, "close");
