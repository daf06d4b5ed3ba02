/**
 * httpConnect() on its own, against a proxy the test plays byte by byte on
 * a loopback connection: the CONNECT request it writes, the answers it
 * accepts, and the errors it raises for the others. test/node/proxy.test.ts
 * tunnels whole connections through proxies.
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { once } from "node:events";
import type * as net from "node:net";
import { after, describe, it } from "node:test";
import { InvalidHeaderValue, PayloadTooBig, ProxyError } from "../../src/core/errors.js";
import { parseUri } from "../../src/core/uri.js";
import { httpConnect } from "../../src/node/proxy-http.js";
import { type LoopbackPair, loopbackPair } from "../helpers/pair.js";
import { unhandledRejections } from "../helpers/server.js";

after(() => {
  assert.deepEqual(unhandledRejections(), []);
});

const PROXY = new URL("http://proxy.test:3128");

/** Starts httpConnect() on the pair's client end; the promise is observed at once. */
function start(
  pair: LoopbackPair,
  uri = "ws://example.com:8080/chat",
  proxy = PROXY,
  userAgent: string | null = "agent/1",
  signal = new AbortController().signal,
): Promise<net.Socket> {
  const tunnel = httpConnect(pair.client, parseUri(uri), proxy, userAgent, signal);
  tunnel.catch(() => {});
  return tunnel;
}

/** Resumes a paused socket and resolves with the next chunk it emits. */
async function nextChunk(socket: net.Socket): Promise<string> {
  const data = once(socket, "data");
  socket.resume();
  const [chunk] = (await data) as [Buffer];
  return chunk.toString("latin1");
}

/** Answers the CONNECT request with `answer` and returns the error httpConnect() rejects with. */
async function refusal(answer: string, proxy = PROXY): Promise<ProxyError> {
  await using pair = await loopbackPair();
  const tunnel = start(pair, undefined, proxy);
  await pair.readHead();
  pair.server.end(answer, "latin1");
  const error = await tunnel.then(
    () => assert.fail("expected a refusal"),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof ProxyError, String(error));
  assert.equal(error.code, "ERR_PROXY");
  return error;
}

