// The echo client written against the browser's WebSocket API, from
// `websockets-ts/web`: the same code runs in a browser. From the repository
// root, after `npm ci`, start the echo server (`npm start`, which builds the
// package and the examples), then, in another terminal:
//
//   node .build/examples/echo/web-client.js [uri] [message]
import { WebSocket } from "websockets-ts/web";

const uri = process.argv[2] ?? "ws://127.0.0.1:8001";
const message = process.argv[3] ?? "Hello!";

const ws = new WebSocket(uri);
ws.onopen = () => {
  console.log(">>>", message);
  ws.send(message);
};
ws.onmessage = (event) => {
  console.log("<<<", event.data);
  ws.close(1000, "done");
};
ws.onerror = (event) => {
  // Node's ErrorEvent carries what failed; a browser's only says that something did.
  console.error("error:", event.message);
  process.exitCode = 1;
};
ws.onclose = (event) => {
  console.log(`closed: ${event.code}${event.wasClean ? "" : " (not clean)"}`);
};
