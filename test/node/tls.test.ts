import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import * as net from "node:net";
import { performance } from "node:perf_hooks";
import { after, describe, it } from "node:test";
import * as tls from "node:tls";
import { InvalidMessage, InvalidStatus, SecurityError } from "../../src/core/errors.js";
import { parseUri } from "../../src/core/uri.js";
import { connect } from "../../src/node/client.js";
import type { Logger } from "../../src/node/logger.js";
import { isTransientError, reconnect } from "../../src/node/reconnect.js";
import { type ServerConnection, serve } from "../../src/node/server.js";
import {
  certificateError,
  clientTlsOptions,
  definedOptions,
  isSchemeMismatch,
} from "../../src/node/tls.js";
import { hex } from "../helpers/bytes.js";
import { receiveUntilEnd } from "../helpers/raw.js";
import { deferred, echo, unhandledRejections, within } from "../helpers/server.js";
import { GO_ANSWER, GO_BODY, NGINX_ANSWER, NGINX_BODY } from "../helpers/tls-expected.js";

after(() => {
  assert.deepEqual(unhandledRejections(), []);
});

const fixtures = new URL("../../../test/fixtures/tls/", import.meta.url);
const ca = readFileSync(new URL("ca.pem", fixtures));
const key = readFileSync(new URL("localhost-key.pem", fixtures));
const cert = readFileSync(new URL("localhost.pem", fixtures));

/** A wss:// echo server on 127.0.0.1 with the localhost test certificate. */
async function startTlsServer(handler = echo, logger: Logger | null = null) {
  const server = await serve(handler, {
    host: "127.0.0.1",
    port: 0,
    tls: { key, cert },
    logger,
  });
  const port = (server.address() as net.AddressInfo).port;
  return { server, port };
}

