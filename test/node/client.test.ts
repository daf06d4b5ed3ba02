import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { once } from "node:events";
import * as net from "node:net";
import { performance } from "node:perf_hooks";
import { after, describe, it } from "node:test";
import * as v8 from "node:v8";
import * as vm from "node:vm";
import {
  InvalidHeaderFormat,
  InvalidHeaderValue,
  InvalidMessage,
  InvalidStatus,
  InvalidUri,
  TimeoutError,
} from "../../src/core/errors.js";
import { takeFrameSlot } from "../../src/core/frame-slots.js";
import { Opcode } from "../../src/core/opcodes.js";
import { ClientConnection, type ConnectOptions, connect } from "../../src/node/client.js";
import type { ServerConnection } from "../../src/node/server.js";
import { VERSION } from "../../src/node/version.js";
import { acceptRaw, closePayload, type RawPeer, rawServer } from "../helpers/raw.js";
import { deferred, echo, startServer, unhandledRejections } from "../helpers/server.js";

after(() => {
  assert.deepEqual(unhandledRejections(), []);
});

// Full collections on demand, as `node --expose-gc` would allow.
v8.setFlagsFromString("--expose-gc");
const collectGarbage = vm.runInNewContext("gc") as () => void;

describe("connect()", () => {
  it("sends the configured handshake headers", async () => {
    const seen = deferred<ServerConnection>();
    const { server, port } = await startServer(async (ws) => {
      seen.resolve(ws);
      await ws.recv().catch(() => {});
    });
    await using _server = server;
    await using ws = await connect(`ws://user:p%40ss@127.0.0.1:${port}/chat?room=1`, {
      origin: "https://app.example",
      additionalHeaders: { "X-Token": "abc", Cookie: "a=1" },
      userAgent: "test-agent/1",
    });
    assert.ok(ws instanceof ClientConnection);
    const request = (await seen.promise).request!;
    assert.equal(request.path, "/chat?room=1");
    assert.equal(request.headers.get("Host"), `127.0.0.1:${port}`);
    assert.equal(request.headers.get("Origin"), "https://app.example");
    assert.equal(request.headers.get("X-Token"), "abc");
    assert.equal(request.headers.get("Cookie"), "a=1");
    assert.equal(request.headers.get("User-Agent"), "test-agent/1");
    assert.equal(
      request.headers.get("Authorization"),
      `Basic ${Buffer.from("user:p@ss").toString("base64")}`,
    );
    assert.equal(ws.request.path, "/chat?room=1");
    assert.equal(ws.response?.status, 101);
  });

  it("sends a default User-Agent that can be turned off", async () => {
    const agents: (string | undefined)[] = [];
    const { server, uri } = await startServer(async (ws) => {
      agents.push(ws.request.headers.get("User-Agent"));
    });
    await using _server = server;
    await (await connect(uri)).close();
    await (await connect(uri, { userAgent: null })).close();
    assert.deepEqual(agents, [`websockets-ts/${VERSION}`, undefined]);
  });

  it("rejects invalid URIs before connecting", async () => {
    await assert.rejects(connect("http://127.0.0.1/"), InvalidUri);
    await assert.rejects(connect("ws://127.0.0.1/#fragment"), InvalidUri);
  });

  it("rejects with the socket error when the connection is refused", async () => {
    const server = net.createServer();
    server.listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise((resolve) => server.close(resolve));
    await assert.rejects(
      connect(`ws://127.0.0.1:${port}`),
      (error: NodeJS.ErrnoException) => error.code === "ECONNREFUSED",
    );
  });

  it("rejects with InvalidStatus when the server refuses", async () => {
    const { server, uri } = await startServer(echo, {
      processRequest: () => ({ status: 401, body: "who are you?" }),
    });
    await using _server = server;
    const error = await connect(uri).catch((e: unknown) => e);
    assert.ok(error instanceof InvalidStatus);
    assert.equal(error.response.status, 401);
    assert.equal(error.message, "server rejected WebSocket connection: HTTP 401");
  });

  it("rejects a response with a wrong Sec-WebSocket-Accept", async () => {
    const raw = await rawServer(async (peer) => {
      await peer.readHead();
      peer.write(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: wrong\r\n\r\n",
      );
    });
    try {
      await assert.rejects(connect(`ws://127.0.0.1:${raw.port}`), InvalidHeaderValue);
    } finally {
      await raw.close();
    }
  });

  it("rejects a response it can't parse at once, though the server keeps the connection open", async () => {
    const responses = [
      "garbage\r\n\r\n",
      // Over the default limit of 128 header fields (httpLimits.maxHeaders).
      `HTTP/1.1 101 Switching Protocols\r\n${"X-Filler: x\r\n".repeat(200)}\r\n`,
    ];
    for (const response of responses) {
      // Answers, then neither closes its side when the client closes its own
      // (allowHalfOpen), nor reads on: only the client can end it.
      const sockets: net.Socket[] = [];
      const server = net.createServer({ allowHalfOpen: true }, (socket) => {
        sockets.push(socket);
        socket.on("error", () => {});
        socket.once("data", () => socket.write(response));
      });
      server.listen(0, "127.0.0.1");
      await once(server, "listening");
      try {
        const { port } = server.address() as net.AddressInfo;
        const started = performance.now();
        const error = await connect(`ws://127.0.0.1:${port}`, { openTimeout: 5000 }).catch(
          (e: unknown) => e,
        );
        assert.ok(error instanceof InvalidMessage, String(error));
        assert.match(error.message, /^did not receive a valid HTTP response/);
        assert.ok(performance.now() - started < 4000, "not at openTimeout");
      } finally {
        for (const socket of sockets) socket.destroy();
        await new Promise((resolve) => server.close(resolve));
      }
    }
  });

  it("rejects when the server closes before answering", async () => {
    const raw = await rawServer(async (peer) => {
      await peer.readHead();
      peer.socket.end();
    });
    try {
      await assert.rejects(connect(`ws://127.0.0.1:${raw.port}`), InvalidMessage);
    } finally {
      await raw.close();
    }
  });

  it("times out against a server that accepts TCP but never answers", async () => {
    const raw = await rawServer(() => {});
    try {
      const error = await connect(`ws://127.0.0.1:${raw.port}`, { openTimeout: 100 }).catch(
        (e: unknown) => e,
      );
      assert.ok(error instanceof TimeoutError);
      assert.equal(error.message, "timed out during the opening handshake");
    } finally {
      await raw.close();
    }
  });

  it("can be aborted with an AbortSignal", async () => {
    const raw = await rawServer(() => {});
    try {
      const controller = new AbortController();
      const connecting = connect(`ws://127.0.0.1:${raw.port}`, {
        signal: controller.signal,
        openTimeout: null,
      });
      controller.abort(new Error("user gave up"));
      await assert.rejects(connecting, /user gave up/);
      await assert.rejects(
        connect(`ws://127.0.0.1:${raw.port}`, { signal: AbortSignal.abort(new Error("before")) }),
        /before/,
      );
    } finally {
      await raw.close();
    }
  });

  it("receives frames sent in the same packet as the 101 response", async () => {
    const raw = await rawServer(async (peer) => {
      await acceptRaw(peer);
      peer.writeFrame(Opcode.TEXT, "early");
    });
    try {
      await using ws = await connect(`ws://127.0.0.1:${raw.port}`, { closeTimeout: 100 });
      assert.equal(await ws.recv(), "early");
    } finally {
      await raw.close();
    }
  });

  it("skips interim 1xx responses before the 101", async () => {
    const raw = await rawServer(async (peer) => {
      // RFC 9110 §15.2: 103 Early Hints, as CDNs send, and 100 Continue.
      await acceptRaw(
        peer,
        "",
        "HTTP/1.1 103 Early Hints\r\nLink: </app.css>; rel=preload\r\n\r\nHTTP/1.1 100 Continue\r\n\r\n",
      );
      peer.writeFrame(Opcode.TEXT, "hinted");
    });
    try {
      await using ws = await connect(`ws://127.0.0.1:${raw.port}`, { closeTimeout: 100 });
      assert.equal(ws.response?.status, 101);
      assert.equal(await ws.recv(), "hinted");
    } finally {
      await raw.close();
    }
  });

  it("gives up on a peer that never answers the close frame after closeTimeout", async () => {
    let serverPeer: RawPeer | null = null;
    const raw = await rawServer(async (peer) => {
      serverPeer = peer;
      await acceptRaw(peer);
    });
    try {
      const ws = await connect(`ws://127.0.0.1:${raw.port}`, { closeTimeout: 100 });
      await ws.close(1000, "bye");
      assert.equal(ws.closeCode, 1006);
      assert.deepEqual(closePayload(await serverPeer!.readFrame()), [1000, "bye"]);
    } finally {
      await raw.close();
    }
  });
});

