/**
 * Running the docs' programs in tests: a page's examples taken from its
 * Markdown, edited only where loopback needs it, and started in a child
 * process from a scratch project ({@link scratchProject}), where a preloaded
 * module prints the port each server got, since the programs listen on
 * port 0 in tests and don't say which port that is.
 */

import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type Handler, InvalidStatus, type Response, type Server, serve } from "../../src/index.js";
import { type RunningNode, startNode } from "../helpers/child.js";
import { codeBlocks, ROOT, readMarkdown } from "./markdown.js";
import type { Project } from "./project.js";

/** The repository root, as a path. */
export const root = fileURLToPath(ROOT);

/** The test certificates' files (test/fixtures/tls/), by name: "ca.pem", … */
export function fixture(name: string): string {
  return join(root, "test/fixtures/tls", name);
}

/** The localhost test certificate and its key, for a server's `tls` option. */
export function testCertificate(): { key: Buffer; cert: Buffer } {
  return {
    key: readFileSync(fixture("localhost-key.pem")),
    cert: readFileSync(fixture("localhost.pem")),
  };
}

/** `code`, a server of the docs on port 8001 of every interface, on loopback and port 0. */
export function onLoopback(code: string): string {
  return edit(code, "port: 8001", 'host: "127.0.0.1", port: 0');
}

/** A finder for `page`'s ```ts blocks: the one block that contains `marker`. */
export function examplesOf(page: string): (marker: string) => string {
  const blocks = codeBlocks(readMarkdown(root, page)).filter((block) => block.lang === "ts");
  return (marker) => {
    const found = blocks.filter((block) => block.code.includes(marker));
    assert.equal(found.length, 1, `${page} has one example with ${marker}`);
    return found[0]!.code;
  };
}

/** `code` with `from`, which must be there `times` times (once by default), replaced by `to`. */
export function edit(code: string, from: string, to: string, times = 1): string {
  assert.equal(code.split(from).length - 1, times, `the example has ${from} ${times}×:\n${code}`);
  return code.replaceAll(from, to);
}

/** What the preloaded module prints when a server starts listening. */
const ANNOUNCEMENT = "[test] listening on port ";
const ANNOUNCED = /^\[test\] listening on port (\d+)\n/m;

/**
 * Preloaded into the programs (`node --import`): announces the port of every
 * `net.Server` (so `http`, `https` and `tls` servers too) as it starts
 * listening, before the program's own "listening" listeners run.
 */
const ANNOUNCER = `import net from "node:net";
const { emit } = net.Server.prototype;
net.Server.prototype.emit = function (event, ...args) {
  if (event === "listening") {
    const address = this.address();
    if (address !== null && typeof address === "object") {
      process.stdout.write(${JSON.stringify(ANNOUNCEMENT)} + address.port + "\\n");
    }
  }
  return emit.call(this, event, ...args);
};
`;

/** A program of the docs, running. */
export interface Program extends RunningNode {
  /** The port its first server listens on, as announced. */
  readonly port: number;
  /** What it printed on its standard output, the announcements left out. */
  readonly printed: string;
}

/** Options of {@link startProgram}. */
export interface StartProgramOptions {
  /** Working directory, for relative paths in the program; the project's by default. */
  readonly cwd?: string;
  /** Variables added to the environment. */
  readonly env?: Readonly<Record<string, string>>;
  /** Resolves once the output matches this; by default, once a server listens. */
  readonly ready?: RegExp;
}

/**
 * Writes `code` to `name`.js in `project` and runs it, resolving once it is
 * ready: by default, once its first server listens. `await using` kills it.
 */
