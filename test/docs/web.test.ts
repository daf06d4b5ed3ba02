/**
 * docs/reference/web.md's first example, run as the page says: against the
 * echo server of `npm start` (examples/echo/server.ts), from a project of a
 * user's. The example runs as it stands, only its URI changed to the port
 * the server picked.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { runNode, startNode } from "../helpers/child.js";
import { codeBlocks, ROOT, readMarkdown } from "./markdown.js";
import { scratchProject } from "./project.js";

const PAGE = "docs/reference/web.md";
const ECHO_SERVER = fileURLToPath(new URL("../../examples/echo/server.js", import.meta.url));

describe(`${PAGE}'s first example`, () => {
  it("prints the echo, then 1000 done true, against the echo server of npm start", async () => {
    const example = codeBlocks(readMarkdown(fileURLToPath(ROOT), PAGE)).find(
      (block) => block.lang === "ts" && block.code.includes('new WebSocket("ws://127.0.0.1:8001"'),
    );
    assert.ok(example !== undefined, `${PAGE} has an example that connects to the echo server`);

    await using server = await startNode([ECHO_SERVER], {
      env: { PORT: "0" },
      ready: /Listening on (ws:\/\/127\.0\.0\.1:\d+)\n/,
    });
    using project = scratchProject();
    project.writeProgram("example", example.code.replace("ws://127.0.0.1:8001", server.ready[1]!));

    const { code, stdout, stderr } = await runNode(["example.js"], { cwd: project.dir });
    assert.equal(stderr, "");
    assert.equal(code, 0);
    assert.equal(stdout, "Hello!\n1000 done true\n");
  });
});
