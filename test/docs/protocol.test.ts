/**
 * docs/reference/protocol.md's two programs, run as a user would, from a
 * project of their own, over loopback: the `ClientProtocol` client against
 * the echo server of `npm start` (examples/echo/server.ts, which is
 * `serve()`), and the `ServerProtocol` echo server against this package's
 * `connect()`, and against the page's client. The programs run as they
 * stand, only the address changed to a port the system picked.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { connect } from "websockets-ts";
import { runNode, startNode } from "../helpers/child.js";
import { codeBlocks, ROOT, readMarkdown } from "./markdown.js";
import { scratchProject } from "./project.js";

const PAGE = "docs/reference/protocol.md";
const ECHO_SERVER = fileURLToPath(new URL("../../examples/echo/server.js", import.meta.url));
const blocks = codeBlocks(readMarkdown(fileURLToPath(ROOT), PAGE));

/** The page's one ```ts block that contains `text`. */
function example(text: string): string {
  const found = blocks.filter((block) => block.lang === "ts" && block.code.includes(text));
  assert.equal(found.length, 1, `${PAGE} has one example with ${text}`);
  return found[0]!.code;
}

const CLIENT = example('new ClientProtocol("ws://127.0.0.1:8001/")');
const SERVER = example("createServer({ allowHalfOpen: true }");

/** What the page says the client prints against the echo server. */
const CLIENT_OUTPUT = "Hello!\nclosed: 1000 done\n";

describe(`${PAGE}'s client over node:net`, () => {
  it("prints the echo, then the close code, against the echo server of npm start", async () => {
    assert.ok(
      readMarkdown(fileURLToPath(ROOT), PAGE).includes(`\`\`\`\n${CLIENT_OUTPUT}\`\`\``),
      `${PAGE} shows the client's output`,
    );
    await using server = await startNode([ECHO_SERVER], {
      env: { PORT: "0" },
      ready: /Listening on (ws:\/\/127\.0\.0\.1:\d+)\n/,
    });
    using project = scratchProject();
    project.writeProgram("client", CLIENT.replace("ws://127.0.0.1:8001/", `${server.ready[1]}/`));

    const run = await runNode(["client.js"], { cwd: project.dir });
    assert.deepEqual(run, { code: 0, stdout: CLIENT_OUTPUT, stderr: "" });
    // The echo server got the message and answered it.
    await server.waitFor(/>>> {2}Hello!\n/);
  });
});

describe(`${PAGE}'s server over net.createServer`, () => {
  it("echoes text, binary and fragmented messages to connect(), answers pings, closes with 1000", async () => {
    assert.ok(SERVER.includes('server.listen(8001, "127.0.0.1"'), "the server listens on 8001");
    using project = scratchProject();
    project.writeProgram("server", SERVER.replace("server.listen(8001,", "server.listen(0,"));
    await using server = await startNode(["server.js"], {
      cwd: project.dir,
      ready: /Listening on (ws:\/\/127\.0\.0\.1:\d+)\n/,
    });

    await using ws = await connect(server.ready[1]!, { openTimeout: 10_000, closeTimeout: 10_000 });
    assert.equal(ws.subprotocol, null);
    await ws.send("Hello!");
    assert.equal(await ws.recv(), "Hello!");
    await ws.send(new Uint8Array([1, 2, 3]));
    assert.deepEqual(new Uint8Array((await ws.recv()) as Uint8Array), new Uint8Array([1, 2, 3]));
    // One message in three frames: echoed frame by frame, received as one message.
    await ws.send(["Hel", "lo, ", "fragments"]);
    assert.equal(await ws.recv(), "Hello, fragments");
    assert.equal(typeof (await ws.ping("are you there?")), "number");
    await ws.close();
    assert.equal(ws.closeCode, 1000);

    // And the page's client against the page's server.
    project.writeProgram("client", CLIENT.replace("ws://127.0.0.1:8001/", `${server.ready[1]}/`));
    const run = await runNode(["client.js"], { cwd: project.dir });
    assert.deepEqual(run, { code: 0, stdout: CLIENT_OUTPUT, stderr: "" });

    assert.equal(server.stderr, "");
  });
});
