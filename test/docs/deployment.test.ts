/**
 * docs/howto/deployment.md's programs, run as a user would, from a project
 * of their own, each in a child process on a port it picks (`PORT=0`): a
 * signal closes the connections with 1001 and ends the process with 0; a
 * cluster of workers shares the port, replaces a crashed worker and stops
 * on one signal or on a signal to every process; the client's address is
 * read from X-Forwarded-For only when a trusted proxy sent it; the health
 * check fails while the server drains, and the server still serves.
 */

import assert from "node:assert/strict";
import { performance } from "node:perf_hooks";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { ClientConnection } from "../../src/node/client.js";
import { connect } from "../../src/node/client.js";
import { type RunningNode, startNode } from "../helpers/child.js";
import { closePayload, RawPeer } from "../helpers/raw.js";
import { codeBlocks, ROOT, readMarkdown } from "./markdown.js";
import { type Project, scratchProject } from "./project.js";

const PAGE = "docs/howto/deployment.md";
const blocks = codeBlocks(readMarkdown(fileURLToPath(ROOT), PAGE));

/** The page's one ```ts block that contains `marker`. */
function example(marker: string): string {
  const found = blocks.filter((block) => block.lang === "ts" && block.code.includes(marker));
  assert.equal(found.length, 1, `${PAGE} has one example with ${marker}`);
  return found[0]!.code;
}

/** `code` with `from`, which must be there once, replaced by `to`. */
function edit(code: string, from: string, to: string): string {
  assert.equal(code.split(from).length, 2, `the example has ${from} once`);
  return code.replace(from, to);
}

/** Bound on how long a program takes to stop once signalled, when nothing holds it up. */
const EXIT_BOUND_MS = 10_000;

/** Starts `code` as server.js in `project`, with `PORT=0`; resolves once it printed its port. */
function start(
  project: Project,
  code: string,
  env: Record<string, string> = {},
  ready = /Listening on port (\d+)\n/,
): Promise<RunningNode> {
  project.writeProgram("server", code);
  return startNode(["server.js"], { cwd: project.dir, env: { PORT: "0", ...env }, ready });
}

/** The child's exit, and how long after `since` it came; fails the test past `bound`. */
async function exitWithin(running: RunningNode, since: number, bound = EXIT_BOUND_MS) {
  const exit = await running.exited;
  const elapsed = performance.now() - since;
  assert.ok(elapsed < bound, `exited ${Math.round(elapsed)} ms after the signal`);
  return exit;
}

async function echoes(ws: ClientConnection, message: string): Promise<string> {
  await ws.send(message);
  return ws.recvText();
}

describe(`${PAGE}: shutting down`, () => {
  const shutdown = () => example('process.once("SIGTERM", shutDown)');

  it("closes open connections with 1001 on SIGTERM, then exits with 0", async () => {
    using project = scratchProject();
    await using server = await start(project, shutdown());
    const port = Number(server.ready[1]);
    const ws = await connect(`ws://127.0.0.1:${port}`);
    assert.equal(await echoes(ws, "Hello!"), "Hello!");

    const signalled = performance.now();
    server.child.kill("SIGTERM");
    // The client's loop ends quietly: a normal closure.
    const messages: unknown[] = [];
    for await (const message of ws) messages.push(message);
    assert.deepEqual(messages, []);
    assert.equal(ws.closeCode, 1001);

    const { code, signal, stdout, stderr } = await exitWithin(server, signalled);
    assert.equal(stderr, "");
    assert.deepEqual([code, signal], [0, null]);
    assert.equal(stdout, `Listening on port ${port}\nSIGTERM: closing connections\nClosed\n`);
    // And it no longer listens.
    await assert.rejects(connect(`ws://127.0.0.1:${port}`), { code: "ECONNREFUSED" });
  });

  it("does the same on SIGINT", async () => {
    using project = scratchProject();
    await using server = await start(project, shutdown());
    const ws = await connect(`ws://127.0.0.1:${server.ready[1]}`);
    server.child.kill("SIGINT");
    await ws.closed;
    assert.equal(ws.closeCode, 1001);
    const { code, signal, stdout } = await server.exited;
    assert.deepEqual([code, signal], [0, null]);
    assert.match(stdout, /SIGINT: closing connections\nClosed\n$/);
  });

  it("drops a client that doesn't answer the close frame after closeTimeout", async () => {
    using project = scratchProject();
    const code = edit(shutdown(), "closeTimeout: 5_000", "closeTimeout: 500");
    await using server = await start(project, code);
    const peer = await RawPeer.connect(Number(server.ready[1]));
    assert.match(await peer.handshake(), /^HTTP\/1\.1 101 /);

    const signalled = performance.now();
    server.child.kill("SIGTERM");
    // The peer reads the close frame and answers nothing: the server hangs up on it.
    assert.deepEqual(closePayload(await peer.readUntilClose()), [1001, ""]);
    await peer.closed;
    const exit = await exitWithin(server, signalled);
    assert.deepEqual([exit.code, exit.signal], [0, null]);
    assert.ok(
      performance.now() - signalled >= 400,
      "the server waited for the close frame about closeTimeout",
    );
  });
});

