/**
 * docs/howto/authentication.md's programs, run from a project of a user's:
 * the Basic authentication server and the token server in child processes,
 * on 127.0.0.1 and a port the system picks, against the page's client and
 * clients of the test's; the `check` hook and the combined hook, which the
 * page shows without a server, in a server the test starts.
 */

import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { connect, type ProcessRequest } from "../../src/index.js";
import { runNode } from "../helpers/child.js";
import { startServer, unhandledRejections } from "../helpers/server.js";
import { edit, examplesOf, importProgram, onLoopback, refusal, startProgram } from "./programs.js";
import { scratchProject } from "./project.js";

const PAGE = "docs/howto/authentication.md";
const example = examplesOf(PAGE);

after(() => {
  assert.deepEqual(unhandledRejections(), []);
});

/** The greeting of the server at `uri`, which closes the connection after it. */
async function greeting(uri: string): Promise<string> {
  await using ws = await connect(uri);
  return ws.recvText();
}

/** A server that greets its users as the page's do, with `processRequest` as its hook. */
function greetingServer(processRequest: ProcessRequest) {
  return startServer(
    async (ws) => {
      await ws.send(`Hello, ${ws.username}!`);
    },
    { processRequest },
  );
}

describe(`${PAGE}: HTTP Basic authentication`, () => {
  it("greets the page's client by name, refuses others with 401 and a challenge, serves on", async () => {
    using project = scratchProject();
    await using server = await startProgram(
      project,
      "server",
      onLoopback(example("processRequest: basicAuth(")),
    );
    const address = `127.0.0.1:${server.port}`;

    // The page's client, its user info percent-encoded; the server is the
    // page's, without TLS, so ws:// instead of wss://.
    const credentials = "alice:correct%20horse%20battery%20staple";
    const client = example(`${credentials}@example.com`);
    project.writeProgram(
      "client",
      edit(client, `wss://${credentials}@example.com/`, `ws://${credentials}@${address}/`),
    );
    assert.deepEqual(await runNode(["client.js"], { cwd: project.dir }), {
      code: 0,
      stdout: "",
      stderr: "",
    });
    assert.equal(await greeting(`ws://${credentials}@${address}/`), "Hello, alice!");

    for (const uri of [`ws://${address}/`, `ws://alice:guess@${address}/`]) {
      const response = await refusal(connect(uri));
      assert.equal(response.status, 401, uri);
      assert.equal(
        response.headers.get("WWW-Authenticate"),
        'Basic realm="websockets", charset="UTF-8"',
      );
    }
    // Still serving: serveForever() holds the server open.
    assert.equal(await greeting(`ws://${credentials}@${address}/`), "Hello, alice!");
    assert.equal(server.child.exitCode, null);
    assert.equal(server.stderr, "");
  });

  it("checks against stored hashes with check, and fails closed on an empty hash", async () => {
    using project = scratchProject();
    const { processRequest, users } = await importProgram<{
      processRequest: ProcessRequest;
      users: Map<string, { salt: Buffer; hash: Buffer }>;
    }>(
      project,
      "check",
      example("check: (username, password)"),
      "export { processRequest, users };",
    );
    const { server, port } = await greetingServer(processRequest);
    await using _server = server;

    const password = encodeURIComponent("correct horse battery staple");
    assert.equal(await greeting(`ws://alice:${password}@127.0.0.1:${port}/`), "Hello, alice!");
    for (const user of ["alice:wrong", `bob:${password}`]) {
      const response = await refusal(connect(`ws://${user}@127.0.0.1:${port}/`));
      assert.equal(response.status, 401, user);
      assert.equal(response.text, "Invalid credentials.\n");
    }
    // What the page says of a hash stored empty by mistake: no password matches it.
    users.set("mallory", { salt: Buffer.from("salt"), hash: Buffer.alloc(0) });
    const response = await refusal(connect(`ws://mallory:anything@127.0.0.1:${port}/`));
    assert.equal(response.status, 500);
  });
});

describe(`${PAGE}: tokens`, () => {
  it("greets the holder of a valid token, refuses others with 401, serves on", async () => {
    using project = scratchProject();
    await using server = await startProgram(
      project,
      "server",
      onLoopback(example('searchParams.get("token")')),
    );
    const base = `ws://127.0.0.1:${server.port}/`;
    assert.equal(await greeting(`${base}?token=s3cr3t-token`), "Hello, alice!");
    for (const uri of [base, `${base}?token=guess`, `${base}?other=s3cr3t-token`]) {
      const response = await refusal(connect(uri));
      assert.equal(response.status, 401, uri);
      assert.equal(response.text, "Missing or invalid token.\n");
    }
    assert.equal(await greeting(`${base}feed?token=s3cr3t-token`), "Hello, alice!");
    assert.equal(server.child.exitCode, null);
    assert.equal(server.stderr, "");
  });
});

describe(`${PAGE}: combining hooks`, () => {
  it("answers /healthz without credentials, and asks for them everywhere else", async () => {
    using project = scratchProject();
    const { processRequest } = await importProgram<{ processRequest: ProcessRequest }>(
      project,
      "combined",
      example('request.path === "/healthz"'),
      "export { processRequest };",
    );
    const { server, port } = await greetingServer(processRequest);
    await using _server = server;

    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    assert.deepEqual([health.status, await health.text()], [200, "OK\n"]);
    assert.equal((await refusal(connect(`ws://127.0.0.1:${port}/healthz`))).status, 200);
    assert.equal((await refusal(connect(`ws://127.0.0.1:${port}/`))).status, 401);
    // The page's password is "…".
    const alice = `alice:${encodeURIComponent("…")}`;
    assert.equal(await greeting(`ws://${alice}@127.0.0.1:${port}/`), "Hello, alice!");
  });
});
