/**
 * docs/howto/migrating-from-ws.md: the page's websockets-ts programs, run
 * from a project of a user's on 127.0.0.1 and a port the system picks, and
 * checked for what the page says they do; the fragments that take a
 * connection (`declare const ws`) run as the handler of a server. What the
 * page says of `ws` itself, as a contrast, is checked against the `ws`
 * package installed as a development dependency, so that the page cannot
 * drift from either library.
 */

import assert from "node:assert/strict";
import { once } from "node:events";
import { symlinkSync } from "node:fs";
import type * as http from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { inspect } from "node:util";
import WebSocket, { WebSocketServer } from "ws";
import {
  ConnectionClosedError,
  ConnectionClosedOK,
  connect,
  InvalidMessage,
  InvalidStatus,
  NegotiationError,
  PayloadTooBig,
  ProtocolError,
  State,
  serve,
} from "../../src/index.js";
import { WebSocket as WebWebSocket } from "../../src/web/index.js";
import { runNode } from "../helpers/child.js";
import { deferred, echo, startServer, unhandledRejections } from "../helpers/server.js";
import {
  edit,
  examplesOf,
  onLoopback,
  type Program,
  refusal,
  root,
  runFeedClientThroughOutages,
  startProgram,
} from "./programs.js";
import { type Project, scratchProject } from "./project.js";

const PAGE = "docs/howto/migrating-from-ws.md";
const example = examplesOf(PAGE);

after(() => {
  assert.deepEqual(unhandledRejections(), []);
});

/**
 * A block that takes a connection (`declare const ws: ServerConnection;`) as
 * the handler of a server on loopback, its other `declare`s replaced as
 * `edits` say: a program for {@link startProgram}.
 */
function asHandler(block: string, edits: readonly (readonly [string, string])[] = []): string {
  let code = edit(block, "declare const ws: ServerConnection;\n", "");
  for (const [from, to] of edits) code = edit(code, from, to);
  const lines = code.split("\n");
  const imports = lines.filter((line) => line.startsWith("import "));
  const body = lines.filter((line) => !line.startsWith("import "));
  return [
    'import { serve } from "websockets-ts";',
    ...imports,
    "await using server = await serve(async (ws) => {",
    ...body,
    '}, { host: "127.0.0.1", port: 0 });',
    "await server.serveForever();",
  ].join("\n");
}

/** The page's server block that contains `marker`, started on loopback. */
function startExample(project: Project, marker: string): Promise<Program> {
  return startProgram(project, "server", onLoopback(example(marker)));
}

/** A `ws` server on 127.0.0.1 and a free port; `await using` closes it and its clients. */
async function wsServer(options: WebSocket.ServerOptions = {}) {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, ...options });
  await once(wss, "listening");
  return {
    wss,
    port: (wss.address() as AddressInfo).port,
    async [Symbol.asyncDispose]() {
      for (const client of wss.clients) client.terminate();
      await new Promise((resolve) => wss.close(resolve));
    },
  };
}

/** A `ws` client, open. */
async function wsClient(uri: string, options: WebSocket.ClientOptions = {}): Promise<WebSocket> {
  const client = new WebSocket(uri, options);
  await once(client, "open");
  return client;
}

/** The next `message` event of a `ws` client: its data and `isBinary`. */
async function wsMessage(client: WebSocket): Promise<[WebSocket.RawData, boolean]> {
  const [data, isBinary] = (await once(client, "message")) as [WebSocket.RawData, boolean];
  return [data, isBinary];
}

/** The `error` and `close` events of a `ws` client, in order, until `close`. */
function wsEnding(client: WebSocket): Promise<unknown[][]> {
  const events: unknown[][] = [];
  client.on("error", (error) => events.push(["error", error.message]));
  return new Promise((resolve) => {
    client.on("close", (code, reason) => {
      events.push(["close", code, reason.toString()]);
      resolve(events);
    });
  });
}

