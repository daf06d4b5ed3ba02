/**
 * The worker thread never outlives its connection: after close(), after a
 * failed handshake, after the peer closed, and when the process ends.
 */

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, readdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { after, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import type { Worker } from "node:worker_threads";
import { ConnectionClosedError, InvalidStatus } from "../../src/core/errors.js";
import { connect } from "../../src/sync/index.js";
import { LIVENESS } from "../../src/sync/link.js";
import { runNode } from "../helpers/child.js";
import { unhandledRejections } from "../helpers/server.js";
import { Peer } from "./peer.js";

after(() => {
  assert.deepEqual(unhandledRejections(), []);
});

const TASKS = "/proc/self/task";

function threadCount(): number {
  return readdirSync(TASKS).length;
}

/**
 * Waits until the process has no more threads than `baseline`. A thread that
 * ended is joined without any event this thread could await, so this polls.
 */
async function threadsBackTo(baseline: number): Promise<number> {
  for (let attempt = 0; attempt < 500 && threadCount() > baseline; attempt++) await sleep(10);
  return threadCount();
}

const CHILD = fileURLToPath(new URL("./child.js", import.meta.url));

/** Runs child.js in a child process; resolves with its exit code and output. */
function runChild(
  mode: string,
  uri: string,
  nodeOptions: string[] = [],
): { done: Promise<{ code: number | null; stdout: string }>; kill(): void } {
  const child = spawn(process.execPath, [...nodeOptions, CHILD, "--sync-child", mode, uri], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let stdout = "";
  child.stdout.setEncoding("utf8").on("data", (text: string) => {
    stdout += text;
  });
  // Bounded: a child that hangs fails the test instead of hanging it.
  const watchdog = setTimeout(() => child.kill(), 30_000);
  const done = once(child, "exit").then(([code]) => {
    clearTimeout(watchdog);
    return { code: code as number | null, stdout };
  });
  return { done, kill: () => child.kill() };
}

describe("sync client threads", { skip: !existsSync(TASKS) && "needs /proc/self/task" }, () => {
  it("ends the worker thread after close(), a failed handshake and a peer's close", async () => {
    await using peer = await Peer.start("ours");
    // Warm up what starts threads lazily (libuv's pool, the first worker).
    await readFile(CHILD);
    connect(peer.uri()).close();
    const baseline = await threadsBackTo(Number.POSITIVE_INFINITY);

    for (let i = 0; i < 3; i++) {
      const client = connect(peer.uri());
      client.send("ping");
      assert.equal(client.recv(), "ping");
      client.close();
      assert.throws(() => connect(peer.uri("/forbidden")), InvalidStatus);
      const closedByPeer = connect(peer.uri());
      closedByPeer.send("close 1000");
      assert.deepEqual([...closedByPeer], []);
    }
    assert.ok((await threadsBackTo(baseline)) <= baseline, `${threadCount()} > ${baseline}`);
  });
});

describe("a worker thread that stops without a word", () => {
  it("fails the blocked call instead of blocking forever", async () => {
    await using peer = await Peer.start("ours");
    const saved = { ...LIVENESS };
    Object.assign(LIVENESS, { beat: 100, slice: 100, limit: 1_000 });
    try {
      using client = connect(peer.uri());
      // As the runtime does to a worker out of memory: its exit handler never runs.
      void (client as unknown as { link: { worker: Worker } }).link.worker.terminate();
      let error: unknown;
      try {
        client.recv();
      } catch (caught) {
        error = caught;
      }
      assert.ok(error instanceof ConnectionClosedError, String(error));
      assert.equal((error.cause as Error).message, "the worker thread stopped responding");
      assert.equal(client.closeCode, 1006);
    } finally {
      Object.assign(LIVENESS, saved);
    }
  });
});

describe("processes using the sync client", () => {
  it("exit by themselves when a connection is left open", async () => {
    await using peer = await Peer.start("ours");
    const child = runChild("open", peer.uri("/left-open"));
    const { code, stdout } = await child.done;
    assert.equal(code, 0);
    assert.equal(stdout, "hello\ndone\n");
    // The thread died with the process: the server saw the TCP connection drop.
    assert.equal((await peer.next("closed", "/left-open")).code, 1006);
  });

  it("work from a module given with node --input-type=module -e, and trace with NODE_DEBUG", async () => {
    // Workers inherit the parent's execArgv, which makes their eval code a module here.
    await using peer = await Peer.start("ours");
    const library = new URL("../../src/sync/index.js", import.meta.url).href;
    const script = `
      import { connect } from ${JSON.stringify(library)};
      const ws = connect(${JSON.stringify(peer.uri("/from-eval"))});
      ws.send("from eval");
      console.log(ws.recv());
      ws.close();
    `;
    const run = await runNode(["--input-type=module", "-e", script], {
      env: { NODE_DEBUG: "websockets-ts" },
    });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, "from eval\n");
    // The worker thread traces the connection it runs.
    assert.match(
      run.stderr,
      /^WEBSOCKETS-TS \d+: ws:\/\/[^ ]+\/from-eval > GET \/from-eval HTTP\/1\.1$/m,
    );
    assert.match(run.stderr, / < TEXT "from eval" \[9 bytes\]$/m);
  });

  it("close a connection dropped without closing once it is garbage-collected", async () => {
    await using peer = await Peer.start("ours");
    const child = runChild("abandon", peer.uri("/abandoned"), ["--expose-gc"]);
    try {
      const closed = await peer.next("closed", "/abandoned");
      assert.equal(closed.code, 1001);
    } finally {
      child.kill();
      await child.done;
    }
  });
});
