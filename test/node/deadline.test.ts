import assert from "node:assert/strict";
import { once } from "node:events";
import * as net from "node:net";
import { performance } from "node:perf_hooks";
import { after, describe, it } from "node:test";
import { acceptKey } from "../../src/core/handshake.js";
import { Opcode } from "../../src/core/opcodes.js";
import { State } from "../../src/core/state.js";
import { connect } from "../../src/node/client.js";
import { setDeadline } from "../../src/node/deadline.js";
import type { Logger } from "../../src/node/logger.js";
import { serve } from "../../src/node/server.js";
import { closePayload, RawPeer, rawServer } from "../helpers/raw.js";
import { deferred, echo, startServer, unhandledRejections } from "../helpers/server.js";

after(() => {
  assert.deepEqual(unhandledRejections(), []);
});

/**
 * Blocks the event loop for `ms`, as a synchronous stretch of application
 * code does. Called from a continuation of a socket's 'data' event, so in
 * the poll phase: when the loop comes back, the timers that expired meanwhile
 * run before the loop polls the sockets again.
 */
function stallEventLoop(ms: number): void {
  stallUntil(performance.now() + ms);
}

/** Blocks the event loop until `performance.now()` reaches `time`. */
function stallUntil(time: number): void {
  while (performance.now() < time) {
    // Busy: nothing else runs.
  }
}

/**
 * Keepalive: a ping and its pong take one turn of the loop, so the timeout
 * can be short, and the stall outlasts it by far, even on a loaded machine.
 */
const PING_TIMEOUT = 50;
const STALL = 250;
/**
 * The other timeouts also cover connecting, or the turns of the loop before
 * the peer's answer, which a loaded machine can slow down: a generous
 * timeout, and a stall that ends well after it.
 */
const TIMEOUT = 1000;
const PAST_TIMEOUT = TIMEOUT + 200;

/** The log lines of a level. */
function logLines(level: "warn" | "debug"): Logger & { lines: string[] } {
  const lines: string[] = [];
  const ignore = () => {};
  const keep = (message: string) => {
    lines.push(message);
  };
  return {
    lines,
    error: ignore,
    warn: level === "warn" ? keep : ignore,
    info: ignore,
    debug: level === "debug" ? keep : ignore,
  };
}

/** A 101 response to `head`, a raw request head. */
function switchingProtocols(head: string): string {
  const key = /sec-websocket-key: *(\S+)/i.exec(head)?.[1] ?? "";
  return `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(key)}\r\n\r\n`;
}

describe("setDeadline", () => {
  it("runs the callback with its argument after the delay, after pending I/O", async () => {
    const order: string[] = [];
    const done = deferred();
    setDeadline(
      (argument: string) => {
        order.push(argument);
        done.resolve();
      },
      1,
      "deadline",
    );
    // A timer due at the same time runs first: the verdict waits for the check phase.
    setTimeout(() => order.push("timer"), 1);
    // Both due by the next timers phase, whatever millisecond each started in.
    stallEventLoop(3);
    await done.promise;
    assert.deepEqual(order, ["timer", "deadline"]);
  });

  it("does nothing once cleared before it fires", async () => {
    let ran = false;
    clearTimeout(setDeadline(() => (ran = true), 1, null));
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(ran, false);
  });
});

