/**
 * docs/intro/getting-started.md, followed as a newcomer does: a project of
 * their own set up as the page says ("type": "module", the package and
 * Node's types installed, the page's tsconfig.json), the page's server.ts
 * and client.ts compiled there with TypeScript and run with this Node. A
 * setup that compiles but leaves syntax Node 20 can't parse, or doesn't
 * compile at all, fails here. And the handshake the page shows is the one
 * the client sends.
 */

import assert from "node:assert/strict";
import { readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { connect } from "../../src/node/client.js";
import { runNode, startNode } from "../helpers/child.js";
import { codeBlocks, ROOT, readMarkdown } from "./markdown.js";
import { type Project, scratchProject } from "./project.js";

const root = fileURLToPath(ROOT);
const PAGE = "docs/intro/getting-started.md";
const blocks = codeBlocks(readMarkdown(root, PAGE));

/** The page's block of language `lang` whose text matches `pattern`. */
function block(lang: string, pattern: RegExp): string {
  const found = blocks.filter((b) => b.lang === lang && pattern.test(b.code));
  assert.equal(found.length, 1, `${PAGE} has one \`\`\`${lang} block matching ${pattern}`);
  return found[0]!.code;
}

/** A port nobody listens on now, for the page's programs, which say 8001. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe(`${PAGE}, followed in a project of one's own`, () => {
  let scratch: Project;
  let project: string;
  let port: number;

  before(async () => {
    scratch = scratchProject();
    project = scratch.dir;
    port = await freePort();
  });

  after(() => scratch?.[Symbol.dispose]());

  it("says to make the project an ES module and install the types it compiles with", () => {
    const setup = block("console", /npm init/);
    assert.match(setup, /npm pkg set type=module/);
    assert.match(setup, /npm install --save-dev typescript@5 @types\/node@20/);
  });

  it("compiles server.ts and client.ts with its tsconfig.json, for Node 20", () => {
    const tsconfig = block("json", /"compilerOptions"/);
    writeFileSync(join(project, "tsconfig.json"), tsconfig);
    // What `npm install --save-dev @types/node` leaves.
    symlinkSync(
      join(root, "node_modules/@types"),
      join(project, "node_modules/@types"),
      "junction",
    );
    for (const name of ["server", "client"]) {
      const code = block("ts", new RegExp(`^// ${name}\\.ts:`));
      writeFileSync(join(project, `${name}.ts`), code.replaceAll("8001", String(port)));
    }

    const { config } = ts.readConfigFile(join(project, "tsconfig.json"), ts.sys.readFile);
    const parsed = ts.parseJsonConfigFileContent(config, ts.sys, project);
    assert.deepEqual(parsed.errors, []);
    const program = ts.createProgram(parsed.fileNames, parsed.options);
    const { diagnostics } = program.emit();
    assert.deepEqual(
      [...ts.getPreEmitDiagnostics(program), ...diagnostics].map((d) =>
        ts.formatDiagnostic(d, {
          getCanonicalFileName: (f) => f,
          getCurrentDirectory: () => project,
          getNewLine: () => "\n",
        }),
      ),
      [],
    );
    for (const name of ["server", "client"]) {
      const js = readFileSync(join(project, `${name}.js`), "utf8");
      // Node 20 can't parse `await using`: the target must make tsc rewrite it.
      assert.doesNotMatch(js, /\bawait using\b/, `${name}.js`);
    }
  });

  it("runs them: the client prints the echo, and Ctrl-C stops the server", async () => {
    await using server = await startNode(["server.js"], {
      cwd: project,
      ready: /Listening on ws:\/\/127\.0\.0\.1:\d+\n/,
    });
    const client = await runNode(["client.js"], { cwd: project });
    assert.equal(client.stderr, "");
    assert.equal(client.stdout, "<<< Hello!\nConnection closed.\n");
    assert.equal(client.code, 0);

    server.child.kill("SIGINT");
    const { code, signal, stdout, stderr } = await server.exited;
    assert.equal(stderr, "");
    assert.deepEqual([code, signal], [0, null], "SIGINT closes the server, which then exits");
    assert.equal(stdout, `Listening on ws://127.0.0.1:${port}\n<<< Hello!\n>>> Hello!\n`);
  });

  it("shows the opening handshake request the client sends", async () => {
    const request = new Promise<string>((resolve) => {
      const server = createServer((socket: Socket) => {
        let head = "";
        socket.setEncoding("latin1").on("data", (text: string) => {
          head += text;
          if (!head.includes("\r\n\r\n")) return;
          resolve(head);
          socket.destroy();
          server.close();
        });
      }).listen(0, "127.0.0.1", () => {
        const { port } = server.address() as { port: number };
        // It fails: the server hangs up instead of answering.
        connect(`ws://127.0.0.1:${port}`).catch(() => {});
      });
    });
    const shown = block("http", /^GET /);
    const key = /^Sec-WebSocket-Key: (.*)$/m.exec(shown)![1]!;
    // What changes from one run to the next: the port, the random key, the version.
    const normalize = (head: string) =>
      head
        .trim()
        .split(/\r?\n/)
        .map((line) =>
          line
            .replace(/^(Host: 127\.0\.0\.1):\d+$/, "$1:PORT")
            .replace(/^(Sec-WebSocket-Key:) .*$/, `$1 ${key}`)
            .replace(/^(User-Agent: websockets-ts)\/.*$/, "$1/VERSION"),
        );
    assert.deepEqual(normalize(shown), normalize(await request));
  });
});
