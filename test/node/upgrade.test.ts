import assert from "node:assert/strict";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import * as net from "node:net";
import { after, describe, it } from "node:test";
import { InvalidState, InvalidStatus } from "../../src/core/errors.js";
import { Opcode } from "../../src/core/opcodes.js";
import { connect } from "../../src/node/client.js";
import { type ServerConnection, serve } from "../../src/node/server.js";
import { RawPeer } from "../helpers/raw.js";
import { deferred, echo, unhandledRejections } from "../helpers/server.js";

after(() => {
  assert.deepEqual(unhandledRejections(), []);
});

/** A node:http server that answers plain requests, listening on 127.0.0.1. */
async function startHttpServer(): Promise<{ httpServer: http.Server; port: number }> {
  const httpServer = http.createServer((request, response) => {
    response.writeHead(200, { "Content-Type": "text/plain" });
    response.end(`plain HTTP at ${request.url}\n`);
  });
  httpServer.listen(0, "127.0.0.1");
  await once(httpServer, "listening");
  return { httpServer, port: (httpServer.address() as net.AddressInfo).port };
}

async function closeHttpServer(httpServer: http.Server | https.Server): Promise<void> {
  httpServer.closeAllConnections();
  await new Promise((resolve) => httpServer.close(resolve));
}

/** A valid handshake request, for a raw client to send. */
const REQUEST =
  "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

/** Resolves when `socket` emits 'close', whatever error came first (not once(), which rejects). */
function closeOf(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => socket.once("close", () => resolve()));
}

/**
 * Sends a handshake request for `path` from a socket that never closes its
 * side by itself, and reads the answer until the server closes its side.
 */
async function refusedClient(
  port: number,
  path: string,
): Promise<{ socket: net.Socket; answer: string }> {
  const socket = net.connect({ host: "127.0.0.1", port, allowHalfOpen: true });
  socket.on("error", () => {});
  let answer = "";
  socket.on("data", (chunk: Buffer) => {
    answer += chunk.toString("latin1");
  });
  socket.write(REQUEST.replace("GET / ", `GET ${path} `));
  await once(socket, "end");
  return { socket, answer };
}

/** GETs a URL and resolves with the body. */
async function get(url: string, options: https.RequestOptions = {}): Promise<string> {
  const client = url.startsWith("https:") ? https : http;
  const response = await new Promise<http.IncomingMessage>((resolve, reject) => {
    client.get(url, { ...options, agent: false }, resolve).on("error", reject);
  });
  let body = "";
  for await (const chunk of response) body += chunk;
  return body;
}

