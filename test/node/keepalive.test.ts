import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { Opcode } from "../../src/core/frames.js";
import { connect } from "../../src/node/client.js";
import { Keepalive } from "../../src/node/keepalive.js";
import { closePayload, RawPeer } from "../helpers/raw.js";
import { deferred, echo, startServer, unhandledRejections } from "../helpers/server.js";

after(() => {
  assert.deepEqual(unhandledRejections(), []);
});

describe("keepalive", () => {
  it("pings every pingInterval and measures latency", async () => {
    const { server, port } = await startServer(echo, { pingInterval: 20, pingTimeout: 1000 });
    await using _server = server;
    const peer = await RawPeer.connect(port);
    await peer.handshake();
    for (let i = 0; i < 3; i++) {
      const ping = await peer.readFrame();
      assert.equal(ping?.opcode, Opcode.PING);
      peer.writeFrame(Opcode.PONG, ping!.data);
    }
    const [connection] = server.connections;
    assert.ok(connection!.latency >= 0);
    peer.socket.destroy();
  });

  it("fails the connection with 1011 when pongs stop", async () => {
    const closed = deferred<[number | null, string | null]>();
    const { server, port } = await startServer(
      async (ws) => {
        await ws.closed;
        closed.resolve([
          ws.protocol.closeSent?.code ?? null,
          ws.protocol.closeSent?.reason ?? null,
        ]);
      },
      { pingInterval: 20, pingTimeout: 50, closeTimeout: 100 },
    );
    await using _server = server;
    const peer = await RawPeer.connect(port);
    await peer.handshake();
    assert.deepEqual(closePayload(await peer.readUntilClose()), [1011, "keepalive ping timeout"]);
    assert.deepEqual(await closed.promise, [1011, "keepalive ping timeout"]);
  });

  it("keeps a client connection alive with an answering server", async () => {
    const { server, uri } = await startServer(echo);
    await using _server = server;
    await using ws = await connect(uri, { pingInterval: 10, pingTimeout: 500 });
    const pinged = deferred();
    const original = ws.ping.bind(ws);
    ws.ping = async (data) => {
      const latency = await original(data);
      pinged.resolve();
      return latency;
    };
    await pinged.promise;
    await ws.send("still open");
    assert.equal(await ws.recv(), "still open");
  });

  it("sends one ping at a time and stops cleanly", async () => {
    let pings = 0;
    // Keepalive timers are unref'd: hold the event loop open for the test.
    const holdLoop = setTimeout(() => {}, 10_000);
    const answer = deferred<number>();
    const done = deferred();
    const keepalive = new Keepalive(5, null, {
      ping: () => {
        pings++;
        if (pings === 1) setTimeout(() => done.resolve(), 30);
        return answer.promise;
      },
      timeout: () => assert.fail("no timeout without pingTimeout"),
    });
    await done.promise;
    assert.equal(pings, 1);
    answer.resolve(1);
    keepalive.stop();
    clearTimeout(holdLoop);
  });
});
