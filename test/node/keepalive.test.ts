import assert from "node:assert/strict";
import { once } from "node:events";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { after, describe, it } from "node:test";
import * as v8 from "node:v8";
import * as vm from "node:vm";
import { ConnectionClosedError } from "../../src/core/errors.js";
import { Opcode } from "../../src/core/opcodes.js";
import { State } from "../../src/core/state.js";
import { connect } from "../../src/node/client.js";
import { Keepalive, type KeepaliveTarget, queuedKeepalives } from "../../src/node/keepalive.js";
import type { Logger } from "../../src/node/logger.js";
import { serve } from "../../src/node/server.js";
import { acceptRaw, closePayload, RawPeer, rawServer } from "../helpers/raw.js";
import { deferred, echo, startServer, unhandledRejections } from "../helpers/server.js";

/** A logger that keeps the warnings. */
function warnings(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const ignore = () => {};
  return {
    lines,
    error: ignore,
    warn: (message: string) => {
      lines.push(message);
    },
    info: ignore,
    debug: ignore,
  };
}

after(() => {
  assert.deepEqual(unhandledRejections(), []);
});

// Full collections on demand, as `node --expose-gc` would allow.
v8.setFlagsFromString("--expose-gc");
const collectGarbage = vm.runInNewContext("gc") as () => void;

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
    const keepalive = new Keepalive(
      5,
      null,
      {
        ping: () => {
          pings++;
          if (pings === 1) setTimeout(() => done.resolve(), 30);
          return answer.promise;
        },
      },
      () => assert.fail("no timeout without pingTimeout"),
    );
    await done.promise;
    assert.equal(pings, 1);
    answer.resolve(1);
    keepalive.stop();
    clearTimeout(holdLoop);
  });

  it("pings every connection of an interval from one queue, and forgets stopped ones", async () => {
    // Keepalive timers are unref'd: hold the event loop open for the test.
    const holdLoop = setInterval(() => {}, 1000);
    try {
      // An interval no other test uses: its queue is this test's alone.
      const interval = 13;
      const pinged = Array.from({ length: 50 }, () => deferred());
      const keepalives = pinged.map(
        (ping) =>
          new Keepalive(
            interval,
            1000,
            {
              ping: () => {
                ping.resolve();
                return Promise.resolve(1);
              },
            },
            () => assert.fail("every ping was answered"),
          ),
      );
      assert.equal(queuedKeepalives(interval), 50);
      await Promise.all(pinged.map((ping) => ping.promise));
      // A stopped keepalive lets go of its connection at once, though its
      // queue holds it until its turn comes.
      let target: KeepaliveTarget | null = { ping: () => Promise.resolve(1) };
      const released = new WeakRef(target);
      const stopped = new Keepalive(60_000, null, target, () => {});
      target = null;
      stopped.stop();
      // A WeakRef holds its target until the end of the job that made it.
      await new Promise((resolve) => setImmediate(resolve));
      collectGarbage();
      assert.equal(released.deref(), undefined);
      for (const keepalive of keepalives) keepalive.stop();
      assert.equal(queuedKeepalives(60_000), 1);
      // One interval later, the stopped ones left their queue, and the queue is gone.
      while (queuedKeepalives(interval) > 0) await new Promise((resolve) => setTimeout(resolve, 5));
      assert.equal(queuedKeepalives(60_000), 1);
    } finally {
      clearInterval(holdLoop);
    }
  });

  it("keeps no rare state on an idle connection that pings", async () => {
    const { server, uri } = await startServer(echo, { pingInterval: null });
    await using _server = server;
    await using ws = await connect(uri, { pingInterval: 60_000 });
    // biome-ignore lint/complexity/useLiteralKeys: element access reaches a private member.
    assert.notEqual(ws["keepalive"], null);
    // biome-ignore lint/complexity/useLiteralKeys: element access reaches a private member.
    assert.equal(ws["rareState"], null);
  });

  it("keeps the rare state after a pong while something else is in it", async () => {
    const { server, uri } = await startServer(echo, { pingInterval: null });
    await using _server = server;
    const ws = await connect(uri, { pingInterval: null });
    const closed = ws.closed;
    assert.ok((await ws.ping()) >= 0);
    // biome-ignore lint/complexity/useLiteralKeys: element access reaches a private member.
    assert.notEqual(ws["rareState"], null);
    await ws.close();
    await closed;
  });

  it("keeps no map of pings between keepalive pings", async () => {
    const { server, uri } = await startServer(echo, { pingInterval: null });
    await using _server = server;
    await using ws = await connect(uri, { pingInterval: 10, pingTimeout: 1000 });
    const measured = deferred();
    const original = ws.ping.bind(ws);
    ws.ping = async (data) => {
      const latency = await original(data);
      measured.resolve();
      return latency;
    };
    await measured.promise;
    // An idle connection would otherwise keep an empty map from its first
    // ping on, and the rare state holding it.
    // biome-ignore lint/complexity/useLiteralKeys: element access reaches a private member.
    assert.equal(ws["rareState"], null);
    assert.ok(ws.latency > 0);
  });

  it("sets latency from the keepalive's pongs", async () => {
    const { server, uri } = await startServer(echo, { pingInterval: null });
    await using _server = server;
    await using ws = await connect(uri, { pingInterval: 10, pingTimeout: 1000 });
    assert.equal(ws.latency, 0);
    const measured = deferred<number>();
    const original = ws.ping.bind(ws);
    ws.ping = async (data) => {
      const latency = await original(data);
      measured.resolve(latency);
      return latency;
    };
    const latency = await measured.promise;
    assert.equal(ws.latency, latency);
  });

  it("keeps pinging while messages flow", async () => {
    const { server, port } = await startServer(echo, { pingInterval: 20, pingTimeout: 1000 });
    await using _server = server;
    const peer = await RawPeer.connect(port);
    await peer.handshake();
    // Traffic does not stand in for a pong: the pings go out whatever else is sent.
    let pings = 0;
    let echoes = 0;
    peer.writeFrame(Opcode.TEXT, "busy");
    while (pings < 3) {
      const frame = await peer.readFrame();
      if (frame?.opcode === Opcode.PING) {
        // 4 random bytes identify each ping.
        assert.equal(frame.data.length, 4);
        pings++;
        peer.writeFrame(Opcode.PONG, frame.data);
      } else {
        assert.equal(frame?.opcode, Opcode.TEXT);
        echoes++;
        peer.writeFrame(Opcode.TEXT, "busy");
      }
    }
    assert.ok(echoes > 0);
    peer.socket.destroy();
  });

  it("sends no ping with pingInterval: null", async () => {
    const peers: RawPeer[] = [];
    const arrived = [deferred(), deferred()];
    const raw = await rawServer((peer) => {
      const index = peers.push(peer) - 1;
      void acceptRaw(peer).then(() => arrived[index]!.resolve());
    });
    try {
      // The silent client connects first: it has been open longer than the other when
      // the other's third ping arrives.
      await using silent = await connect(`ws://127.0.0.1:${raw.port}`, {
        pingInterval: null,
        closeTimeout: 100,
        logger: null,
      });
      await arrived[0]!.promise;
      await using _pinging = await connect(`ws://127.0.0.1:${raw.port}`, {
        pingInterval: 5,
        closeTimeout: 100,
        logger: null,
      });
      await arrived[1]!.promise;
      for (let i = 0; i < 3; i++) {
        const ping = await peers[1]!.readFrame();
        assert.equal(ping?.opcode, Opcode.PING);
        peers[1]!.writeFrame(Opcode.PONG, ping!.data);
      }
      assert.equal(peers[0]!.reader.length, 0);
      assert.equal(silent.state, State.OPEN);
    } finally {
      await raw.close();
    }
  });

  it("fails a client connection with 1011 when the server stops answering", async () => {
    const sent = deferred<[number, string] | null>();
    const raw = await rawServer((peer) => {
      void (async () => {
        await acceptRaw(peer);
        // Reads the pings and answers none; answers the close frame, then closes TCP.
        const close = await peer.readUntilClose();
        sent.resolve(closePayload(close));
        if (close !== null) peer.writeFrame(close.opcode, close.data);
        peer.socket.end();
      })();
    });
    try {
      const logger = warnings();
      const ws = await connect(`ws://127.0.0.1:${raw.port}`, {
        pingInterval: 20,
        pingTimeout: 50,
        closeTimeout: 1000,
        logger,
      });
      const error = await ws.recv().then(
        () => assert.fail("no message was sent"),
        (caught: unknown) => caught,
      );
      assert.ok(error instanceof ConnectionClosedError);
      assert.equal(error.sent?.code, 1011);
      assert.equal(error.sent?.reason, "keepalive ping timeout");
      // RFC 6455 §7.1.7: once it failed the connection, it reads nothing more, not even the
      // server's answer to its close frame.
      assert.equal(error.rcvd, null);
      assert.equal(ws.closeCode, 1006);
      assert.deepEqual(await sent.promise, [1011, "keepalive ping timeout"]);
      assert.match(
        logger.lines.join("\n"),
        /^keepalive ping timeout; failing the connection \(127\.0\.0\.1:\d+( \/)?\)$/,
      );
    } finally {
      await raw.close();
    }
  });

  it("ends the handler's loop with ConnectionClosedError after a timeout", async () => {
    const seen = deferred<unknown>();
    const logger = warnings();
    const { server, port } = await startServer(
      async (ws) => {
        try {
          for await (const _ of ws) assert.fail("no message was sent");
        } catch (error) {
          seen.resolve(error);
        }
      },
      { pingInterval: 20, pingTimeout: 50, closeTimeout: 1000, logger },
    );
    await using _server = server;
    const peer = await RawPeer.connect(port);
    await peer.handshake();
    // Answers no ping; the server's close frame and EOF end the connection.
    assert.deepEqual(closePayload(await peer.readUntilClose()), [1011, "keepalive ping timeout"]);
    const error = await seen.promise;
    assert.ok(error instanceof ConnectionClosedError);
    assert.equal(error.sent?.code, 1011);
    assert.equal(error.rcvd, null);
    assert.match(
      error.message,
      /^sent 1011 \(internal error\) keepalive ping timeout; no close frame received$/,
    );
    assert.match(
      logger.lines.join("\n"),
      /^keepalive ping timeout; failing the connection \(127\.0\.0\.1:\d+( \/)?\)$/,
    );
  });

  it("counts a pong to a later ping as the answer to the keepalive's", async () => {
    const raw = await rawServer((peer) => {
      void (async () => {
        await acceptRaw(peer);
        // RFC 6455 §5.5.3: an endpoint may answer only the most recent ping.
        const keepalivePing = await peer.readFrame();
        assert.equal(keepalivePing?.opcode, Opcode.PING);
        const later = await peer.readFrame();
        assert.equal(later?.opcode, Opcode.PING);
        peer.writeFrame(Opcode.PONG, later!.data);
      })();
    });
    try {
      await using ws = await connect(`ws://127.0.0.1:${raw.port}`, {
        pingInterval: 10,
        pingTimeout: 10_000,
        closeTimeout: 100,
        logger: null,
      });
      const original = ws.ping.bind(ws);
      // In a box: resolving a deferred with the promise itself would wait for the pong.
      const keepalive = deferred<{ pending: Promise<number> }>();
      ws.ping = (data) => {
        const pending = original(data);
        keepalive.resolve({ pending });
        return pending;
      };
      const { pending } = await keepalive.promise;
      const laterLatency = await original("later");
      // Both settle with the same pong; the keepalive's ping left first.
      assert.ok((await pending) >= laterLatency);
    } finally {
      await raw.close();
    }
  });

  it("fails its own connection when the application stops reading", async () => {
    // Once maxQueue messages wait, the socket is paused: the pongs to the keepalive's
    // pings wait behind them, unread, and the keepalive gives up.
    const { server, uri } = await startServer(
      async (ws) => {
        for (let i = 0; i < 4; i++) await ws.send(`m${i}`);
        await ws.closed;
      },
      { pingInterval: null },
    );
    await using _server = server;
    const ws = await connect(uri, {
      maxQueue: 1,
      pingInterval: 20,
      pingTimeout: 50,
      closeTimeout: 100,
      logger: null,
    });
    await ws.closed;
    assert.equal(ws.protocol.closeSent?.code, 1011);
    assert.equal(ws.protocol.closeSent?.reason, "keepalive ping timeout");
    // The messages received before are still there to read.
    const received: unknown[] = [];
    await assert.rejects(async () => {
      for await (const message of ws) received.push(message);
    }, ConnectionClosedError);
    assert.deepEqual(received.slice(0, 1), ["m0"]);
  });

  it("is not answered by messages, pings or unsolicited pongs", async () => {
    const { server, port } = await startServer(echo, {
      pingInterval: 20,
      pingTimeout: 50,
      closeTimeout: 1000,
    });
    await using _server = server;
    const peer = await RawPeer.connect(port);
    await peer.handshake();
    // Everything but the pong the server waits for: the keepalive still gives up.
    for (;;) {
      const frame = await peer.readFrame();
      assert.ok(frame !== null);
      if (frame.opcode === Opcode.CLOSE) {
        assert.deepEqual(closePayload(frame), [1011, "keepalive ping timeout"]);
        break;
      }
      if (frame.opcode === Opcode.PING) {
        peer.writeFrame(Opcode.TEXT, "still here");
        peer.writeFrame(Opcode.PING, "mine");
        peer.writeFrame(Opcode.PONG, "unsolicited");
      }
    }
  });

  it("pings the connections a node:http server hands over", async () => {
    const httpServer = http.createServer((_request, response) => response.end());
    httpServer.listen(0, "127.0.0.1");
    await once(httpServer, "listening");
    try {
      await using _server = await serve(echo, {
        server: httpServer,
        pingInterval: 20,
        pingTimeout: 1000,
        logger: null,
      });
      const peer = await RawPeer.connect((httpServer.address() as AddressInfo).port);
      assert.match(await peer.handshake(), /^HTTP\/1\.1 101 /);
      const ping = await peer.readFrame();
      assert.equal(ping?.opcode, Opcode.PING);
      peer.socket.destroy();
    } finally {
      httpServer.closeAllConnections();
      await new Promise((resolve) => httpServer.close(resolve));
    }
  });
});
