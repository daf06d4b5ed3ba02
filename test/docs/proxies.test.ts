/**
 * docs/howto/proxies.md's programs, run from a project of a user's, through
 * an HTTP proxy of the test's on loopback, to a wss:// echo server of the
 * test's with the test certificate (its CA trusted through
 * NODE_EXTRA_CA_CERTS, as a public CA is, so the programs need no `tls`
 * option): `wss://echo.example.com/` becomes `wss://localhost:<port>/`, the
 * proxy's address the test proxy's, and nothing else changes.
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { once } from "node:events";
import * as net from "node:net";
import { after, describe, it } from "node:test";
import { type ServerConnection, serve } from "../../src/index.js";
import { runNode } from "../helpers/child.js";
import { deferred, echo, unhandledRejections } from "../helpers/server.js";
import { edit, examplesOf, fixture, testCertificate } from "./programs.js";
import { type Project, scratchProject } from "./project.js";

const PAGE = "docs/howto/proxies.md";
const example = examplesOf(PAGE);

after(() => {
  assert.deepEqual(unhandledRejections(), []);
});

/** An HTTP proxy on 127.0.0.1 that opens `CONNECT` tunnels to loopback only. */
interface TestProxy extends AsyncDisposable {
  readonly port: number;
  /** The head of each request it got. */
  readonly requests: string[];
  /** The bytes it relayed from the client, tunnels open so far together. */
  readonly relayed: () => Buffer;
  /** The local port of each connection it opened to a server. */
  readonly upstreamPorts: number[];
}

