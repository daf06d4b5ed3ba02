/**
 * The options of `websockets-ts <uri>` and `websockets-ts serve`, run as a
 * user runs them: `node dist/cli.js …` in a child process, against real
 * servers and clients on loopback or on Unix sockets in a temporary directory.
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { once } from "node:events";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { connect, type Handler, type Request, type ServeOptions, serve } from "../../src/index.js";
import { type ChildExit, type ChildRun, runNode, startNode } from "../helpers/child.js";
import { deferred, startServer, unhandledRejections } from "../helpers/server.js";

// The compiled test is .build/test/cli/options.test.js; the CLI is built to dist/cli.js.
const CLI = fileURLToPath(new URL("../../../dist/cli.js", import.meta.url));
const fixtures = new URL("../../../test/fixtures/tls/", import.meta.url);
const CA_FILE = fileURLToPath(new URL("ca.pem", fixtures));
const CERT_FILE = fileURLToPath(new URL("localhost.pem", fixtures));
const KEY_FILE = fileURLToPath(new URL("localhost-key.pem", fixtures));
const ca = readFileSync(CA_FILE);
const tls = { cert: readFileSync(CERT_FILE), key: readFileSync(KEY_FILE) };

const TIMEOUT = { timeout: 20_000 };

const directory = mkdtempSync(join(tmpdir(), "websockets-ts-cli-"));
let count = 0;
/** A fresh path in the test's temporary directory. */
function tempPath(name: string): string {
  return join(directory, `${++count}-${name}`);
}

after(() => {
  rmSync(directory, { recursive: true, force: true });
  assert.deepEqual(unhandledRejections(), []);
});

/**
 * Runs `websockets-ts <args>` until it exits by itself, with stdin open as a
 * terminal's would be, so that the client stays connected until the server
 * closes. Killed at the end of the test if it doesn't exit.
 */
async function runCli(
  args: readonly string[],
  env?: Readonly<Record<string, string>>,
): Promise<ChildExit> {
  await using child = await startNode([CLI, ...args], {
    ready: /^/,
    holdStdin: true,
    ...(env === undefined ? {} : { env }),
  });
  return await child.exited;
}

/** A server whose handler hands the handshake request over, then closes with 1000. */
async function startRecordingServer(options: ServeOptions = {}) {
  const requests: Request[] = [];
  const { server, uri, port } = await startServer(async (ws) => {
    requests.push(ws.request!);
  }, options);
  return { server, uri, port, requests };
}

/** Asserts a clean run: exit 0, connected to `uri`, closed by the server with 1000. */
function assertConnected(run: ChildRun, uri: string, suffix = ""): void {
  assert.equal(run.code, 0, run.stderr);
  assert.equal(
    run.stdout,
    `Connected to ${uri}${suffix}.\nConnection closed: 1000 (OK).\n`,
    run.stderr,
  );
}

