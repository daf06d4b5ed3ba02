/**
 * Nothing outlives a connection. Connections end here every way they can:
 * clean closes from either side, a throwing handler, `terminate()`, protocol
 * errors, resets, a peer that goes quiet during either handshake, refused
 * handshakes, an aborted `connect()`. After each way, repeated a few hundred
 * times, the server holds no connection, the process holds no more sockets or
 * timers than before, and a full garbage collection frees every connection
 * object of either side: one that something still referenced would keep its
 * socket, buffers and handler alive with it.
 */

import assert from "node:assert/strict";
import * as net from "node:net";
import { after, before, describe, it } from "node:test";
import * as v8 from "node:v8";
import * as vm from "node:vm";
import {
  ConnectionClosedError,
  ConnectionClosedOK,
  InvalidStatus,
  TimeoutError,
} from "../../src/core/errors.js";
import { Opcode } from "../../src/core/opcodes.js";
import { connect } from "../../src/node/client.js";
import { type Server, type ServerConnection, serve } from "../../src/node/server.js";
import { RawPeer, rawServer } from "../helpers/raw.js";
import { echo, startServer, unhandledRejections } from "../helpers/server.js";

// Full collections on demand, as `node --expose-gc` would allow.
v8.setFlagsFromString("--expose-gc");
const collectGarbage = vm.runInNewContext("gc") as () => void;

/** Connections for each way of ending. */
const ROUNDS = 200;
/** Connections in flight at once. */
const PARALLEL = 25;

/** Every connection object made, server's and client's, held weakly. */
let made: WeakRef<object>[] = [];

/** Watches `connection`: it must be collectable once the test is done with it. */
function watch(connection: object): void {
  made.push(new WeakRef(connection));
}

let server: Server;
/** What keeps the event loop alive with the server listening and no connection. */
let baseline: Map<string, number>;
let uri: string;
let port: number;
const handlersRunning = new Set<Promise<unknown>>();

async function handler(ws: ServerConnection): Promise<void> {
  watch(ws);
  const done = ws.closed.catch(() => {});
  handlersRunning.add(done);
  void done.then(() => handlersRunning.delete(done));
  switch (ws.request.path) {
    case "/close":
      await ws.close(1000, "bye");
      return;
    case "/throw":
      throw new Error("handler failed on purpose");
    case "/terminate":
      ws.terminate();
      return;
    case "/quiet-close":
      // The peer never answers this close: closeTimeout ends it.
      await ws.close(1000, "bye");
      return;
    default:
      for await (const message of ws) await ws.send(message);
  }
}

before(async () => {
  ({ server, uri, port } = await startServer(handler, {
    // Generous: on a loaded machine, 25 handshakes at once can take longer
    // than a short limit, and the server would reset them. The test of
    // openTimeout itself has a server of its own.
    openTimeout: 5000,
    closeTimeout: 100,
    processRequest(connection, request) {
      watch(connection);
      return request.path === "/refuse" ? { status: 403, body: "no\n" } : undefined;
    },
  }));
  baseline = activeResources();
});

after(async () => {
  await server.close();
  assert.deepEqual(unhandledRejections(), []);
});

/** The resources a connection could leave behind: sockets, servers and timers. */
const WATCHED_RESOURCES = new Set(["TCPSocketWrap", "TCPServerWrap", "TLSWrap", "Timeout"]);

/**
 * Counts of what keeps the event loop alive, by kind, among
 * {@link WATCHED_RESOURCES}: the test runner's own pipes and requests come
 * and go.
 */
function activeResources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) {
    if (WATCHED_RESOURCES.has(kind)) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  return counts;
}

/**
 * Waits, polling once per event-loop turn for at most 5 s, for `condition`:
 * the last sockets close a turn or two after the peer saw them close, and no
 * public event says when the server dropped a connection.
 */
