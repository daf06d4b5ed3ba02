/**
 * docs/topics/keepalive.md's programs, run from a project of a user's: the
 * latency example against a wss:// echo server of the test's (its CA trusted
 * through NODE_EXTRA_CA_CERTS, the URI's host and port changed to it), and
 * the server that reports clients gone, on 127.0.0.1 and a port the system
 * picks, with its 10 s and 5 s cut to 100 ms and 1 s, against a client that stops
 * answering pings. The last example only declares its inputs; it is
 * type-checked, not run.
 */

import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { after, describe, it } from "node:test";
import { connect, Opcode, serve } from "../../src/index.js";
import { runNode } from "../helpers/child.js";
import { closePayload, RawPeer } from "../helpers/raw.js";
import { echo, unhandledRejections } from "../helpers/server.js";
import { edit, examplesOf, fixture, startProgram, testCertificate } from "./programs.js";
import { scratchProject } from "./project.js";

const PAGE = "docs/topics/keepalive.md";
const example = examplesOf(PAGE);

after(() => {
  assert.deepEqual(unhandledRejections(), []);
});

describe(`${PAGE}: latency`, () => {
  it("prints the round trip of its ping, and the same as the last known latency", async () => {
    const server = await serve(echo, {
      host: "127.0.0.1",
      port: 0,
      tls: testCertificate(),
      logger: null,
    });
    await using _server = server;
    const { port } = server.address() as AddressInfo;
    using project = scratchProject();
    const code = edit(
      example("await ws.ping()"),
      "wss://example.com/feed",
      `wss://localhost:${port}/feed`,
    );
    project.writeProgram("latency", code);
    const run = await runNode(["latency.js"], {
      cwd: project.dir,
      env: { NODE_EXTRA_CA_CERTS: fixture("ca.pem") },
    });
    assert.equal(run.stderr, "");
    assert.equal(run.code, 0);
    const printed = /^round trip: (\d+\.\d) ms\nlast known: (\d+\.\d) ms\n$/.exec(run.stdout);
    assert.ok(printed !== null, run.stdout);
    // Printed to 0.1 ms: a fast loopback may round it to 0.0.
    assert.ok(Number(printed[1]) >= 0);
    // No keepalive ping had time to go out: the last one answered is ping()'s.
    assert.equal(printed[2], printed[1]);
  });
});

describe(`${PAGE}: when the pong does not come`, () => {
  it("fails the connection of a client that stops answering, with 1011, and says so", async () => {
    using project = scratchProject();
    const code = edit(
      example('error.sent?.reason === "keepalive ping timeout"'),
      "{ port: 8001, pingInterval: 10_000, pingTimeout: 5_000 }",
      '{ host: "127.0.0.1", port: 0, pingInterval: 100, pingTimeout: 2_000 }',
    );
    await using server = await startProgram(project, "server", code);

    // A client that answers pings, as ours does, stays.
    await using ws = await connect(`ws://127.0.0.1:${server.port}`);
    assert.equal(typeof (await ws.ping()), "number");

    // One that doesn't gets a ping, then the close frame; the handler logs it.
    const peer = await RawPeer.connect(server.port);
    assert.match(await peer.handshake(), /^HTTP\/1\.1 101 /);
    const ping = await peer.readFrame();
    assert.equal(ping?.opcode, Opcode.PING);
    assert.equal(ping.data.length, 4);
    assert.deepEqual(closePayload(await peer.readUntilClose()), [1011, "keepalive ping timeout"]);
    await peer.closed;
    await server.waitFor(/^client gone: 127\.0\.0\.1\n/m);
    assert.equal(server.printed, "client gone: 127.0.0.1\n");
    assert.match(
      server.stderr,
      /^keepalive ping timeout; failing the connection \(127\.0\.0\.1:\d+ \/\)\n$/,
    );

    // Meanwhile, the client that answers pings is still served.
    await ws.send("still there");
    assert.equal(await ws.recv(), "still there");
    assert.equal(server.child.exitCode, null);
  });
});