describe("TLS", () => {
  it("serves wss:// to a client that trusts the CA", async () => {
    const seen = deferred<ServerConnection>();
    const { server, port } = await startTlsServer(async (ws) => {
      seen.resolve(ws);
      await echo(ws);
    });
    await using _server = server;
    await using ws = await connect(`wss://localhost:${port}/secure`, { tls: { ca } });
    await ws.send("over TLS");
    assert.equal(await ws.recv(), "over TLS");
    const serverSide = await seen.promise;
    assert.equal(serverSide.request.path, "/secure");
    assert.equal(serverSide.request.headers.get("Host"), `localhost:${port}`);
    // The certificate's IP address entries work too.
    await using byAddress = await connect(`wss://127.0.0.1:${port}`, { tls: { ca } });
    await byAddress.send("by address");
    assert.equal(await byAddress.recv(), "by address");
  });

  it("gives the TLS handshake no limit when openTimeout is Infinity", async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on("warning", onWarning);
    try {
      // Node's handshakeTimeout of Infinity would time out after 1 ms.
      await using server = await serve(echo, {
        host: "127.0.0.1",
        port: 0,
        tls: { key, cert },
        openTimeout: Number.POSITIVE_INFINITY,
        logger: null,
      });
      const port = (server.address() as net.AddressInfo).port;
      await using ws = await connect(`wss://localhost:${port}/`, { tls: { ca } });
      await ws.send("no limit");
      assert.equal(await ws.recv(), "no limit");
    } finally {
      process.off("warning", onWarning);
    }
    assert.deepEqual(
      warnings.filter((warning) => warning.name === "TimeoutOverflowWarning"),
      [],
    );
    await assert.rejects(
      serve(echo, { host: "127.0.0.1", port: 0, tls: { key, cert }, openTimeout: 2 ** 31 }),
      { name: "RangeError", message: /^openTimeout must be/ },
    );
  });

  it("runs TLS over a socket given to connect()", async () => {
    const { server, port } = await startTlsServer();
    await using _server = server;
    const socket = net.connect({ host: "127.0.0.1", port });
    await using ws = await connect("wss://localhost/", { socket, tls: { ca } });
    await ws.send("TLS over my socket");
    assert.equal(await ws.recv(), "TLS over my socket");
  });

  it("negotiates http/1.1 by ALPN", async () => {
    const alpn = deferred<string | false | null>();
    const { server, port } = await startTlsServer();
    await using _server = server;
    const socket = tls.connect({
      host: "127.0.0.1",
      port,
      ca,
      ALPNProtocols: ["h2", "http/1.1"],
    });
    socket.once("secureConnect", () => {
      alpn.resolve(socket.alpnProtocol ?? null);
      socket.destroy();
    });
    assert.equal(await alpn.promise, "http/1.1");
  });

  it("refuses an untrusted certificate with a SecurityError naming the reason", async () => {
    const { server, port } = await startTlsServer();
    await using _server = server;
    const error = await connect(`wss://localhost:${port}`).catch((e: unknown) => e);
    assert.ok(error instanceof SecurityError, String(error));
    assert.equal(error.code, "ERR_SECURITY");
    assert.match(error.message, /^TLS certificate of wss:\/\/localhost:\d+\/ isn't trusted: /);
    assert.match(error.message, /\(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)/);
    assert.match(error.message, /tls\.ca/);
    assert.equal((error.cause as NodeJS.ErrnoException).code, "UNABLE_TO_VERIFY_LEAF_SIGNATURE");
  });

  it("keeps the code beside OpenSSL's reason when Node adds advice of its own", () => {
    // Node 24's words; Node 20 has the reason alone.
    const refused = Object.assign(
      new Error(
        "unable to verify the first certificate; if the root CA is installed locally, try running Node.js with --use-system-ca",
      ),
      { code: "UNABLE_TO_VERIFY_LEAF_SIGNATURE" },
    );
    const error = certificateError(refused, parseUri("wss://example.com/chat"));
    assert.ok(error instanceof SecurityError);
    assert.equal(
      error.message,
      "TLS certificate of wss://example.com/chat isn't trusted: unable to verify the first certificate (UNABLE_TO_VERIFY_LEAF_SIGNATURE); pass the certificate of the CA that signed it in the tls.ca option; if the root CA is installed locally, try running Node.js with --use-system-ca",
    );
    assert.equal(error.cause, refused);
    const plain = Object.assign(new Error("certificate has expired"), { code: "CERT_HAS_EXPIRED" });
    assert.equal(
      certificateError(plain, parseUri("wss://example.com/"))?.message,
      "TLS certificate of wss://example.com/ isn't trusted: certificate has expired (CERT_HAS_EXPIRED)",
    );
  });

  it("refuses a certificate for another host name", async () => {
    const { server, port } = await startTlsServer();
    await using _server = server;
    const error = await connect(`wss://127.0.0.1:${port}`, {
      tls: { ca, servername: "other.example" },
    }).catch((e: unknown) => e);
    assert.ok(error instanceof SecurityError, String(error));
    assert.match(error.message, /\(ERR_TLS_CERT_ALTNAME_INVALID\)$/);
  });

  it("connects without verification only when told to", async () => {
    const { server, port } = await startTlsServer();
    await using _server = server;
    await using ws = await connect(`wss://localhost:${port}`, {
      tls: { rejectUnauthorized: false },
    });
    await ws.send("unverified");
    assert.equal(await ws.recv(), "unverified");
  });

  it("takes tls options given as undefined for the defaults: SNI, ALPN, the URI's host", async () => {
    // Spread over the defaults, an explicit undefined replaced them: Node
    // then sent no server name and no ALPN, and connected to localhost.
    const seen = deferred<[string | false | null, string | false | null]>();
    const raw = tls.createServer({ key, cert, ALPNProtocols: ["http/1.1"] }, (socket) => {
      seen.resolve([socket.servername, socket.alpnProtocol]);
      socket.destroy();
    });
    raw.listen(0, "127.0.0.1");
    await once(raw, "listening");
    try {
      const port = (raw.address() as net.AddressInfo).port;
      await connect(`wss://localhost:${port}`, {
        tls: { ca, servername: undefined, ALPNProtocols: undefined, host: undefined },
      }).catch(() => {});
      assert.deepEqual(await within(seen.promise, 5_000, "TLS handshake"), [
        "localhost",
        "http/1.1",
      ]);
    } finally {
      raw.close();
    }
  });

  it("keeps the defaults of the TLS options given as undefined, and the caller's others", () => {
    const options = clientTlsOptions(
      parseUri("wss://example.com:8443/"),
      { port: 8443 },
      {
        host: undefined,
        servername: undefined,
        ALPNProtocols: undefined,
        rejectUnauthorized: false,
      },
    );
    assert.equal(options.host, "example.com");
    assert.equal(options.servername, "example.com");
    assert.deepEqual(options.ALPNProtocols, ["http/1.1"]);
    assert.equal(options.rejectUnauthorized, false);
    assert.equal(options.port, 8443);
    // RFC 6066 §3: the server name goes without the trailing dot of a fully qualified name.
    const dotted = clientTlsOptions(parseUri("wss://example.com./"), {}, undefined);
    assert.equal(dotted.servername, "example.com");
    assert.equal(dotted.host, "example.com.");
    assert.deepEqual(definedOptions({ a: 1, b: undefined, c: null }), { a: 1, c: null });
    assert.deepEqual(definedOptions(undefined), {});
  });

  it("says the TLS handshake did not complete when the server hangs up during it", async () => {
    // A server that reads the ClientHello and closes, as a load balancer without backends does.
    const hangUp = net.createServer((socket) => {
      socket.on("error", () => {});
      socket.once("data", () => socket.end());
    });
    hangUp.listen(0, "127.0.0.1");
    await once(hangUp, "listening");
    const port = (hangUp.address() as net.AddressInfo).port;
    const error = await connect(`wss://localhost:${port}`, { tls: { ca } }).catch(
      (e: unknown) => e,
    );
    hangUp.close();
    assert.ok(error instanceof Error);
    assert.match(error.message, /before secure TLS connection was established/);
    assert.equal((error as NodeJS.ErrnoException).code, "ECONNRESET");
    // As with a connection refused, trying again later may succeed.
    assert.equal(isTransientError(error), true);
  });

  for (const maxVersion of ["TLSv1.3", "TLSv1.2"] as const) {
    it(`reports the alert of a ${maxVersion} server that wants a client certificate`, async () => {
      // With TLS 1.3 the alert comes after the client's handshake is done:
      // 'error', then 'end', which the HTTP response parser saw as a
      // connection closed while reading the response.
      const server = await serve(echo, {
        host: "127.0.0.1",
        port: 0,
        tls: { key, cert, ca, requestCert: true, rejectUnauthorized: true, maxVersion },
        logger: null,
      });
      await using _server = server;
      const port = (server.address() as net.AddressInfo).port;
      const error = await connect(`wss://localhost:${port}/`, { tls: { ca } }).catch(
        (e: unknown) => e,
      );
      assert.ok(error instanceof Error);
      assert.match(
        `${(error as NodeJS.ErrnoException).code} ${error.message}`,
        maxVersion === "TLSv1.3" ? /certificate required/ : /alert handshake failure/,
      );
    });
  }

  it("keeps serving after a client that doesn't speak TLS", async () => {
    const lines: string[] = [];
    const record = (message: string) => {
      lines.push(message);
    };
    const logger = { error: record, warn: record, info: record, debug: record };
    const { server, port } = await startTlsServer(echo, logger);
    await using _server = server;
    const plain = await connect(`ws://127.0.0.1:${port}`).catch((e: unknown) => e);
    assert.ok(plain instanceof Error);
    await using ws = await connect(`wss://localhost:${port}`, { tls: { ca } });
    await ws.send("still here");
    assert.equal(await ws.recv(), "still here");
    assert.ok(lines.includes("TLS handshake failed"), String(lines));
  });

  it("answers a client that half-closed after its request", async () => {
    const server = await serve(echo, {
      host: "127.0.0.1",
      port: 0,
      tls: { key, cert },
      logger: null,
      processRequest: async () => {
        await new Promise((resolve) => setImmediate(resolve));
        return { status: 403, body: "no\n" };
      },
    });
    await using _server = server;
    const port = (server.address() as net.AddressInfo).port;
    const options = { host: "127.0.0.1", port, ca, allowHalfOpen: true };
    const socket = tls.connect(options);
    const chunks: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    await once(socket, "secureConnect");
    socket.end("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
    await once(socket, "close");
    assert.match(
      Buffer.concat(chunks).toString(),
      /^HTTP\/1\.1 403 Forbidden\r\n[\s\S]*\r\n\r\nno\n$/,
    );
  });

  it("drops a client that stalls its TLS handshake at openTimeout", {
    timeout: 20_000,
  }, async () => {
    const lines: string[] = [];
    const record = (message: string, error?: unknown) => {
      lines.push(`${message} (${(error as NodeJS.ErrnoException | undefined)?.code})`);
    };
    const logger = { error: record, warn: record, info: record, debug: record };
    const server = await serve(echo, {
      host: "127.0.0.1",
      port: 0,
      tls: { key, cert },
      logger,
      openTimeout: 200,
    });
    const port = (server.address() as net.AddressInfo).port;
    // One client says nothing; the other sends the first bytes of a ClientHello.
    const clients = await Promise.all(
      [null, Buffer.from("160301020001", "hex")].map(async (first) => {
        const socket = net.connect(port, "127.0.0.1");
        socket.on("error", () => {});
        const closed = new Promise((resolve) => socket.once("close", resolve));
        await once(socket, "connect");
        if (first !== null) socket.write(first);
        return closed;
      }),
    );
    // Node only reports ERR_TLS_HANDSHAKE_TIMEOUT; the server must close the sockets itself.
    await Promise.all(clients);
    assert.deepEqual(lines, [
      "TLS handshake failed (ERR_TLS_HANDSHAKE_TIMEOUT)",
      "TLS handshake failed (ERR_TLS_HANDSHAKE_TIMEOUT)",
    ]);
    await server.close();
  });

  it("bounds the TLS handshake by openTimeout when tls.handshakeTimeout is given as undefined", {
    timeout: 20_000,
  }, async () => {
    // Spread over openTimeout's, an explicit undefined left Node's 120 s.
    await using server = await serve(echo, {
      host: "127.0.0.1",
      port: 0,
      tls: { key, cert, handshakeTimeout: undefined },
      logger: null,
      openTimeout: 200,
    });
    const port = (server.address() as net.AddressInfo).port;
    const socket = net.connect(port, "127.0.0.1");
    socket.on("error", () => {});
    const closed = once(socket, "close");
    await once(socket, "connect");
    await within(closed, 5_000, "the stalled TLS handshake's end");
  });

  it("drops a client whose TLS handshake began just before close()", {
    timeout: 20_000,
  }, async () => {
    const { server, port } = await startTlsServer();
    // The server's own tls.Server: close() as soon as the TCP connection arrives.
    const { netServer } = server as unknown as { netServer: tls.Server };
    let closing: Promise<void> | null = null;
    netServer.once("connection", () => {
      closing = server.close();
    });
    const socket = tls.connect({ host: "127.0.0.1", port, ca, servername: "localhost" });
    socket.on("error", () => {});
    // The server drops the socket, whose handshake it may have answered or
    // not: it must not hang on, with nobody to take it.
    await new Promise((resolve) => socket.once("close", resolve));
    assert.notEqual(closing, null);
    await closing;
  });

  it("close() drops clients still in their TLS handshake at once", {
    // Less than openTimeout: a close() that waits for the handshakes to time out fails here.
    timeout: 15_000,
  }, async () => {
    const server = await serve(echo, {
      host: "127.0.0.1",
      port: 0,
      tls: { key, cert },
      logger: null,
      openTimeout: 30_000,
    });
    const port = (server.address() as net.AddressInfo).port;
    // The server's own tls.Server, whose listeners come after the WebSocket server's.
    const { netServer } = server as unknown as { netServer: tls.Server };
    // One client says nothing; the other sends the first bytes of a ClientHello.
    const clients = [];
    for (const first of [null, Buffer.from("160301020001", "hex")]) {
      const accepted = once(netServer, "connection");
      const socket = net.connect({ host: "127.0.0.1", port });
      const received = receiveUntilEnd(socket);
      const closed = new Promise((resolve) => socket.once("close", resolve));
      if (first !== null) socket.write(first);
      await accepted;
      clients.push(closed.then(() => received));
    }
    const started = performance.now();
    await server.close();
    // Dropped, without a TLS alert or anything else.
    assert.deepEqual(await Promise.all(clients), [Buffer.alloc(0), Buffer.alloc(0)]);
    assert.ok(performance.now() - started < 5_000);
  });

  it("forgets the TCP socket of a connection once its TLS handshake is done", async () => {
    const { server, port } = await startTlsServer();
    await using _server = server;
    const internals = server as unknown as { netServer: tls.Server; tlsHandshakes: Set<unknown> };
    // After the WebSocket server's listener, which tracks the handshake.
    const accepted = deferred<{ socket: net.Socket; closeListeners: number }>();
    internals.netServer.once("connection", (socket: net.Socket) => {
      accepted.resolve({ socket, closeListeners: socket.listenerCount("close") });
    });
    await using ws = await connect(`wss://localhost:${port}`, { tls: { ca } });
    const { socket, closeListeners } = await accepted.promise;
    // Nothing kept for an open connection, which close() then closes with 1001.
    assert.equal(internals.tlsHandshakes.size, 0);
    assert.equal(socket.listenerCount("close"), closeListeners - 1);
    await ws.send("still open");
    assert.equal(await ws.recv(), "still open");
  });

  it("close() drops a TLS client that sent no request, and answers half a request with 503", {
    timeout: 15_000,
  }, async () => {
    const server = await serve(echo, {
      host: "127.0.0.1",
      port: 0,
      tls: { key, cert },
      logger: null,
      openTimeout: 30_000,
      closeTimeout: 30_000,
    });
    const port = (server.address() as net.AddressInfo).port;
    const { netServer } = server as unknown as { netServer: tls.Server };
    /** A client whose TLS handshake is complete, and its socket on the server. */
    const connectClient = async () => {
      const secured = once(netServer, "secureConnection") as Promise<[tls.TLSSocket]>;
      // Half-open: it doesn't close its side when the server closes its own.
      // tls.connect() takes allowHalfOpen, though its type doesn't say so.
      const options = { host: "127.0.0.1", port, ca, allowHalfOpen: true };
      const socket = tls.connect(options);
      const ended = receiveUntilEnd(socket);
      const [serverSide] = await secured;
      return { socket, serverSide, ended };
    };
    const silent = await connectClient();
    const half = await connectClient();
    const requestRead = once(half.serverSide, "data");
    half.socket.write("GET / HTTP/1.1\r\nHost: localhost\r\n");
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

  it("close() drops a TCP connection accepted once it began", { timeout: 15_000 }, async () => {
    const server = await serve(echo, {
      host: "127.0.0.1",
      port: 0,
      tls: { key, cert },
      logger: null,
      openTimeout: 30_000,
    });
    const port = (server.address() as net.AddressInfo).port;
    const { netServer } = server as unknown as { netServer: tls.Server };
    // close() before any listener of the server sees the socket: it arrives
    // while the server is closing, and must not be left in its TLS handshake.
    let closing: Promise<void> | null = null;
    netServer.prependOnceListener("connection", () => {
      closing = server.close();
    });
    const socket = net.connect({ host: "127.0.0.1", port });
    const received = receiveUntilEnd(socket);
    await new Promise((resolve) => socket.once("close", resolve));
    assert.equal((await received).length, 0);
    assert.notEqual(closing, null);
    await closing;
  });

  it("closes the TLS server and its connections", async () => {
    const { server, port } = await startTlsServer();
    const ws = await connect(`wss://localhost:${port}`, { tls: { ca } });
    await server.close();
    await ws.closed;
    assert.equal(ws.closeCode, 1001);
    await assert.rejects(
      connect(`wss://localhost:${port}`, { tls: { ca } }),
      (error: NodeJS.ErrnoException) => error.code === "ECONNREFUSED",
    );
  });
});

describe("a scheme that doesn't match the server", () => {
  /**
   * A plain TCP server on 127.0.0.1 that answers the first bytes it reads with
   * `answer` and closes; `accepted` counts its connections.
   */
  async function answering(answer: Uint8Array) {
    let accepted = 0;
    const server = net.createServer((socket) => {
      accepted++;
      socket.on("error", () => {});
      socket.once("data", () => socket.end(answer));
      // Reads the rest away: a socket ends only once what it received was read.
      socket.resume();
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    return {
      port: (server.address() as net.AddressInfo).port,
      get accepted() {
        return accepted;
      },
      async [Symbol.asyncDispose]() {
        await new Promise((resolve) => server.close(resolve));
      },
    };
  }

  /** `reason`: a pattern for OpenSSL's words, which differ between its versions. */
  function assertNotTls(error: unknown, reason: string): void {
    assert.ok(error instanceof InvalidMessage, String(error));
    assert.equal(error.code, "ERR_INVALID_MESSAGE");
    assert.match(
      error.message,
      new RegExp(
        `^TLS handshake failed: the server did not answer with TLS \\(${reason}\\); is it a plain ws:// server\\?$`,
      ),
    );
    // OpenSSL's error, as Node reported it.
    assert.ok(error.cause instanceof Error);
    assert.match(error.cause.message, new RegExp(reason));
  }

  it("says that a wss:// client's server did not answer with TLS", async () => {
    const logged: string[] = [];
    let onLogged = () => {};
    const loggedOnce = new Promise<void>((resolve) => {
      onLogged = resolve;
    });
    const ignore = () => {};
    const logger = {
      error: ignore,
      warn: ignore,
      debug: ignore,
      info: (line: string) => {
        logged.push(line);
        onLogged();
      },
    };
    await using plain = await serve(echo, { host: "127.0.0.1", port: 0, logger });
    const port = (plain.address() as net.AddressInfo).port;
    const error = await connect(`wss://127.0.0.1:${port}`, { tls: { ca } }).catch(
      (e: unknown) => e,
    );
    assertNotTls(error, "wrong version number");
    // The server tells its operator what came: a ClientHello, refused at its first byte.
    await within(loggedOnce, 5_000, "the server's log line");
    assert.match(
      logged.join("\n"),
      /^connection rejected \(400\): received a TLS handshake on a plain connection: is the client using wss:\/\/ or https:\/\/\? \(127\.0\.0\.1:\d+\)$/m,
    );
    // The same server over ws:// is fine.
    await using ws = await connect(`ws://127.0.0.1:${port}`);
    await ws.send("plain");
    assert.equal(await ws.recv(), "plain");
  });

  it("says so of a plain HTTP server and of a ws server", async () => {
    const http = await import("node:http");
    const web = http.createServer((_request, response) => response.end("hello"));
    web.listen(0, "127.0.0.1");
    await once(web, "listening");
    try {
      const port = (web.address() as net.AddressInfo).port;
      const error = await connect(`wss://127.0.0.1:${port}`, { tls: { ca } }).catch(
        (e: unknown) => e,
      );
      assertNotTls(error, "wrong version number");
    } finally {
      web.closeAllConnections();
      await new Promise((resolve) => web.close(resolve));
    }
    const { WebSocketServer } = await import("ws");
    const peer = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    await once(peer, "listening");
    try {
      const port = (peer.address() as net.AddressInfo).port;
      const error = await connect(`wss://127.0.0.1:${port}`, { tls: { ca } }).catch(
        (e: unknown) => e,
      );
      assertNotTls(error, "wrong version number");
    } finally {
      await new Promise((resolve) => peer.close(resolve));
    }
  });

  it("says so when the answer has a record length no TLS record has", async () => {
    // A TLS version where a record header has one, then 18,687 bytes: more
    // than RFC 8446 §5.2 allows, as a binary protocol's answer may read.
    await using odd = await answering(hex("17 03 03 48 ff"));
    const error = await connect(`wss://127.0.0.1:${odd.port}`, { tls: { ca } }).catch(
      (e: unknown) => e,
    );
    // OpenSSL 3.0 (Node 20) says "packet length too long"; 3.2's record layer
    // and later (Node 22, 24) "data length too long".
    assertNotTls(error, "(?:packet|data) length too long");
  });

  it("says that a ws:// client's server answered with TLS", async () => {
    // A fatal unexpected_message alert, and the start of a ServerHello (RFC 8446 §5.1).
    for (const record of [hex("15 03 03 00 02 02 0a"), hex("16 03 03 00 7a 02 00 00 76 03 03")]) {
      await using tlsPeer = await answering(record);
      const error = await connect(`ws://127.0.0.1:${tlsPeer.port}`).catch((e: unknown) => e);
      assert.ok(error instanceof InvalidMessage, String(error));
      assert.equal(error.code, "ERR_INVALID_MESSAGE");
      assert.equal(
        error.message,
        "did not receive a valid HTTP response: the server answered with TLS; use wss://",
      );
    }
  });

  for (const [name, answer, body] of [
    ["nginx", NGINX_ANSWER, NGINX_BODY],
    ["Go's net/http", GO_ANSWER, GO_BODY],
  ] as const) {
    it(`says that a ws:// client's server expects TLS when it answers as ${name} does`, async () => {
      await using tlsPort = await answering(Buffer.from(answer, "latin1"));
      const uri = `ws://127.0.0.1:${tlsPort.port}/`;
      const error = await connect(uri).catch((e: unknown) => e);
      // What catches an InvalidStatus today still does.
      assert.ok(error instanceof InvalidStatus, String(error));
      assert.equal(error.code, "ERR_INVALID_STATUS");
      assert.equal(
        error.message,
        "server rejected WebSocket connection: HTTP 400: the server expects TLS; use wss:// (or TLS from a proxy in front of it)",
      );
      assert.equal(error.response.status, 400);
      assert.equal(error.response.text, body);
      assert.equal(isSchemeMismatch(error), true);
      assert.equal(isTransientError(error), false);
      // reconnect() gives up after the first attempt. A loop that retried would
      // outlive a failed assertion: stopped in `finally`.
      const stop = new AbortController();
      try {
        const given = await within(
          (async () => {
            for await (const _ of reconnect(uri, {
              initialDelay: 5,
              maxDelay: 20,
              logger: null,
              signal: stop.signal,
            })) {
              assert.fail("no connection opens");
            }
          })().catch((e: unknown) => e),
          5_000,
          `reconnect(${uri})`,
        );
        assert.ok(given instanceof InvalidStatus, String(given));
        assert.equal(given.message, error.message);
        assert.equal(tlsPort.accepted, 2);
      } finally {
        stop.abort();
      }
    });
  }

  it("hints at wss:// when a ws:// client's TLS server closes without a word", async () => {
    // OpenSSL sends no alert when the first record is an HTTP request.
    const { server, port } = await startTlsServer(echo, null);
    await using _server = server;
    const node = tls.createServer({ key, cert });
    node.on("tlsClientError", () => {});
    node.listen(0, "127.0.0.1");
    await once(node, "listening");
    try {
      const nodePort = (node.address() as net.AddressInfo).port;
      for (const uri of [`ws://127.0.0.1:${port}`, `ws://127.0.0.1:${nodePort}`]) {
        const error = await connect(uri).catch((e: unknown) => e);
        assert.ok(error instanceof InvalidMessage, String(error));
        assert.equal(error.code, "ERR_INVALID_MESSAGE");
        assert.equal(
          error.message,
          "did not receive a valid HTTP response: the server closed the connection without answering; if it expects TLS, use wss://",
        );
        assert.ok(error.cause instanceof InvalidMessage);
        assert.equal(error.cause.message, "connection closed while reading HTTP response");
      }
    } finally {
      await new Promise((resolve) => node.close(resolve));
    }
  });
});
