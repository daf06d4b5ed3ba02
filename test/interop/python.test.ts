/**
 * Interop with Python's `websockets`, the library whose design we follow: our
 * client against its server, its client against our server, over TCP, TLS
 * and Unix sockets, and through `handleUpgrade()`; messages, close codes,
 * size limits, keepalive pings and shutdown. Needs Debian's
 * `python3-websockets` (installed by .ci/run); skipped with a note without
 * it. python-handshake.test.ts and python-compression.test.ts cover the
 * opening handshake and compression.
 */

import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { ConnectionClosedError, ConnectionClosedOK, SecurityError } from "../../src/core/errors.js";
import { connect } from "../../src/node/client.js";
import { type ServerConnection, serve } from "../../src/node/server.js";
import {
  opened,
  type PythonFrame,
  pythonWebsocketsVersion,
  runPythonClient,
  skipWithoutPythonWebsockets,
  startPythonServer,
} from "../helpers/python.js";
import {
  deferred,
  echo,
  startReceivingServer,
  startServer,
  startUpgradeServer,
  unhandledRejections,
} from "../helpers/server.js";

const directory = mkdtempSync(join(tmpdir(), "websockets-ts-python-"));

after(() => {
  rmSync(directory, { recursive: true, force: true });
  assert.deepEqual(unhandledRejections(), []);
});

const version = pythonWebsocketsVersion();
const skip = skipWithoutPythonWebsockets(version);

const FIXTURES = fileURLToPath(new URL("../../../test/fixtures/tls/", import.meta.url));
const TLS_SERVER = { cert: `${FIXTURES}localhost.pem`, key: `${FIXTURES}localhost-key.pem` };
const ca = readFileSync(`${FIXTURES}ca.pem`);

/** How many frames of `opcode` went `direction`, as the Python side recorded them. */
function count(frames: PythonFrame[], direction: "in" | "out", opcode: string): number {
  return frames.filter(([dir, op]) => dir === direction && op === opcode).length;
}

describe(`our client against a Python websockets ${version ?? ""} server`, { skip }, () => {
  it("exchanges text, binary, 2 MiB and fragmented messages, and pings", async () => {
    await using peer = await startPythonServer({ max_size: null });
    await using ws = await connect(peer.uri, { maxMessageSize: 4 * 1024 * 1024 });
    await ws.send("Hello, Python!");
    assert.equal(await ws.recv(), "Hello, Python!");
    await ws.send(new Uint8Array([0, 1, 255]));
    assert.deepEqual([...((await ws.recv()) as Uint8Array)], [0, 1, 255]);
    const big = new Uint8Array(2 * 1024 * 1024).map((_, index) => index % 251);
    await ws.send(big);
    assert.deepEqual(await ws.recvBinary(), Buffer.from(big));
    await ws.send(["frag", "mented"]);
    assert.equal(await ws.recv(), "fragmented");
    assert.ok((await ws.ping("probe")) >= 0);
    await ws.close();
    const seen = await peer.nextConnection();
    // Python read the fragmented message as we sent it: a text frame, then
    // continuations (ours ends with an empty one: send() of an iterable
    // learns that it is done only after the last item).
    const received = seen.frames.filter(([dir, op]) => dir === "in" && op !== "PING");
    assert.deepEqual(
      received.slice(0, 3).map(([, op]) => op),
      ["TEXT", "BINARY", "BINARY"],
    );
    const fragmented = received.slice(3, -1);
    assert.deepEqual(
      fragmented.map(([, op]) => op),
      ["TEXT", ...fragmented.slice(1).map(() => "CONT")],
    );
    assert.deepEqual(
      fragmented.map(([, , , payload]) => payload).filter((payload) => payload > 0),
      [4, 6],
    );
    assert.equal(count(seen.frames, "out", "PONG"), 1);
    assert.deepEqual(seen.close_rcvd, [1000, ""]);
  });

  it("reports the negotiated extensions both sides agree on", async () => {
    await using peer = await startPythonServer();
    await using ws = await connect(peer.uri);
    await ws.send("cmd:report");
    const serverSide = JSON.parse(await ws.recvText()) as {
      response_headers: Record<string, string>;
    };
    assert.equal(
      ws.response?.headers.get("Sec-WebSocket-Extensions"),
      serverSide.response_headers["Sec-WebSocket-Extensions"],
    );
  });

  it("reports the close code and reason Python sends, and Python reports ours", async () => {
    await using peer = await startPythonServer();
    const ws = await connect(peer.uri);
    await ws.send("cmd:close 4001 from python");
    await assert.rejects(ws.recv(), ConnectionClosedError);
    assert.equal(ws.closeCode, 4001);
    assert.equal(ws.closeReason, "from python");
    assert.deepEqual((await peer.nextConnection()).close_sent, [4001, "from python"]);

    const other = await connect(peer.uri);
    await other.close(4002, "from us");
    const seen = await peer.nextConnection();
    assert.deepEqual(seen.close_rcvd, [4002, "from us"]);
    assert.deepEqual(seen.close_sent, [4002, "from us"]);
  });
});