describe(`${PAGE}: node:cluster`, () => {
  const program = () => example("cluster.fork()");
  const LISTENING = /worker (\d+) listening on port (\d+)\n/g;
  /** Resolves once `count` workers printed that they listen; returns their pids and the port. */
  async function listening(server: RunningNode, count: number) {
    const pattern = new RegExp(`(?:[^]*?worker \\d+ listening on port \\d+\\n){${count}}`);
    await server.waitFor(pattern);
    const lines = [...server.stdout.matchAll(LISTENING)];
    const ports = new Set(lines.map((line) => line[2]));
    assert.equal(ports.size, 1, "every worker listens on the same port");
    return { pids: lines.map((line) => Number(line[1])), port: Number([...ports][0]) };
  }

  it("spreads connections over the workers, replaces one that dies, stops on SIGTERM", async () => {
    using project = scratchProject();
    project.writeProgram("server", program());
    await using server = await startNode(["server.js"], {
      cwd: project.dir,
      env: { PORT: "0", WORKERS: "2" },
      ready: /^/,
    });
    const { pids, port } = await listening(server, 2);

    const servedBy = new Set<number>();
    for (let i = 0; i < 6; i++) {
      await using ws = await connect(`ws://127.0.0.1:${port}`);
      const answer = await echoes(ws, `hello ${i}`);
      const match = /^worker (\d+): hello (\d)$/.exec(answer);
      assert.ok(match !== null && match[2] === String(i), answer);
      servedBy.add(Number(match[1]));
    }
    assert.ok([...servedBy].every((pid) => pids.includes(pid)));
    if (process.platform !== "win32") {
      assert.equal(servedBy.size, 2, "the primary hands connections to the workers in turn");
    }

    // A worker that crashes is replaced.
    process.kill(pids[0]!, "SIGKILL");
    const after = await listening(server, 3);
    assert.equal(after.port, port);

    const clients = await Promise.all([0, 1, 2, 3].map(() => connect(`ws://127.0.0.1:${port}`)));
    for (const ws of clients) assert.match(await echoes(ws, "hi"), /^worker \d+: hi$/);
    const signalled = performance.now();
    server.child.kill("SIGTERM");
    for (const ws of clients) {
      await ws.closed;
      assert.equal(ws.closeCode, 1001);
    }
    const { code, signal, stdout, stderr } = await exitWithin(server, signalled);
    assert.deepEqual([code, signal], [0, null]);
    // The one killed was replaced; none was on the way out.
    assert.equal(stderr, `worker ${pids[0]} died (SIGKILL); starting another\n`);
    assert.equal([...stdout.matchAll(LISTENING)].length, 3);
  });

  it("stops when every process gets the signal, as systemd sends it", async () => {
    using project = scratchProject();
    project.writeProgram("server", program());
    await using server = await startNode(["server.js"], {
      cwd: project.dir,
      env: { PORT: "0", WORKERS: "2" },
      ready: /^/,
    });
    const { pids, port } = await listening(server, 2);
    const clients = await Promise.all([0, 1].map(() => connect(`ws://127.0.0.1:${port}`)));
    for (const ws of clients) assert.match(await echoes(ws, "hi"), /^worker \d+: hi$/);

    const signalled = performance.now();
    for (const pid of [server.child.pid!, ...pids]) process.kill(pid, "SIGTERM");
    for (const ws of clients) {
      await ws.closed;
      assert.equal(ws.closeCode, 1001, "a worker signalled twice still closes its connections");
    }
    const { code, signal, stderr } = await exitWithin(server, signalled);
    assert.equal(stderr, "");
    assert.deepEqual([code, signal], [0, null]);
  });
});