async function settle(condition: () => boolean, within = 5000): Promise<void> {
  const deadline = Date.now() + within;
  while (!condition() && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function rawClient(): Promise<RawPeer> {
  return RawPeer.connect(port);
}

/** Runs `lifecycle` `count` times, `PARALLEL` at a time. */
async function repeat(count: number, lifecycle: () => Promise<void>): Promise<void> {
  let started = 0;
  const worker = async () => {
    while (started < count) {
      started++;
      await lifecycle();
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
}

/**
 * Runs `lifecycle` `ROUNDS` times, then checks that the server holds no
 * connection, that the process keeps no more sockets and timers alive than
 * `expected`, and that a full collection frees every connection object
 * watched (with `watched`, at least one per lifecycle).
 */
async function assertNothingOutlives(
  lifecycle: () => Promise<void>,
  {
    expected = baseline,
    watched = true,
  }: { expected?: Map<string, number>; watched?: boolean } = {},
): Promise<void> {
  made = [];
  await repeat(ROUNDS, lifecycle);
  await settle(() => handlersRunning.size === 0 && server.connections.size === 0);
  assert.equal(server.connections.size, 0, "the server still holds connections");
  assert.equal(handlersRunning.size, 0, "connections that never closed");
  await settle(() => sameCounts(activeResources(), expected));
  assert.deepEqual(
    Object.fromEntries(activeResources()),
    Object.fromEntries(expected),
    "sockets or timers left behind",
  );
  // A WeakRef keeps its target until the end of the job that made or read it.
  await new Promise((resolve) => setImmediate(resolve));
  collectGarbage();
  const alive = made.filter((ref) => ref.deref() !== undefined).length;
  if (watched) assert.ok(made.length >= ROUNDS, `${made.length} connections watched`);
  assert.equal(alive, 0, `${alive} of ${made.length} connection objects still referenced`);
}

function sameCounts(a: Map<string, number>, b: Map<string, number>): boolean {
  if (a.size !== b.size) return false;
  for (const [kind, count] of a) if (b.get(kind) !== count) return false;
  return true;
}

describe("connections leave nothing behind", { timeout: 120_000 }, () => {
  it("when our client closes after an echo", async () => {
    await assertNothingOutlives(async () => {
      const ws = await connect(uri);
      watch(ws);
      await ws.send("ping");
      assert.equal(await ws.recv(), "ping");
      await ws.close();
    });
  });

  const serverEndings: [string, string, number][] = [
    ["the server's handler closes", "/close", 1000],
    ["the server's handler throws", "/throw", 1011],
    ["the server terminates the connection", "/terminate", 1006],
  ];
  for (const [when, path, code] of serverEndings) {
    it(`when ${when}`, async () => {
      await assertNothingOutlives(async () => {
        const ws = await connect(`${uri}${path}`);
        watch(ws);
        await assert.rejects(ws.recv(), code === 1000 ? ConnectionClosedOK : ConnectionClosedError);
        assert.equal(ws.closeCode, code);
      });
    });
  }

  it("when the server refuses the handshake", async () => {
    await assertNothingOutlives(async () => {
      await assert.rejects(connect(`${uri}/refuse`), InvalidStatus);
    });
  });

  it("when a client breaks the protocol", async () => {
    await assertNothingOutlives(async () => {
      const peer = await rawClient();
      await peer.handshake();
      // RSV2 without an extension: RFC 6455 §5.2, the server fails with 1002.
      peer.write(Uint8Array.of(0xa1, 0x80, 1, 2, 3, 4));
      const close = await peer.readUntilClose();
      assert.equal(close?.opcode, Opcode.CLOSE);
      await peer.closed;
    });
  });

  it("when a client resets the connection mid-message", async () => {
    await assertNothingOutlives(async () => {
      const peer = await rawClient();
      await peer.handshake();
      // The header of a 100-byte binary frame, and half of its payload.
      peer.write(Uint8Array.of(0x82, 0xe4, 1, 2, 3, 4, ...new Uint8Array(50)));
      peer.socket.resetAndDestroy();
      await peer.closed;
    });
  });

  it("when a client vanishes without a close frame", async () => {
    await assertNothingOutlives(async () => {
      const peer = await rawClient();
      await peer.handshake();
      peer.socket.end();
      await peer.closed;
    });
  });

  it("when a client never answers the server's close (closeTimeout)", async () => {
    await assertNothingOutlives(async () => {
      const peer = await rawClient();
      await peer.handshake("/quiet-close");
      const close = await peer.readFrame();
      assert.equal(close?.opcode, Opcode.CLOSE);
      // Neither a close frame nor a FIN: the server gives up after 100 ms.
      await peer.closed;
    });
  });

  it("when a client never sends its handshake (openTimeout)", async () => {
    const { server: impatient, port: impatientPort } = await startServer(handler, {
      openTimeout: 100,
    });
    try {
      await assertNothingOutlives(
        async () => {
          const socket = net.connect({ host: "127.0.0.1", port: impatientPort });
          socket.on("error", () => {});
          socket.resume();
          await new Promise((resolve) => socket.once("close", resolve));
          // No request, so no connection object the test could watch: sockets and timers tell.
        },
        { expected: activeResources(), watched: false },
      );
      assert.equal(impatient.connections.size, 0);
    } finally {
      await impatient.close();
      // Its listening handle goes a turn or two after close() resolved.
      await settle(() => sameCounts(activeResources(), baseline));
    }
  });
});

describe("client connections leave nothing behind", { timeout: 120_000 }, () => {
  let silent: Awaited<ReturnType<typeof rawServer>>;
  let listening: Map<string, number>;

  before(async () => {
    // A server that accepts TCP connections and never answers.
    silent = await rawServer(() => {});
    listening = activeResources();
  });

  after(async () => {
    await silent.close();
  });

  it("when the server never answers the handshake (openTimeout)", async () => {
    await assertNothingOutlives(
      async () => {
        await assert.rejects(
          connect(`ws://127.0.0.1:${silent.port}`, { openTimeout: 50 }),
          TimeoutError,
        );
      },
      { expected: listening, watched: false },
    );
  });

  it("when the connection attempt is aborted", async () => {
    await assertNothingOutlives(
      async () => {
        const controller = new AbortController();
        const connecting = connect(`ws://127.0.0.1:${silent.port}`, { signal: controller.signal });
        controller.abort(new Error("changed my mind"));
        await assert.rejects(connecting, /changed my mind/);
      },
      { expected: listening, watched: false },
    );
  });

  it("when nothing listens (ECONNREFUSED)", async () => {
    // A port that was just free: nothing listens on it.
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const freePort = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    await assertNothingOutlives(
      async () => {
        await assert.rejects(connect(`ws://127.0.0.1:${freePort}`), { code: "ECONNREFUSED" });
      },
      { expected: listening, watched: false },
    );
  });
});

describe("a closed server leaves nothing behind", () => {
  it("is freed once closed, with no timer of its handshakes left holding it", async () => {
    // In a function of its own: a suspended async function keeps its
    // variables, and the test's would hold the last server.
    const serveAndClose = async (): Promise<WeakRef<Server>> => {
      const server = await serve(echo, { host: "127.0.0.1", port: 0, logger: null });
      // A handshake arms the server's openTimeout timer (10 s by default).
      const ws = await connect(`ws://127.0.0.1:${(server.address() as net.AddressInfo).port}`);
      await ws.close();
      await server.close();
      return new WeakRef(server);
    };
    const servers: WeakRef<Server>[] = [];
    for (let i = 0; i < 3; i++) servers.push(await serveAndClose());
    // The last sockets' 'close' events come a turn or two after close()
    // resolved; a WeakRef keeps its target until the end of the job that
    // made or read it. So: collect, and look again a turn later, for 2 s.
    const alive = () => servers.filter((ref) => ref.deref() !== undefined).length;
    await settle(() => {
      collectGarbage();
      return false;
    }, 200);
    assert.equal(alive(), 0);
  });
});