describe("serve({ server })", () => {
  it("takes WebSocket upgrades from a node:http server that keeps serving HTTP", async () => {
    const { httpServer, port } = await startHttpServer();
    try {
      const server = await serve(echo, { server: httpServer, logger: null });
      await using _server = server;
      assert.equal((server.address() as net.AddressInfo).port, port);
      assert.equal(await get(`http://127.0.0.1:${port}/page`), "plain HTTP at /page\n");
      await using ws = await connect(`ws://127.0.0.1:${port}/socket`);
      await ws.send("same port");
      assert.equal(await ws.recv(), "same port");
      // Both kinds of requests keep working side by side.
      assert.equal(await get(`http://127.0.0.1:${port}/again`), "plain HTTP at /again\n");
      await ws.send("still open");
      assert.equal(await ws.recv(), "still open");
    } finally {
      await closeHttpServer(httpServer);
    }
  });

  it("takes WebSocket upgrades from a node:https server", async () => {
    const fixtures = new URL("../../../test/fixtures/tls/", import.meta.url);
    const ca = readFileSync(new URL("ca.pem", fixtures));
    const httpsServer = https.createServer(
      {
        key: readFileSync(new URL("localhost-key.pem", fixtures)),
        cert: readFileSync(new URL("localhost.pem", fixtures)),
      },
      (_request, response) => response.end("secure page\n"),
    );
    httpsServer.listen(0, "127.0.0.1");
    await once(httpsServer, "listening");
    const port = (httpsServer.address() as net.AddressInfo).port;
    try {
      await using _server = await serve(echo, { server: httpsServer, logger: null });
      assert.equal(await get(`https://localhost:${port}/`, { ca }), "secure page\n");
      await using ws = await connect(`wss://localhost:${port}/`, { tls: { ca } });
      await ws.send("secure upgrade");
      assert.equal(await ws.recv(), "secure upgrade");
    } finally {
      await closeHttpServer(httpsServer);
    }
  });

  it("takes connections from a plain net.Server", async () => {
    const netServer = net.createServer({ allowHalfOpen: true });
    netServer.listen(0, "127.0.0.1");
    await once(netServer, "listening");
    const port = (netServer.address() as net.AddressInfo).port;
    try {
      const server = await serve(echo, { server: netServer, logger: null });
      await using ws = await connect(`ws://127.0.0.1:${port}/`);
      await ws.send("net.Server");
      assert.equal(await ws.recv(), "net.Server");
      await server.close();
      await ws.closed;
      assert.equal(ws.closeCode, 1001);
      // close() leaves the server it was given listening.
      assert.equal(netServer.listening, true);
    } finally {
      await new Promise((resolve) => netServer.close(resolve));
    }
  });

  it("lets go of a socket emitted as 'connection' after it closed or its client half-closed", {
    timeout: 20_000,
  }, async () => {
    // Sockets come from a listening server of the test, and are handed to
    // serve() late, by hand, as an application may do.
    const sockets: net.Socket[] = [];
    const accepted: ((socket: net.Socket) => void)[] = [];
    const listening = net.createServer({ allowHalfOpen: true }, (socket) => {
      sockets.push(socket);
      accepted.shift()?.(socket);
    });
    listening.listen(0, "127.0.0.1");
    await once(listening, "listening");
    const port = (listening.address() as net.AddressInfo).port;
    const accept = () => new Promise<net.Socket>((resolve) => accepted.push(resolve));
    try {
      let handled = 0;
      const netServer = net.createServer();
      // No openTimeout to come to the rescue.
      const server = await serve(() => void handled++, {
        server: netServer,
        logger: null,
        openTimeout: null,
      });
      // Reset by the client: destroyed before serve() gets it.
      const resetting = accept();
      const reset = await RawPeer.connect(port);
      const gone = await resetting;
      gone.on("error", () => {});
      const goneClosed = closeOf(gone);
      reset.socket.resetAndDestroy();
      await goneClosed;
      netServer.emit("connection", gone);
      // Half-closed by the client, which sent nothing: 'end' came and went.
      const ending = accept();
      const halfClosed = await RawPeer.connect(port);
      const ended = await ending;
      ended.resume();
      halfClosed.socket.end();
      await once(ended, "end");
      netServer.emit("connection", ended);
      // The server sees the end of the stream and closes its side.
      await halfClosed.closed;
      // Neither connection is left for close() to wait for.
      await server.close();
      assert.equal(handled, 0);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => listening.close(resolve));
    }
  });

  it("stops taking upgrades after close() while the HTTP server goes on", async () => {
    const { httpServer, port } = await startHttpServer();
    try {
      const server = await serve(echo, { server: httpServer, logger: null });
      const ws = await connect(`ws://127.0.0.1:${port}/`);
      await server.close();
      await ws.closed;
      assert.equal(ws.closeCode, 1001);
      assert.equal(httpServer.listenerCount("upgrade"), 0);
      assert.equal(await get(`http://127.0.0.1:${port}/after`), "plain HTTP at /after\n");
    } finally {
      await closeHttpServer(httpServer);
    }
  });

  it("refuses listening options along with a server", async () => {
    const httpServer = http.createServer();
    await assert.rejects(serve(echo, { server: httpServer, port: 0 }), TypeError);
    await assert.rejects(serve(echo, { listen: false, tls: {} }), TypeError);
    await assert.rejects(serve(echo, { server: httpServer, listen: false }), TypeError);
  });
});

