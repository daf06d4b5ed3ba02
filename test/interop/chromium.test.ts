/**
 * Interop with a real browser: headless Chromium (Debian's /usr/bin/chromium,
 * driven by playwright-core) loads a page from 127.0.0.1 that connects to our
 * server, the only role a browser has: it negotiates permessage-deflate (or
 * does without) and echoes text and binary messages up to 1 MiB; connects
 * over TLS; selects a subprotocol; closes with codes and reasons both ways;
 * sees a rejected handshake, a message over our limit, and the server shut
 * down; answers pings. One browser serves the whole file. Skipped when
 * Chromium is not installed.
 */

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import * as net from "node:net";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { ConnectionClosedError } from "../../src/core/errors.js";
import { PerMessageDeflate } from "../../src/core/extensions/permessage-deflate.js";
import type { ServerConnection } from "../../src/node/server.js";
import { launchChromium, skipWithoutChromium } from "../helpers/chromium.js";
import {
  deferred,
  echo,
  startReceivingServer,
  startServer,
  startUpgradeServer,
  unhandledRejections,
} from "../helpers/server.js";

after(() => {
  assert.deepEqual(unhandledRejections(), []);
});

const skip = skipWithoutChromium("the browser interop test");

const ONE_MIB = 1024 * 1024;

const FIXTURES = fileURLToPath(new URL("../../../test/fixtures/tls/", import.meta.url));

/**
 * The page: `echo(url, sizes)` connects, sends a text then a binary message of
 * each size, checks that each comes back unchanged, and reports what it saw.
 */
