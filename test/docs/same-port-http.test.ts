/**
 * docs/howto/same-port-http.md's two servers, run from a project of a
 * user's, on 127.0.0.1 and a port the system picks instead of 8000: plain
 * HTTP and WebSocket answered on the one port, with `serve({ server })` and
 * with `handleUpgrade()`. The page's third example, `route()` given a
 * server, is a fragment (it takes `httpServer` from the first) and is only
 * type-checked; helpers.test.ts runs `route()`.
 */

import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { connect } from "../../src/index.js";
import { RawPeer } from "../helpers/raw.js";
import { unhandledRejections } from "../helpers/server.js";
import { edit, examplesOf, refusal, startProgram } from "./programs.js";
import { scratchProject } from "./project.js";

const PAGE = "docs/howto/same-port-http.md";
const example = examplesOf(PAGE);

after(() => {
  assert.deepEqual(unhandledRejections(), []);
});

/** The echo of `message` by the WebSocket server at `uri`. */
async function echoed(uri: string, message: string | Uint8Array): Promise<unknown> {
  await using ws = await connect(uri);
  await ws.send(message);
  return ws.recv();
}

/** A plain HTTP request's status, Content-Type and body. */
async function get(url: string): Promise<[number, string | null, string]> {
  const response = await fetch(url);
  return [response.status, response.headers.get("Content-Type"), await response.text()];
}

describe(`${PAGE}: serve() takes the server's upgrades`, () => {
  it("answers plain HTTP and echoes WebSocket messages on the same port", async () => {
    using project = scratchProject();
    const code = edit(
      example('await once(httpServer, "listening")'),
      'httpServer.listen(8000, "127.0.0.1");',
      'httpServer.listen(0, "127.0.0.1");',
    );
    await using server = await startProgram(project, "server", code);
    const address = `127.0.0.1:${server.port}`;

    assert.deepEqual(await get(`http://${address}/anything`), [
      200,
      "text/plain",
      "Plain HTTP at /anything\n",
    ]);
    assert.equal(await echoed(`ws://${address}/anything`, "Hello!"), "Hello!");
    assert.deepEqual(
      new Uint8Array((await echoed(`ws://${address}/`, new Uint8Array([1, 2, 3]))) as Uint8Array),
      new Uint8Array([1, 2, 3]),
    );
    // One after the other, and at once.
    const [page, echo] = await Promise.all([
      get(`http://${address}/page`),
      echoed(`ws://${address}/chat`, "both"),
    ]);
    assert.deepEqual([page[2], echo], ["Plain HTTP at /page\n", "both"]);
    assert.equal(server.child.exitCode, null);
    assert.equal(server.stderr, "");
  });
});

describe(`${PAGE}: handleUpgrade()`, () => {
  it("echoes on /echo, answers 404 to other upgrades, survives a client that resets", async () => {
    using project = scratchProject();
    const code = edit(
      example("echo.handleUpgrade(request, socket, head)"),
      "httpServer.listen(8000);",
      'httpServer.listen(0, "127.0.0.1");',
    );
    await using server = await startProgram(project, "server", code);
    const address = `127.0.0.1:${server.port}`;

    assert.deepEqual(await get(`http://${address}/`), [200, null, "Hello\n"]);
    assert.equal(await echoed(`ws://${address}/echo?room=1`, "Hello!"), "Hello!");
    for (const path of ["/", "/chat", "/echo/"]) {
      const response = await refusal(connect(`ws://${address}${path}`));
      assert.equal(response.status, 404, path);
      assert.equal(response.headers.get("Connection"), "close");
    }

    // A client that resets the connection once answered: the socket's error
    // listener the example adds is what keeps this from crashing the server.
    const peer = await RawPeer.connect(server.port);
    assert.match(await peer.handshake("/elsewhere"), /^HTTP\/1\.1 404 Not Found\r\n/);
    peer.socket.resetAndDestroy();
    await peer.closed;
    assert.equal(await echoed(`ws://${address}/echo`, "still there"), "still there");
    assert.equal(server.child.exitCode, null);
    assert.equal(server.stderr, "");
  });
});