/** A DNS lookup that answers 127.0.0.1 for every name, and notes the names in `asked`. */
function loopbackLookup(asked: string[]): net.LookupFunction {
  return (hostname, options, callback) => {
    asked.push(hostname);
    // Node asks for all addresses when it may try several (autoSelectFamily).
    if (options.all) callback(null, [{ address: "127.0.0.1", family: 4 }]);
    else callback(null, "127.0.0.1", 4);
  };
}

describe("connect() with additionalHeaders", () => {
  it("replaces the URI's Basic credentials with an Authorization given", async () => {
    const seen = deferred<ServerConnection>();
    const { server, port } = await startServer(async (ws) => {
      seen.resolve(ws);
      await echo(ws);
    });
    await using _server = server;
    await using _ws = await connect(`ws://user:pass@127.0.0.1:${port}/`, {
      additionalHeaders: { Authorization: "Bearer token" },
    });
    // RFC 9110 §11.6.2: one set of credentials; two fields would be an invalid request.
    assert.deepEqual((await seen.promise).request.headers.getAll("Authorization"), [
      "Bearer token",
    ]);
  });

  it("replaces the URI's Host and the origin option's Origin with those given", async () => {
    const seen = deferred<ServerConnection>();
    const { server, port } = await startServer(async (ws) => {
      seen.resolve(ws);
      await echo(ws);
    });
    await using _server = server;
    await using _ws = await connect(`ws://127.0.0.1:${port}/`, {
      origin: "https://option.example",
      additionalHeaders: [
        ["host", "virtual.example"],
        ["Origin", "https://header.example"],
        ["Cookie", "a=1"],
        ["Cookie", "b=2"],
      ],
    });
    const headers = (await seen.promise).request.headers;
    assert.deepEqual(headers.getAll("Host"), ["virtual.example"]);
    assert.deepEqual(headers.getAll("Origin"), ["https://header.example"]);
    // Other fields may repeat, as given.
    assert.deepEqual(headers.getAll("Cookie"), ["a=1", "b=2"]);
  });

  it("refuses the fields the handshake sets, before connecting", async () => {
    for (const name of ["Upgrade", "connection", "Sec-WebSocket-Key", "Sec-WebSocket-Protocol"]) {
      await assert.rejects(connect("ws://127.0.0.1:1/", { additionalHeaders: { [name]: "x" } }), {
        name: "TypeError",
        message: new RegExp(`can't set ${name}: the handshake sets it`),
      });
    }
  });

  it("refuses an origin or userAgent that is not a string, or can't be a header, before connecting", async () => {
    // Port 1: nothing listens there, so a check made after connecting would fail differently.
    for (const option of ["origin", "userAgent"]) {
      for (const value of [5, false, { toString: () => "x" }]) {
        await assert.rejects(connect("ws://127.0.0.1:1/", { [option]: value }), {
          name: "TypeError",
          message: new RegExp(`^${option} must be a string or null; got `),
        });
      }
      await assert.rejects(
        connect("ws://127.0.0.1:1/", { [option]: "a\r\nX-Injected: 1" }),
        InvalidHeaderFormat,
      );
    }
  });
});

