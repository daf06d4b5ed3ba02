/**
 * `NODE_DEBUG=websockets-ts` traces every connection on stderr, both roles,
 * and costs nothing without it: run as a user would, in a child process.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { runNode } from "../helpers/child.js";

const LIBRARY = new URL("../../src/index.js", import.meta.url).href;

/** A server and a client in one process: one message, one ping, a close. */
const SCRIPT = `
import { connect, serve } from ${JSON.stringify(LIBRARY)};
const server = await serve(async (ws) => { for await (const m of ws) await ws.send(m); },
  { host: "127.0.0.1", port: 0, logger: null });
const ws = await connect("ws://127.0.0.1:" + server.address().port + "/traced?token=hunter3",
  { additionalHeaders: { Cookie: "session=hunter2" } });
await ws.send("hello");
await ws.recv();
await ws.ping("probe");
await ws.close(1000, "bye");
await server.close();
`;

function run(env: Record<string, string>) {
  return runNode(["--input-type=module", "-e", SCRIPT], { env });
}

describe("NODE_DEBUG=websockets-ts", () => {
  it("traces handshakes and frames of both sides on stderr, credentials redacted", async () => {
    const { code, stdout, stderr } = await run({ NODE_DEBUG: "websockets-ts" });
    assert.equal(code, 0, stderr);
    assert.equal(stdout, "");
    const lines = stderr.split("\n").filter(Boolean);
    // debuglog's prefix, then who: the URI on the client's side, the address on the server's.
    const client = /^WEBSOCKETS-TS \d+: ws:\/\/127\.0\.0\.1:\d+\/traced\?token=\[redacted\] (.*)$/;
    const server = /^WEBSOCKETS-TS \d+: 127\.0\.0\.1:\d+ (.*)$/;
    const from = (pattern: RegExp) =>
      lines.flatMap((line) => {
        const match = pattern.exec(line);
        return match === null ? [] : [match[1]!];
      });
    const clientLines = from(client);
    const serverLines = from(server);
    assert.equal(clientLines.length + serverLines.length, lines.length, stderr);
    assert.equal(clientLines[0], "> GET /traced?token=[redacted] HTTP/1.1");
    assert.ok(clientLines.includes("> Cookie: [redacted]"));
    assert.ok(clientLines.includes("< HTTP/1.1 101 Switching Protocols"));
    assert.ok(clientLines.includes('> TEXT "hello" [5 bytes]'));
    assert.ok(clientLines.includes('< PONG "probe" [5 bytes]'));
    assert.ok(clientLines.includes("> CLOSE 1000 (OK) bye [5 bytes]"));
    assert.equal(serverLines[0], "< GET /traced?token=[redacted] HTTP/1.1");
    assert.ok(serverLines.includes("> HTTP/1.1 101 Switching Protocols"));
    assert.ok(serverLines.includes('< TEXT "hello" [5 bytes]'));
    assert.ok(serverLines.includes('> PONG "probe" [5 bytes]'));
    assert.ok(serverLines.includes("> EOF"));
    assert.ok(!stderr.includes("hunter2"));
    // The query too, in the URI that starts every line of the client's.
    assert.ok(!stderr.includes("hunter3"));
  });

  it("prints nothing without it", async () => {
    const { code, stderr } = await run({ NODE_DEBUG: "" });
    assert.equal(code, 0, stderr);
    assert.equal(stderr, "");
  });
});