describe("Server.handleUpgrade()", () => {
  it("handles the upgrades an application routes to it", async () => {
    const { httpServer, port } = await startHttpServer();
    try {
      const chat = await serve(echo, { listen: false, logger: null });
      await using _chat = chat;
      assert.equal(chat.address(), null);
      httpServer.on("upgrade", (request: http.IncomingMessage, socket, head) => {
        if (request.url === "/chat") {
          chat.handleUpgrade(request, socket, head);
        } else {
          socket.on("error", () => socket.destroy());
          socket.end("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
        }
      });
      await using ws = await connect(`ws://127.0.0.1:${port}/chat`);
      await ws.send("routed");
      assert.equal(await ws.recv(), "routed");
      const error = await connect(`ws://127.0.0.1:${port}/other`).catch((e: unknown) => e);
      assert.ok(error instanceof InvalidStatus);
      assert.equal(error.response.status, 404);
      assert.equal(await get(`http://127.0.0.1:${port}/`), "plain HTTP at /\n");
    } finally {
      await closeHttpServer(httpServer);
    }
  });

  it("feeds the bytes that came with the request to the protocol", async () => {
    const { httpServer, port } = await startHttpServer();
    try {
      const seen = deferred<ServerConnection>();
      await using _server = await serve(
        async (ws) => {
          seen.resolve(ws);
          await echo(ws);
        },
        { server: httpServer, logger: null },
      );
      const peer = await RawPeer.connect(port);
      // The request and a first frame in one write: Node reads both and hands
      // the frame over as `head`.
      const request =
        "GET /early HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
        "X-Name: caf\xe9\r\nX-Repeated: 1\r\nX-Repeated: 2\r\n\r\n";
      const frame = new Uint8Array([0x81, 0x85, 0, 0, 0, 0, ...new TextEncoder().encode("early")]);
      peer.write(new Uint8Array([...Buffer.from(request, "latin1"), ...frame]));
      assert.match(await peer.readHead(), /^HTTP\/1\.1 101 Switching Protocols\r\n/);
      const echoed = await peer.readFrame();
      assert.equal(echoed?.opcode, Opcode.TEXT);
      assert.equal(new TextDecoder().decode(echoed?.data), "early");
      const serverSide = await seen.promise;
      assert.equal(serverSide.request.path, "/early");
      assert.equal(serverSide.request.headers.get("X-Name"), "caf\xe9");
      assert.deepEqual(serverSide.request.headers.getAll("X-Repeated"), ["1", "2"]);
      peer.socket.destroy();
    } finally {
      await closeHttpServer(httpServer);
    }
  });

  it("validates the request like any other", async () => {
    const { httpServer, port } = await startHttpServer();
    try {
      await using _server = await serve(echo, { server: httpServer, logger: null });
      const peer = await RawPeer.connect(port);
      peer.write(
        "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n",
      );
      const answer = await peer.readToEnd();
      assert.match(answer, /^HTTP\/1\.1 426 Upgrade Required\r\n/);
      assert.match(answer, /\r\nSec-WebSocket-Version: 13\r\n/);
    } finally {
      await closeHttpServer(httpServer);
    }
  });

  it("refuses a socket that handleUpgrade() upgraded already, and still closes", async () => {
    const { httpServer, port } = await startHttpServer();
    try {
      // Two listeners that both hand the socket over: a misconfiguration.
      const chat = await serve(echo, { listen: false, logger: null });
      const refused = deferred<unknown>();
      httpServer.on("upgrade", (request, socket: net.Socket, head) => {
        chat.handleUpgrade(request, socket, head);
        try {
          chat.handleUpgrade(request, socket, head);
          refused.resolve(null);
        } catch (error) {
          refused.resolve(error);
        }
      });
      const ws = await connect(`ws://127.0.0.1:${port}/`);
      const error = await refused.promise;
      assert.ok(error instanceof InvalidState, String(error));
      assert.match(error.message, /already upgraded/);
      // One answer: the connection works, and closes.
      await ws.send("once");
      assert.equal(await ws.recv(), "once");
      assert.equal(chat.connections.size, 1);
      await ws.close();
      await chat.close();
      assert.equal(chat.connections.size, 0);
    } finally {
      await closeHttpServer(httpServer);
    }
  });

  it("drops a socket that the client reset before handleUpgrade() got it", {
    timeout: 20_000,
  }, async () => {
    const { httpServer, port } = await startHttpServer();
    try {
      let handled = 0;
      const chat = await serve(() => void handled++, { listen: false, logger: null });
      const upgrading = deferred();
      const handedOver = deferred<net.Socket>();
      httpServer.on("upgrade", async (request, socket: net.Socket, head) => {
        socket.on("error", () => {});
        const closed = closeOf(socket);
        upgrading.resolve();
        // Async work (an authentication lookup, …) during which the client leaves.
        await closed;
        chat.handleUpgrade(request, socket, head);
        handedOver.resolve(socket);
      });
      const peer = await RawPeer.connect(port);
      peer.write(REQUEST);
      await upgrading.promise;
      peer.socket.resetAndDestroy();
      assert.equal((await handedOver.promise).destroyed, true);
      assert.equal(chat.connections.size, 0);
      // Nothing is left to wait for.
      await chat.close();
      assert.equal(handled, 0);
    } finally {
      await closeHttpServer(httpServer);
    }
  });

  it("drops a socket that the client half-closed before handleUpgrade() got it", {
    timeout: 20_000,
  }, async () => {
    const { httpServer, port } = await startHttpServer();
    try {
      let handled = 0;
      const chat = await serve(() => void handled++, { listen: false, logger: null });
      httpServer.on("upgrade", async (request, socket: net.Socket, head) => {
        // Node emits 'end' to nobody: the socket is half-open, and stays so.
        await new Promise((resolve) => socket.once("end", resolve));
        chat.handleUpgrade(request, socket, head);
      });
      const peer = await RawPeer.connect(port);
      peer.socket.end(REQUEST);
      // No answer, no handler: the server closes the socket.
      assert.equal(await peer.readToEnd(), "");
      await peer.closed;
      assert.equal(chat.connections.size, 0);
      await chat.close();
      assert.equal(handled, 0);
    } finally {
      await closeHttpServer(httpServer);
    }
  });

  it("answers 503 once closing, and survives a client that resets then", {
    timeout: 20_000,
  }, async () => {
    const { httpServer, port } = await startHttpServer();
    try {
      const chat = await serve(echo, { listen: false, logger: null });
      await chat.close();
      let closed: Promise<void> | null = null;
      httpServer.on("upgrade", (request, socket: net.Socket, head) => {
        closed = closeOf(socket);
        // Synchronously, as in the docs: the socket has no 'error' listener.
        chat.handleUpgrade(request, socket, head);
      });
      const { socket, answer } = await refusedClient(port, "/");
      assert.match(answer, /^HTTP\/1\.1 503 Service Unavailable\r\n/);
      // An unhandled ECONNRESET on the server's socket would crash the process.
      socket.resetAndDestroy();
      await closed;
    } finally {
      await closeHttpServer(httpServer);
    }
  });

  it("once closing, closes the socket when the client does, or after closeTimeout", {
    timeout: 20_000,
  }, async () => {
    const { httpServer, port } = await startHttpServer();
    try {
      const servers = await Promise.all(
        [null, 100].map((closeTimeout) =>
          serve(echo, { listen: false, logger: null, closeTimeout }),
        ),
      );
      for (const server of servers) await server.close();
      const closed = new Map<string, Promise<void>>();
      httpServer.on("upgrade", (request: http.IncomingMessage, socket: net.Socket, head) => {
        closed.set(request.url!, closeOf(socket));
        servers[Number(request.url === "/bounded")]!.handleUpgrade(request, socket, head);
      });
      // Sends more, then closes its side: the server reads the bytes, then the FIN.
      const polite = await refusedClient(port, "/");
      assert.match(polite.answer, /^HTTP\/1\.1 503 Service Unavailable\r\n/);
      polite.socket.end("more bytes");
      await closed.get("/");
      polite.socket.destroy();
      // Never closes its side: dropped after closeTimeout.
      const stubborn = await refusedClient(port, "/bounded");
      assert.match(stubborn.answer, /^HTTP\/1\.1 503 Service Unavailable\r\n/);
      stubborn.socket.write("more bytes");
      await closed.get("/bounded");
      stubborn.socket.destroy();
    } finally {
      await closeHttpServer(httpServer);
    }
  });

  it("answers 503 once the server is closing", async () => {
    const { httpServer, port } = await startHttpServer();
    try {
      const chat = await serve(echo, { listen: false, logger: null });
      httpServer.on("upgrade", (request, socket, head) =>
        chat.handleUpgrade(request, socket, head),
      );
      await chat.close();
      const error = await connect(`ws://127.0.0.1:${port}/`).catch((e: unknown) => e);
      assert.ok(error instanceof InvalidStatus);
      assert.equal(error.response.status, 503);
    } finally {
      await closeHttpServer(httpServer);
    }
  });
});
