/**
 * docs/reference/serve.md's servers, run from a project of a user's, each in
 * a child process on 127.0.0.1 and a port the system picks (instead of port
 * 8001 of every interface, or port 8000), against clients of the test's:
 * the echo server, the health check with token authentication, the
 * `handleUpgrade()` example, and the broadcast example. The page's
 * signatures are only type-checked.
 */

import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { type ClientConnection, connect, InvalidMessage } from "../../src/index.js";
import { unhandledRejections } from "../helpers/server.js";
import { edit, examplesOf, onLoopback, refusal, startProgram } from "./programs.js";
import { scratchProject } from "./project.js";

const PAGE = "docs/reference/serve.md";
const example = examplesOf(PAGE);

after(() => {
  assert.deepEqual(unhandledRejections(), []);
});

/** Sends `message` and returns the next message. */
async function roundTrip(ws: ClientConnection, message: string | Uint8Array): Promise<unknown> {
  await ws.send(message);
  return ws.recv();
}

describe(PAGE, () => {
  it("echo server: echoes text and binary messages, to several clients", async () => {
    using project = scratchProject();
    const code = edit(example('{ host: "127.0.0.1", port: 8001 }'), "port: 8001", "port: 0");
    await using server = await startProgram(project, "server", code);
    const uri = `ws://127.0.0.1:${server.port}`;
    await using first = await connect(uri);
    await using second = await connect(uri);
    assert.equal(await roundTrip(first, "Hello!"), "Hello!");
    assert.equal(await roundTrip(second, "Hi!"), "Hi!");
    const bytes = new Uint8Array([0, 1, 254, 255]);
    assert.deepEqual(new Uint8Array((await roundTrip(first, bytes)) as Uint8Array), bytes);
    assert.equal(server.stderr, "");
  });

  it("health check and tokens: answers /healthz, greets a valid token, refuses others", async () => {
    using project = scratchProject();
    const code = onLoopback(example('request.path === "/healthz"'));
    await using server = await startProgram(project, "server", code);
    const address = `127.0.0.1:${server.port}`;

    const health = await fetch(`http://${address}/healthz`);
    assert.deepEqual([health.status, await health.text()], [200, "OK\n"]);
    // The handler returns after its greeting: the connection closes with 1000.
    const ws = await connect(`ws://${address}/?token=s3cr3t-token`);
    assert.equal(await ws.recv(), "Hello, alice!");
    await ws.closed;
    assert.equal(ws.closeCode, 1000);
    for (const path of ["/", "/?token=guess"]) {
      const response = await refusal(connect(`ws://${address}${path}`));
      assert.deepEqual([response.status, response.text], [401, "Missing or invalid token.\n"]);
    }
    assert.equal(server.child.exitCode, null);
    assert.equal(server.stderr, "");
  });

  it("handleUpgrade(): plain HTTP, an echo on /echo, other upgrades dropped", async () => {
    using project = scratchProject();
    const code = edit(
      example('if (request.url === "/echo") echo.handleUpgrade(request, socket, head);'),
      'httpServer.listen(8000, "127.0.0.1");',
      'httpServer.listen(0, "127.0.0.1");',
    );
    await using server = await startProgram(project, "server", code);
    const address = `127.0.0.1:${server.port}`;

    const page = await fetch(`http://${address}/`);
    assert.equal(await page.text(), "Hello\n");
    await using ws = await connect(`ws://${address}/echo`);
    assert.equal(await roundTrip(ws, "Hello!"), "Hello!");
    await assert.rejects(connect(`ws://${address}/other`), InvalidMessage);
    assert.equal(server.stderr, "");
  });

  it("broadcast(): a message goes to every client, and so does the time, every second", async () => {
    using project = scratchProject();
    const code = onLoopback(example("broadcast(server.connections, message)"));
    await using server = await startProgram(project, "server", code);
    const uri = `ws://127.0.0.1:${server.port}`;
    const started = Date.now();
    const clients = [await connect(uri), await connect(uri)];
    await clients[0]!.send("Hello, everyone!");

    for (const ws of clients) {
      // The broadcast message and a tick, in either order.
      const received: string[] = [];
      const tick = () => received.find((message) => message.startsWith("{"));
      while (!received.includes("Hello, everyone!") || tick() === undefined) {
        assert.ok(received.length < 5, String(received));
        received.push(await ws.recvText());
      }
      const { at } = JSON.parse(tick()!) as { at: number };
      assert.ok(at >= started && at <= Date.now(), tick());
      await ws.close();
    }
    assert.equal(server.stderr, "");
  });
});
