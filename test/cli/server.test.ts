import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { describe, it } from "node:test";
import { runServer, serverUri } from "../../src/cli/server.js";
import { connect, serve } from "../../src/index.js";

const TIMEOUT = { timeout: 20_000 };

function streams() {
  const stdout = new PassThrough({ encoding: "utf8" });
  const stderr = new PassThrough({ encoding: "utf8" });
  let err = "";
  stderr.on("data", (chunk: string) => {
    err += chunk;
  });
  return { io: { stdin: new PassThrough(), stdout, stderr }, stdout, stderr: () => err };
}

describe("serverUri", () => {
  it("puts brackets around IPv6 addresses, and says wss:// for TLS", () => {
    assert.equal(serverUri("127.0.0.1", 8001), "ws://127.0.0.1:8001");
    assert.equal(serverUri("localhost", 80), "ws://localhost:80");
    assert.equal(serverUri("::1", 8001), "ws://[::1]:8001");
    assert.equal(serverUri("::1", 8443, true), "wss://[::1]:8443");
  });
});

describe("runServer", () => {
  it("prints its address, echoes, and closes connections with 1001 on abort", TIMEOUT, async () => {
    const cli = streams();
    const stop = new AbortController();
    const running = runServer({ host: "127.0.0.1", port: 0, streams: cli.io, signal: stop.signal });
    try {
      const [line] = (await once(cli.stdout, "data")) as [string];
      const match = /^Listening on (ws:\/\/127\.0\.0\.1:(\d+))\n$/.exec(line);
      assert.ok(match, line);
      assert.notEqual(match[2], "0");
      const ws = await connect(match[1]!, { logger: null });
      await ws.send("Hello!");
      assert.equal(await ws.recv(), "Hello!");
      stop.abort();
      assert.equal(await running, 0);
      assert.equal(ws.closeCode, 1001);
    } finally {
      stop.abort();
      await running;
    }
  });

  it("returns 0 at once when aborted before it starts", TIMEOUT, async () => {
    const cli = streams();
    const running = runServer({
      host: "127.0.0.1",
      port: 0,
      streams: cli.io,
      signal: AbortSignal.abort(),
    });
    assert.equal(await running, 0);
    assert.equal(cli.stdout.read(), null);
  });

  it("returns 1 when it cannot listen", TIMEOUT, async () => {
    await using taken = await serve(() => {}, { host: "127.0.0.1", port: 0, logger: null });
    const { port } = taken.address() as { port: number };
    const cli = streams();
    assert.equal(await runServer({ host: "127.0.0.1", port, streams: cli.io }), 1);
    assert.match(cli.stderr(), /^Failed to listen on ws:\/\/127\.0\.0\.1:\d+: .*EADDRINUSE/);
    assert.doesNotMatch(cli.stderr(), /socket file/);
  });

  it("names a stale Unix socket file as the likely cause of EADDRINUSE", TIMEOUT, async () => {
    const directory = await mkdtemp(join(tmpdir(), "cli-stale-"));
    try {
      // What a server killed without closing leaves behind: a socket file nothing listens on.
      const path = join(directory, "stale.sock");
      const killed = spawnSync(process.execPath, [
        "-e",
        `require("node:net").createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, "SIGKILL"))`,
      ]);
      assert.equal(killed.signal, "SIGKILL");
      const cli = streams();
      assert.equal(await runServer({ host: "localhost", port: 0, path, streams: cli.io }), 1);
      assert.match(
        cli.stderr(),
        new RegExp(
          `EADDRINUSE.* \\(if no server runs there, the socket file is left from one that stopped: remove ${path.replace(/[.]/g, "\\.")}\\)\\.\n$`,
        ),
      );
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
