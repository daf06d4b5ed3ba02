/**
 * docs/reference/connect.md's two examples, run from a project of a user's
 * against a server of the test's on 127.0.0.1: the first with the port
 * changed to the server's; the second, which connects to a made-up host
 * through its own DNS lookup and from a source address of its choice, with
 * its 10.0.0.x addresses changed to loopback ones and its port to the server's.
 * The signature at the top of the page is only type-checked.
 */

import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import type { ServerConnection } from "../../src/index.js";
import { runNode } from "../helpers/child.js";
import { deferred, echo, startServer, unhandledRejections } from "../helpers/server.js";
import { edit, examplesOf } from "./programs.js";
import { scratchProject } from "./project.js";

const PAGE = "docs/reference/connect.md";
const example = examplesOf(PAGE);

after(() => {
  assert.deepEqual(unhandledRejections(), []);
});

/** An echo server on 127.0.0.1 that hands over its first connection. */
async function echoServer(subprotocols?: string[]) {
  const seen = deferred<ServerConnection>();
  const started = await startServer(
    async (ws) => {
      seen.resolve(ws);
      await echo(ws);
    },
    { subprotocols },
  );
  return { ...started, seen: seen.promise };
}

describe(PAGE, () => {
  it("offers the subprotocol, sends the cookie, and prints the echo", async () => {
    const { server, port, seen } = await echoServer(["chat.v1"]);
    await using _server = server;
    using project = scratchProject();
    const code = edit(example('subprotocols: ["chat.v1"]'), "127.0.0.1:8001", `127.0.0.1:${port}`);
    project.writeProgram("client", code);
    const run = await runNode(["client.js"], { cwd: project.dir });
    assert.deepEqual(run, { code: 0, stdout: "Hello!\n", stderr: "" });

    const ws = await seen;
    assert.equal(ws.request?.path, "/chat");
    assert.equal(ws.request?.headers.get("Cookie"), "session=abc123");
    assert.equal(ws.subprotocol, "chat.v1");
  });

  it("connects to a name only its lookup knows, from the local address it gives", async () => {
    const { server, port, seen } = await echoServer();
    await using _server = server;
    using project = scratchProject();
    let code = example("lookup: (hostname, options, callback)");
    code = edit(code, "feed.internal:8080", `feed.internal:${port}`);
    // Linux routes all of 127.0.0.0/8 to loopback: a source address the server can tell apart.
    const local = process.platform === "linux" ? "127.0.0.2" : "127.0.0.1";
    code = edit(code, '"10.0.0.5"', `"${local}"`);
    code = edit(code, '"10.0.0.20"', '"127.0.0.1"', 2);
    project.writeProgram("client", code);
    const run = await runNode(["client.js"], { cwd: project.dir });
    assert.deepEqual(run, { code: 0, stdout: "", stderr: "" });

    const ws = await seen;
    assert.equal(ws.request?.path, "/ticks");
    assert.equal(ws.request?.headers.get("Host"), `feed.internal:${port}`);
    assert.equal(ws.remoteAddress?.address, local);
  });
});
