import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import * as http from "node:http";
import * as net from "node:net";
import { performance } from "node:perf_hooks";
import { after, describe, it } from "node:test";
import { ConnectionClosedOK, InvalidStatus } from "../../src/core/errors.js";
import { Headers } from "../../src/core/headers.js";
import { Opcode } from "../../src/core/opcodes.js";
import { Response } from "../../src/core/response.js";
import { State } from "../../src/core/state.js";
import { connect } from "../../src/node/client.js";
import type { Logger } from "../../src/node/logger.js";
import {
  broadcast,
  type ServerCloseOptions,
  type ServerConnection,
  serve,
} from "../../src/node/server.js";
import { runNode } from "../helpers/child.js";
import { fromPeer } from "../helpers/protocol.js";
import { closePayload, RawPeer, receiveUntilEnd, writeUntilStalled } from "../helpers/raw.js";
import { deferred, echo, startServer, unhandledRejections, within } from "../helpers/server.js";
import { warningsOf } from "../helpers/warnings.js";

after(() => {
  assert.deepEqual(unhandledRejections(), []);
});

/** A logger that records what it is told. */
function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const record = (message: string) => {
    lines.push(message);
  };
  return { lines, error: record, warn: record, info: record, debug: record };
}

describe("serve() arguments of the wrong type", () => {
  const refused: [string, () => Promise<unknown>, string][] = [
    [
      "a missing handler",
      () => serve(undefined as never, { port: 0 }),
      "serve() takes a handler, a function of the connection; got undefined",
    ],
    [
      "a single origin",
      () => serve(echo, { port: 0, origins: "https://example.com" as never }),
      'origins must be an array of origins (strings such as "https://example.com", regular expressions, or null for no Origin header); got "https://example.com"',
    ],
    [
      "a processRequest that isn't a function",
      () => serve(echo, { port: 0, processRequest: "x" as never }),
      'processRequest must be a function; got "x"',
    ],
    [
      "a processResponse that isn't a function",
      () => serve(echo, { listen: false, processResponse: {} as never }),
      "processResponse must be a function; got an Object",
    ],
    [
      "a selectSubprotocol that isn't a function",
      () => serve(echo, { listen: false, selectSubprotocol: "chat" as never }),
      'selectSubprotocol must be a function; got "chat"',
    ],
    [
      "extensions that aren't server factories",
      () => serve(echo, { listen: false, extensions: [{ name: "x" }] as never }),
      "extensions must be an array of server extension factories, with a name and processRequestParams(); item 0 is an Object",
    ],
    [
      "a logger that isn't one",
      () => serve(echo, { listen: false, logger: {} as never }),
      "logger must have error, warn, info and debug methods; error, warn, info, debug are missing",
    ],
  ];
  for (const [what, attempt, message] of refused) {
    it(`refuses ${what} with a TypeError`, async () => {
      await assert.rejects(attempt(), { name: "TypeError", message });
    });
  }
});

