/**
 * Interop with the `ws` package beyond messages and close codes (ws.test.ts)
 * and compression (ws-compression.test.ts), both roles: TLS, Unix sockets,
 * subprotocols, rejected handshakes, Basic authentication, redirects, size
 * limits, keepalive pings, server shutdown, and `handleUpgrade()` on a
 * `node:http` server of the application's.
 */

import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import WebSocket, { WebSocketServer } from "ws";
import {
  ConnectionClosedError,
  ConnectionClosedOK,
  InvalidStatus,
  NegotiationError,
} from "../../src/core/errors.js";
import { Response } from "../../src/core/response.js";
import { basicAuth } from "../../src/node/auth.js";
import { connect } from "../../src/node/client.js";
import { type ServerConnection, serve } from "../../src/node/server.js";
import {
  deferred,
  echo,
  startReceivingServer,
  startServer,
  startUpgradeServer,
  unhandledRejections,
} from "../helpers/server.js";

const directory = mkdtempSync(join(tmpdir(), "websockets-ts-ws-"));

after(() => {
  rmSync(directory, { recursive: true, force: true });
  assert.deepEqual(unhandledRejections(), []);
});

const FIXTURES = fileURLToPath(new URL("../../../test/fixtures/tls/", import.meta.url));
const ca = readFileSync(`${FIXTURES}ca.pem`);
const key = readFileSync(`${FIXTURES}localhost-key.pem`);
const cert = readFileSync(`${FIXTURES}localhost.pem`);

/** What a ws server saw of one connection. */
interface Seen {
  socket: WebSocket;
  request: http.IncomingMessage;
  pings: number;
  /** The messages of ws's 'error' events. */
  errors: string[];
  /** Resolves with the code and reason of ws's 'close' event. */
  closed: Promise<[number, string]>;
}

/**
 * A ws echo server on `server` (an http or https server, listening on
 * `listen`), or on its own on 127.0.0.1; the connections it accepted.
 */
