import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import type * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { connect } from "../../src/node/client.js";
import { type ServerConnection, serve } from "../../src/node/server.js";
import { deferred, echo, startServer, unhandledRejections } from "../helpers/server.js";

const directory = mkdtempSync(join(tmpdir(), "websockets-ts-"));
let count = 0;
/** A fresh socket path in the test's temporary directory. */
function socketPath(): string {
  return join(directory, `ws-${++count}.sock`);
}

after(() => {
  rmSync(directory, { recursive: true, force: true });
  assert.deepEqual(unhandledRejections(), []);
});

const fixtures = new URL("../../../test/fixtures/tls/", import.meta.url);

describe("Unix sockets", () => {
  it("serves and connects over a Unix socket", async () => {
    const path = socketPath();
    const seen = deferred<ServerConnection>();
    const server = await serve(
      async (ws) => {
        seen.resolve(ws);
        await echo(ws);
      },
      { path, logger: null },
    );
    await using _server = server;
    assert.equal(server.address(), path);
    await using ws = await connect("ws://localhost/chat?room=1", { path });
    await ws.send("over a Unix socket");
    assert.equal(await ws.recv(), "over a Unix socket");
    const serverSide = await seen.promise;
    assert.equal(serverSide.request.path, "/chat?room=1");
    assert.equal(serverSide.request.headers.get("Host"), "localhost");
    assert.equal(serverSide.remoteAddress, null);
  });

  it("serves wss:// over a Unix socket", async () => {
    const path = socketPath();
    const server = await serve(echo, {
      path,
      logger: null,
      tls: {
        key: readFileSync(new URL("localhost-key.pem", fixtures)),
        cert: readFileSync(new URL("localhost.pem", fixtures)),
      },
    });
    await using _server = server;
    await using ws = await connect("wss://localhost/", {
      path,
      tls: { ca: readFileSync(new URL("ca.pem", fixtures)) },
    });
    await ws.send("secure and local");
    assert.equal(await ws.recv(), "secure and local");
  });

  it("removes the socket file when the server closes", async () => {
    const path = socketPath();
    const server = await serve(echo, { path, logger: null });
    assert.ok(existsSync(path));
    await server.close();
    assert.ok(!existsSync(path));
    await assert.rejects(
      connect("ws://localhost/", { path }),
      (error: NodeJS.ErrnoException) => error.code === "ENOENT",
    );
  });

  it("refuses a path together with a host or port", async () => {
    await assert.rejects(serve(echo, { path: socketPath(), port: 0 }), TypeError);
  });

  it("refuses an empty path rather than connecting to port 0 of this host", async () => {
    // A server at the URI: an empty path must not fall back to it either.
    const { server, uri } = await startServer(echo);
    await using _server = server;
    let connections = 0;
    const { netServer } = server as unknown as { netServer: net.Server };
    netServer.on("connection", () => connections++);
    for (const path of ["", false, null, 0]) {
      await assert.rejects(connect(uri, { path: path as never }), {
        name: "TypeError",
        message: /^connect\(\)'s path must be the path of a Unix socket, a non-empty string; got /,
      });
    }
    assert.equal(connections, 0);
  });
});
