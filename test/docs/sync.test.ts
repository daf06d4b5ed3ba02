/**
 * docs/reference/sync.md's program that handles Ctrl-C, run as a user would,
 * from a project of their own, in a child process: a loop of blocking calls
 * that gives the event loop a turn between them stops on SIGINT, and its
 * `using` closes the connection with 1000.
 */

import assert from "node:assert/strict";
import { performance } from "node:perf_hooks";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { ServerConnection } from "../../src/node/server.js";
import { startNode } from "../helpers/child.js";
import { deferred, startServer, within } from "../helpers/server.js";
import { codeBlocks, ROOT, readMarkdown } from "./markdown.js";
import { scratchProject } from "./project.js";

const PAGE = "docs/reference/sync.md";
const blocks = codeBlocks(readMarkdown(fileURLToPath(ROOT), PAGE));

/** Bound on how long the program takes to stop once signalled. */
const EXIT_BOUND_MS = 10_000;

describe(`${PAGE}: handling signals`, () => {
  it("stops the loop of blocking calls on SIGINT, and closes with 1000", async () => {
    const found = blocks.filter((block) => block.lang === "ts" && block.code.includes("SIGINT"));
    assert.equal(found.length, 1, `${PAGE} has one example with SIGINT`);
    const closed = deferred<ServerConnection>();
    const { server, uri } = await startServer(async (ws) => {
      // The program prints what it receives: this says its loop is running.
      await ws.send("looping");
      for await (const _ of ws) {
        // Nothing else is sent.
      }
      closed.resolve(ws);
    });
    await using _server = server;
    using project = scratchProject();
    const code = found[0]!.code;
    assert.equal(code.split('"ws://127.0.0.1:8001"').length, 2, "the example connects once");
    project.writeProgram("client", code.replace('"ws://127.0.0.1:8001"', JSON.stringify(uri)));
    await using program = await startNode(["client.js"], { cwd: project.dir, ready: /looping\n/ });

    const signalled = performance.now();
    program.child.kill("SIGINT");
    const { code: exitCode, signal, stdout, stderr } = await program.exited;
    const elapsed = performance.now() - signalled;
    assert.ok(elapsed < EXIT_BOUND_MS, `exited ${Math.round(elapsed)} ms after the signal`);
    assert.deepEqual([exitCode, signal, stdout, stderr], [0, null, "looping\n", ""]);
    const ws = await within(closed.promise, 5000, "the server's side of the close");
    assert.equal(ws.closeCode, 1000);
  });
});