describe("connect() arguments of the wrong type", () => {
  // Port 1: nothing listens there, so a check made after connecting would fail differently.
  const refused: [string, () => Promise<unknown>, string][] = [
    [
      "an unset URI",
      () => connect(undefined as never),
      "connect() takes a URI, a string or a URL; got undefined",
    ],
    [
      "a URI object that isn't a URL",
      () => connect({ href: "ws://127.0.0.1:1/" } as never),
      "connect() takes a URI, a string or a URL; got an Object",
    ],
    [
      "additionalHeaders as a string",
      () => connect("ws://127.0.0.1:1/", { additionalHeaders: "X-A: b" as never }),
      'additionalHeaders: headers must be [name, value] pairs, a Headers, or an object of names to values; got "X-A: b"',
    ],
    [
      "a header value that isn't a string",
      () => connect("ws://127.0.0.1:1/", { additionalHeaders: { "X-N": 5 as never } }),
      "additionalHeaders: header X-N must be a string or an array of strings; got 5",
    ],
    [
      "a signal that isn't an AbortSignal",
      () => connect("ws://127.0.0.1:1/", { signal: "x" as never }),
      'signal must be an AbortSignal; got "x"',
    ],
    [
      "extensions that aren't factories",
      () => connect("ws://127.0.0.1:1/", { extensions: ["permessage-deflate" as never] }),
      'extensions must be an array of client extension factories, with a name and getRequestParams() and processResponseParams(); item 0 is "permessage-deflate"',
    ],
    [
      "a proxy port alone",
      () => connect("ws://127.0.0.1:1/", { proxy: 8080 as never }),
      'proxy must be a proxy URL such as "http://proxy.example:3128", true to read HTTPS_PROXY and HTTP_PROXY, or false or null for none; got 8080',
    ],
    [
      "a logger without debug",
      () => connect("ws://127.0.0.1:1/", { logger: { error() {}, warn() {}, info() {} } as never }),
      "logger must have error, warn, info and debug methods; debug is missing",
    ],
    [
      "compression: true",
      () => connect("ws://127.0.0.1:1/", { compression: true as never }),
      'compression must be "deflate" (the default) or null for none; got a boolean',
    ],
    [
      "a size as a string",
      () => connect("ws://127.0.0.1:1/", { maxMessageSize: "1M" as never }),
      'maxMessageSize must be a whole number of bytes from 1, or null or Infinity for no limit; got "1M"',
    ],
    [
      "a queue as a string",
      () => connect("ws://127.0.0.1:1/", { maxQueue: "16" as never }),
      'maxQueue must be a whole number of messages from 1, or Infinity for no limit; got "16"',
    ],
    [
      "a write mark as a string",
      () => connect("ws://127.0.0.1:1/", { writeHighWaterMark: "64k" as never }),
      'writeHighWaterMark must be a number of bytes from 0; got "64k"',
    ],
  ];
  for (const [what, attempt, message] of refused) {
    it(`refuses ${what} with a TypeError naming it, before connecting`, async () => {
      const error = await attempt().catch((e: unknown) => e);
      assert.ok(error instanceof TypeError && !(error instanceof RangeError), String(error));
      assert.equal(error.message, message);
    });
  }

  it("takes a URL of another implementation and a signal of another realm", async () => {
    const { server, uri } = await startServer(echo);
    await using _server = server;
    // As whatwg-url's URL (jsdom's) is: tagged "URL", with an href.
    const foreign = { [Symbol.toStringTag]: "URL", href: uri, toString: () => uri };
    const signal = vm.runInNewContext("new AbortController().signal", { AbortController });
    const client = await connect(foreign as unknown as URL, { signal });
    await client.send("hi");
    assert.equal(await client.recv(), "hi");
    await client.close();
  });

  it("takes a null signal, as fetch() does", async () => {
    const error = await connect("ws://127.0.0.1:1/", { signal: null as never }).catch(
      (e: unknown) => e,
    );
    assert.equal((error as NodeJS.ErrnoException).code, "ECONNREFUSED");
  });

  it("refuses an unknown compression name with a RangeError saying what is known", async () => {
    await assert.rejects(
      connect("ws://127.0.0.1:1/", { compression: "permessage-deflate" as never }),
      {
        name: "RangeError",
        message:
          'compression must be "deflate" (the default) or null for none; got "permessage-deflate"',
      },
    );
  });
});