describe("httpConnect()", () => {
  it("writes CONNECT with Host and User-Agent, and hands the socket back paused after a 200", async () => {
    await using pair = await loopbackPair();
    const events = ["data", "end", "error", "close"] as const;
    const listeners = () => events.map((event) => pair.client.listenerCount(event));
    const before = listeners();
    const tunnel = start(pair);
    assert.equal(
      await pair.readHead(),
      "CONNECT example.com:8080 HTTP/1.1\r\nHost: example.com:8080\r\nUser-Agent: agent/1\r\n\r\n",
    );
    // Bytes right behind the head belong to the tunnel: the server spoke first.
    pair.server.write("HTTP/1.1 200 Connection established\r\nVia: 1.1 proxy\r\n\r\nserver first");
    const socket = await tunnel;
    assert.equal(socket, pair.client);
    assert.equal(socket.isPaused(), true);
    // httpConnect() no longer listens: the socket is the caller's again.
    assert.deepEqual(listeners(), before);
    assert.equal(await nextChunk(socket), "server first");
    socket.write("through the tunnel");
    assert.equal((await pair.read(18)).toString(), "through the tunnel");
  });

  it("targets the URI's default port, brackets IPv6 hosts, and sends no User-Agent when null", async () => {
    for (const [uri, authority] of [
      ["wss://example.com/", "example.com:443"],
      ["ws://example.com/", "example.com:80"],
      ["ws://[::1]:9000/", "[::1]:9000"],
      ["ws://192.0.2.7:1/", "192.0.2.7:1"],
    ] as const) {
      await using pair = await loopbackPair();
      const tunnel = start(pair, uri, PROXY, null);
      assert.equal(
        await pair.readHead(),
        `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`,
      );
      pair.server.write("HTTP/1.1 200 OK\r\n\r\n");
      await tunnel;
    }
  });

  it("sends the proxy URL's credentials, percent-decoded, in Proxy-Authorization", async () => {
    const basic = (credentials: string) => `Basic ${Buffer.from(credentials).toString("base64")}`;
    for (const [proxy, credentials] of [
      ["http://us%20er:p%40ss%3Aword@proxy.test", "us er:p@ss:word"],
      ["http://:tok3n@proxy.test", ":tok3n"],
      ["http://alone@proxy.test", "alone:"],
      // RFC 7617 §2.1: UTF-8, the charset browsers use.
      ["http://%C3%A9l%C3%A8ve:mot@proxy.test", "élève:mot"],
    ] as const) {
      await using pair = await loopbackPair();
      const tunnel = start(pair, "ws://example.com/", new URL(proxy), null);
      assert.equal(
        await pair.readHead(),
        "CONNECT example.com:80 HTTP/1.1\r\nHost: example.com:80\r\n" +
          `Proxy-Authorization: ${basic(credentials)}\r\n\r\n`,
        proxy,
      );
      pair.server.write("HTTP/1.1 200 OK\r\n\r\n");
      await tunnel;
    }
  });

  it("refuses a username with a colon, which Basic cannot carry, before writing anything", async () => {
    await using pair = await loopbackPair();
    const tunnel = start(pair, undefined, new URL("http://a%3Ab:pw@proxy.test"));
    await assert.rejects(tunnel, InvalidHeaderValue);
    pair.client.end();
    assert.equal((await pair.readToEnd()).length, 0);
  });

  it("accepts any 2xx, with or without a reason phrase, from HTTP/1.0 and 1.1", async () => {
    for (const answer of [
      "HTTP/1.1 200\r\n\r\n",
      "HTTP/1.0 200 OK\r\n\r\n",
      "HTTP/1.1 204 No Content\r\n\r\n",
      "HTTP/1.1 299 Whatever\r\n\r\n",
      // Interim responses first, as RFC 9110 §15.2 allows.
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 200 OK\r\n\r\n",
    ]) {
      await using pair = await loopbackPair();
      const tunnel = start(pair);
      await pair.readHead();
      pair.server.write(answer);
      assert.equal(await tunnel, pair.client, answer);
    }
  });

  it("reports other statuses with the status and the proxy's URL, credentials left out", async () => {
    const proxy = new URL("http://user:secret@proxy.test:3128");
    for (const status of [407, 502, 300, 403]) {
      const error = await refusal(`HTTP/1.1 ${status} No\r\nContent-Length: 0\r\n\r\n`, proxy);
      assert.equal(error.status, status);
      assert.equal(
        error.message,
        `proxy http://proxy.test:3128 refused the tunnel: HTTP ${status}`,
      );
      assert.equal(error.transient, false);
    }
  });

  it("does not take 101 Switching Protocols for an interim response", async () => {
    const error = await refusal("HTTP/1.1 101 Switching Protocols\r\n\r\nHTTP/1.1 200 OK\r\n\r\n");
    assert.equal(error.status, 101);
    assert.equal(error.message, "proxy http://proxy.test:3128 refused the tunnel: HTTP 101");
  });

  it("rejects a status line that isn't HTTP/1.x with a three-digit status", async () => {
    for (const line of [
      "HTTP/2 200 OK",
      "HTTP/1.1 20 OK",
      "HTTP/1.1 2000 OK",
      "HTTP/1.1 200OK",
      "ICY 200 OK",
      "http/1.1 200 OK",
    ]) {
      const error = await refusal(`${line}\r\n\r\n`);
      assert.equal(
        error.message,
        `invalid response from proxy http://proxy.test:3128: ${JSON.stringify(line)}`,
      );
      assert.equal(error.status, null);
      assert.equal(error.transient, false);
    }
  });

  it("quotes the proxy's line escaped and cut short in the message", async () => {
    // A hostile proxy's terminal escapes and a line of nearly 64 KiB.
    const line = `\x1b[31mHTTP 200 OK ${"x".repeat(60_000)}`;
    const error = await refusal(`${line}\r\n\r\n`);
    assert.equal(
      error.message,
      `invalid response from proxy http://proxy.test:3128: ${JSON.stringify(`${line.slice(0, 100)}…`)}`,
    );
    assert.ok(!error.message.includes("\x1b"));
    // DEL and the C1 controls (CSI 0x9b) too, which JSON leaves as they are.
    const c1 = await refusal("\x9b2J\x7fBAD\r\n\r\n");
    assert.equal(
      c1.message,
      'invalid response from proxy http://proxy.test:3128: "\\x9b2J\\x7fBAD"',
    );
  });

  it("rejects a response head over 64 KiB as an invalid response", async () => {
    await using pair = await loopbackPair();
    const tunnel = start(pair);
    await pair.readHead();
    // No end in sight: httpConnect() must give up without the proxy closing.
    pair.server.write(`HTTP/1.1 200 OK\r\nX-Padding: ${"a".repeat(64 * 1024)}`);
    const error = await tunnel.catch((caught: unknown) => caught);
    assert.ok(error instanceof ProxyError, String(error));
    assert.equal(error.message, "invalid response from proxy http://proxy.test:3128");
    assert.ok(error.cause instanceof PayloadTooBig);
    assert.equal(error.status, null);
  });

  it("reports a proxy that closes in the middle of its answer as transient", async () => {
    const error = await refusal("HTTP/1.1 200 Connection established\r\n");
    assert.equal(
      error.message,
      "proxy http://proxy.test:3128 closed the connection before the tunnel was open",
    );
    assert.equal(error.transient, true);
    assert.equal(error.status, null);
  });

  it("rejects with the signal's reason and destroys the socket when aborted", async () => {
    await using pair = await loopbackPair();
    const controller = new AbortController();
    const tunnel = start(pair, undefined, PROXY, "agent/1", controller.signal);
    await pair.readHead();
    const reason = new Error("given up");
    controller.abort(reason);
    await assert.rejects(tunnel, (error) => error === reason);
    assert.equal(pair.client.destroyed, true);

    await using other = await loopbackPair();
    const aborted = AbortSignal.abort(reason);
    await assert.rejects(
      start(other, undefined, PROXY, null, aborted),
      (error) => error === reason,
    );
    assert.equal(other.client.destroyed, true);
  });
});