describe(`${PAGE}: accepting connections`, () => {
  it("echoes with the message's type, reads the request, and prints how the client closed", async () => {
    using project = scratchProject();
    await using server = await startExample(project, 'ws.request.headers.get("User-Agent")');
    const uri = `ws://127.0.0.1:${server.port}`;

    const ws = await connect(`${uri}/chat?room=1`, { userAgent: "migrating/1.0" });
    await ws.send("héllo");
    assert.equal(await ws.recv(), "héllo");
    await ws.send(new Uint8Array([1, 2, 3]));
    const bytes = await ws.recv();
    assert.ok(Buffer.isBuffer(bytes));
    assert.deepEqual([...bytes], [1, 2, 3]);
    await ws.close(1000, "bye");
    await server.waitFor(/^closed: 1000 bye$/m);
    assert.match(server.printed, /^connected: \/chat\?room=1 migrating\/1\.0$/m);
    assert.equal(server.stderr, "");
  });

  it("`ws` gives a Buffer for a text message, with isBinary false", async () => {
    const { server, uri } = await startServer(echo);
    await using _server = server;
    const client = await wsClient(uri);
    client.send("héllo");
    const [data, isBinary] = await wsMessage(client);
    assert.ok(Buffer.isBuffer(data));
    assert.equal(isBinary, false);
    assert.equal(data.toString(), "héllo");
    client.close();
    await once(client, "close");
  });

  it("closes with 1000 when the handler returns, 1011 when it throws, and serves on", async () => {
    const { server, uri } = await startServer(async (ws) => {
      if (ws.request.path === "/throw") throw new Error("oops");
    });
    await using _server = server;
    for (const [path, code] of [
      ["/return", 1000],
      ["/throw", 1011],
      ["/return", 1000],
    ] as const) {
      const ws = await connect(`${uri}${path}`);
      await ws.closed;
      assert.equal(ws.closeCode, code, path);
    }
  });

  it("`ws` keeps a connection open after its listener returns", async () => {
    await using server = await wsServer();
    server.wss.on("connection", () => {});
    const ws = await connect(`ws://127.0.0.1:${server.port}`);
    // A ping answered: the connection is still open after the listener returned.
    assert.equal(typeof (await ws.ping()), "number");
    assert.equal(ws.state, State.OPEN);
    await ws.close();
  });

  it("`ws` ends the process on an error without a listener, and on a listener that throws", async () => {
    using project = scratchProject();
    symlinkSync(join(root, "node_modules/ws"), join(project.dir, "node_modules/ws"), "junction");
    const program = (connection: string) => `
      import WebSocket, { WebSocketServer } from "ws";
      const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
      wss.on("connection", (ws) => { ${connection} });
      wss.on("listening", () => {
        const client = new WebSocket("ws://127.0.0.1:" + wss.address().port);
        client.on("error", () => {});
        // Invalid UTF-8 in a text message: ws's server emits "error".
        client.on("open", () => client.send(Buffer.from([0xff]), { binary: false }));
      });
    `;
    project.writeProgram("no-listener", program(""));
    project.writeProgram(
      "throws",
      program('ws.on("message", () => { throw new Error("oops"); });').replace(
        "Buffer.from([0xff]), { binary: false }",
        '"hello"',
      ),
    );
    const noListener = await runNode(["no-listener.js"], { cwd: project.dir });
    assert.notEqual(noListener.code, 0);
    assert.match(noListener.stderr, /invalid UTF-8 sequence/);
    const throws = await runNode(["throws.js"], { cwd: project.dir });
    assert.notEqual(throws.code, 0);
    assert.match(throws.stderr, /Error: oops/);
  });
});

describe(`${PAGE}: processRequest`, () => {
  it("greets a user with a token, answers 401 without one, 403 to a banned user", async () => {
    using project = scratchProject();
    await using server = await startExample(project, "banned.has(user)");
    const base = `ws://127.0.0.1:${server.port}/`;

    await using alice = await connect(`${base}?token=s3cr3t-token`);
    assert.equal(await alice.recv(), "Hello, alice!");
    for (const [uri, status, body] of [
      [base, 401, "Missing or invalid token.\n"],
      [`${base}?token=guess`, 401, "Missing or invalid token.\n"],
      [`${base}?token=an0th3r-token`, 403, "Forbidden.\n"],
    ] as const) {
      const response = await refusal(connect(uri));
      assert.equal(response.status, status, uri);
      assert.equal(Buffer.from(response.body).toString(), body, uri);
    }
    assert.equal(server.stderr, "");
  });
});