describe("connect() with tcp options", () => {
  it("resolves the host name with tcp.lookup", async () => {
    const { server, port } = await startServer(echo);
    await using _server = server;
    const asked: string[] = [];
    const lookup = loopbackLookup(asked);
    await using ws = await connect(`ws://feed.example.invalid:${port}/`, { tcp: { lookup } });
    assert.deepEqual(asked, ["feed.example.invalid"]);
    assert.equal(ws.request.headers.get("Host"), `feed.example.invalid:${port}`);
    await ws.send("resolved");
    assert.equal(await ws.recv(), "resolved");
  });

  it("binds the local end to tcp.localAddress", async () => {
    const seen = deferred<ServerConnection>();
    const { server, port } = await startServer(async (ws) => {
      seen.resolve(ws);
      await echo(ws);
    });
    await using _server = server;
    // All of 127.0.0.0/8 is loopback on Linux; elsewhere only 127.0.0.1 may be.
    const local = process.platform === "linux" ? "127.0.0.2" : "127.0.0.1";
    await using ws = await connect(`ws://127.0.0.1:${port}`, { tcp: { localAddress: local } });
    assert.equal(ws.localAddress?.address, local);
    assert.equal((await seen.promise).remoteAddress?.address, local);
  });

  /**
   * Calls connect() from a timer callback, a macrotask: Node then reports a
   * failure to bind or to look up from process.nextTick, before any promise
   * continuation runs. The promise is wrapped so that awaiting it here doesn't adopt it.
   */
  function connectFromTimer(
    uri: string,
    options: ConnectOptions,
  ): Promise<{ attempt: Promise<ClientConnection> }> {
    return new Promise((resolve) => {
      setTimeout(() => resolve({ attempt: connect(uri, { logger: null, ...options }) }), 0);
    });
  }

  it("rejects with the socket's error when tcp.localPort is in use", async () => {
    const busy = net.createServer().listen(0, "127.0.0.1");
    await once(busy, "listening");
    try {
      const localPort = (busy.address() as net.AddressInfo).port;
      const { attempt } = await connectFromTimer("ws://127.0.0.1:9/", {
        tcp: { localAddress: "127.0.0.1", localPort },
      });
      await assert.rejects(attempt, { code: "EADDRINUSE", syscall: "bind" });
    } finally {
      busy.close();
    }
  });

  it("rejects with the error of a tcp.lookup that fails at once", async () => {
    const failure = Object.assign(new Error("getaddrinfo ENOTFOUND feed.example.invalid"), {
      code: "ENOTFOUND",
    });
    const { attempt } = await connectFromTimer("ws://feed.example.invalid/", {
      tcp: { lookup: (_hostname, _options, callback) => callback(failure, "", 0) },
    });
    await assert.rejects(attempt, (error) => error === failure);
  });

  it("rejects with the socket's error when a wss:// connection can't bind", async () => {
    const busy = net.createServer().listen(0, "127.0.0.1");
    await once(busy, "listening");
    try {
      const localPort = (busy.address() as net.AddressInfo).port;
      const { attempt } = await connectFromTimer("wss://127.0.0.1:9/", {
        tcp: { localAddress: "127.0.0.1", localPort },
      });
      await assert.rejects(attempt, { code: "EADDRINUSE", syscall: "bind" });
    } finally {
      busy.close();
    }
  });

  it("passes tcp options to the connection to a proxy", async () => {
    const asked: string[] = [];
    const lookup = loopbackLookup(asked);
    // A proxy that refuses every tunnel: reaching it is what the test needs.
    await using proxy = await rawServer(async (peer) => {
      await peer.readHead();
      peer.write("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
    });
    await assert.rejects(
      connect("ws://example.invalid/", {
        proxy: `http://proxy.example.invalid:${proxy.port}`,
        tcp: { lookup },
      }),
      /403/,
    );
    assert.deepEqual(asked, ["proxy.example.invalid"]);
  });
});

describe("connect() over a socket given", () => {
  it("speaks WebSocket over it, with the URI's host and resource", async () => {
    const seen = deferred<ServerConnection>();
    const { server, port } = await startServer(async (ws) => {
      seen.resolve(ws);
      await echo(ws);
    });
    await using _server = server;
    const socket = net.connect({ host: "127.0.0.1", port });
    await using ws = await connect("ws://chat.example/room/1", { socket });
    await ws.send("over my socket");
    assert.equal(await ws.recv(), "over my socket");
    const request = (await seen.promise).request!;
    assert.equal(request.path, "/room/1");
    assert.equal(request.headers.get("Host"), "chat.example");
    await ws.close();
    assert.equal(ws.closeCode, 1000);
    // The connection owned the socket and closed it.
    assert.equal(socket.destroyed, true);
  });

  it("fails a redirect with InvalidStatus rather than follow it", async () => {
    await using redirecting = await rawServer(async (peer) => {
      await peer.readHead();
      peer.write("HTTP/1.1 302 Found\r\nLocation: ws://127.0.0.1:1/\r\nContent-Length: 0\r\n\r\n");
    });
    const socket = net.connect({ host: "127.0.0.1", port: redirecting.port });
    await assert.rejects(connect("ws://127.0.0.1/", { socket }), InvalidStatus);
    assert.equal(socket.destroyed, true);
  });

  it("refuses a socket with a path or a proxy", async () => {
    const socket = new net.Socket();
    await assert.rejects(connect("ws://127.0.0.1/", { socket, path: "/tmp/x.sock" }), TypeError);
    await assert.rejects(
      connect("ws://127.0.0.1/", { socket, proxy: "http://127.0.0.1:1" }),
      TypeError,
    );
  });
});

describe("connect(): large frames in flight", () => {
  /** Whether both frame slots are free: takes them, and gives them back. */
  function slotsFree(): boolean {
    const slots = [
      takeFrameSlot(70000, 14, new Uint8Array(1)),
      takeFrameSlot(70000, 14, new Uint8Array(1)),
    ];
    for (const slot of slots) slot?.release();
    return slots.every((slot) => slot !== null);
  }

  for (const [how, stop] of [
    ["destroyed", (socket: net.Socket) => socket.destroy()],
    ["ended", (socket: net.Socket) => socket.end()],
  ] as const) {
    it(`gives back the slot of a frame that its ${how} socket never writes`, async () => {
      await using server = await rawServer((peer) => {
        acceptRaw(peer).then(() => peer.socket.resume());
      });
      const ws = await connect(`ws://127.0.0.1:${server.port}`, { compression: null });
      collectGarbage();
      await new Promise((resolve) => setImmediate(resolve));
      assert.ok(slotsFree());
      // biome-ignore lint/complexity/useLiteralKeys: element access reaches a protected member.
      stop(ws["socket"]);
      // Queued at once, written (or not) at the end of the turn.
      const sent = ws.send(new Uint8Array(100_000));
      sent.catch(() => {});
      await new Promise((resolve) => setImmediate(resolve));
      assert.ok(slotsFree());
      await ws.close();
    });
  }

  it("keeps each frame's bytes while the socket writes them, through garbage collections", async () => {
    const accepted = deferred<RawPeer>();
    await using server = await rawServer((peer) => {
      acceptRaw(peer).then(() => {
        // Reads nothing until every message was sent: the writes stay pending.
        peer.socket.pause();
        accepted.resolve(peer);
      });
    });
    await using ws = await connect(`ws://127.0.0.1:${server.port}`, { compression: null });
    const peer = await accepted.promise;
    // The connection reports its writes, so its large frames may sit in frame slots.
    // biome-ignore lint/complexity/useLiteralKeys: element access reaches a protected member.
    assert.equal(ws["protocol"].writesRecycled, true);
    const turn = () => new Promise((resolve) => setImmediate(resolve));
    // The first is more than the kernel's socket buffers take: what follows
    // waits in the socket. Messages of one turn leave in one corked write.
    const turns = [
      [[0x30, 16 * 1024 * 1024]],
      [[0x41, 4 * 1024 * 1024]],
      [
        [0x42, 3 * 1024 * 1024],
        [0x43, 2 * 1024 * 1024],
      ],
      [[0x44, 4 * 1024 * 1024]],
      [
        [0x45, 65536],
        [0x46, 100_000],
      ],
    ] as const;
    const messages = turns.flat();
    const sent: Promise<void>[] = [];
    for (const messagesOfTurn of turns) {
      for (const [fill, size] of messagesOfTurn)
        sent.push(ws.send(new Uint8Array(size).fill(fill)));
      // Written (or queued in the socket), then nothing of ours refers to the
      // frames but the socket's writes: a collection must not free their memory.
      await turn();
      collectGarbage();
      await turn();
      await turn();
    }
    peer.socket.resume();
    for (const [fill, size] of messages) {
      const frame = (await peer.readFrame())!;
      assert.equal(frame.opcode, Opcode.BINARY);
      assert.equal(frame.data.length, size);
      const expected = Buffer.alloc(size, fill);
      assert.ok(Buffer.from(frame.data).equals(expected), `message of ${fill} arrived intact`);
    }
    await Promise.all(sent);
    // Every write was reported: the slots are free without waiting for a collection.
    await turn();
    assert.ok(slotsFree());
  });
});
