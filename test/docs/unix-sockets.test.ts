/**
 * docs/howto/unix-sockets.md's server and client, run as a user would, from
 * a project of their own, with the socket in a scratch directory instead of
 * /tmp/echo.sock.
 */

import assert from "node:assert/strict";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { runNode, startNode } from "../helpers/child.js";
import { codeBlocks, ROOT, readMarkdown } from "./markdown.js";
import { scratchProject } from "./project.js";

const PAGE = "docs/howto/unix-sockets.md";
const blocks = codeBlocks(readMarkdown(fileURLToPath(ROOT), PAGE));

/** The page's ```ts block that calls `call`. */
function example(call: string): string {
  const found = blocks.find(
    (block) => block.lang === "ts" && block.code.includes(`await ${call}(`),
  );
  assert.ok(found !== undefined, `${PAGE} has an example that calls ${call}()`);
  return found.code;
}

describe(PAGE, { skip: process.platform === "win32" ? "no Unix sockets" : false }, () => {
  it("serves on the socket; Ctrl-C removes it, so the server starts again", async () => {
    using project = scratchProject();
    const socket = join(project.dir, "echo.sock");
    project.writeProgram("server", example("serve").replaceAll("/tmp/echo.sock", socket));
    project.writeProgram("client", example("connect").replaceAll("/tmp/echo.sock", socket));

    for (const run of ["first", "second"]) {
      await using server = await startNode(["server.js"], {
        cwd: project.dir,
        ready: /Listening on (.*)\n/,
      });
      assert.equal(server.ready[1], socket);
      const client = await runNode(["client.js"], { cwd: project.dir });
      assert.deepEqual(client, { code: 0, stdout: "Hello over a Unix socket!\n", stderr: "" });

      server.child.kill("SIGINT");
      const { code, signal, stderr } = await server.exited;
      assert.equal(stderr, "");
      assert.deepEqual([code, signal], [0, null], `${run} run: SIGINT closes the server`);
      assert.equal(existsSync(socket), false, `${run} run: the socket file is removed`);
    }
  });

  it("opens the socket to the group, and serves on it", async () => {
    using project = scratchProject();
    const socket = join(project.dir, "app.sock");
    project.writeProgram("server", example("chmod").replaceAll("/run/app/app.sock", socket));
    project.writeProgram("client", example("connect").replaceAll("/tmp/echo.sock", socket));
    await using server = await startNode(["server.js"], {
      cwd: project.dir,
      ready: /Listening on (.*)\n/,
    });
    assert.equal(server.ready[1], socket);
    assert.equal((statSync(socket).mode & 0o777).toString(8), "660");
    const client = await runNode(["client.js"], { cwd: project.dir });
    assert.deepEqual(client, { code: 0, stdout: "Hello over a Unix socket!\n", stderr: "" });
  });
});