async function startProxy(): Promise<TestProxy> {
  const sockets = new Set<net.Socket>();
  const requests: string[] = [];
  const relayed: Buffer[] = [];
  const upstreamPorts: number[] = [];
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
  };
  const server = net.createServer((client) => {
    track(client);
    let head = Buffer.alloc(0);
    const onHead = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf("\r\n\r\n");
      if (end === -1) return;
      client.off("data", onHead);
      const request = head.subarray(0, end + 4).toString("latin1");
      requests.push(request);
      const target = /^CONNECT (localhost|127\.0\.0\.1):(\d+) HTTP\/1\.1\r\n/.exec(request);
      if (target === null) {
        client.end("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
        return;
      }
      const upstream = net.connect({ host: "127.0.0.1", port: Number(target[2]) }, () => {
        upstreamPorts.push(upstream.localPort!);
        client.write("HTTP/1.1 200 Connection established\r\n\r\n");
        const early = head.subarray(end + 4);
        relayed.push(early);
        upstream.write(early);
        client.on("data", (data: Buffer) => {
          relayed.push(data);
          upstream.write(data);
        });
        client.on("end", () => upstream.end());
        upstream.pipe(client);
      });
      track(upstream);
      upstream.on("close", () => client.destroy());
      client.on("close", () => upstream.destroy());
    };
    client.on("data", onHead);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    port: (server.address() as net.AddressInfo).port,
    requests,
    relayed: () => Buffer.concat(relayed),
    upstreamPorts,
    async [Symbol.asyncDispose]() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A wss:// echo server on 127.0.0.1 with the localhost test certificate. */
async function startTlsServer() {
  const seen = deferred<ServerConnection>();
  const server = await serve(
    async (ws) => {
      seen.resolve(ws);
      await echo(ws);
    },
    {
      host: "127.0.0.1",
      port: 0,
      tls: testCertificate(),
      logger: null,
    },
  );
  const { port } = server.address() as net.AddressInfo;
  return { server, port, seen: seen.promise };
}

/** Every proxy variable, empty (as good as unset), so the test's own environment doesn't leak in. */
const NO_PROXY_VARIABLES = Object.fromEntries(
  ["http_proxy", "https_proxy", "all_proxy", "no_proxy"].flatMap((name) => [
    [name, ""],
    [name.toUpperCase(), ""],
  ]),
);

/** Runs `code` as app.js in `project`, trusting the test CA, with `env` as the proxy variables. */
function runApp(project: Project, code: string, env: Record<string, string> = {}) {
  project.writeProgram("app", code);
  return runNode(["app.js"], {
    cwd: project.dir,
    env: { ...NO_PROXY_VARIABLES, NODE_EXTRA_CA_CERTS: fixture("ca.pem"), ...env },
  });
}

/** Checks that the program's one connection went through the tunnel the proxy opened. */
async function throughTheProxy(
  proxy: TestProxy,
  tlsServer: { port: number; seen: Promise<ServerConnection> },
) {
  assert.equal(proxy.requests.length, 1);
  assert.match(
    proxy.requests[0]!,
    new RegExp(`^CONNECT localhost:${tlsServer.port} HTTP/1\\.1\r\n`),
  );
  // The server's peer is the proxy's end of the tunnel.
  const ws = await tlsServer.seen;
  assert.deepEqual(proxy.upstreamPorts, [ws.remoteAddress?.port]);
  // TLS runs inside the tunnel: the proxy relays TLS records, and never sees the handshake.
  const relayed = proxy.relayed();
  assert.equal(relayed[0], 0x16, "a TLS handshake record");
  assert.doesNotMatch(relayed.toString("latin1"), /websocket|Sec-WebSocket|GET \//i);
}

describe(PAGE, () => {
  it("connects through the explicit HTTP proxy, TLS end to end", async () => {
    await using proxy = await startProxy();
    const tlsServer = await startTlsServer();
    await using _server = tlsServer.server;
    using project = scratchProject();
    let code = example('proxy: "http://proxy.example.com:3128"');
    code = edit(code, "wss://echo.example.com/", `wss://localhost:${tlsServer.port}/`);
    code = edit(code, "http://proxy.example.com:3128", `http://127.0.0.1:${proxy.port}`);

    assert.deepEqual(await runApp(project, code), { code: 0, stdout: "", stderr: "" });
    await throughTheProxy(proxy, tlsServer);
  });

  it("takes the proxy from HTTPS_PROXY with proxy: true, and bypasses it for NO_PROXY hosts", async () => {
    using project = scratchProject();
    let code = example("proxy: true");
    const command = /^\/\/ ((?:[A-Z_]+=\S+ )+)node app\.js$/m.exec(code);
    assert.ok(command !== null, "the example says how to run it");
    const env = Object.fromEntries(
      command[1]!
        .trim()
        .split(" ")
        .map((setting) => setting.split("=") as [string, string]),
    );
    assert.deepEqual(Object.keys(env), ["HTTPS_PROXY", "NO_PROXY"]);
    assert.equal(env.HTTPS_PROXY, "http://proxy.example.com:3128");

    {
      // HTTPS_PROXY alone: through the proxy.
      await using proxy = await startProxy();
      const tlsServer = await startTlsServer();
      await using _server = tlsServer.server;
      code = edit(code, "wss://echo.example.com/", `wss://localhost:${tlsServer.port}/`);
      const run = await runApp(project, code, { HTTPS_PROXY: `http://127.0.0.1:${proxy.port}` });
      assert.deepEqual(run, { code: 0, stdout: "", stderr: "" });
      await throughTheProxy(proxy, tlsServer);
    }
    {
      // With the example's NO_PROXY, localhost is reached directly.
      await using proxy = await startProxy();
      const tlsServer = await startTlsServer();
      await using _server = tlsServer.server;
      const direct = code.replace(/wss:\/\/localhost:\d+\//, `wss://localhost:${tlsServer.port}/`);
      const run = await runApp(project, direct, {
        HTTPS_PROXY: `http://127.0.0.1:${proxy.port}`,
        NO_PROXY: env.NO_PROXY!,
      });
      assert.deepEqual(run, { code: 0, stdout: "", stderr: "" });
      assert.deepEqual(proxy.requests, []);
      await tlsServer.seen;
    }
  });
});
