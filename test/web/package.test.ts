/**
 * The published entry point `websockets-ts/web`, from `dist/` (`npm test`
 * builds it first), running code written for a browser's global WebSocket.
 */

import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { runNode } from "../helpers/child.js";
import { startServer, unhandledRejections } from "../helpers/server.js";

after(() => {
  assert.deepEqual(unhandledRejections(), []);
});

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/** Browser code, unchanged but for the line that installs the class as the global. */
const SCRIPT = `
import { WebSocket } from "websockets-ts/web";
globalThis.WebSocket = WebSocket;

const socket = new WebSocket(process.argv[1], ["chat"]);
socket.binaryType = "arraybuffer";
socket.onopen = () => {
  console.log("open", socket.protocol);
  socket.send("Hello");
  socket.send(new Uint8Array([1, 2, 3]));
};
socket.onmessage = (event) => {
  if (typeof event.data === "string") {
    console.log("text", event.data);
  } else {
    console.log("binary", new Uint8Array(event.data).join(","));
    socket.close(1000, "bye");
  }
};
socket.onerror = () => console.log("error");
socket.onclose = (event) => console.log("close", event.code, event.reason, event.wasClean);
`;

describe("websockets-ts/web", () => {
  it("resolves to the built module", async () => {
    // A variable, so that the type checker does not need dist/ to exist.
    const specifier = "websockets-ts/web";
    const module = (await import(specifier)) as Record<string, unknown>;
    assert.deepEqual(Object.keys(module).sort(), ["CloseEvent", "ErrorEvent", "WebSocket"]);
  });

  it("runs browser code against our server", async () => {
    const { server, uri } = await startServer(
      async (ws) => {
        for await (const message of ws) await ws.send(message);
      },
      { subprotocols: ["chat"] },
    );
    await using _server = server;
    const { code, stdout, stderr } = await runNode(["--input-type=module", "-e", SCRIPT, uri], {
      cwd: ROOT,
    });
    assert.equal(stderr, "");
    assert.equal(code, 0);
    assert.equal(
      stdout,
      ["open chat", "text Hello", "binary 1,2,3", "close 1000 bye true", ""].join("\n"),
    );
  });
});