describe(`${PAGE}: subprotocols`, () => {
  it("selects its first subprotocol the client offered, and answers 400 to a client offering none", async () => {
    using project = scratchProject();
    await using server = await startExample(project, "speaking ");
    const uri = `ws://127.0.0.1:${server.port}`;

    await using ws = await connect(uri, { subprotocols: ["chat.v1", "chat.v2"] });
    assert.equal(ws.subprotocol, "chat.v2");
    assert.equal(await ws.recv(), "speaking chat.v2");
    await using v1 = await connect(uri, { subprotocols: ["chat.v1"] });
    assert.equal(await v1.recv(), "speaking chat.v1");
    assert.equal((await refusal(connect(uri))).status, 400);
    assert.equal((await refusal(connect(uri, { subprotocols: ["other"] }))).status, 400);
  });

  it("calls selectSubprotocol with an array, even when the client offered nothing", async () => {
    const offers: (readonly string[])[] = [];
    const { server, uri } = await startServer(async (ws) => ws.send(String(ws.subprotocol)), {
      selectSubprotocol: (offered) => {
        offers.push(offered);
        return offered.includes("chat.v2") ? "chat.v2" : null;
      },
    });
    await using _server = server;
    await using none = await connect(uri);
    assert.equal(await none.recv(), "null");
    await using v2 = await connect(uri, { subprotocols: ["chat.v1", "chat.v2"] });
    assert.equal(await v2.recv(), "chat.v2");
    assert.deepEqual(offers, [[], ["chat.v1", "chat.v2"]]);
  });

  it("`ws` selects the client's first subprotocol without handleProtocols", async () => {
    await using server = await wsServer();
    server.wss.on("connection", (ws) => ws.send(ws.protocol));
    await using ws = await connect(`ws://127.0.0.1:${server.port}`, {
      subprotocols: ["anything", "chat.v2"],
    });
    assert.equal(await ws.recvText(), "anything");
  });

  it("a `ws` client fails when the server selects none; ours opens, unless it requires one", async () => {
    const { server, uri } = await startServer(echo);
    await using _server = server;
    const client = new WebSocket(uri, ["chat.v1"]);
    assert.deepEqual(await wsEnding(client), [
      ["error", "Server sent no subprotocol"],
      ["close", 1006, ""],
    ]);
    await using ws = await connect(uri, { subprotocols: ["chat.v1"] });
    assert.equal(ws.subprotocol, null);
    await assert.rejects(
      connect(uri, { subprotocols: ["chat.v1"], requireSubprotocol: true }),
      NegotiationError,
    );
  });
});

describe(`${PAGE}: handleUpgrade()`, () => {
  it("echoes on /echo, drops other upgrades, and answers plain HTTP", async () => {
    using project = scratchProject();
    const code = edit(
      example("echo.handleUpgrade(request, socket, head)"),
      "httpServer.listen(8001);",
      'httpServer.listen(0, "127.0.0.1");',
    );
    await using server = await startProgram(project, "server", code);
    const address = `127.0.0.1:${server.port}`;

    const response = await fetch(`http://${address}/`);
    assert.deepEqual([response.status, await response.text()], [200, "Hello\n"]);
    await using ws = await connect(`ws://${address}/echo?room=1`);
    await ws.send("Hello!");
    assert.equal(await ws.recv(), "Hello!");
    await assert.rejects(connect(`ws://${address}/other`), InvalidMessage);
    assert.equal(server.stderr, "");
  });
});