describe(`our client against a Python websockets ${version ?? ""} server: transports`, {
  skip,
}, () => {
  it("connects over TLS, trusting the test CA", async () => {
    await using peer = await startPythonServer({ tls: TLS_SERVER });
    await using ws = await connect(`${peer.uri}/secure`, { tls: { ca } });
    await ws.send("over TLS");
    assert.equal(await ws.recv(), "over TLS");
    await ws.close();
    const seen = await peer.nextConnection();
    assert.equal(seen.path, "/secure");
    assert.match(seen.tls ?? "", /^TLSv1\.[23]$/);
    assert.deepEqual(seen.close_rcvd, [1000, ""]);
  });

  it("refuses Python's certificate without the CA", async () => {
    await using peer = await startPythonServer({ tls: TLS_SERVER });
    await assert.rejects(connect(peer.uri), (error: unknown) => {
      assert.ok(error instanceof SecurityError);
      assert.match(error.message, /UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
      return true;
    });
  });

  for (const secure of [false, true]) {
    it(`connects over a Unix socket${secure ? ", with TLS" : ""}`, async () => {
      const path = join(directory, `python-server-${secure}.sock`);
      await using peer = await startPythonServer({
        unix: path,
        ...(secure ? { tls: TLS_SERVER } : {}),
      });
      // The URI gives the Host header and the name the certificate must match.
      await using ws = await connect(`${secure ? "wss" : "ws"}://localhost/over-unix?x=1`, {
        path,
        ...(secure ? { tls: { ca } } : {}),
      });
      await ws.send("over a Unix socket");
      assert.equal(await ws.recv(), "over a Unix socket");
      assert.equal(ws.remoteAddress, null);
      await ws.close(4000, "fin – ünïcode");
      const seen = await peer.nextConnection();
      assert.equal(seen.path, "/over-unix?x=1");
      assert.equal(seen.request_headers.Host, "localhost");
      assert.equal(seen.tls !== null, secure);
      assert.deepEqual(seen.close_rcvd, [4000, "fin – ünïcode"]);
    });
  }
});

describe(`our client against a Python websockets ${version ?? ""} server: limits and lifecycle`, {
  skip,
}, () => {
  it("fails with 1009 both ways when a message exceeds the receiver's limit", async () => {
    await using peer = await startPythonServer({ max_size: 1024 });
    // Compressible: the limits apply to the decompressed size.
    const ws = await connect(peer.uri, { maxMessageSize: 1024 });
    await ws.send("a".repeat(2000));
    const theirs = await ws.recv().catch((error: unknown) => error);
    assert.ok(theirs instanceof ConnectionClosedError);
    assert.equal(theirs.rcvd?.code, 1009);
    const seen = await peer.nextConnection();
    assert.equal(seen.close_sent?.[0], 1009);
    assert.equal(ws.closeReason, seen.close_sent?.[1]);

    const other = await connect(peer.uri, { maxMessageSize: 1024 });
    await other.send("cmd:send-size 2000");
    const ours = await other.recv().catch((error: unknown) => error);
    assert.ok(ours instanceof ConnectionClosedError);
    assert.equal(ours.sent?.code, 1009);
    const seenOther = await peer.nextConnection();
    assert.deepEqual(seenOther.close_rcvd, [ours.sent?.code, ours.sent?.reason]);
    assert.equal(seenOther.error, "ConnectionClosedError");
  });

  it("answers Python's keepalive pings", async () => {
    await using peer = await startPythonServer({ ping_interval: 0.05, ping_timeout: 5 });
    await using ws = await connect(peer.uri, { pingInterval: null });
    await ws.send("cmd:await in PONG 3");
    const { frames } = JSON.parse(await ws.recvText()) as { frames: PythonFrame[] };
    assert.ok(count(frames, "out", "PING") >= 3);
    assert.ok(count(frames, "in", "PONG") >= 3);
    await ws.close();
    assert.deepEqual((await peer.nextConnection()).close_rcvd, [1000, ""]);
  });

  it("gets Python's answers to our keepalive pings and to ping()", async () => {
    await using peer = await startPythonServer({ ping_interval: null });
    await using ws = await connect(peer.uri, { pingInterval: 50, pingTimeout: 5000 });
    await ws.send("cmd:await out PONG 3");
    const { frames } = JSON.parse(await ws.recvText()) as { frames: PythonFrame[] };
    assert.ok(count(frames, "in", "PING") >= 3);
    assert.equal(count(frames, "out", "PING"), 0);
    // Python's third pong came before its answer: we have read it.
    assert.ok(ws.latency > 0, `latency ${ws.latency}`);
    assert.ok((await ws.ping()) > 0);
    await ws.close();
    assert.deepEqual((await peer.nextConnection()).close_rcvd, [1000, ""]);
  });

  it("reports 1001 when the Python server shuts down", async () => {
    const peer = await startPythonServer();
    await using _peer = peer;
    await using ws = await connect(peer.uri);
    await ws.send("ready?");
    assert.equal(await ws.recv(), "ready?");
    const stopped = peer.stop();
    await assert.rejects(ws.recv(), ConnectionClosedOK);
    assert.equal(ws.closeCode, 1001);
    await stopped;
    const seen = await peer.nextConnection();
    assert.deepEqual(seen.close_sent, [1001, ""]);
    assert.deepEqual(seen.close_rcvd, [1001, ""]);
  });
});

describe(`a Python websockets ${version ?? ""} client against our server`, { skip }, () => {
  it("exchanges messages and closes with the code it chose", async () => {
    const closedOnServer = deferred<[number | null, string | null]>();
    const { server, uri } = await startServer(
      async (ws) => {
        try {
          for await (const message of ws) await ws.send(message);
        } finally {
          await ws.closed;
          closedOnServer.resolve([ws.closeCode, ws.closeReason]);
        }
      },
      { maxMessageSize: 4 * 1024 * 1024 },
    );
    await using _server = server;
    const report = opened(
      await runPythonClient({
        uri,
        max_size: null,
        steps: [
          { exchange: "Hello from Python" },
          { exchange: { hex: "0001ff" } },
          { exchange: { size: 2 * 1024 * 1024, binary: true } },
          { send: { fragments: ["frag", "mented"] } },
          { recv: true },
          { ping: "probe" },
          { close: [4000, "from python"] },
        ],
      }),
    );
    assert.deepEqual(report.steps, [
      { same: true },
      { same: true },
      { same: true },
      null,
      "fragmented",
      { latency_ok: true },
      null,
    ]);
    assert.deepEqual(report.close_rcvd, [4000, "from python"]);
    assert.deepEqual(await closedOnServer.promise, [4000, "from python"]);
  });

  it("streams a fragmented message from Python with recvStreaming(), each fragment as it arrives", async () => {
    const read = deferred<unknown>();
    const { server, uri } = await startServer(
      async (ws) => {
        const fragments: unknown[] = [];
        try {
          for await (const fragment of ws.recvStreaming()) {
            fragments.push(fragment);
            // Python sends the next fragment only once it has this: a
            // server that waited for the whole message would wait forever.
            await ws.send(`got ${fragments.length}`);
          }
          read.resolve(fragments);
        } catch (error) {
          read.resolve(error);
        }
        await ws.recv().catch(() => {});
      },
      // Compressed, the message would only be inflated whole, at its end.
      { compression: null },
    );
    await using _server = server;
    const report = opened(
      await runPythonClient({
        uri,
        compression: null,
        steps: [{ send_acked: ["Stream", "ing ", "ünïcode"] }, { recv: true }],
      }),
    );
    assert.deepEqual(await read.promise, ["Stream", "ing ", "ünïcode"]);
    // The third ack: Python's empty last frame is not a fragment of its own.
    assert.deepEqual(report.steps, [["got 1", "got 2"], "got 3"]);
  });

  it("reports the close code and reason our server sends", async () => {
    const closed = deferred<[number | null, string | null]>();
    const { server, uri } = await startServer(async (ws) => {
      await ws.recv();
      await ws.close(4002, "from us, ünïcode");
      closed.resolve([ws.closeCode, ws.closeReason]);
    });
    await using _server = server;
    const report = opened(
      await runPythonClient({
        uri,
        steps: [{ send: "close, please" }, { recv_until_closed: true }],
      }),
    );
    assert.deepEqual(report.steps, [null, { received: [], error: "ConnectionClosedError" }]);
    assert.deepEqual(report.close_rcvd, [4002, "from us, ünïcode"]);
    assert.deepEqual(await closed.promise, [4002, "from us, ünïcode"]);
  });
});

describe(`a Python websockets ${version ?? ""} client against our server: transports`, {
  skip,
}, () => {
  it("connects over TLS, trusting the test CA", async () => {
    const seen = deferred<ServerConnection>();
    const { server, port } = await startServer(
      async (ws) => {
        seen.resolve(ws);
        await echo(ws);
      },
      { tls: { key: readFileSync(TLS_SERVER.key), cert: readFileSync(TLS_SERVER.cert) } },
    );
    await using _server = server;
    const report = opened(
      await runPythonClient({
        uri: `wss://127.0.0.1:${port}/secure`,
        tls: { ca: `${FIXTURES}ca.pem` },
        steps: [{ exchange: "over TLS" }],
      }),
    );
    assert.match(report.tls ?? "", /^TLSv1\.[23]$/);
    assert.deepEqual(report.steps, [{ same: true }]);
    assert.deepEqual(report.close_rcvd, [1000, ""]);
    const serverSide = await seen.promise;
    assert.equal(serverSide.request.path, "/secure");
    await serverSide.closed;
    assert.equal(serverSide.closeCode, 1000);
  });

  for (const secure of [false, true]) {
    it(`connects over a Unix socket${secure ? ", with TLS" : ""}`, async () => {
      const path = join(directory, `our-server-${secure}.sock`);
      const seen = deferred<ServerConnection>();
      const tls = { key: readFileSync(TLS_SERVER.key), cert: readFileSync(TLS_SERVER.cert) };
      await using _server = await serve(
        async (ws) => {
          seen.resolve(ws);
          await echo(ws);
        },
        { path, logger: null, ...(secure ? { tls } : {}) },
      );
      const report = opened(
        await runPythonClient({
          unix: path,
          uri: `${secure ? "wss" : "ws"}://localhost/over-unix`,
          ...(secure ? { tls: { ca: `${FIXTURES}ca.pem` } } : {}),
          steps: [{ exchange: "over a Unix socket" }, { close: [4000, "fin – ünïcode"] }],
        }),
      );
      assert.deepEqual(report.steps, [{ same: true }, null]);
      assert.equal(report.tls !== null, secure);
      assert.deepEqual(report.close_rcvd, [4000, "fin – ünïcode"]);
      const serverSide = await seen.promise;
      assert.equal(serverSide.request.path, "/over-unix");
      assert.equal(serverSide.request.headers.get("Host"), "localhost");
      assert.equal(serverSide.remoteAddress, null);
      await serverSide.closed;
      assert.deepEqual([serverSide.closeCode, serverSide.closeReason], [4000, "fin – ünïcode"]);
    });
  }

  it("connects through handleUpgrade() on a node:http server", async () => {
    await using upgrading = await startUpgradeServer();
    const report = opened(
      await runPythonClient({
        uri: `ws://127.0.0.1:${upgrading.port}/upgraded`,
        steps: [{ exchange: "through handleUpgrade()" }],
      }),
    );
    assert.deepEqual(report.steps, [{ same: true }]);
    assert.match(report.response_headers["Sec-WebSocket-Extensions"] ?? "", /^permessage-deflate/);
    assert.deepEqual(report.close_rcvd, [1000, ""]);
    const serverSide = await upgrading.seen;
    assert.equal(serverSide.request.path, "/upgraded");
    await serverSide.closed;
    assert.equal(serverSide.closeCode, 1000);
  });
});

describe(`a Python websockets ${version ?? ""} client against our server: limits and lifecycle`, {
  skip,
}, () => {
  it("fails with 1009 when Python's message exceeds our limit", async () => {
    const { server, uri, received: closed } = await startReceivingServer({ maxMessageSize: 1024 });
    await using _server = server;
    const report = opened(
      await runPythonClient({ uri, steps: [{ send: { size: 2000 } }, { recv: true }] }),
    );
    const error = await closed;
    assert.ok(error instanceof ConnectionClosedError);
    assert.equal(error.sent?.code, 1009);
    assert.deepEqual(report.close_rcvd, [1009, error.sent?.reason]);
    assert.equal(report.error, "ConnectionClosedError");
  });

  it("fails with 1009 when our message exceeds Python's max_size", async () => {
    const closed = deferred<[number | null, string | null]>();
    const { server, uri } = await startServer(async (ws) => {
      await ws.send("a".repeat(2000));
      await ws.closed;
      closed.resolve([ws.closeCode, ws.closeReason]);
    });
    await using _server = server;
    const report = opened(await runPythonClient({ uri, max_size: 1024, steps: [{ recv: true }] }));
    assert.equal(report.error, "ConnectionClosedError");
    assert.equal(report.close_sent?.[0], 1009);
    assert.deepEqual(await closed.promise, report.close_sent);
  });

  it("answers Python's keepalive pings", async () => {
    const { server, uri } = await startServer(echo, { pingInterval: null });
    await using _server = server;
    const report = opened(
      await runPythonClient({
        uri,
        ping_interval: 0.05,
        ping_timeout: 5,
        steps: [{ await: ["in", "PONG", 3] }],
      }),
    );
    assert.ok(count(report.frames, "out", "PING") >= 3);
    assert.ok(count(report.frames, "in", "PONG") >= 3);
    assert.deepEqual(report.close_rcvd, [1000, ""]);
  });

  it("gets Python's answers to our keepalive pings and to ping()", async () => {
    const measured = deferred<[number, number]>();
    const { server, uri } = await startServer(
      async (ws) => {
        const latency = await ws.ping();
        for await (const _ of ws);
        measured.resolve([latency, ws.latency]);
      },
      { pingInterval: 50, pingTimeout: 5000 },
    );
    await using _server = server;
    const report = opened(
      await runPythonClient({ uri, ping_interval: null, steps: [{ await: ["out", "PONG", 4] }] }),
    );
    // ping() and at least three keepalive pings.
    assert.ok(count(report.frames, "in", "PING") >= 4);
    assert.equal(count(report.frames, "out", "PING"), 0);
    const [latency, keepalive] = await measured.promise;
    assert.ok(latency > 0);
    assert.ok(keepalive > 0);
    assert.deepEqual(report.close_rcvd, [1000, ""]);
  });

  it("closes with 1001 when our server shuts down", async () => {
    const connected = deferred<ServerConnection>();
    const { server, uri } = await startServer(async (ws) => {
      await ws.send(await ws.recv());
      connected.resolve(ws);
      await echo(ws);
    });
    await using _server = server;
    const running = runPythonClient({
      uri,
      steps: [{ exchange: "ready?" }, { recv_until_closed: true }],
    });
    const serverSide = await connected.promise;
    await server.close();
    const report = opened(await running);
    assert.deepEqual(report.steps, [{ same: true }, { received: [], error: "ConnectionClosedOK" }]);
    assert.deepEqual(report.close_rcvd, [1001, ""]);
    assert.deepEqual(report.close_sent, [1001, ""]);
    assert.equal(serverSide.closeCode, 1001);
  });
});