const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>websockets-ts echo</title>
<script>
// Text of exactly size bytes in UTF-8, with 2- and 4-byte characters.
function text(size, seed) {
  const words = ["hello ", "websocket ", "compression ", "chromium ", "café ", "🙂 "];
  const encoder = new TextEncoder();
  const parts = [];
  let length = 0;
  for (let i = 0; ; i++) {
    const word = words[(i * 7 + seed) % words.length];
    const bytes = encoder.encode(word).length;
    if (length + bytes > size) break;
    parts.push(word);
    length += bytes;
  }
  return parts.join("") + ".".repeat(size - length);
}
function binary(size, seed, random) {
  const bytes = new Uint8Array(size);
  if (random) {
    for (let i = 0; i < size; i += 65536) crypto.getRandomValues(bytes.subarray(i, i + 65536));
  } else {
    for (let i = 0; i < size; i++) bytes[i] = (i * 31 + seed) % 251;
  }
  return bytes;
}
function same(a, b) {
  if (typeof a === "string") return a === b;
  const x = new Uint8Array(a), y = new Uint8Array(b);
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}
async function echo(url, sizes) {
  const ws = new WebSocket(url);
  ws.binaryType = "arraybuffer";
  const queue = [];
  let waiting = null;
  ws.onmessage = (event) => (waiting ? (waiting(event.data), (waiting = null)) : queue.push(event.data));
  const closed = new Promise((resolve) => (ws.onclose = (event) => resolve([event.code, event.reason])));
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = () => reject(new Error("WebSocket error"));
  });
  const next = () => (queue.length ? Promise.resolve(queue.shift()) : new Promise((r) => (waiting = r)));
  const results = [];
  for (const [i, size] of sizes.entries()) {
    for (const message of [text(size, i), binary(size, i, false), binary(size, i, true)]) {
      ws.send(message);
      const echoed = await next();
      results.push([typeof message === "string" ? "text" : "binary", size, same(message, echoed)]);
    }
  }
  const extensions = ws.extensions;
  ws.close(1000, "done");
  return { extensions, results, close: await closed };
}
// session(url, protocols, actions) opens new WebSocket(url, protocols), logs
// every event it fires, runs the actions in order, and returns the log once
// the socket is closed. Actions: {send: text}; {close: [code, reason]};
// {await: event}, which waits until the socket has fired that event.
async function session(url, protocols, actions) {
  const log = [];
  let wake = () => {};
  const push = (entry) => (log.push(entry), wake());
  const until = (event) =>
    new Promise(function check(resolve) {
      if (log.some((entry) => entry.event === event)) resolve();
      else wake = () => check(resolve);
    });
  const ws = new WebSocket(url, protocols);
  ws.onopen = () => push({ event: "open", protocol: ws.protocol, extensions: ws.extensions });
  ws.onmessage = (event) => push({ event: "message", data: event.data });
  ws.onerror = () => push({ event: "error" });
  ws.onclose = (event) =>
    push({ event: "close", code: event.code, reason: event.reason, wasClean: event.wasClean });
  for (const action of actions) {
    if ("send" in action) ws.send(action.send);
    if ("close" in action) ws.close(...action.close);
    if ("await" in action) await until(action.await);
  }
  await until("close");
  return log;
}
</script>`;

/** A TCP relay that counts the bytes going each way, to see compression on the wire. */
async function countingRelay(targetPort: number) {
  const counts = { toServer: 0, toBrowser: 0 };
  const sockets = new Set<net.Socket>();
  const relay = net.createServer((browser) => {
    const server = net.connect({ host: "127.0.0.1", port: targetPort });
    for (const socket of [browser, server]) {
      sockets.add(socket);
      socket.on("error", () => {});
      socket.on("close", () => sockets.delete(socket));
    }
    browser.on("data", (chunk: Buffer) => {
      counts.toServer += chunk.length;
    });
    server.on("data", (chunk: Buffer) => {
      counts.toBrowser += chunk.length;
    });
    browser.pipe(server);
    server.pipe(browser);
  });
  relay.listen(0, "127.0.0.1");
  await new Promise((resolve) => relay.once("listening", resolve));
  return {
    port: (relay.address() as net.AddressInfo).port,
    counts,
    async [Symbol.asyncDispose]() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => relay.close(resolve));
    },
  };
}

/** An action of the page's session(). */
type Action = { send: string } | { close: [number, string] } | { await: string };

/** An event session() logged. */
type Entry = Record<string, unknown> & { event: string };

/** A node:http server on 127.0.0.1 that serves the page. */
async function pageServer() {
  const server = createServer((_request, response) => {
    response.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
    response.end(PAGE);
  });
  server.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/`,
    async [Symbol.asyncDispose]() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe("headless Chromium against our server", { skip }, () => {
  let browser: Browser;
  let page: Awaited<ReturnType<typeof pageServer>>;
  /** A tab on the page, for the sessions that need no other. */
  let tab: Page;
  before(async () => {
    browser = await launchChromium();
    page = await pageServer();
    tab = await newTab();
  });
  after(async () => {
    await browser?.close();
    await page?.[Symbol.asyncDispose]();
  });

  /** Where session() opens its tab: a browser context, the page's URL. */
  interface TabOptions {
    context?: BrowserContext;
    pageUrl?: string;
  }

  /** A new tab on the page, in the browser's default context unless told otherwise. */
  async function newTab({ context, pageUrl }: TabOptions = {}): Promise<Page> {
    const tab = await (context ?? browser).newPage();
    await tab.goto(pageUrl ?? page.url);
    return tab;
  }

  /**
   * Runs the page's session() in the shared tab (session() returns once its
   * socket is closed, so none is left for the next), or with `options` in a
   * new tab, closed afterwards.
   */
  async function session(
    url: string,
    protocols: string[],
    actions: Action[],
    options?: TabOptions,
  ): Promise<Entry[]> {
    const used = options === undefined ? tab : await newTab(options);
    try {
      return await used.evaluate(
        ([url, protocols, actions]) =>
          (
            globalThis as unknown as {
              session(url: string, protocols: string[], actions: Action[]): Promise<Entry[]>;
            }
          ).session(url, protocols, actions),
        [url, protocols, actions] as const,
      );
    } finally {
      if (used !== tab) await used.close();
    }
  }

  it("negotiates permessage-deflate and echoes text and binary messages up to 1 MiB", async () => {
    const offers: (string | null)[] = [];
    const negotiated: unknown[] = [];
    const { server, port } = await startServer(async (ws: ServerConnection) => {
      offers.push(ws.request?.headers.get("Sec-WebSocket-Extensions") ?? null);
      negotiated.push(ws.protocol.extensions[0]);
      for await (const message of ws) await ws.send(message);
    });
    await using _server = server;
    await using relay = await countingRelay(port);
    // In the shared tab: echo() returns once its socket is closed.
    const sizes = [0, 5, 125, 126, 4096, 65535, 65536, 300_000, ONE_MIB];
    const report = await tab.evaluate(
      ([url, sizes]) =>
        (
          globalThis as unknown as {
            echo(
              url: string,
              sizes: number[],
            ): Promise<{
              extensions: string;
              results: [string, number, boolean][];
              close: [number, string];
            }>;
          }
        ).echo(url, sizes),
      [`ws://127.0.0.1:${relay.port}/`, sizes] as const,
    );

    // Chromium offers what RFC 7692 §7.1.2.2 lets a client offer by default.
    assert.equal(offers[0], "permessage-deflate; client_max_window_bits");
    assert.equal(
      report.extensions,
      "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12",
    );
    assert.ok(negotiated[0] instanceof PerMessageDeflate);
    assert.deepEqual(
      report.results.filter(([, , ok]) => !ok),
      [],
      "every message came back unchanged",
    );
    assert.equal(report.results.length, sizes.length * 3);
    assert.deepEqual(report.close, [1000, "done"]);

    // Text and patterned binary compress; random binary does not. Each way
    // carried about 2.8 MiB of compressible data and 1.4 MiB of random bytes.
    const random = sizes.reduce((total, size) => total + size, 0);
    for (const [direction, bytes] of Object.entries(relay.counts)) {
      assert.ok(bytes < random + 400_000, `${direction}: ${bytes} bytes for ${random * 3}`);
    }
  });

  it("selects the subprotocol from new WebSocket(url, protocols)", async () => {
    const seen: ServerConnection[] = [];
    const { server, uri } = await startServer(
      async (ws) => {
        seen.push(ws);
        await echo(ws);
      },
      { subprotocols: ["b", "a"] },
    );
    await using _server = server;
    const log = await session(
      `${uri}/`,
      ["a", "b"],
      [{ await: "open" }, { close: [1000, "done"] }],
    );
    assert.deepEqual(log, [
      {
        event: "open",
        protocol: "b",
        extensions: "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12",
      },
      { event: "close", code: 1000, reason: "done", wasClean: true },
    ]);
    assert.equal(seen[0]?.request?.headers.get("Sec-WebSocket-Protocol"), "a, b");
    assert.equal(seen[0]?.subprotocol, "b");
    assert.deepEqual([seen[0]?.closeCode, seen[0]?.closeReason], [1000, "done"]);
  });

  it("reports close codes and reasons both ways", async () => {
    const closed: [number | null, string | null][] = [];
    const { server, uri } = await startServer(async (ws) => {
      try {
        for await (const message of ws) {
          if (message === "close please") await ws.close(4001, "bye from the server, ünïcode");
        }
      } catch {
        // A code other than 1000 or 1001 ends the loop with ConnectionClosedError.
      }
      await ws.closed;
      closed.push([ws.closeCode, ws.closeReason]);
    });
    await using _server = server;
    const fromBrowser = await session(
      `${uri}/`,
      [],
      [{ await: "open" }, { close: [4000, "bye from the browser 🙂"] }],
    );
    assert.deepEqual(fromBrowser.slice(1), [
      { event: "close", code: 4000, reason: "bye from the browser 🙂", wasClean: true },
    ]);
    const fromServer = await session(`${uri}/`, [], [{ await: "open" }, { send: "close please" }]);
    assert.deepEqual(fromServer.slice(1), [
      { event: "close", code: 4001, reason: "bye from the server, ünïcode", wasClean: true },
    ]);
    // Each side reports the close frame it received, which the other echoed.
    assert.deepEqual(closed, [
      [4000, "bye from the browser 🙂"],
      [4001, "bye from the server, ünïcode"],
    ]);
  });

  it("fires error then close (1006) when processRequest refuses the handshake", async () => {
    const paths: string[] = [];
    let handled = 0;
    const { server, uri } = await startServer(
      async () => {
        handled++;
      },
      {
        processRequest: (_connection, request) => {
          paths.push(request.path);
          return { status: 403, body: "Forbidden.\n" };
        },
      },
    );
    await using _server = server;
    const log = await session(`${uri}/private?token=x`, [], []);
    assert.deepEqual(log, [
      { event: "error" },
      { event: "close", code: 1006, reason: "", wasClean: false },
    ]);
    assert.deepEqual(paths, ["/private?token=x"]);
    assert.equal(handled, 0);
  });

  it("answers the server's pings", async () => {
    const latencies: number[] = [];
    const closed = deferred<[number | null, string | null]>();
    const { server, uri } = await startServer(
      async (ws) => {
        for (let i = 0; i < 3; i++) latencies.push(await ws.ping());
        await ws.send("pinged");
        await ws.closed;
        closed.resolve([ws.closeCode, ws.closeReason]);
      },
      { pingInterval: 20, pingTimeout: 5000 },
    );
    await using _server = server;
    const log = await session(`${uri}/`, [], [{ await: "message" }, { close: [1000, "done"] }]);
    assert.deepEqual(log.slice(1), [
      { event: "message", data: "pinged" },
      { event: "close", code: 1000, reason: "done", wasClean: true },
    ]);
    assert.equal(latencies.length, 3);
    assert.ok(latencies.every((latency) => latency > 0));
    // Not 1011: the keepalive pings, every 20 ms, were answered too.
    assert.deepEqual(await closed.promise, [1000, "done"]);
  });

  it("sees 1001 when the server shuts down", async () => {
    const ready = deferred();
    const { server, uri } = await startServer(async (ws) => {
      await ws.recv();
      ready.resolve();
      await echo(ws);
    });
    await using _server = server;
    const running = session(`${uri}/`, [], [{ await: "open" }, { send: "ready" }]);
    await ready.promise;
    await server.close();
    const log = await running;
    assert.deepEqual(log.slice(1), [{ event: "close", code: 1001, reason: "", wasClean: true }]);
  });

  it("does without compression when our server has it off", async () => {
    const offers: (string | undefined)[] = [];
    const { server, uri } = await startServer(
      async (ws) => {
        offers.push(ws.request?.headers.get("Sec-WebSocket-Extensions"));
        await echo(ws);
      },
      { compression: null },
    );
    await using _server = server;
    const log = await session(
      `${uri}/`,
      [],
      [
        { await: "open" },
        { send: "uncompressed" },
        { await: "message" },
        { close: [1000, "done"] },
      ],
    );
    assert.deepEqual(log, [
      { event: "open", protocol: "", extensions: "" },
      { event: "message", data: "uncompressed" },
      { event: "close", code: 1000, reason: "done", wasClean: true },
    ]);
    assert.deepEqual(offers, ["permessage-deflate; client_max_window_bits"]);
  });

  it("connects over TLS (wss://)", async () => {
    const seen = deferred<ServerConnection>();
    const { server, port } = await startServer(
      async (ws) => {
        seen.resolve(ws);
        await echo(ws);
      },
      {
        tls: {
          key: readFileSync(`${FIXTURES}localhost-key.pem`),
          cert: readFileSync(`${FIXTURES}localhost.pem`),
        },
      },
    );
    await using _server = server;
    // A fresh profile can't be told to trust the test CA: this context
    // skips certificate checks, so the test is about TLS, not trust.
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    try {
      const log = await session(
        `wss://127.0.0.1:${port}/secure`,
        [],
        [{ await: "open" }, { send: "over TLS" }, { await: "message" }, { close: [1000, "done"] }],
        { context },
      );
      assert.deepEqual(log.slice(1), [
        { event: "message", data: "over TLS" },
        { event: "close", code: 1000, reason: "done", wasClean: true },
      ]);
    } finally {
      await context.close();
    }
    const serverSide = await seen.promise;
    assert.equal(serverSide.request?.path, "/secure");
    assert.equal(serverSide.closeCode, 1000);
  });

  it("gets 1009 when it sends more than our maxMessageSize", async () => {
    const { server, uri, received: failed } = await startReceivingServer({ maxMessageSize: 1024 });
    await using _server = server;
    const log = await session(`${uri}/`, [], [{ await: "open" }, { send: "a".repeat(2000) }]);
    const error = await failed;
    assert.ok(error instanceof ConnectionClosedError);
    assert.equal(error.sent?.code, 1009);
    assert.deepEqual(log.slice(1), [
      { event: "close", code: 1009, reason: error.sent?.reason, wasClean: true },
    ]);
  });

  it("connects through handleUpgrade() on the HTTP server of its page", async () => {
    await using upgrading = await startUpgradeServer((_request, response) => {
      response.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
      response.end(PAGE);
    });
    const origin = `127.0.0.1:${upgrading.port}`;
    const log = await session(
      `ws://${origin}/ws`,
      [],
      [{ await: "open" }, { send: "same origin" }, { await: "message" }, { close: [1000, "done"] }],
      { pageUrl: `http://${origin}/` },
    );
    assert.deepEqual(log.slice(1), [
      { event: "message", data: "same origin" },
      { event: "close", code: 1000, reason: "done", wasClean: true },
    ]);
    const serverSide = await upgrading.seen;
    assert.equal(serverSide.request?.headers.get("Origin"), `http://${origin}`);
    assert.equal(serverSide.closeCode, 1000);
  });
});