describe(`${PAGE}: route()`, () => {
  it("dispatches by path, and answers 404 to other paths", async () => {
    using project = scratchProject();
    await using server = await startExample(project, '"/rooms/:room"');
    const uri = `ws://127.0.0.1:${server.port}`;

    await using chat = await connect(`${uri}/chat?since=0`);
    await chat.send("hi");
    assert.equal(await chat.recv(), "hi");
    await using room = await connect(`${uri}/rooms/lobby`);
    assert.equal(await room.recv(), "Welcome to lobby!");
    assert.equal((await refusal(connect(`${uri}/other`))).status, 404);
  });

  it("`ws`'s path option answers 400 to other paths", async () => {
    await using server = await wsServer({ path: "/chat" });
    const uri = `ws://127.0.0.1:${server.port}`;
    assert.equal((await refusal(connect(`${uri}/other`))).status, 400);
    await using ws = await connect(`${uri}/chat?since=0`);
    assert.equal(ws.state, State.OPEN);
  });
});

describe(`${PAGE}: broadcast()`, () => {
  it("sends each message to the other clients, not to its sender", async () => {
    using project = scratchProject();
    await using server = await startExample(project, "client !== ws");
    const uri = `ws://127.0.0.1:${server.port}`;

    await using alice = await connect(uri);
    await using bob = await connect(uri);
    await using carol = await connect(uri);
    // One sender at a time: messages from different connections reach the
    // server in no set order.
    await alice.send("from alice");
    assert.equal(await bob.recv(), "from alice");
    assert.equal(await carol.recv(), "from alice");
    await bob.send("from bob");
    assert.equal(await carol.recv(), "from bob");
    // One broadcast() sent "from alice" to the others before bob's message
    // was sent: had alice got it too, it would come first.
    assert.equal(await alice.recv(), "from bob");
    await carol.send("from carol");
    assert.equal(await alice.recv(), "from carol");
    assert.equal(await bob.recv(), "from carol");
    assert.equal(server.stderr, "");
  });
});

describe(`${PAGE}: shutting down`, () => {
  it("server.close() closes connections with 1001 and waits for the handlers", async () => {
    const returned = deferred<number | null>();
    const { server, uri } = await startServer(async (ws) => {
      try {
        for await (const _message of ws);
      } finally {
        returned.resolve(ws.closeCode);
      }
    });
    const ws = await connect(uri);
    await server.close();
    // The handler returned before close() resolved.
    assert.equal(await Promise.race([returned.promise, "pending"]), 1001);
    await ws.closed;
    assert.equal(ws.closeCode, 1001);
    await assert.rejects(ws.recv(), ConnectionClosedOK);
  });

  it("`ws`'s close() leaves open connections open, and calls back once they closed", async () => {
    const { wss, port } = await wsServer();
    wss.on("connection", (ws) =>
      ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary })),
    );
    const ws = await connect(`ws://127.0.0.1:${port}`);
    const closed = new Promise((resolve) => wss.close(resolve));
    await ws.send("still open");
    assert.equal(await ws.recv(), "still open");
    assert.equal(wss.clients.size, 1);
    await assert.rejects(connect(`ws://127.0.0.1:${port}`), { code: "ECONNREFUSED" });
    assert.equal(await Promise.race([closed, "pending"]), "pending");
    await ws.close();
    await closed;
  });
});