describe("serve()", () => {
  it("listens on a free port when given port 0 and reports it", async () => {
    const { server, port } = await startServer(echo);
    await using _server = server;
    const address = server.address() as net.AddressInfo;
    assert.equal(address.port, port);
    assert.ok(port > 0);
  });

  it("rejects when the port is taken", async () => {
    const { server, port } = await startServer(echo);
    await using _server = server;
    await assert.rejects(serve(echo, { host: "127.0.0.1", port, logger: null }), /EADDRINUSE/);
  });

  it("closes the connection with 1000 when the handler returns", async () => {
    const { server, uri } = await startServer(async () => {});
    await using _server = server;
    await using ws = await connect(uri);
    await assert.rejects(ws.recv(), ConnectionClosedOK);
    assert.equal(ws.closeCode, 1000);
  });

  it("closes with 1011 when the handler throws, logs it, and keeps serving", async () => {
    const logger = recordingLogger();
    const { server, uri } = await startServer(
      async (ws) => {
        if ((await ws.recv()) === "fail") throw new Error("handler bug");
        await ws.send("fine");
      },
      { logger },
    );
    await using _server = server;
    const failing = await connect(uri);
    await failing.send("fail");
    await failing.closed;
    assert.equal(failing.closeCode, 1011);
    assert.equal(failing.closeReason, "");
    // Which connection it was: the client's address and port, and the path.
    const port = failing.localAddress!.port;
    assert.ok(logger.lines.includes(`connection handler failed (127.0.0.1:${port} /)`));
    await using ws = await connect(uri);
    await ws.send("ok");
    assert.equal(await ws.recv(), "fine");
  });

  it("closes with 1011 and lets close() finish when the handler throws and the logger too", async () => {
    const throwing = () => {
      throw new Error("log destination closed");
    };
    const warnings = await warningsOf(async () => {
      const { server, uri } = await startServer(
        async () => {
          throw new Error("handler bug");
        },
        { logger: { error: throwing, warn: throwing, info: throwing, debug: throwing } },
      );
      const ws = await connect(uri);
      await ws.closed;
      assert.equal(ws.closeCode, 1011);
      await within(server.close(), 5000, "server.close() with a handler whose logging threw");
    });
    assert.deepEqual(
      warnings.map((warning) => (warning as NodeJS.ErrnoException).code),
      ["WEBSOCKETS_TS_LOGGER_FAILED"],
    );
  });

  it("tracks open connections and broadcasts to them", async () => {
    const joined = deferred();
    let count = 0;
    const { server, uri } = await startServer(async (ws) => {
      if (++count === 3) joined.resolve();
      await ws.closed;
    });
    await using _server = server;
    const clients = await Promise.all([connect(uri), connect(uri), connect(uri)]);
    await joined.promise;
    assert.equal(server.connections.size, 3);
    broadcast(server.connections, "news");
    for (const client of clients) assert.equal(await client.recv(), "news");
    await clients[0]!.close();
    broadcast(server.connections, new Uint8Array([1]));
    for (const client of clients.slice(1))
      assert.deepEqual([...((await client.recv()) as Uint8Array)], [1]);
    await Promise.all(clients.map((client) => client.close()));
  });

  it("broadcast() refuses, before sending anything, what it can't send to every connection", async () => {
    const { server, uri } = await startServer(async (ws) => {
      await ws.closed;
    });
    await using _server = server;
    await using client = await connect(uri);
    while (server.connections.size < 1) await new Promise((resolve) => setImmediate(resolve));
    const bytes = "an ArrayBuffer, a typed array such as Uint8Array, or a DataView";
    function* fragments() {
      yield "a";
      yield "b";
    }
    for (const [message, kind] of [
      [42, "a number"],
      [{ text: "an object" }, "an Object"],
      [null, "null"],
      // Fragments: a generator can't be read once per connection.
      [fragments(), "an object"],
      [["a", "b"], "an Array"],
      // Read asynchronously: read it first.
      [new Blob(["abc"]), "a Blob"],
    ] as const) {
      assert.throws(() => broadcast(server.connections, message as never), {
        name: "TypeError",
        message: `broadcast() takes a string or bytes (${bytes}); got ${kind}`,
      });
    }
    // Refused with no connection to send to as well.
    assert.throws(() => broadcast([], 42 as never), TypeError);
    broadcast(server.connections, "the first message sent");
    assert.equal(await client.recv(), "the first message sent");
    broadcast(server.connections, new Uint16Array([0x0201]).buffer);
    assert.deepEqual([...(await client.recvBinary())], [1, 2]);
  });

  it("broadcast() skips connections that are not keeping up", async () => {
    const { server, uri, port } = await startServer(
      async (ws) => {
        await ws.closed;
      },
      { writeHighWaterMark: 1024 },
    );
    await using _server = server;
    const stalled = await RawPeer.connect(port);
    await stalled.handshake();
    stalled.socket.pause();
    await using healthy = await connect(uri, { maxMessageSize: null });
    while (server.connections.size < 2) await new Promise((resolve) => setImmediate(resolve));
    const stalledSide = [...server.connections].find(
      (connection) => connection.remoteAddress?.port === stalled.socket.localPort,
    )!;
    // More than the kernel's socket buffers hold: some stays in Node's buffer.
    const big = randomBytes(16 * 1024 * 1024);
    broadcast(server.connections, big);
    assert.equal((await healthy.recvBinary()).length, big.length);
    // biome-ignore lint/complexity/useLiteralKeys: element access reaches a protected member.
    const buffered = stalledSide["socket"].writableLength;
    assert.ok(buffered > 1024, `${buffered} bytes buffered`);
    broadcast(server.connections, "small");
    assert.equal(await healthy.recv(), "small");
    // biome-ignore lint/complexity/useLiteralKeys: element access reaches a protected member.
    assert.equal(stalledSide["socket"].writableLength, buffered);
    stalled.socket.destroy();
  });

  it("broadcast() stops at the mark for a connection sending a fragmented message", async () => {
    const mark = 16 * 1024;
    const opened = deferred<ServerConnection>();
    const resume = deferred();
    const { server, uri } = await startServer(
      async (ws) => {
        // Streamed from a slow source: the messages broadcast meanwhile wait for it.
        async function* slowly() {
          yield "streamed ";
          await resume.promise;
          yield "message";
        }
        const streaming = ws.send(slowly());
        opened.resolve(ws);
        await streaming;
        await ws.send("end");
        await ws.closed;
      },
      { writeHighWaterMark: mark, compression: null },
    );
    await using _server = server;
    await using client = await connect(uri, { compression: null });
    const ws = await opened.promise;
    const message = "é".repeat(500); // 1,000 bytes of UTF-8
    const before = ws.bufferedAmount;
    for (let i = 0; i < 100; i++) broadcast(server.connections, message);
    const buffered = ws.bufferedAmount;
    const queued = (buffered - before) / 1000;
    // Before the assertions: a failing one must not leave the handler waiting.
    resume.resolve();
    assert.ok(buffered > mark && buffered <= mark + 1000, `${buffered} bytes buffered`);
    assert.ok(queued > 0 && queued < 100, `${queued} messages queued`);
    assert.equal(await client.recv(), "streamed message");
    for (let i = 0; i < queued; i++) assert.equal(await client.recv(), message);
    assert.equal(await client.recv(), "end", "the other broadcasts were skipped");
    assert.equal(ws.bufferedAmount, 0);
  });

  it("applies origin patterns with the g or y flag the same way every time", async () => {
    const global = /^https:\/\/good\.example$/g;
    const sticky = /https:\/\/other\.example/y;
    const { server, uri } = await startServer(echo, { origins: [global, sticky] });
    await using _server = server;
    for (const origin of [
      "https://good.example",
      "https://good.example",
      "https://other.example",
    ]) {
      await (await connect(uri, { origin })).close();
      await (await connect(uri, { origin })).close();
    }
    assert.equal(global.lastIndex, 0);
    const refused = await connect(uri, { origin: "https://x.other.example" }).catch(
      (e: unknown) => e,
    );
    assert.ok(refused instanceof InvalidStatus);
    assert.equal(refused.response.status, 403);
  });

  it("awaits an async processRequest, and processResponse may replace the response", async () => {
    const { server, uri } = await startServer(echo, {
      processRequest: async (connection, request) => {
        await new Promise((resolve) => setImmediate(resolve));
        if (request.path === "/moved") return { status: 301, headers: { Location: "/" } };
        connection.username = "async";
        return undefined;
      },
      processResponse: (connection, request, response) => {
        if (request.path !== "/maintenance") {
          response.headers.set("X-User", connection.username ?? "");
          return undefined;
        }
        return new Response(503, "Service Unavailable", new Headers({ "Content-Length": "0" }));
      },
    });
    await using _server = server;
    await using ws = await connect(`${uri}/moved`);
    assert.equal(ws.request.path, "/");
    assert.equal(ws.response?.headers.get("X-User"), "async");
    const error = await connect(`${uri}/maintenance`).catch((e: unknown) => e);
    assert.ok(error instanceof InvalidStatus);
    assert.equal(error.response.status, 503);
  });

  it("close() sends 1001 to open connections and waits for handlers", async () => {
    const handlerDone = deferred<boolean>();
    const { server, uri } = await startServer(async (ws) => {
      await ws.recv().catch(() => {});
      handlerDone.resolve(true);
    });
    const ws = await connect(uri);
    await ws.ping();
    await server.close();
    assert.equal(await handlerDone.promise, true);
    await ws.closed;
    assert.equal(ws.closeCode, 1001);
    await server.serveForever();
    await assert.rejects(connect(uri), /ECONNREFUSED/);
  });

  for (const hook of ["processRequest", "processResponse"] as const) {
    it(`holds a half-close back while an async ${hook} runs: the handler gets what came before`, async () => {
      const handlerSaw = deferred<string[]>();
      const hookRunning = deferred();
      const gate = deferred();
      const { server, port } = await startServer(
        async (ws) => {
          const seen: string[] = [];
          try {
            for await (const message of ws) seen.push(String(message));
          } catch (error) {
            seen.push((error as Error).constructor.name);
          }
          handlerSaw.resolve(seen);
        },
        {
          [hook]: async () => {
            hookRunning.resolve();
            await gate.promise;
            return undefined;
          },
        },
      );
      await using _server = server;
      const peer = await RawPeer.connect(port);
      // RFC 6455 §4.1 asks the client to wait for the response; this one
      // sends a message and its end of stream with the request, in one
      // segment, so that the server reads all three before the hook runs.
      const request =
        "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
      const maskedX = [0x81, 0x81, 1, 2, 3, 4, 0x78 ^ 1];
      peer.socket.end(Buffer.concat([Buffer.from(request, "latin1"), Buffer.from(maskedX)]));
      const head = peer.readHead();
      await hookRunning.promise;
      await new Promise((resolve) => setTimeout(resolve, 20));
      gate.resolve();
      assert.match(await head, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
      // As without a hook: the message, then 1006 for a stream that ended without a close frame.
      assert.deepEqual(await within(handlerSaw.promise, 5_000, "the handler's end"), [
        "x",
        "ConnectionClosedError",
      ]);
    });
  }

  it("answers a handshake in progress with 503 when closing", async () => {
    const gate = deferred();
    const requestSeen = deferred();
    const { server, port } = await startServer(echo, {
      processRequest: async () => {
        requestSeen.resolve();
        await gate.promise;
        return undefined;
      },
    });
    const peer = await RawPeer.connect(port);
    const head = peer.handshake();
    // Wait until the server has the request, then shut down.
    await requestSeen.promise;
    const closing = server.close();
    gate.resolve();
    assert.match(await head, /^HTTP\/1\.1 503 Service Unavailable\r\n/);
    await closing;
  });

  it("refuses a second serve() on a server the first takes connections from, until it closes", async () => {
    for (const netServer of [net.createServer(), http.createServer()]) {
      netServer.listen(0, "127.0.0.1");
      await once(netServer, "listening");
      const first = await serve(echo, { server: netServer, logger: null });
      await assert.rejects(serve(echo, { server: netServer, logger: null }), {
        name: "InvalidState",
        message: /another serve\(\) takes connections from/,
      });
      // The first one alone answers, and closes.
      const uri = `ws://127.0.0.1:${(netServer.address() as net.AddressInfo).port}`;
      {
        await using ws = await connect(uri);
        await ws.send("one server");
        assert.equal(await ws.recv(), "one server");
      }
      await first.close();
      const second = await serve(echo, { server: netServer, logger: null });
      {
        await using ws = await connect(uri);
        await ws.send("the next one");
        assert.equal(await ws.recv(), "the next one");
      }
      await second.close();
      netServer.close();
      await once(netServer, "close");
    }
  });

  it("answers 503 to a handshake whose request is incomplete when closing", async () => {
    // A server of our own, so that its 'connection' event says when the
    // WebSocket server (whose listener comes first) has taken the socket.
    const netServer = net.createServer({ allowHalfOpen: true });
    netServer.listen(0, "127.0.0.1");
    await once(netServer, "listening");
    const server = await serve(echo, { server: netServer, logger: null });
    const accepted = once(netServer, "connection") as Promise<[net.Socket]>;
    const peer = await RawPeer.connect((netServer.address() as net.AddressInfo).port);
    const [serverSide] = await accepted;
    // Closing before the server read anything would drop the socket instead.
    const requestRead = once(serverSide, "data");
    peer.write("GET / HTTP/1.1\r\nHost: x\r\n");
    await requestRead;
    const closing = server.close();
    assert.match(await peer.readToEnd(), /^HTTP\/1\.1 503 /);
    await closing;
    netServer.close();
    await once(netServer, "close");
  });

  it("close() drops a client that sent nothing, and answers half a request with 503", {
    // Less than closeTimeout: a close() that waits for the silent client fails here.
    timeout: 15_000,
  }, async () => {
    const { server, port } = await startServer(echo, {
      openTimeout: 30_000,
      closeTimeout: 30_000,
    });
    // The server's own net.Server: its listeners come after the WebSocket server's.
    const { netServer } = server as unknown as { netServer: net.Server };
    /** A client, and its socket on the server. */
    const connectClient = async () => {
      const accepted = once(netServer, "connection") as Promise<[net.Socket]>;
      // Half-open: it doesn't close its side when the server closes its own.
      const socket = net.connect({ host: "127.0.0.1", port, allowHalfOpen: true });
      const ended = receiveUntilEnd(socket);
      const [serverSide] = await accepted;
      return { socket, serverSide, ended };
    };
    const silent = await connectClient();
    const half = await connectClient();
    const requestRead = once(half.serverSide, "data");
    half.socket.write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    await requestRead;
    // The half request is answered: close() waits for that client to close its side.
    void half.ended.then(() => half.socket.end());
    const started = performance.now();
    await server.close();
    assert.equal((await silent.ended).toString(), "");
    assert.match((await half.ended).toString(), /^HTTP\/1\.1 503 Service Unavailable\r\n/);
    assert.ok(performance.now() - started < 5_000);
    silent.socket.destroy();
  });

  it("lets processRequest answer plain HTTP, e.g. a health check", async () => {
    const { server, port } = await startServer(echo, {
      processRequest: (_connection, request) => {
        if (request.path === "/healthz") return { status: 200, body: "OK\n" };
        if (request.path === "/teapot") {
          return new Response(418, "I'm a teapot", new Headers({ "Content-Length": "0" }));
        }
        return undefined;
      },
    });
    await using _server = server;
    const peer = await RawPeer.connect(port);
    peer.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    const answer = await peer.readToEnd();
    assert.match(answer, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(answer, /\r\nContent-Length: 3\r\n/);
    assert.match(answer, /\r\nServer: websockets-ts\/[\d.]+\r\n/);
    assert.match(answer, /\r\n\r\nOK\n$/);
    const error = await connect(`ws://127.0.0.1:${port}/teapot`).catch((e: unknown) => e);
    assert.ok(error instanceof InvalidStatus);
    assert.equal(error.response.status, 418);
  });

  it("lets processResponse change the 101 response", async () => {
    const { server, uri } = await startServer(echo, {
      processResponse: (_connection, _request, response) => {
        response.headers.set("X-Extra", "yes");
        return undefined;
      },
      serverHeader: null,
    });
    await using _server = server;
    await using ws = await connect(uri);
    assert.equal(ws.response?.headers.get("X-Extra"), "yes");
    assert.equal(ws.response?.headers.has("Server"), false);
  });

  it("answers 500 when processRequest throws", async () => {
    const logger = recordingLogger();
    const { server, uri } = await startServer(echo, {
      logger,
      processRequest: () => {
        throw new Error("bug");
      },
    });
    await using _server = server;
    const error = await connect(uri).catch((e: unknown) => e);
    assert.ok(error instanceof InvalidStatus);
    assert.equal(error.response.status, 500);
    assert.ok(logger.lines.some((line) => line.startsWith("opening handshake failed (")));
  });

  it("lets processResponse answer { status, headers?, body? } like processRequest", async () => {
    const { server, port } = await startServer(echo, {
      processResponse: (_connection, request) =>
        request.path === "/closed"
          ? { status: 403, headers: { "X-Why": "closed" }, body: "Closed.\n" }
          : undefined,
    });
    await using _server = server;
    const peer = await RawPeer.connect(port);
    const head = await peer.handshake("/closed");
    assert.match(head, /^HTTP\/1\.1 403 Forbidden\r\n/);
    assert.match(head, /\r\nX-Why: closed\r\n/);
    assert.match(head, /\r\nContent-Length: 8\r\n/);
    assert.equal(await peer.readToEnd(), "Closed.\n");
    await using ws = await connect(`ws://127.0.0.1:${port}/open`);
    await ws.send("open");
    assert.equal(await ws.recv(), "open");
  });

  it("sends no Content-Length or body with { status: 204 } or { status: 304 }", async () => {
    const { server, port } = await startServer(echo, {
      processRequest: (_connection, request) =>
        request.path === "/204" ? { status: 204 } : { status: 304, headers: { ETag: '"1"' } },
    });
    await using _server = server;
    for (const [path, status] of [
      ["/204", "204 No Content"],
      ["/304", "304 Not Modified"],
    ] as const) {
      const peer = await RawPeer.connect(port);
      const head = await peer.handshake(path);
      assert.match(head, new RegExp(`^HTTP/1\\.1 ${status}\r\n`));
      assert.doesNotMatch(head, /Content-Length|Content-Type/i);
      assert.match(head, /\r\nConnection: close\r\n/);
      assert.equal(await peer.readToEnd(), "");
    }
    const error = await connect(`ws://127.0.0.1:${port}/204`).catch((e: unknown) => e);
    assert.ok(error instanceof InvalidStatus);
    assert.equal(error.response.status, 204);
  });

  it("answers 500 and logs when a hook returns something that is not a response", async () => {
    const answers: unknown[] = [
      "nope",
      false,
      0,
      42,
      [],
      { status: "403" },
      { status: 200, body: 1 },
      { status: 600 },
      // Not a handshake response: the request would skip validation.
      { status: 101 },
      // Interim responses: the client would wait for a final one.
      { status: 100 },
      { status: 103 },
      // No body allowed.
      { status: 204, body: "x" },
      { status: 304, body: new Uint8Array(1) },
    ];
    for (const [hook, answer] of answers.flatMap((answer) => [
      ["processRequest", answer] as const,
      ["processResponse", answer] as const,
    ])) {
      const logger = recordingLogger();
      let handlerRan = false;
      const { server, port } = await startServer(
        () => {
          handlerRan = true;
        },
        { logger, [hook]: () => answer },
      );
      await using _server = server;
      const peer = await RawPeer.connect(port);
      const label = `${hook} returning ${JSON.stringify(answer)}`;
      assert.match(await peer.handshake(), /^HTTP\/1\.1 500 Internal Server Error\r\n/, label);
      assert.ok(
        logger.lines.some((line) => line.startsWith("opening handshake failed (")),
        label,
      );
      assert.equal(handlerRan, false, label);
    }
  });

  it("drops the connection, logging why, when a hook's response can't be sent", async () => {
    const logger = recordingLogger();
    const { server, port } = await startServer(echo, {
      logger,
      // Passes for a Response, but has no headers to send.
      processResponse: () => Object.create(Response.prototype) as Response,
    });
    await using _server = server;
    const peer = await RawPeer.connect(port);
    assert.equal(await peer.handshake(), "");
    await peer.closed;
    assert.ok(logger.lines.some((line) => line.startsWith("opening handshake failed (")));
    assert.equal(server.connections.size, 0);
  });

  it("exposes the request, subprotocol and origin checks", async () => {
    const seen = deferred<ServerConnection>();
    const { server, uri } = await startServer(
      async (ws) => {
        seen.resolve(ws);
        await ws.recv().catch(() => {});
      },
      { subprotocols: ["chat", "superchat"], origins: ["https://good.example"] },
    );
    await using _server = server;
    await using ws = await connect(uri, {
      subprotocols: ["superchat", "chat"],
      origin: "https://good.example",
    });
    assert.equal(ws.subprotocol, "chat");
    const serverSide = await seen.promise;
    assert.equal(serverSide.subprotocol, "chat");
    assert.equal(serverSide.request.headers.get("Origin"), "https://good.example");
    const refused = await connect(uri, {
      subprotocols: ["chat"],
      origin: "https://evil.example",
    }).catch((e: unknown) => e);
    assert.ok(refused instanceof InvalidStatus);
    assert.equal(refused.response.status, 403);
    const missing = await connect(uri, { origin: "https://good.example" }).catch((e: unknown) => e);
    assert.ok(missing instanceof InvalidStatus);
    assert.equal(missing.response.status, 400);
  });
});

describe("serve(), per-connection costs", () => {
  it("stamps every response with an IMF-fixdate Date header", async () => {
    const { server, uri } = await startServer(echo);
    await using _server = server;
    const dates: string[] = [];
    for (let i = 0; i < 3; i++) {
      await using ws = await connect(uri);
      dates.push(ws.response?.headers.get("Date") ?? "");
    }
    for (const date of dates) {
      // RFC 9110 §5.6.7: e.g. "Sun, 06 Nov 1994 08:49:37 GMT".
      assert.match(date, /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
      assert.ok(!Number.isNaN(Date.parse(date)));
    }
  });

  it("rebuilds the plain 101 response it sent, byte for byte, when asked", async () => {
    const seen = deferred<ServerConnection>();
    const { server, port } = await startServer(async (ws) => {
      seen.resolve(ws);
      await ws.recv().catch(() => {});
    });
    await using _server = server;
    const peer = await RawPeer.connect(port);
    const head = await peer.handshake();
    const connection = await seen.promise;
    const response = connection.response;
    assert.ok(response !== null);
    assert.equal(new TextDecoder().decode(response.serialize()), head);
    // Rebuilt once, then kept: changes to it stick.
    assert.equal(connection.response, response);
    response.headers.set("X-Later", "yes");
    assert.equal(connection.response?.headers.get("X-Later"), "yes");
    connection.response = null;
    assert.equal(connection.response, null);
    peer.socket.destroy();
  });

  it("rebuilds the plain 101 it sent with an extension and a subprotocol, byte for byte", async () => {
    const seen = deferred<ServerConnection>();
    const { server, port } = await startServer(
      async (ws) => {
        seen.resolve(ws);
        await ws.recv().catch(() => {});
      },
      { subprotocols: ["chat"] },
    );
    await using _server = server;
    const peer = await RawPeer.connect(port);
    const head = await peer.handshake(
      "/",
      "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" +
        "Sec-WebSocket-Protocol: chat\r\n",
    );
    assert.match(head, /\r\nSec-WebSocket-Extensions: permessage-deflate; [^\r]+\r\n/);
    assert.match(head, /\r\nSec-WebSocket-Protocol: chat\r\n/);
    const connection = await seen.promise;
    // Until asked, the connection keeps the values it can't rebuild, not the response.
    // biome-ignore lint/complexity/useLiteralKeys: element access reaches a private member.
    assert.ok(!(connection["sent"] instanceof Response));
    assert.equal(new TextDecoder().decode(connection.response!.serialize()), head);
    peer.socket.destroy();
  });

  it("keeps the response processResponse returned, with what it changed", async () => {
    const seen = deferred<ServerConnection>();
    const { server, port } = await startServer(
      async (ws) => {
        seen.resolve(ws);
        await ws.recv().catch(() => {});
      },
      {
        processResponse: (_connection, _request, response) => {
          response.headers.set("X-Extra", "yes");
          return undefined;
        },
      },
    );
    await using _server = server;
    const peer = await RawPeer.connect(port);
    const head = await peer.handshake();
    assert.match(head, /\r\nX-Extra: yes\r\n/);
    const connection = await seen.promise;
    assert.equal(new TextDecoder().decode(connection.response!.serialize()), head);
    peer.socket.destroy();
  });

  it("reads the remote address of a connection reset before anyone asked", async () => {
    const seen = deferred<ServerConnection>();
    const { server, port } = await startServer(async (ws) => {
      seen.resolve(ws);
      await ws.recv().catch(() => {});
    });
    await using _server = server;
    const peer = await RawPeer.connect(port);
    await peer.handshake();
    const connection = await seen.promise;
    const peerPort = peer.socket.localPort;
    peer.socket.resetAndDestroy();
    await connection.closed;
    assert.equal(connection.remoteAddress?.address, "127.0.0.1");
    assert.equal(connection.remoteAddress?.port, peerPort);
  });

  it("close() waits for a handler still running after its connection closed", async () => {
    const gate = deferred();
    const handlerDone = deferred<boolean>();
    const { server, uri } = await startServer(async (ws) => {
      await ws.recv().catch(() => {});
      await gate.promise;
      handlerDone.resolve(true);
    });
    const ws = await connect(uri);
    await ws.close();
    let closed = false;
    const closing = server.close().then(() => {
      closed = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(closed, false);
    gate.resolve();
    await closing;
    assert.equal(await handlerDone.promise, true);
  });

  it("logs the path of the request, without query, fragment or user info", async () => {
    const logger = recordingLogger();
    const { server, port } = await startServer(
      async () => {
        throw new Error("handler bug");
      },
      { logger },
    );
    await using _server = server;
    for (const target of ["/chat?token=secret", "ws://alice:secret@127.0.0.1/chat?token=secret"]) {
      const peer = await RawPeer.connect(port);
      assert.match(await peer.handshake(target), /^HTTP\/1\.1 101 /, target);
      await peer.readUntilClose();
      const local = peer.socket.localPort;
      peer.socket.destroy();
      assert.ok(
        logger.lines.includes(`connection handler failed (127.0.0.1:${local} /chat)`),
        `${target}: ${logger.lines.join(" | ")}`,
      );
    }
    assert.ok(!logger.lines.some((line) => line.includes("secret")));
  });

  it("close() waits for a returned handler's connection whose peer never answers the close", async () => {
    const serverSide = deferred<ServerConnection>();
    const { server, port } = await startServer(
      async (ws) => {
        serverSide.resolve(ws);
      },
      { closeTimeout: 300 },
    );
    const peer = await RawPeer.connect(port);
    await peer.handshake();
    // The handler returned at once: the server sent its close frame, which
    // this peer reads and never answers.
    const frame = await peer.readFrame();
    assert.equal(frame?.opcode, Opcode.CLOSE);
    const connection = await serverSide.promise;
    assert.equal(connection.state, State.CLOSING);
    await within(server.close(), 5_000, "server.close()");
    // Only once the close timer dropped the connection.
    assert.equal(connection.state, State.CLOSED);
    assert.equal(connection.closeCode, 1006);
  });

  it("close() warns, after closeTimeout (1 s at least), of a handler that awaits close()", async () => {
    // The handler waits for close(), which waits for the handler: only the
    // handler's own code can end that; the warning says where to look.
    const warned = deferred<string>();
    const release = deferred();
    const logger = {
      ...recordingLogger(),
      warn: (message: string) => warned.resolve(message),
    };
    const { server, uri } = await startServer(
      async (ws) => {
        for await (const message of ws) {
          if (message === "shutdown") await Promise.race([server.close(), release.promise]);
        }
      },
      { closeTimeout: 200, logger },
    );
    const ws = await connect(uri);
    await ws.send("shutdown");
    await ws.closed;
    assert.match(
      await within(warned.promise, 5000, "the warning"),
      /^server\.close\(\) is waiting for 1 connection handler to return, though every connection is closed; if a handler awaits server\.close\(\), it waits for itself/,
    );
    assert.equal(ws.closeCode, 1001);
    release.resolve();
    await server.closed;
  });

  it("close() rejects a code or reason it can't send, and stops nothing", async () => {
    const { server, uri } = await startServer(echo);
    // Closed by the last close() below; this one runs if an assertion fails first.
    await using _server = server;
    const ws = await connect(uri);
    const refused: [ServerCloseOptions, RegExp][] = [
      [
        { code: "1012" as unknown as number },
        /^TypeError: close\(\) takes a close code as a number; got "1012"$/,
      ],
      [{ reason: 1 as unknown as string }, /^TypeError: close\(\) takes a reason as a string/],
      [{ code: 1006 }, /^InvalidState: invalid close code: 1006$/],
      [{ code: 999 }, /^InvalidState: invalid close code: 999$/],
      [{ code: 1001.5 }, /^InvalidState: invalid close code: 1001\.5$/],
      [{ reason: "é".repeat(62) }, /^InvalidState: close reason is longer than 123 bytes$/],
      [{ code: 1005, reason: "bye" }, /^InvalidState: cannot send a reason without a code$/],
    ];
    for (const [options, error] of refused) {
      await assert.rejects(server.close(options), (thrown: Error) => {
        assert.match(`${thrown.name}: ${thrown.message}`, error);
        return true;
      });
    }
    // Still serving: the open connection echoes, a new one opens.
    await ws.send("still here");
    assert.equal(await ws.recv(), "still here");
    const late = await connect(uri);
    await server.close({ code: 1012, reason: "restarting" });
    assert.equal(ws.closeCode, 1012);
    assert.equal(ws.closeReason, "restarting");
    assert.equal(late.closeCode, 1012);
  });

  it("close() with a stuck handler warns before the process ends, when nothing else runs", async () => {
    // Only the stuck handler is left: without a timer of close()'s own, the
    // process would end at once (13: an unsettled top-level await) and silently.
    const script = `
      import { serve, connect } from ${JSON.stringify(new URL("../../src/index.js", import.meta.url).href)};
      const server = await serve(
        async (ws) => { for await (const m of ws) if (m === "shutdown") await server.close(); },
        { host: "127.0.0.1", port: 0, closeTimeout: 100, logger: { ...console, debug() {}, info() {} } },
      );
      const ws = await connect("ws://127.0.0.1:" + server.address().port);
      await ws.send("shutdown");
      await server.closed;
      console.log("closed");
    `;
    const run = await runNode(["--input-type=module", "-e", script]);
    assert.equal(run.code, 13, run.stderr);
    assert.equal(run.stdout, "");
    assert.match(run.stderr, /server\.close\(\) is waiting for 1 connection handler to return/);
  });

  it("gives connections that matched no route with parameters empty params", async () => {
    const seen = deferred<ServerConnection>();
    const { server, uri } = await startServer(async (ws) => {
      seen.resolve(ws);
      await ws.recv().catch(() => {});
    });
    await using _server = server;
    await using _ws = await connect(uri);
    assert.deepEqual((await seen.promise).params, {});
  });

  it("closes with 1000 after a handler that throws ConnectionClosed, and forgets it", async () => {
    const { server, uri } = await startServer(async (ws) => {
      await ws.close();
      await ws.recv();
    });
    await using _server = server;
    const ws = await connect(uri);
    await ws.closed;
    assert.equal(ws.closeCode, 1000);
    await server.close();
    assert.equal(server.connections.size, 0);
  });

  it("closes with 1011 when the handler throws synchronously", async () => {
    const { server, uri } = await startServer(() => {
      throw new Error("at once");
    });
    await using _server = server;
    const ws = await connect(uri);
    await ws.closed;
    assert.equal(ws.closeCode, 1011);
  });
});

describe("bad input from the network", () => {
  it("answers garbage instead of a handshake with 400 and closes", async () => {
    const { server, port } = await startServer(echo);
    await using _server = server;
    const peer = await RawPeer.connect(port);
    peer.write("\x16\x03\x01\x02\x00garbage that is not HTTP\r\n\r\n");
    assert.match(await peer.readToEnd(), /^HTTP\/1\.1 400 Bad Request\r\n/);
  });

  it("stamps and logs the answer to a request it can't parse, as it does other refusals", async () => {
    const logger = recordingLogger();
    const { server, port } = await startServer(echo, { logger, serverHeader: "custom/1" });
    // Closed below, before the log is read; this one runs if an assertion fails first.
    await using _server = server;
    const peer = await RawPeer.connect(port);
    const local = peer.socket.localPort;
    peer.write("GET /chat?token=secret HTTP/1.1\r\nUpgrade: websocket\r\n\r\n");
    const answer = await peer.readToEnd();
    assert.match(answer, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.match(answer, /\r\nServer: custom\/1\r\n/);
    assert.match(answer, /\r\nDate: \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT\r\n/);
    // A client that leaves before its request is complete gets nothing, and no line.
    const gone = await RawPeer.connect(port);
    gone.write("GET / HTTP/1.1\r\n");
    gone.socket.end();
    assert.equal(await gone.readToEnd(), "");
    await server.close();
    assert.deepEqual(
      logger.lines.filter((line) => line.startsWith("connection rejected")),
      [`connection rejected (400): missing Host header (127.0.0.1:${local})`],
    );
  });

  it("answers an oversized header with 431 and an oversized request line with 414", async () => {
    const { server, port } = await startServer(echo);
    await using _server = server;
    const peer = await RawPeer.connect(port);
    peer.write(`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(10_000)}\r\n\r\n`);
    assert.match(await peer.readToEnd(), /^HTTP\/1\.1 431 /);
    const other = await RawPeer.connect(port);
    other.write(`GET /${"a".repeat(10_000)} HTTP/1.1\r\n\r\n`);
    assert.match(await other.readToEnd(), /^HTTP\/1\.1 414 /);
  });

  it("checks httpLimits when it is created, not at the first handshake", async () => {
    await assert.rejects(serve(echo, { listen: false, httpLimits: { maxHeaderSize: 1.5 } }), {
      name: "RangeError",
      message: "httpLimits.maxHeaderSize must be a whole number from 0; got 1.5",
    });
  });

  it("answers a plain HTTP request with 426", async () => {
    const { server, port } = await startServer(echo);
    await using _server = server;
    const peer = await RawPeer.connect(port);
    peer.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    const answer = await peer.readToEnd();
    assert.match(answer, /^HTTP\/1\.1 426 Upgrade Required\r\n/);
    assert.match(answer, /\r\nUpgrade: websocket\r\n/);
  });

  it("closes with 1002 on an invalid frame", async () => {
    const { server, port } = await startServer(echo);
    await using _server = server;
    const peer = await RawPeer.connect(port);
    assert.match(await peer.handshake(), /^HTTP\/1\.1 101 /);
    peer.write(new Uint8Array([0x83, 0x80, 0, 0, 0, 0])); // reserved opcode 3
    assert.deepEqual(closePayload(await peer.readUntilClose()), [1002, "invalid opcode: 3"]);
    await peer.readToEnd();
  });

  it("closes with 1007 on invalid UTF-8 and 1009 on an oversized message", async () => {
    const { server, port } = await startServer(echo, { maxMessageSize: 1000 });
    await using _server = server;
    const peer = await RawPeer.connect(port);
    await peer.handshake();
    peer.writeFrame(Opcode.TEXT, new Uint8Array([0xff]));
    assert.deepEqual(closePayload(await peer.readUntilClose()), [
      1007,
      "invalid UTF-8 in text message",
    ]);
    const other = await RawPeer.connect(port);
    await other.handshake();
    other.writeFrame(Opcode.BINARY, new Uint8Array(1001));
    assert.deepEqual(closePayload(await other.readUntilClose()), [
      1009,
      "message exceeds limit of 1000 bytes",
    ]);
  });

  it("gives 1006 and no hang when the peer vanishes mid-message", async () => {
    const result = deferred<unknown>();
    const { server, port } = await startServer(async (ws) => {
      result.resolve(await ws.recv().catch((e: unknown) => e));
    });
    await using _server = server;
    const peer = await RawPeer.connect(port);
    await peer.handshake();
    peer.write(new Uint8Array([0x82, 0x85, 0, 0, 0, 0, 1, 2])); // 2 of 5 payload bytes
    peer.socket.destroy();
    const error = (await result.promise) as Error & { closeCode?: number };
    assert.equal(error.name, "ConnectionClosedError");
    assert.equal(error.closeCode, 1006);
  });

  it("reads no frames while an async processRequest runs, then loses none of them", async () => {
    const hook = deferred();
    const received = deferred<number>();
    const { server, port } = await startServer(
      async (ws) => {
        let count = 0;
        for await (const message of ws) {
          if (typeof message === "string") break;
          count++;
        }
        received.resolve(count);
      },
      { processRequest: () => hook.promise.then(() => undefined) },
    );
    await using _server = server;
    const peer = await RawPeer.connect(port);
    const head = peer.handshake();
    // Frames sent before the response: they must wait in TCP buffers, not the server's.
    const frame = fromPeer("server", Opcode.BINARY, new Uint8Array(64 * 1024));
    const batch = Buffer.concat(Array.from({ length: 16 }, () => frame));
    const cap = 256 * 1024 * 1024;
    const { written, stalled } = await writeUntilStalled(peer.socket, batch, cap);
    assert.ok(stalled, `the server read ${written} bytes while its hook ran`);
    hook.resolve();
    assert.match(await head, /^HTTP\/1\.1 101 /);
    peer.writeFrame(Opcode.TEXT, "end");
    assert.equal(await received.promise, (written / batch.length) * 16);
    peer.socket.destroy();
  });

  it("drops a connection that never completes its handshake after openTimeout", async () => {
    const { server, port } = await startServer(echo, { openTimeout: 100 });
    await using _server = server;
    const socket = net.connect({ host: "127.0.0.1", port });
    socket.on("error", () => {});
    socket.write("GET / HTTP/1.1\r\n");
    // Closed by the server, with a FIN or a reset: not `once()`, which rejects on 'error'.
    await new Promise((resolve) => socket.once("close", resolve));
  });
});

describe("ServerConnection.localAddress without asking the kernel", () => {
  /**
   * Counts Node's `getsockname()` calls on the server's sockets while `run`
   * runs: the system call behind `socket.localAddress`.
   */
  async function countingGetsockname(run: () => Promise<void>): Promise<number> {
    const prototype = net.Socket.prototype as unknown as { _getsockname(): unknown };
    const original = prototype._getsockname;
    let calls = 0;
    prototype._getsockname = function (this: net.Socket) {
      // Node sets `server` on the sockets a server accepted, null on the others.
      if ((this as { server?: unknown }).server != null) calls++;
      return original.call(this);
    };
    try {
      await run();
    } finally {
      prototype._getsockname = original;
    }
    return calls;
  }

  /** Opens and closes one connection; hands back the server's side of it, closed. */
  async function closedServerSide(uri: string, connections: Promise<ServerConnection>) {
    const ws = await connect(uri);
    const local = ws.localAddress;
    const connection = await connections;
    await ws.close();
    await connection.closed;
    return { connection, clientPort: local?.port };
  }

  for (const host of ["127.0.0.1", "::1", "::ffff:127.0.0.1"]) {
    it(`is the address of a server bound to ${host}, after close, with no system call`, async () => {
      const serverSide = deferred<ServerConnection>();
      const { server, port } = await startServer(
        async (ws) => {
          serverSide.resolve(ws);
          await ws.closed;
        },
        { host },
      );
      await using _server = server;
      const uri = host.includes(":") ? `ws://[${host}]:${port}` : `ws://${host}:${port}`;
      let closed: Awaited<ReturnType<typeof closedServerSide>> | undefined;
      const calls = await countingGetsockname(async () => {
        closed = await closedServerSide(uri, serverSide.promise);
      });
      assert.equal(calls, 0);
      const family = host.includes(":") ? "IPv6" : "IPv4";
      assert.deepEqual(closed!.connection.localAddress, { address: host, family, port });
      assert.equal(closed!.connection.remoteAddress?.port, closed!.clientPort);
    });
  }

  it("gives each connection its own object", async () => {
    const serverSides: ServerConnection[] = [];
    const bothOpen = deferred<void>();
    const { server, uri, port } = await startServer(async (ws) => {
      serverSides.push(ws);
      if (serverSides.length === 2) bothOpen.resolve();
      await ws.closed;
    });
    await using _server = server;
    await using first = await connect(uri);
    await using second = await connect(uri);
    await bothOpen.promise;
    await Promise.all([first.close(), second.close()]);
    await Promise.all(serverSides.map((ws) => ws.closed));
    const [a, b] = serverSides.map((ws) => ws.localAddress!);
    a!.port = 1;
    assert.equal(b!.port, port);
    assert.equal(serverSides[1]!.localAddress!.port, port);
  });

  it("asks the kernel for the sockets that another server accepted", async () => {
    // Bound to 127.0.0.1, and handed, through handleUpgrade(), a socket that
    // an HTTP server on 127.0.0.2 accepted: its address is not the server's.
    const serverSide = deferred<ServerConnection>();
    const { server } = await startServer(async (ws) => {
      serverSide.resolve(ws);
      await ws.closed;
    });
    await using _server = server;
    const httpServer = http.createServer();
    httpServer.on("upgrade", (request, socket, head) =>
      server.handleUpgrade(request, socket, head),
    );
    await new Promise<void>((resolve) => httpServer.listen(0, "127.0.0.2", resolve));
    try {
      const port = (httpServer.address() as net.AddressInfo).port;
      const { connection } = await closedServerSide(`ws://127.0.0.2:${port}`, serverSide.promise);
      assert.deepEqual(connection.localAddress, { address: "127.0.0.2", family: "IPv4", port });
    } finally {
      await new Promise((resolve) => httpServer.close(resolve));
    }
  });

  it("asks the kernel for the sockets of a server given to serve()", async () => {
    const netServer = net.createServer();
    await new Promise<void>((resolve) => netServer.listen(0, "127.0.0.1", resolve));
    const port = (netServer.address() as net.AddressInfo).port;
    const serverSide = deferred<ServerConnection>();
    const server = await serve(
      async (ws) => {
        serverSide.resolve(ws);
        await ws.closed;
      },
      { server: netServer, logger: null },
    );
    try {
      let closed: Awaited<ReturnType<typeof closedServerSide>> | undefined;
      const calls = await countingGetsockname(async () => {
        closed = await closedServerSide(`ws://127.0.0.1:${port}`, serverSide.promise);
      });
      assert.ok(calls > 0);
      assert.deepEqual(closed!.connection.localAddress, {
        address: "127.0.0.1",
        family: "IPv4",
        port,
      });
    } finally {
      await server.close();
      await new Promise((resolve) => netServer.close(resolve));
    }
  });
});