describe("websockets-ts <uri> options", () => {
  it("-H and --header add request headers, repeated ones in order", TIMEOUT, async () => {
    const { server, uri, requests } = await startRecordingServer();
    await using _server = server;
    const run = await runCli([
      "-H",
      "Authorization: Bearer s3cr3t",
      "--header=X-Multi:one",
      "-H",
      "X-Multi:   two  ",
      "-H",
      "X-Empty:",
      `${uri}/path`,
    ]);
    assertConnected(run, `${uri}/path`);
    assert.equal(run.stderr, "");
    const [request] = requests;
    assert.equal(request?.path, "/path");
    assert.equal(request.headers.get("Authorization"), "Bearer s3cr3t");
    assert.deepEqual(request.headers.getAll("X-Multi"), ["one", "two"]);
    assert.equal(request.headers.get("X-Empty"), "");
    // The generated headers are still there.
    assert.equal(request.headers.get("Upgrade"), "websocket");
    assert.equal(request.headers.get("Origin"), undefined);
  });

  it("-o and --origin send an Origin header", TIMEOUT, async () => {
    const { server, uri, requests } = await startRecordingServer({
      origins: ["https://app.example"],
    });
    await using _server = server;
    assertConnected(await runCli(["-o", "https://app.example", uri]), uri);
    assertConnected(await runCli([uri, "--origin=https://app.example"]), uri);
    assert.deepEqual(
      requests.map((request) => request.headers.get("Origin")),
      ["https://app.example", "https://app.example"],
    );
    // Another origin is refused by this server: the option is what made the difference.
    const refused = await runCli(["-o", "https://evil.example", uri]);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /: server rejected WebSocket connection: HTTP 403: "Failed to open a WebSocket connection: invalid Origin header: https:\/\/evil\.example\."\.\n$/,
    );
  });

  it("-s offers subprotocols in order; the chosen one is printed", TIMEOUT, async () => {
    const { server, uri, requests } = await startRecordingServer({
      subprotocols: ["chat.v1", "chat.v2"],
    });
    await using _server = server;
    const run = await runCli(["-s", "chat.v2", "--subprotocol", "chat.v1", uri]);
    assertConnected(run, uri, " (subprotocol chat.v1)");
    assert.equal(requests[0]?.headers.get("Sec-WebSocket-Protocol"), "chat.v2, chat.v1");
    assertConnected(await runCli(["-s", "chat.v2", uri]), uri, " (subprotocol chat.v2)");
  });

  it("says so when the server chose no subprotocol", TIMEOUT, async () => {
    const { server, uri } = await startRecordingServer();
    await using _server = server;
    assertConnected(await runCli(["-s", "chat.v1", uri]), uri, " (no subprotocol)");
  });

  it("--ca trusts a private CA; without it, the certificate is refused", TIMEOUT, async () => {
    const { server, port } = await startRecordingServer({ tls });
    await using _server = server;
    const uri = `wss://localhost:${port}/`;
    assertConnected(await runCli(["--ca", CA_FILE, uri]), uri);

    const refused = await runCli([uri]);
    assert.equal(refused.code, 1);
    assert.equal(refused.stdout, "");
    assert.match(
      refused.stderr,
      new RegExp(
        `^Failed to connect to ${uri}: TLS certificate of ${uri} isn't trusted: ` +
          ".*\\(UNABLE_TO_VERIFY_LEAF_SIGNATURE\\).*\\.\\n$",
      ),
    );
  });

  it("--ca takes a bundle, or is repeated", TIMEOUT, async () => {
    const { server, port } = await startRecordingServer({ tls });
    await using _server = server;
    const uri = `wss://127.0.0.1:${port}/`;
    const bundle = tempPath("bundle.pem");
    writeFileSync(bundle, Buffer.concat([tls.cert, ca]));
    assertConnected(await runCli(["--ca", bundle, uri]), uri);
    assertConnected(await runCli(["--ca", CERT_FILE, "--ca", CA_FILE, uri]), uri);
    // The server's own certificate is not a CA: the first file alone is not enough.
    const refused = await runCli(["--ca", CERT_FILE, uri]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /isn't trusted/);
  });

  for (const flag of ["-k", "--insecure"]) {
    it(`${flag} skips the certificate check, with a warning`, TIMEOUT, async () => {
      const { server, port } = await startRecordingServer({ tls });
      await using _server = server;
      const uri = `wss://localhost:${port}/`;
      const run = await runCli([flag, uri]);
      assertConnected(run, uri);
      assert.match(run.stderr, /^Warning: the server's TLS certificate is not checked/);
    });
  }

  it("--unix-socket connects to a Unix socket; the URI gives Host and path", TIMEOUT, async () => {
    const path = tempPath("client.sock");
    const requests: Request[] = [];
    await using _server = await serve(
      (ws) => {
        requests.push(ws.request!);
      },
      { path, logger: null },
    );
    const uri = "ws://localhost/chat?room=1";
    assertConnected(await runCli(["--unix-socket", path, uri]), uri);
    assert.equal(requests[0]?.path, "/chat?room=1");
    assert.equal(requests[0].headers.get("Host"), "localhost");
  });

  it("--proxy connects through an HTTP CONNECT proxy", TIMEOUT, async () => {
    const { server, uri, port, requests } = await startRecordingServer();
    await using _server = server;
    await using proxy = await startConnectProxy();
    assertConnected(await runCli(["--proxy", `http://127.0.0.1:${proxy.port}`, uri]), uri);
    assert.equal(proxy.requests.length, 1);
    assert.match(
      proxy.requests[0]!,
      new RegExp(`^CONNECT 127\\.0\\.0\\.1:${port} HTTP/1\\.1\\r\\n`),
    );
    assert.equal(requests.length, 1);
  });

  it("reads the proxy from the environment with --proxy env only", TIMEOUT, async () => {
    const { server, uri, requests } = await startRecordingServer();
    await using _server = server;
    await using proxy = await startConnectProxy();
    const proxyUrl = `http://127.0.0.1:${proxy.port}`;
    const env = { HTTP_PROXY: proxyUrl, http_proxy: proxyUrl, NO_PROXY: "", no_proxy: "" };
    assertConnected(await runCli([uri], env), uri);
    assert.equal(proxy.requests.length, 0);
    assertConnected(await runCli(["--proxy", "env", uri], env), uri);
    assert.equal(proxy.requests.length, 1);
    assert.equal(requests.length, 2);
  });

  it("--no-compression doesn't offer permessage-deflate", TIMEOUT, async () => {
    const { server, uri, requests } = await startRecordingServer();
    await using _server = server;
    assertConnected(await runCli([uri]), uri);
    assertConnected(await runCli(["--no-compression", uri]), uri);
    assert.match(requests[0]!.headers.get("Sec-WebSocket-Extensions") ?? "", /^permessage-deflate/);
    assert.equal(requests[1]!.headers.get("Sec-WebSocket-Extensions"), undefined);
  });

  it("--max-size fails a larger message with 1009 and exits with 1", TIMEOUT, async () => {
    const closeCode = deferred<number | null>();
    const handler: Handler = async (ws) => {
      await ws.send("a".repeat(1024));
      await ws.send("b".repeat(1025));
      await ws.closed;
      closeCode.resolve(ws.closeCode);
    };
    const { server, uri } = await startServer(handler);
    await using _server = server;
    const run = await runCli(["--max-size", "1K", uri]);
    assert.equal(run.code, 1);
    const [connected, message, closed, end] = run.stdout.split("\n");
    assert.equal(connected, `Connected to ${uri}.`);
    assert.equal(message, `< ${"a".repeat(1024)}`);
    // The reason depends on where the limit was hit: in a frame's header, or
    // while inflating a compressed message, as here.
    assert.match(
      closed!,
      /^Connection closed: sent 1009 \(message too big\) .*\b1024 bytes; no close frame received\.$/,
    );
    assert.equal(end, "");
    assert.equal(await closeCode.promise, 1009);
  });

  it("--max-size reports 1009 for an echo of piped input too", TIMEOUT, async () => {
    const { server, uri } = await startServer(async (ws) => {
      for await (const message of ws) await ws.send(message);
    });
    await using _server = server;
    // `printf 'big\n' | websockets-ts --max-size 2 ws://…`: the echo may come
    // after the close frame that the end of stdin sent, which used to hide the 1009.
    const run = await runNode([CLI, "--max-size", "2", uri], { input: "big\n" });
    assert.equal(run.code, 1);
    assert.match(
      run.stdout,
      /\nConnection closed: sent (1000 \(OK\), then failed with )?1009 \(message too big\) .*\b2 bytes; no close frame received\.\n$/,
    );
  });

  it("--max-size none lifts the default limit of 1 MiB", TIMEOUT, async () => {
    const big = "c".repeat(1024 * 1024 + 1);
    const { server, uri } = await startServer(async (ws) => {
      await ws.send(big);
    });
    await using _server = server;
    const limited = await runCli([uri]);
    assert.equal(limited.code, 1);
    assert.match(
      limited.stdout,
      /\nConnection closed: sent 1009 \(message too big\) .*\b1048576 bytes; /,
    );
    const run = await runCli(["--max-size", "none", uri]);
    assertConnected({ ...run, stdout: run.stdout.replace(`< ${big}\n`, "") }, uri);
    assert.ok(run.stdout.includes(`\n< ${big}\n`));
  });
});

describe("websockets-ts serve options", () => {
  it("--path listens on a Unix socket, removed on exit", TIMEOUT, async () => {
    const path = tempPath("serve.sock");
    await using cli = await startNode([CLI, "serve", "--path", path], {
      ready: /^Listening on Unix socket (.+) \(ws:\/\/\)\n/,
    });
    assert.equal(cli.ready[1], path);
    const ws = await connect("ws://localhost/", { path, logger: null });
    await ws.send("over a Unix socket");
    assert.equal(await ws.recv(), "over a Unix socket");
    cli.child.kill("SIGTERM");
    const { code, stderr } = await cli.exited;
    assert.equal(code, 0, stderr);
    await ws.closed;
    assert.equal(ws.closeCode, 1001);
    assert.equal(existsSync(path), false);
  });

  it("--tls-cert and --tls-key serve wss://", TIMEOUT, async () => {
    await using cli = await startNode(
      [CLI, "serve", "--port", "0", "--tls-cert", CERT_FILE, "--tls-key", KEY_FILE],
      { ready: /^Listening on (wss:\/\/127\.0\.0\.1:\d+)\n/ },
    );
    const uri = cli.ready[1]!;
    await using ws = await connect(uri, { tls: { ca }, logger: null });
    await ws.send("over TLS");
    assert.equal(await ws.recv(), "over TLS");
    await assert.rejects(connect(uri.replace("wss:", "ws:"), { logger: null }));
    await ws.close();
    cli.child.kill("SIGTERM");
    assert.equal((await cli.exited).code, 0);
  });

  it("--tls-cert and --tls-key work with --path", TIMEOUT, async () => {
    const path = tempPath("tls.sock");
    await using cli = await startNode(
      [CLI, "serve", "--path", path, "--tls-cert", CERT_FILE, "--tls-key", KEY_FILE],
      { ready: /^Listening on Unix socket .+ \(wss:\/\/\)\n/ },
    );
    await using ws = await connect("wss://localhost/", { path, tls: { ca }, logger: null });
    await ws.send("over TLS over a Unix socket");
    assert.equal(await ws.recv(), "over TLS over a Unix socket");
    cli.child.kill("SIGTERM");
    assert.equal((await cli.exited).code, 0);
  });

  it("exits with 1 when the key doesn't match the certificate", TIMEOUT, async () => {
    const run = await runCli([
      "serve",
      "--port",
      "0",
      "--tls-cert",
      CA_FILE,
      "--tls-key",
      KEY_FILE,
    ]);
    assert.equal(run.code, 1);
    assert.equal(run.stdout, "");
    assert.match(run.stderr, /^Failed to listen on wss:\/\/127\.0\.0\.1:0: .*key values mismatch/);
  });

  it("--no-compression doesn't accept permessage-deflate", TIMEOUT, async () => {
    for (const [args, extensions] of [
      [[], /^permessage-deflate/],
      [["--no-compression"], /^$/],
    ] as const) {
      await using cli = await startNode([CLI, "serve", "--port", "0", ...args], {
        ready: /^Listening on (ws:\/\/127\.0\.0\.1:\d+)\n/,
      });
      await using ws = await connect(cli.ready[1]!, { logger: null });
      assert.match(ws.response?.headers.get("Sec-WebSocket-Extensions") ?? "", extensions);
    }
  });

  it(
    "-s accepts the subprotocols given, and refuses a client that offers none of them",
    TIMEOUT,
    async () => {
      await using cli = await startNode(
        [CLI, "serve", "--port", "0", "-s", "chat.v2", "--subprotocol", "chat.v1"],
        { ready: /^Listening on (ws:\/\/127\.0\.0\.1:\d+)\n/ },
      );
      const uri = cli.ready[1]!;
      await using ws = await connect(uri, { logger: null, subprotocols: ["chat.v1", "chat.v2"] });
      // The server's order of preference decides.
      assert.equal(ws.subprotocol, "chat.v2");
      await assert.rejects(connect(uri, { logger: null, subprotocols: ["other"] }), {
        name: "InvalidStatus",
        message: /HTTP 400/,
      });
      // The command-line client shows the negotiation, then closes at the end of its input.
      const run = await runNode([CLI, "-s", "chat.v1", uri], { input: "" });
      assertConnected(run, uri, " (subprotocol chat.v1)");
    },
  );

  it("--max-size closes with 1009 on a larger message", TIMEOUT, async () => {
    await using cli = await startNode([CLI, "serve", "--port", "0", "--max-size", "1k"], {
      ready: /^Listening on (ws:\/\/127\.0\.0\.1:\d+)\n/,
    });
    const ws = await connect(cli.ready[1]!, { logger: null });
    await ws.send("a".repeat(1024));
    assert.equal(await ws.recv(), "a".repeat(1024));
    await ws.send("b".repeat(1025));
    await ws.closed;
    assert.equal(ws.closeCode, 1009);
  });

  it("--max-size 0 lifts the default limit of 1 MiB", TIMEOUT, async () => {
    const big = "c".repeat(1024 * 1024 + 1);
    await using cli = await startNode([CLI, "serve", "--port", "0", "--max-size", "0"], {
      ready: /^Listening on (ws:\/\/127\.0\.0\.1:\d+)\n/,
    });
    await using ws = await connect(cli.ready[1]!, { logger: null, maxMessageSize: null });
    await ws.send(big);
    assert.equal(await ws.recv(), big);
  });
});

describe("command line errors", () => {
  const missing = join(directory, "missing.pem");
  const cases: [args: string[], message: RegExp][] = [
    [["-H", "NoColon", "ws://127.0.0.1/"], /^invalid header: NoColon \(expected "Name: value"\)$/],
    // connect() refused it, and the CLI exited with 1, naming connect()'s options.
    [
      ["-H", "Sec-WebSocket-Protocol: chat", "ws://127.0.0.1/"],
      /^--header can't set Sec-WebSocket-Protocol: the handshake sets it; offer subprotocols with -s NAME$/,
    ],
    [["-s", "a,b", "ws://127.0.0.1/"], /^invalid subprotocol: a,b$/],
    [["--max-size", "big", "ws://127.0.0.1/"], /^invalid size: big$/],
    [["--proxy", "ftp://p:2121", "ws://127.0.0.1/"], /^invalid --proxy: /],
    [["serve", "-k"], /^--insecure doesn't apply to serve$/],
    [["ws://127.0.0.1/", "--path", "p"], /^--path only applies to serve$/],
    [["serve", "--tls-cert", CERT_FILE], /^--tls-cert needs --tls-key$/],
    [["--ca", missing, "wss://127.0.0.1/"], /^--ca .*missing\.pem: ENOENT/],
    [["--ca", KEY_FILE, "wss://127.0.0.1/"], /^--ca .*: no PEM certificate in the file$/],
    [["serve", "--tls-cert", CERT_FILE, "--tls-key", missing], /^--tls-key .*: ENOENT/],
  ];
  for (const [args, message] of cases) {
    it(`exits with 2 and the usage for ${JSON.stringify(args)}`, TIMEOUT, async () => {
      const run = await runCli(args);
      assert.equal(run.code, 2);
      assert.equal(run.stdout, "");
      const [first, second] = run.stderr.split("\n");
      assert.match(first!, /^websockets-ts: /);
      assert.match(first!.slice("websockets-ts: ".length), message);
      assert.equal(second, "usage: websockets-ts <uri>");
      assert.ok(run.stderr.endsWith("\nTry 'websockets-ts --help' for more.\n"), run.stderr);
    });
  }

  it("lists every option in --help", TIMEOUT, async () => {
    const run = await runCli(["--help"]);
    assert.equal(run.code, 0);
    for (const option of [
      "-H, --header",
      "-s, --subprotocol",
      "-o, --origin",
      "--ca FILE",
      "-k, --insecure",
      "--proxy URL",
      "--unix-socket PATH",
      "--no-compression",
      "--max-size BYTES",
      "--host HOST",
      "--port PORT",
      "--path PATH",
      "--tls-cert FILE, --tls-key FILE",
    ]) {
      assert.ok(run.stdout.includes(`\n  ${option}`), option);
    }
    // The reference page shows the same synopsis.
    const synopsis = run.stdout.slice(0, run.stdout.indexOf("\n\n") + 1);
    const page = readFileSync(new URL("../../../docs/reference/cli.md", import.meta.url), "utf8");
    assert.ok(page.includes(`\n\`\`\`\n${synopsis}\`\`\`\n`), synopsis);
  });
});

/** A minimal HTTP CONNECT proxy on 127.0.0.1 that records the request head of each tunnel. */
async function startConnectProxy() {
  const requests: string[] = [];
  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
  };
  const server = net.createServer((client) => {
    track(client);
    let received = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf("\r\n\r\n");
      if (end === -1) return;
      client.off("data", onData);
      client.pause();
      const head = received.subarray(0, end + 4).toString("latin1");
      requests.push(head);
      const authority = head.split(" ")[1] ?? "";
      const colon = authority.lastIndexOf(":");
      const upstream = net.connect(
        { host: authority.slice(0, colon), port: Number(authority.slice(colon + 1)) },
        () => {
          client.write("HTTP/1.1 200 Connection established\r\n\r\n");
          upstream.write(received.subarray(end + 4));
          client.pipe(upstream);
          upstream.pipe(client);
        },
      );
      track(upstream);
      upstream.on("close", () => client.destroy());
      client.on("close", () => upstream.destroy());
    };
    client.on("data", onData);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    port: (server.address() as net.AddressInfo).port,
    requests,
    async [Symbol.asyncDispose]() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