describe("timeouts after a stall of the event loop", () => {
  it("keepalive: a pong that came in time counts (server)", async () => {
    const logger = logLines("warn");
    const { server, port } = await startServer((ws) => ws.closed.then(() => {}), {
      pingInterval: 20,
      pingTimeout: PING_TIMEOUT,
      logger,
    });
    await using _server = server;
    const peer = await RawPeer.connect(port);
    await peer.handshake();
    const ping = await peer.readFrame();
    assert.equal(ping?.opcode, Opcode.PING);
    // Reaches the server's socket at once, on loopback; read after the stall.
    peer.writeFrame(Opcode.PONG, ping!.data);
    stallEventLoop(STALL);
    const next = await peer.readFrame();
    assert.equal(next?.opcode, Opcode.PING, `got ${JSON.stringify(closePayload(next))}`);
    assert.deepEqual(logger.lines, []);
    assert.equal([...server.connections][0]?.state, State.OPEN);
    peer.socket.destroy();
  });

  it("keepalive: a late verdict on a ping answered in time leaves the next ping alone", async () => {
    const logger = logLines("warn");
    const { server, port } = await startServer(
      async (ws) => {
        // Longer than pingInterval: the next ping goes out before the first one's verdict.
        for await (const message of ws) if (message === "work") stallEventLoop(40);
      },
      { pingInterval: 20, pingTimeout: PING_TIMEOUT, logger },
    );
    await using _server = server;
    const peer = await RawPeer.connect(port);
    await peer.handshake();
    const ping = await peer.readFrame();
    peer.writeFrame(Opcode.PONG, ping!.data);
    peer.writeFrame(Opcode.TEXT, "work");
    stallEventLoop(STALL);
    for (let answered = 0; answered < 3; answered++) {
      const next = await peer.readFrame();
      assert.equal(next?.opcode, Opcode.PING, `got ${JSON.stringify(closePayload(next))}`);
      peer.writeFrame(Opcode.PONG, next!.data);
    }
    assert.deepEqual(logger.lines, []);
    peer.socket.destroy();
  });

  it("keepalive: a pong that came in time counts (client)", async () => {
    const answered = deferred<Opcode | undefined>();
    await using raw = await rawServer(async (peer) => {
      peer.write(switchingProtocols(await peer.readHead()));
      const ping = await peer.readFrame();
      peer.writeFrame(Opcode.PONG, ping!.data);
      stallEventLoop(STALL);
      answered.resolve((await peer.readFrame())?.opcode);
    });
    const logger = logLines("warn");
    await using ws = await connect(`ws://127.0.0.1:${raw.port}`, {
      pingInterval: 20,
      pingTimeout: PING_TIMEOUT,
      logger,
    });
    assert.equal(await answered.promise, Opcode.PING);
    assert.deepEqual(logger.lines, []);
    assert.equal(ws.state, State.OPEN);
    ws.terminate();
  });

  it("openTimeout: a response that came in time opens the connection (client)", async () => {
    let started = 0;
    await using raw = await rawServer(async (peer) => {
      peer.write(switchingProtocols(await peer.readHead()));
      stallUntil(started + PAST_TIMEOUT);
    });
    started = performance.now();
    await using ws = await connect(`ws://127.0.0.1:${raw.port}`, { openTimeout: TIMEOUT });
    assert.equal(ws.state, State.OPEN);
    ws.terminate();
  });

  it("openTimeout: a request that came in time is answered (server)", async () => {
    const netServer = net.createServer();
    netServer.listen(0, "127.0.0.1");
    await once(netServer, "listening");
    await using _netServer = {
      [Symbol.asyncDispose]: () => new Promise<void>((resolve) => netServer.close(() => resolve())),
    };
    await using _server = await serve(echo, {
      server: netServer,
      openTimeout: TIMEOUT,
      logger: null,
    });
    const { port } = netServer.address() as net.AddressInfo;
    const socket = net.connect({ host: "127.0.0.1", port });
    socket.on("error", () => {});
    using _socket = { [Symbol.dispose]: () => socket.destroy() };
    const peer = new RawPeer(socket, "client");
    // Both ends connected, the server's open timer armed (its listener came first).
    await Promise.all([once(netServer, "connection"), once(socket, "connect")]);
    const head = peer.handshake();
    stallEventLoop(PAST_TIMEOUT);
    assert.match(await head, /^HTTP\/1\.1 101 /);
  });

  it("closeTimeout: a close frame and a FIN that came in time make a clean close (client)", async () => {
    let closing = 0;
    await using raw = await rawServer(async (peer) => {
      peer.write(switchingProtocols(await peer.readHead()));
      const close = await peer.readFrame();
      peer.writeFrame(Opcode.CLOSE, close!.data);
      peer.socket.end();
      // Once the FIN is out (libuv sends it from a later poll), it waits unread.
      await once(peer.socket, "finish");
      stallUntil(closing + PAST_TIMEOUT);
    });
    const logger = logLines("debug");
    const ws = await connect(`ws://127.0.0.1:${raw.port}`, { closeTimeout: TIMEOUT, logger });
    closing = performance.now();
    await ws.close();
    assert.equal(ws.closeCode, 1000);
    // The TCP close was under way: nothing left to drop.
    assert.deepEqual(
      logger.lines.filter((line) => line.includes("close timeout")),
      [],
    );
  });

  it("closeTimeout: a close frame that came in time makes a clean close (server)", async () => {
    const closeCode = deferred<number | null>();
    const { server, port } = await startServer(
      async (ws) => {
        await ws.close();
        closeCode.resolve(ws.closeCode);
      },
      { closeTimeout: TIMEOUT },
    );
    await using _server = server;
    const peer = await RawPeer.connect(port);
    await peer.handshake();
    const close = await peer.readFrame();
    peer.writeFrame(Opcode.CLOSE, close!.data);
    // The server's close timer was armed before its close frame was read here.
    stallEventLoop(PAST_TIMEOUT);
    assert.equal(await closeCode.promise, 1000);
    peer.socket.destroy();
  });
});
