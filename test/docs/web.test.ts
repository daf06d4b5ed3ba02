/**
 * docs/reference/web.md's first example, run as the page says: against the
 * echo server of `npm start` (examples/echo/server.ts), from a project that
 * installed the package (a link in node_modules/, as `npm install <path>`
 * leaves). The example is compiled as it stands, only its URI changed to the
 * port the server picked.
 */

import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { runNode, startNode } from "../helpers/child.js";
import { codeBlocks, ROOT, readMarkdown } from "./markdown.js";

const root = fileURLToPath(ROOT);
const PAGE = "docs/reference/web.md";
const ECHO_SERVER = fileURLToPath(new URL("../../examples/echo/server.js", import.meta.url));
const project = mkdtempSync(join(tmpdir(), "websockets-ts-web-example-"));

after(() => rmSync(project, { recursive: true, force: true }));

describe(`${PAGE}'s first example`, () => {
  it("prints the echo, then 1000 done true, against the echo server of npm start", async () => {
    const example = codeBlocks(readMarkdown(root, PAGE)).find(
      (block) => block.lang === "ts" && block.code.includes('new WebSocket("ws://127.0.0.1:8001"'),
    );
    assert.ok(example !== undefined, `${PAGE} has an example that connects to the echo server`);

    await using server = await startNode([ECHO_SERVER], {
      env: { PORT: "0" },
      ready: /Listening on (ws:\/\/127\.0\.0\.1:\d+)\n/,
    });
    const uri = server.ready[1]!;

    writeFileSync(join(project, "package.json"), JSON.stringify({ type: "module" }));
    mkdirSync(join(project, "node_modules"));
    symlinkSync(root, join(project, "node_modules/websockets-ts"), "junction");
    const { outputText } = ts.transpileModule(example.code.replace("ws://127.0.0.1:8001", uri), {
      compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
    });
    writeFileSync(join(project, "example.js"), outputText);

    const { code, stdout, stderr } = await runNode(["example.js"], { cwd: project });
    assert.equal(stderr, "");
    assert.equal(code, 0);
    assert.equal(stdout, "Hello!\n1000 done true\n");
  });
});