async function wsServer(
  options: WebSocket.ServerOptions = {},
  server?: http.Server | https.Server,
  listen: string | number = 0,
) {
  const wss = server
    ? new WebSocketServer({ ...options, server })
    : new WebSocketServer({ host: "127.0.0.1", port: 0, ...options });
  const accepted: Seen[] = [];
  let taken = 0;
  let arrived = () => {};
  wss.on("connection", (socket, request) => {
    const seen: Seen = {
      socket,
      request,
      pings: 0,
      errors: [],
      closed: new Promise((resolve) => {
        socket.on("close", (code, reason) => resolve([code, reason.toString()]));
      }),
    };
    socket.on("error", (error) => seen.errors.push(error.message));
    socket.on("ping", () => seen.pings++);
    socket.on("message", (data, isBinary) => socket.send(data, { binary: isBinary }));
    accepted.push(seen);
    arrived();
  });
  if (server) {
    if (typeof listen === "string") server.listen(listen);
    else server.listen(listen, "127.0.0.1");
    await once(server, "listening");
  } else {
    await once(wss, "listening");
  }
  const address = (server ?? wss).address() as AddressInfo;
  return {
    port: address.port,
    accepted,
    /** The first connection ws accepted that this didn't return yet, once there is one. */
    async connection(): Promise<Seen> {
      while (accepted.length === taken) await new Promise<void>((resolve) => (arrived = resolve));
      return accepted[taken++]!;
    },
    async [Symbol.asyncDispose]() {
      for (const client of wss.clients) client.terminate();
      await new Promise((resolve) => wss.close(resolve));
      if (server) {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
    },
  };
}

/** A ws client, open; its 'close' event as a promise, registered before anything can happen. */
async function wsClient(
  address: string,
  protocols: string[] = [],
  options: WebSocket.ClientOptions = {},
) {
  const client = new WebSocket(address, protocols, options);
  const closed = new Promise<[number, string]>((resolve) => {
    client.on("close", (code, reason) => resolve([code, reason.toString()]));
  });
  await once(client, "open");
  return { client, closed };
}

function nextMessage(client: WebSocket): Promise<string> {
  return once(client, "message").then(([data]) => (data as Buffer).toString());
}

describe("our client against a ws server: features", () => {
  it("connects over TLS, trusting the test CA", async () => {
    await using peer = await wsServer({}, https.createServer({ key, cert }));
    await using ws = await connect(`wss://127.0.0.1:${peer.port}/secure`, { tls: { ca } });
    await ws.send("over TLS");
    assert.equal(await ws.recv(), "over TLS");
    const seen = await peer.connection();
    assert.equal(seen.request.url, "/secure");
    assert.equal((seen.request.socket as { encrypted?: boolean }).encrypted, true);
  });

  it("connects over a Unix socket", async () => {
    const path = join(directory, "ws-server.sock");
    await using peer = await wsServer({}, http.createServer(), path);
    await using ws = await connect("ws://localhost/over-unix", { path });
    await ws.send("over a Unix socket");
    assert.equal(await ws.recv(), "over a Unix socket");
    const seen = await peer.connection();
    assert.equal(seen.request.url, "/over-unix");
    assert.equal(seen.request.headers.host, "localhost");
  });

  it("gets the subprotocol ws selects; without one, opens or fails as asked", async () => {
    const offered: string[][] = [];
    await using peer = await wsServer({
      handleProtocols: (protocols) => {
        offered.push([...protocols]);
        return protocols.has("chat") ? "chat" : false;
      },
    });
    const uri = `ws://127.0.0.1:${peer.port}`;
    const ws = await connect(uri, { subprotocols: ["superchat", "chat"] });
    assert.equal(ws.subprotocol, "chat");
    assert.equal(peer.accepted[0]?.socket.protocol, "chat");
    await ws.close();

    const none = await connect(uri, { subprotocols: ["other"] });
    assert.equal(none.subprotocol, null);
    assert.equal(peer.accepted[1]?.socket.protocol, "");
    await none.close();

    await assert.rejects(
      connect(uri, { subprotocols: ["other"], requireSubprotocol: true }),
      NegotiationError,
    );
    assert.deepEqual(offered, [["superchat", "chat"], ["other"], ["other"]]);
  });

  it("reports the status and headers of ws's verifyClient rejection, and sends user info", async () => {
    const authorizations: (string | undefined)[] = [];
    await using peer = await wsServer({
      verifyClient: (info, callback) => {
        const authorization = info.req.headers.authorization;
        authorizations.push(authorization);
        const expected = `Basic ${Buffer.from("alice:p@ss w:rd").toString("base64")}`;
        if (authorization === expected) callback(true);
        else callback(false, 401, "Unauthorized", { "WWW-Authenticate": 'Basic realm="ws"' });
      },
    });
    const ws = await connect(`ws://alice:p%40ss%20w%3Ard@127.0.0.1:${peer.port}/`);
    await ws.send("authenticated?");
    assert.equal(await ws.recv(), "authenticated?");
    await ws.close();

    const error = await connect(`ws://alice:wrong@127.0.0.1:${peer.port}/`).catch((e) => e);
    assert.ok(error instanceof InvalidStatus);
    assert.ok(error.response instanceof Response);
    assert.equal(error.response.status, 401);
    assert.equal(error.response.headers.get("WWW-Authenticate"), 'Basic realm="ws"');
    assert.deepEqual(authorizations, [
      `Basic ${Buffer.from("alice:p@ss w:rd").toString("base64")}`,
      `Basic ${Buffer.from("alice:wrong").toString("base64")}`,
    ]);
    assert.equal(peer.accepted.length, 1);
  });

  it("fails with 1009 both ways when a message exceeds the receiver's limit", async () => {
    await using peer = await wsServer({ maxPayload: 1024 });
    const uri = `ws://127.0.0.1:${peer.port}`;
    // Uncompressed: ws refuses the frame from its header.
    const ws = await connect(uri, { maxMessageSize: 1024, compression: null });
    const seen = await peer.connection();
    await ws.send("a".repeat(2000));
    const theirs = await ws.recv().catch((error: unknown) => error);
    assert.ok(theirs instanceof ConnectionClosedError);
    assert.equal(theirs.rcvd?.code, 1009);
    assert.equal(theirs.rcvd?.reason, "");
    // ws failed the connection and closed TCP at once, reading nothing more.
    assert.equal((await seen.closed)[0], 1006);
    assert.deepEqual(seen.errors, ["Max payload size exceeded"]);

    const other = await connect(uri, { maxMessageSize: 1024, compression: null });
    const otherSeen = await peer.connection();
    otherSeen.socket.send("a".repeat(2000));
    const ours = await other.recv().catch((error: unknown) => error);
    assert.ok(ours instanceof ConnectionClosedError);
    assert.equal(ours.sent?.code, 1009);
    assert.deepEqual(await otherSeen.closed, [1009, ours.sent?.reason]);
  });

  it("answers ws's pings, and ws answers our keepalive pings and ping()", async () => {
    await using peer = await wsServer();
    await using ws = await connect(`ws://127.0.0.1:${peer.port}`, {
      pingInterval: 50,
      pingTimeout: 5000,
    });
    const seen = await peer.connection();
    seen.socket.ping("from ws");
    const [pong] = (await once(seen.socket, "pong")) as [Buffer];
    assert.equal(pong.toString(), "from ws");

    // ws answers a ping before it emits 'ping': after the third, it has answered three.
    while (seen.pings < 3) await once(seen.socket, "ping");
    seen.socket.send("pinged");
    assert.equal(await ws.recv(), "pinged");
    assert.ok(ws.latency > 0, `latency ${ws.latency}`);
    assert.ok((await ws.ping()) > 0);
  });

  it("reports 1001 when ws's server shuts down", async () => {
    await using peer = await wsServer();
    const ws = await connect(`ws://127.0.0.1:${peer.port}`);
    const seen = await peer.connection();
    // ws's server.close() leaves connections open; its applications close them with 1001.
    seen.socket.close(1001, "shutting down");
    await assert.rejects(ws.recv(), ConnectionClosedOK);
    assert.equal(ws.closeCode, 1001);
    assert.equal(ws.closeReason, "shutting down");
    assert.deepEqual(await seen.closed, [1001, "shutting down"]);
  });
});

describe("a ws client against our server: features", () => {
  it("connects over TLS, trusting the test CA", async () => {
    const seen = deferred<ServerConnection>();
    const { server, port } = await startServer(
      async (ws) => {
        seen.resolve(ws);
        await echo(ws);
      },
      { tls: { key, cert } },
    );
    await using _server = server;
    const { client, closed } = await wsClient(`wss://127.0.0.1:${port}/secure`, [], { ca });
    const echoed = nextMessage(client);
    client.send("over TLS");
    assert.equal(await echoed, "over TLS");
    assert.equal((await seen.promise).request?.path, "/secure");
    client.close(1000, "done");
    assert.deepEqual(await closed, [1000, "done"]);
  });

  it("connects over a Unix socket", async () => {
    const path = join(directory, "our-server.sock");
    const seen = deferred<ServerConnection>();
    await using _server = await serve(
      async (ws) => {
        seen.resolve(ws);
        await echo(ws);
      },
      { path, logger: null },
    );
    const { client, closed } = await wsClient(`ws+unix://${path}:/over-unix`);
    const echoed = nextMessage(client);
    client.send("over a Unix socket");
    assert.equal(await echoed, "over a Unix socket");
    const serverSide = await seen.promise;
    assert.equal(serverSide.request?.path, "/over-unix");
    assert.equal(serverSide.remoteAddress, null);
    client.close();
    assert.equal((await closed)[0], 1005);
  });

  it("gives ws the subprotocol our server selects, and 400 without a common one", async () => {
    const selected: (string | null)[] = [];
    const { server, uri } = await startServer(
      async (ws) => {
        selected.push(ws.subprotocol);
        await echo(ws);
      },
      { subprotocols: ["chat.v2", "chat.v1"] },
    );
    await using _server = server;
    const { client, closed } = await wsClient(uri, ["chat.v1", "chat.v2"]);
    assert.equal(client.protocol, "chat.v2");
    client.close();
    await closed;
    assert.deepEqual(selected, ["chat.v2"]);

    const refused = new WebSocket(uri, ["other"]);
    const [, response] = (await once(refused, "unexpected-response")) as [
      unknown,
      http.IncomingMessage,
    ];
    assert.equal(response.statusCode, 400);
    refused.on("error", () => {});
    refused.terminate();
    assert.deepEqual(selected, ["chat.v2"], "the handler did not run");
  });

  it("refuses a ws client with processRequest's status; authenticates one with basicAuth()", async () => {
    const seen: ServerConnection[] = [];
    const auth = basicAuth({ credentials: { alice: "s3cret" } });
    const { server, port } = await startServer(
      async (ws) => {
        seen.push(ws);
        await echo(ws);
      },
      {
        processRequest: (connection, request) =>
          request.path === "/forbidden"
            ? { status: 403, body: "No.\n" }
            : auth(connection, request),
      },
    );
    await using _server = server;
    for (const [address, status] of [
      [`ws://alice:s3cret@127.0.0.1:${port}/forbidden`, 403],
      [`ws://alice:wrong@127.0.0.1:${port}/`, 401],
    ] as const) {
      const refused = new WebSocket(address);
      refused.on("error", () => {});
      const [, response] = (await once(refused, "unexpected-response")) as [
        unknown,
        http.IncomingMessage,
      ];
      assert.equal(response.statusCode, status);
      if (status === 401) {
        assert.equal(
          response.headers["www-authenticate"],
          'Basic realm="websockets", charset="UTF-8"',
        );
      }
      refused.terminate();
    }
    const { client, closed } = await wsClient(`ws://alice:s3cret@127.0.0.1:${port}/`);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]?.username, "alice");
    client.close();
    await closed;
  });

  it("redirects a ws client that follows redirects", async () => {
    const target = deferred<ServerConnection>();
    const { server: targetServer, port: targetPort } = await startServer(async (ws) => {
      target.resolve(ws);
      await echo(ws);
    });
    await using _target = targetServer;
    const { server, uri } = await startServer(echo, {
      processRequest: () => ({
        status: 302,
        headers: { Location: `ws://127.0.0.1:${targetPort}/target` },
      }),
    });
    await using _server = server;
    const { client, closed } = await wsClient(`${uri}/start`, [], { followRedirects: true });
    assert.equal(client.url, `ws://127.0.0.1:${targetPort}/target`);
    assert.equal((await target.promise).request?.path, "/target");
    client.close();
    await closed;
  });

  it("fails with 1009 when our message exceeds ws's maxPayload", async () => {
    const ended = deferred<[number | null, string | null]>();
    const { server, uri } = await startServer(async (ws) => {
      await ws.send("a".repeat(2000));
      await ws.closed;
      ended.resolve([ws.closeCode, ws.closeReason]);
    });
    await using _server = server;
    const client = new WebSocket(uri, { maxPayload: 1024 });
    const errors: string[] = [];
    client.on("error", (error) => errors.push(error.message));
    // Not once(client, "close"): it would reject on the 'error' event.
    const code = await new Promise<number>((resolve) => client.on("close", resolve));
    // Compressed, the message is small: ws's limit applies once inflated.
    assert.deepEqual(errors, ["Max payload size exceeded"]);
    assert.equal(code, 1006, "ws closed the TCP connection at once, reading no close frame");
    assert.deepEqual(await ended.promise, [1009, ""]);
  });

  it("fails with 1009 when ws's message exceeds our limit", async () => {
    const { server, uri, received: ended } = await startReceivingServer({ maxMessageSize: 1024 });
    await using _server = server;
    const { client, closed } = await wsClient(uri);
    client.send("a".repeat(2000));
    const [code, reason] = await closed;
    const error = await ended;
    assert.ok(error instanceof ConnectionClosedError);
    assert.equal(error.sent?.code, 1009);
    assert.deepEqual([code, reason], [1009, error.sent?.reason]);
  });

  it("pings ws on keepalive and answers ws's pings", async () => {
    const latencies = deferred<[number, unknown, number]>();
    const { server, uri } = await startServer(
      async (ws) => {
        const measured = await ws.ping();
        const message = await ws.recv();
        latencies.resolve([measured, message, ws.latency]);
        await echo(ws);
      },
      { pingInterval: 50, pingTimeout: 5000 },
    );
    await using _server = server;
    const client = new WebSocket(uri);
    let pings = 0;
    client.on("ping", () => pings++);
    await once(client, "open");
    // ws answers a ping before it emits 'ping': after the fourth (ping()
    // and three keepalive pings), it has answered them all.
    while (pings < 4) await once(client, "ping");
    client.send("pinged");
    const [measured, message, keepalive] = await latencies.promise;
    assert.ok(measured > 0);
    assert.equal(message, "pinged");
    assert.ok(keepalive > 0);
    client.ping("from ws");
    const [pong] = (await once(client, "pong")) as [Buffer];
    assert.equal(pong.toString(), "from ws");
    client.close();
    await once(client, "close");
  });

  it("closes ws clients with 1001 when our server shuts down", async () => {
    const { server, uri } = await startServer(echo);
    await using _server = server;
    const first = await wsClient(uri);
    const second = await wsClient(uri);
    await server.close();
    assert.deepEqual(await first.closed, [1001, ""]);
    assert.deepEqual(await second.closed, [1001, ""]);
    assert.equal(server.connections.size, 0);
  });

  it("takes ws clients from a node:http server's upgrade events with handleUpgrade()", async () => {
    await using upgrading = await startUpgradeServer(undefined, "/ws");
    const { port } = upgrading;
    const { client, closed } = await wsClient(`ws://127.0.0.1:${port}/ws`);
    const echoed = nextMessage(client);
    client.send("through handleUpgrade()");
    assert.equal(await echoed, "through handleUpgrade()");
    const serverSide = await upgrading.seen;
    assert.equal(serverSide.request?.path, "/ws");
    assert.equal(client.extensions, "permessage-deflate");
    // The HTTP server still answers plain requests.
    const response = await fetch(`http://127.0.0.1:${port}/`);
    assert.equal(await response.text(), "plain HTTP\n");
    client.close(4000, "bye");
    assert.deepEqual(await closed, [4000, "bye"]);
    await serverSide.closed;
    assert.equal(serverSide.closeCode, 4000);
  });
});
