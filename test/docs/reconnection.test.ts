/**
 * docs/howto/reconnection.md's programs, run from a project of a user's
 * against servers of the test's on loopback: the first loop through a
 * server restart and a crash; the loop with its own retry policy against
 * a server that answers 429 for a while, one that answers 401, and one that
 * answers 503 for good (that one with the delays cut to a millisecond, not
 * to wait minutes for the 21 attempts).
 */

import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { after, describe, it } from "node:test";
import { serve } from "../../src/index.js";
import { runNode } from "../helpers/child.js";
import { deferred, unhandledRejections } from "../helpers/server.js";
import {
  edit,
  examplesOf,
  fixture,
  runFeedClientThroughOutages,
  startProgram,
  testCertificate,
} from "./programs.js";
import { scratchProject } from "./project.js";

const PAGE = "docs/howto/reconnection.md";
const example = examplesOf(PAGE);

after(() => {
  assert.deepEqual(unhandledRejections(), []);
});

describe(`${PAGE}: the loop`, () => {
  it("prints the feed, and connects again after a restart and after a crash", async () => {
    using project = scratchProject();
    // The catch of the example lets the crash go.
    const client = await runFeedClientThroughOutages(
      project,
      example('console.log("disconnected; reconnecting")'),
    );
    assert.equal(
      client.printed,
      "feed 1\ndisconnected; reconnecting\nfeed 2\ndisconnected; reconnecting\nfeed 3\n",
    );
    assert.equal(client.stderr, "");
  });
});

describe(`${PAGE}: a retry policy of one's own`, () => {
  const policy = () => example("shouldRetry: (error, attempt) =>");

  /**
   * Starts a wss:// server on 127.0.0.1 that answers its handshakes with
   * `statuses` in turn (101 accepts), the last one for good; runs the example
   * against it; resolves with the server's port, its count of handshakes, and
   * a promise of its first connection.
   */
  async function server(statuses: readonly number[]) {
    let handshakes = 0;
    const connected = deferred();
    const server = await serve(async () => connected.resolve(), {
      host: "127.0.0.1",
      port: 0,
      tls: testCertificate(),
      logger: null,
      processRequest: () => {
        const status = statuses[Math.min(handshakes++, statuses.length - 1)]!;
        return status === 101 ? undefined : { status };
      },
    });
    return {
      server,
      port: (server.address() as AddressInfo).port,
      handshakes: () => handshakes,
      connected: connected.promise,
    };
  }

  /** The example, on the server's port, the test CA trusted. */
  function program(port: number, code = policy()) {
    return {
      code: edit(code, "wss://example.com/feed", `wss://localhost:${port}/feed`),
      env: { NODE_EXTRA_CA_CERTS: fixture("ca.pem") },
    };
  }

  const RETRYING =
    /^connection attempt failed \(server rejected WebSocket connection: HTTP (\d+)\); retrying in \d+ ms$/gm;

  it("retries 429, and logs each failure with its delay", async () => {
    const { server: wsServer, port, handshakes, connected } = await server([429, 429, 101]);
    await using _server = wsServer;
    using project = scratchProject();
    const { code, env } = program(port);
    // The loop body does nothing: once connected, it connects again and again until killed.
    await using client = await startProgram(project, "client", code, { env, ready: /^/ });
    await connected;
    assert.ok(handshakes() >= 3);
    // What it printed before the third attempt may still be on its way.
    await client.waitFor(/HTTP 429\); retrying[\s\S]*HTTP 429\); retrying/);
    const retried = [...client.stdout.matchAll(RETRYING)].map((match) => match[1]);
    assert.deepEqual(retried, ["429", "429"]);
    assert.equal(client.stderr, "");
  });

  it("doesn't retry 401: the loop throws", async () => {
    const { server: wsServer, port, handshakes } = await server([401]);
    await using _server = wsServer;
    using project = scratchProject();
    const { code, env } = program(port);
    project.writeProgram("client", code);
    const run = await runNode(["client.js"], { cwd: project.dir, env });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /InvalidStatus: server rejected WebSocket connection: HTTP 401/);
    assert.equal(handshakes(), 1);
  });

  it("gives up after 20 failures in a row: the loop throws the 21st", async () => {
    const { server: wsServer, port, handshakes } = await server([503]);
    await using _server = wsServer;
    using project = scratchProject();
    let fast = edit(policy(), "initialDelay: 500,", "initialDelay: 1,");
    fast = edit(fast, "maxDelay: 30_000,", "maxDelay: 1,");
    const { code, env } = program(port, fast);
    project.writeProgram("client", code);
    const run = await runNode(["client.js"], { cwd: project.dir, env });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /InvalidStatus: server rejected WebSocket connection: HTTP 503/);
    assert.equal(handshakes(), 21);
    assert.equal([...run.stdout.matchAll(RETRYING)].length, 20);
  });
});
