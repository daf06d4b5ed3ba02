/**
 * examples/echo/web-client.ts, run as a user would, against our echo
 * server. It imports the published entry point `websockets-ts/web`, so it
 * runs from `dist/` (`npm test` builds it first).
 */

import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { ServerConnection } from "../../src/node/server.js";
import { runNode } from "../helpers/child.js";
import { deferred, startServer, unhandledRejections } from "../helpers/server.js";

after(() => {
  assert.deepEqual(unhandledRejections(), []);
});

const EXAMPLE = fileURLToPath(new URL("../../examples/echo/web-client.js", import.meta.url));

describe("examples/echo/web-client", () => {
  it("sends a message, prints the echo, and closes cleanly", async () => {
    const closed = deferred<number | null>();
    const { server, uri } = await startServer(async (ws: ServerConnection) => {
      for await (const message of ws) await ws.send(message);
      await ws.closed;
      closed.resolve(ws.closeCode);
    });
    await using _ = server;
    const { code, stdout, stderr } = await runNode([EXAMPLE, uri, "Hello web! ☕"]);
    assert.equal(stderr, "");
    assert.equal(code, 0);
    assert.equal(stdout, [">>> Hello web! ☕", "<<< Hello web! ☕", "closed: 1000", ""].join("\n"));
    assert.equal(await closed.promise, 1000, "the server received the client's 1000");
  });

  it("reports a refused connection with error, then close 1006", async () => {
    // A port that was just free: nothing listens there.
    const { server, uri } = await startServer(async () => {});
    await server.close();
    const { code, stdout, stderr } = await runNode([EXAMPLE, uri]);
    assert.equal(code, 1);
    assert.match(stderr, /^error: .*ECONNREFUSED/);
    assert.equal(stdout, "closed: 1006 (not clean)\n");
  });
});
