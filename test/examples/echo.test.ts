/**
 * examples/echo/server.ts and examples/echo/client.ts, run as a user would:
 * in child processes, from `.build/examples/` (they import the published
 * entry point, so they run from `dist/`; `npm test` builds both first).
 */

import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { connect } from "../../src/node/client.js";
import type { ServerConnection } from "../../src/node/server.js";
import { runNode, startNode } from "../helpers/child.js";
import { deferred, startServer, unhandledRejections } from "../helpers/server.js";

after(() => {
  assert.deepEqual(unhandledRejections(), []);
});

const SERVER = fileURLToPath(new URL("../../examples/echo/server.js", import.meta.url));
const CLIENT = fileURLToPath(new URL("../../examples/echo/client.js", import.meta.url));
const LISTENING = /Listening on (ws:\/\/127\.0\.0\.1:(\d+))\n/;

describe("examples/echo/server", () => {
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    it(`echoes on the port PORT=0 picked, and closes with 1001 on ${signal}`, async () => {
      await using server = await startNode([SERVER], { env: { PORT: "0" }, ready: LISTENING });
      const [, uri, port] = server.ready;
      assert.notEqual(Number(port), 0, "the printed port is the one picked, not 0");

      const client = await connect(uri!);
      await client.send("Hello! ☕");
      assert.equal(await client.recv(), "Hello! ☕");
      await client.send(new Uint8Array([1, 2, 3]));
      assert.deepEqual([...(await client.recvBinary())], [1, 2, 3], "binary stays binary");

      server.child.kill(signal);
      const { code, signal: killedBy, stdout, stderr } = await server.exited;
      await client.closed;
      assert.equal(client.closeCode, 1001, "server.close() says going away");
      assert.equal(stderr, "");
      assert.equal(killedBy, null);
      assert.equal(code, 0, "a clean shutdown exits with 0");
      assert.match(stdout, /Ready to accept connections...\n<<< {2}Hello! ☕\n>>> {2}Hello! ☕\n/);
    });
  }

  it("fails with EADDRINUSE on a port already taken", async () => {
    const { server, port } = await startServer(async () => {});
    await using _ = server;
    const { code, stderr } = await runNode([SERVER], { env: { PORT: String(port) } });
    assert.equal(code, 1);
    assert.match(stderr, /EADDRINUSE/);
  });
});

describe("examples/echo/client", () => {
  it("sends a line read from stdin, prints the echo, and closes with 1000", async () => {
    const received: unknown[] = [];
    const closed = deferred<number | null>();
    const { server, uri } = await startServer(async (ws: ServerConnection) => {
      for await (const message of ws) {
        received.push(message);
        await ws.send(message);
      }
      await ws.closed;
      closed.resolve(ws.closeCode);
    });
    await using _ = server;
    const { code, stdout, stderr } = await runNode([CLIENT, uri], { input: "Hello echo! ☕\n" });
    assert.equal(stderr, "");
    assert.equal(code, 0);
    assert.equal(
      stdout,
      [
        `Attempting to connect to ${uri}...`,
        "Connection successful!",
        "Enter a message to send: >>> Sending: Hello echo! ☕",
        "<<< Waiting for echo...",
        "<<< Received: Hello echo! ☕",
        "Connection closed.",
        "",
      ].join("\n"),
    );
    assert.equal(await closed.promise, 1000, "the server received the client's 1000");
    assert.deepEqual(received, ["Hello echo! ☕"]);
  });
});