describe(`${PAGE}: messages`, () => {
  it("receiving: a string for text, bytes for binary", async () => {
    using project = scratchProject();
    await using server = await startProgram(
      project,
      "server",
      asHandler(example('typeof message === "string"')),
    );
    const ws = await connect(`ws://127.0.0.1:${server.port}`);
    await ws.send("hi");
    await ws.send(new Uint8Array(3));
    await ws.close();
    await server.waitFor(/^binary: 3 bytes$/m);
    assert.equal(server.printed, "text: hi\nbinary: 3 bytes\n");
  });

  it("sending: one message per row", async () => {
    using project = scratchProject();
    const code = asHandler(example("JSON.stringify(row)"), [
      [
        "declare const rows: AsyncIterable<object>;",
        "const rows = (async function* () { for (let i = 0; i < 3; i++) yield { i }; })();",
      ],
    ]);
    await using server = await startProgram(project, "server", code);
    await using ws = await connect(`ws://127.0.0.1:${server.port}`);
    assert.deepEqual(
      [await ws.recv(), await ws.recv(), await ws.recv()],
      ['{"i":0}', '{"i":1}', '{"i":2}'],
    );
    await ws.closed;
    assert.equal(ws.closeCode, 1000);
  });

  it("a message sent after the close rejects; in `ws`, it goes to the callback or nowhere", async () => {
    const { server, uri } = await startServer(echo);
    await using _server = server;
    const ws = await connect(uri);
    await ws.close();
    await assert.rejects(ws.send("late"), ConnectionClosedOK);

    const client = await wsClient(uri);
    client.close();
    await once(client, "close");
    client.send("late"); // no callback: no error either
    const error = await new Promise<Error | undefined>((resolve) => client.send("late", resolve));
    assert.equal(error?.message, "WebSocket is not open: readyState 3 (CLOSED)");
  });

  it("fragmented: the iterable arrives as one text message", async () => {
    using project = scratchProject();
    await using server = await startProgram(project, "server", asHandler(example('"Hel", "lo, "')));
    // A ws client, to see the message as ws delivers it: one message event.
    const client = new WebSocket(`ws://127.0.0.1:${server.port}`);
    const [data, isBinary] = await wsMessage(client);
    assert.deepEqual([data.toString(), isBinary], ["Hello, world!", false]);
    const [code] = (await once(client, "close")) as [number];
    assert.equal(code, 1000);
  });
});

describe(`${PAGE}: closing and errors`, () => {
  it("the loop ends quietly on 1000, and throws on another code", async () => {
    using project = scratchProject();
    await using server = await startProgram(
      project,
      "server",
      asHandler(example("closed normally:")),
    );
    const uri = `ws://127.0.0.1:${server.port}`;
    const normal = await connect(uri);
    await normal.send("one");
    await normal.close(1000);
    await server.waitFor(/^closed normally: 1000$/m);
    const other = await connect(uri);
    await other.close(4000, "app error");
    await server.waitFor(/^closed with an error: 4000 undefined$/m);
    assert.equal(
      server.printed,
      "one\nclosed normally: 1000\nclosed with an error: 4000 undefined\n",
    );
  });

  it("invalid frames: ConnectionClosedError, with the ProtocolError as cause and the code sent", async () => {
    const seen = deferred<unknown>();
    const { server, uri } = await startServer(
      async (ws) => {
        try {
          for await (const _message of ws);
        } catch (error) {
          seen.resolve(error);
        }
      },
      { maxMessageSize: 1024 },
    );
    await using _server = server;
    // Invalid UTF-8 in a text message: ws doesn't check what it sends as a Buffer.
    const client = await wsClient(uri);
    client.send(Buffer.from([0xff]), { binary: false });
    const error = await seen.promise;
    assert.ok(error instanceof ConnectionClosedError);
    assert.ok(error.cause instanceof ProtocolError);
    assert.equal(error.sent?.code, 1007);

    const big = deferred<unknown>();
    const { server: small, uri: smallUri } = await startServer(
      async (ws) => {
        await ws.recv().catch((error: unknown) => big.resolve(error));
      },
      { maxMessageSize: 1024 },
    );
    await using _small = small;
    const sender = await wsClient(smallUri);
    sender.send("x".repeat(2048));
    const tooBig = await big.promise;
    assert.ok(tooBig instanceof ConnectionClosedError);
    assert.ok(tooBig.cause instanceof PayloadTooBig);
    assert.equal(tooBig.sent?.code, 1009);
  });

  it("a refused handshake: `ws` emits error then close 1006; connect() rejects with InvalidStatus", async () => {
    const { server, uri } = await startServer(echo, { processRequest: () => ({ status: 401 }) });
    await using _server = server;
    assert.deepEqual(await wsEnding(new WebSocket(uri)), [
      ["error", "Unexpected server response: 401"],
      ["close", 1006, ""],
    ]);
    const error = await connect(uri).catch((error: unknown) => error);
    assert.ok(error instanceof InvalidStatus);
    assert.equal(error.code, "ERR_INVALID_STATUS");
    assert.equal(error.response.status, 401);
  });

  it("State has ws's readyState numbers", () => {
    assert.deepEqual(
      [State.CONNECTING, State.OPEN, State.CLOSING, State.CLOSED],
      [WebSocket.CONNECTING, WebSocket.OPEN, WebSocket.CLOSING, WebSocket.CLOSED],
    );
  });
});

