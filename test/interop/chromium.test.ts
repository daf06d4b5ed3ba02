/**
 * Interop with a real browser: headless Chromium (Debian's /usr/bin/chromium,
 * driven by playwright-core) loads a page from 127.0.0.1 that connects to our
 * server, negotiates permessage-deflate and echoes text and binary messages up
 * to 1 MiB. Skipped when Chromium is not installed.
 */

import assert from "node:assert/strict";
import { createServer } from "node:http";
import * as net from "node:net";
import { after, describe, it } from "node:test";
import { PerMessageDeflate } from "../../src/core/extensions/permessage-deflate.js";
import type { ServerConnection } from "../../src/node/server.js";
import { launchChromium, skipWithoutChromium } from "../helpers/chromium.js";
import { startServer, unhandledRejections } from "../helpers/server.js";

after(() => {
  assert.deepEqual(unhandledRejections(), []);
});

const skip = skipWithoutChromium("the browser interop test");

const ONE_MIB = 1024 * 1024;

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
    await using page = await pageServer();

    const browser = await launchChromium();
    try {
      const tab = await browser.newPage();
      await tab.goto(page.url);
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
    } finally {
      await browser.close();
    }
  });
});
