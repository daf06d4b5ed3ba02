import assert from "node:assert/strict";
import * as net from "node:net";
import { performance } from "node:perf_hooks";
import { after, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { InvalidHeaderFormat } from "../../src/core/errors.js";
import { State } from "../../src/core/state.js";
import { connect } from "../../src/node/client.js";
import { serve } from "../../src/node/server.js";
import { echo, startServer, unhandledRejections } from "../helpers/server.js";

after(() => {
  assert.deepEqual(unhandledRejections(), []);
});

/** A client that sends the start of a handshake and nothing more. */
function stall(port: number): { socket: net.Socket; closedAfter: Promise<number> } {
  const started = performance.now();
  const socket = net.connect({ host: "127.0.0.1", port });
  socket.on("error", () => {});
  socket.write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n");
  // Closed by the server, with a FIN or a reset: not `once()`, which rejects on 'error'.
  const closedAfter = new Promise<number>((resolve) =>
    socket.once("close", () => resolve(performance.now() - started)),
  );
  return { socket, closedAfter };
}

describe("openTimeout", () => {
  it("gives each handshake its own openTimeout, however they overlap", async () => {
    const openTimeout = 1000;
    const { server, port } = await startServer(echo, { openTimeout });
    await using _server = server;
    const first = stall(port);
    // The second's deadline comes half an openTimeout after the first's.
    // Each socket's own time to its close says whether it got a whole
    // openTimeout: checking the second when the first closes would not do,
    // since on a loaded machine the first's close can be seen after the
    // second's deadline too (it was, in about one run in ten under load).
    await sleep(openTimeout / 2);
    const second = stall(port);
    const firstAfter = await first.closedAfter;
    const secondAfter = await second.closedAfter;
    for (const after of [firstAfter, secondAfter]) {
      assert.ok(after >= openTimeout, `closed after ${after} ms`);
      // Loose: a loaded machine's event loop can come seconds late.
      assert.ok(after < openTimeout + 5000, `closed after ${after} ms`);
    }
  });

  it("leaves connections whose handshake completed open", async () => {
    const { server, uri } = await startServer(echo, { openTimeout: 100 });
    await using _server = server;
    await using client = await connect(uri);
    // A handshake that stalls after this one keeps the server's timer going past 100 ms.
    const later = stall((server.address() as net.AddressInfo).port);
    await later.closedAfter;
    await sleep(50);
    assert.equal(client.state, State.OPEN);
    await client.send("still there");
    assert.equal(await client.recv(), "still there");
  });

  it("waits as long as it takes with openTimeout: null", async () => {
    const { server, port } = await startServer(echo, { openTimeout: null });
    const stalled = stall(port);
    await sleep(200);
    assert.equal(stalled.socket.destroyed, false);
    const answer = new Promise<string>((resolve) => {
      let received = "";
      stalled.socket.on("data", (chunk: Buffer) => {
        received += chunk.toString("latin1");
      });
      stalled.socket.once("end", () => resolve(received));
    });
    await server.close();
    // Shutting down answers the handshake in progress.
    assert.match(await answer, /^HTTP\/1\.1 503 /);
    await stalled.closedAfter;
  });
});

describe("serverHeader", () => {
  it("is checked when the server starts", async () => {
    await assert.rejects(
      serve(echo, { host: "127.0.0.1", port: 0, logger: null, serverHeader: "x\r\nInjected: 1" }),
      InvalidHeaderFormat,
    );
    await assert.rejects(
      serve(echo, { listen: false, logger: null, serverHeader: "\0" }),
      InvalidHeaderFormat,
    );
  });

  it("is sent with the 101 response, or left out when null", async () => {
    for (const serverHeader of ["test-server/1.0", null]) {
      const { server, port } = await startServer(echo, { serverHeader });
      await using _server = server;
      const socket = net.connect({ host: "127.0.0.1", port });
      socket.write(
        "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
      );
      const [chunk] = (await new Promise((resolve) =>
        socket.once("data", (c) => resolve([c])),
      )) as [Buffer];
      const head = chunk.toString("latin1");
      assert.match(head, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
      assert.match(head, /\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=\r\n/);
      assert.match(head, /\r\nDate: [A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} [\d:]{8} GMT\r\n/);
      if (serverHeader === null) assert.doesNotMatch(head, /\r\nServer:/);
      else assert.match(head, /\r\nServer: test-server\/1\.0\r\n/);
      socket.destroy();
    }
  });
});
