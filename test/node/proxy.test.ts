import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import * as net from "node:net";
import { after, describe, it } from "node:test";
import * as tls from "node:tls";
import {
  InvalidHeaderFormat,
  InvalidUri,
  ProxyError,
  SecurityError,
  TimeoutError,
} from "../../src/core/errors.js";
import { parseUri } from "../../src/core/uri.js";
import { connect } from "../../src/node/client.js";
import {
  bypassesProxy,
  checkProxySetting,
  parseProxy,
  resolveProxy,
} from "../../src/node/proxy.js";
import { isTransientError, reconnect } from "../../src/node/reconnect.js";
import { type Server, serve } from "../../src/node/server.js";
import { rawServer } from "../helpers/raw.js";
import { deferred, echo, startServer, unhandledRejections, within } from "../helpers/server.js";

after(() => {
  assert.deepEqual(unhandledRejections(), []);
});

const fixtures = new URL("../../../test/fixtures/tls/", import.meta.url);
const ca = readFileSync(new URL("ca.pem", fixtures));
const key = readFileSync(new URL("localhost-key.pem", fixtures));
const cert = readFileSync(new URL("localhost.pem", fixtures));

/** Reads exact byte counts from a socket, for the test proxies. */
class ByteReader {
  private buffer = Buffer.alloc(0);
  private wake: (() => void) | null = null;
  private ended = false;

  constructor(private readonly socket: net.Socket) {
    socket.on("data", this.onData);
    socket.on("close", () => {
      this.ended = true;
      this.wake?.();
    });
  }