export async function startProgram(
  project: Project,
  name: string,
  code: string,
  options: StartProgramOptions = {},
): Promise<Program> {
  const announcer = join(project.dir, "announce-listening.mjs");
  writeFileSync(announcer, ANNOUNCER);
  const path = project.writeProgram(name, code);
  const running = await startNode(["--import", pathToFileURL(announcer).href, path], {
    cwd: options.cwd ?? project.dir,
    env: options.env ?? {},
    ready: options.ready ?? ANNOUNCED,
  });
  return {
    get child() {
      return running.child;
    },
    get ready() {
      return running.ready;
    },
    get stdout() {
      return running.stdout;
    },
    get stderr() {
      return running.stderr;
    },
    get exited() {
      return running.exited;
    },
    waitFor: running.waitFor,
    [Symbol.asyncDispose]: running[Symbol.asyncDispose],
    get port() {
      const match = ANNOUNCED.exec(running.stdout);
      assert.ok(match !== null, `the program listens:\n${running.stdout}\n${running.stderr}`);
      return Number(match[1]);
    },
    get printed() {
      return running.stdout.replaceAll(new RegExp(ANNOUNCED.source, "gm"), "");
    },
  };
}

/** A refused handshake, as the client saw it: status, headers, body. */
export async function refusal(attempt: Promise<unknown>): Promise<Response> {
  const error = await attempt.then(
    () => assert.fail("the handshake succeeded"),
    (error: unknown) => error,
  );
  assert.ok(error instanceof InvalidStatus, `InvalidStatus, not ${String(error)}`);
  return error.response as Response;
}

/**
 * Writes `code`, a block that defines something without using it (a hook…),
 * followed by `exports` (e.g. `export { processRequest };`), to `name`.js in
 * `project`, and imports it into this process.
 */
export async function importProgram<T>(
  project: Project,
  name: string,
  code: string,
  exports: string,
): Promise<T> {
  const path = project.writeProgram(name, `${code}\n${exports}\n`);
  return (await import(pathToFileURL(path).href)) as T;
}

/** A server that restarts on the same port, for the reconnection loops. */
export interface FeedServer extends AsyncDisposable {
  readonly port: number;
  /** Closes, as a server does when it restarts (1001, going away), and starts again. */
  restart(): Promise<void>;
  /** Drops its connections without a close frame (1006), as a crash does, and starts again. */
  crash(): Promise<void>;
}

/**
 * Starts a server on 127.0.0.1 that sends `feed <n>` on its n-th connection,
 * counted across restarts, and holds the connection until the client closes it.
 */
export async function startFeedServer(): Promise<FeedServer> {
  let count = 0;
  const handler: Handler = async (ws) => {
    await ws.send(`feed ${++count}`);
    await ws.closed;
  };
  const start = (port: number) => serve(handler, { host: "127.0.0.1", port, logger: null });
  let server: Server = await start(0);
  const { port } = server.address() as AddressInfo;
  return {
    port,
    async restart() {
      await server.close();
      server = await start(port);
    },
    async crash() {
      for (const ws of server.connections) ws.terminate();
      await server.close();
      server = await start(port);
    },
    [Symbol.asyncDispose]: () => server.close(),
  };
}

/**
 * Runs `code`, a client of `ws://127.0.0.1:8001/feed`, against a feed server
 * that restarts (closing with 1001), then crashes (no close frame, 1006);
 * resolves with what the client printed, its three connections' feeds among
 * it, and its standard error.
 */
export async function runFeedClientThroughOutages(
  project: Project,
  code: string,
): Promise<{ printed: string; stderr: string }> {
  await using feed = await startFeedServer();
  const client = edit(code, "ws://127.0.0.1:8001/feed", `ws://127.0.0.1:${feed.port}/feed`);
  await using running = await startProgram(project, "client", client, { ready: /^feed 1\n/m });
  // Closed with 1001 and back: the loop body's for await ends quietly.
  await feed.restart();
  await running.waitFor(/^feed 2\n/m);
  // Dropped and back: for await throws.
  await feed.crash();
  await running.waitFor(/^feed 3\n/m);
  return { printed: running.printed, stderr: running.stderr };
}