describe(`${PAGE}: heartbeat`, () => {
  it("drops a client that doesn't answer pings with 1011, and keeps one that does", async () => {
    using project = scratchProject();
    let code = onLoopback(example("pingTimeout: 30_000"));
    code = edit(
      code,
      "pingInterval: 30_000, pingTimeout: 30_000",
      "pingInterval: 20, pingTimeout: 200",
    );
    await using server = await startProgram(project, "server", code);
    const uri = `ws://127.0.0.1:${server.port}`;

    // A ws client that answers pings, as ws does by default: still open after two.
    const alive = await wsClient(uri);
    await once(alive, "ping");
    await once(alive, "ping");
    alive.send("still here");
    const [echoed] = await wsMessage(alive);
    assert.equal(echoed.toString(), "still here");

    const silent = await wsClient(uri, { autoPong: false });
    const [closeCode] = (await once(silent, "close")) as [number];
    assert.equal(closeCode, 1011);
    await server.waitFor(/^dropped: 1011$/m);
    assert.equal(alive.readyState, WebSocket.OPEN);
    alive.close();
    await once(alive, "close");
  });

  it("ping() resolves with the round trip, in milliseconds", async () => {
    using project = scratchProject();
    const { server, uri } = await startServer(echo);
    await using _server = server;
    const code = edit(example("round trip:"), "ws://127.0.0.1:8001", uri);
    project.writeProgram("client", code);
    const { code: exit, stdout, stderr } = await runNode(["client.js"], { cwd: project.dir });
    assert.deepEqual([exit, stderr], [0, ""]);
    assert.match(stdout, /^round trip: \d+\.\d ms\n$/);
  });
});

describe(`${PAGE}: options`, () => {
  it("maxMessageSize: 0 throws a RangeError; null is no limit", async () => {
    await assert.rejects(serve(echo, { port: 0, maxMessageSize: 0 }), RangeError);
    const { server, uri } = await startServer(echo, { maxMessageSize: null });
    await using _server = server;
    await assert.rejects(connect(uri, { maxMessageSize: 0 }), RangeError);
    await using ws = await connect(uri, { maxMessageSize: null });
    await ws.send("x".repeat(2 * 1024 * 1024));
    assert.equal(((await ws.recv()) as string).length, 2 * 1024 * 1024);
  });

  it("`ws`'s maxPayload: 0 is no limit", async () => {
    await using server = await wsServer({ maxPayload: 0 });
    server.wss.on("connection", (ws) =>
      ws.on("message", (data: Buffer) => ws.send(String(data.length))),
    );
    await using ws = await connect(`ws://127.0.0.1:${server.port}`);
    await ws.send("x".repeat(2 * 1024 * 1024));
    assert.equal(await ws.recv(), String(2 * 1024 * 1024));
  });

  it("`ws`'s server defaults are the page's", () => {
    const wss = new WebSocketServer({ noServer: true });
    const { options } = wss as unknown as { options: Record<string, unknown> };
    assert.deepEqual(
      {
        maxPayload: options.maxPayload,
        perMessageDeflate: options.perMessageDeflate,
        closeTimeout: options.closeTimeout,
        skipUTF8Validation: options.skipUTF8Validation,
        clientTracking: options.clientTracking,
        autoPong: options.autoPong,
      },
      {
        maxPayload: 100 * 1024 * 1024,
        perMessageDeflate: false,
        closeTimeout: 30_000,
        skipUTF8Validation: false,
        clientTracking: true,
        autoPong: true,
      },
    );
    wss.close();
  });

  it("compression: a `ws` client compresses with our server; our client doesn't with a default `ws` server", async () => {
    const ours = await startServer(echo);
    const client = new WebSocket(ours.uri);
    const upgrade = once(client, "upgrade");
    await once(client, "open");
    const [response] = (await upgrade) as [http.IncomingMessage];
    assert.equal(client.extensions, "permessage-deflate");
    assert.match(
      String(response.headers["sec-websocket-extensions"]),
      /^permessage-deflate; server_max_window_bits=12; client_max_window_bits=12$/,
    );
    client.close();
    await once(client, "close");
    await ours.server.close();

    await using theirs = await wsServer();
    await using ws = await connect(`ws://127.0.0.1:${theirs.port}`);
    assert.match(ws.request.headers.get("Sec-WebSocket-Extensions") ?? "", /^permessage-deflate/);
    assert.equal(ws.response?.headers.get("Sec-WebSocket-Extensions"), undefined);
    assert.equal(ws.response?.status, 101);
  });
});