  async read(n: number): Promise<Buffer> {
    while (this.buffer.length < n) {
      if (this.ended) throw new Error("client went away");
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
    const bytes = this.buffer.subarray(0, n);
    this.buffer = this.buffer.subarray(n);
    return bytes;
  }

  async readHead(): Promise<string> {
    for (;;) {
      const end = this.buffer.indexOf("\r\n\r\n");
      if (end !== -1) return (await this.read(end + 4)).toString("latin1");
      await this.read(this.buffer.length + 1).then((bytes) => {
        this.buffer = Buffer.concat([bytes, this.buffer]);
      });
    }
  }

  /** Stops reading; returns what was received past the reads. */
  detach(): Buffer {
    this.socket.off("data", this.onData);
    return this.buffer;
  }

  private readonly onData = (chunk: Buffer): void => {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    this.wake?.();
  };
}

/**
 * Connects `client` to host:port and relays bytes both ways; when that
 * connection fails, ends `client` with `refused`, if given, or drops it.
 */
function relay(
  client: net.Socket,
  reader: ByteReader,
  host: string,
  port: number,
  ready: Buffer,
  refused?: Buffer,
) {
  let opened = false;
  const upstream = net.connect({ host, port }, () => {
    opened = true;
    client.write(ready);
    upstream.write(reader.detach());
    client.pipe(upstream);
    upstream.pipe(client);
  });
  upstream.on("error", () => {
    if (!opened && refused !== undefined) client.end(refused);
    else client.destroy();
  });
  client.on("error", () => upstream.destroy());
  client.on("close", () => upstream.destroy());
  upstream.on("close", () => client.destroy());
}

interface TestProxy {
  port: number;
  /** What each client asked: the CONNECT head, or the SOCKS5 destination. */
  requests: string[];
  close(): Promise<void>;
}

async function listen(
  server: net.Server,
  sockets: Set<net.Socket>,
  requests: string[],
): Promise<TestProxy> {
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    port: (server.address() as net.AddressInfo).port,
    requests,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A minimal HTTP CONNECT proxy on 127.0.0.1, optionally over TLS or requiring credentials. */
async function startConnectProxy(
  options: {
    credentials?: string;
    status?: number;
    secure?: boolean;
    silent?: boolean;
    /** Bytes sent right after the 200 response, as a broken proxy might. */
    early?: string;
    /** Interim 1xx responses sent before the final one. */
    interim?: string;
  } = {},
): Promise<TestProxy> {
  const requests: string[] = [];
  const sockets = new Set<net.Socket>();
  const onClient = async (client: net.Socket) => {
    sockets.add(client);
    client.on("close", () => sockets.delete(client));
    client.on("error", () => {});
    const reader = new ByteReader(client);
    const head = await reader.readHead().catch(() => null);
    if (head === null || options.silent) return;
    requests.push(head);
    const authority = head.split(" ")[1]!;
    const expected = `Basic ${Buffer.from(options.credentials ?? "").toString("base64")}`;
    const given = /\r\nProxy-Authorization: ([^\r]*)\r\n/i.exec(head)?.[1];
    if (options.credentials !== undefined && given !== expected) {
      client.end(
        'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="proxy"\r\nContent-Length: 0\r\n\r\n',
      );
      return;
    }
    if (options.status !== undefined) {
      client.end(
        `${options.interim ?? ""}HTTP/1.1 ${options.status} No\r\nContent-Length: 3\r\n\r\nno\n`,
      );
      return;
    }
    const colon = authority.lastIndexOf(":");
    const host = authority.slice(0, colon).replace(/^\[|\]$/g, "");
    const port = Number(authority.slice(colon + 1));
    const ready = `${options.interim ?? ""}HTTP/1.1 200 Connection established\r\n\r\n${options.early ?? ""}`;
    relay(client, reader, host, port, Buffer.from(ready));
  };
  const server = options.secure
    ? tls.createServer({ key, cert }, (socket) => void onClient(socket))
    : net.createServer((socket) => void onClient(socket));
  return listen(server, sockets, requests);
}

/** A minimal SOCKS5 proxy on 127.0.0.1 (RFC 1928), optionally requiring credentials (RFC 1929). */
async function startSocksProxy(options: { username?: string; password?: string } = {}) {
  const requests: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer(async (client) => {
    sockets.add(client);
    client.on("close", () => sockets.delete(client));
    client.on("error", () => {});
    const reader = new ByteReader(client);
    try {
      const [, count] = await reader.read(2);
      const methods = [...(await reader.read(count!))];
      const method = options.username === undefined ? 0x00 : 0x02;
      if (!methods.includes(method)) {
        client.end(Buffer.from([5, 0xff]));
        return;
      }
      client.write(Buffer.from([5, method]));
      if (method === 0x02) {
        const [, userLength] = await reader.read(2);
        const username = (await reader.read(userLength!)).toString();
        const [passwordLength] = await reader.read(1);
        const password = (await reader.read(passwordLength!)).toString();
        const ok = username === options.username && password === options.password;
        client.write(Buffer.from([1, ok ? 0 : 1]));
        if (!ok) {
          client.end();
          return;
        }
      }
      const [, , , type] = await reader.read(4);
      let host: string;
      if (type === 1) host = [...(await reader.read(4))].join(".");
      else if (type === 3) host = (await reader.read((await reader.read(1))[0]!)).toString();
      else host = (await reader.read(16)).toString("hex").replace(/(.{4})(?!$)/g, "$1:");
      const portBytes = await reader.read(2);
      const port = (portBytes[0]! << 8) | portBytes[1]!;
      requests.push(`${type} ${host} ${port}`);
      // reply-N.invalid gets REP N; unreachable.invalid gets 4, host unreachable.
      const reply = host === "unreachable.invalid" ? 4 : /^reply-(\d)\.invalid$/.exec(host)?.[1];
      if (reply !== undefined) {
        client.end(Buffer.from([5, Number(reply), 0, 1, 0, 0, 0, 0, 0, 0]));
        return;
      }
      // RFC 1928 §6: X'05' connection refused, as a SOCKS server reports a server that is down.
      const refused = Buffer.from([5, 5, 0, 1, 0, 0, 0, 0, 0, 0]);
      relay(client, reader, host, port, Buffer.from([5, 0, 0, 1, 127, 0, 0, 1, 0, 0]), refused);
    } catch {
      client.destroy();
    }
  });
  return listen(server, sockets, requests);
}

/** `null` when a server can listen on ::1, else why it can't (e.g. `EADDRNOTAVAIL`). */
async function ipv6Loopback(): Promise<string | null> {
  const probe = net.createServer();
  try {
    probe.listen(0, "::1");
    await once(probe, "listening");
    return null;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? String(error);
  } finally {
    probe.close();
  }
}

async function startTlsServer() {
  const server = await serve(echo, {
    host: "127.0.0.1",
    port: 0,
    tls: { key, cert },
    logger: null,
  });
  return { server, port: (server.address() as net.AddressInfo).port };
}

describe("HTTP CONNECT proxies", () => {
  it("tunnels ws:// through an HTTP proxy", async () => {
    const { server, uri, port } = await startServer(echo);
    await using _server = server;
    const proxy = await startConnectProxy();
    try {
      await using ws = await connect(uri, { proxy: `http://127.0.0.1:${proxy.port}` });
      await ws.send("through the proxy");
      assert.equal(await ws.recv(), "through the proxy");
      const head = proxy.requests[0]!;
      assert.match(head, new RegExp(`^CONNECT 127\\.0\\.0\\.1:${port} HTTP/1\\.1\\r\\n`));
      assert.match(head, new RegExp(`\\r\\nHost: 127\\.0\\.0\\.1:${port}\\r\\n`));
      assert.match(head, /\r\nUser-Agent: websockets-ts\//);
      assert.doesNotMatch(head, /Proxy-Authorization/);
    } finally {
      await proxy.close();
    }
  });

  it("tunnels wss:// and checks the server's certificate through the tunnel", async () => {
    const { server, port } = await startTlsServer();
    await using _server = server;
    const proxy = await startConnectProxy();
    try {
      const proxyUri = `http://127.0.0.1:${proxy.port}`;
      await using ws = await connect(`wss://localhost:${port}/`, { proxy: proxyUri, tls: { ca } });
      await ws.send("TLS in a tunnel");
      assert.equal(await ws.recv(), "TLS in a tunnel");
      assert.match(proxy.requests[0]!, new RegExp(`^CONNECT localhost:${port} `));
      const untrusted = await connect(`wss://localhost:${port}/`, { proxy: proxyUri }).catch(
        (e: unknown) => e,
      );
      assert.match(String(untrusted), /UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
    } finally {
      await proxy.close();
    }
  });

  it("refuses a tunnel where the proxy spoke before TLS", async () => {
    const { server, port } = await startTlsServer();
    await using _server = server;
    const proxy = await startConnectProxy({ early: "surprise" });
    try {
      const error = await connect(`wss://localhost:${port}/`, {
        proxy: `http://127.0.0.1:${proxy.port}`,
        tls: { ca },
      }).catch((e: unknown) => e);
      assert.ok(error instanceof ProxyError);
      assert.match(error.message, /sent data before the TLS handshake$/);
    } finally {
      await proxy.close();
    }
  });

  it("sends Basic proxy credentials from the proxy URL", async () => {
    const { server, uri } = await startServer(echo);
    await using _server = server;
    const proxy = await startConnectProxy({ credentials: "user:p@ss" });
    try {
      await using ws = await connect(uri, { proxy: `http://user:p%40ss@127.0.0.1:${proxy.port}` });
      await ws.send("authenticated");
      assert.equal(await ws.recv(), "authenticated");
      const refused = await connect(uri, { proxy: `http://127.0.0.1:${proxy.port}` }).catch(
        (e: unknown) => e,
      );
      assert.ok(refused instanceof ProxyError);
      assert.equal(refused.status, 407);
      assert.equal(refused.code, "ERR_PROXY");
      assert.equal(
        refused.message,
        `proxy http://127.0.0.1:${proxy.port} refused the tunnel: HTTP 407`,
      );
      assert.equal(isTransientError(refused), false);
    } finally {
      await proxy.close();
    }
  });

  it("sends a password without a username, as a token", async () => {
    const { server, uri } = await startServer(echo);
    await using _server = server;
    const proxy = await startConnectProxy({ credentials: ":tok3n" });
    try {
      await using ws = await connect(uri, { proxy: `http://:tok3n@127.0.0.1:${proxy.port}` });
      await ws.send("token only");
      assert.equal(await ws.recv(), "token only");
      assert.match(proxy.requests[0]!, /\r\nProxy-Authorization: Basic OnRvazNu\r\n/);
    } finally {
      await proxy.close();
    }
  });

  it("reports a refusal with its status", async () => {
    const proxy = await startConnectProxy({ status: 502 });
    try {
      const error = await connect("ws://example.invalid/", {
        proxy: `127.0.0.1:${proxy.port}`,
      }).catch((e: unknown) => e);
      assert.ok(error instanceof ProxyError);
      assert.equal(error.status, 502);
      assert.equal(isTransientError(error), true);
      assert.match(proxy.requests[0]!, /^CONNECT example\.invalid:80 /);
    } finally {
      await proxy.close();
    }
  });

  it("names the proxy that hung up during CONNECT, and retries it", async () => {
    await using proxy = await rawServer(async (peer) => {
      await peer.readHead();
      peer.socket.end();
    });
    const error = await connect("ws://example.invalid/", {
      proxy: `http://user:secret@127.0.0.1:${proxy.port}`,
    }).catch((e: unknown) => e);
    assert.ok(error instanceof ProxyError, String(error));
    assert.equal(
      error.message,
      `proxy http://127.0.0.1:${proxy.port} closed the connection before the tunnel was open`,
    );
    assert.equal(error.status, null);
    assert.equal(error.transient, true);
    assert.equal(isTransientError(error), true);
  });

  it("skips interim 1xx responses before the proxy's answer", async () => {
    const { server, uri } = await startServer(echo);
    await using _server = server;
    // RFC 9110 §15.2: a client parses 1xx responses before the final one.
    const interim = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n";
    const proxy = await startConnectProxy({ interim });
    const refusing = await startConnectProxy({ interim, status: 407 });
    try {
      await using ws = await connect(uri, { proxy: `http://127.0.0.1:${proxy.port}` });
      await ws.send("after 100 and 103");
      assert.equal(await ws.recv(), "after 100 and 103");
      const error = await connect(uri, { proxy: `http://127.0.0.1:${refusing.port}` }).catch(
        (e: unknown) => e,
      );
      assert.ok(error instanceof ProxyError);
      assert.equal(error.status, 407);
    } finally {
      await proxy.close();
      await refusing.close();
    }
  });

  it("connects to an https:// proxy over TLS", async () => {
    const { server, uri } = await startServer(echo);
    await using _server = server;
    const proxy = await startConnectProxy({ secure: true });
    try {
      await using ws = await connect(uri, {
        proxy: `https://localhost:${proxy.port}`,
        proxyTls: { ca },
      });
      await ws.send("to the proxy over TLS");
      assert.equal(await ws.recv(), "to the proxy over TLS");
      // Without the CA, the proxy's certificate is the one refused: the error
      // names the proxy (not the ws:// server, which has none) and proxyTls.
      const error = await connect(uri, {
        proxy: `https://user:secret@localhost:${proxy.port}`,
        tls: { ca },
      }).catch((e: unknown) => e);
      assert.ok(error instanceof SecurityError, String(error));
      assert.match(
        error.message,
        new RegExp(
          `^TLS certificate of proxy https://localhost:${proxy.port} isn't trusted: [^;]* \\(\\w+\\); pass the certificate of the CA that signed it in the proxyTls\\.ca option(; .*)?$`,
        ),
      );
      assert.ok(!error.message.includes("secret"));
      // proxyTls's host, port and servername given as undefined are the proxy's.
      await using defaults = await connect(uri, {
        proxy: `https://localhost:${proxy.port}`,
        proxyTls: { ca, host: undefined, port: undefined, servername: undefined },
      });
      await defaults.send("proxyTls with undefined");
      assert.equal(await defaults.recv(), "proxyTls with undefined");
    } finally {
      await proxy.close();
    }
  });

  it("times out on a proxy that never answers, and fails on one that is down", async () => {
    const proxy = await startConnectProxy({ silent: true });
    try {
      const error = await connect("ws://127.0.0.1:1/", {
        proxy: `http://127.0.0.1:${proxy.port}`,
        openTimeout: 100,
      }).catch((e: unknown) => e);
      assert.ok(error instanceof TimeoutError, String(error));
      const aborted = await connect("ws://127.0.0.1:1/", {
        proxy: `http://127.0.0.1:${proxy.port}`,
        signal: AbortSignal.timeout(50),
      }).catch((e: unknown) => e);
      assert.equal((aborted as Error).name, "TimeoutError");
    } finally {
      await proxy.close();
    }
    await assert.rejects(
      connect("ws://127.0.0.1:1/", { proxy: `http://127.0.0.1:${proxy.port}` }),
      (error: NodeJS.ErrnoException) => error.code === "ECONNREFUSED",
    );
  });
});

describe("SOCKS5 proxies", () => {
  it("tunnels ws:// with the host name resolved by the proxy (socks5h)", async () => {
    const { server, port } = await startServer(echo);
    await using _server = server;
    const proxy = await startSocksProxy();
    try {
      await using ws = await connect(`ws://localhost:${port}/`, {
        proxy: `socks5h://127.0.0.1:${proxy.port}`,
      });
      await ws.send("socks5h");
      assert.equal(await ws.recv(), "socks5h");
      assert.deepEqual(proxy.requests, [`3 localhost ${port}`]);
    } finally {
      await proxy.close();
    }
  });

  it("resolves the host name itself with socks5", async () => {
    const { server, port } = await startServer(echo);
    await using _server = server;
    const proxy = await startSocksProxy();
    try {
      // localhost may resolve to ::1 first, where the server doesn't listen.
      await using ws = await connect(`ws://127.0.0.1:${port}/`, {
        proxy: `socks5://127.0.0.1:${proxy.port}`,
      });
      await ws.send("socks5");
      assert.equal(await ws.recv(), "socks5");
      assert.deepEqual(proxy.requests, [`1 127.0.0.1 ${port}`]);
    } finally {
      await proxy.close();
    }
  });

  it("resolves the host name with tcp.lookup with socks5, as a direct connection does", async () => {
    const { server, port } = await startServer(echo);
    await using _server = server;
    const proxy = await startSocksProxy();
    const asked: string[] = [];
    const lookup: net.LookupFunction = (hostname, options, callback) => {
      asked.push(hostname);
      if (options.all) callback(null, [{ address: "127.0.0.1", family: 4 }]);
      else callback(null, "127.0.0.1", 4);
    };
    try {
      await using ws = await connect(`ws://feed.example.invalid:${port}/`, {
        proxy: `socks5://127.0.0.1:${proxy.port}`,
        tcp: { lookup },
      });
      await ws.send("looked up");
      assert.equal(await ws.recv(), "looked up");
      // The proxy is an address: the lookup served the target alone.
      assert.deepEqual(asked, ["feed.example.invalid"]);
      assert.deepEqual(proxy.requests, [`1 127.0.0.1 ${port}`]);
    } finally {
      await proxy.close();
    }
  });

  it("resolves the host name for tcp.family with socks5", async (t) => {
    const ipv6 = await ipv6Loopback();
    if (ipv6 !== null) {
      t.skip(`no IPv6 loopback to listen on (${ipv6})`);
      return;
    }
    const { server, port } = await startServer(echo, { host: "::1" });
    await using _server = server;
    const proxy = await startSocksProxy();
    // A name with both families, as a dual-stack host has: only tcp.family picks ::1.
    const lookup: net.LookupFunction = (_hostname, options, callback) => {
      const [address, family] = options.family === 6 ? ["::1", 6] : ["127.0.0.1", 4];
      if (options.all) callback(null, [{ address, family }]);
      else callback(null, address, family);
    };
    try {
      await using ws = await connect(`ws://dual.example.invalid:${port}/`, {
        proxy: `socks5://127.0.0.1:${proxy.port}`,
        tcp: { lookup, family: 6 },
      });
      await ws.send("over IPv6");
      assert.equal(await ws.recv(), "over IPv6");
      assert.deepEqual(proxy.requests, [`4 0000:0000:0000:0000:0000:0000:0000:0001 ${port}`]);
    } finally {
      await proxy.close();
    }
  });

  it("gives up on a tcp.lookup that never answers at openTimeout, or when aborted", async () => {
    const proxy = await startSocksProxy();
    const asked: string[] = [];
    let looking = deferred();
    const lookup: net.LookupFunction = (hostname) => {
      asked.push(hostname);
      looking.resolve();
    };
    try {
      const started = performance.now();
      const timedOut = await within(
        connect("ws://silent.example.invalid/", {
          proxy: `socks5://127.0.0.1:${proxy.port}`,
          tcp: { lookup },
          openTimeout: 100,
        }).catch((e: unknown) => e),
        5_000,
        "connect() with a silent tcp.lookup and openTimeout",
      );
      assert.ok(timedOut instanceof TimeoutError, String(timedOut));
      assert.ok(performance.now() - started >= 90);
      const reason = new Error("given up");
      const controller = new AbortController();
      looking = deferred();
      const aborted = connect("ws://silent.example.invalid/", {
        proxy: `socks5://127.0.0.1:${proxy.port}`,
        tcp: { lookup },
        signal: controller.signal,
      }).catch((e: unknown) => e);
      await looking.promise;
      controller.abort(reason);
      assert.equal(await within(aborted, 5_000, "connect() aborted during tcp.lookup"), reason);
      assert.deepEqual(asked, ["silent.example.invalid", "silent.example.invalid"]);
    } finally {
      await proxy.close();
    }
  });

  it("authenticates with a username and password", async () => {
    const { server, uri } = await startServer(echo);
    await using _server = server;
    const proxy = await startSocksProxy({ username: "me", password: "s3cr:t" });
    try {
      await using ws = await connect(uri, {
        proxy: `socks5://me:s3cr%3At@127.0.0.1:${proxy.port}`,
      });
      await ws.send("authenticated");
      assert.equal(await ws.recv(), "authenticated");
      const wrong = await connect(uri, {
        proxy: `socks5://me:wrong@127.0.0.1:${proxy.port}`,
      }).catch((e: unknown) => e);
      assert.ok(wrong instanceof ProxyError);
      assert.equal(
        wrong.message,
        `SOCKS5 proxy socks5://127.0.0.1:${proxy.port} rejected the credentials`,
      );
      const none = await connect(uri, { proxy: `socks5://127.0.0.1:${proxy.port}` }).catch(
        (e: unknown) => e,
      );
      assert.ok(none instanceof ProxyError);
      assert.match(none.message, /requires authentication/);
    } finally {
      await proxy.close();
    }
  });

  it("tunnels wss://", async () => {
    const { server, port } = await startTlsServer();
    await using _server = server;
    const proxy = await startSocksProxy();
    try {
      await using ws = await connect(`wss://localhost:${port}/`, {
        proxy: `socks5h://127.0.0.1:${proxy.port}`,
        tls: { ca },
      });
      await ws.send("secure socks");
      assert.equal(await ws.recv(), "secure socks");
    } finally {
      await proxy.close();
    }
  });

  it("reports the proxy's failure to connect", async () => {
    const proxy = await startSocksProxy();
    try {
      const error = await connect("ws://unreachable.invalid/", {
        proxy: `socks5h://127.0.0.1:${proxy.port}`,
      }).catch((e: unknown) => e);
      assert.ok(error instanceof ProxyError);
      assert.match(
        error.message,
        /failed to connect to unreachable\.invalid:80: host unreachable$/,
      );
    } finally {
      await proxy.close();
    }
  });

  it("tells which failures the server being out of reach may explain", async () => {
    const proxy = await startSocksProxy();
    try {
      // RFC 1928 §6: 1 general failure, 3 network unreachable, 4 host
      // unreachable, 5 connection refused, 6 TTL expired may pass; 2 not
      // allowed by ruleset, 7 command and 8 address type not supported won't.
      for (let reply = 1; reply <= 8; reply++) {
        const error = await connect(`ws://reply-${reply}.invalid/`, {
          proxy: `socks5h://127.0.0.1:${proxy.port}`,
        }).catch((e: unknown) => e);
        assert.ok(error instanceof ProxyError, String(error));
        const transient = [1, 3, 4, 5, 6].includes(reply);
        assert.equal(error.transient, transient, error.message);
        assert.equal(isTransientError(error), transient, error.message);
      }
    } finally {
      await proxy.close();
    }
  });

  it("names the proxy that hung up, and retries it", async () => {
    // It reads the greeting, and closes without answering.
    await using proxy = await rawServer((peer) =>
      peer.socket.once("data", () => peer.socket.end()),
    );
    const error = await connect("ws://example.invalid/", {
      proxy: `socks5h://user:secret@127.0.0.1:${proxy.port}`,
    }).catch((e: unknown) => e);
    assert.ok(error instanceof ProxyError, String(error));
    assert.equal(
      error.message,
      `SOCKS5 proxy socks5h://127.0.0.1:${proxy.port} closed the connection before the tunnel was open`,
    );
    assert.equal(error.transient, true);
    assert.equal(isTransientError(error), true);
  });

  it("lets reconnect() wait for a server the proxy can't reach yet", async () => {
    // A port with nothing listening, until the test starts the server there.
    const { server: placeholder, port } = await startServer(echo);
    await placeholder.close();
    const proxy = await startSocksProxy();
    const failures: unknown[] = [];
    const started: Promise<Server>[] = [];
    try {
      for await (const ws of reconnect(`ws://127.0.0.1:${port}/`, {
        proxy: `socks5://127.0.0.1:${proxy.port}`,
        initialDelay: 5,
        maxDelay: 20,
        logger: null,
        shouldRetry: (error, attempt) => {
          failures.push(error);
          if (attempt === 2) started.push(serve(echo, { host: "127.0.0.1", port, logger: null }));
          return isTransientError(error) && attempt < 10;
        },
      })) {
        await ws.send("through at last");
        assert.equal(await ws.recv(), "through at last");
        break;
      }
    } finally {
      await proxy.close();
      for (const server of started) await (await server).close();
    }
    assert.ok(failures.length >= 2);
    for (const error of failures) {
      assert.ok(error instanceof ProxyError);
      assert.match(error.message, /connection refused$/);
    }
  });
});

describe("proxy settings", () => {
  const ws = parseUri("ws://app.example.com:8080/");
  const wss = parseUri("wss://app.example.com/");

  it("uses an explicit proxy, or none", () => {
    assert.equal(resolveProxy(ws, "http://proxy:3128")?.href, "http://proxy:3128/");
    assert.equal(resolveProxy(ws, new URL("socks5://proxy"))?.href, "socks5://proxy");
    assert.equal(resolveProxy(ws, "proxy:3128")?.href, "http://proxy:3128/");
    assert.equal(resolveProxy(ws, undefined, { HTTP_PROXY: "http://proxy" }), null);
    assert.equal(resolveProxy(ws, false, { HTTP_PROXY: "http://proxy" }), null);
    assert.equal(resolveProxy(ws, null), null);
  });

  it("refuses a setting that isn't a URL, a boolean or null, a port number above all", () => {
    for (const setting of [8080, {}, ["http://proxy"]]) {
      assert.throws(() => checkProxySetting(setting), {
        name: "TypeError",
        message:
          /^proxy must be a proxy URL such as "http:\/\/proxy\.example:3128", true to read HTTPS_PROXY and HTTP_PROXY, or false or null for none; got /,
      });
      assert.throws(() => resolveProxy(ws, setting as never), TypeError);
    }
    for (const setting of [undefined, null, true, false, "proxy:3128", new URL("http://proxy")]) {
      checkProxySetting(setting);
    }
  });

  it("reads the environment when asked, by scheme, lowercase first", () => {
    const env = {
      HTTP_PROXY: "http://plain",
      HTTPS_PROXY: "http://secure",
      ALL_PROXY: "socks5h://all",
    };
    assert.equal(resolveProxy(ws, true, env)?.host, "plain");
    assert.equal(resolveProxy(wss, true, env)?.host, "secure");
    assert.equal(resolveProxy(ws, true, { ...env, http_proxy: "http://lower" })?.host, "lower");
    assert.equal(resolveProxy(wss, true, { ALL_PROXY: "socks5h://all" })?.href, "socks5h://all");
    assert.equal(resolveProxy(wss, true, { HTTPS_PROXY: " " }), null);
    assert.equal(resolveProxy(wss, true, {}), null);
    // Under CGI, HTTP_PROXY may come from a request header: ignored.
    assert.equal(
      resolveProxy(ws, true, { HTTP_PROXY: "http://evil", REQUEST_METHOD: "GET" }),
      null,
    );
  });

  it("honours NO_PROXY", () => {
    const env = (noProxy: string) => ({ HTTP_PROXY: "http://proxy", NO_PROXY: noProxy });
    assert.equal(resolveProxy(ws, true, env("example.com")), null);
    assert.equal(resolveProxy(ws, true, { ...env("other"), no_proxy: "example.com" }), null);
    assert.notEqual(resolveProxy(ws, true, env("other.example.com")), null);
    assert.equal(bypasses("ws://a.example.com/", "*"), true);
    assert.equal(bypasses("ws://a.example.com/", " * "), true);
    assert.equal(resolveProxy(ws, true, env(" *\t")), null);
    assert.equal(bypasses("ws://a.example.com/", ".example.com"), true);
    assert.equal(bypasses("ws://a.example.com/", "*.example.com"), true);
    assert.equal(bypasses("ws://example.com/", "example.com"), true);
    assert.equal(bypasses("ws://badexample.com/", "example.com"), false);
    assert.equal(bypasses("ws://example.com:8080/", "example.com:8080"), true);
    assert.equal(bypasses("ws://example.com/", "example.com:8080"), false);
    assert.equal(bypasses("ws://10.1.2.3/", "localhost, 10.0.0.0/8"), true);
    assert.equal(bypasses("ws://11.1.2.3/", "10.0.0.0/8"), false);
    assert.equal(bypasses("ws://127.0.0.1:9/", "127.0.0.1"), true);
    assert.equal(bypasses("ws://[::1]/", "0:0:0:0:0:0:0:1"), true);
    assert.equal(bypasses("ws://[::1]:81/", "[::1]:81"), true);
    assert.equal(bypasses("ws://[fd00::5]/", "fd00::/8"), true);
    assert.equal(bypasses("ws://127.0.0.1/", "::1,bad/cidr/,10.0.0.0/99"), false);
  });

  const bypasses = (uri: string, noProxy: string) => bypassesProxy(parseUri(uri), noProxy);

  it("reads * as every host only when it is the whole of NO_PROXY, as curl does", () => {
    for (const noProxy of ["localhost,*", "*,localhost", "* localhost", "*,", ",*", "*,*"]) {
      assert.equal(bypasses("ws://a.example.com/", noProxy), false, noProxy);
    }
    // The other entries of such a list still count.
    assert.equal(bypasses("ws://localhost/", "*,localhost"), true);
    assert.equal(bypasses("ws://a.example.com/", "*,example.com"), true);
  });

  it("ignores a trailing dot of the host and of NO_PROXY names, as curl does", () => {
    // "example.com." is the same name as "example.com", fully qualified (RFC 1034 §3.1).
    assert.equal(bypasses("ws://example.com/", "example.com."), true);
    assert.equal(bypasses("ws://example.com./", "example.com"), true);
    assert.equal(bypasses("ws://example.com./", "example.com."), true);
    assert.equal(bypasses("ws://a.example.com./", ".example.com."), true);
    assert.equal(bypasses("ws://a.example.com/", "*.example.com.:80"), true);
    assert.equal(bypasses("ws://badexample.com./", "example.com."), false);
    // A dot alone names nothing, not every name that ends in one.
    assert.equal(bypasses("ws://example.com./", "."), false);
    assert.equal(bypasses("ws://example.com./", "*."), false);
    // One dot is dropped, as curl does: the URL parser keeps a second.
    assert.equal(bypasses("ws://example.com../", "."), false);
    assert.equal(bypasses("ws://example.com../", "example.com"), false);
  });

  it("matches names case-insensitively, internationalized ones as the URI's punycode", () => {
    assert.equal(bypasses("ws://app.example.com/", "EXAMPLE.Com"), true);
    assert.equal(bypasses("ws://APP.EXAMPLE.COM/", "example.com"), true);
    // The URI's host arrives as "xn--bcher-kva.example"; the entry as typed.
    assert.equal(bypasses("ws://bücher.example/", "bücher.example"), true);
    assert.equal(bypasses("ws://xn--bcher-kva.example/", "BÜCHER.example"), true);
    assert.equal(bypasses("ws://shop.bücher.example/", ".bücher.example"), true);
    assert.equal(bypasses("ws://shop.bücher.example:8080/", "*.bücher.example:8080"), true);
    assert.equal(bypasses("ws://bücher.example/", "xn--bcher-kva.example"), true);
    assert.equal(bypasses("ws://bucher.example/", "bücher.example"), false);
  });

  it("matches addresses to address entries only, an IPv4-mapped IPv6 one as IPv4", () => {
    assert.equal(bypasses("ws://[::1]/", "[::1]"), true);
    assert.equal(bypasses("ws://[::1]/", "::1"), true);
    assert.equal(bypasses("ws://[2001:DB8::1]:8080/", "[2001:db8:0::1]:8080"), true);
    assert.equal(bypasses("ws://[2001:db8::1]:8081/", "[2001:db8::1]:8080"), false);
    // RFC 4291 §2.5.5.2: ::ffff:127.0.0.1 is 127.0.0.1, reached over IPv6 sockets.
    assert.equal(bypasses("ws://[::ffff:127.0.0.1]/", "127.0.0.1"), true);
    assert.equal(bypasses("ws://[::ffff:10.1.2.3]/", "10.0.0.0/8"), true);
    assert.equal(bypasses("ws://127.0.0.1/", "[::ffff:127.0.0.1]"), true);
    assert.equal(bypasses("ws://[::ffff:127.0.0.2]/", "127.0.0.1"), false);
    // RFC 4291 §2.5.5.1: an "IPv4-compatible" address is another IPv6 address.
    assert.equal(bypasses("ws://[::127.0.0.1]/", "127.0.0.1"), false);
    // Names match names: the last labels of an address are no domain of it.
    assert.equal(bypasses("ws://10.1.2.3/", "2.3"), false);
    assert.equal(bypasses("ws://10.1.2.3/", "1.2.3"), false);
    // Nor a shorthand the URL parser would read as 10.1.2.3: curl and net.isIP() take dotted quads only.
    assert.equal(bypasses("ws://10.1.2.3/", "10.1.515"), false);
  });

  it("rejects unsupported proxy URLs without showing credentials", () => {
    assert.throws(
      () => parseProxy("ftp://user:secret@proxy"),
      (error: unknown) => {
        assert.ok(error instanceof InvalidUri);
        assert.doesNotMatch(error.message, /secret/);
        return true;
      },
    );
    assert.throws(() => parseProxy("http://"), InvalidUri);
  });

  it("refuses a colon in an HTTP proxy's user name before any I/O; a SOCKS5 one may have it", async () => {
    const proxy = "http://us%3Aer:secret@127.0.0.1:1";
    const check = (error: unknown) => {
      assert.ok(error instanceof InvalidUri, String(error));
      assert.match(error.message, /user name with a colon/);
      assert.doesNotMatch(error.message, /secret/);
      return true;
    };
    assert.throws(() => parseProxy(proxy), check);
    // Before any I/O: nothing listens on port 1.
    await assert.rejects(connect("ws://example.invalid/", { proxy }), check);
    assert.equal(parseProxy("socks5://us%3Aer:pw@127.0.0.1:1").username, "us%3Aer");
  });

  it("converts an internationalized SOCKS proxy host name to ASCII, as for HTTP ones", async () => {
    for (const scheme of ["socks5", "socks5h", "http"]) {
      assert.equal(parseProxy(`${scheme}://BÜCHER.example:1080`).hostname, "xn--bcher-kva.example");
    }
    assert.equal(parseProxy("socks5://[::1]:1080").hostname, "[::1]");
    assert.throws(() => parseProxy("socks5://a%zz:1080"), /invalid proxy host name/);
    // The name the proxy's address is looked up by.
    const asked: string[] = [];
    const lookup: net.LookupFunction = (hostname, _options, callback) => {
      asked.push(hostname);
      callback(Object.assign(new Error("no such host"), { code: "ENOTFOUND" }), "", 4);
    };
    await connect("ws://127.0.0.1:1/", {
      proxy: "socks5://bücher.example:1080",
      tcp: { lookup },
    }).catch(() => {});
    assert.deepEqual(asked, ["xn--bcher-kva.example"]);
  });

  it("rejects user info with invalid percent-encoding, naming the proxy but not the credentials", async () => {
    for (const proxy of ["http://100%:secret@127.0.0.1:1", "socks5://user:50%@127.0.0.1:1"]) {
      const check = (error: unknown) => {
        assert.ok(error instanceof InvalidUri, String(error));
        assert.equal(
          error.message,
          `${proxy.slice(0, proxy.indexOf("//") + 2)}127.0.0.1:1 isn't a valid URI: invalid percent-encoding in user info`,
        );
        assert.doesNotMatch(error.message, /secret|50%/);
        return true;
      };
      assert.throws(() => parseProxy(proxy), check);
      // Before any I/O: nothing listens on port 1.
      await assert.rejects(connect("ws://example.invalid/", { proxy }), check);
    }
  });

  it("connects through the proxy the environment names", async () => {
    const { server, uri, port } = await startServer(echo);
    await using _server = server;
    const proxy = await startConnectProxy();
    const saved = { ...process.env };
    try {
      for (const name of ["http_proxy", "no_proxy", "NO_PROXY", "all_proxy", "ALL_PROXY"])
        delete process.env[name];
      delete process.env.REQUEST_METHOD;
      process.env.HTTP_PROXY = `http://127.0.0.1:${proxy.port}`;
      await using ws = await connect(uri, { proxy: true });
      await ws.send("from the environment");
      assert.equal(await ws.recv(), "from the environment");
      assert.match(proxy.requests[0]!, new RegExp(`^CONNECT 127\\.0\\.0\\.1:${port} `));
      process.env.NO_PROXY = "127.0.0.1";
      await using direct = await connect(uri, { proxy: true });
      assert.equal(proxy.requests.length, 1);
      await direct.send("direct");
      assert.equal(await direct.recv(), "direct");
    } finally {
      process.env = saved;
      await proxy.close();
    }
  });

  it("bypasses the proxy for NO_PROXY=* alone, not for a list that holds *", async () => {
    const { server, uri, port } = await startServer(echo);
    await using _server = server;
    const proxy = await startConnectProxy();
    const saved = { ...process.env };
    try {
      for (const name of ["http_proxy", "no_proxy", "all_proxy", "ALL_PROXY"])
        delete process.env[name];
      delete process.env.REQUEST_METHOD;
      process.env.HTTP_PROXY = `http://127.0.0.1:${proxy.port}`;
      process.env.NO_PROXY = "*";
      await using direct = await connect(uri, { proxy: true });
      await direct.send("direct");
      assert.equal(await direct.recv(), "direct");
      assert.equal(proxy.requests.length, 0);
      process.env.NO_PROXY = "example.com,*";
      await using proxied = await connect(uri, { proxy: true });
      await proxied.send("proxied");
      assert.equal(await proxied.recv(), "proxied");
      assert.equal(proxy.requests.length, 1);
      assert.match(proxy.requests[0]!, new RegExp(`^CONNECT 127\\.0\\.0\\.1:${port} `));
    } finally {
      process.env = saved;
      await proxy.close();
    }
  });
});

describe("connect() through an HTTP proxy, with a userAgent a header can't carry", () => {
  it("fails before connecting, even when additionalHeaders sets User-Agent", async () => {
    let connections = 0;
    const proxy = net.createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = proxy.address() as net.AddressInfo;
      for (const additionalHeaders of [{}, { "User-Agent": "fine/1.0" }]) {
        const error = await connect("ws://127.0.0.1:1/", {
          proxy: `http://127.0.0.1:${port}`,
          userAgent: "app/1.0\r\nX-Injected: yes",
          additionalHeaders,
        }).catch((e: unknown) => e);
        assert.ok(error instanceof InvalidHeaderFormat, String(error));
      }
      assert.equal(connections, 0);
    } finally {
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    }
  });
});