describe(`${PAGE}: the client's address behind a proxy`, () => {
  const program = () => example("X-Forwarded-For");

  /** Connects with these X-Forwarded-For fields and returns the line the server logged. */
  async function logged(server: RunningNode, forwardedFor: readonly string[]): Promise<string> {
    const lines = server.stdout.split("\n").length - 1;
    await using ws = await connect(`ws://127.0.0.1:${server.ready[1]}`, {
      additionalHeaders: forwardedFor.map((value) => ["X-Forwarded-For", value] as const),
    });
    assert.equal(await echoes(ws, "hi"), "hi");
    // The line may reach this process after the echo: wait for one line more.
    const [output] = await server.waitFor(new RegExp(`^(?:.*\n){${lines + 1}}`));
    return /^(.*) connected$/.exec(output.split("\n")[lines]!)![1]!;
  }

  it("believes the last hop added by a trusted proxy, not what the client made up", async () => {
    using project = scratchProject();
    await using server = await start(project, program());
    // The test connects from 127.0.0.1: one of the example's proxies.
    assert.equal(await logged(server, ["203.0.113.7"]), "203.0.113.7");
    assert.equal(await logged(server, ["192.0.2.66, 203.0.113.7"]), "203.0.113.7");
    assert.equal(await logged(server, ["192.0.2.66", "203.0.113.7"]), "203.0.113.7");
    assert.equal(await logged(server, []), "127.0.0.1");
  });

  it("goes back through every hop that is a trusted proxy", async () => {
    using project = scratchProject();
    const code = edit(program(), '["127.0.0.1", "::1"]', '["127.0.0.1", "10.0.0.2"]');
    await using server = await start(project, code);
    assert.equal(await logged(server, ["192.0.2.66, 203.0.113.7, 10.0.0.2"]), "203.0.113.7");
    assert.equal(await logged(server, ["10.0.0.2"]), "10.0.0.2");
  });

  it("ignores the header from a peer that is not a trusted proxy", async () => {
    using project = scratchProject();
    const code = edit(program(), '["127.0.0.1", "::1"]', '["192.0.2.254"]');
    await using server = await start(project, code);
    assert.equal(await logged(server, ["203.0.113.7"]), "127.0.0.1");
  });
});

describe(`${PAGE}: health checks and draining`, () => {
  it("fails the health check while it drains, serves meanwhile, then closes", async () => {
    using project = scratchProject();
    const code = edit(example("draining = true"), "drainTime = 15_000", "drainTime = 3_000");
    await using server = await start(project, code);
    const base = `127.0.0.1:${server.ready[1]}`;
    const health = async () => {
      const response = await fetch(`http://${base}/healthz`);
      return [response.status, await response.text()];
    };
    assert.deepEqual(await health(), [200, "OK\n"]);
    const before = await connect(`ws://${base}`);

    const signalled = performance.now();
    server.child.kill("SIGTERM");
    await server.waitFor(/SIGTERM: draining\n/);
    assert.deepEqual(await health(), [503, "Draining.\n"]);
    // Still serving, old connections and new ones alike.
    assert.equal(await echoes(before, "old"), "old");
    const during = await connect(`ws://${base}`);
    assert.equal(await echoes(during, "new"), "new");
    assert.ok(
      performance.now() - signalled < 3_000,
      "the checks above ran within the drain time; make it longer if this fails",
    );

    for (const ws of [before, during]) {
      await ws.closed;
      assert.equal(ws.closeCode, 1001);
    }
    const { code: exitCode, signal, stderr } = await exitWithin(server, signalled, 15_000);
    assert.equal(stderr, "");
    assert.deepEqual([exitCode, signal], [0, null]);
  });
});
