/**
 * examples/http/server.ts and examples/http/handle-upgrade.ts, run as a user
 * would: in child processes, from `.build/examples/` (they import the
 * published entry point, so they run from `dist/`; `npm test` builds both
 * first). Each serves HTTP and WebSocket on one port: both are checked.
 */

import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { InvalidStatus } from "../../src/core/errors.js";
import { connect } from "../../src/node/client.js";
import { startNode } from "../helpers/child.js";
import { RawPeer } from "../helpers/raw.js";
import { unhandledRejections } from "../helpers/server.js";

after(() => {
  assert.deepEqual(unhandledRejections(), []);
});

const CHAT = fileURLToPath(new URL("../../examples/http/server.js", import.meta.url));
const HANDLE_UPGRADE = fileURLToPath(
  new URL("../../examples/http/handle-upgrade.js", import.meta.url),
);

/** Asserts that an upgrade to `uri` is refused with `status`. */
async function assertRefused(uri: string, status: number): Promise<void> {
  await assert.rejects(connect(uri), (error: unknown) => {
    assert.ok(error instanceof InvalidStatus);
    assert.equal(error.response.status, status);
    return true;
  });
}

describe("examples/http/server", () => {
  it("serves the page over HTTP and relays chat messages to every client", async () => {
    await using server = await startNode([CHAT], {
      env: { PORT: "0" },
      ready: /HTTP and WebSocket on http:\/\/127\.0\.0\.1:(\d+)\/ \(WebSocket at \/chat\)\n/,
    });
    const port = Number(server.ready[1]);
    assert.notEqual(port, 0, "the printed port is the one picked, not 0");

    const page = await fetch(`http://127.0.0.1:${port}/`);
    assert.equal(page.status, 200);
    assert.equal(page.headers.get("content-type"), "text/html; charset=utf-8");
    const html = await page.text();
    assert.match(html, /<title>chat<\/title>/);
    assert.match(html, /new WebSocket\(`ws:\/\/\$\{location\.host\}\/chat`\)/);
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    assert.deepEqual([health.status, await health.text()], [200, "OK\n"]);
    const missing = await fetch(`http://127.0.0.1:${port}/missing`);
    assert.deepEqual([missing.status, await missing.text()], [404, "Not Found\n"]);

    await assertRefused(`ws://127.0.0.1:${port}/elsewhere`, 404);

    // Two tabs: what one says, both see (the sender too, as the page shows it).
    const alice = await connect(`ws://127.0.0.1:${port}/chat`);
    const bob = await connect(`ws://127.0.0.1:${port}/chat`);
    await alice.send("Hello from Alice ☕");
    assert.equal(await alice.recv(), "Hello from Alice ☕");
    assert.equal(await bob.recv(), "Hello from Alice ☕");
    await bob.send("Hi Alice");
    assert.equal(await alice.recv(), "Hi Alice");
    assert.equal(await bob.recv(), "Hi Alice");

    // Ctrl-C (or a service manager's SIGTERM): chat connections get 1001,
    // then the HTTP server stops and the process exits by itself.
    server.child.kill("SIGTERM");
    const { code, signal, stderr } = await server.exited;
    await Promise.all([alice.closed, bob.closed]);
    assert.deepEqual([alice.closeCode, bob.closeCode], [1001, 1001]);
    assert.equal(stderr, "");
    assert.equal(signal, null);
    assert.equal(code, 0);
  });
});

describe("examples/http/handle-upgrade", () => {
  it("answers plain HTTP, echoes WebSocket at /echo, refuses other upgrades", async () => {
    await using server = await startNode([HANDLE_UPGRADE], {
      env: { PORT: "0" },
      ready: /HTTP on http:\/\/127\.0\.0\.1:(\d+)\/, WebSocket on ws:\/\/127\.0\.0\.1:\1\/echo\n/,
    });
    const port = Number(server.ready[1]);
    assert.notEqual(port, 0, "the printed port is the one picked, not 0");

    const response = await fetch(`http://127.0.0.1:${port}/`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "text/plain");
    assert.equal(await response.text(), "Plain HTTP here; WebSocket at /echo.\n");

    await assertRefused(`ws://127.0.0.1:${port}/`, 404);
    await assertRefused(`ws://127.0.0.1:${port}/chat`, 404);
    // A client that resets the connection once refused doesn't crash the server.
    const peer = await RawPeer.connect(port);
    assert.match(await peer.handshake("/chat"), /^HTTP\/1\.1 404 Not Found\r\n/);
    peer.socket.resetAndDestroy();
    await assertRefused(`ws://127.0.0.1:${port}/chat`, 404);

    // Each client gets its own echo, not the other's messages.
    const first = await connect(`ws://127.0.0.1:${port}/echo`);
    const second = await connect(`ws://127.0.0.1:${port}/echo?room=2`);
    await first.send("one");
    await second.send(new Uint8Array([2]));
    assert.equal(await first.recv(), "one");
    assert.deepEqual([...(await second.recvBinary())], [2]);

    server.child.kill("SIGTERM");
    const { code, signal, stderr } = await server.exited;
    await Promise.all([first.closed, second.closed]);
    assert.deepEqual([first.closeCode, second.closeCode], [1001, 1001]);
    assert.equal(stderr, "");
    assert.equal(signal, null);
    assert.equal(code, 0);
  });
});
