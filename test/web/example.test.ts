/**
 * examples/echo/web-client.ts, run as a user would, against our echo
 * server. It imports the published entry point `websockets-ts/web`, so it
 * runs from `dist/` (`npm test` builds it first).
 */

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { ServerConnection } from "../../src/node/server.js";
import { deferred, startServer, unhandledRejections } from "../helpers/server.js";

after(() => {
  assert.deepEqual(unhandledRejections(), []);
});

const EXAMPLE = fileURLToPath(new URL("../../examples/echo/web-client.js", import.meta.url));

/** Runs the example with `args`; resolves with its exit code and output. */
async function runExample(
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [EXAMPLE, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (text: string) => {
    stdout += text;
  });
  child.stderr.setEncoding("utf8").on("data", (text: string) => {
    stderr += text;
  });
  const watchdog = setTimeout(() => child.kill(), 30_000);
  const [code] = (await once(child, "exit")) as [number];
  clearTimeout(watchdog);
  return { code, stdout, stderr };
}

describe("examples/echo/web-client", () => {
  it("sends a message, prints the echo, and closes cleanly", async () => {
    const closed = deferred<number | null>();
    const { server, uri } = await startServer(async (ws: ServerConnection) => {
      for await (const message of ws) await ws.send(message);
      await ws.closed;
      closed.resolve(ws.closeCode);
    });
    await using _ = server;
    const { code, stdout, stderr } = await runExample([uri, "Hello web! ☕"]);
    assert.equal(stderr, "");
    assert.equal(code, 0);
    assert.equal(stdout, [">>> Hello web! ☕", "<<< Hello web! ☕", "closed: 1000", ""].join("\n"));
    assert.equal(await closed.promise, 1000, "the server received the client's 1000");
  });

  it("reports a refused connection with error, then close 1006", async () => {
    // A port that was just free: nothing listens there.
    const { server, uri } = await startServer(async () => {});
    await server.close();
    const { code, stdout, stderr } = await runExample([uri]);
    assert.equal(code, 1);
    assert.match(stderr, /^error: .*ECONNREFUSED/);
    assert.equal(stdout, "closed: 1006 (not clean)\n");
  });
});