describe(`${PAGE}: clients`, () => {
  it("connect(): sends the headers, the message, and prints the answer", async () => {
    using project = scratchProject();
    const cookies: (string | undefined)[] = [];
    const { server, uri } = await startServer(async (ws) => {
      cookies.push(ws.request.headers.get("Cookie"));
      await ws.send(`${ws.request.path}: ${await ws.recvText()}`);
      await ws.closed;
    });
    await using _server = server;
    const code = edit(example("session=abc123"), "ws://127.0.0.1:8001", uri);
    project.writeProgram("client", code);
    const run = await runNode(["client.js"], { cwd: project.dir });
    assert.deepEqual(run, { code: 0, stdout: "/chat: Hello!\n", stderr: "" });
    assert.deepEqual(cookies, ["session=abc123"]);
  });

  it("the WHATWG WebSocket: text as strings, binary as ArrayBuffers once asked", async () => {
    using project = scratchProject();
    const { server, uri } = await startServer(async (ws) => {
      await ws.send("hi");
      await ws.send(new Uint8Array([1, 2]));
    });
    await using _server = server;
    const code = edit(example("websockets-ts/web"), "ws://127.0.0.1:8001", uri);
    project.writeProgram("client", code);
    const run = await runNode(["client.js"], { cwd: project.dir });
    assert.deepEqual(run, {
      code: 0,
      // As console.log() shows an ArrayBuffer in the Node that runs the tests:
      // Node 22 writes `[byteLength]` where Node 20 writes `byteLength`.
      stdout: `hi\n${inspect(new Uint8Array([1, 2]).buffer)}\n`,
      stderr: "",
    });
    // binaryType is "blob" by default; "nodebuffer" is ignored.
    const ws = new WebWebSocket(uri);
    assert.equal(ws.binaryType, "blob");
    ws.binaryType = "nodebuffer" as "blob";
    assert.equal(ws.binaryType, "blob");
    ws.close();
    await once(ws, "close");
  });

  it("redirects: connect() follows them; `ws` and the WHATWG class don't, by default", async () => {
    const { server, uri } = await startServer(async (ws) => ws.send(ws.request.path), {
      processRequest: (_ws, request) =>
        request.path === "/here" ? { status: 302, headers: { Location: "/there" } } : undefined,
    });
    await using _server = server;
    await using ws = await connect(`${uri}/here`);
    assert.equal(await ws.recv(), "/there");
    assert.equal((await refusal(connect(`${uri}/here`, { maxRedirects: 0 }))).status, 302);
    assert.deepEqual(await wsEnding(new WebSocket(`${uri}/here`)), [
      ["error", "Unexpected server response: 302"],
      ["close", 1006, ""],
    ]);
    const web = new WebWebSocket(`${uri}/here`);
    const events: string[] = [];
    web.addEventListener("open", () => events.push("open"));
    web.addEventListener("error", () => events.push("error"));
    await once(web, "close");
    assert.deepEqual(events, ["error"]);
  });

  it("reconnect(): prints the feed across a restart and a crash", async () => {
    using project = scratchProject();
    const client = await runFeedClientThroughOutages(
      project,
      example('reconnect("ws://127.0.0.1:8001/feed")'),
    );
    assert.equal(client.printed, "feed 1\nfeed 2\nfeed 3\n");
    assert.equal(client.stderr, "");
  });
});
